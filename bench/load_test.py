"""Load test of the web app on loopback: concurrent gradio_client users while a large upload is indexed.

Serves the real app (packaged model, FAISS, a private copy of seeds/ and its index) on a
free 127.0.0.1 port, then N clients (each its own gradio_client.Client) ask Q questions
in total through the public `/ask` API while a document of --upload-kb KB is uploaded
the way the browser does it (HTTP POST to Gradio's upload route, which saves it to a
temporary file; then the collection reads that file and indexes it). Before that, a file
one byte over the upload limit is posted and must be refused (HTTP 413) while it streams.
Pass: zero errors, the oversized upload refused, and every passage of every answer is
exactly `document.text[start:end]` of the live index. Prints p50/p95 latency as JSON.

    .venv/bin/python bench/load_test.py                  # 20 clients, 500 questions, 1 MB upload
    .venv/bin/python bench/load_test.py --clients 20 --questions 100 --upload-kb 200 --timeout 300

Bounded: at most --questions requests, and the run is abandoned (exit 2) after --timeout s.
The clients run in the same process as the server (one machine, shared CPU and GIL), so
latencies are upper bounds; questions are served one at a time (Gradio queue
concurrency 1 for `/ask`), so p50 grows with the number of clients.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

QUESTIONS = [
    "Who was nominated prime minister?",
    "How many US soldiers died in May?",
    "When were the elections held?",
    "Which coalition won the elections?",
    "How many seats did the United Iraqi Alliance win?",
    "What is the size of the army of occupation?",
    "Why has no government been formed?",
    "What did the resistance do?",
    "Who devised the constitution?",
    "What happened to the puppet assembly?",
    "Which parties are in the assembly?",
    "What are the sectarian divisions?",
    "When was the Zorblax lighthouse built?",
    "How far is the lighthouse lamp visible?",
]
UPLOAD_NAME = "zorblax.txt"


def _upload_text(kb: int = 20) -> bytes:
    # About `kb` KB; long enough that indexing it takes a while, so questions overlap it.
    para = (
        "The Zorblax lighthouse was built in 1887 on the northern cape. Its lamp is visible for "
        "forty kilometres on a clear night, and its keeper logs every passing ship. "
    )
    parts = ["Zorblax lighthouse"]
    size, i = 0, 0
    while size < kb * 1024:
        parts.append(f"Log entry {i}: ship {i * 7 % 1000} passed at hour {i % 24}. " + para * 3)
        size += len(parts[-1]) + 2
        i += 1
    return ("\n\n".join(parts) + "\n").encode()


def _post_upload(url: str, name: str, data: bytes) -> tuple[int, str]:
    """POST one file to Gradio's upload route as the browser does: (status, body)."""
    import httpx

    response = httpx.post(f"{url}gradio_api/upload", files={"files": (name, data, "text/plain")}, timeout=600)
    return response.status_code, response.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def run(
    *,
    clients: int = 20,
    questions: int = 500,
    timeout: float = 900.0,
    workdir: Path | None = None,
    k: int = 5,
    upload_kb: int = 1024,
) -> dict:
    """Serve the app, load it, and return the measurements (see the module docstring)."""
    from gradio_client import Client

    from qa.collection import Collection
    from qa.embedding import load_embedder
    from qa.index import Index
    from qa.indexing import build_index
    from qa.retrieval import Retriever
    from qa.ui import build_app, launch

    own_tmp = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="qa-load-")) if workdir is None else Path(workdir)
    corpus, index_dir = workdir / "corpus", workdir / "index"
    shutil.copytree(SEEDS, corpus, dirs_exist_ok=True)
    embedder = load_embedder()
    build_index(corpus, index_dir, embedder=embedder)
    retriever = Retriever(Index.load(index_dir), embedder=embedder)
    collection = Collection(retriever, corpus_dir=corpus, index_dir=index_dir)
    app = build_app(retriever, collection=collection)
    port = _free_port()
    launch(app, port=port, block=False, quiet=True, max_file_size=collection.limits.max_bytes)
    url = f"http://127.0.0.1:{port}/"
    # Over the limit by one byte: refused while it streams in, before it is written whole.
    oversize_status, _ = _post_upload(url, "too-big.txt", b"x" * (collection.limits.max_bytes + 1))

    work: queue.Queue[tuple[int, str]] = queue.Queue()
    # The last questions are released once the upload is indexed, and ask about it, so the
    # run always ends with the new document being served.
    tail = min(clients, questions // 5)
    for i in range(questions - tail):
        work.put((i, QUESTIONS[i % len(QUESTIONS)]))
    upload_done = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []
    results: list[dict] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout
    upload: dict = {}

    def connect() -> Client | None:
        # Clients connect one by one before the load starts: the test is of answering,
        # not of 20 simultaneous page loads. No client analytics: nothing leaves the machine.
        for attempt in range(3):
            try:
                return Client(url, verbose=False, analytics_enabled=False, httpx_kwargs={"timeout": 120})
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
                if attempt == 2:
                    errors.append(f"connect: {exc!r}")
        return None

    connected = [c for c in (connect() for _ in range(clients)) if c is not None]

    def user(client: Client) -> None:
        while time.monotonic() < deadline:
            try:
                i, question = work.get(timeout=0.1)
            except queue.Empty:
                if upload_done.is_set() and work.empty():
                    return
                continue
            t0 = time.perf_counter()
            try:
                result = client.predict(question, k, "hybrid", api_name="/ask")
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"question {i}: {exc!r}")
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                results.append(result)

    def uploader() -> None:
        # Start once answers are flowing, so questions are answered while it indexes.
        while len(latencies) < tail and time.monotonic() < deadline:
            time.sleep(0.05)
        t0, before = time.perf_counter(), len(latencies)
        try:
            data = _upload_text(upload_kb)
            upload["bytes"] = len(data)
            status, body = _post_upload(url, UPLOAD_NAME, data)
            if status != 200:
                raise RuntimeError(f"upload refused: HTTP {status} {body[:200]}")
            [saved] = json.loads(body)
            change = collection.add_files([saved], names=[UPLOAD_NAME])
            upload.update(added=change.added, embedded=change.build.embedded if change.build else 0)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"upload: {exc!r}")
        upload["seconds"] = round(time.perf_counter() - t0, 2)
        upload["answers_while_indexing"] = len(latencies) - before
        for i in range(questions - tail, questions):
            work.put((i, "When was the Zorblax lighthouse built?"))
        upload_done.set()

    threads = [threading.Thread(target=user, args=(c,)) for c in connected]
    threads.append(threading.Thread(target=uploader))
    t_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 60)
    wall = time.perf_counter() - t_start
    timed_out = time.monotonic() >= deadline and len(results) + len(errors) < questions

    # Exactness: every quoted passage is the slice of the document the live index holds.
    documents = collection.index.documents
    inexact = 0
    zorblax_answers = 0
    for result in results:
        for p in result["passages"]:
            doc = documents.get(p["doc"])
            if doc is None or doc.text[p["start"] : p["end"]] != p["text"]:
                inexact += 1
            zorblax_answers += p["doc"] == UPLOAD_NAME
    app.close()
    if own_tmp:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "clients": clients,
        "clients_connected": len(connected),
        "questions": questions,
        "answered": len(results),
        "errors": len(errors),
        "error_samples": errors[:5],
        "inexact_passages": inexact,
        "passages_checked": sum(len(r["passages"]) for r in results),
        "passages_from_upload": zorblax_answers,
        "timed_out": timed_out,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(_percentile(latencies, 95), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "wall_s": round(wall, 1),
        "questions_per_s": round(len(results) / wall, 2) if wall else None,
        "upload": upload,
        "oversize_upload_status": oversize_status,
    }


def passed(report: dict) -> bool:
    return (
        report["errors"] == 0
        and report["clients_connected"] == report["clients"]
        and report["inexact_passages"] == 0
        and report["answered"] == report["questions"]
        and not report["timed_out"]
        and report["upload"].get("added") == [UPLOAD_NAME]
        and report["oversize_upload_status"] == 413
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent gradio_client users (default 20)")
    parser.add_argument("--questions", type=int, default=500, help="questions in total (default 500)")
    parser.add_argument("--timeout", type=float, default=900, help="abandon the run after this many seconds")
    parser.add_argument("-k", type=int, default=5, help="passages per answer (default 5)")
    parser.add_argument(
        "--upload-kb", type=int, default=1024, help="size of the uploaded document in KB (default 1024)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    report = run(
        clients=args.clients,
        questions=args.questions,
        timeout=args.timeout,
        k=args.k,
        upload_kb=args.upload_kb,
    )
    report["passed"] = passed(report)
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] else (2 if report["timed_out"] else 1)


if __name__ == "__main__":
    sys.exit(main())
