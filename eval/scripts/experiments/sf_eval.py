import json, sys, numpy as np
from ranx import Qrels, Run, evaluate
F = np.load('/tmp/s2/sf_feat.npz'); qrels = json.load(open('/tmp/s2/sf_qrels.json'))
D, B, split, ids, doc_of = F['D'], F['B'], F['split'], F['ids'], F['doc_of']
Bn = B / np.maximum(B.max(1, keepdims=True), 1e-9)
S = F['S'] if 'S' in F else None; L = F['L']
def cands(i, depth=100):
    c = set(np.argpartition(-D[i], depth)[:depth].tolist()); c |= set(np.argpartition(-B[i], depth)[:depth].tolist()); return np.array(sorted(c))
C = [cands(i) for i in range(len(ids))]
def run_of(score_fn, which):
    run = {}
    for i in np.where(split == which)[0]:
        c = C[i]; sc = score_fn(i, c)
        best = {}
        for r, s in zip(c.tolist(), sc.tolist()):
            d = doc_of[r]
            if d not in best or s > best[d]: best[d] = s
        top = sorted(best.items(), key=lambda x: -x[1])[:100]
        run[str(ids[i])] = {d: float(len(top) - n) for n, (d, _) in enumerate(top)}
    return run
def ev(name, fn):
    out = []
    for w in ('train', 'test'):
        r = evaluate(Qrels(qrels[w]), Run(run_of(fn, w)), ['ndcg@10', 'recall@100'])
        out.append("%s nDCG@10 %.4f R@100 %.4f" % (w, r['ndcg@10'], r['recall@100']))
    print(f"{name:34s}", " | ".join(out), flush=True)
def rrf_fn(i, c, k=60):
    rd = np.argsort(np.argsort(-D[i])); rb = np.argsort(np.argsort(-B[i]))
    return 1 / (k + 1 + rd[c]) + 1 / (k + 1 + rb[c])
if __name__ == '__main__':
    ev('dense', lambda i, c: D[i, c]); ev('bm25', lambda i, c: B[i, c]); ev('rrf60', rrf_fn)
    for a, w in [(0.5, 0.3), (0.3, 0.0), (0.3, 0.1), (0.3, 0.3), (0.5, 0.1), (0.5, 0.5), (0.7, 0.3)]:
        if S is not None: ev(f'sep a={a} w={w}', lambda i, c: a * D[i, c] + (1 - a) * S[i, c] + w * Bn[i, c])
        ev(f'late a={a} w={w}', lambda i, c: a * D[i, c] + (1 - a) * L[i, c] + w * Bn[i, c])
