"""Documents -> Passages: paragraph-aligned spans with exact character offsets.

Every passage satisfies `document.text[passage.start:passage.end] == passage.text`.
Passages follow blank-line paragraph boundaries; short paragraphs are merged with
the next ones, long ones are split at sentence boundaries (and, for a sentence that
is itself too long, at word-piece boundaries), so that no passage holds more than
`max_tokens` word pieces and nothing is truncated by the model.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.config import IndexSettings
from qa.types import Document, Passage

__all__ = [
    "TokenSpans",
    "chunk",
    "split_paragraphs",
    "split_sentences",
    "detect_headings",
    "whitespace_token_spans",
]

# A function that returns the (start, end) character span of each model token in a text.
TokenSpans = Callable[[str], Sequence[tuple[int, int]]]

_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)+")
# End of a sentence: terminal punctuation, optional closing quotes/brackets, then space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_NO_HEADING_END = tuple('.!?:;,"”’)')


def whitespace_token_spans(text: str) -> list[tuple[int, int]]:
    """Token spans for whitespace-separated words (for tests and model-free use)."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank paragraphs of `text`, separated by blank lines."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        s, e = _strip_span(text, pos, m.start())
        if s < e:
            spans.append((s, e))
        pos = m.end()
    s, e = _strip_span(text, pos, len(text))
    if s < e:
        spans.append((s, e))
    return spans


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in `text[start:end]`, whitespace trimmed, covering all words.

    A blank line always ends a sentence (a heading has no full stop).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _PARAGRAPH_BREAK.finditer(text, start, end):
        spans.extend(_sentences_in(text, pos, m.start()))
        pos = m.end()
    spans.extend(_sentences_in(text, pos, end))
    return spans


def _sentences_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        s, e = _strip_span(text, pos, m.end())
        if s < e:
            spans.append((s, e))
        pos = m.end()
    s, e = _strip_span(text, pos, end)
    if s < e:
        spans.append((s, e))
    return spans


def _is_text_heading(paragraph: str) -> bool:
    if "\n" in paragraph or len(paragraph) > 100:
        return False
    words = paragraph.split()
    return 0 < len(words) <= 12 and not paragraph.endswith(_NO_HEADING_END)


def detect_headings(doc: Document, paragraphs: list[tuple[int, int]]) -> list[str | None]:
    """For each paragraph, the section heading it falls under (None before the first)."""
    current: str | None = None
    out: list[str | None] = []
    for i, (s, e) in enumerate(paragraphs):
        para = doc.text[s:e]
        if doc.fmt == "md":
            m = _MD_HEADING.match(para.split("\n", 1)[0])
            if m and i > 0:
                current = m.group(2)
        elif i > 0 and i + 1 < len(paragraphs) and _is_text_heading(para):
            current = para
        out.append(current)
    return out


@dataclass
class _Unit:
    """A paragraph, or a piece of a paragraph that had to be split."""

    start: int
    end: int
    tokens: int
    paragraph: int  # 1-based
    whole: bool


def _count(starts: Sequence[int], start: int, end: int) -> int:
    """Tokens that start inside [start, end); `starts` is sorted."""
    return bisect_left(starts, end) - bisect_left(starts, start)


def _split_long_sentence(
    text: str, spans: Sequence[tuple[int, int]], start: int, end: int, max_tokens: int
) -> list[tuple[int, int, int]]:
    """Cut one over-long sentence at word-piece boundaries, preferring whitespace."""
    starts = [s for s, _ in spans]
    toks = spans[bisect_left(starts, start) : bisect_left(starts, end)]
    pieces: list[tuple[int, int, int]] = []
    i = 0
    while i < len(toks):
        j = min(i + max_tokens, len(toks))
        if j < len(toks):
            # Back off to a token that starts a word, so words are not cut in two.
            k = j
            while k > i + 1 and not (toks[k][0] > 0 and text[toks[k][0] - 1].isspace()):
                k -= 1
            if k > i + 1:
                j = k
        piece_start = toks[i][0] if i else start
        piece_end = toks[j][0] if j < len(toks) else end
        s, e = _strip_span(text, piece_start, piece_end)
        if s < e:
            pieces.append((s, e, j - i))
        i = j
    return pieces


def _paragraph_units(
    text: str,
    spans: Sequence[tuple[int, int]],
    start: int,
    end: int,
    number: int,
    settings: IndexSettings,
    first_budget: int | None = None,
) -> list[_Unit]:
    starts = [s for s, _ in spans]
    total = _count(starts, start, end)
    if total <= settings.max_tokens:
        return [_Unit(start, end, total, number, True)]
    # Sentences, with over-long ones cut further.
    sentences: list[tuple[int, int, int]] = []
    for s, e in split_sentences(text, start, end):
        n = _count(starts, s, e)
        if n <= settings.max_tokens:
            sentences.append((s, e, n))
        else:
            sentences.extend(_split_long_sentence(text, spans, s, e, settings.max_tokens))
    units: list[_Unit] = []
    i = 0
    while i < len(sentences):
        # The first window may leave room for short paragraphs waiting to be merged.
        budget = first_budget if (first_budget is not None and not units) else settings.max_tokens
        j, tokens = i, 0
        while j < len(sentences) and tokens + sentences[j][2] <= budget:
            tokens += sentences[j][2]
            j += 1
        if j == i:  # a lone sentence always fits the full budget (cut above)
            j, tokens = i + 1, sentences[i][2]
        units.append(_Unit(sentences[i][0], sentences[j - 1][1], tokens, number, False))
        if j >= len(sentences):
            break
        # Next window repeats up to `overlap` sentences, but must move forward.
        i = max(j - settings.overlap, i + 1)
    return units


def chunk(doc: Document, *, settings: IndexSettings, token_spans: TokenSpans) -> list[Passage]:
    """Split a document into passages.

    Args:
        doc: the document; its text is never altered.
        settings: passage size, merge threshold and overlap.
        token_spans: the model tokenizer's token spans, so sizes are in word pieces.

    Returns:
        Passages in document order, ids `"{doc_id}#{n:04d}"`.
    """
    text = doc.text
    paragraphs = split_paragraphs(text)
    headings = detect_headings(doc, paragraphs)
    groups: list[list[_Unit]] = []
    for number, (s, e) in enumerate(paragraphs, start=1):
        spans = [(a + s, b + s) for a, b in token_spans(text[s:e])]
        last = groups[-1] if groups else None
        # Short whole paragraphs (titles, headings, one-liners) stay open for merging
        # with what follows, within one PDF page.
        open_tokens = sum(u.tokens for u in last) if last else 0
        can_merge = (
            last is not None
            and last[-1].whole
            and open_tokens < settings.min_tokens
            and doc.page_of(last[-1].start) == doc.page_of(s)  # a PDF passage cites one page
        )
        units = _paragraph_units(
            text,
            spans,
            s,
            e,
            number,
            settings,
            first_budget=settings.max_tokens - open_tokens if can_merge else None,
        )
        for i, unit in enumerate(units):
            if i == 0 and last is not None and can_merge and open_tokens + unit.tokens <= settings.max_tokens:
                last.append(unit)
            else:
                groups.append([unit])
    # A short trailing paragraph joins the passage before it when there is room.
    if len(groups) > 1:
        tail, prev = groups[-1], groups[-2]
        tail_tokens = sum(u.tokens for u in tail)
        if (
            tail[0].whole
            and prev[-1].whole
            and doc.page_of(prev[-1].start) == doc.page_of(tail[0].start)
            and tail_tokens < settings.min_tokens
            and tail_tokens + sum(u.tokens for u in prev) <= settings.max_tokens
        ):
            prev.extend(groups.pop())

    passages = []
    for n, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        first_para = group[0].paragraph
        passages.append(
            Passage(
                passage_id=f"{doc.doc_id}#{n:04d}",
                doc_id=doc.doc_id,
                title=doc.title,
                text=text[start:end],
                start=start,
                end=end,
                paragraph_start=first_para,
                paragraph_end=group[-1].paragraph,
                heading=headings[group[-1].paragraph - 1] if headings else None,
            )
        )
    return passages
