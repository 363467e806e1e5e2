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
    "IndexSettings",
    "RetrievalMode",
    "SentencePooling",
    "default_corpus_dir",
    "default_index_dir",
    "configured_model",
    "parse_enum",
]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


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
        choices = [m.value for m in enum_cls]  # type: ignore[attr-defined]
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
