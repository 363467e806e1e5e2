"""onnx-int8 passage + late sentence vectors for SciFact, via the product's embed_pieces."""
import numpy as np, time, sys
from qa.index import Index
from qa.embedding import load_embedder
from qa.indexing import context_text
from qa.sentences import passage_sentences
from qa.config import IndexSettings
I = Index.load('embeddings-beir/scifact'); E = load_embedder(backend=sys.argv[1]); S = IndexSettings()
P = I.passages; pieces = []; picks = []; table = []
for r, p in enumerate(P):
    text = context_text(p, S, E); prefix = text[: len(text) - len(p.text)]
    parts, sp, at = [prefix], [], p.start
    for a, b in passage_sentences(p):
        parts.append(p.text[at - p.start: a - p.start]); sp.append(len(parts)); parts.append(p.text[a - p.start: b - p.start]); at = b; table.append((r, a, b))
    parts.append(p.text[at - p.start:]); pieces.append(parts); picks.append(sp)
t = time.time(); V, PV = E.embed_pieces(pieces); el = time.time() - t
L = np.concatenate([pv[i] for pv, i in zip(PV, picks)])
np.save(f'/tmp/s2/sf_{sys.argv[1]}_pv.npy', V); np.save(f'/tmp/s2/sf_{sys.argv[1]}_late.npy', L.astype(np.float16)); np.save('/tmp/s2/sf_late_table2.npy', np.array(table))
print('done', el, len(P) / el, 'passages/s', flush=True)
