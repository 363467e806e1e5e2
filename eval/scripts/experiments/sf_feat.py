"""SciFact features per (query, candidate passage): dense, separate-sentence max, late-sentence max, bm25/max."""
import json, sys, numpy as np, time
from collections import defaultdict
from qa.index import Index
from qa.embedding import load_embedder
I = Index.load(sys.argv[1]); E = load_embedder()
P = I.passages; pid_row = {p.passage_id: r for r, p in enumerate(P)}
qs = {json.loads(l)['_id']: json.loads(l) for l in open('/work/shared/benchmarks/scifact/queries.jsonl')}
test = defaultdict(dict)
for l in open('/work/shared/benchmarks/scifact/qrels/test.tsv').read().splitlines()[1:]:
    a, b, c = l.split('\t'); test[a.strip()][b.strip()] = int(c)
train = {qid: {d: 1 for d in q['metadata']} for qid, q in qs.items() if qid not in test and q['metadata']}
ids = sorted(train) + sorted(test)
split = np.array(['train'] * len(train) + ['test'] * len(test))
Q = E.embed([qs[i]['text'] for i in ids])
PV = np.asarray(I.vector_matrix(), np.float32)
D = Q @ PV.T
# separate sentence vectors (if the index has them)
def maxsent(table, V):
    V = np.asarray(V, np.float32); rows = table[:, 0]
    sims = Q @ V.T
    out = np.full((len(Q), len(P)), -1.0, np.float32)
    starts = np.searchsorted(rows, np.arange(len(P) + 1))
    for r in range(len(P)):
        a, b = starts[r], starts[r + 1]
        if b > a: out[:, r] = sims[:, a:b].max(1)
    return out
feats = {}
if I.sentences is not None:
    feats['S'] = maxsent(I.sentences.table, I.sentences.vectors)
lt = np.load('/tmp/s2/sf_late_table.npy'); lv = np.load('/tmp/s2/sf_late_vecs.npy')
# late table rows refer to the passage-only index's rows; map by passage id
J = Index.load('embeddings-beir/scifact'); remap = np.array([pid_row[p.passage_id] for p in J.passages])
lt = lt.copy(); lt[:, 0] = remap[lt[:, 0]]; o = np.argsort(lt[:, 0], kind='stable'); lt = lt[o]; lv = lv[o]
feats['L'] = maxsent(lt, lv)
B = np.stack([I.bm25.scores(qs[i]['text']) for i in ids]).astype(np.float32)
doc_of = np.array([p.doc_id for p in P])
np.savez('/tmp/s2/sf_feat.npz', D=D, B=B, split=split, ids=np.array(ids), doc_of=doc_of, **feats)
json.dump({'train': train, 'test': test}, open('/tmp/s2/sf_qrels.json', 'w'))
print('saved', {k: v.shape for k, v in feats.items()})
