"""Does a passage's vector depend on the batch it is embedded in? Per backend.

Embeds the first `--passages` passages of an index twice, cut into batches at different
places (by default 32+32 and 20+32+12), and once more exactly as the first time, then
prints per backend the largest component difference and the lowest and mean cosine
between the two cuttings. Dynamic int8 quantisation takes its activation scale from
the whole batch, so onnx-int8 is expected to differ and fp32 not (docs/SCALE.md
"Ray Data"). Untimed.

Run: `.venv/bin/python bench/batch_dependence.py --index DIR`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def cut(texts: Sequence[str], sizes: Sequence[int]) -> list[list[str]]:
    """`texts` in consecutive batches of `sizes`; the sizes must add up to len(texts)."""
    if sum(sizes) != len(texts):
        raise SystemExit(f"batch sizes {list(sizes)} add up to {sum(sizes)}, not {len(texts)} passages")
    out, i = [], 0
    for n in sizes:
        out.append(list(texts[i : i + n]))
        i += n
    return out


def compare(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Largest absolute component difference, lowest and mean row cosine (unit vectors)."""
    cos = (a * b).sum(axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    return {"max_abs": float(np.abs(a - b).max()), "min_cos": float(cos.min()), "mean_cos": float(cos.mean())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--first", default="32,32", help="batch sizes of the first cutting")
    p.add_argument("--second", default="20,32,12", help="batch sizes of the second cutting")
    p.add_argument("--backends", default="onnx-int8,onnx")
    args = p.parse_args()
    os.environ.setdefault("QA_THREADS", "1")
    from qa.embedding import new_embedder
    from qa.index import Index

    first = [int(x) for x in args.first.split(",")]
    second = [int(x) for x in args.second.split(",")]
    texts = [x.text for x in Index.load(args.index, verify=False).passages[: sum(first)]]
    print(f"{len(texts)} passages; batches {first} vs {second}\n")
    print(
        "| backend | same batches again: max abs diff | other batches: max abs diff | min cosine | mean cosine |"
    )
    print("|---|---|---|---|---|")
    for backend in args.backends.split(","):
        embedder = new_embedder(backend=backend)
        a = np.concatenate([embedder.embed(b) for b in cut(texts, first)])
        again = np.concatenate([embedder.embed(b) for b in cut(texts, first)])
        b = np.concatenate([embedder.embed(b) for b in cut(texts, second)])
        r = compare(a, b)
        same = compare(a, again)["max_abs"]
        print(f"| {backend} | {same:.1e} | {r['max_abs']:.4f} | {r['min_cos']:.4f} | {r['mean_cos']:.4f} |")


if __name__ == "__main__":
    main()
