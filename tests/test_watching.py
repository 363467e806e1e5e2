"""The watched corpus folder: changes re-index once per quiet batch; hidden, foreign files ignored."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from watchfiles import Change

from conftest import FakeEmbedder
from qa.collection import Collection
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.watching import CorpusFilter, CorpusWatcher

WAIT_S = 30  # how long to wait for the watcher before failing (not a speed claim)


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_filter_keeps_documents_and_ignores_hidden_foreign_and_index_files(tmp_path: Path) -> None:
    index = tmp_path / "embeddings"
    f = CorpusFilter(tmp_path, index)
    assert f(Change.added, str(tmp_path / "notes" / "a.md"))
    assert f(Change.modified, str(tmp_path / "guide.PDF"))
    assert f(Change.deleted, str(tmp_path / "old-folder"))
    assert not f(Change.added, str(tmp_path / ".a.md.1234abcd.part"))  # an upload being written
    assert not f(Change.added, str(tmp_path / ".git" / "a.md"))
    assert not f(Change.added, str(tmp_path / "photo.png"))
    assert not f(Change.added, str(index / "manifest.json"))
    assert not f(Change.added, "/elsewhere/a.md")


def test_a_burst_of_changes_is_one_reindex(tmp_path: Path) -> None:
    calls: list[float] = []
    done = threading.Event()

    def reindex(progress) -> str:
        progress(0.5, "indexing")
        calls.append(time.monotonic())
        done.set()
        return "indexed"

    watcher = CorpusWatcher(tmp_path, reindex, debounce_ms=800).start()
    try:
        for i in range(3):
            (tmp_path / f"n{i}.txt").write_text(f"note {i}\n")
        (tmp_path / "ignored.png").write_bytes(b"\x89PNG")
        assert done.wait(WAIT_S)
        time.sleep(1.5)  # a second batch would have come by now
        assert len(calls) == 1
        status = watcher.status
        assert status.watching and not status.busy and status.runs == 1 and status.message == "indexed"
        # Only a supported file triggers a run.
        (tmp_path / "ignored2.png").write_bytes(b"\x89PNG")
        time.sleep(1.5)
        assert len(calls) == 1
    finally:
        watcher.stop()
    assert not watcher.status.watching


def test_a_failing_reindex_is_reported_and_watching_goes_on(tmp_path: Path) -> None:
    attempts: list[int] = []

    def reindex(progress) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk full")
        return "indexed"

    watcher = CorpusWatcher(tmp_path, reindex, debounce_ms=300).start()
    try:
        (tmp_path / "a.txt").write_text("one\n")
        wait_for(lambda: watcher.status.errors, "the first re-index to fail")
        assert "disk full" in watcher.status.message and "still watching" in watcher.status.message
        (tmp_path / "b.txt").write_text("two\n")
        wait_for(lambda: watcher.status.runs == 1, "the second re-index")
    finally:
        watcher.stop()


def test_watched_collection_adds_changes_and_removes_documents(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "keep.txt").write_text("The harbour office opens at nine.\n")
    (corpus / "gone.txt").write_text("The old ferry was sold in 1990.\n")
    index_dir = tmp_path / "index"
    embedder = FakeEmbedder()
    build_index(corpus, index_dir, embedder=embedder)
    retriever = Retriever(Index.load(index_dir), embedder=embedder)
    collection = Collection(retriever, corpus_dir=corpus, index_dir=index_dir, embedder=FakeEmbedder())
    before = retriever.index
    watcher = CorpusWatcher(
        corpus, lambda progress: collection.sync(progress=progress).summary(), debounce_ms=300
    ).start()
    try:
        (corpus / "new.md").write_text("# Tides\n\nHigh tide comes twice a day.\n")
        (corpus / "gone.txt").unlink()
        (corpus / "keep.txt").write_text("The harbour office opens at ten.\n")
        wait_for(lambda: set(retriever.index.documents) == {"keep.txt", "new.md"}, "the new snapshot")
        assert "ten" in retriever.index.documents["keep.txt"].text
        # The previous snapshot was never changed in place: a search running on it is unaffected.
        assert set(before.documents) == {"keep.txt", "gone.txt"}
    finally:
        watcher.stop()
