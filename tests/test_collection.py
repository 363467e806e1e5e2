"""Collection: incremental add/remove/sync of uploads and the atomic swap of the live index (names: test_uploads)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from conftest import FakeEmbedder
from qa.collection import Collection, Upload, UploadLimits, UploadRejectedError
from qa.errors import InputError
from qa.index import Index
from qa.indexing import build_index
from qa.retrieval import Retriever
from qa.storage import IndexStore

LIGHTHOUSE = (
    "# The Zorblax lighthouse\n\n"
    "The Zorblax lighthouse was built in 1887 on the northern cape. "
    "Its lamp is visible for forty kilometres on a clear night.\n"
)


def make_collection(corpus: Path, tmp_path: Path, *, limits: UploadLimits | None = None, writer=None):
    index_dir = tmp_path / "index"
    reader = FakeEmbedder()
    build_index(corpus, index_dir, embedder=reader)
    retriever = Retriever(Index.load(index_dir), embedder=reader)
    collection = Collection(
        retriever, corpus_dir=corpus, index_dir=index_dir, limits=limits, embedder=writer or FakeEmbedder()
    )
    return collection, retriever, index_dir


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- listing ------------------------------------------------------------------------


def test_documents_lists_the_manifest(corpus: Path, tmp_path: Path) -> None:
    collection, retriever, _ = make_collection(corpus, tmp_path)
    docs = {d.doc_id: d for d in collection.documents()}
    assert sorted(docs) == ["cats.txt", "rockets.md", "sub/bread.txt"]
    rockets = docs["rockets.md"]
    assert rockets.title == "Rockets" and rockets.fmt == "md"
    assert rockets.passages == sum(1 for p in retriever.index.passages if p.doc_id == "rockets.md") > 0
    assert rockets.size == (corpus / "rockets.md").stat().st_size
    assert rockets.indexed_at


# -- adding -------------------------------------------------------------------------


def test_add_saves_indexes_and_swaps_the_live_index(corpus: Path, tmp_path: Path) -> None:
    collection, retriever, index_dir = make_collection(corpus, tmp_path)
    before = retriever.index
    steps: list[tuple[float, str]] = []
    change = collection.add(
        [Upload("../../lighthouse.md", LIGHTHOUSE.encode())], progress=lambda f, w: steps.append((f, w))
    )
    assert change.added == ["lighthouse.md"] and change.build is not None
    assert change.build.added == ["lighthouse.md"]
    # Incremental: only the new document's passages were embedded.
    assert change.build.embedded == sum(1 for p in retriever.index.passages if p.doc_id == "lighthouse.md")
    assert (corpus / "lighthouse.md").read_text(encoding="utf-8") == LIGHTHOUSE
    assert not (tmp_path / "lighthouse.md").exists() and not (corpus.parent.parent / "lighthouse.md").exists()
    assert retriever.index is not before
    hits = retriever.search("When was the Zorblax lighthouse built?", k=1)
    assert hits[0].passage.doc_id == "lighthouse.md"
    assert "lighthouse.md" in {d.doc_id for d in collection.documents()}
    assert steps[-1][0] == 1.0 and [f for f, _ in steps] == sorted(f for f, _ in steps)


def test_add_with_an_existing_name_replaces_the_document(corpus: Path, tmp_path: Path) -> None:
    collection, retriever, _ = make_collection(corpus, tmp_path)
    change = collection.add([Upload("cats.txt", b"Cats\n\nCats can see well in the dark.\n")])
    assert change.replaced == ["cats.txt"] and change.added == []
    assert "see well in the dark" in retriever.index.documents["cats.txt"].text


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (Upload("photo.png", b"\x89PNG\r\n\x1a\n"), "unsupported file type"),
        (Upload("blob.txt", b"abc\x00def"), "binary"),
        (Upload("controls.txt", bytes(range(1, 32)) * 8), "binary"),
        (Upload("broken.pdf", b"%PDF-1.4 this is not really a PDF"), "PDF"),
        (Upload("empty.md", b"   \n"), "empty"),
        (Upload("big.txt", b"x" * 2048), "upload limit"),
        (Upload("..", b"text"), "unsupported file type"),
    ],
)
def test_rejected_upload_leaves_corpus_and_index_untouched(
    corpus: Path, tmp_path: Path, upload: Upload, message: str
) -> None:
    collection, retriever, index_dir = make_collection(corpus, tmp_path, limits=UploadLimits(max_bytes=1024))
    files_before = files_under(corpus)
    snapshot_before = IndexStore(index_dir).current()
    index_before = retriever.index
    with pytest.raises(UploadRejectedError, match=message):
        collection.add([upload])
    assert files_under(corpus) == files_before
    assert IndexStore(index_dir).current() == snapshot_before
    assert retriever.index is index_before


def test_one_bad_file_rejects_the_whole_upload(corpus: Path, tmp_path: Path) -> None:
    collection, retriever, index_dir = make_collection(corpus, tmp_path)
    files_before = files_under(corpus)
    with pytest.raises(UploadRejectedError, match="nothing was added") as err:
        collection.add([Upload("good.txt", b"Fine text.\n"), Upload("bad.bin", b"\x00\x01")])
    assert "bad.bin" in str(err.value)
    assert files_under(corpus) == files_before
    with pytest.raises(UploadRejectedError, match="several files"):
        collection.add([Upload("a/same.txt", b"one\n"), Upload("b/same.txt", b"two\n")])


def test_read_uploads_refuses_oversized_files_before_reading(corpus: Path, tmp_path: Path) -> None:
    collection, _, _ = make_collection(corpus, tmp_path, limits=UploadLimits(max_bytes=100, max_files=2))
    big = tmp_path / "big.txt"
    big.write_bytes(b"y" * 101)
    with pytest.raises(UploadRejectedError, match="101 bytes"):
        collection.read_uploads([big])
    small = tmp_path / "small.txt"
    small.write_text("Small.\n", encoding="utf-8")
    assert collection.read_uploads([small], names=["../renamed.txt"]) == [
        Upload("../renamed.txt", b"Small.\n")
    ]
    with pytest.raises(UploadRejectedError, match="at most 2"):
        collection.read_uploads([small, small, small])


def test_failed_indexing_rolls_back_the_files(corpus: Path, tmp_path: Path) -> None:
    writer = FakeEmbedder()
    writer.fail_after = 0
    collection, retriever, index_dir = make_collection(corpus, tmp_path, writer=writer)
    files_before = files_under(corpus)
    snapshot_before = IndexStore(index_dir).current()
    with pytest.raises(RuntimeError, match="simulated crash"):
        collection.add([Upload("lighthouse.md", LIGHTHOUSE.encode()), Upload("cats.txt", b"Changed cats.\n")])
    assert files_under(corpus) == files_before
    assert IndexStore(index_dir).current() == snapshot_before
    assert "lighthouse.md" not in retriever.index.documents


def test_questions_during_indexing_see_the_previous_snapshot(corpus: Path, tmp_path: Path) -> None:
    class SlowEmbedder(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.started = threading.Event()
            self.release = threading.Event()

        def embed(self, texts, *, show_progress=False):
            self.started.set()
            assert self.release.wait(10)
            return super().embed(texts, show_progress=show_progress)

    writer = SlowEmbedder()
    collection, retriever, _ = make_collection(corpus, tmp_path, writer=writer)
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            collection.add([Upload("lighthouse.md", LIGHTHOUSE.encode())])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=upload)
    thread.start()
    assert writer.started.wait(10)
    assert collection.busy
    # Indexing is under way: answers come from the old, complete snapshot.
    hits = retriever.search("When was the Zorblax lighthouse built?", k=3)
    assert hits and all(h.passage.doc_id != "lighthouse.md" for h in hits)
    assert all(
        retriever.index.documents[h.passage.doc_id].text[h.passage.start : h.passage.end] == h.text
        for h in hits
    )
    writer.release.set()
    thread.join(30)
    assert not errors and not collection.busy
    assert (
        retriever.search("When was the Zorblax lighthouse built?", k=1)[0].passage.doc_id == "lighthouse.md"
    )


# -- removing -----------------------------------------------------------------------


def test_remove_deletes_the_file_and_its_passages(corpus: Path, tmp_path: Path) -> None:
    collection, retriever, _ = make_collection(corpus, tmp_path)
    change = collection.remove(["sub/bread.txt"])
    assert change.removed == ["sub/bread.txt"] and change.build is not None
    assert change.build.embedded == 0
    assert not (corpus / "sub" / "bread.txt").exists()
    assert "sub/bread.txt" not in retriever.index.documents
    assert all(p.doc_id != "sub/bread.txt" for p in retriever.index.passages)
    assert [d.doc_id for d in collection.documents()] == ["cats.txt", "rockets.md"]


@pytest.mark.parametrize("doc_id", ["nope.txt", "../cats.txt", "/etc/passwd"])
def test_remove_refuses_unknown_ids_and_changes_nothing(corpus: Path, tmp_path: Path, doc_id: str) -> None:
    collection, retriever, index_dir = make_collection(corpus, tmp_path)
    files_before = files_under(corpus)
    snapshot_before = IndexStore(index_dir).current()
    with pytest.raises(InputError, match="not in the index"):
        collection.remove(["cats.txt", doc_id])
    assert files_under(corpus) == files_before
    assert IndexStore(index_dir).current() == snapshot_before
    with pytest.raises(InputError, match="no document selected"):
        collection.remove([])


def test_sync_picks_up_files_changed_by_hand(corpus: Path, tmp_path: Path) -> None:
    collection, retriever, _ = make_collection(corpus, tmp_path)
    (corpus / "extra.txt").write_text("Extra\n\nA hand-made file about otters.\n", encoding="utf-8")
    (corpus / "cats.txt").unlink()
    change = collection.sync()
    assert change.added == ["extra.txt"] and change.removed == ["cats.txt"]
    assert set(retriever.index.documents) == {"extra.txt", "rockets.md", "sub/bread.txt"}


def test_upload_limit_cannot_exceed_the_indexer_limit(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="upload limit"):
        make_collection(corpus, tmp_path, limits=UploadLimits(max_bytes=10**9))
