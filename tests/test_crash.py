"""Crash safety: SIGKILL a real `qa index` process part-way through a build.

The previous index must still load and answer exactly, and the next `qa index` must
succeed and clean up what the killed build left behind.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import qa.indexing
import qa.retrieval.retriever
from conftest import FakeEmbedder
from qa.cli import main
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.storage import IndexStore

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
QA = ROOT / ".venv" / "bin" / "qa"
QUESTION = "Who was nominated prime minister?"


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.pop("QA_MODEL", None)
    return env


def _wait_for_line(proc: subprocess.Popen, marker: str, timeout: float) -> list[str]:
    """Read the process's stderr until a line holds `marker`; fail if it exits or times out."""
    lines: list[str] = []
    found = threading.Event()

    def pump() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.append(line)
            if marker in line:
                found.set()

    threading.Thread(target=pump, daemon=True).start()
    if not found.wait(timeout):
        proc.kill()
        pytest.fail(f"never saw {marker!r} (exit {proc.poll()}); stderr:\n{''.join(lines)[-3000:]}")
    return lines


def _kill(proc: subprocess.Popen) -> None:
    assert proc.poll() is None, "the build must still be running when it is killed"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def _run_and_kill_when_stalled(code: str) -> None:
    """Run a Python script that prints STALLED when it reaches the moment to test; SIGKILL it there."""
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=_env())
    try:
        _wait_for_line(proc, "STALLED", timeout=120)
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()


def _assert_exact_answers(index: Index, retriever: Retriever) -> list[str]:
    answer = retriever.ask(QUESTION, k=5)
    assert answer.hits
    for hit in answer.hits:
        assert index.documents[hit.passage.doc_id].text[hit.passage.start : hit.passage.end] == hit.text
    return [h.passage_id for h in answer.hits]


def _filler(n_paragraphs: int, seed: int) -> str:
    rng = random.Random(seed)
    words = "river harbour ledger council granite orchard lantern meadow copper signal".split()
    paragraphs = []
    for _ in range(n_paragraphs):
        sentences = [" ".join(rng.choice(words) for _ in range(14)).capitalize() + "." for _ in range(11)]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs) + "\n"


@pytest.mark.e2e
@pytest.mark.slow
def test_sigkill_during_embedding_keeps_the_previous_index(
    seed_corpus_copy: Path, seed_index_dir: Path, tmp_path: Path, real_embedder, monkeypatch, capsys
) -> None:
    corpus, index_dir = seed_corpus_copy, tmp_path / "idx"
    shutil.copytree(seed_index_dir, index_dir)  # the seed index, built once per session
    before = Index.load(index_dir)
    baseline = _assert_exact_answers(before, Retriever(before, embedder=real_embedder))

    # Enough new text that embedding takes a few seconds (~48 passages of ~150 words pieces).
    for i in range(4):
        (corpus / f"filler_{i}.txt").write_text(f"Filler {i}\n\n" + _filler(12, seed=i), encoding="utf-8")
    cmd = [str(QA), "index", "--corpus", str(corpus), "--index", str(index_dir), "--no-progress"]
    proc = subprocess.Popen(
        [*cmd, "-v"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=_env()
    )
    try:
        _wait_for_line(proc, "embedding ", timeout=300)
        time.sleep(0.3)  # well inside the forward passes
        in_embedding = not list(index_dir.glob(".tmp-*"))
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert in_embedding, "the snapshot was already being written: make the filler bigger"

    # The previous index is untouched: same snapshot, same answers, exact citations, checksums OK.
    after = Index.load(index_dir)
    assert after.path == before.path and after.manifest == before.manifest
    assert sorted(p.name for p in index_dir.glob("v-*")) == [before.path.name]
    assert _assert_exact_answers(after, Retriever(after, embedder=real_embedder)) == baseline
    assert main(["check", "--index", str(index_dir)]) == 0
    capsys.readouterr()

    # The writer lock died with the process, and the next build succeeds.
    with IndexStore(index_dir).lock(wait=False):
        pass
    # `qa index` again, in-process with the already loaded model to save a model load.
    monkeypatch.setattr(qa.indexing, "load_embedder", lambda name=None, backend=None: real_embedder)
    assert main(cmd[1:]) == 0
    assert "added (4): filler_0.txt" in capsys.readouterr().out
    new = Index.load(index_dir)
    assert {f"filler_{i}.txt" for i in range(4)} <= set(new.documents)
    assert not list(index_dir.glob(".tmp-*")) and IndexStore(index_dir).snapshots() == [new.path, before.path]
    _assert_exact_answers(new, Retriever(new, embedder=real_embedder))


# -- killed while writing the snapshot (fake embedder: the storage is what is tested) --

_STALL_WRITE = """
import sys, time
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
import qa.indexing
import qa.retrieval.retriever
real = qa.indexing.save_tables

def stalled(folder, arrays):
    # Write half the table files, then hang: the snapshot folder is partial.
    names = sorted(arrays)
    real(folder, {{n: arrays[n] for n in names[: len(names) // 2]}})
    print("STALLED", folder, file=sys.stderr, flush=True)
    time.sleep(600)

qa.indexing.save_tables = stalled
qa.indexing.build_index({corpus!r}, {index!r}, embedder=FakeEmbedder())
"""

_STALL_PUBLISH = """
import os, sys, time, types
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
import qa.indexing, qa.storage

def stalled_replace(src, dst):
    # The new snapshot is renamed into place, but CURRENT is not switched yet.
    print("STALLED", dst, file=sys.stderr, flush=True)
    time.sleep(600)

qa.storage.os = types.SimpleNamespace(**{{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}})
qa.storage.os.replace = stalled_replace
qa.indexing.build_index({corpus!r}, {index!r}, embedder=FakeEmbedder())
"""


@pytest.mark.parametrize(
    ("script", "leftover"),
    [(_STALL_WRITE, ".tmp-*"), (_STALL_PUBLISH, ".CURRENT-*")],
    ids=["mid-write", "before-switch"],
)
def test_sigkill_while_publishing_keeps_the_previous_index(
    corpus: Path, tmp_path: Path, fake_embedder, script: str, leftover: str
) -> None:
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, embedder=fake_embedder)
    before = Index.load(index_dir)
    old_answer = _assert_exact_answers(before, Retriever(before, embedder=fake_embedder))
    (corpus / "new.txt").write_text("Lighthouses\n\nA lighthouse keeper tends the lamp.\n" * 3)

    code = textwrap.dedent(script).format(tests=str(TESTS), corpus=str(corpus), index=str(index_dir))
    _run_and_kill_when_stalled(code)

    assert list(index_dir.glob(leftover)), "the killed build left its work in progress behind"
    after = Index.load(index_dir)
    assert after.path == before.path and "new.txt" not in after.documents
    assert _assert_exact_answers(after, Retriever(after, embedder=fake_embedder)) == old_answer

    report = build_index(corpus, index_dir, embedder=fake_embedder)
    assert report.added == ["new.txt"]
    assert not list(index_dir.glob(".tmp-*")) and not list(index_dir.glob(".CURRENT-*"))
    # The new snapshot and the previous one (kept for `qa index --recover`); the orphan is gone.
    assert IndexStore(index_dir).snapshots() == [report.snapshot, before.path]
    assert "new.txt" in Index.load(index_dir).documents


# -- SIGKILL at more moments of a build, then `qa ask` and a completed rebuild ---------

_STALL_AT = """
import importlib, sys, time
sys.path.insert(0, {tests!r})
import conftest
from conftest import FakeEmbedder
import qa.indexing
import qa.retrieval.retriever

owner = importlib.import_module({module!r})
for name in {path!r}[:-1]:
    owner = getattr(owner, name)
real = getattr(owner, {path!r}[-1])

def stalled(*args, **kwargs):
    print("STALLED", file=sys.stderr, flush=True)
    time.sleep(600)

setattr(owner, {path!r}[-1], stalled)
qa.indexing.build_index({corpus!r}, {index!r}, embedder=FakeEmbedder())
"""

# (module, attribute path, which snapshot is live after the kill)
MOMENTS = {
    "embedding": ("conftest", ("FakeEmbedder", "embed_pieces"), "old"),
    "store-build": ("qa.indexing", ("build_store",), "old"),
    "manifest-write": ("qa.manifest", ("Manifest", "write"), "old"),
    "fsync-before-rename": ("qa.storage", ("_fsync_tree",), "old"),
    "after-switch": ("qa.storage", ("IndexStore", "_remove_old"), "new"),
}


@pytest.fixture
def cli_fake_model(monkeypatch: pytest.MonkeyPatch, fake_embedder):
    """`qa ask` / `qa index` / `qa check` in-process with the fake embedder."""
    monkeypatch.setattr(
        qa.retrieval.retriever, "load_embedder", lambda name=None, backend=None: fake_embedder
    )
    monkeypatch.setattr(qa.indexing, "resolve_model", lambda name: (fake_embedder.name, Path(".")))
    monkeypatch.setattr(qa.indexing, "model_fingerprint", lambda path: fake_embedder.fingerprint())
    monkeypatch.setattr(qa.indexing, "load_embedder", lambda name=None, backend=None: fake_embedder)
    return fake_embedder


@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_sigkill_at_each_moment_then_ask_and_rebuild(
    corpus: Path, tmp_path: Path, cli_fake_model, capsys, moment: str
) -> None:
    module, path, live_after = MOMENTS[moment]
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, embedder=cli_fake_model)
    before = Index.load(index_dir)
    (corpus / "new.txt").write_text("Lighthouses\n\nA lighthouse keeper tends the lamp.\n" * 3)

    code = textwrap.dedent(_STALL_AT).format(
        tests=str(TESTS), module=module, path=path, corpus=str(corpus), index=str(index_dir)
    )
    _run_and_kill_when_stalled(code)

    after = Index.load(index_dir)
    if live_after == "old":
        assert after.path == before.path and "new.txt" not in after.documents
    else:
        assert after.path != before.path and "new.txt" in after.documents
    ask = ["ask", "lighthouse keeper lamp", "--index", str(index_dir), "--corpus", str(corpus), "-k", "3"]
    assert main(ask) == 0
    assert "[1] " in capsys.readouterr().out

    # The next `qa index` completes and leaves only the new snapshot and its previous one.
    assert main(["index", "--index", str(index_dir), "--corpus", str(corpus), "--rebuild"]) == 0
    capsys.readouterr()
    final = Index.load(index_dir)
    assert "new.txt" in final.documents
    assert not list(index_dir.glob(".tmp-*")) and not list(index_dir.glob(".CURRENT-*"))
    assert IndexStore(index_dir).snapshots() == [final.path, after.path]
    assert main(["check", "--index", str(index_dir)]) == 0
    assert main(ask) == 0
    assert "lighthouse keeper" in capsys.readouterr().out


# -- two `qa index` at once ------------------------------------------------------------

_SLOW_INDEX = """
import sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from conftest import FakeEmbedder
import qa.indexing
import qa.retrieval.retriever
from qa.cli import main

fake = FakeEmbedder()
real = fake.embed_pieces

def slow(*args, **kwargs):
    print("EMBEDDING", file=sys.stderr, flush=True)
    time.sleep({pause})  # hold the writer lock a while
    return real(*args, **kwargs)

fake.embed_pieces = slow
qa.indexing.resolve_model = lambda name: (fake.name, Path("."))
qa.indexing.model_fingerprint = lambda path: fake.fingerprint()
qa.indexing.load_embedder = lambda name=None, backend=None: fake
sys.exit(main(["index", "--corpus", {corpus!r}, "--index", {index!r}, "--no-progress"]))
"""


def test_two_concurrent_index_commands_run_one_after_the_other(
    corpus: Path, tmp_path: Path, fake_embedder
) -> None:
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, embedder=fake_embedder)
    (corpus / "new.txt").write_text("Lighthouses\n\nA lighthouse keeper tends the lamp.\n")

    def start(pause: float) -> subprocess.Popen:
        code = textwrap.dedent(_SLOW_INDEX).format(
            tests=str(TESTS), corpus=str(corpus), index=str(index_dir), pause=pause
        )
        return subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )

    first = start(pause=4)
    second = None
    try:
        _wait_for_line(first, "EMBEDDING", timeout=120)  # the first holds the lock
        second = start(pause=0)
        out2, err2 = second.communicate(timeout=120)
        assert first.wait(timeout=120) == 0
        assert second.returncode == 0, err2
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    # The second waited for the first (and said so), then found the index up to date.
    assert "another process is writing the index" in err2 and "waiting" in err2
    assert out2.startswith("index is up to date")
    index = Index.load(index_dir)
    assert "new.txt" in index.documents
    assert len(IndexStore(index_dir).snapshots()) == 2


# -- resume: a killed build's embedded chunks are reused ---------------------------------

_KILL_AFTER_CHUNKS = """
import sys, time
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
import qa.checkpoint
import qa.indexing

qa.checkpoint.CHECKPOINT_EVERY = 4
fake = FakeEmbedder()
real = fake.embed_pieces
calls = []

def counted(*args, **kwargs):
    calls.append(1)
    if len(calls) > {chunks}:
        print("STALLED", file=sys.stderr, flush=True)
        time.sleep(600)
    return real(*args, **kwargs)

fake.embed_pieces = counted
qa.indexing.build_index({corpus!r}, {index!r}, embedder=fake)
"""


def test_a_killed_build_resumes_from_what_it_embedded(
    corpus: Path, tmp_path: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        (corpus / f"filler_{i}.txt").write_text(f"Filler {i}\n\n" + _filler(3, seed=i), encoding="utf-8")
    index_dir = tmp_path / "idx"
    code = textwrap.dedent(_KILL_AFTER_CHUNKS).format(
        tests=str(TESTS), corpus=str(corpus), index=str(index_dir), chunks=2
    )
    _run_and_kill_when_stalled(code)  # two chunks of 4 passages are saved
    assert len(list((index_dir / ".partial").rglob("chunk-*.npz"))) == 2

    monkeypatch.setattr(qa.checkpoint, "CHECKPOINT_EVERY", 4)
    report = build_index(corpus, index_dir, embedder=fake_embedder)
    assert report.resumed == 8 and report.embedded == report.passages - 8 > 0
    assert "8 passages resumed from an interrupted build" in report.summary()
    assert not (index_dir / ".partial").exists()
    # The resumed vectors sit in the right rows: the same as a build in one go.
    fresh = build_index(corpus, tmp_path / "fresh", embedder=FakeEmbedder())
    assert fresh.embedded == report.passages
    resumed, whole = Index.load(index_dir), Index.load(tmp_path / "fresh")
    assert [p.passage_id for p in resumed.passages] == [p.passage_id for p in whole.passages]
    np.testing.assert_array_equal(resumed.load_vectors(), whole.load_vectors())
    np.testing.assert_array_equal(resumed.sentences.vectors, whole.sentences.vectors)
