import time, json, numpy as np
from qa.embedding import load_embedder
docs = [json.loads(l) for l in open('/work/shared/benchmarks/scifact/corpus.jsonl')][:400]
texts = [d['title'] + '\n' + d['text'] for d in docs]
for b in ['torch', 'onnx', 'onnx-int8', 'torch', 'onnx']:
    E = load_embedder(backend=b); E.embed(texts[:32])
    t = time.perf_counter(); E.embed(texts); el = time.perf_counter() - t
    print(b, f"{len(texts)/el:.1f} texts/s", flush=True)
