"""App security: uploads land inside the corpus folder only, and no request leaves the machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import FakeEmbedder
from qa.collection import Collection, Upload, UploadRejectedError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[1]
TEXT = b"The Zorblax lighthouse was built in 1887 on the northern cape.\n"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.fixture
def collection(corpus: Path, tmp_path: Path) -> Collection:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder=FakeEmbedder())
    retriever = Retriever(Index.load(index_dir), embedder=FakeEmbedder())
    return Collection(retriever, corpus_dir=corpus, index_dir=index_dir, embedder=FakeEmbedder())


@pytest.mark.parametrize(
    "name",
    [
        "../../x.txt",
        "../x.txt",
        "/tmp/x.txt",
        "/etc/cron.d/x.txt",
        "..\\..\\x.txt",
        "C:\\Windows\\x.txt",
        "sub/../../x.txt",
        "%2e%2e%2fx.txt",
        "x.txt\x00.sh",
        "./.././x.txt",
    ],
)
def test_upload_names_cannot_escape_the_corpus_folder(
    collection: Collection, tmp_path: Path, name: str
) -> None:
    outside_before = _files(tmp_path) - {f"corpus/{f}" for f in _files(collection.corpus_dir)}
    try:
        change = collection.add([Upload(name, TEXT)])
    except UploadRejectedError:
        change = None
    outside_after = _files(tmp_path) - {f"corpus/{f}" for f in _files(collection.corpus_dir)}
    new_outside = {f for f in outside_after - outside_before if not f.startswith("index/")}
    assert not new_outside, f"{name!r} wrote outside the corpus: {new_outside}"
    assert not Path("/tmp/x.txt").exists() or Path("/tmp/x.txt").read_bytes() != TEXT
    if change is not None:
        (doc_id,) = change.added
        assert "/" not in doc_id and "\\" not in doc_id and not doc_id.startswith(".")
        saved = collection.corpus_dir / doc_id
        assert saved.resolve().parent == collection.corpus_dir.resolve() and saved.read_bytes() == TEXT
        assert doc_id in collection.index.documents


def test_upload_onto_a_symlink_is_refused(collection: Collection, tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    target.write_bytes(b"precious\n")
    (collection.corpus_dir / "link.txt").symlink_to(target)
    with pytest.raises(UploadRejectedError, match="cannot be saved"):
        collection.add([Upload("link.txt", TEXT)])
    assert target.read_bytes() == b"precious\n"


@pytest.mark.parametrize("name", ["run.sh", "evil.py", "x.exe", "page.svg", "macro.docm", "archive.zip"])
def test_executable_and_unknown_types_are_refused(collection: Collection, name: str) -> None:
    before = _files(collection.corpus_dir)
    with pytest.raises(UploadRejectedError, match="unsupported file type"):
        collection.add([Upload(name, b"#!/bin/sh\nrm -rf /\n")])
    assert _files(collection.corpus_dir) == before


def test_uploaded_html_is_stored_as_data_and_indexed_as_text(collection: Collection) -> None:
    page = b"<html><body><p>Safe words.</p><script>fetch('http://evil.example')</script></body></html>"
    change = collection.add([Upload("page.html", page)])
    assert change.added == ["page.html"]
    assert (collection.corpus_dir / "page.html").read_bytes() == page  # never rewritten, never run
    assert os.stat(collection.corpus_dir / "page.html").st_mode & 0o111 == 0
    doc = collection.index.documents["page.html"]
    assert doc.text == "Safe words." and "fetch" not in doc.text


def test_upload_of_a_copy_is_refused_and_rolled_back(collection: Collection) -> None:
    original = (collection.corpus_dir / "cats.txt").read_bytes()
    before = _files(collection.corpus_dir)
    with pytest.raises(UploadRejectedError, match="same text as 'cats.txt', already indexed"):
        collection.add([Upload("another cat.txt", original)])
    assert _files(collection.corpus_dir) == before
    assert "cats.txt" in collection.index.documents


# -- no request leaves the machine -----------------------------------------------------

_GUARDED_SERVER = r"""
import ipaddress, json, socket, sys, time
from pathlib import Path

LOG, CORPUS, INDEX, PORT = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])

def record(kind, what):
    with open(LOG, "a") as f:
        f.write(json.dumps([kind, str(what)]) + "\n")

def local(host):
    host = str(host)
    return host in ("localhost", "::1", "0.0.0.0", "") or host.startswith("127.")

real_connect, real_connect_ex, real_gai = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
        record("connect", address)
        raise OSError(101, "Network is unreachable (blocked by the test)")
    return real_connect(self, address)

def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
        record("connect", address)
        return 101
    return real_connect_ex(self, address)

def numeric(host):
    try:
        ipaddress.ip_address(str(host).split("%")[0])
        return True
    except ValueError:
        return False

def getaddrinfo(host, *args, **kwargs):
    # A numeric address needs no lookup; its connect is checked above.
    if host is not None and not local(host) and not numeric(host):
        record("dns", host)
        raise socket.gaierror(-3, "Temporary failure in name resolution (blocked by the test)")
    return real_gai(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
try:  # the guard works: this attempt is recorded and refused
    socket.create_connection(("192.0.2.1", 80), timeout=1)
except OSError:
    pass

from qa.collection import Collection, Upload
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.ui import build_app, launch

build_index(CORPUS, INDEX)
retriever = Retriever.open(INDEX, corpus_dir=CORPUS)
retriever.ask("warm-up", k=1)
collection = Collection(retriever, corpus_dir=CORPUS, index_dir=INDEX)
app = build_app(retriever, collection=collection)
launch(app, port=PORT, block=False, quiet=True)
print("READY", file=sys.stderr, flush=True)
change = collection.add([Upload("zorblax.txt", b"The Zorblax lighthouse was built in 1887.\n")])
print("UPLOADED", change.added, file=sys.stderr, flush=True)
sys.stdin.read()  # serve until the test closes stdin
app.close()
"""


@pytest.mark.e2e
@pytest.mark.slow
def test_app_makes_no_outbound_connection(
    seed_corpus_copy: Path, seed_index_dir: Path, tmp_path: Path
) -> None:
    from gradio_client import Client

    from browser.conftest import _free_port

    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    log, port = tmp_path / "connections.jsonl", _free_port()
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(_GUARDED_SERVER))
    # No offline or analytics switches from the environment: the app must set them itself.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "GRADIO_"))}
    cmd = [sys.executable, str(script), str(log), str(seed_corpus_copy), str(index_dir), str(port)]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    try:
        lines = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                pytest.fail(f"server exited ({proc.poll()}):\n{''.join(lines)[-3000:]}")
            lines.append(line)
            if line.startswith("UPLOADED"):
                break
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, analytics_enabled=False)
        for question in ("Who was nominated prime minister?", "When was the Zorblax lighthouse built?"):
            result = client.predict(question, 3, "hybrid", api_name="/ask")
            assert result["passages"], result
        assert result["passages"][0]["doc"] == "zorblax.txt"
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    attempts = [json.loads(line) for line in log.read_text().splitlines()]
    assert attempts[0] == ["connect", "('192.0.2.1', 80)"], "the guard did not record its own probe"
    assert attempts[1:] == [], f"outbound connection attempts: {attempts[1:]}"
