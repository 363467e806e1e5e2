import numpy as np, sys, json
sys.argv = ['x']; exec(open('/tmp/s2/sf_eval.py').read().split("if __name__")[0])
from qa.embedding import load_embedder
from ranx import Qrels, Run, evaluate
E = load_embedder(backend='onnx')
Qs = {json.loads(l)['_id']: json.loads(l)['text'] for l in open('/work/shared/benchmarks/scifact/queries.jsonl')}
Qv = E.embed([Qs[i] for i in ids])
PVo = np.load('/tmp/s2/sf_onnx_pv.npy'); T = np.load('/tmp/s2/sf_late_table2.npy'); LVo = np.load('/tmp/s2/sf_onnx_late.npy').astype(np.float32)
Do = Qv @ PVo.T
sims = Qv @ LVo.T; Lo = np.full_like(Do, -1.0); st = np.searchsorted(T[:, 0], np.arange(len(PVo) + 1))
for r in range(len(PVo)):
    a, b = st[r], st[r + 1]
    if b > a: Lo[:, r] = sims[:, a:b].max(1)
# the torch late features were computed on the same passage rows (identity remap)
def evs(name, fnt, fno):
    out = []
    for w in ('train', 'test'):
        rt = evaluate(Qrels(qrels[w]), Run(run_of(fnt, w)), ['ndcg@10', 'recall@100'])
        global D, L
        D0, L0 = D, L; D, L = Do, Lo
        ro = evaluate(Qrels(qrels[w]), Run(run_of(fno, w)), ['ndcg@10', 'recall@100'])
        D, L = D0, L0
        out.append(f"{w} torch {rt['ndcg@10']:.4f}/{rt['recall@100']:.4f} onnx {ro['ndcg@10']:.4f}/{ro['recall@100']:.4f} diff {ro['ndcg@10']-rt['ndcg@10']:+.4f}")
    print(f"{name:22s}", " | ".join(out), flush=True)
evs('dense', lambda i, c: D[i, c], lambda i, c: D[i, c])
for a, w in [(0.4, 0.15)]:
    f = lambda i, c: a * D[i, c] + (1 - a) * L[i, c] + w * Bn[i, c]
    evs(f'late a={a} w={w}', f, f)
