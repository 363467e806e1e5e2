"""The HTTP JSON API against a live `qa serve` on 127.0.0.1 (real model, FAISS and seed index):
search, filters, documents, health, OpenAPI, auth, limits, and the documented examples."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
EXAMPLES = ROOT / "docs" / "examples"
DOC_A = "000_39ae44cc0e79be58.txt"
DOC_B = "004_1d47129261bda866.txt"
QUESTION = "How many US soldiers died in May?"
CREDENTIALS = ("reader", "s3cret-pass")
START_TIMEOUT = 180


@dataclass
class Live:
    url: str
    corpus: Path
    process: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(root: Path, seed_index_dir: Path, *, auth: str | None = None) -> Iterator[Live]:
    """`qa serve` in a subprocess on a free loopback port, over a copy of the seeds and their index."""
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(SEEDS, corpus)
    shutil.copytree(seed_index_dir, index)
    port = _free_port()
    cmd = [sys.executable, "-m", "qa", "serve", "--no-index", "--corpus", str(corpus), "--index", str(index)]
    cmd += ["--port", str(port)] + (["--auth", auth] if auth else [])
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    env.pop("QA_AUTH", None)
    log = (root / "server.log").open("w")
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"qa serve exited with {process.returncode}:\n{(root / 'server.log').read_text()}"
                )
            try:
                if requests.get(f"{url}/api/v1/health", timeout=2).status_code in (200, 401):
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"qa serve did not start in {START_TIMEOUT}s:\n{(root / 'server.log').read_text()}"
                )
            time.sleep(0.5)
        yield Live(url, corpus, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, seed_index_dir: Path) -> Iterator[Live]:
    yield from _serve(tmp_path_factory.mktemp("api-open"), seed_index_dir)


@pytest.fixture(scope="module")
def live_auth(tmp_path_factory: pytest.TempPathFactory, seed_index_dir: Path) -> Iterator[Live]:
    yield from _serve(tmp_path_factory.mktemp("api-auth"), seed_index_dir, auth=":".join(CREDENTIALS))


def _texts(live: Live) -> dict[str, str]:
    docs = requests.get(f"{live.url}/api/v1/documents", timeout=10).json()["documents"]
    return {
        d["doc"]: requests.get(f"{live.url}/api/v1/documents/{d['doc']}", timeout=10).json()["text"]
        for d in docs
    }


def test_search_returns_k_exact_cited_passages(live: Live) -> None:
    r = requests.post(f"{live.url}/api/v1/search", json={"question": QUESTION, "k": 4}, timeout=60)
    assert r.status_code == 200, r.text
    (answer,) = r.json()["answers"]
    assert answer["id"] == "q1" and answer["question"] == QUESTION and answer["answered"] is True
    assert len(answer["passages"]) == 4
    texts = _texts(live)
    for rank, p in enumerate(answer["passages"], start=1):
        assert p["rank"] == rank
        assert texts[p["doc"]][p["start"] : p["end"]] == p["text"]
        assert p["citation"].startswith(f"[{rank}] {p['doc']}")


def test_search_matches_the_batch_output_of_the_library(live: Live, seed_retriever) -> None:
    body = {
        "questions": [QUESTION, "who was nominated prime minister"],
        "ids": ["a", "b"],
        "k": 3,
        "mode": "bm25",
    }
    got = requests.post(f"{live.url}/api/v1/search", json=body, timeout=60).json()["answers"]
    expected = seed_retriever.ask_many(body["questions"], k=3, mode="bm25", qids=["a", "b"])
    assert got == [a.to_dict() for a in expected]


def test_filtered_search_returns_only_allowed_documents_and_still_k(live: Live) -> None:
    n_a = requests.get(f"{live.url}/api/v1/documents/{DOC_A}", timeout=10).json()["passages"]
    k = min(5, n_a)
    body = {"question": QUESTION, "k": k, "filters": {"doc": [DOC_A]}}
    (answer,) = requests.post(f"{live.url}/api/v1/search", json=body, timeout=60).json()["answers"]
    assert len(answer["passages"]) == k
    assert {p["doc"] for p in answer["passages"]} == {DOC_A}


def test_filter_errors_are_400_with_what_exists(live: Live) -> None:
    r = requests.post(
        f"{live.url}/api/v1/search", json={"question": QUESTION, "filters": {"doc": "nope.txt"}}, timeout=60
    )
    assert r.status_code == 400
    assert "unknown document id(s) ['nope.txt']" in r.json()["detail"] and DOC_A in r.json()["detail"]
    r = requests.post(
        f"{live.url}/api/v1/search", json={"question": QUESTION, "filters": {"folder": "x"}}, timeout=60
    )
    assert r.status_code == 422


def test_history_reads_a_follow_up_with_the_earlier_questions(live: Live, seed_retriever) -> None:
    earlier = ["Who did the UIA first nominate as prime minister?"]
    body = {"question": "Who replaced him?", "k": 3, "history": earlier}
    r = requests.post(f"{live.url}/api/v1/search", json=body, timeout=60)
    assert r.status_code == 200, r.text
    (answer,) = r.json()["answers"]
    expected = seed_retriever.ask_many(["Who replaced him?"], k=3, qids=["q1"], history=[earlier])[0]
    assert answer == expected.to_dict() and "read_with" in answer
    # Without a history the answer has no read_with, exactly as `qa batch` writes it.
    plain = requests.post(f"{live.url}/api/v1/search", json={"question": QUESTION}, timeout=60).json()
    assert "read_with" not in plain["answers"][0]
    too_long = requests.post(
        f"{live.url}/api/v1/search", json={**body, "history": ["x" * 1999] * 11}, timeout=60
    )
    assert too_long.status_code == 422 and "history" in too_long.json()["detail"]


def test_documents_list_and_detail(live: Live) -> None:
    docs = requests.get(f"{live.url}/api/v1/documents", timeout=10).json()["documents"]
    assert [d["doc"] for d in docs] == sorted(p.name for p in SEEDS.iterdir() if p.suffix == ".txt")
    assert all(d["type"] == "txt" and d["passages"] > 0 for d in docs)
    detail = requests.get(f"{live.url}/api/v1/documents/{DOC_B}", timeout=10).json()
    assert (
        detail["passages"] == len(detail["spans"]) == next(d["passages"] for d in docs if d["doc"] == DOC_B)
    )
    assert all(detail["text"][s["start"] : s["end"]] == s["text"] for s in detail["spans"])
    # The text is the document as indexed (here: the unchanged seed file).
    assert detail["text"] == (live.corpus / DOC_B).read_text(encoding="utf-8")
    missing = requests.get(f"{live.url}/api/v1/documents/sub/nope.txt", timeout=10)
    assert missing.status_code == 404 and "GET /api/v1/documents lists them" in missing.json()["detail"]


def test_health(live: Live) -> None:
    h = requests.get(f"{live.url}/api/v1/health", timeout=10).json()
    assert h["status"] == "ok" and h["documents"] == 2 and h["passages"] > 2
    assert h["model"].endswith("all-MiniLM-L6-v2")


def test_openapi_lists_the_routes_and_docs_are_served_offline(live: Live) -> None:
    spec = requests.get(f"{live.url}/api/openapi.json", timeout=10).json()
    assert {"/v1/search", "/v1/documents", "/v1/documents/{doc_id}", "/v1/health"} <= set(spec["paths"])
    assert "SearchIn" in spec["components"]["schemas"] and "AnswerOut" in spec["components"]["schemas"]
    page = requests.get(f"{live.url}/api/docs", timeout=10)
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assert "cdn" not in page.text.lower()  # scripts come from the server, not a CDN


def test_over_limit_input_is_refused(live: Live) -> None:
    url = f"{live.url}/api/v1/search"
    big = requests.post(
        url,
        data=b'{"question": "' + b"x" * 1_100_000 + b'"}',
        timeout=60,
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413 and "over the limit" in big.json()["detail"]
    long_q = requests.post(url, json={"question": "word " * 500}, timeout=60)
    assert long_q.status_code == 422 and "over the limit of 2000" in long_q.json()["detail"]
    many = requests.post(url, json={"questions": ["q"] * 101}, timeout=60)
    assert many.status_code == 422 and "over the limit of 100" in many.json()["detail"]
    assert requests.post(url, json={"question": QUESTION, "k": 0}, timeout=60).status_code == 422
    assert (
        requests.post(url, json={"question": QUESTION, "questions": [QUESTION]}, timeout=60).status_code
        == 422
    )
    assert requests.post(url, json={"question": QUESTION, "mode": "nope"}, timeout=60).status_code == 422


def test_auth_is_required_when_on(live_auth: Live) -> None:
    for method, path in [
        ("POST", "/api/v1/search"),
        ("GET", "/api/v1/documents"),
        ("GET", "/api/v1/health"),
        ("GET", "/api/docs"),
        ("GET", "/api/openapi.json"),
        ("GET", f"/api/v1/documents/{DOC_A}"),
    ]:
        r = requests.request(method, live_auth.url + path, json={"question": QUESTION}, timeout=30)
        assert r.status_code == 401, path
        assert r.headers["WWW-Authenticate"].startswith("Basic")
    wrong = requests.get(f"{live_auth.url}/api/v1/health", auth=("reader", "wrong"), timeout=10)
    assert wrong.status_code == 401
    ok = requests.post(
        f"{live_auth.url}/api/v1/search", json={"question": QUESTION, "k": 2}, auth=CREDENTIALS, timeout=60
    )
    assert ok.status_code == 200 and len(ok.json()["answers"][0]["passages"]) == 2
    # The web app keeps its own login: its config is refused without the session cookie.
    assert requests.get(live_auth.url + "/config", timeout=10).status_code == 401


def test_documented_examples_are_in_the_docs_and_run(live: Live, live_auth: Live) -> None:
    doc = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    curl = (EXAMPLES / "api_curl.sh").read_text(encoding="utf-8")
    script = (EXAMPLES / "api_requests.py").read_text(encoding="utf-8")
    assert curl.strip() in doc and script.strip() in doc
    for server, auth in ((live, None), (live_auth, ":".join(CREDENTIALS))):
        env = {**os.environ, "QA_URL": server.url}
        env.pop("QA_AUTH", None)
        if auth:
            env["QA_AUTH"] = auth
        out = subprocess.run(
            ["sh", str(EXAMPLES / "api_curl.sh")], env=env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        search, filtered, docs, detail, health = (json.loads(line) for line in out.stdout.splitlines())
        assert len(search["answers"][0]["passages"]) == 3
        assert {p["doc"] for p in filtered["answers"][0]["passages"]} == {DOC_A}
        assert len(docs["documents"]) == 2 and detail["doc"] == DOC_B and health["status"] == "ok"
        out = subprocess.run(
            [sys.executable, str(EXAMPLES / "api_requests.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert (
            "index: 2 documents" in out.stdout
            and "[1] " in out.stdout
            and "q2 Who was nominated" in out.stdout
        )


def test_qa_index_beside_a_running_server_is_picked_up_with_no_failed_request(
    tmp_path: Path, seed_index_dir: Path
) -> None:
    """`qa index` in another process while `qa serve` answers: every request succeeds, and
    once the new snapshot is published the server answers from it."""
    import threading

    server = _serve(tmp_path, seed_index_dir)
    live = next(server)
    try:
        index_dir = tmp_path / "index"
        (live.corpus / "otters.txt").write_text(
            "Otters\n\nSea otters hold hands while they sleep so that they do not drift apart.\n",
            encoding="utf-8",
        )
        statuses: list[int] = []
        stop = threading.Event()

        def ask_until_stopped() -> None:
            for _ in range(500):  # bounded
                if stop.is_set():
                    return
                r = requests.post(
                    f"{live.url}/api/v1/search", json={"question": QUESTION, "k": 3}, timeout=60
                )
                statuses.append(r.status_code)

        asker = threading.Thread(target=ask_until_stopped)
        asker.start()
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "qa",
                    "index",
                    "-q",
                    "--corpus",
                    str(live.corpus),
                    "--index",
                    str(index_dir),
                ],
                check=True,
                timeout=300,
                env={**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"},
            )
        finally:
            stop.set()
            asker.join(timeout=120)
        assert statuses and set(statuses) == {200}
        r = requests.post(
            f"{live.url}/api/v1/search",
            json={"question": "Why do sea otters hold hands while they sleep?", "k": 1},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        (answer,) = r.json()["answers"]
        assert answer["passages"][0]["doc"] == "otters.txt"
        docs = requests.get(f"{live.url}/api/v1/documents", timeout=10).json()["documents"]
        assert "otters.txt" in {d["doc"] for d in docs}
    finally:
        server.close()  # stops the server
