"""Vector stores side by side at 100k / 1M vectors: FAISS vs milvus-lite vs a milvus-server.

Everything goes through the store seam qa uses (`qa.stores.build_store`, then
`search`), per index kind: build time (for Milvus split into insert, flush, waiting for
the server's index and load), the first search after the build (milvus-lite builds
some indexes lazily), warm single-query p50/p95 at k=10 and k=100 (the retriever's
depth), recall@10 against exact search (`qa.stores.exact_search`), and memory. For
Milvus the same single queries are also timed with the raw `MilvusClient.search`
(no `output_fields`, no result conversion), to show what the seam adds.

Data: bench/scale_components.py's generated topic-clustered 384-d unit vectors (n/100 centres),
queries drawn the same way; the exact top-10 is computed once per size and cached.

Each (store, kind, size) runs in a child process of its own, so its peak RSS is its
own and a time cap (`--cap`) can stop it. `server` starts milvus-server 2.3.5 in a
network namespace with only loopback (tests/stores/milvus_server.py) and runs the
children in that namespace; its RSS is the server's process group's.

Run (under the shared lock, one store/size per run to keep runs short):
`flock /tmp/qa-bench.lock .venv/bin/python bench/stores.py --stores faiss,lite --sizes 100000`.
Results accumulate in /tmp/qa-stores/results.json; the table is /tmp/qa-stores/stores.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import machine, percentile, rss_mb, table  # noqa: E402
from scale_components import generate  # noqa: E402

logger = logging.getLogger("bench.stores")
OUT = Path("/tmp/qa-stores")
# Index kinds per store: what `auto` picks plus the kinds worth comparing. milvus-lite's
# HNSW is measured at 100k only, under its own cap (reported "very slow").
KINDS = {
    "faiss": ["auto", "flat", "ivfsq8"],
    "lite": ["flat", "ivf", "ivfsq8", "hnsw"],
    "server": ["flat", "ivf", "ivfsq8", "hnsw"],
}
STORE_NAME = {"faiss": "faiss", "lite": "milvus", "server": "milvus"}
DEPTHS = (10, 100)


def ground_truth(vectors: np.ndarray, queries: np.ndarray, k: int = 10, chunk: int = 25) -> np.ndarray:
    """Exact top-k rows per query (qa.stores.exact_search, in chunks to bound memory)."""
    from qa.stores import exact_search

    return np.concatenate(
        [exact_search(vectors, queries[i : i + chunk], k)[1] for i in range(0, len(queries), chunk)]
    )


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(values, 50) * 1000, "p95_ms": percentile(values, 95) * 1000}


def measure(
    store: str,
    kind: str,
    vectors: np.ndarray,
    queries: np.ndarray,
    exact: np.ndarray,
    *,
    folder: Path,
    uri: str | None = None,
    warm: int = 10,
) -> dict[str, Any]:
    """Build `kind` in `store` (faiss | lite | server) over `vectors` through the store seam,
    then time single-query searches and score recall@10 against `exact` (rows per query)."""
    from qa.config import StoreSettings
    from qa.stores import build_store, recall_at_k

    settings = StoreSettings(name=STORE_NAME[store], index_type=kind, uri=uri)
    snap = folder / "snapshot"
    snap.mkdir(parents=True, exist_ok=True)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    index = build_store(vectors, snap, settings)
    res: dict[str, Any] = {
        "store": store,
        "kind": kind,
        "n": len(vectors),
        "build_s": time.perf_counter() - t0,
    }
    res.update(getattr(index, "build_phases", {}))
    res["describe"] = index.describe()
    res["first_search_s"] = _time(lambda: index.search(queries[:1], 10))
    res["rss_delta_mb"] = rss_mb() - rss0
    for q in queries[:warm]:
        index.search(q[None], 100)
    found = np.full((len(queries), 10), -1, np.int64)
    for k in DEPTHS:
        lat = []
        for i, q in enumerate(queries):
            t = time.perf_counter()
            _, rows = index.search(q[None], k)
            lat.append(time.perf_counter() - t)
            if k == 10:
                found[i, : rows.shape[1]] = rows[0]
        res[f"k{k}"] = _stats(lat)
    res["recall_at_10"] = recall_at_k(found, exact, 10)
    if STORE_NAME[store] == "milvus":
        res.update(_raw_client(index, queries, exact))
        with contextlib.suppress(Exception):  # frees the server's memory for the next kind
            index._client.drop_collection(index.collection)
    index.close()
    return res


# Consistency levels timed with the raw client besides the store's own (Strong): a
# Milvus 2.3 server makes a Strong read wait for the next time tick (200 ms by default).
RAW_LEVELS = ("Strong", "Bounded", "Eventually")


def _raw_client(index, queries: np.ndarray, exact: np.ndarray) -> dict[str, Any]:
    """The same single queries with pymilvus directly (no output_fields, no conversion),
    at k=10 and k=100 with the store's consistency level, and at k=10 with the others
    (with their recall@10, to show whether a weaker level misses rows after the build)."""
    from qa.stores import recall_at_k

    client = index._client
    params = index._search_params(100)
    out: dict[str, Any] = {}
    for level in RAW_LEVELS:
        for k in DEPTHS if level == "Strong" else (10,):
            lat = []
            found = np.full((len(queries), 10), -1, np.int64)
            for i, q in enumerate(queries):
                t = time.perf_counter()
                hits = client.search(
                    index.collection,
                    data=[q.tolist()],
                    limit=k,
                    search_params=params,
                    consistency_level=level,
                )[0]
                lat.append(time.perf_counter() - t)
                ids = [int(h["id"]) for h in hits][:10]
                found[i, : len(ids)] = ids
            key = f"raw_k{k}" if level == "Strong" else f"raw_{level.lower()}_k{k}"
            out[key] = _stats(lat)
            if level != "Strong":
                out[key]["recall_at_10"] = recall_at_k(found, exact, 10)
    return out


def _group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in the process group `pgid`, MB."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != pgid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total / 1024


def worker(args: argparse.Namespace) -> None:
    """One (store, kind, size) in this process; writes its result as JSON to --out."""
    vectors, queries = generate(args.size, queries=args.queries)
    exact = np.load(args.gt)
    data_mb = rss_mb()
    folder = Path(args.folder)
    if args.index_wait:
        import qa.stores.milvus as milvus_store

        milvus_store.INDEX_WAIT_SECONDS = args.index_wait
    res = measure(args.worker, args.kind, vectors, queries, exact, folder=folder, uri=args.uri or None)
    res["rss_data_mb"] = data_mb
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.server_pgid:
        res["server_rss_mb"] = _group_rss_mb(args.server_pgid)
    Path(args.out).write_text(json.dumps(res, indent=1), encoding="utf-8")


@contextlib.contextmanager
def _server(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    import importlib.util

    # Loaded by path: this script is itself named `stores`, like the tests' package.
    spec = importlib.util.spec_from_file_location(
        "milvus_server", HERE.parent / "tests/stores/milvus_server.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # @dataclass looks its module up in sys.modules
    spec.loader.exec_module(module)
    milvus_server, unavailable = module.milvus_server, module.unavailable
    reason = unavailable()
    if reason:
        raise SystemExit(f"cannot start milvus-server: {reason}")
    data = OUT / "server" / "data"
    shutil.rmtree(data, ignore_errors=True)
    with milvus_server(data) as server:
        yield server


def run_one(store: str, kind: str, n: int, gt: Path, args: argparse.Namespace, server) -> dict[str, Any]:
    folder = OUT / "work" / f"{store}-{kind}-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    out = OUT / "work" / f"{store}-{kind}-{n}.json"
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        store,
        "--kind",
        kind,
        "--size",
        str(n),
        "--queries",
        str(args.queries),
        "--gt",
        str(gt),
        "--folder",
        str(folder),
        "--out",
        str(out),
    ]
    cap = args.hnsw_cap if (store == "lite" and kind == "hnsw") else args.cap
    # A server's index build may use the whole cap: qa's own wait (10 min) is for users.
    cmd += ["--index-wait", str(cap)]
    if server is not None:
        cmd = [*server.nsenter, *cmd, "--uri", server.uri, "--server-pgid", str(server.process.pid)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        rc = proc.wait(timeout=cap)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        rc = None
    shutil.rmtree(folder, ignore_errors=True)
    if rc == 0 and out.is_file():
        res = json.loads(out.read_text(encoding="utf-8"))
    else:
        res = {
            "store": store,
            "kind": kind,
            "n": n,
            "error": f"exit {rc}" if rc is not None else f"over {cap:.0f} s cap",
        }
    res["wall_s"] = time.perf_counter() - t0
    logger.warning("%s", {k: v for k, v in res.items() if k != "describe"})
    return res


def _ground_truth_file(n: int, nq: int) -> Path:
    gt = OUT / f"gt-{n}-{nq}.npy"
    if not gt.is_file():
        vectors, queries = generate(n, queries=nq)
        np.save(gt, ground_truth(vectors, queries))
    return gt


def markdown(results: list[dict[str, Any]]) -> str:
    label = {"faiss": "FAISS", "lite": "milvus-lite", "server": "milvus-server 2.3.5"}
    rows = []
    for r in sorted(results, key=lambda r: (r["n"], list(label).index(r["store"]), r["kind"])):
        name = f"{label[r['store']]} {r['kind']}"
        if "error" in r:
            rows.append([f"{r['n']:,}", name, f"not measured: {r['error']}", *[""] * 8])
            continue
        desc = r.get("describe", {})
        kind = desc.get("milvus_index") or desc.get("type", r["kind"])
        if desc.get("nlist"):
            kind += f" nlist {desc['nlist']} nprobe {desc.get('nprobe')}"
        phases = ""
        if "insert_s" in r:
            phases = f" (insert {r['insert_s']:.1f}, flush {r['flush_s']:.1f}, index {r['index_wait_s']:.1f}, load {r['load_s']:.1f})"
        raw = ""
        if "raw_k10" in r:
            raw = f"{r['raw_k10']['p50_ms']:.1f} / {r['raw_k100']['p50_ms']:.1f}"
        weak = "-"
        if "raw_bounded_k10" in r:
            b, e = r["raw_bounded_k10"], r["raw_eventually_k10"]
            weak = (
                f"{b['p50_ms']:.1f} ({b['recall_at_10']:.3f}) / {e['p50_ms']:.1f} ({e['recall_at_10']:.3f})"
            )
        mem = f"{r['peak_rss_mb']:,.0f}"
        if "server_rss_mb" in r:
            mem += f" + server {r['server_rss_mb']:,.0f}"
        rows.append(
            [
                f"{r['n']:,}",
                f"{label[r['store']]} {kind}",
                f"{r['build_s']:.1f}{phases}",
                f"{r['first_search_s'] * 1000:.0f}",
                f"{r['k10']['p50_ms']:.1f} / {r['k10']['p95_ms']:.1f}",
                f"{r['k100']['p50_ms']:.1f} / {r['k100']['p95_ms']:.1f}",
                raw or "-",
                weak,
                f"{r['recall_at_10']:.3f}",
                mem,
                r.get("load", ""),
            ]
        )
    header = [
        "n",
        "store, index",
        "build s (phases)",
        "1st search ms",
        "k=10 p50 / p95 ms",
        "k=100 p50 / p95 ms",
        "raw client, Strong, p50 k=10 / k=100 ms",
        "raw k=10 p50 ms (recall@10), Bounded / Eventually",
        "recall@10",
        "peak RSS MB",
        "load at start",
    ]
    return table(header, rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", default="faiss,lite,server")
    p.add_argument("--sizes", default="100000")
    p.add_argument("--kinds", default=None, help="only these kinds (comma-separated), where a store has them")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--cap", type=float, default=600.0, help="seconds per (store, kind, size)")
    p.add_argument("--hnsw-cap", type=float, default=300.0, help="seconds for milvus-lite HNSW")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--kind", default=None, help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--gt", default=None, help=argparse.SUPPRESS)
    p.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    p.add_argument("--uri", default=None, help=argparse.SUPPRESS)
    p.add_argument("--server-pgid", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--index-wait", type=float, default=0.0, help=argparse.SUPPRESS)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.worker:
        worker(args)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    logger.warning("%s; /proc/loadavg %s", machine(), Path("/proc/loadavg").read_text().strip())
    stores = args.stores.split(",")
    only = set(args.kinds.split(",")) if args.kinds else None
    store_file = OUT / "results.json"
    results = json.loads(store_file.read_text()) if store_file.is_file() else []
    for n in [int(s) for s in args.sizes.split(",")]:
        gt = _ground_truth_file(n, args.queries)
        for store in stores:
            kinds = [k for k in KINDS[store] if only is None or k in only]
            with _server(store == "server" and bool(kinds)) as server:
                for kind in kinds:
                    load = Path("/proc/loadavg").read_text().split()[0]
                    res = run_one(store, kind, n, gt, args, server)
                    res["load"] = load
                    results = [r for r in results if (r["store"], r["kind"], r["n"]) != (store, kind, n)]
                    results.append(res)
                    store_file.write_text(json.dumps(results, indent=1), encoding="utf-8")
    (OUT / "stores.md").write_text(markdown(results) + "\n", encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
