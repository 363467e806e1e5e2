"""Indexing throughput on SciFact: `qa index` end to end vs the raw encoder, per backend, and nDCG@10.

For each backend, in one run: build the index from the 5,183 abstracts (model already
loaded), then encode exactly the same passage texts with the raw encoder (same batch
size), then score SciFact's 300 test claims (dense and hybrid nDCG@10 with ranx).

Run: `.venv/bin/python bench/indexing.py [--backends torch,onnx-int8] [--limit N]`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SCIFACT, machine, table, write_section  # noqa: E402

logger = logging.getLogger("bench.indexing")


def scifact_documents(limit: int | None = None, *, keep: set[str] | None = None):
    """SciFact abstracts as qa Documents: title + blank line + text.

    With `limit`, a subset: every abstract in `keep` (the judged ones, so each test claim
    can still find its evidence) and then the first ones of the file up to `limit`.
    """
    from qa.types import Document

    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    if limit:
        keep = keep or set()
        first = [r for r in rows if str(r["_id"]) in keep]
        rest = [r for r in rows if str(r["_id"]) not in keep]
        rows = first + rest[: max(0, limit - len(first))]
    docs = []
    for row in rows:
        text = f"{row['title']}\n\n{row['text']}"
        data = text.encode("utf-8")
        docs.append(
            Document(
                doc_id=str(row["_id"]),
                title=row["title"],
                text=text,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                fmt="txt",
            )
        )
    return docs


def scifact_queries() -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """The 300 test claims {qid: text} and their qrels {qid: {doc_id: relevance}}."""
    qrels: dict[str, dict[str, int]] = {}
    with (SCIFACT / "qrels" / "test.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels.setdefault(row["query-id"].strip(), {})[row["corpus-id"].strip()] = int(row["score"])
    queries = {}
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries[str(row["_id"])] = row["text"]
    return queries, qrels


def ndcg10(retriever, queries: dict[str, str], qrels: dict[str, dict[str, int]], mode: str) -> float:
    """nDCG@10 over documents; a document's score is its best passage's (BEIR's convention)."""
    from ranx import Qrels, Run, evaluate

    qids = list(queries)
    results = retriever.search_many([queries[q] for q in qids], k=100, mode=mode)
    run: dict[str, dict[str, float]] = {}
    for qid, hits in zip(qids, results):
        docs: dict[str, float] = {}
        n = len(hits)
        for hit in hits:
            # Rank-based score: comparable across modes, ties impossible.
            docs.setdefault(hit.passage.doc_id, float(n - hit.rank + 1))
        run[qid] = docs or {"__none__": 0.0}
    return float(evaluate(Qrels(qrels), Run(run), "ndcg@10"))


def raw_encode(embedder, texts: list[str]) -> float:
    """Seconds for the bare encoder over `texts` at the embedder's batch size."""
    t0 = time.perf_counter()
    model = getattr(embedder, "_model", None)
    if model is not None:  # sentence-transformers: exactly model.encode
        from qa.embedding import normalize_for_model

        model.encode(
            [normalize_for_model(t) for t in texts],
            batch_size=embedder.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    else:
        embedder.embed(texts)
    return time.perf_counter() - t0


def bench_backend(backend: str, docs, queries, qrels, tmp: Path) -> dict:
    from qa.embedding import load_embedder
    from qa.encoding import context_text
    from qa.index import Index
    from qa.indexing import build_index
    from qa.retrieval import Retriever

    t0 = time.perf_counter()
    embedder = load_embedder(None, backend=backend)
    load_s = time.perf_counter() - t0
    embedder.embed(["warm-up text"] * 4)
    out = tmp / backend
    t0 = time.perf_counter()
    report = build_index(None, out, documents=docs, embedder=embedder)
    build_s = time.perf_counter() - t0
    index = Index.load(out)
    texts = [context_text(p, index.settings, embedder) for p in index.passages]
    raw_s = raw_encode(embedder, texts)
    # Sentence vectors are pooled from the passages' own forward pass (late pooling), so
    # the encoder's work is the passages alone; count the sentences the index holds.
    sentences = len(index.sentences) if index.sentences is not None else 0
    tokens = sum(len(embedder.token_spans(t)) for t in texts)
    retriever = Retriever(index, embedder=embedder)
    ndcg = {mode: ndcg10(retriever, queries, qrels, mode) for mode in ("dense", "hybrid")}
    res = {
        "backend": backend,
        "load_s": load_s,
        "passages": report.passages,
        "tokens": tokens,
        "build_s": build_s,
        "raw_s": raw_s,
        "e2e_pps": report.passages / build_s,
        "raw_pps": len(texts) / raw_s,
        "sentences": sentences,
        "pooling": index.settings.sentence_pooling if index.settings.sentence_vectors else "none",
        "ndcg_dense": ndcg["dense"],
        "ndcg_hybrid": ndcg["hybrid"],
    }
    logger.warning("%s", res)
    return res


def bench_indexing(*, backends: list[str], limit: int | None = None) -> str:
    queries, qrels = scifact_queries()
    judged = {d for rel in qrels.values() for d in rel}
    docs = scifact_documents(limit, keep=judged)
    results = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-index-") as tmp:
        for backend in backends:
            results.append(bench_backend(backend, docs, queries, qrels, Path(tmp)))
    base = results[0]
    rows = []
    for r in results:
        rows.append(
            [
                r["backend"],
                f"{r['raw_pps']:.1f} ({r['tokens'] / r['raw_s'] / 1000:.1f}k tok/s)",
                f"{r['e2e_pps']:.1f}",
                f"{r['e2e_pps'] / r['raw_pps']:.0%}",
                f"{r['build_s']:.0f} s",
                f"{r['load_s']:.1f} s",
                f"{r['ndcg_dense']:.4f} ({r['ndcg_dense'] - base['ndcg_dense']:+.4f})",
                f"{r['ndcg_hybrid']:.4f} ({r['ndcg_hybrid'] - base['ndcg_hybrid']:+.4f})",
                f"{r['e2e_pps'] / base['e2e_pps']:.2f}x",
            ]
        )
    n = results[0]["passages"]
    return (
        f"Machine: {machine()}.\n\n"
        f"SciFact ({len(docs)} abstracts as title + text"
        + (" - a subset: all judged abstracts, then the first of the file" if limit else "")
        + f", {n} passages, "
        f"{results[0]['tokens'] / n:.0f} word pieces per passage on average, "
        f"{results[0]['sentences']} sentence vectors, {results[0]['pooling']} pooling, so "
        "the encoder reads the passages only), batch 32. "
        "Raw encoder = `model.encode` (torch) or the ONNX session with tokenisation "
        "(onnx) on the very passages the index holds, measured in the same run right after "
        "the build; end to end = `build_index` (chunking, embedding, BM25, FAISS, writing "
        "the snapshot) with the model already loaded. nDCG@10 on the 300 test claims, "
        "documents ranked by their best passage (in brackets: difference to the first row). "
        "One run per backend. Command: `.venv/bin/python bench/indexing.py "
        f"--backends {','.join(backends)}{f' --limit {limit}' if limit else ''}`.\n\n"
        + table(
            [
                "backend",
                "raw encoder passages/s",
                "qa index passages/s",
                "index / raw",
                "build time",
                "model load",
                "nDCG@10 dense",
                "nDCG@10 hybrid",
                "speed-up vs first",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backends", default="torch,onnx-int8")
    p.add_argument("--limit", type=int, default=None, help="index only the first N abstracts")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    body = bench_indexing(backends=args.backends.split(","), limit=args.limit)
    print(body)
    if not args.no_write:
        write_section("Indexing throughput (SciFact)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
