"""Cached-signal ranking harness (issue #13): retrieve each question's candidate pool once,
save every per-candidate signal, then score fusion formulas in numpy in seconds.

`extract`: for each collection and split, the same candidates the Retriever reranks
(dense top-depth ∪ BM25 top-depth, depth = max(k, 100) with the evaluation's k: 100 for
question sets, 1000 for BEIR) with, per candidate: passage cosine, best-sentence
cosine, BM25 score (and the query's best), dense and BM25 ranks, passage length, the
share of question terms in the passage / best sentence / title+heading, phrase
(adjacent question-term pair) matches, term proximity, and number matches between the
question and the best sentence / passage. Saved as one .npz per collection and split.

`evaluate`: every formula of FORMULAS on the saved pools, metrics as `qa eval` computes
them (passage level: R@1, R@5, MRR@10; BEIR: documents scored by their best passage,
nDCG@10), ties ordered by passage id as the Retriever does.

Run:
  .venv/bin/python eval/scripts/ranking.py extract --out /tmp/rank/pools --split train \
      --collection seeds=/tmp/rank/seeds --collection scifact=/tmp/rank/scifact \
      --collection debian-manuals=/tmp/rank/debian-manuals --collection tools-mixed=/tmp/rank/tools-mixed
  .venv/bin/python eval/scripts/ranking.py evaluate --pools /tmp/rank/pools --split train
"""

from __future__ import annotations

import argparse
import logging
import math
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
from abstention import split_of
from tune import SCIFACT, scifact_train

from qa.config import RetrievalMode
from qa.evaluation import build_qrels
from qa.evaluation.beir import load_beir
from qa.evaluation.questions import read_question_set, validate_quotes
from qa.lexical import tokenize
from qa.retrieval import Retriever
from qa.retrieval.candidates import collect, passage_cosines
from qa.retrieval.hits import sentence_matches
from qa.retrieval.scoring import bm25_fractions

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "eval"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def relevant(name: str, split: str, retriever: Retriever) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Questions {qid: text} and qrels {qid: {item: 1}} (passage ids, or SciFact doc ids)."""
    if name == "scifact":
        if split == "train":
            return scifact_train()
        beir = load_beir(SCIFACT)
        return beir.queries, beir.qrels
    if name == "seeds":
        qs = [q for q in read_question_set(EVAL / "seed_questions.jsonl") if split_of(q.qid) == split]
    else:
        qs = list(read_question_set(EVAL / "collections" / name / f"{split}.jsonl"))
    qs = [q for q in validate_quotes(qs, retriever.index.documents) if q.answers]
    qrels = build_qrels(qs, retriever.index.passages)
    return {q.qid: q.question for q in qs}, {q: r for q, r in qrels.items() if r}


def _share(terms: list[str], tokens: set[str]) -> float:
    return sum(t in tokens for t in terms) / len(terms) if terms else 0.0


def _proximity(terms: set[str], tokens: list[str]) -> float:
    """Distinct question terms matched / length of the shortest window holding them all (0..1)."""
    positions = [(i, t) for i, t in enumerate(tokens) if t in terms]
    want = {t for _, t in positions}
    if len(want) < 2:
        return 0.0
    best, count, left = math.inf, {}, 0
    for i, t in positions:
        count[t] = count.get(t, 0) + 1
        while len(count) == len(want):
            j, u = positions[left]
            best = min(best, i - j + 1)
            count[u] -= 1
            if not count[u]:
                del count[u]
            left += 1
    return len(want) / best


@cache
def _tokens(text: str) -> list[str]:
    return tokenize(text)


_SURFACE = re.compile(r"[A-Za-z][A-Za-z0-9'’\-]*|\d+(?:[.,]\d+)*")
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how is are does do did can could should would "
    "will was were has have in on the a an i if my".split()
)


@cache
def entities(question: str) -> tuple[str, ...]:
    """The question's names, acronyms, numbers and code-like words, as written: numbers,
    all-capital words ("US", "ROS"), capitalised words after the first ("May", "Debian"),
    and words with inner capitals, digits or hyphens ("FoxO3a", "dpkg-deb")."""
    out = []
    for i, t in enumerate(_SURFACE.findall(question)):
        if (
            t[0].isdigit()
            or (len(t) >= 2 and t.isupper())
            or (t[0].isupper() and i > 0 and t.lower() not in _QUESTION_WORDS)
            or any(ch.isupper() for ch in t[1:])
            or any(ch.isdigit() for ch in t)
            or "-" in t.strip("-")
        ):
            out.append(t)
    return tuple(dict.fromkeys(out))


def entity_share(question: str, text: str) -> float:
    """Share of the question's `entities` found verbatim (case-sensitive, whole word) in `text`."""
    ents = entities(question)
    if not ents:
        return 0.0
    words = set(_SURFACE.findall(text))
    return sum(e in words for e in ents) / len(ents)


def lexical_features(question: str, passage: str, sentence: str, title: str) -> list[float]:
    terms = list(dict.fromkeys(_tokens(question)))
    ptoks = _tokens(passage)
    pset = set(ptoks)
    pairs = list(zip(terms, terms[1:]))
    ppairs = set(zip(ptoks, ptoks[1:]))
    numbers = set(_NUMBER.findall(question))
    return [
        _share(terms, pset),
        _share(terms, set(_tokens(sentence))),
        _share(terms, set(_tokens(title))),
        sum(p in ppairs for p in pairs) / len(pairs) if pairs else 0.0,
        _proximity(set(terms), ptoks),
        float(len(numbers)),
        sum(n in set(_NUMBER.findall(sentence)) for n in numbers) / len(numbers) if numbers else 0.0,
        sum(n in set(_NUMBER.findall(passage)) for n in numbers) / len(numbers) if numbers else 0.0,
        float(len(ptoks)),
        entity_share(question, f"{title} {passage}"),
    ]


LEXICAL = (
    "cover",
    "sent_cover",
    "title_cover",
    "phrase",
    "prox",
    "q_numbers",
    "sent_num",
    "pass_num",
    "length",
    "entity",
)


def extract(name: str, index_dir: Path, split: str, out: Path) -> None:
    r = Retriever.open(index_dir, threshold=None)
    index = r.index
    queries, qrels = relevant(name, split, r)
    ids = sorted(qrels)
    depth = max(1000 if name == "scifact" else 100, r.depth)
    texts = [queries[i] for i in ids]
    # One question at a time, as the Retriever embeds a search (int8 activations are
    # quantised per batch, so a batch gives slightly different vectors).
    vectors = np.concatenate([r.embedder.embed([t]) for t in texts])
    found = collect(index, texts, vectors, mode=RetrievalMode.HYBRID, depth=depth, full_bm25=True)
    order = np.argsort(np.argsort([p.passage_id for p in index.passages], kind="stable"))
    doc_ids = sorted({p.doc_id for p in index.passages})
    doc_of = {d: i for i, d in enumerate(doc_ids)}
    cols: dict[str, list] = {
        k: []
        for k in (
            "query",
            "row",
            "pid_rank",
            "doc",
            "rel",
            "passage",
            "sentence",
            "bm25",
            "bm25_frac",
            "coverage",
            "dense_rank",
            "bm25_rank",
            *LEXICAL,
        )
    }
    for qi, (qid, cand) in enumerate(zip(ids, found)):
        rank = {}
        for sig, (_, rows_) in cand.ranked.items():
            rank[sig] = {int(row): n for n, row in enumerate(rows_.tolist(), start=1)}
        rows = sorted(set(rank["dense"]) | set(rank["bm25"]))
        passage = passage_cosines(index, cand.query_vector, rows)
        matches = sentence_matches(index.sentences, cand.query_vector, rows)
        sentence = [matches[row][0] if row in matches else float(passage[i]) for i, row in enumerate(rows)]
        frac = bm25_fractions(cand.bm25, rows)
        # What the Retriever's rerank uses: over BM25's text (the passage with its context).
        coverage = index.bm25.coverage(texts[qi], rows)
        rel = qrels[qid]
        for i, row in enumerate(rows):
            p = index.passages[row]
            if row in matches:
                _, a, b, _ = matches[row]
                stext = index.documents[p.doc_id].text[a:b]
            else:
                stext = p.text
            cols["query"].append(qi)
            cols["row"].append(row)
            cols["pid_rank"].append(int(order[row]))
            cols["doc"].append(doc_of[p.doc_id])
            cols["rel"].append(int(rel.get(p.doc_id if name == "scifact" else p.passage_id, 0) > 0))
            cols["passage"].append(passage[i])
            cols["sentence"].append(sentence[i])
            cols["bm25"].append(0.0 if cand.bm25 is None else float(cand.bm25[row]))
            cols["bm25_frac"].append(frac[i])
            cols["coverage"].append(coverage[i])
            cols["dense_rank"].append(rank["dense"].get(row, 0))
            cols["bm25_rank"].append(rank["bm25"].get(row, 0))
            for k, v in zip(
                LEXICAL, lexical_features(texts[qi], p.text, stext, f"{p.title} {p.heading or ''}")
            ):
                cols[k].append(v)
    n_rel = [len(qrels[q]) for q in ids]
    arrays = {k: np.asarray(v) for k, v in cols.items()}
    arrays["passage"] = arrays["passage"].astype(np.float32)
    np.savez_compressed(out / f"{name}-{split}.npz", n_rel=np.asarray(n_rel), qids=np.asarray(ids), **arrays)
    logging.info("%s/%s: %d questions, %d candidates", name, split, len(ids), len(cols["row"]))


# ---------------------------------------------------------------- evaluation


class Pool:
    """A saved pool: per-candidate columns, grouped by question."""

    def __init__(self, path: Path) -> None:
        z = np.load(path)
        self.name = path.stem.rsplit("-", 1)[0]
        self.beir = self.name == "scifact"
        self.c = {k: z[k] for k in z.files}
        self.n_rel = self.c["n_rel"]
        q = self.c["query"]
        self.bounds = np.flatnonzero(np.diff(q)) + 1
        self.groups = np.split(np.arange(len(q)), self.bounds)

    def col(self, name: str) -> np.ndarray:
        return self.c[name]


def _metrics(pool: Pool, scores: np.ndarray) -> dict[str, float]:
    c = pool.c
    r1 = r5 = mrr = ndcg = h1 = h5 = 0.0
    for qi, g in enumerate(pool.groups):
        s = scores[g]
        o = g[np.lexsort((c["pid_rank"][g], -s))]
        if pool.beir:
            # Documents in the order of their best passage, top 100.
            _, first = np.unique(c["doc"][o], return_index=True)
            o = o[np.sort(first)][:100]
        else:
            o = o[:100]
        rel = c["rel"][o]
        n = pool.n_rel[qi]
        r1 += rel[:1].sum() / n
        r5 += rel[:5].sum() / n
        hit = np.flatnonzero(rel[:10])
        mrr += 1.0 / (hit[0] + 1) if len(hit) else 0.0
        h1 += float(rel[:1].any())
        h5 += float(rel[:5].any())
        dcg = (rel[:10] / np.log2(np.arange(2, 2 + len(rel[:10])))).sum()
        idcg = (1.0 / np.log2(np.arange(2, 2 + min(n, 10)))).sum()
        ndcg += dcg / idcg
    m = len(pool.groups)
    return {
        "R@1": r1 / m,
        "R@5": r5 / m,
        "MRR@10": mrr / m,
        "nDCG@10": ndcg / m,
        "H@1": h1 / m,
        "H@5": h5 / m,
    }


def per_query(pool: Pool, values: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for g in pool.groups:
        out[g] = fn(values[g])
    return out


def zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def minmax(x: np.ndarray) -> np.ndarray:
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def ranks_desc(x: np.ndarray) -> np.ndarray:
    """1-based rank by descending value (ties: by position)."""
    order = np.argsort(-x, kind="stable")
    out = np.empty(len(x), dtype=np.float64)
    out[order] = np.arange(1, len(x) + 1)
    return out


def rrf_part(rank: np.ndarray, k: float) -> np.ndarray:
    return np.where(rank > 0, 1.0 / (k + np.where(rank > 0, rank, 1)), 0.0)


def base_weighted(pool: Pool, a: float = 0.4, w: float = 0.2) -> np.ndarray:
    c = pool.c
    return a * c["passage"].astype(np.float64) + (1 - a) * c["sentence"] + w * c["bm25_frac"]


def document_max(pool: Pool, scores: np.ndarray, beta: float) -> np.ndarray:
    """Each candidate's score plus `beta` times the best score of its document's candidates."""
    out = scores.copy()
    for g in pool.groups:
        _, inv = np.unique(pool.c["doc"][g], return_inverse=True)
        best = np.full(inv.max() + 1, -np.inf)
        np.maximum.at(best, inv, scores[g])
        out[g] = scores[g] + beta * best[inv]
    return out


def formulas() -> dict[str, Callable[[Pool], np.ndarray]]:
    f: dict[str, Callable[[Pool], np.ndarray]] = {}
    f["hybrid-rrf"] = lambda p: rrf_part(p.c["dense_rank"], 60) + rrf_part(p.c["bm25_rank"], 60)
    f["hybrid (weighted a=.4 w=.2)"] = base_weighted
    for w in (0.1, 0.3, 0.5):
        f[f"weighted a=.4 w={w}"] = lambda p, w=w: base_weighted(p, 0.4, w)
    # Rank fusion of the three rerank signals over the pool.
    for k in (5, 10, 20, 30, 60):
        f[f"rrf3 k={k}"] = lambda p, k=k: sum(
            rrf_part(per_query(p, p.c[s].astype(np.float64), ranks_desc), k)
            for s in ("passage", "sentence", "bm25")
        )
    for k in (10, 20, 60):
        for wb in (0.5, 1.5):
            f[f"rrf3 k={k} wbm25={wb}"] = lambda p, k=k, wb=wb: sum(
                wt * rrf_part(per_query(p, p.c[s].astype(np.float64), ranks_desc), k)
                for s, wt in (("passage", 1.0), ("sentence", 1.0), ("bm25", wb))
            )
    # RRF of the two retrieval ranks plus the sentence rank.
    for k in (10, 30, 60):
        f[f"rrf dense+bm25+sentence k={k}"] = lambda p, k=k: (
            rrf_part(p.c["dense_rank"], k)
            + rrf_part(p.c["bm25_rank"], k)
            + rrf_part(per_query(p, p.c["sentence"].astype(np.float64), ranks_desc), k)
        )
    # Per-query normalisation inside the weighted rerank.
    for norm_name, norm in (("z", zscore), ("minmax", minmax)):
        for a, w in ((0.4, 0.2), (0.4, 0.5), (0.4, 1.0), (0.3, 0.7), (0.5, 0.7)):
            f[f"{norm_name} a={a} w={w}"] = lambda p, a=a, w=w, norm=norm: (
                a * per_query(p, p.c["passage"].astype(np.float64), norm)
                + (1 - a) * per_query(p, p.c["sentence"].astype(np.float64), norm)
                + w * per_query(p, p.c["bm25"].astype(np.float64), norm)
            )

    # BM25 weight adapting to its confidence: the top-1/top-2 BM25 gap.
    def adaptive(p: Pool, base: float, scale: float) -> np.ndarray:
        c = p.c
        out = np.empty(len(c["bm25"]))
        for g in p.groups:
            b = np.sort(c["bm25"][g])[::-1]
            gap = (b[0] - b[1]) / b[0] if len(b) > 1 and b[0] > 0 else 0.0
            w = base + scale * gap
            out[g] = 0.4 * c["passage"][g] + 0.6 * c["sentence"][g] + w * c["bm25_frac"][g]
        return out

    for base, scale in ((0.1, 0.5), (0.2, 0.5), (0.2, 1.0)):
        f[f"adaptive bm25 w={base}+{scale}*gap"] = lambda p, b=base, s=scale: adaptive(p, b, s)
    # Lexical extras on top of the weighted rerank and of the z-score rerank.
    for feat, ws in (
        ("phrase", (0.05, 0.1)),
        ("prox", (0.05, 0.1)),
        ("sent_num", (0.05, 0.1)),
        ("pass_num", (0.05,)),
        ("title_cover", (0.03, 0.06)),
        ("cover", (0.05, 0.1)),
        ("sent_cover", (0.05, 0.1)),
    ):
        for wt in ws:
            f[f"weighted + {wt}*{feat}"] = lambda p, feat=feat, wt=wt: base_weighted(p) + wt * p.c[feat]
    for wt in (0.02, 0.15, 0.2):
        f[f"weighted + {wt}*cover"] = lambda p, wt=wt: base_weighted(p) + wt * p.c["cover"]
    # Term coverage over BM25's text (passage + its context), as the Retriever computes it.
    for wt in (0.05, 0.1, 0.15, 0.2, 0.25):
        f[f"weighted + {wt}*coverage"] = lambda p, wt=wt: base_weighted(p) + wt * p.c["coverage"]
    for a, w, wt in ((0.4, 0.1, 0.1), (0.4, 0.15, 0.1), (0.4, 0.3, 0.1), (0.3, 0.2, 0.1), (0.5, 0.2, 0.1)):
        f[f"weighted a={a} w={w} + {wt}*cover"] = lambda p, a=a, w=w, wt=wt: (
            base_weighted(p, a, w) + wt * p.c["cover"]
        )
    f["weighted + 0.05*phrase + 0.05*cover"] = lambda p: (
        base_weighted(p) + 0.05 * p.c["phrase"] + 0.05 * p.c["cover"]
    )
    f["weighted + 0.05*sent_cover + 0.05*cover"] = lambda p: (
        base_weighted(p) + 0.05 * p.c["sent_cover"] + 0.05 * p.c["cover"]
    )
    # Term coverage of the passage's own text (`cover`; what `hybrid-coverage` computes),
    # the grid the weight was chosen on, with exact entity matching and a document prior.
    for wt in (0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25):
        f[f"weighted + {wt}*cover (grid)"] = lambda p, wt=wt: base_weighted(p) + wt * p.c["cover"]
    for wt in (0.03, 0.05, 0.1, 0.15, 0.2):
        f[f"weighted + {wt}*entity"] = lambda p, wt=wt: base_weighted(p) + wt * p.c["entity"]
    for wt in (0.05, 0.1):
        f[f"weighted + 0.125*cover + {wt}*entity"] = lambda p, wt=wt: (
            base_weighted(p) + 0.125 * p.c["cover"] + wt * p.c["entity"]
        )
    for beta in (0.1, 0.2, 0.3, 0.5):
        f[f"weighted + {beta}*document max"] = lambda p, beta=beta: document_max(p, base_weighted(p), beta)
    f["weighted + 0.125*cover + 0.3*document max"] = lambda p: document_max(
        p, base_weighted(p) + 0.125 * p.c["cover"], 0.3
    )
    # Passage-length prior.
    for wt in (0.01, 0.02):
        f[f"weighted + {wt}*log(length)"] = lambda p, wt=wt: base_weighted(p) + wt * np.log1p(p.c["length"])
        f[f"weighted - {wt}*log(length)"] = lambda p, wt=wt: base_weighted(p) - wt * np.log1p(p.c["length"])
    return f


def evaluate(pools: list[Pool], only: list[str] | None = None) -> None:
    fs = formulas()
    names = [p.name for p in pools]
    results = {}
    for fname, fn in fs.items():
        if only and fname not in only and fname not in ("hybrid-rrf", "hybrid (weighted a=.4 w=.2)"):
            continue
        results[fname] = {p.name: _metrics(p, fn(p)) for p in pools}
    key = {p.name: ("nDCG@10" if p.beir else "MRR@10") for p in pools}
    ref = results["hybrid-rrf"]
    header = (
        "| formula | "
        + " | ".join(f"{n} R@1 / R@5 / MRR@10 / nDCG@10" for n in names)
        + " | worst Δ vs RRF | worst Δ vs weighted |"
    )
    print(header)
    print("|---" * (len(names) + 3) + "|")
    base = results["hybrid (weighted a=.4 w=.2)"]
    rows = []
    for fname, per in results.items():
        worst = min(per[n][key[n]] - ref[n][key[n]] for n in names)
        cells = [" / ".join(f"{per[n][m]:.3f}" for m in ("R@1", "R@5", "MRR@10", "nDCG@10")) for n in names]
        worst_base = min(per[n][key[n]] - base[n][key[n]] for n in names)
        rows.append((worst, f"| {fname} | " + " | ".join(cells) + f" | {worst:+.3f} | {worst_base:+.3f} |"))
    for _, line in rows:
        print(line)
    print("\nvalidation (compare with qa eval on the same split):")
    for fname in ("hybrid-rrf", "hybrid (weighted a=.4 w=.2)"):
        for n in names:
            print(fname, n, {m: round(v, 4) for m, v in results[fname][n].items()})
    print("\nranked by worst-collection Δ (MRR@10; SciFact nDCG@10) vs hybrid-rrf:")
    for _, line in sorted(rows, key=lambda x: -x[0])[:12]:
        print(line)


def latency(index_dir: Path, questions: list[str], weights: list[float], repeats: int) -> None:
    """Median `ask(k=5)` latency (ms) per coverage weight, the weights interleaved per question."""
    import time

    base = Retriever.open(index_dir)
    rs = {
        w: Retriever(base.index, embedder=base.embedder, threshold=base.threshold, coverage_weight=w)
        for w in weights
    }
    for r in rs.values():
        r.ask(questions[0], k=5)  # warm up
    times: dict[float, list[float]] = {w: [] for w in weights}
    for _ in range(repeats):
        for q in questions:
            for w, r in rs.items():
                t0 = time.perf_counter()
                r.ask(q, k=5)
                times[w].append((time.perf_counter() - t0) * 1000)
    for w, t in times.items():
        print(
            f"{index_dir}: coverage_weight={w}: p50 {np.percentile(t, 50):.2f} ms, p95 {np.percentile(t, 95):.2f} ms (n={len(t)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--split", default="train", choices=("train", "test"))
    ex.add_argument("--collection", action="append", default=[], help="NAME=INDEX_DIR")
    ev = sub.add_parser("evaluate")
    ev.add_argument("--pools", type=Path, required=True)
    ev.add_argument("--split", default="train", choices=("train", "test"))
    ev.add_argument("--only", nargs="*")
    la = sub.add_parser("latency")
    la.add_argument("--index", type=Path, required=True)
    la.add_argument("--name", required=True, help="collection name (its train questions are asked)")
    la.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.15])
    la.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.cmd == "extract":
        args.out.mkdir(parents=True, exist_ok=True)
        for spec in args.collection:
            name, path = spec.split("=", 1)
            extract(name, Path(path), args.split, args.out)
    elif args.cmd == "latency":
        retriever = Retriever.open(args.index, threshold=None)
        queries, _ = relevant(args.name, "train", retriever)
        latency(args.index, [queries[q] for q in sorted(queries)], args.weights, args.repeats)
    else:
        pools = [Pool(p) for p in sorted(args.pools.glob(f"*-{args.split}.npz"))]
        evaluate(pools, args.only)


if __name__ == "__main__":
    main()
