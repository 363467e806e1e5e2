"""Typed errors raised by qa; each message names the problem and the fix."""

from __future__ import annotations

__all__ = [
    "QAError",
    "ConfigError",
    "CorpusError",
    "IndexNotFoundError",
    "IndexMismatchError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexWriteError",
    "StoreError",
    "ModelError",
    "CitationError",
    "InputError",
]


class QAError(Exception):
    """Base class for every error qa raises on purpose."""


class ConfigError(QAError):
    """A setting has an invalid value."""


class CorpusError(QAError):
    """The corpus folder is missing, empty or unreadable."""


class IndexNotFoundError(QAError):
    """No index exists in the index folder."""


class IndexMismatchError(QAError):
    """The index was built with a different model or chunk settings."""


class IndexCorruptError(QAError):
    """An index file is missing, truncated or fails its checksum."""


class IndexLockedError(QAError):
    """Another process is writing the index."""


class IndexWriteError(QAError):
    """The index folder cannot be written (no space left, read-only, no permission)."""


class StoreError(QAError):
    """The vector store (e.g. a Milvus server) cannot be reached or refused a request."""


class ModelError(QAError):
    """The embedding model cannot be found or loaded."""


class CitationError(QAError):
    """A passage does not equal the slice of its source document it claims to be."""


class InputError(QAError):
    """A question file or question is malformed."""
