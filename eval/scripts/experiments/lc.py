"""Late-chunked sentence vectors: mean-pool the passage forward pass's token embeddings over each sentence."""
import numpy as np, torch
from qa.embedding import normalize_for_model
from qa.indexing import context_text

def late_vectors(E, index, settings, passages_rows=None, batch=32):
    model = E._model; tok = E._tokenizer
    P = index.passages; ST = index.sentences
    rows = list(range(len(P))) if passages_rows is None else passages_rows
    out = np.zeros((len(ST), E.dimension), np.float32)
    texts = []; spans = []
    for r in rows:
        p = P[r]
        ctx_full = context_text(p, settings, E)
        prefix = ctx_full[: len(ctx_full) - len(p.text)]
        parts = [normalize_for_model(prefix)] if prefix.strip() else []
        pos = len(parts[0]) + 1 if parts else 0
        a, b = ST.range_of(r); sp = []
        for j in range(a, b):
            s = normalize_for_model(p.text[ST.table[j,1]-p.start: ST.table[j,2]-p.start])
            sp.append((j, pos, pos + len(s))); parts.append(s); pos += len(s) + 1
        texts.append(" ".join(parts)); spans.append(sp)
    for i in range(0, len(texts), batch):
        tb = texts[i:i+batch]
        enc = tok(tb, padding=True, truncation=True, max_length=E.max_tokens, return_offsets_mapping=True, return_tensors="pt")
        offs = enc.pop("offset_mapping").numpy()
        with torch.inference_mode():
            te = model[0].auto_model(**enc).last_hidden_state.numpy()
        mask = enc["attention_mask"].numpy()
        for t in range(len(tb)):
            for j, s0, s1 in spans[i+t]:
                sel = (offs[t,:,0] >= s0) & (offs[t,:,1] <= s1) & (offs[t,:,1] > offs[t,:,0]) & (mask[t] > 0)
                if not sel.any(): continue
                v = te[t][sel].mean(0); out[j] = v / np.linalg.norm(v)
    return out
