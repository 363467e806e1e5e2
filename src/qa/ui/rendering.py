"""Answers as HTML (chat messages, in-context document view) and as Markdown (export),
and the page's small HTML pieces (header, status line, sizes).

Every piece of text that comes from a document is HTML-escaped, and shown text is
always an exact slice of its document: highlights only wrap spans, never change them.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.types import Answer, Document, Hit
from qa.ui.pdf_page import PageImage, pdf_pages_html

if TYPE_CHECKING:
    from qa.inspection import IndexStatus
    from qa.watching import WatchStatus

__all__ = [
    "SIGNALS",
    "AnswerView",
    "answer_html",
    "answer_markdown",
    "conversation_markdown",
    "document_html",
    "empty_document_html",
    "file_size",
    "header_html",
    "pdf_context_html",
    "marked_html",
    "plural",
    "status_html",
    "watch_html",
]

# The per-signal scores a hit may carry, in display order.
SIGNALS = ("dense", "bm25", "fused", "rerank")
SIGNAL_NAMES = {"dense": "dense", "bm25": "BM25", "fused": "fused (RRF)", "rerank": "rerank"}
# Documents longer than this are shown as a window around the passage.
VIEW_WINDOW = 150_000

_MD_HEADING = re.compile(r"^#{1,6}[ \t].*$", re.MULTILINE)


@dataclass(frozen=True)
class AnswerView:
    """One answered question as the chat keeps it."""

    number: int
    answer: Answer
    mode: str
    k: int
    elapsed_ms: float
    # False when the user turned the conversation context off for this message.
    context: bool = True
    # The earlier questions of the session when it was asked, oldest first.
    history: tuple[str, ...] = ()
    # The documents picked to search in (empty: all).
    documents: tuple[str, ...] = ()


def _escape(text: str) -> str:
    # Character references for line breaks: the chat renders a message as one HTML
    # fragment, and HTML parsing would turn a raw "\r\n" into "\n".
    return html.escape(text, quote=True).replace("\r", "&#13;").replace("\n", "&#10;")


def marked_html(text: str, marks: Sequence[tuple[int, int, str]], *, offset: int = 0) -> str:
    """`text`, escaped, with each mark (start, end, css class) wrapped in spans.

    `text` starts at document offset `offset`, and marks use document offsets.
    Overlapping marks are split at every boundary, so each run of characters is one
    `<span>` carrying the classes of all marks that cover it; the concatenated text of
    the output is exactly `text`.
    """
    start, end = offset, offset + len(text)
    cuts = {start, end}
    for a, b, _ in marks:
        if a < end and b > start:
            cuts.update((max(a, start), min(b, end)))
    points = sorted(cuts)
    out: list[str] = []
    for a, b in zip(points, points[1:]):
        classes = [c for s, e, c in marks if s <= a and b <= e]
        piece = _escape(text[a - offset : b - offset])
        if classes:
            names = " ".join(dict.fromkeys(" ".join(classes).split()))
            out.append(f'<span class="{names}">{piece}</span>')
        else:
            out.append(piece)
    return "".join(out)


def _fmt_score(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def _signals_html(hit: Hit) -> str:
    names = [s for s in SIGNALS if s in hit.scores] + sorted(s for s in hit.scores if s not in SIGNALS)
    items = []
    for name in names:
        rank = hit.ranks.get(name)
        rank_text = f" <span class='qa-rank'>#{rank}</span>" if rank is not None else ""
        items.append(
            f"<span class='qa-signal qa-signal-{html.escape(name)}'>"
            f"{html.escape(SIGNAL_NAMES.get(name, name))} {_fmt_score(hit.scores[name])}{rank_text}</span>"
        )
    missing = [SIGNAL_NAMES[s] for s in ("dense", "bm25") if s not in hit.scores]
    if missing and len(names) > 1:
        items.append(f"<span class='qa-signal qa-signal-missing'>not found by {', '.join(missing)}</span>")
    return f"<div class='qa-signals'>{' · '.join(items)}</div>" if items else ""


def _hit_html(hit: Hit, *, ref: str, show_scores: bool, low_confidence: bool) -> str:
    p = hit.passage
    marks = [(h.start, h.end, "qa-best" if i == 0 else "qa-also") for i, h in enumerate(hit.highlights)]
    quote = marked_html(p.text, marks, offset=p.start)
    where = html.escape(p.title + (f" › {p.heading}" if p.heading and p.heading != p.title else ""))
    badge = "<span class='qa-badge qa-badge-low'>low confidence</span>" if low_confidence else ""
    signals = _signals_html(hit) if show_scores else ""
    return (
        f"<li class='qa-hit'>"
        f"<div class='qa-hit-head'>"
        f"<a class='qa-cite qa-open qa-ref-{ref}' href='#qa-source' title='Show this passage in its document'>"
        f"{html.escape(hit.label())}</a>"
        f"<span class='qa-score'>score {_fmt_score(hit.score)}</span>{badge}"
        f"<button class='qa-view qa-open qa-ref-{ref}' type='button'>View in document</button>"
        f"</div>"
        f"<div class='qa-where'>{where}</div>"
        f"<blockquote class='qa-quote'>{quote}</blockquote>"
        f"{signals}"
        f"</li>"
    )


def _context_html(view: AnswerView) -> str:
    """'read with: <previous question>' and the button that turns the context off (or on again)."""
    ref = f"qa-ctx-{view.number}"
    if view.answer.read_with:
        earlier = " / ".join(html.escape(q) for q in view.answer.read_with)
        return (
            f"<div class='qa-context'>read with: <span class='qa-read-with'>{earlier}</span>"
            f"<button class='qa-context-toggle {ref}' type='button' "
            f"title='Ask this question again on its own'>Read alone</button></div>"
        )
    if not view.context and view.history:
        return (
            f"<div class='qa-context qa-context-off'>read alone"
            f"<button class='qa-context-toggle {ref}' type='button' "
            f"title='Ask again with the earlier questions'>Read with the conversation</button></div>"
        )
    return ""


def answer_html(view: AnswerView, *, show_scores: bool = False) -> str:
    """The chat message for one answer: numbered quotes with citation, score, highlights.

    Citations carry the class `qa-ref-<answer>-<rank>`; the page script turns a click
    on one into a request for the in-context view.
    """
    answer = view.answer
    meta = (
        f"<div class='qa-meta'>{len(answer.hits)} passage{'s' if len(answer.hits) != 1 else ''}"
        f" · {html.escape(view.mode)} · k={view.k} · {view.elapsed_ms:.0f} ms</div>"
    )
    # Which earlier question a follow-up was read with: first, above the passages.
    context = _context_html(view)
    if not answer.hits:
        return (
            f"<div class='qa-answer qa-empty'>{context}<p class='qa-abstain-msg'>No passage found: "
            f"the index has no documents, or none matched.</p>{meta}</div>"
        )
    items = "".join(
        _hit_html(
            h, ref=f"{view.number}-{h.rank}", show_scores=show_scores, low_confidence=not answer.answered
        )
        for h in answer.hits
    )
    if answer.answered:
        return f"<div class='qa-answer'>{context}<ol class='qa-hits'>{items}</ol>{meta}</div>"
    return (
        f"<div class='qa-answer qa-abstained'>{context}"
        f"<p class='qa-abstain-msg'>No relevant passage found in the documents.</p>"
        f"<details class='qa-lowconf'><summary>Closest passages (low confidence)</summary>"
        f"<ol class='qa-hits'>{items}</ol></details>{meta}</div>"
    )


def empty_document_html(message: str = "Click a citation to read the passage in its document.") -> str:
    return f"<div class='qa-docview qa-docview-empty'><p>{html.escape(message)}</p></div>"


def document_html(
    document: Document,
    hit: Hit,
    *,
    label: str | None = None,
    window: int = VIEW_WINDOW,
) -> str:
    """The whole document with one hit's passage and best sentence highlighted.

    The first character of the passage carries the class `qa-anchor` (the page script
    scrolls it into view). Markdown documents are shown as their exact source text,
    with heading lines emphasised. Documents longer than `window` characters are shown
    as a window of about that size around the passage.
    """
    text = document.text
    p = hit.passage
    lo, hi = 0, len(text)
    if len(text) > window:
        half = max(0, (window - (p.end - p.start)) // 2)
        lo = max(0, p.start - half)
        hi = min(len(text), p.end + half)
        lo = text.rfind("\n", 0, lo) + 1 if lo > 0 else 0
        nl = text.find("\n", hi)
        hi = len(text) if nl < 0 else nl
    marks: list[tuple[int, int, str]] = [(p.start, p.end, "qa-passage")]
    for i, h in enumerate(hit.highlights):
        marks.append((h.start, h.end, "qa-best" if i == 0 else "qa-also"))
    # The anchor: the passage's first character.
    marks.append((p.start, min(p.end, p.start + 1), "qa-anchor"))
    if document.fmt == "md":
        marks.extend((m.start(), m.end(), "qa-md-heading") for m in _MD_HEADING.finditer(text, lo, hi))
    body = marked_html(text[lo:hi], marks, offset=lo)
    before = f"<div class='qa-doc-cut'>… {lo:,} characters before …</div>" if lo > 0 else ""
    after = f"<div class='qa-doc-cut'>… {len(text) - hi:,} characters after …</div>" if hi < len(text) else ""
    c = hit.citation
    label = label or f"[{hit.rank}] {c.paragraphs}, chars {c.start}-{c.end}" + (
        f", p.{c.page}" if c.page else ""
    )
    return (
        f"<div class='qa-docview'>"
        f"<div class='qa-doc-head'>"
        f"<div class='qa-doc-title'>{html.escape(document.title or document.doc_id)}</div>"
        f"<div class='qa-doc-meta'><span class='qa-doc-id'>{html.escape(document.doc_id)}</span> · "
        f"<span class='qa-doc-cite'>{html.escape(label)}</span> · {len(text):,} characters</div>"
        f"<div class='qa-legend'><span class='qa-passage'>passage</span> "
        f"<span class='qa-passage qa-best'>best-matching sentence</span></div>"
        f"</div>"
        f"{before}<div class='qa-doc qa-fmt-{html.escape(document.fmt)}'>{body}</div>{after}"
        f"</div>"
    )


def pdf_context_html(text_view: str, pages: Sequence[PageImage], doc_id: str) -> str:
    """A PDF hit in context: its rendered page(s) with the passage boxed, beside the text view.

    Without pages (the file is not in a corpus folder, or changed since it was indexed)
    the text view is shown alone, with a note saying why.
    """
    if not pages:
        note = (
            "<div class='qa-doc-cut'>The PDF page cannot be shown: the file is not in the corpus "
            "folder or changed since it was indexed. Showing the indexed text.</div>"
        )
        return f"<div class='qa-pdfsplit qa-pdf-textonly'>{note}{text_view}</div>"
    return (
        f"<div class='qa-pdfsplit'><div class='qa-pdfside'>{pdf_pages_html(list(pages), doc_id)}</div>"
        f"<div class='qa-textside'>{text_view}</div></div>"
    )


def _quote_md(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def answer_markdown(view: AnswerView) -> str:
    """One question and its answer as Markdown: each passage quoted with its citation."""
    answer = view.answer
    lines = [f"## {view.number}. {answer.question.strip()}", ""]
    if not answer.hits:
        lines += ["_No passage found._", ""]
        return "\n".join(lines)
    if not answer.answered:
        lines += ["_No relevant passage found; the closest passages are below (low confidence)._", ""]
    for hit in answer.hits:
        best = ""
        if hit.highlights:
            h = hit.highlights[0]
            best = f" · best sentence: chars {h.start}-{h.end}"
        lines += [f"**{hit.label()}** · score {_fmt_score(hit.score)}{best}", "", _quote_md(hit.text), ""]
    lines += [f"_{view.mode}, k={view.k}_", ""]
    return "\n".join(lines)


def conversation_markdown(views: Sequence[AnswerView], *, title: str = "qa answers") -> str:
    """Every answer of a session as one Markdown document."""
    if not views:
        return ""
    return f"# {title}\n\n" + "\n".join(answer_markdown(v) for v in views)


# -- the page's small pieces ----------------------------------------------------------


def plural(n: int, word: str) -> str:
    """`1 document`, `2 documents`."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def file_size(n: int) -> str:
    """A byte count for people: `512 B`, `1.5 KB`, `12.0 MB`."""
    size = float(n)
    for unit in ("B", "KB"):
        if size < 1024:
            return f"{n:,} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} MB"


def status_html(message: str, *, ok: bool) -> str:
    """A one-line outcome of an upload, removal or re-scan."""
    cls = "qa-ok" if ok else "qa-error"
    return f"<div class='{cls}'>{html.escape(message)}</div>"


def watch_html(status: WatchStatus) -> str:
    """The watched folder's state: what changed and what re-indexing did (or is doing)."""
    if not status.watching:
        return f"<div class='qa-watch qa-error'>Not watching the corpus folder. {html.escape(status.message)}</div>"
    state = "qa-watch-busy" if status.busy else "qa-watch-idle"
    when = ""
    if status.last_run is not None and not status.busy:
        when = f" · last re-index {time.strftime('%H:%M:%S', time.localtime(status.last_run))}"
    return (
        f"<div class='qa-watch {state}'><b>Watching the corpus folder</b>{when}: "
        f"{html.escape(status.message)}</div>"
    )


def header_html(status: IndexStatus) -> str:
    """The page header: what qa does, and what the index holds."""
    model = status.model_name.rsplit("/", 1)[-1]
    return (
        "<div id='qa-header'><h1>qa</h1>"
        "<p class='qa-tagline'>Ask a question: the answer is the exact passages of your documents, "
        "each with its citation. Click a citation to read it in context.</p>"
        f"<div class='qa-stats'>{plural(status.n_documents, 'document')} · "
        f"{plural(status.n_passages, 'passage')} · "
        f"model {html.escape(model)} · index built {html.escape(status.built_at)}</div></div>"
    )
