"""Corpus folder -> Documents, with a report of every file that was skipped and why.

Formats: plain text (.txt, .text, .md, .markdown), HTML (.html, .htm; visible text
only) and PDF (.pdf; text layer, with the character offset where each page starts).
The stored `Document.text` is the extracted text, and every offset indexes it.

Modules:
    corpus     the one walk over the corpus folder (`iter_corpus_files`) and `scan_corpus`
    documents  one file -> one Document (`read_document`)
    files      reading a file's bytes safely, within the size limit
    limits     per-file extraction budgets (`ExtractionLimits`) and their checks
    worker     readers that can stall run in a worker process killed at the deadline
    registry   suffix -> reader (`READERS`), resolved lazily
    reader     the reader contract (`Extracted`, `Reader`, `UnreadableFile`)
    decoding   bytes -> text for the text formats
    plain, html, pdf   one reader per format

Adding a format: write `ingest/NAME.py` with a function `reader(data, notes) ->
Extracted` (raise `UnreadableFile` with the reason for a file it cannot use), and add
one line per suffix to `READERS` in `registry.py`: `".ext": "qa.ingest.NAME:reader"`.
The module is imported only when a file of that type is read, so an optional package
it needs is only required by users who have such files.
"""

from __future__ import annotations

from qa.ingest.corpus import CorpusScan, Duplicate, Note, Skipped, iter_corpus_files, scan_corpus
from qa.ingest.documents import read_document
from qa.ingest.files import DEFAULT_MAX_BYTES
from qa.ingest.html import extract_html
from qa.ingest.limits import DEFAULT_LIMITS, ExtractionLimitError, ExtractionLimits
from qa.ingest.reader import Extracted, Reader, UnreadableFile, make_title
from qa.ingest.registry import READERS, SUPPORTED_SUFFIXES, ReaderUnavailableError, load_reader

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_BYTES",
    "READERS",
    "SUPPORTED_SUFFIXES",
    "CorpusScan",
    "Duplicate",
    "ExtractionLimitError",
    "ExtractionLimits",
    "Extracted",
    "Note",
    "Reader",
    "ReaderUnavailableError",
    "Skipped",
    "UnreadableFile",
    "extract_html",
    "iter_corpus_files",
    "load_reader",
    "make_title",
    "read_document",
    "scan_corpus",
]
