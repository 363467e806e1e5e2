"""Data types shared by every module: Document, Passage, Citation, Highlight, Hit, Answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Document", "Passage", "Citation", "Highlight", "Hit", "Answer"]


@dataclass(frozen=True)
class Document:
    """One source document, with its text exactly as decoded (offsets index into it)."""

    doc_id: str
    title: str
    text: str
    sha256: str
    size: int = 0
    fmt: str = "txt"
    # For PDFs: character offset where each page starts (page i = index i, 1-based for users).
    page_starts: tuple[int, ...] = ()

    def page_of(self, offset: int) -> int | None:
        """Return the 1-based page that holds character `offset`, or None if not paged."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Passage:
    """A span of a document: `document.text[start:end] == text`."""

    passage_id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    paragraph_start: int
    paragraph_end: int
    heading: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "passage_id": self.passage_id,
            "doc_id": self.doc_id,
            "title": self.title,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "paragraph_start": self.paragraph_start,
            "paragraph_end": self.paragraph_end,
            "heading": self.heading,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Passage:
        return cls(**d)


@dataclass(frozen=True)
class Citation:
    """Where a passage comes from: document, paragraphs, character range, page for PDFs."""

    doc_id: str
    title: str
    paragraph_start: int
    paragraph_end: int
    start: int
    end: int
    page: int | None = None

    @property
    def paragraphs(self) -> str:
        if self.paragraph_start == self.paragraph_end:
            return f"¶{self.paragraph_start}"
        return f"¶{self.paragraph_start}-{self.paragraph_end}"

    def label(self, number: int | None = None) -> str:
        """Readable label, e.g. `[1] doc.txt ¶3, chars 120-498`."""
        prefix = f"[{number}] " if number is not None else ""
        page = f" p.{self.page}" if self.page is not None else ""
        return f"{prefix}{self.doc_id}{page} {self.paragraphs}, chars {self.start}-{self.end}"


@dataclass(frozen=True)
class Highlight:
    """A sentence of a passage that best matches the question; offsets index the document."""

    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "score": round(self.score, 6)}


@dataclass(frozen=True)
class Hit:
    """One retrieved passage. The shape never depends on the retrieval mode.

    `scores` and `ranks` hold each signal's own value (keys among `dense`, `bm25`,
    `fused`, `rerank`); a signal that did not find the passage has no key.
    """

    passage: Passage
    score: float
    rank: int
    citation: Citation
    scores: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)
    highlights: tuple[Highlight, ...] = ()

    @property
    def passage_id(self) -> str:
        return self.passage.passage_id

    @property
    def text(self) -> str:
        return self.passage.text

    def label(self) -> str:
        return self.citation.label(self.rank)

    def to_dict(self) -> dict[str, Any]:
        """The batch/JSON output shape of one passage."""
        p = self.passage
        return {
            "rank": self.rank,
            "passage_id": p.passage_id,
            "doc": p.doc_id,
            "title": p.title,
            "start": p.start,
            "end": p.end,
            "paragraphs": [p.paragraph_start, p.paragraph_end],
            "page": self.citation.page,
            "heading": p.heading,
            "text": p.text,
            "score": round(self.score, 6),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "ranks": dict(self.ranks),
            "highlights": [h.to_dict() for h in self.highlights],
            "citation": self.label(),
        }


@dataclass(frozen=True)
class Answer:
    """The result of asking one question: hits, and whether any is relevant enough."""

    question: str
    hits: tuple[Hit, ...]
    answered: bool
    qid: str | None = None
    confidence: float | None = None
    # The earlier questions of a conversation this one was read with, nearest first:
    # None when no history was given, () when the question stands alone.
    read_with: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.qid,
            "question": self.question,
            "answered": self.answered,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
        }
        if self.read_with is not None:
            out["read_with"] = list(self.read_with)
        out["passages"] = [h.to_dict() for h in self.hits]
        return out
