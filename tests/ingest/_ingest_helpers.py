"""Helpers shared by the ingest tests: skip reasons of a scan, paragraphs, and the exact-offset check."""

from __future__ import annotations

from qa.chunking import chunk, split_paragraphs, whitespace_token_spans
from qa.citations import verify
from qa.config import IndexSettings

SMALL = IndexSettings(max_tokens=24, min_tokens=4, context="none")


def skip_reasons(scan) -> dict[str, str]:
    return {s.path: s.reason for s in scan.skipped}


def paragraphs_of(text: str) -> list[str]:
    """The paragraphs of `text` as the chunker sees them (blank-line separated)."""
    return [text[s:e] for s, e in split_paragraphs(text)]


def assert_exact(doc, settings=SMALL, token_spans=None):
    passages = chunk(doc, settings=settings, token_spans=token_spans or whitespace_token_spans)
    assert passages, "a document with text gives at least one passage"
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        verify(p, doc)
    return passages
