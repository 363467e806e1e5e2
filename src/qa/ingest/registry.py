"""The format registry: file suffix -> the reader for it, imported only when such a file is read."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache

from qa.errors import CorpusError
from qa.ingest.reader import Reader, UnreadableFile

__all__ = ["READERS", "SUPPORTED_SUFFIXES", "ReaderUnavailableError", "load_reader", "resolve_reader"]

# Suffix (lower case) -> "module:attribute" of its reader. One line per suffix.
READERS: Mapping[str, str] = {
    ".txt": "qa.ingest.plain:text",
    ".text": "qa.ingest.plain:text",
    ".md": "qa.ingest.plain:markdown",
    ".markdown": "qa.ingest.plain:markdown",
    ".html": "qa.ingest.html:reader",
    ".htm": "qa.ingest.html:reader",
    ".pdf": "qa.ingest.pdf:reader",
    ".rst": "qa.ingest.rst:reader",
    ".rest": "qa.ingest.rst:reader",
    ".docx": "qa.ingest.docx:reader",
    ".odt": "qa.ingest.odt:reader",
    ".epub": "qa.ingest.epub:reader",
    ".pptx": "qa.ingest.pptx:reader",
    ".csv": "qa.ingest.csv:comma_separated",
    ".tsv": "qa.ingest.csv:tab_separated",
    ".1": "qa.ingest.man:reader",
    ".2": "qa.ingest.man:reader",
    ".3": "qa.ingest.man:reader",
    ".4": "qa.ingest.man:reader",
    ".5": "qa.ingest.man:reader",
    ".6": "qa.ingest.man:reader",
    ".7": "qa.ingest.man:reader",
    ".8": "qa.ingest.man:reader",
    ".9": "qa.ingest.man:reader",
    ".man": "qa.ingest.man:reader",
    ".gz": "qa.ingest.man:gzipped",  # gzipped man pages (ls.1.gz); other .gz files are refused
}
SUPPORTED_SUFFIXES = tuple(sorted(READERS))
# Import name -> the name to `pip install`, where they differ.
_DISTRIBUTIONS: Mapping[str, str] = {"docx": "python-docx", "pptx": "python-pptx", "odf": "odfpy"}


class ReaderUnavailableError(CorpusError):
    """A file format's reader needs a Python package that is not installed."""


def load_reader(suffix: str) -> Reader:
    """The reader for files ending in `suffix` (any case), imported on first use.

    Raises:
        UnreadableFile: no reader handles the suffix (the message lists the supported ones).
        ReaderUnavailableError: the reader's package is not installed (the message names it).
    """
    spec = READERS.get(suffix.lower())
    if spec is None:
        raise UnreadableFile(
            f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return resolve_reader(suffix.lower(), spec)


@cache
def resolve_reader(suffix: str, spec: str) -> Reader:
    """The reader named by `spec` ("module:attribute"), for files ending in `suffix`.

    Raises:
        ReaderUnavailableError: the reader's package is not installed (the message names it).
    """
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not missing or module_name == missing or module_name.startswith(missing + "."):
            raise  # the registry names a module that does not exist: a bug, not a setup problem
        package = _DISTRIBUTIONS.get(missing.partition(".")[0], missing.partition(".")[0])
        raise ReaderUnavailableError(
            f"reading {suffix} files needs the Python package {package!r}, which is not installed; "
            f"install it with `pip install {package}`"
        ) from exc
    reader: Reader = getattr(module, attribute)
    return reader
