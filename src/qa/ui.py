"""The Gradio web app: ask, read cited passages in context, manage documents (no retrieval logic)."""

from __future__ import annotations

import functools
import html
import inspect
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.collection import Collection, UploadLimits  # noqa: E402
from qa.config import RetrievalMode, parse_enum  # noqa: E402
from qa.errors import ConfigError, QAError  # noqa: E402
from qa.rendering import (  # noqa: E402
    AnswerView,
    answer_html,
    answer_markdown,
    conversation_markdown,
    document_html,
    empty_document_html,
)
from qa.retrieval import Retriever  # noqa: E402

__all__ = ["SEED_EXAMPLES", "UIHandlers", "build_app", "launch", "launch_options", "serve"]

logger = logging.getLogger(__name__)

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
_REF = re.compile(r"^(\d+)-(\d+)(?::.*)?$")

CSS = """
.gradio-container { max-width: 1500px !important; }
#qa-header h1 { margin: 0; font-size: 1.6rem; }
#qa-header .qa-tagline { color: var(--body-text-color-subdued); margin: 2px 0 0; }
#qa-header .qa-stats { color: var(--body-text-color-subdued); font-size: 0.85rem; margin-top: 4px; }
#qa-side { position: sticky; top: 8px; align-self: flex-start; }
#qa-chat .qa-answer { font-size: 0.95rem; line-height: 1.45; }
#qa-chat .qa-hits { list-style: none; margin: 0; padding: 0; }
.qa-hit { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 0 0 8px 0; background: var(--background-fill-primary); }
.qa-hit.qa-active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.qa-hit-head { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; }
a.qa-cite { font-weight: 600; text-decoration: none; cursor: pointer; }
a.qa-cite:hover { text-decoration: underline; }
.qa-score { color: var(--body-text-color-subdued); font-size: 0.85em; }
button.qa-view { margin-left: auto; font-size: 0.8em; padding: 1px 10px; cursor: pointer;
  border: 1px solid var(--border-color-primary); border-radius: 999px;
  background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color); }
button.qa-view:hover { background: var(--button-secondary-background-fill-hover); }
.qa-where { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 2px 0 4px; }
blockquote.qa-quote { white-space: pre-wrap; margin: 0 !important; padding: 2px 0 2px 10px !important;
  border-left: 3px solid var(--color-accent-soft) !important; font-style: normal; }
.qa-best { background: #fde68a; color: #111827; border-radius: 2px; }
.qa-also { background: #fef9e7; color: #111827; border-bottom: 2px solid #fcd34d; }
.qa-passage { background: #dbeafe; color: #111827; }
.qa-passage.qa-best { background: #fcd34d; }
.qa-signals { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 4px; }
.qa-rank { opacity: 0.75; }
.qa-meta { font-size: 0.75em; color: var(--body-text-color-subdued); margin-top: 2px; }
.qa-badge-low { background: #fee2e2; color: #991b1b; border-radius: 999px; padding: 0 8px; font-size: 0.75em; }
.qa-abstain-msg { font-weight: 600; margin: 0 0 6px 0; }
.qa-lowconf summary { cursor: pointer; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.qa-docview-empty { color: var(--body-text-color-subdued); padding: 24px 12px; text-align: center;
  border: 1px dashed var(--border-color-primary); border-radius: 8px; }
.qa-doc-head { margin-bottom: 6px; }
.qa-doc-title { font-weight: 700; font-size: 1.05rem; }
.qa-doc-meta { color: var(--body-text-color-subdued); font-size: 0.82rem; }
.qa-legend { font-size: 0.75rem; margin-top: 4px; }
.qa-legend span { padding: 0 6px; border-radius: 3px; margin-right: 4px; }
.qa-doc { white-space: pre-wrap; position: relative; max-height: 64vh; overflow-y: auto; font-size: 0.9rem;
  line-height: 1.5; padding: 8px 12px; border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: var(--background-fill-primary); }
.qa-md-heading { font-weight: 700; }
.qa-doc-cut { color: var(--body-text-color-subdued); font-size: 0.8rem; margin: 4px 0; }
#qa-examples button { font-size: 0.8rem; }
#qa-examples-label p { margin: 4px 0 0; font-size: 0.85rem; color: var(--body-text-color-subdued); }
#qa-upload-status .qa-ok { color: #166534; }
#qa-upload-status .qa-error { color: #991b1b; white-space: pre-wrap; }
"""

# The page script: a click on a citation asks the server for the in-context view (the
# chat strips data attributes, so the reference travels in a class name), and a newly
# rendered document view is scrolled to its passage.
HEAD = """
<script>
(() => {
  if (window.__qaUi) return;
  window.__qaUi = true;
  function request(ref) {
    const box = document.querySelector('#qa-view-request textarea, #qa-view-request input');
    if (!box) return;
    box.value = ref + ':' + Date.now();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }
  document.addEventListener('click', (event) => {
    const el = event.target.closest && event.target.closest('.qa-open');
    if (!el) return;
    const ref = Array.from(el.classList).find((c) => c.startsWith('qa-ref-'));
    if (!ref) return;
    event.preventDefault();
    event.stopPropagation();
    document.querySelectorAll('.qa-hit.qa-active').forEach((h) => h.classList.remove('qa-active'));
    const hit = el.closest('.qa-hit');
    if (hit) hit.classList.add('qa-active');
    request(ref.slice('qa-ref-'.length));
  }, true);
  function scrollToPassage() {
    const view = document.querySelector('#qa-source .qa-doc');
    if (!view || view.classList.contains('qa-scrolled')) return;
    const anchor = view.querySelector('.qa-anchor');
    if (!anchor) return;
    view.classList.add('qa-scrolled');
    const top = anchor.getBoundingClientRect().top - view.getBoundingClientRect().top + view.scrollTop;
    view.scrollTop = Math.max(0, top - view.clientHeight / 4);
    const side = document.querySelector('#qa-source');
    const box = side && side.getBoundingClientRect();
    if (box && (box.top < 0 || box.top > window.innerHeight)) side.scrollIntoView({ block: 'start' });
  }
  function scrollParent(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  }
  // A new answer is shown from its top (with its question), not scrolled to its end.
  let answers = 0;
  function showNewAnswer() {
    const all = document.querySelectorAll('#qa-chat .qa-answer');
    if (all.length === answers) return;
    const grew = all.length > answers;
    answers = all.length;
    if (!grew) return;
    const last = all[all.length - 1];
    const box = scrollParent(last);
    if (!box) return;
    const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = Math.max(0, top - 90);
  }
  new MutationObserver(() => { scrollToPassage(); showNewAnswer(); })
    .observe(document.documentElement, { childList: true, subtree: true });
})();
</script>
"""


def _stats_html(retriever: Retriever) -> str:
    m = retriever.index.manifest.to_dict()
    counts = m.get("counts", {})
    model = m.get("model", {}).get("name", "?").rsplit("/", 1)[-1]
    return (
        "<div id='qa-header'><h1>qa</h1>"
        "<p class='qa-tagline'>Ask a question: the answer is the exact passages of your documents, "
        "each with its citation. Click a citation to read it in context.</p>"
        f"<div class='qa-stats'>{_plural(counts.get('documents', 0), 'document')} · "
        f"{_plural(counts.get('passages', 0), 'passage')} · "
        f"model {html.escape(model)} · index built {html.escape(str(m.get('built_at', '?')))}</div></div>"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:,} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _status(message: str, *, ok: bool) -> str:
    cls = "qa-ok" if ok else "qa-error"
    return f"<div class='{cls}'>{html.escape(message)}</div>"


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
        # Reranking is shown only if the library offers it: detected from `ask`'s signature.
        self.can_rerank = "rerank" in inspect.signature(retriever.ask).parameters
        self._export_dir = Path(tempfile.mkdtemp(prefix="qa-export-"))

    # -- asking -------------------------------------------------------------------------

    def answer(self, question: str, *, k: int, mode: str, rerank: bool = True):
        """Ask the library; return (Answer, milliseconds)."""
        mode = parse_enum(RetrievalMode, mode, "mode").value
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise ConfigError(f"k={k!r} is not a number; choose 1 to {MAX_K}") from None
        if not 1 <= k <= MAX_K:
            raise ConfigError(f"k={k} is out of range; choose 1 to {MAX_K}")
        # Checked: the library's default (hybrid reranks by best sentence); unchecked: plain fusion.
        extra: dict[str, Any] = {"rerank": None if rerank else False} if self.can_rerank else {}
        t0 = time.perf_counter()
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
    ) -> tuple[list[dict], list[AnswerView], str]:
        """Answer a question and append it to the session: (chat messages, views, cleared box)."""
        views = list(views or [])
        question = (question or "").strip()
        if not question:
            raise QAError("type a question first")
        answer, ms = self.answer(question, k=int(k), mode=mode, rerank=rerank)
        views.append(AnswerView(number=len(views) + 1, answer=answer, mode=mode, k=int(k), elapsed_ms=ms))
        return self.messages(views, show_scores), views, ""

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
        document = self.retriever.index.documents.get(hit.passage.doc_id)
        p = hit.passage
        if document is None:
            return empty_document_html(f"{p.doc_id} was removed from the index since this answer.")
        if document.text[p.start : p.end] != p.text:
            return empty_document_html(f"{p.doc_id} changed since this answer; ask the question again.")
        return document_html(document, hit)

    # -- export -------------------------------------------------------------------------

    def export(self, views: Sequence[AnswerView] | None, scope: str) -> tuple[str, str | None]:
        """Markdown of the last answer or the whole conversation, and a file to download."""
        views = list(views or [])
        if not views:
            return "", None
        text = conversation_markdown(views) if scope == "Whole conversation" else answer_markdown(views[-1])
        # A folder per export: sessions never overwrite each other's file.
        folder = Path(tempfile.mkdtemp(dir=self._export_dir))
        path = folder / ("qa-conversation.md" if scope == "Whole conversation" else "qa-answer.md")
        path.write_text(text, encoding="utf-8")
        return text, str(path)

    # -- documents ----------------------------------------------------------------------

    def documents_table(self) -> list[list[Any]]:
        rows = []
        meta = self.retriever.index.manifest.to_dict()["documents"]
        for doc_id, m in sorted(meta.items()):
            indexed = str(m.get("indexed_at") or "").replace("T", " ").replace("+00:00", " UTC")
            rows.append(
                [doc_id, m.get("title", ""), int(m.get("passages", 0)), _size(int(m.get("size", 0))), indexed]
            )
        return rows

    def document_ids(self) -> list[str]:
        return sorted(self.retriever.index.documents)

    def stats(self) -> str:
        return _stats_html(self.retriever)

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
        if self.collection is None:
            raise QAError("removing documents is disabled for this server")
        if isinstance(doc_ids, str):
            doc_ids = [doc_ids]
        change = self.collection.remove(list(doc_ids or []), progress=progress)
        return change.summary()

    def sync(self, progress: Callable[[float, str], None] | None = None) -> str:
        if self.collection is None:
            raise QAError("re-indexing is disabled for this server")
        return self.collection.sync(progress=progress).summary()

    # -- API ----------------------------------------------------------------------------

    def api_ask(self, question: str, k: int = 5, mode: str = "hybrid") -> dict:
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


def _eval_tab(get_retriever: Callable[[], Retriever]) -> None:
    import gradio as gr

    try:
        from qa.ui_eval import build_eval_tab
    except ModuleNotFoundError as exc:
        if exc.name != "qa.ui_eval":
            raise
        gr.Markdown(
            "Evaluation is available from the command line: `qa eval` measures retrieval "
            "quality on a question set (e.g. `eval/seed_questions.jsonl`)."
        )
        return
    build_eval_tab(get_retriever)


def build_app(
    retriever: Retriever,
    *,
    collection: Collection | None = None,
    examples: dict[str, Sequence[str]] | None = None,
):
    """The Gradio Blocks app over a retriever (and, for uploads, its collection).

    Launch it with `launch(app)`, or pass `**launch_options()` to `app.launch`.
    """
    import gradio as gr

    ui = UIHandlers(retriever, collection)

    def guarded(fn):
        # Library errors become a visible message instead of a stack trace.
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except QAError as exc:
                raise gr.Error(str(exc)) from None

        return run

    # delete_cache: exported Markdown files and uploads older than a day are cleaned up.
    with gr.Blocks(title="qa - cited answers from your documents", delete_cache=(3600, 86400)) as app:
        header = gr.HTML(ui.stats(), elem_id="qa-header-box")
        views = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chat = gr.Chatbot(
                            elem_id="qa-chat",
                            label="Answers",
                            show_label=False,
                            height=600,
                            autoscroll=False,
                            render_markdown=False,
                            latex_delimiters=[],
                            buttons=[],
                            feedback_options=None,
                            layout="panel",
                            placeholder="Ask a question about your documents. Every answer is a set of exact "
                            "quotes with citations; the best-matching sentence is highlighted.",
                        )
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(
                                elem_id="qa-question",
                                show_label=False,
                                placeholder="Ask a question and press Enter",
                                lines=1,
                                max_lines=4,
                                scale=6,
                                autofocus=True,
                            )
                            ask_btn = gr.Button(
                                "Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=80
                            )
                        example_questions = examples_for(retriever, examples)
                        example_buttons = []
                        if example_questions:
                            gr.Markdown("Try an example:", elem_id="qa-examples-label")
                            with gr.Row(elem_id="qa-examples"):
                                for q in example_questions:
                                    example_buttons.append((q, gr.Button(q, size="sm", variant="secondary")))
                        with gr.Row():
                            clear_btn = gr.Button("New conversation", size="sm", elem_id="qa-clear")
                        with gr.Accordion("Export as Markdown", open=False, elem_id="qa-export-box"):
                            scope = gr.Radio(
                                ["Last answer", "Whole conversation"],
                                value="Last answer",
                                show_label=False,
                                elem_id="qa-export-scope",
                            )
                            export_text = gr.Code(
                                language="markdown",
                                buttons=["copy"],
                                interactive=False,
                                elem_id="qa-export",
                                label="Markdown (copy with the button)",
                            )
                            download = gr.DownloadButton("Download .md", elem_id="qa-download", size="sm")
                    with gr.Column(scale=2, min_width=360, elem_id="qa-side"):
                        with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
                            k = gr.Slider(1, MAX_K, value=5, step=1, label="Passages (k)", elem_id="qa-k")
                            mode = gr.Radio(
                                [("Hybrid", "hybrid"), ("Dense", "dense"), ("BM25", "bm25")],
                                value="hybrid",
                                label="Retrieval mode",
                                info="Hybrid combines embeddings and BM25 keywords.",
                                elem_id="qa-mode",
                            )
                            show_scores = gr.Checkbox(
                                value=False,
                                label="Show each signal's score (dense, BM25, fused, rerank)",
                                elem_id="qa-show-scores",
                            )
                            rerank = gr.Checkbox(
                                value=True,
                                label="Rerank hybrid results by their best sentence",
                                visible=ui.can_rerank,
                                elem_id="qa-rerank",
                            )
                        source = gr.HTML(empty_document_html(), elem_id="qa-source", label="In context")
                        view_request = gr.Textbox(visible="hidden", elem_id="qa-view-request")

            with gr.Tab("Documents", id="documents"):
                docs_table = gr.Dataframe(
                    value=ui.documents_table(),
                    headers=["Document", "Title", "Passages", "Size", "Indexed"],
                    datatype=["str", "str", "number", "str", "str"],
                    interactive=False,
                    wrap=True,
                    column_widths=["26%", "44%", "9%", "9%", "12%"],
                    elem_id="qa-docs",
                    label="Indexed documents",
                )
                if collection is not None:
                    suffixes = ", ".join(collection.limits.accepted_suffixes())
                    with gr.Row(equal_height=False):
                        with gr.Column():
                            files = gr.File(
                                label=f"Add documents ({suffixes}; up to {_size(collection.limits.max_bytes)} each)",
                                file_count="multiple",
                                type="filepath",
                                elem_id="qa-upload",
                            )
                        with gr.Column():
                            to_remove = gr.Dropdown(
                                choices=ui.document_ids(),
                                multiselect=True,
                                label="Remove documents",
                                elem_id="qa-remove-select",
                            )
                            with gr.Row():
                                remove_btn = gr.Button("Remove selected", variant="stop", elem_id="qa-remove")
                                sync_btn = gr.Button("Re-scan corpus folder", elem_id="qa-sync")
                    upload_status = gr.HTML("", elem_id="qa-upload-status")
                else:
                    gr.Markdown("Uploads are disabled: this server was started without a corpus folder.")

            with gr.Tab("Evaluate", id="evaluate"):
                _eval_tab(lambda: ui.retriever)

        # -- events --------------------------------------------------------------------
        ask_inputs = [question, views, k, mode, show_scores, rerank]
        ask_outputs = [chat, views, question]

        def on_ask(q, vs, k_, mode_, scores_, rerank_):
            if not (q or "").strip():
                gr.Warning("Type a question first.")
                return gr.skip(), gr.skip(), gr.skip()
            return guarded(ui.ask)(q, vs, k_, mode_, scores_, rerank_)

        def export(vs, scope_):
            text, path = ui.export(vs, scope_)
            return text, gr.DownloadButton(value=path, interactive=path is not None)

        ask_opts = {"api_visibility": "private", "concurrency_id": "qa-ask", "show_progress": "minimal"}
        for trigger in (question.submit, ask_btn.click):
            trigger(on_ask, ask_inputs, ask_outputs, **ask_opts).then(
                export,
                [views, scope],
                [export_text, download],
                api_visibility="private",
                show_progress="hidden",
            )
        for q, btn in example_buttons:
            btn.click(lambda q=q: q, None, question, api_visibility="private", show_progress="hidden").then(
                on_ask, ask_inputs, ask_outputs, **ask_opts
            ).then(
                export,
                [views, scope],
                [export_text, download],
                api_visibility="private",
                show_progress="hidden",
            )
        show_scores.change(
            ui.messages, [views, show_scores], chat, api_visibility="private", show_progress="hidden"
        )
        scope.change(export, [views, scope], [export_text, download], api_visibility="private")

        def new_conversation():
            return [], [], empty_document_html(), "", gr.DownloadButton(value=None, interactive=False)

        reset_outputs = [chat, views, source, export_text, download]
        clear_btn.click(new_conversation, None, reset_outputs, api_visibility="private")
        # The chat's own trash button clears the messages; forget the answers with them.
        chat.clear(new_conversation, None, reset_outputs, api_visibility="private")
        view_request.change(
            guarded(ui.view), [view_request, views], source, api_visibility="private", show_progress="minimal"
        )

        if collection is not None:

            def refreshed(message: str, ok: bool):
                return (
                    _status(message, ok=ok),
                    ui.documents_table(),
                    gr.Dropdown(choices=ui.document_ids(), value=[]),
                    ui.stats(),
                )

            write_outputs = [upload_status, docs_table, to_remove, header]

            def on_upload(paths, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - how Gradio injects progress
                try:
                    message = ui.upload(paths, progress=lambda f, what: progress(f, desc=what))
                except QAError as exc:
                    return (*refreshed(f"Not added: {exc}", False), None)
                return (*refreshed(f"Done: {message}", True), None)

            def on_remove(doc_ids, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - how Gradio injects progress
                try:
                    message = ui.remove(doc_ids, progress=lambda f, what: progress(f, desc=what))
                except QAError as exc:
                    return refreshed(f"Not removed: {exc}", False)
                return refreshed(f"Done: {message}", True)

            def on_sync(progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - how Gradio injects progress
                try:
                    message = ui.sync(progress=lambda f, what: progress(f, desc=what))
                except QAError as exc:
                    return refreshed(f"Not re-indexed: {exc}", False)
                return refreshed(f"Done: {message}", True)

            write_opts = {"api_visibility": "private", "concurrency_id": "qa-write"}
            files.upload(on_upload, files, [*write_outputs, files], **write_opts)
            remove_btn.click(
                on_remove,
                to_remove,
                write_outputs,
                # A js function returns the list of input values: wrap the selection.
                js="(ids) => [(ids && ids.length && confirm('Remove ' + ids.join(', ') + "
                "' from the corpus folder and the index?')) ? ids : []]",
                **write_opts,
            )
            sync_btn.click(on_sync, None, write_outputs, **write_opts)

        def ask(question: str, k: int = 5, mode: str = "hybrid") -> dict:
            """Answer a question with the top-k exact source passages and their citations (JSON).

            Args:
                question: the question.
                k: number of passages (1-20).
                mode: "hybrid", "dense" or "bm25".
            """
            try:
                return ui.api_ask(question, k, mode)
            except QAError as exc:
                raise gr.Error(str(exc)) from None

        gr.api(ask, api_name="ask", concurrency_id="qa-ask")
        app.load(
            lambda: (ui.stats(), ui.documents_table()), None, [header, docs_table], api_visibility="private"
        )
    return app


def launch_options() -> dict[str, Any]:
    """Theme, CSS and page script for `app.launch(...)` (Gradio takes them at launch)."""
    import gradio as gr

    system = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    # System fonts only: the default theme fetches web fonts, and qa runs offline.
    theme = gr.themes.Soft(primary_hue="indigo", font=system, font_mono=mono)
    return {"theme": theme, "css": CSS, "head": HEAD}


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`"user:pass"` -> ("user", "pass"); None or "" -> None."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("--auth / QA_AUTH must look like USER:PASSWORD (both non-empty)")
    return user, password


def check_exposure(host: str, auth: tuple[str, str] | None) -> str | None:
    """A warning when the app would be reachable from other machines without a password."""
    if host in LOOPBACK or host.startswith("127."):
        return None
    if auth is None:
        return (
            f"serving on {host}, reachable from other machines, WITHOUT authentication: anyone who "
            "can reach this port can read and change your documents; set --auth USER:PASSWORD "
            "(or QA_AUTH), or serve on 127.0.0.1"
        )
    return None


def launch(
    app,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
    quiet: bool = False,
    auth: tuple[str, str] | None = None,
):
    """Serve a built app on `host:port` (loopback by default)."""
    app.queue(default_concurrency_limit=1)
    return app.launch(
        auth=auth,
        server_name=host,
        server_port=port,
        show_error=True,
        prevent_thread_lock=not block,
        quiet=quiet,
        footer_links=["api"],
        **launch_options(),
    )


def serve(
    *,
    corpus_dir: Path,
    index_dir: Path,
    model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    build: bool = True,
    max_upload_bytes: int | None = None,
    block: bool = True,
    auth: str | None = None,
):
    """Build or update the index if needed, then serve the UI (uploads go into `corpus_dir`).

    `auth` ("user:password") protects the app with a login; serving on a non-loopback
    host without it logs a warning.
    """
    from qa.indexing import build_index

    credentials = parse_auth(auth)
    warning = check_exposure(host, credentials)
    if warning:
        logger.warning("%s", warning)

    if build:
        report = build_index(corpus_dir, index_dir, model=model, show_progress=True)
        logger.warning("%s", report.summary())
    retriever = Retriever.open(index_dir, corpus_dir=corpus_dir, model=model)
    # Load the model now, so the first question is as fast as the next ones.
    retriever.ask("warm-up", k=1)
    limits = UploadLimits(max_bytes=max_upload_bytes) if max_upload_bytes else UploadLimits()
    collection = Collection(retriever, corpus_dir=Path(corpus_dir), index_dir=Path(index_dir), limits=limits)
    app = build_app(retriever, collection=collection)
    logger.warning("serving on http://%s:%d", host, port)
    return launch(app, host=host, port=port, block=block, auth=credentials)
