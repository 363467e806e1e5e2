import json, sys, numpy as np, itertools
sys.path.insert(0, '/tmp/s2')
from qa.index import Index
from qa.embedding import load_embedder
from lc import late_vectors
I = Index.load('embeddings'); E = load_embedder(); S = I.settings if hasattr(I,'settings') else None
from qa.config import IndexSettings
S = IndexSettings(**I.manifest['settings'])
qs = [json.loads(l) for l in open('eval/seed_questions.jsonl')]
ans = [q for q in qs if q['answers']]
P = I.passages
def rel(p, q):
    for a in q['answers']:
        if p.doc_id != a['doc']: continue
        d = I.documents[a['doc']].text; s = d.index(a['quote']); e = s + len(a['quote'])
        if min(e, p.end) - max(s, p.start) >= len(a['quote']) / 2: return True
    return False
R = np.array([[rel(p, q) for p in P] for q in ans])
Q = E.embed([q['question'] for q in ans])
PV = np.asarray(I.vector_matrix(), np.float32)
D = Q @ PV.T
ST = I.sentences; SV = np.asarray(ST.vectors, np.float32)
LV = late_vectors(E, I, S)
np.save('/tmp/s2/seed_lv.npy', LV)
def maxsent(V):
    sims = Q @ V.T; out = np.full((len(Q), len(P)), -1.0)
    for r in range(len(P)):
        a, b = ST.range_of(r)
        if b > a: out[:, r] = sims[:, a:b].max(1)
    return out
Sx = maxsent(SV); L = maxsent(LV)
Bm = np.array([I.bm25.scores(q['question']) for q in ans]); Bn = Bm / np.maximum(Bm.max(1, keepdims=True), 1e-9)
np.savez('/tmp/s2/seedfeat.npz', R=R, D=D, S=Sx, L=L, B=Bn, ids=np.array([q['id'] for q in ans]))
def metr(score, idx):
    r5 = mrr = 0
    for i in idx:
        order = np.argsort(-score[i], kind='stable')[:10]
        rk = next((n+1 for n, r in enumerate(order) if R[i, r]), None)
        if rk: mrr += 1/rk; r5 += rk <= 5
    return r5/len(idx), mrr/len(idx)
odd = [i for i, q in enumerate(ans) if int(q['id'][1:]) % 2 == 1]; even = [i for i, q in enumerate(ans) if int(q['id'][1:]) % 2 == 0]; al = list(range(len(ans)))
def show(name, sc): print(f"{name:28s} all R@5 %.3f MRR %.3f | odd %.3f %.3f | even %.3f %.3f" % (metr(sc, al) + metr(sc, odd) + metr(sc, even)))
show("dense", D); show("sent", Sx); show("late", L)
for a, w in [(0.5,0.3),(0.3,0),(0.3,0.1),(0.5,0.1)]:
    show(f"cur a={a} w={w}", a*D + (1-a)*Sx + w*Bn)
    show(f"late a={a} w={w}", a*D + (1-a)*L + w*Bn)
    show(f"both a={a} w={w}", a*D + (1-a)*(L+Sx)/2 + w*Bn)
