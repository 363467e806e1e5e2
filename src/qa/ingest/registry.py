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
}
SUPPORTED_SUFFIXES = tuple(sorted(READERS))


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
        raise ReaderUnavailableError(
            f"reading {suffix} files needs the Python package {missing!r}, which is not installed; "
            f"install it with `pip install {missing}`"
        ) from exc
    reader: Reader = getattr(module, attribute)
    return reader
