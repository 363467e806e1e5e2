"""Inspecting an index: what it holds (`qa status`, the web UI's header) and whether it is intact (`qa check`)."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.citations import verify
from qa.errors import IndexCorruptError
from qa.index import Index, StaleReport

__all__ = ["CheckResult", "DocumentInfo", "IndexStatus", "check_index", "document_infos", "index_status"]


@dataclass
class DocumentInfo:
    """A document as the live index holds it (from the manifest)."""

    doc_id: str
    title: str
    passages: int
    size: int
    indexed_at: str | None
    fmt: str


@dataclass(frozen=True)
class IndexStatus:
    """What an index holds: model, settings, vector index, documents, and (optionally) staleness.

    `documents` maps each document id to its manifest entry without the file stat.
    """

    path: Path
    built_at: str
    qa_version: str
    model: dict[str, Any]
    settings: dict[str, Any]
    store: dict[str, Any]
    counts: dict[str, int]
    documents: dict[str, dict[str, Any]]
    stale: StaleReport | None = None

    @property
    def model_name(self) -> str:
        return str(self.model.get("name", "?"))

    @property
    def backend(self) -> str:
        """The embedding backend the index was built with ("custom embedder" when none is recorded)."""
        return self.model["backend"] or "custom embedder"

    @property
    def n_documents(self) -> int:
        return int(self.counts.get("documents", 0))

    @property
    def n_passages(self) -> int:
        return int(self.counts.get("passages", 0))

    def to_dict(self) -> dict[str, Any]:
        """The `qa status --json` shape."""
        out: dict[str, Any] = {
            "index": str(self.path),
            "built_at": self.built_at,
            "model": self.model,
            "settings": self.settings,
            "store": self.store,
            "counts": self.counts,
            "documents": self.documents,
        }
        if self.stale is not None:
            out["stale"] = {
                "changed": self.stale.changed,
                "added": self.stale.added,
                "removed": self.stale.removed,
            }
        return out


@dataclass(frozen=True)
class CheckResult:
    """A verified index: its folder and how many files, documents and passages were checked."""

    index: Path
    files: int
    documents: int
    passages: int

    def to_dict(self) -> dict[str, Any]:
        """The `qa check --json` shape."""
        return {
            "ok": True,
            "index": str(self.index),
            "files": self.files,
            "documents": self.documents,
            "passages": self.passages,
        }


def index_status(index: Index, *, corpus_dir: Path | None = None) -> IndexStatus:
    """What `index` holds; with `corpus_dir`, also which corpus files changed since it was built.

    Args:
        index: a loaded index.
        corpus_dir: the corpus folder to compare with (scans it); None skips the comparison.
    """
    m = index.manifest.to_dict()
    return IndexStatus(
        path=index.path,
        built_at=m["built_at"],
        qa_version=m["qa_version"],
        model=m["model"],
        settings=m["settings"],
        store=m["store"],
        counts=m["counts"],
        documents={
            d: {k: v for k, v in meta.items() if k != "stat"}
            for d, meta in index.manifest.documents_dict().items()
        },
        stale=index.stale(corpus_dir) if corpus_dir is not None else None,
    )


def document_infos(index: Index) -> list[DocumentInfo]:
    """The documents of `index`, sorted by id."""
    return [
        DocumentInfo(
            doc_id=doc_id,
            title=m.title,
            passages=m.passages,
            size=m.size,
            indexed_at=m.indexed_at or None,
            fmt=m.fmt,
        )
        for doc_id, m in sorted(index.manifest.documents.items())
    ]


def check_index(index_dir: Path) -> CheckResult:
    """Verify the live index of `index_dir` completely.

    Hashes every file against the manifest (whatever its size), every document's text
    against its recorded sha256, checks that every passage is the exact slice of its
    document it cites, and that there is one vector per passage.

    Raises:
        IndexNotFoundError: nothing was ever built there.
        IndexCorruptError: a file, document or vector count does not match the manifest.
        CitationError: a passage does not match its document.
    """
    index = Index.load(index_dir, verify=True, hash_limit=sys.maxsize)  # hash every file, whatever its size
    for doc_id, meta in index.manifest.documents.items():
        doc = index.documents.get(doc_id)
        if doc is None or hashlib.sha256(doc.text.encode("utf-8")).hexdigest() != meta.sha256:
            raise IndexCorruptError(
                f"document {doc_id} in {index.path} does not match its manifest entry; run `qa index --rebuild`"
            )
    for passage in index.passages:
        verify(passage, index.documents.get(passage.doc_id))
    rows = index.load_vectors().shape[0]
    if rows != len(index.passages):
        raise IndexCorruptError(
            f"{index.path} has {rows} vectors for {len(index.passages)} passages; run `qa index --rebuild`"
        )
    return CheckResult(
        index=index.path,
        files=len(index.manifest.files),
        documents=len(index.documents),
        passages=len(index.passages),
    )
