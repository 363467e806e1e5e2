"""Build or update an index from a corpus folder, incrementally and atomically.

`build_index` is a short sequence of named steps: load the previous snapshot, choose the
model, decide what can be reused, scan the corpus, plan which passages to embed, embed
them, assemble the rows of the new snapshot, write it, and publish it. The steps stay in
one module (about 450 lines) because they share its private plan and row types.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa import __version__
from qa.build_report import BuildReport
from qa.checkpoint import PARTIAL, EmbeddingCheckpoint, embed_resumable
from qa.chunking import chunk
from qa.config import IndexSettings, StoreSettings, merge_settings
from qa.embedding import Embedder, load_embedder, model_fingerprint, resolve_backend, resolve_model
from qa.encoding import context_text
from qa.errors import ConfigError, IndexCorruptError, IndexMismatchError, IndexNotFoundError, QAError
from qa.index import Index, snapshot_files
from qa.ingest import DEFAULT_MAX_BYTES, CorpusScan, scan_corpus
from qa.ingest.limits import DEFAULT_LIMITS, ExtractionLimits
from qa.lexical import BM25Index
from qa.manifest import DocumentMeta, Manifest, ModelInfo, StoreInfo
from qa.sentences import SentenceTable, passage_sentences
from qa.storage import IndexStore, save_npy
from qa.stores import build_store
from qa.tables import save_tables, tables_from_records
from qa.timestamps import utc_now
from qa.types import Document, Passage

__all__ = ["BuildReport", "build_index", "context_text", "settings_for"]

logger = logging.getLogger(__name__)

BM25_INFO = {"library": "bm25s", "k1": 1.2, "b": 0.75, "stemmer": "snowball-english"}


def settings_for(index_dir: Path, overrides: Mapping[str, Any]) -> IndexSettings | None:
    """The settings a build with these overrides should use: the existing index's (or
    the defaults) with the overrides applied; None when nothing is overridden, so the
    build keeps the index's own settings."""
    if not any(v is not None for v in overrides.values()):
        return None
    base = IndexSettings()
    try:
        base = Index.load(index_dir, verify=False).settings
    except QAError:
        pass
    return merge_settings(base, dict(overrides))


@dataclass(frozen=True)
class _Model:
    """The model a build embeds with, known before it is loaded."""

    name: str
    fingerprint: str
    backend: str | None  # None: a custom embedder


@dataclass
class _Plan:
    """Per document (sorted by id): its passages, and its rows in the previous snapshot
    when they are reused (None: new passages, embedded in this build)."""

    entries: list[tuple[Document, list[Passage], list[int] | None]] = field(default_factory=list)
    to_embed: list[Passage] = field(default_factory=list)

    @property
    def passages(self) -> int:
        return sum(len(p) for _, p, _ in self.entries)


@dataclass
class _Rows:
    """The row tables of the new snapshot (row i = passage i = vector i = BM25 doc i)."""

    passages: list[Passage]
    vectors: np.ndarray
    texts: list[str]  # what BM25 indexes: the embedded text of every passage
    sentences: SentenceTable | None
    embedded: int = 0  # passages embedded by this build (the others were reused or resumed)


def _load_previous(index_dir: Path, report: BuildReport) -> Index | None:
    try:
        return Index.load(index_dir)
    except IndexNotFoundError:
        return None
    except (IndexCorruptError, IndexMismatchError) as exc:
        report.full_rebuild_reason = f"previous index unusable ({exc})"
        logger.warning("previous index unusable, rebuilding: %s", exc)
        return None


def _choose_model(
    prev: Index | None, model: str | None, embedder: Embedder | None, backend: str | None
) -> _Model:
    """Name, weights and backend of the model, without loading it: an up-to-date index
    needs only a hash of the weights."""
    if embedder is not None:
        if not isinstance(embedder, Embedder):
            raise ConfigError(
                f"{type(embedder).__name__} is not an embedder: it must have the attributes and methods "
                "of qa.embedding.Embedder (name, dimension, max_tokens, backend, embed, embed_pieces, "
                "token_spans, count_tokens, fingerprint); qa.embedding.embed_in_pieces helps write "
                "embed_pieces"
            )
        if model is not None and resolve_model(model)[0] != embedder.name:
            raise ValueError("pass either model or embedder, not both")
        return _Model(embedder.name, embedder.fingerprint(), embedder.backend)
    name, path = resolve_model(model or (prev.model_name if prev else None))
    return _Model(
        name,
        model_fingerprint(path),
        resolve_backend(backend or (prev.manifest.model.backend if prev else None)),
    )


def _why_not_reuse(prev: Index, chosen: _Model, settings: IndexSettings, rebuild: bool) -> str | None:
    """Why the previous snapshot's vectors cannot be kept, or None if they can."""
    prev_backend = prev.manifest.model.backend
    if rebuild:
        return "--rebuild was given"
    if prev.model_name != chosen.name:
        return f"model changed from {prev.model_name} to {chosen.name}"
    if prev.model_fingerprint != chosen.fingerprint:
        return f"weights of model {chosen.name} changed"
    if None not in (prev_backend, chosen.backend) and prev_backend != chosen.backend:
        # Backends agree to ~0.99 cosine, not exactly: never mix them in one index.
        return f"embedding backend changed from {prev_backend} to {chosen.backend}"
    if prev.settings != settings:
        return "chunk settings changed"
    return None


def _scan(
    corpus_dir: Path | None,
    documents: Iterable[Document] | None,
    prev: Index | None,
    max_bytes: int,
    limits: ExtractionLimits,
    follow_symlinks: bool,
) -> CorpusScan:
    if documents is not None:
        return CorpusScan(root=Path(corpus_dir or "."), documents=list(documents))
    if corpus_dir is None:
        raise ValueError("pass corpus_dir or documents")
    # Of identical copies, keep the one already indexed, so adding a copy changes nothing.
    return scan_corpus(
        Path(corpus_dir),
        max_bytes=max_bytes,
        prefer=prev.manifest.documents if prev else (),
        limits=limits,
        follow_symlinks=follow_symlinks,
    )


def _up_to_date(reuse: Index, scan: CorpusScan, store: StoreSettings) -> bool:
    """Nothing to do: same documents, same store, and the same skipped files and
    duplicates (recorded too, so `stale` does not report them as new)."""
    m = reuse.manifest
    docs = {d.doc_id: d.sha256 for d in scan.documents}
    return (
        docs == {doc_id: meta.sha256 for doc_id, meta in m.documents.items()}
        and (m.store.name, m.store.requested, m.store.uri) == (store.name, store.index_type, store.uri)
        and dict(m.skipped) == {s.path: s.reason for s in scan.skipped}
        and dict(m.duplicates) == {d.path: d.same_as for d in scan.duplicates}
    )


def _plan(
    docs: list[Document],
    reuse: Index | None,
    settings: IndexSettings,
    embedder: Embedder,
    report: BuildReport,
) -> _Plan:
    """Keep the rows of unchanged documents; chunk the new and changed ones."""
    prev_docs = reuse.manifest.documents if reuse else {}
    prev_rows: dict[str, list[int]] = {}
    if reuse is not None:
        for i, p in enumerate(reuse.passages):
            prev_rows.setdefault(p.doc_id, []).append(i)
    plan = _Plan()
    for doc in docs:
        meta = prev_docs.get(doc.doc_id)
        if reuse is not None and meta is not None and meta.sha256 == doc.sha256 and doc.doc_id in prev_rows:
            rows = prev_rows[doc.doc_id]
            plan.entries.append((doc, [reuse.passages[i] for i in rows], rows))
            report.unchanged.append(doc.doc_id)
            continue
        (report.changed if meta is not None else report.added).append(doc.doc_id)
        passages = chunk(doc, settings=settings, token_spans=embedder.token_spans)
        plan.entries.append((doc, passages, None))
        plan.to_embed.extend(passages)
    return plan


def _assemble(
    plan: _Plan,
    reuse: Index | None,
    settings: IndexSettings,
    embedder: Embedder,
    checkpoint: EmbeddingCheckpoint,
    *,
    show_progress: bool,
) -> _Rows:
    """Embed the planned passages and lay out every row of the new snapshot: reused rows
    copy their vectors (and sentences) from the previous snapshot."""
    # Each new passage's sentences get vectors too: they drive best-sentence
    # reranking, highlighting and the abstention confidence.
    new_sentences = [passage_sentences(p) for p in plan.to_embed] if settings.sentence_vectors else []
    new_texts = [context_text(p, settings, embedder) for p in plan.to_embed]
    new_vectors, new_sentence_vectors, embedded = embed_resumable(
        embedder, plan.to_embed, new_texts, new_sentences, settings, checkpoint, show_progress=show_progress
    )
    dim = embedder.dimension
    old_vectors = reuse.load_vectors() if reuse is not None else None
    old_sentences = reuse.sentences if (reuse is not None and settings.sentence_vectors) else None
    # Nothing reused: every row is new and in embedding order, so the embedded arrays
    # are the snapshot's as they are (no second copy of the vectors in memory).
    all_new = len(plan.to_embed) == plan.passages and len(new_vectors) == plan.passages
    vectors = new_vectors if all_new else np.zeros((plan.passages, dim), dtype=np.float32)
    passages: list[Passage] = []
    texts: list[str] = []
    sentence_rows: list[np.ndarray] = []
    sentence_vecs: list[np.ndarray] = []
    k = s_at = 0
    for _doc, doc_passages, rows in plan.entries:
        for j, p in enumerate(doc_passages):
            row = len(passages)
            if rows is not None and old_vectors is not None:
                vectors[row] = old_vectors[rows[j]]
                texts.append(context_text(p, settings, embedder))
                if old_sentences is not None:
                    a, b = old_sentences.range_of(rows[j])
                    table = old_sentences.table[a:b].copy()
                    table[:, 0] = row
                    sentence_rows.append(table)
                    sentence_vecs.append(np.asarray(old_sentences.vectors[a:b]))
            else:
                if not all_new:
                    vectors[row] = new_vectors[k]
                texts.append(new_texts[k])
                if settings.sentence_vectors:
                    spans = new_sentences[k]
                    sentence_rows.append(
                        np.array([(row, a, b) for a, b in spans], dtype=np.int64).reshape(-1, 3)
                    )
                    if not all_new:
                        sentence_vecs.append(new_sentence_vectors[s_at : s_at + len(spans)])
                    s_at += len(spans)
                k += 1
            passages.append(p)
    sentences = None
    if settings.sentence_vectors:
        sentences = SentenceTable(
            np.concatenate(sentence_rows) if sentence_rows else np.zeros((0, 3), np.int64),
            np.asarray(new_sentence_vectors, dtype=np.float16)
            if all_new
            else np.concatenate(sentence_vecs).astype(np.float16, copy=False)
            if sentence_vecs
            else np.zeros((0, dim), np.float16),
        )
    return _Rows(passages=passages, vectors=vectors, texts=texts, sentences=sentences, embedded=embedded)


def _document_meta(plan: _Plan, prev: Index | None, scan: CorpusScan, now: str) -> dict[str, DocumentMeta]:
    """The manifest's document entries."""
    prev_meta = prev.manifest.documents if prev else {}
    meta: dict[str, DocumentMeta] = {}
    for doc, doc_passages, reused in plan.entries:
        old = prev_meta.get(doc.doc_id)
        meta[doc.doc_id] = DocumentMeta(
            sha256=doc.sha256,
            title=doc.title,
            size=doc.size,
            fmt=doc.fmt,
            passages=len(doc_passages),
            indexed_at=old.indexed_at if (reused is not None and old is not None) else now,
            stat=tuple(scan.stats.get(doc.doc_id, (0, 0))),
        )
    return meta


def _write_snapshot(
    tmp: Path,
    rows: _Rows,
    *,
    manifest: Manifest,
    store_settings: StoreSettings,
    documents: list[Document],
) -> None:
    """Write every file of the snapshot into `tmp`, the manifest (with their checksums) last."""
    save_npy(tmp / "vectors.npy", rows.vectors)
    if rows.sentences is not None:
        rows.sentences.save(tmp)
    store = build_store(rows.vectors, tmp, store_settings)
    BM25Index.build(rows.texts).save(tmp / "bm25")
    # The passage and document tables (checks that every passage is its document's slice).
    _, _, arrays = tables_from_records(documents, rows.passages)
    save_tables(tmp, arrays)
    info = replace(manifest.store, params=store.describe())
    manifest.write_documents(tmp)
    replace(manifest, store=info).with_files(snapshot_files(tmp)).write(tmp)
    store.close()


def build_index(
    corpus_dir: Path | None,
    index_dir: Path,
    *,
    documents: Iterable[Document] | None = None,
    model: str | None = None,
    settings: IndexSettings | None = None,
    index_type: str | None = None,
    store: StoreSettings | None = None,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    show_progress: bool = False,
    backend: str | None = None,
    limits: ExtractionLimits = DEFAULT_LIMITS,
    follow_symlinks: bool = False,
) -> BuildReport:
    """Index `corpus_dir` into `index_dir`, re-embedding only what changed.

    Unchanged documents keep their vectors; changed ones are re-chunked and
    re-embedded; deleted ones are dropped. The new snapshot is written to a temporary
    folder and published atomically, so a crash never leaves a broken index.

    Args:
        corpus_dir: folder of documents (None when `documents` is given).
        index_dir: index folder (created if missing).
        documents: index these documents instead of reading a folder (e.g. a BEIR
            corpus); unchanged ones (same doc_id and sha256) keep their vectors.
        model: model name or folder; default: the index's model, else all-MiniLM-L6-v2.
        settings: chunk settings; default: the index's, else `IndexSettings()`.
        index_type: the store's index kind (FAISS: `auto`, `flat`, `hnsw`, `ivfsq8`,
            `ivfpq`); default: the index's, else `auto`. Shorthand for `store`.
        store: vector store settings; default: the index's, else `StoreSettings.from_env()`.
        rebuild: ignore the existing index and embed everything again.
        embedder: an already loaded embedder (overrides `model`).
        max_bytes: files larger than this are skipped.
        show_progress: show a progress bar while embedding.
        backend: embedding backend (`torch`, `onnx`, `onnx-int8`); default: the
            index's, else `QA_BACKEND`, else the default backend.
        limits: per-file extraction budgets (time, pages, decompressed bytes, nesting
            depth, characters); a file over one is skipped with the limit named.
        follow_symlinks: read symbolic links that resolve inside the corpus folder
            (by default every link is skipped with a reason).
    """
    t0 = time.perf_counter()
    index_store = IndexStore(index_dir)
    report = BuildReport()
    with index_store.lock():
        prev = _load_previous(index_dir, report)
        chosen = _choose_model(prev, model, embedder, backend)
        settings = settings or (prev.settings if prev else IndexSettings())
        if store is None:
            store = prev.manifest.store.settings if prev else StoreSettings.from_env()
        if index_type is not None:
            store = replace(store, index_type=str(index_type).lower())
        reuse = prev
        if prev is not None:
            report.full_rebuild_reason = _why_not_reuse(prev, chosen, settings, rebuild)
            reuse = None if report.full_rebuild_reason else prev

        scan = _scan(corpus_dir, documents, prev, max_bytes, limits, follow_symlinks)
        report.skipped, report.duplicates, report.notes = scan.skipped, scan.duplicates, scan.notes
        docs = sorted(scan.documents, key=lambda d: d.doc_id)
        if reuse is not None and _up_to_date(reuse, scan, store):
            report.unchanged = [d.doc_id for d in docs]
            report.passages = len(reuse.passages)
            shutil.rmtree(Path(index_dir) / PARTIAL, ignore_errors=True)  # an interrupted build's, now moot
            report.seconds = time.perf_counter() - t0
            return report

        if embedder is None:
            embedder = load_embedder(chosen.name, backend=chosen.backend)
            if embedder.fingerprint() != chosen.fingerprint:
                raise IndexMismatchError(f"model {chosen.name} changed while indexing; run `qa index` again")
        settings.check_model_limit(embedder.max_tokens)
        plan = _plan(docs, reuse, settings, embedder, report)
        current_ids = {d.doc_id for d in docs}
        old_docs = prev.manifest.documents if prev else {}
        report.removed = sorted(d for d in old_docs if d not in current_ids)
        if prev is not None and reuse is None:
            # Everything is re-embedded; report docs by comparison with the old index.
            report.changed = [d for d in report.added if d in old_docs]
            report.added = [d for d in report.added if d not in old_docs]
        report.passages = plan.passages
        checkpoint = EmbeddingCheckpoint(
            index_dir, fingerprint=embedder.fingerprint(), backend=embedder.backend, settings=settings
        )
        rows = _assemble(plan, reuse, settings, embedder, checkpoint, show_progress=show_progress)
        report.embedded = rows.embedded
        report.resumed = len(plan.to_embed) - rows.embedded

        now = utc_now()
        doc_meta = _document_meta(plan, prev, scan, now)
        manifest = Manifest(
            qa_version=__version__,
            built_at=now,
            corpus=str(Path(corpus_dir).resolve()) if corpus_dir else None,
            model=ModelInfo(
                name=embedder.name,
                fingerprint=embedder.fingerprint(),
                dimension=embedder.dimension,
                max_tokens=embedder.max_tokens,
                backend=embedder.backend,
            ),
            settings=settings,
            store=StoreInfo(name=store.name, requested=store.index_type, uri=store.uri),
            bm25=BM25_INFO,
            documents=doc_meta,
            skipped={s.path: s.reason for s in scan.skipped},
            duplicates={d.path: d.same_as for d in scan.duplicates},
            passages=len(rows.passages),
        )
        tmp = index_store.new_snapshot()
        try:
            _write_snapshot(
                tmp,
                rows,
                manifest=manifest,
                store_settings=store,
                documents=[doc for doc, _, _ in plan.entries],
            )
            # Keep the snapshot being replaced (it loaded intact) for `qa index --recover`.
            report.snapshot = index_store.publish(tmp, previous=prev.path if prev is not None else None)
            checkpoint.clear()
        except BaseException:
            # Leave the live snapshot untouched and free the space now (a killed build's
            # temp folder is removed by the next writer).
            shutil.rmtree(tmp, ignore_errors=True)
            logger.error("index build failed; the previous index is unchanged")
            raise
        report.seconds = time.perf_counter() - t0
        return report
