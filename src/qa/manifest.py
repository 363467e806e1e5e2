"""The snapshot manifest: a frozen `Manifest`, the only code that knows manifest.json's keys.

A manifest ties one snapshot together: the model that made the vectors, the chunk and
store settings, every document's hash, and a checksum of every file. Its `digest` is a
sha256 of its own content, so an edited field (a document's hash, a file's checksum) is
caught on load. Manifests written by older qa versions (format 3 without a digest;
format 2, with a `faiss` section instead of `store`) still load.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.config import IndexSettings, StoreSettings
from qa.errors import IndexCorruptError, IndexMismatchError

__all__ = [
    "DOCUMENTS_FILE",
    "FORMAT_VERSION",
    "MANIFEST",
    "DocumentMeta",
    "FileMeta",
    "Manifest",
    "ModelInfo",
    "StoreInfo",
    "content_digest",
]

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
# 3: the vector store is a section of its own (`store`), no longer `faiss`.
# 4: the manifest carries `digest`, a sha256 of its own content.
# 5: the passage and document tables are columnar files in table/ (`qa.tables`), not JSON lines.
#    Each document's entry is in documents.json (a snapshot file, checksummed like
#    the others), read when first asked for: opening an index does not parse it.
FORMAT_VERSION = 5
READABLE_FORMATS = (2, 3, 4, 5)
DOCUMENTS_FILE = "documents.json"  # format 5
DIGEST = "digest"
_REBUILD = "run `qa index --rebuild`"


@dataclass(frozen=True)
class ModelInfo:
    """The model that embedded the passages; queries must use the same one."""

    name: str
    fingerprint: str
    dimension: int
    max_tokens: int
    # None: a custom embedder passed to build_index (no registered backend).
    backend: str | None = None


@dataclass(frozen=True)
class StoreInfo:
    """Which vector store holds the passage vectors, as asked for and as built."""

    name: str
    requested: str = "auto"  # the index type asked for (`auto` lets the store choose)
    uri: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)  # what the store reports (type, nlist, ...)

    @property
    def settings(self) -> StoreSettings:
        return StoreSettings(name=self.name, index_type=self.requested, uri=self.uri)


@dataclass(frozen=True)
class DocumentMeta:
    """One indexed document: its hash and what the build knew of its file."""

    sha256: str
    title: str
    size: int
    fmt: str
    passages: int
    indexed_at: str
    stat: tuple[int, int] = (0, 0)  # (size, mtime_ns) of the file when it was read


@dataclass(frozen=True)
class FileMeta:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """Everything a snapshot records about itself (manifest.json)."""

    qa_version: str
    built_at: str
    corpus: str | None
    model: ModelInfo
    settings: IndexSettings
    store: StoreInfo
    bm25: Mapping[str, Any]
    documents: Mapping[str, DocumentMeta]
    skipped: Mapping[str, str] = field(default_factory=dict)
    duplicates: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, FileMeta] = field(default_factory=dict)
    passages: int = 0
    format: int = FORMAT_VERSION

    def with_files(self, files: Mapping[str, FileMeta]) -> Manifest:
        return replace(self, files=dict(files))

    # -- JSON ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """manifest.json's content, with its `digest`."""
        d: dict[str, Any] = {
            "format": self.format,
            "qa_version": self.qa_version,
            "built_at": self.built_at,
            "corpus": self.corpus,
            "model": {
                "name": self.model.name,
                "fingerprint": self.model.fingerprint,
                "dimension": self.model.dimension,
                "max_tokens": self.model.max_tokens,
                "backend": self.model.backend,
            },
            "settings": self.settings.to_dict(),
            "store": {
                "name": self.store.name,
                "requested": self.store.requested,
                "uri": self.store.uri,
                **dict(self.store.params),
            },
            "bm25": dict(self.bm25),
            "counts": {"documents": len(self.documents), "passages": self.passages},
            "skipped": dict(self.skipped),
            "duplicates": dict(self.duplicates),
            "files": {rel: {"size": f.size, "sha256": f.sha256} for rel, f in self.files.items()},
        }
        if self.format < 5:
            d["documents"] = self.documents_dict()
        d[DIGEST] = content_digest(d)
        return d

    def documents_dict(self) -> dict[str, Any]:
        """Each document's entry as JSON (documents.json in format 5, inside the manifest before)."""
        return {
            doc_id: {
                "sha256": m.sha256,
                "title": m.title,
                "size": m.size,
                "fmt": m.fmt,
                "passages": m.passages,
                "indexed_at": m.indexed_at,
                "stat": list(m.stat),
            }
            for doc_id, m in self.documents.items()
        }

    @classmethod
    def from_dict(cls, d: Any, *, where: str = "manifest", folder: Path | None = None) -> Manifest:
        """Parse a manifest of any readable format.

        Raises:
            IndexMismatchError: a format this qa cannot read.
            IndexCorruptError: a field is missing or has a bad value.
        """
        if not isinstance(d, dict):
            raise IndexCorruptError(f"{where} is not an index manifest; {_REBUILD}")
        _check_digest(d, where)
        if d.get("format") not in READABLE_FORMATS:
            raise IndexMismatchError(
                f"index format {d.get('format')} is not supported by this qa "
                f"(expects {FORMAT_VERSION}); {_REBUILD}"
            )
        try:
            model = d["model"]
            store = d["store"] if "store" in d else _store_from_format2(d["faiss"])
            counts = d.get("counts", {})
            return cls(
                format=int(d["format"]),
                qa_version=str(d.get("qa_version", "")),
                built_at=str(d.get("built_at", "")),
                corpus=d.get("corpus"),
                model=ModelInfo(
                    name=str(model["name"]),
                    fingerprint=str(model["fingerprint"]),
                    dimension=int(model["dimension"]),
                    max_tokens=int(model.get("max_tokens", 0)),
                    # Indexes from before backends were recorded were embedded with torch.
                    backend=model["backend"] if "backend" in model else "torch",
                ),
                settings=IndexSettings.from_dict(d["settings"]),
                store=StoreInfo(
                    name=str(store["name"]),
                    requested=str(store.get("requested", "auto")),
                    uri=store.get("uri"),
                    params={k: v for k, v in store.items() if k not in ("name", "requested", "uri")},
                ),
                bm25=dict(d.get("bm25", {})),
                documents=_parse_documents(d["documents"])
                if int(d["format"]) < 5
                else LazyDocuments(
                    Path(folder or ".") / DOCUMENTS_FILE,
                    int(counts["documents"]),
                    sha256=str(((d.get("files") or {}).get(DOCUMENTS_FILE) or {}).get("sha256", "")) or None,
                ),
                skipped=dict(d.get("skipped", {})),
                duplicates=dict(d.get("duplicates", {})),
                files={
                    rel: FileMeta(size=int(f["size"]), sha256=str(f["sha256"]))
                    for rel, f in (d.get("files") or {}).items()
                },
                passages=int(counts.get("passages", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexCorruptError(
                f"{where} lacks a field or has a bad value ({exc!r}); {_REBUILD}"
            ) from None

    # -- files --------------------------------------------------------------------

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of the snapshot in `folder`."""
        path = folder / MANIFEST
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise IndexCorruptError(f"index file {MANIFEST} is missing in {folder}; {_REBUILD}") from None
        except OSError as exc:
            raise IndexCorruptError(f"{path} cannot be read ({exc.strerror}); {_REBUILD}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise IndexCorruptError(
                f"{path} is not valid UTF-8 (bad byte at offset {exc.start}: damaged); {_REBUILD}"
            ) from None
        except (json.JSONDecodeError, RecursionError) as exc:
            raise IndexCorruptError(f"{path} is not valid JSON ({exc}); {_REBUILD}") from None
        return cls.from_dict(data, where=str(path), folder=folder)

    def write_documents(self, folder: Path) -> None:
        """Write documents.json (format 5; before the checksums are taken)."""
        if self.format >= 5:
            (folder / DOCUMENTS_FILE).write_text(
                json.dumps(self.documents_dict(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
            )

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(
            json.dumps(self.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8"
        )


def _parse_documents(raw: Mapping[str, Any]) -> dict[str, DocumentMeta]:
    return {
        doc_id: DocumentMeta(
            sha256=str(m["sha256"]),
            title=str(m.get("title", "")),
            size=int(m.get("size", 0)),
            fmt=str(m.get("fmt", "txt")),
            passages=int(m.get("passages", 0)),
            indexed_at=str(m.get("indexed_at", "")),
            stat=tuple(m.get("stat") or (0, 0)),
        )
        for doc_id, m in raw.items()
    }


class LazyDocuments(Mapping[str, DocumentMeta]):
    """A format-5 manifest's documents: documents.json, parsed on first use.

    Raises IndexCorruptError on first use if the file is missing, fails the checksum the
    manifest lists (checked here even when the load skipped checksums of a big snapshot),
    is not JSON, or does not hold the number of documents the manifest counts.
    """

    def __init__(self, path: Path, count: int, *, sha256: str | None = None) -> None:
        self._path = path
        self._count = count
        self._sha256 = sha256  # checked on first use, whatever the snapshot's size
        self._docs: dict[str, DocumentMeta] | None = None

    def _load(self) -> dict[str, DocumentMeta]:
        if self._docs is None:
            try:
                data = self._path.read_bytes()
                if self._sha256 is not None and hashlib.sha256(data).hexdigest() != self._sha256:
                    raise IndexCorruptError(
                        f"index file {self._path.name} fails its checksum (corrupted); {_REBUILD}"
                    )
                docs = _parse_documents(json.loads(data.decode("utf-8")))
            except FileNotFoundError:
                raise IndexCorruptError(
                    f"index file {self._path.name} is missing in {self._path.parent}; {_REBUILD}"
                ) from None
            except (
                OSError,
                UnicodeDecodeError,
                json.JSONDecodeError,
                AttributeError,
                KeyError,
                TypeError,
                ValueError,
            ) as exc:
                raise IndexCorruptError(f"{self._path} cannot be read ({exc}); {_REBUILD}") from None
            if len(docs) != self._count:
                raise IndexCorruptError(
                    f"{self._path} lists {len(docs)} documents, the manifest counts {self._count}; {_REBUILD}"
                )
            self._docs = docs
        return self._docs

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, doc_id: str) -> DocumentMeta:
        return self._load()[doc_id]

    def __iter__(self):
        return iter(self._load())

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._load()


def content_digest(d: Mapping[str, Any]) -> str:
    """`sha256:<hex>` of a manifest's canonical JSON (sorted keys, no spaces, ASCII),
    leaving out the digest itself; so re-indenting the file does not change it."""
    body = {k: v for k, v in d.items() if k != DIGEST}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def _check_digest(d: Mapping[str, Any], where: str) -> None:
    digest = d.get(DIGEST)
    if digest is None:
        if isinstance(d.get("format"), int) and d["format"] >= 4:
            raise IndexCorruptError(f"{where} has no digest (damaged or edited); {_REBUILD}")
        logger.debug("%s predates manifest digests; not checked", where)
        return
    try:
        actual = content_digest(d)
    except (TypeError, ValueError) as exc:
        raise IndexCorruptError(f"{where} cannot be checked ({exc}); {_REBUILD}") from None
    if digest != actual:
        raise IndexCorruptError(f"{where} fails its own checksum (a field was edited or damaged); {_REBUILD}")


def _store_from_format2(faiss: dict[str, Any]) -> dict[str, Any]:
    """Format 2 kept FAISS's description under `faiss`: `{"type", "requested", nlist...}`."""
    return {"name": "faiss", **faiss}
