"""Settings: the frozen index build settings, retrieval modes, and defaults from the environment."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Any

from qa.errors import ConfigError

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_STORE",
    "Context",
    "IndexSettings",
    "StoreSettings",
    "RetrievalMode",
    "SentencePooling",
    "default_corpus_dir",
    "default_index_dir",
    "configured_model",
    "configured_auth",
    "configured_backend",
    "configured_host",
    "configured_port",
    "configured_nprobe",
    "configured_threads",
    "cache_dir",
    "merge_settings",
    "parse_enum",
]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# The embedded default; other stores (see qa.stores.STORES) are chosen per index.
DEFAULT_STORE = "faiss"


class RetrievalMode(str, Enum):
    """How candidates are found: embeddings, BM25, or both fused."""

    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"


class Context(str, Enum):
    """What is prepended to a passage's text before it is embedded (never shown)."""

    NONE = "none"
    TITLE = "title"
    HEADING = "heading"  # title and section heading


class SentencePooling(str, Enum):
    """How sentence vectors are computed (see IndexSettings)."""

    LATE = "late"
    SEPARATE = "separate"


def parse_enum(enum_cls: type[Enum], value: Any, what: str) -> Any:
    """Turn a string into an Enum member, or raise ConfigError listing the valid choices."""
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(str(value).lower())
    except ValueError:
        choices = [m.value for m in enum_cls]
        raise ConfigError(f"unknown {what} {value!r}; choose one of {choices}") from None


@dataclass(frozen=True)
class IndexSettings:
    """Everything that decides which passages and vectors an index holds.

    Written to the manifest; an index can only be searched with the settings it was
    built with.

    Args:
        max_tokens: most word pieces in one passage (the model's limit bounds it).
        min_tokens: paragraphs shorter than this are merged with the next one.
        overlap: sentences repeated between consecutive pieces of a split paragraph.
        context: text prepended to the embedded passage (`none`, `title`, `heading`).
        context_tokens: word pieces reserved for that context; longer context is cut.
        sentence_vectors: also store a vector per sentence of each passage (best-sentence
            reranking, highlights and abstention use them).
        sentence_pooling: how sentence vectors are made: `late` pools each sentence's
            token vectors from its passage's own forward pass (in context, no extra
            encoder work); `separate` embeds each sentence alone (about twice the work).
    """

    max_tokens: int = 192
    min_tokens: int = 64
    overlap: int = 1
    context: str = Context.TITLE.value
    context_tokens: int = 32
    sentence_vectors: bool = True
    sentence_pooling: str = SentencePooling.LATE.value

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ConfigError(f"max_tokens={self.max_tokens} is too small; use at least 8")
        if not 0 <= self.min_tokens <= self.max_tokens:
            raise ConfigError(
                f"min_tokens={self.min_tokens} must be between 0 and max_tokens={self.max_tokens}"
            )
        if self.overlap < 0:
            raise ConfigError(f"overlap={self.overlap} must be 0 or more sentences")
        if self.context_tokens < 0:
            raise ConfigError(f"context_tokens={self.context_tokens} must be 0 or more")
        parse_enum(Context, self.context, "context")
        parse_enum(SentencePooling, self.sentence_pooling, "sentence pooling")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IndexSettings:
        names = {f.name for f in fields(cls)}
        d = dict(d)
        if d.get("sentence_vectors") and "sentence_pooling" not in d:
            d["sentence_pooling"] = SentencePooling.SEPARATE.value  # indexes from before pooling was recorded
        return cls(**{k: v for k, v in d.items() if k in names})

    def check_model_limit(self, model_max_tokens: int) -> None:
        """Fail if a passage plus its context could exceed the model's input length."""
        reserve = self.context_tokens if self.context != Context.NONE.value else 0
        budget = model_max_tokens - 2 - reserve  # [CLS] and [SEP]
        if self.max_tokens > budget:
            raise ConfigError(
                f"max_tokens={self.max_tokens} does not fit the model: it reads "
                f"{model_max_tokens} word pieces, of which 2 are special tokens and "
                f"{reserve} are reserved for context; use --max-tokens {budget} or less"
            )


@dataclass(frozen=True)
class StoreSettings:
    """Where and how the passage vectors are searched; recorded in the manifest.

    Unlike `IndexSettings`, changing these rebuilds the store from the stored vectors
    without re-embedding anything.

    Args:
        name: the vector store (`faiss`, `exact`, ...; see `qa.stores.STORES`).
        index_type: the store's index kind (for FAISS `auto`, `flat`, `hnsw`, `ivfsq8`, `ivfpq`).
        uri: where a server-backed store lives (a file path or a server URI); None for
            stores kept inside the snapshot folder.
    """

    name: str = DEFAULT_STORE
    index_type: str = "auto"
    uri: str | None = None

    @classmethod
    def from_env(
        cls, *, name: str | None = None, index_type: str | None = None, uri: str | None = None
    ) -> StoreSettings:
        """Explicit values, else `QA_STORE` / `QA_STORE_URI`, else the defaults.

        A URI without `://` is a file path and is made absolute, so the manifest names
        the same file whatever folder later commands run in.
        """
        uri = uri or os.environ.get("QA_STORE_URI") or None
        if uri is not None and "://" not in uri:
            uri = str(Path(uri).expanduser().resolve())
        return cls(
            name=(name or os.environ.get("QA_STORE") or DEFAULT_STORE).lower(),
            index_type=str(index_type or "auto").lower(),
            uri=uri,
        )


def merge_settings(base: IndexSettings, overrides: dict[str, Any]) -> IndexSettings:
    """`base` with the given fields replaced (None values are ignored); validated."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return IndexSettings.from_dict({**base.to_dict(), **given}) if given else base


def _env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name) or default)


def default_corpus_dir() -> Path:
    """The corpus folder: `QA_CORPUS`, else `seeds/`."""
    return _env_path("QA_CORPUS", "seeds")


def default_index_dir() -> Path:
    """The index folder: `QA_INDEX`, else `embeddings/`."""
    return _env_path("QA_INDEX", "embeddings")


def configured_model(explicit: str | None = None) -> str | None:
    """The model asked for explicitly (argument, then `QA_MODEL`), or None."""
    return explicit or os.environ.get("QA_MODEL") or None


def configured_backend(explicit: str | None = None) -> str | None:
    """The embedding backend asked for explicitly (argument, then `QA_BACKEND`), or None."""
    return (explicit or os.environ.get("QA_BACKEND") or "").lower() or None


def configured_nprobe() -> int | None:
    """IVF lists scanned per query from `QA_NPROBE`, or None for the store's default."""
    value = os.environ.get("QA_NPROBE")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"QA_NPROBE={value!r} is not a whole number; unset it or use e.g. 64") from None


def configured_threads() -> int | None:
    """ONNX Runtime threads from `QA_THREADS`, or None for all cores."""
    value = os.environ.get("QA_THREADS")
    if not value:
        return None
    try:
        return max(1, int(value))
    except ValueError:
        raise ConfigError(f"QA_THREADS={value!r} is not a whole number; unset it or use e.g. 2") from None


def cache_dir() -> Path:
    """Where exported models live: `QA_CACHE`, else `$XDG_CACHE_HOME/qa`, else `~/.cache/qa`."""
    if os.environ.get("QA_CACHE"):
        return Path(os.environ["QA_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa"


def configured_host() -> str:
    """The address `qa serve` binds: `QA_HOST`, else loopback only."""
    return os.environ.get("QA_HOST") or "127.0.0.1"


def configured_port() -> int:
    """The port `qa serve` listens on: `QA_PORT`, else 7860."""
    value = os.environ.get("QA_PORT") or "7860"
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"QA_PORT={value!r} is not a port number; unset it or use e.g. 7861") from None


def configured_auth() -> str | None:
    """The `USER:PASSWORD` login `qa serve` requires: `QA_AUTH`, or None."""
    return os.environ.get("QA_AUTH") or None
