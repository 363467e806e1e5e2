"""What the web page's events do, as plain methods over the library (testable without a server)."""

from __future__ import annotations

import html
import logging
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa.citations import verify
from qa.collection import Collection
from qa.config import RetrievalMode, parse_enum
from qa.errors import CitationError, ConfigError, QAError
from qa.inspection import document_infos, index_status
from qa.retrieval import Filter, Retriever
from qa.types import Answer, Document
from qa.ui.pdf_page import PageImage, render_passage_pages
from qa.ui.rendering import (
    AnswerView,
    answer_html,
    answer_markdown,
    conversation_markdown,
    document_html,
    empty_document_html,
    file_size,
    header_html,
    pdf_context_html,
)

__all__ = [
    "EXPORT_SCOPES",
    "MAX_K",
    "SEED_EXAMPLES",
    "WHOLE_CONVERSATION",
    "UIHandlers",
    "examples_for",
]

log = logging.getLogger(__name__)

# Example questions offered when the index holds the seed documents (keyed by document).
SEED_EXAMPLES: dict[str, tuple[str, ...]] = {
    "004_1d47129261bda866.txt": ("How many US soldiers died in May?",),
    "000_39ae44cc0e79be58.txt": (
        "How many seats did the Shia coalition win in the Iraqi assembly vote?",
        "Why was Washington unhappy about Jaafari becoming prime minister?",
        "number of US helicopters shot down by Iraqi insurgents",
    ),
}
MAX_K = 20
# What the Markdown export covers: the last answer (the default) or the whole session.
LAST_ANSWER = "Last answer"
WHOLE_CONVERSATION = "Whole conversation"
EXPORT_SCOPES = (LAST_ANSWER, WHOLE_CONVERSATION)
# A citation reference sent by the page script: `<answer>-<rank>`, then `:<timestamp>`.
_REF = re.compile(r"^(\d+)-(\d+)(?::.*)?$")
# A context toggle sent by the page script: `<answer>`, then `:<timestamp>`.
_CTX = re.compile(r"^(\d+)(?::.*)?$")


def examples_for(retriever: Retriever, examples: dict[str, Sequence[str]] | None = None) -> list[str]:
    """The example questions whose document is in the index."""
    table = SEED_EXAMPLES if examples is None else examples
    docs = retriever.index.documents
    return [q for doc_id, qs in table.items() if doc_id in docs for q in qs]


class UIHandlers:
    """What the web page's events do, as plain methods (testable without a server).

    Args:
        retriever: answers questions; a Collection swaps its index after changes.
        collection: the managed documents; None disables upload and removal.
    """

    def __init__(self, retriever: Retriever, collection: Collection | None = None) -> None:
        self.retriever = retriever
        self.collection = collection
        self._export_dir = Path(tempfile.mkdtemp(prefix="qa-export-"))

    # -- asking -------------------------------------------------------------------------

    def answer(
        self,
        question: str,
        *,
        k: int,
        mode: str,
        rerank: bool = True,
        history: Sequence[str] | None = None,
        documents: Sequence[str] | None = None,
    ) -> tuple[Answer, float]:
        """Ask the library (a follow-up is read with `history`; only in `documents` when some are
        picked); return (Answer, milliseconds)."""
        mode = parse_enum(RetrievalMode, mode, "mode").value
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise ConfigError(f"k={k!r} is not a number; choose 1 to {MAX_K}") from None
        if not 1 <= k <= MAX_K:
            raise ConfigError(f"k={k} is out of range; choose 1 to {MAX_K}")
        # Checked: the library's default (hybrid reranks by best sentence); unchecked: plain fusion.
        extra: dict[str, Any] = {"rerank": None if rerank else False}
        if documents:
            extra["filters"] = Filter.of(doc_ids=[documents] if isinstance(documents, str) else documents)
        t0 = time.perf_counter()
        self.retriever.refresh()  # a snapshot another process (`qa index`) published
        if history:
            extra["history"] = list(history)
        answer = self.retriever.ask(question, k=k, mode=mode, **extra)
        return answer, (time.perf_counter() - t0) * 1000

    def ask(
        self,
        question: str,
        views: list[AnswerView] | None,
        k: float,
        mode: str,
        show_scores: bool,
        rerank: bool = True,
        documents: Sequence[str] | None = None,
    ) -> tuple[list[dict], list[AnswerView], str]:
        """Answer a question (in the picked `documents`, if any) and append it to the session:
        (chat messages, views, cleared box)."""
        views = list(views or [])
        question = (question or "").strip()
        if not question:
            raise QAError("type a question first")
        history = tuple(v.answer.question for v in views)
        picked = tuple([documents] if isinstance(documents, str) else documents or ())
        answer, ms = self.answer(
            question, k=int(k), mode=mode, rerank=rerank, history=history, documents=picked
        )
        views.append(
            AnswerView(
                number=len(views) + 1,
                answer=answer,
                mode=mode,
                k=int(k),
                elapsed_ms=ms,
                history=history,
                documents=picked,
            )
        )
        return self.messages(views, show_scores), views, ""

    def toggle_context(
        self, request: str, views: list[AnswerView] | None, show_scores: bool, rerank: bool = True
    ) -> tuple[list[dict], list[AnswerView]]:
        """Ask message `<number>` again with its conversation context turned off (or back on)."""
        views = list(views or [])
        m = _CTX.match((request or "").strip())
        if not m:
            return self.messages(views, show_scores), views
        number = int(m.group(1))
        found = [i for i, v in enumerate(views) if v.number == number]
        if not found:
            raise QAError("this message is no longer in the conversation; ask it again")
        old = views[found[0]]
        context = not old.context
        answer, ms = self.answer(
            old.answer.question,
            k=old.k,
            mode=old.mode,
            rerank=rerank,
            history=old.history if context else None,
            documents=old.documents,
        )
        views[found[0]] = replace(old, answer=answer, elapsed_ms=ms, context=context)
        return self.messages(views, show_scores), views

    @staticmethod
    def messages(views: Sequence[AnswerView], show_scores: bool) -> list[dict]:
        """The chat history of a session, rendered from its answers."""
        out: list[dict] = []
        for view in views:
            out.append({"role": "user", "content": html.escape(view.answer.question)})
            out.append({"role": "assistant", "content": answer_html(view, show_scores=show_scores)})
        return out

    def view(self, request: str, views: Sequence[AnswerView] | None) -> str:
        """The in-context view for a citation reference `<answer>-<rank>` of this session."""
        m = _REF.match((request or "").strip())
        if not m:
            return empty_document_html()
        number, rank = int(m.group(1)), int(m.group(2))
        found = [v for v in views or () if v.number == number]
        hits = [h for h in found[0].answer.hits if h.rank == rank] if found else []
        if not hits:
            return empty_document_html("This citation is no longer in the conversation.")
        hit = hits[0]
        p = hit.passage
        document = self.retriever.index.documents.get(p.doc_id)
        if document is None:
            return empty_document_html(f"{p.doc_id} was removed from the index since this answer.")
        try:
            verify(p, document)
        except CitationError:
            return empty_document_html(f"{p.doc_id} changed since this answer; ask the question again.")
        text_view = document_html(document, hit)
        if document.fmt != "pdf":
            return text_view
        best = (hit.highlights[0].start, hit.highlights[0].end) if hit.highlights else None
        pages = self._pdf_pages(document, p.start, p.end, best)
        return pdf_context_html(text_view, pages, document.doc_id)

    def _pdf_pages(
        self, document: Document, start: int, end: int, best: tuple[int, int] | None
    ) -> list[PageImage]:
        """The PDF's cited page(s) rendered, or [] when the file is not at hand or changed."""
        if self.collection is None:
            return []
        path = self.collection.corpus_dir / document.doc_id
        try:
            data = path.read_bytes()
        except OSError as exc:
            log.warning("cannot show the pages of %s: %s", document.doc_id, exc)
            return []
        return render_passage_pages(document, data, start, end, best=best)

    # -- export -------------------------------------------------------------------------

    def export(self, views: Sequence[AnswerView] | None, scope: str) -> tuple[str, str | None]:
        """Markdown of the last answer or the whole conversation, and a file to download."""
        views = list(views or [])
        if not views:
            return "", None
        whole = scope == WHOLE_CONVERSATION
        text = conversation_markdown(views) if whole else answer_markdown(views[-1])
        # A folder per export: sessions never overwrite each other's file.
        folder = Path(tempfile.mkdtemp(dir=self._export_dir))
        path = folder / ("qa-conversation.md" if whole else "qa-answer.md")
        path.write_text(text, encoding="utf-8")
        return text, str(path)

    # -- documents ----------------------------------------------------------------------

    def documents_table(self) -> list[list[Any]]:
        """One row per indexed document: id, title, passages, size, when it was indexed."""
        rows = []
        for d in document_infos(self.retriever.index):
            indexed = str(d.indexed_at or "").replace("T", " ").replace("+00:00", " UTC")
            rows.append([d.doc_id, d.title, d.passages, file_size(d.size), indexed])
        return rows

    def document_ids(self) -> list[str]:
        return sorted(self.retriever.index.documents)

    def stats(self) -> str:
        return header_html(index_status(self.retriever.index))

    def upload(
        self, paths: Sequence[str] | None, progress: Callable[[float, str], None] | None = None
    ) -> str:
        """Add uploaded files; return a status message (raises QAError when refused)."""
        if self.collection is None:
            raise QAError("uploads are disabled for this server")
        if not paths:
            raise QAError("no file was uploaded; choose one or more files")
        change = self.collection.add_files(list(paths), progress=progress)
        return change.summary()

    def remove(
        self, doc_ids: Sequence[str] | None, progress: Callable[[float, str], None] | None = None
    ) -> str:
        """Remove documents from the corpus folder and the index; return a status message."""
        if self.collection is None:
            raise QAError("removing documents is disabled for this server")
        if isinstance(doc_ids, str):
            doc_ids = [doc_ids]
        change = self.collection.remove(list(doc_ids or []), progress=progress)
        return change.summary()

    def sync(self, progress: Callable[[float, str], None] | None = None) -> str:
        """Re-index the corpus folder (files changed on disk); return a status message."""
        if self.collection is None:
            raise QAError("re-indexing is disabled for this server")
        return self.collection.sync(progress=progress).summary()

    # -- API ----------------------------------------------------------------------------

    def api_ask(self, question: str, k: int = 5, mode: str = RetrievalMode.HYBRID.value) -> dict:
        """Answer a question with the top-k exact source passages and their citations.

        Returns the batch JSON shape: id, question, answered, confidence, and passages
        (rank, passage_id, doc, start, end, paragraphs, text, score, scores, ranks,
        highlights, citation).
        """
        question = (question or "").strip()
        if not question:
            raise QAError("empty question; send the question text")
        answer, _ = self.answer(question, k=k, mode=mode)
        return answer.to_dict()
