import logging, time, sys
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
from qa.beir import load_beir, ensure_beir_index
from qa.config import IndexSettings
b = load_beir('/work/shared/benchmarks/scifact')
t = time.time(); r = ensure_beir_index(b, sys.argv[1], settings=IndexSettings(), show_progress=False); print(r.summary(), time.time() - t, flush=True)
