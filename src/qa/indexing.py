"""Build or update an index from a corpus folder, incrementally and atomically."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from qa import __version__
from qa.chunking import chunk
from qa.config import Context, IndexSettings, SentencePooling
from qa.embedding import Embedder, load_embedder, model_fingerprint, resolve_backend, resolve_model
from qa.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from qa.index import FORMAT_VERSION, MANIFEST, Index, snapshot_files, write_jsonl
from qa.ingest import DEFAULT_MAX_BYTES, CorpusScan, Duplicate, Note, Skipped, scan_corpus
from qa.lexical import BM25Index
from qa.sentences import SentenceTable, passage_sentences
from qa.storage import IndexStore
from qa.types import Document, Passage
from qa.vectors import IndexType, VectorIndex, choose_index_type

__all__ = ["BuildReport", "build_index", "context_text"]

logger = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What `build_index` did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    snapshot: Path | None = None
    full_rebuild_reason: str | None = None
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return self.snapshot is None

    def summary(self) -> str:
        if self.up_to_date:
            head = f"index is up to date: {len(self.unchanged)} documents, {self.passages} passages"
        else:
            head = (
                f"indexed {len(self.added) + len(self.changed) + len(self.unchanged)} documents, "
                f"{self.passages} passages ({self.embedded} embedded) in {self.seconds:.1f}s"
            )
        lines = [head]
        if self.full_rebuild_reason:
            lines.append(f"  full rebuild: {self.full_rebuild_reason}")
        for what, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                lines.append(
                    f"  {what} ({len(names)}): " + ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
                )
        for s in self.skipped:
            lines.append(f"  skipped {s.path}: {s.reason}")
        for d in self.duplicates:
            lines.append(f"  skipped {d.path}: duplicate of {d.same_as} (identical text)")
        for n in self.notes:
            lines.append(f"  note {n.path}: {n.message}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": len(self.unchanged),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "passages": self.passages,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "snapshot": str(self.snapshot) if self.snapshot else None,
            "full_rebuild_reason": self.full_rebuild_reason,
            "duplicates": [{"path": d.path, "same_as": d.same_as} for d in self.duplicates],
            "notes": [{"path": n.path, "message": n.message} for n in self.notes],
        }


def _cut_to_tokens(text: str, embedder: Embedder, n: int) -> str:
    spans = embedder.token_spans(text)
    return text if len(spans) <= n else text[: spans[n - 1][1]]


def context_text(passage: Passage, settings: IndexSettings, embedder: Embedder | None = None) -> str:
    """The text that is embedded and BM25-indexed for a passage: context + passage."""
    ctx = ""
    if settings.context in (Context.TITLE.value, Context.HEADING.value):
        ctx = passage.title
    if settings.context == Context.HEADING.value and passage.heading and passage.heading != passage.title:
        ctx = f"{passage.title} - {passage.heading}"
    # Skip the context when the passage already starts with it (e.g. the title paragraph).
    if not ctx or passage.text.startswith(ctx):
        return passage.text
    if embedder is not None and settings.context_tokens:
        ctx = _cut_to_tokens(ctx, embedder, settings.context_tokens)
    return f"{ctx}\n{passage.text}"


def _embed_passages(
    embedder: Embedder,
    passages: list[Passage],
    texts: list[str],
    sentences: list[list[tuple[int, int]]],
    settings: IndexSettings,
    *,
    show_progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors (of `texts`) and the vectors of their `sentences`, in order.

    With `late` pooling each passage is read once, in pieces (context prefix, then the
    passage cut at its sentence spans), and a sentence's vector pools its tokens from
    that pass. Otherwise sentences are embedded on their own, in the same call.
    """
    n_sentences = sum(len(s) for s in sentences)
    logger.info("embedding %d passages and %d sentences with %s", len(passages), n_sentences, embedder.name)
    if not sentences:
        return embedder.embed(texts, show_progress=show_progress), np.zeros(
            (0, embedder.dimension), np.float32
        )
    if settings.sentence_pooling == SentencePooling.LATE.value:
        pieces, picks = [], []
        for p, text, spans in zip(passages, texts, sentences):
            prefix = text[: len(text) - len(p.text)]  # the context before the passage text
            parts, sentence_parts, at = [prefix], [], p.start
            for a, b in spans:
                parts.append(p.text[at - p.start : a - p.start])  # the gap (usually whitespace)
                sentence_parts.append(len(parts))
                parts.append(p.text[a - p.start : b - p.start])
                at = b
            parts.append(p.text[at - p.start :])
            pieces.append(parts)
            picks.append(sentence_parts)
        vectors, piece_vectors = embedder.embed_pieces(pieces, show_progress=show_progress)  # type: ignore[attr-defined]
        chosen = [pv[idx] for pv, idx in zip(piece_vectors, picks)]
        return vectors, np.concatenate(chosen) if chosen else np.zeros((0, embedder.dimension), np.float32)
    texts_all = texts + [
        p.text[a - p.start : b - p.start] for p, spans in zip(passages, sentences) for a, b in spans
    ]
    vectors = embedder.embed(texts_all, show_progress=show_progress)
    return vectors[: len(texts)], vectors[len(texts) :]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def build_index(
    corpus_dir: Path | None,
    index_dir: Path,
    *,
    documents: Iterable[Document] | None = None,
    model: str | None = None,
    settings: IndexSettings | None = None,
    index_type: str | IndexType | None = None,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    show_progress: bool = False,
    backend: str | None = None,
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
        index_type: FAISS index kind (`auto`, `flat`, `hnsw`, `ivfpq`).
        rebuild: ignore the existing index and embed everything again.
        embedder: an already loaded embedder (overrides `model`).
        max_bytes: files larger than this are skipped.
        show_progress: show a progress bar while embedding.
        backend: embedding backend (`torch`, `onnx`, `onnx-int8`); default: the
            index's, else `QA_BACKEND`, else the default backend.
    """
    t0 = time.perf_counter()
    store = IndexStore(index_dir)
    report = BuildReport()
    with store.lock():
        prev: Index | None = None
        try:
            prev = Index.load(index_dir)
        except IndexNotFoundError:
            pass
        except (IndexCorruptError, IndexMismatchError) as exc:
            report.full_rebuild_reason = f"previous index unusable ({exc})"
            logger.warning("previous index unusable, rebuilding: %s", exc)

        # Decide what can be reused before loading the model: an up-to-date index
        # needs only a hash of the weights, not a model load.
        if embedder is not None:
            if model is not None and resolve_model(model)[0] != embedder.name:
                raise ValueError("pass either model or embedder, not both")
            model_name, fingerprint = embedder.name, embedder.fingerprint()
        else:
            model_name, model_path = resolve_model(model or (prev.model_name if prev else None))
            fingerprint = model_fingerprint(model_path)
        if settings is None:
            settings = prev.settings if prev else IndexSettings()
        if (
            embedder is not None
            and settings.sentence_vectors
            and settings.sentence_pooling == SentencePooling.LATE.value
            and not hasattr(embedder, "embed_pieces")
        ):
            logger.info(
                "%s cannot pool sentences from its passages; embedding them separately", embedder.name
            )
            settings = replace(settings, sentence_pooling=SentencePooling.SEPARATE.value)
        # Indexes from before backends were recorded are torch; None = a custom embedder.
        prev_backend = prev.manifest["model"].get("backend", "torch") if prev else None
        if embedder is not None:
            backend = getattr(embedder, "backend", None)
        else:
            backend = resolve_backend(backend or prev_backend)
        requested_type = index_type or (prev.manifest["faiss"].get("requested", "auto") if prev else "auto")

        reuse = prev
        if prev is not None and rebuild:
            report.full_rebuild_reason, reuse = "--rebuild was given", None
        elif prev is not None and prev.model_name != model_name:
            report.full_rebuild_reason = f"model changed from {prev.model_name} to {model_name}"
            reuse = None
        elif prev is not None and prev.model_fingerprint != fingerprint:
            report.full_rebuild_reason = f"weights of model {model_name} changed"
            reuse = None
        elif prev is not None and None not in (prev_backend, backend) and prev_backend != backend:
            # Backends agree to ~0.99 cosine, not exactly: never mix them in one index.
            report.full_rebuild_reason = f"embedding backend changed from {prev_backend} to {backend}"
            reuse = None
        elif prev is not None and prev.settings != settings:
            report.full_rebuild_reason = "chunk settings changed"
            reuse = None

        if documents is not None:
            scan = CorpusScan(root=Path(corpus_dir or "."), documents=list(documents))
        elif corpus_dir is None:
            raise ValueError("pass corpus_dir or documents")
        else:
            # Of identical copies, keep the one already indexed, so adding a copy changes nothing.
            scan = scan_corpus(
                Path(corpus_dir), max_bytes=max_bytes, prefer=prev.manifest["documents"] if prev else ()
            )
        report.skipped = scan.skipped
        report.duplicates = scan.duplicates
        report.notes = scan.notes
        prev_docs = reuse.manifest["documents"] if reuse else {}
        old_vectors = reuse.load_vectors() if reuse else None
        prev_rows: dict[str, list[int]] = {}
        if reuse:
            for i, p in enumerate(reuse.passages):
                prev_rows.setdefault(p.doc_id, []).append(i)

        docs: list[Document] = sorted(scan.documents, key=lambda d: d.doc_id)
        changed_docs = [
            d
            for d in docs
            if d.doc_id not in prev_rows or prev_docs.get(d.doc_id, {}).get("sha256") != d.sha256
        ]
        same_type = reuse is not None and reuse.manifest["faiss"].get("requested", "auto") == str(
            getattr(requested_type, "value", requested_type)
        )
        current_ids = {d.doc_id for d in docs}
        removed_any = any(d not in current_ids for d in prev_docs)
        # Skipped files and duplicates are recorded too, so `stale` does not report them as new.
        same_listing = reuse is not None and (
            reuse.manifest.get("skipped", {}) == {s.path: s.reason for s in scan.skipped}
            and reuse.manifest.get("duplicates", {}) == {d.path: d.same_as for d in scan.duplicates}
        )
        if reuse is not None and not changed_docs and not removed_any and same_type and same_listing:
            report.unchanged = [d.doc_id for d in docs]
            report.passages = len(reuse.passages)
            report.seconds = time.perf_counter() - t0
            return report
        if embedder is None:
            # (The default backend is loaded without the keyword, as tests stub it.)
            if backend == resolve_backend(None):
                embedder = load_embedder(model_name)
            else:
                embedder = load_embedder(model_name, backend=backend)
            if embedder.fingerprint() != fingerprint:
                raise IndexMismatchError(f"model {model_name} changed while indexing; run `qa index` again")
        settings.check_model_limit(embedder.max_tokens)
        plan: list[tuple[Document, list[Passage], list[int] | None]] = []
        to_embed: list[Passage] = []
        for doc in docs:
            meta = prev_docs.get(doc.doc_id)
            if meta is not None and meta["sha256"] == doc.sha256 and doc.doc_id in prev_rows:
                rows = prev_rows[doc.doc_id]
                plan.append((doc, [reuse.passages[i] for i in rows], rows))  # type: ignore[union-attr]
                report.unchanged.append(doc.doc_id)
                continue
            (report.changed if meta is not None else report.added).append(doc.doc_id)
            passages = chunk(doc, settings=settings, token_spans=embedder.token_spans)
            plan.append((doc, passages, None))
            to_embed.extend(passages)
        report.removed = sorted(d for d in prev_docs if d not in current_ids)
        if prev is not None and reuse is None:
            # Everything is re-embedded; report docs by comparison with the old index.
            old = prev.manifest["documents"]
            report.changed = [d for d in report.added if d in old]
            report.added = [d for d in report.added if d not in old]
            report.removed = sorted(d for d in old if d not in current_ids)

        report.passages = sum(len(p) for _, p, _ in plan)

        # Each new passage's sentences get vectors too: they drive best-sentence
        # reranking, highlighting and the abstention confidence.
        new_sentences = [passage_sentences(p) for p in to_embed] if settings.sentence_vectors else []
        passage_texts = [context_text(p, settings, embedder) for p in to_embed]
        new_vectors, new_sentence_vectors = _embed_passages(
            embedder, to_embed, passage_texts, new_sentences, settings, show_progress=show_progress
        )
        report.embedded = len(to_embed)

        dim = embedder.dimension
        vectors = np.zeros((report.passages, dim), dtype=np.float32)
        passages: list[Passage] = []
        texts: list[str] = []  # what BM25 indexes: the embedded text of every passage
        sentence_rows: list[np.ndarray] = []
        sentence_vecs: list[np.ndarray] = []
        old_sentences = reuse.sentences if (reuse is not None and settings.sentence_vectors) else None
        k = 0
        s_at = 0
        for _doc, doc_passages, rows in plan:
            for j, p in enumerate(doc_passages):
                row = len(passages)
                if rows is not None:
                    vectors[row] = old_vectors[rows[j]]  # type: ignore[index]
                    texts.append(context_text(p, settings, embedder))
                    if old_sentences is not None:
                        a, b = old_sentences.range_of(rows[j])
                        table = old_sentences.table[a:b].copy()
                        table[:, 0] = row
                        sentence_rows.append(table)
                        sentence_vecs.append(np.asarray(old_sentences.vectors[a:b]))
                else:
                    vectors[row] = new_vectors[k]
                    texts.append(passage_texts[k])
                    if settings.sentence_vectors:
                        spans = new_sentences[k]
                        sentence_rows.append(
                            np.array([(row, a, b) for a, b in spans], dtype=np.int64).reshape(-1, 3)
                        )
                        sentence_vecs.append(new_sentence_vectors[s_at : s_at + len(spans)])
                        s_at += len(spans)
                    k += 1
                passages.append(p)

        tmp = store.new_snapshot()
        try:
            np.save(tmp / "vectors.npy", vectors)
            if settings.sentence_vectors:
                SentenceTable(
                    np.concatenate(sentence_rows) if sentence_rows else np.zeros((0, 3), np.int64),
                    np.concatenate(sentence_vecs).astype(np.float16)
                    if sentence_vecs
                    else np.zeros((0, dim), np.float16),
                ).save(tmp)
            kind = choose_index_type(len(passages), requested_type)
            VectorIndex.build(vectors, kind=kind).save(tmp / "index.faiss")
            BM25Index.build(texts).save(tmp / "bm25")
            write_jsonl(tmp / "passages.jsonl", [p.to_dict() for p in passages])
            now = _now()
            prev_meta = prev.manifest["documents"] if prev else {}
            doc_meta = {}
            doc_rows = []
            for doc, doc_passages, rows in plan:
                indexed_at = prev_meta.get(doc.doc_id, {}).get("indexed_at", now) if rows is not None else now
                doc_meta[doc.doc_id] = {
                    "sha256": doc.sha256,
                    "title": doc.title,
                    "size": doc.size,
                    "fmt": doc.fmt,
                    "passages": len(doc_passages),
                    "indexed_at": indexed_at,
                    "stat": list(scan.stats.get(doc.doc_id, (0, 0))),
                }
                doc_rows.append(
                    {
                        "doc_id": doc.doc_id,
                        "title": doc.title,
                        "text": doc.text,
                        "sha256": doc.sha256,
                        "size": doc.size,
                        "fmt": doc.fmt,
                        "page_starts": list(doc.page_starts),
                    }
                )
            write_jsonl(tmp / "documents.jsonl", doc_rows)
            manifest = {
                "format": FORMAT_VERSION,
                "qa_version": __version__,
                "built_at": now,
                "corpus": str(Path(corpus_dir).resolve()) if corpus_dir else None,
                "model": {
                    "name": embedder.name,
                    "fingerprint": embedder.fingerprint(),
                    "dimension": dim,
                    "max_tokens": embedder.max_tokens,
                    "backend": getattr(embedder, "backend", None),
                },
                "settings": settings.to_dict(),
                "faiss": {
                    "type": kind.value,
                    "requested": str(getattr(requested_type, "value", requested_type)),
                },
                "bm25": {"library": "bm25s", "k1": 1.2, "b": 0.75, "stemmer": "snowball-english"},
                "counts": {"documents": len(plan), "passages": len(passages)},
                "documents": doc_meta,
                "skipped": {s.path: s.reason for s in scan.skipped},
                "duplicates": {d.path: d.same_as for d in scan.duplicates},
                "files": snapshot_files(tmp),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
            report.snapshot = store.publish(tmp)
        except BaseException:
            # Leave the live snapshot untouched; the next writer removes the temp folder.
            logger.error("index build failed; the previous index is unchanged")
            raise
        report.seconds = time.perf_counter() - t0
        return report
