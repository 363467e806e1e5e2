import cProfile, pstats, sys, tempfile, time
sys.path.insert(0, 'bench')
from indexing import scifact_documents
from qa.embedding import load_embedder
from qa.indexing import build_index
docs = scifact_documents(1500)
E = load_embedder(backend='onnx-int8'); E.embed(['warm'] * 4)
with tempfile.TemporaryDirectory() as tmp:
    pr = cProfile.Profile(); t = time.perf_counter(); pr.enable()
    r = build_index(None, tmp + '/i', documents=docs, embedder=E)
    pr.disable(); print('build', time.perf_counter() - t, r.passages)
    pstats.Stats(pr).sort_stats('cumulative').print_stats(28)
