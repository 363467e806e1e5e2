"""Citations: build them from passage offsets and verify passages against their source."""

from __future__ import annotations

from qa.errors import CitationError
from qa.types import Citation, Document, Passage

__all__ = ["cite", "verify"]


def cite(passage: Passage, document: Document) -> Citation:
    """The citation of a passage: document, paragraphs, characters, and page for PDFs."""
    return Citation(
        doc_id=passage.doc_id,
        title=document.title,
        paragraph_start=passage.paragraph_start,
        paragraph_end=passage.paragraph_end,
        start=passage.start,
        end=passage.end,
        page=document.page_of(passage.start),
    )


def verify(passage: Passage, document: Document | None) -> None:
    """Raise CitationError unless `document.text[start:end] == passage.text` exactly, with
    `0 <= start <= end <= len(document.text)` (a table's passage text is that slice, so
    the range is what can be wrong)."""
    if document is None:
        raise CitationError(
            f"passage {passage.passage_id} cites document {passage.doc_id!r}, which is not in "
            "the index; run `qa index --rebuild`"
        )
    in_range = 0 <= passage.start <= passage.end <= len(document.text)
    if not in_range or document.text[passage.start : passage.end] != passage.text:
        raise CitationError(
            f"passage {passage.passage_id} does not match {passage.doc_id} "
            f"chars {passage.start}-{passage.end}; the index is inconsistent, "
            "run `qa index --rebuild`"
        )
