"""Named retrieval configurations that an evaluation compares (`--compare dense,bm25`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.errors import ConfigError
from qa.retrieval import COVERAGE_WEIGHT, Retriever

__all__ = ["CONFIGURATIONS", "Configuration", "configure", "parse_configurations", "register_configuration"]

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "dense": {"mode": "dense"},
    "bm25": {"mode": "bm25"},
    "hybrid": {"mode": "hybrid"},  # the product default: reranked when the index has sentence vectors
    # The weighted rerank plus term coverage (issue #13; won on train, not on test).
    "hybrid-coverage": {"mode": "hybrid", "coverage_weight": COVERAGE_WEIGHT},
    "hybrid-rrf": {"mode": "hybrid", "rerank": False},  # plain reciprocal rank fusion
}


@dataclass(frozen=True)
class Configuration:
    """A named retrieval configuration: keyword arguments for the Retriever."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)


def register_configuration(name: str, **retriever_kwargs: Any) -> None:
    """Make `name` available to `--compare`, as `Retriever(index, **retriever_kwargs)`."""
    if not name or "," in name:
        raise ConfigError(f"configuration name {name!r} must be non-empty and without commas")
    CONFIGURATIONS[name] = dict(retriever_kwargs)


def parse_configurations(names: str | Sequence[str]) -> list[Configuration]:
    """`"dense,bm25"` (or a list of names) -> Configurations, in order, without duplicates."""
    if isinstance(names, str):
        names = names.split(",")
    out: list[Configuration] = []
    for raw in names:
        name = raw.strip().lower()
        if not name or any(c.name == name for c in out):
            continue
        if name not in CONFIGURATIONS:
            raise ConfigError(f"unknown configuration {name!r}; choose among {sorted(CONFIGURATIONS)}")
        out.append(Configuration(name, dict(CONFIGURATIONS[name])))
    if not out:
        raise ConfigError(f"no configuration given; choose among {sorted(CONFIGURATIONS)}")
    return out


def configure(base: Retriever, config: Configuration) -> Retriever:
    """A Retriever over `base`'s index and model, with `config`'s options."""
    # The abstention threshold (possibly calibrated for this index) carries over.
    options = {
        "k": base.k,
        "depth": base.depth,
        "rrf_k": base.rrf_k,
        "threshold": base.threshold,
        **config.options,
    }
    try:
        return Retriever(base.index, embedder=base.embedder, **options)
    except TypeError as exc:
        raise ConfigError(f"configuration {config.name!r} has an unknown option: {exc}") from None
