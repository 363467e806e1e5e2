import sys, numpy as np, torch, time
sys.path.insert(0, '/tmp/s2')
torch.set_num_threads(1)
from qa.index import Index
from qa.embedding import load_embedder, normalize_for_model
from qa.indexing import context_text
from qa.sentences import passage_sentences
from qa.config import IndexSettings
I = Index.load('embeddings-beir/scifact'); E = load_embedder(); S = IndexSettings()
model = E._model; tok = E._tokenizer
P = I.passages
table = []; texts = []; spans = []
for r, p in enumerate(P):
    ctx_full = context_text(p, S, E); prefix = ctx_full[: len(ctx_full) - len(p.text)]
    parts = [normalize_for_model(prefix)] if prefix.strip() else []
    pos = len(parts[0]) + 1 if parts else 0; sp = []
    for a, b in passage_sentences(p):
        s = normalize_for_model(p.text[a - p.start: b - p.start])
        sp.append((len(table), pos, pos + len(s))); table.append((r, a, b)); parts.append(s); pos += len(s) + 1
    texts.append(" ".join(parts)); spans.append(sp)
out = np.zeros((len(table), E.dimension), np.float32); pv = np.zeros((len(P), E.dimension), np.float32)
order = np.argsort([len(t) for t in texts]); t0 = time.time()
for i in range(0, len(order), 32):
    ids = order[i:i+32]; tb = [texts[j] for j in ids]
    enc = tok(tb, padding=True, truncation=True, max_length=E.max_tokens, return_offsets_mapping=True, return_tensors="pt")
    offs = enc.pop("offset_mapping").numpy()
    with torch.inference_mode():
        te = model[0].auto_model(**enc).last_hidden_state.numpy()
    mask = enc["attention_mask"].numpy()
    for t, j in enumerate(ids):
        m = mask[t] > 0; v = te[t][m].mean(0); pv[j] = v / np.linalg.norm(v)
        for row, s0, s1 in spans[j]:
            sel = (offs[t,:,0] >= s0) & (offs[t,:,1] <= s1) & (offs[t,:,1] > offs[t,:,0]) & m
            if sel.any(): v = te[t][sel].mean(0); out[row] = v / np.linalg.norm(v)
    if i % 1600 == 0: print(i, time.time() - t0, flush=True)
np.save('/tmp/s2/sf_late_table.npy', np.array(table, np.int64)); np.save('/tmp/s2/sf_late_vecs.npy', out.astype(np.float16)); np.save('/tmp/s2/sf_late_pv.npy', pv)
PV = np.asarray(I.vector_matrix(), np.float32); print("pv agreement", float(np.min(np.sum(PV * pv, 1))), time.time() - t0)
