import sys, time, numpy as np, faiss
sys.path.insert(0, 'bench')
from scale import generate
from qa.vectors import VectorIndex
out = generate(1_000_000, queries=200)
print(type(out), len(out) if isinstance(out, tuple) else '')
V, Q = out[0], out[1]
faiss.omp_set_num_threads(1)
exact = faiss.IndexFlatIP(V.shape[1]); exact.add(V); _, truth = exact.search(Q, 10)
vi = VectorIndex.build(V, kind="ivfsq8")
for n in (256, 384, 512, 640):
    vi.nprobe = n
    ts = []; hits = 0
    for i in range(len(Q)):
        t = time.perf_counter(); s, r = vi.search(Q[i:i+1], 10); ts.append(time.perf_counter() - t)
        hits += len(set(r[0].tolist()) & set(truth[i].tolist()))
    print(n, f"recall@10 {hits / (10 * len(Q)):.3f} p50 {np.median(ts)*1000:.1f} ms p95 {np.quantile(ts, .95)*1000:.1f} ms", flush=True)
