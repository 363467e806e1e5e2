import sys, time, tempfile
sys.path.insert(0, 'bench')
from indexing import scifact_documents
from qa.embedding import load_embedder
from qa.indexing import build_index, context_text
from qa.index import Index
from qa.sentences import passage_sentences
docs = scifact_documents(800)
E = load_embedder(backend='onnx-int8'); E.embed(['warm'] * 4)
with tempfile.TemporaryDirectory() as tmp:
    build_index(None, tmp + '/i', documents=docs, embedder=E)
    I = Index.load(tmp + '/i')
    texts = [context_text(p, I.settings, E) for p in I.passages]
    pieces = []
    for p, t in zip(I.passages, texts):
        pre = t[: len(t) - len(p.text)]; parts = [pre]; at = p.start
        for a, b in passage_sentences(p):
            parts += [p.text[at - p.start:a - p.start], p.text[a - p.start:b - p.start]]; at = b
        parts.append(p.text[at - p.start:]); pieces.append(parts)
    for rep in range(2):
        t = time.perf_counter(); E.embed(texts); a = time.perf_counter() - t
        t = time.perf_counter(); E.embed_pieces(pieces); b = time.perf_counter() - t
        t = time.perf_counter(); build_index(None, tmp + f'/j{rep}', documents=docs, embedder=E); c = time.perf_counter() - t
        print(f"{len(texts)} passages: embed {len(texts)/a:.1f}/s, embed_pieces {len(texts)/b:.1f}/s, build_index {len(texts)/c:.1f}/s -> {a/c:.0%} of raw", flush=True)
