"""BEIR benchmarks: read corpus/queries/qrels, index the corpus separately, score documents."""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.config import IndexSettings, StoreSettings
from qa.embedding import Embedder
from qa.errors import InputError, QAError
from qa.evaluation.runner import document_items
from qa.index import Index
from qa.indexing import BuildReport, build_index
from qa.records import jsonl_records
from qa.types import Document, Hit

__all__ = [
    "BEIR_INDEX_ROOT",
    "BeirSet",
    "beir_index_dir",
    "document_run",
    "ensure_beir_index",
    "load_beir",
    "read_corpus",
    "read_qrels",
    "read_queries",
]

logger = logging.getLogger(__name__)

# BEIR corpora get their own index folders, never the user's `embeddings/`.
BEIR_INDEX_ROOT = Path("embeddings-beir")
# Documents added per published snapshot while building a BEIR index (resumable).
BUILD_STEP = 1000


@dataclass(frozen=True)
class BeirSet:
    """One BEIR split: documents, the queries judged in that split, and their qrels.

    `queries` is `{qid: text}` and `qrels` is `{qid: {doc_id: relevance}}` (ranx/BEIR shapes).
    """

    name: str
    folder: Path
    split: str
    documents: list[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _need(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InputError(
            f"BEIR {what} {str(path)!r} not found; a BEIR folder holds corpus.jsonl, "
            "queries.jsonl and qrels/<split>.tsv"
        )
    return path


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    # Streamed line by line: BEIR corpora can be large.
    with path.open(encoding="utf-8") as f:
        for record in jsonl_records(f):
            n, row = record.line, record.value
            if record.error is not None:
                raise InputError(f"{path}:{n}: invalid JSON ({record.error}); fix or remove the line")
            if not isinstance(row, dict) or "_id" not in row:
                raise InputError(f"{path}:{n}: expected an object with an '_id' field")
            yield n, row


def read_corpus(path: Path) -> list[Document]:
    """BEIR `corpus.jsonl` -> Documents whose text is `title + "\\n\\n" + text`.

    The title is part of the indexed text, so passage offsets (and citations) cover
    it; the document id is BEIR's `_id`.
    """
    docs: list[Document] = []
    seen: set[str] = set()
    for n, row in _jsonl(_need(path, "corpus")):
        doc_id = str(row["_id"])
        if doc_id in seen:
            raise InputError(f"{path}:{n}: duplicate document id {doc_id!r}; ids must be unique")
        seen.add(doc_id)
        title = str(row.get("title") or "").strip()
        body = str(row.get("text") or "")
        text = f"{title}\n\n{body}" if title else body
        if not text.strip():
            logger.warning("%s:%d: document %s is empty; skipped", path, n, doc_id)
            continue
        docs.append(
            Document(
                doc_id=doc_id,
                title=title or body[:200],
                text=text,
                sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                size=len(text.encode("utf-8")),
                fmt="txt",
            )
        )
    return docs


def read_queries(path: Path) -> dict[str, str]:
    """BEIR `queries.jsonl` -> `{qid: text}` (the `metadata` field is ignored)."""
    return {str(row["_id"]): str(row.get("text") or "") for _, row in _jsonl(_need(path, "queries"))}


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR `qrels/<split>.tsv` (header `query-id corpus-id score`) -> `{qid: {doc_id: score}}`."""
    qrels: dict[str, dict[str, int]] = {}
    with _need(path, "qrels").open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if not row or (n == 1 and row[0].strip() == "query-id"):
                continue
            if len(row) < 3:
                raise InputError(f"{path}:{n}: expected 3 tab-separated columns query-id, corpus-id, score")
            try:
                score = int(float(row[2]))
            except ValueError:
                raise InputError(f"{path}:{n}: score {row[2]!r} is not a number") from None
            qrels.setdefault(row[0].strip(), {})[row[1].strip()] = score
    return qrels


def load_beir(folder: Path | str, *, split: str = "test") -> BeirSet:
    """Read a BEIR folder; keep only the queries judged in `split`.

    Raises InputError if a file is missing or a qrel names an unknown query.
    """
    folder = Path(folder)
    documents = read_corpus(folder / "corpus.jsonl")
    all_queries = read_queries(folder / "queries.jsonl")
    qrels = read_qrels(folder / "qrels" / f"{split}.tsv")
    missing = sorted(q for q in qrels if q not in all_queries)
    if missing:
        raise InputError(
            f"qrels/{split}.tsv names {len(missing)} queries missing from queries.jsonl "
            f"(e.g. {missing[:3]}); check the BEIR folder"
        )
    # Relevance 0 means judged not relevant: it stays in the qrels (ranx ignores it).
    queries = {qid: all_queries[qid] for qid in qrels}
    name = folder.resolve().name
    logger.info("BEIR %s/%s: %d documents, %d queries", name, split, len(documents), len(queries))
    return BeirSet(name=name, folder=folder, split=split, documents=documents, queries=queries, qrels=qrels)


def beir_index_dir(beir: BeirSet) -> Path:
    """The default index folder of a BEIR corpus: `embeddings-beir/<name>/`."""
    return BEIR_INDEX_ROOT / beir.name


def ensure_beir_index(
    beir: BeirSet,
    index_dir: Path | None = None,
    *,
    model: str | None = None,
    embedder: Embedder | None = None,
    settings: IndexSettings | None = None,
    index_type: str | None = None,
    store: StoreSettings | None = None,
    show_progress: bool = False,
    step: int | None = BUILD_STEP,
) -> BuildReport:
    """Build the BEIR corpus's own index, or reuse it when it is up to date.

    Incremental like `qa index`: only new or changed documents are embedded.
    `settings` default: the existing index's, else `IndexSettings()`. The corpus is
    indexed in growing prefixes of `step` documents, each published as a snapshot,
    so an interrupted build resumes where it stopped (None: in one go).
    `index_type` and `store` are passed to `build_index` (None: the index's own).
    """
    index_dir = Path(index_dir) if index_dir is not None else beir_index_dir(beir)
    docs = beir.documents
    # Steps the index already covers are skipped: building a prefix smaller than what is
    # indexed would drop the rest from the live snapshot and embed it all again.
    covered = _indexed_prefix(index_dir, docs)
    sizes = [n for n in range(step, len(docs), step) if n > covered] if step else []
    report = BuildReport()
    for n in [*sizes, len(docs)]:
        report = build_index(
            None,
            index_dir,
            documents=docs[:n],
            model=model,
            embedder=embedder,
            settings=settings,
            index_type=index_type,
            store=store,
            show_progress=show_progress,
        )
        if n < len(docs) and not report.up_to_date:
            logger.info("indexed %d of %d documents of %s", n, len(docs), beir.name)
    logger.info("%s", report.summary())
    return report


def _indexed_prefix(index_dir: Path, docs: Sequence[Document]) -> int:
    """How many leading documents of `docs` the live index already holds unchanged."""
    try:
        indexed = Index.load(index_dir, verify=False).manifest.documents
    except QAError:
        return 0
    for i, doc in enumerate(docs):
        meta = indexed.get(doc.doc_id)
        if meta is None or meta.sha256 != doc.sha256:
            return i
    return len(docs)


def document_run(hits: Sequence[Hit], *, k: int = 100) -> dict[str, float]:
    """Passage hits -> the top-k documents `{doc_id: score}`, best first.

    A document's score is the best score of its passages. The returned scores are
    monotone in that order (k, k-1, ..., 1) so the evaluation library sees exactly the
    retriever's ranking, whose ties are broken by (-score, passage_id).
    """
    order = [doc_id for doc_id, _, _ in document_items(hits, k=k)]
    return {doc_id: float(len(order) - i) for i, doc_id in enumerate(order)}
