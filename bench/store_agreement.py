"""Do two indexes of one BEIR corpus (e.g. FAISS and Milvus stores) return the same top passages?

For each configuration (`qa.evaluation.CONFIGURATIONS`: dense, bm25, hybrid-rrf, hybrid)
and each query of the split, the top-k passage ids from index A and index B are compared:
the share of queries whose top-k lists are identical (same passages, same order) and the
mean overlap of the two top-k sets.

Run: `.venv/bin/python bench/store_agreement.py --beir /work/shared/benchmarks/scifact
--a DIR_FAISS --b DIR_MILVUS [--compare dense,bm25,hybrid-rrf,hybrid] [-k 10]`.
Both indexes are opened in this one process (a milvus-lite file allows one process).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import table  # noqa: E402


def agreement(a: Sequence[Sequence[str]], b: Sequence[Sequence[str]]) -> dict[str, float]:
    """Share of identical ranked lists and mean set overlap of paired lists (each of length <= k)."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} rankings vs {len(b)}: compare the same queries")
    if not a:
        return {"identical": 1.0, "overlap": 1.0}
    same = sum(list(x) == list(y) for x, y in zip(a, b, strict=True))
    overlap = [len(set(x) & set(y)) / max(len(x), len(y), 1) for x, y in zip(a, b, strict=True)]
    return {"identical": same / len(a), "overlap": sum(overlap) / len(overlap)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--beir", type=Path, required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--a", type=Path, required=True, help="first index folder")
    p.add_argument("--b", type=Path, required=True, help="second index folder")
    p.add_argument("--compare", default="dense,bm25,hybrid-rrf,hybrid")
    p.add_argument("-k", type=int, default=10)
    args = p.parse_args()

    from qa.evaluation import parse_configurations
    from qa.evaluation.beir import load_beir
    from qa.evaluation.configurations import configure
    from qa.retrieval import Retriever

    beir = load_beir(args.beir, split=args.split)
    questions = list(beir.queries.values())
    bases = [Retriever.open(args.a), Retriever.open(args.b)]
    stores = [r.index.manifest.store.name for r in bases]
    rows, out = [], []
    for config in parse_configurations(args.compare):
        ranked = [
            [
                [h.passage_id for h in hits]
                for hits in configure(base, config).search_many(questions, k=args.k)
            ]
            for base in bases
        ]
        res = {"configuration": config.name, **agreement(*ranked)}
        out.append(res)
        rows.append([config.name, f"{res['identical']:.3f}", f"{res['overlap']:.3f}"])
    print(
        f"{len(questions)} queries of {beir.name} ({args.split}); A = {stores[0]}, B = {stores[1]}; k={args.k}\n"
    )
    print(table(["configuration", f"identical top-{args.k} (share of queries)", "mean overlap"], rows))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
