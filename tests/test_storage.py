"""Index integrity: corrupted or truncated files are detected at load, `qa check` finds them,
a rebuild recovers, and readers only ever see complete snapshots."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

import qa.indexing
from qa.cli import main
from qa.errors import (
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
)
from qa.index import Index
from qa.indexing import build_index
from qa.manifest import MANIFEST, content_digest
from qa.retrieval import Retriever
from qa.storage import IndexStore


@pytest.fixture
def built(corpus: Path, tmp_path: Path, fake_embedder) -> Path:
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, embedder=fake_embedder)
    return index_dir


@pytest.fixture
def cli_fake_model(monkeypatch: pytest.MonkeyPatch, fake_embedder) -> None:
    """`qa index` in-process with the fake embedder (it resolves and loads a model by name)."""
    monkeypatch.setattr(qa.indexing, "resolve_model", lambda name: (fake_embedder.name, Path(".")))
    monkeypatch.setattr(qa.indexing, "model_fingerprint", lambda path: fake_embedder.fingerprint())
    monkeypatch.setattr(qa.indexing, "load_embedder", lambda name, backend=None: fake_embedder)


def _live(index_dir: Path) -> Path:
    live = IndexStore(index_dir).current()
    assert live is not None
    return live


def _flip_byte(path: Path, offset: int = -20) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _bm25_file(live: Path) -> Path:
    return sorted(p for p in (live / "bm25").rglob("*") if p.is_file())[0]


def _rewrite_manifest(live: Path, edit) -> None:
    """Edit the manifest and recompute its digest (a consistent, but wrong, manifest)."""
    d = json.loads((live / MANIFEST).read_text())
    edit(d)
    d["digest"] = content_digest(d)
    (live / MANIFEST).write_text(json.dumps(d))


DAMAGE = {
    "vectors-bitflip": (lambda live: _flip_byte(live / "vectors.npy"), "vectors.npy fails its checksum"),
    "faiss-truncated": (lambda live: _truncate(live / "index.faiss"), "index.faiss is"),
    "passages-truncated": (lambda live: _truncate(live / "table/passages.npy"), "(truncated or altered)"),
    "documents-edited": (
        lambda live: (live / "table/strings.bin").write_bytes(
            (live / "table/strings.bin").read_bytes().replace(b"Cats", b"Dogs")
        ),
        "strings.bin fails its checksum",
    ),
    "bm25-missing": (lambda live: _bm25_file(live).unlink(), "is missing"),
    "manifest-garbage": (lambda live: (live / MANIFEST).write_bytes(b"\x00{not json"), "is not valid JSON"),
    "manifest-truncated": (lambda live: _truncate(live / MANIFEST), "is not valid JSON"),
    "manifest-no-files": (
        lambda live: _rewrite_manifest(live, lambda d: d.pop("files")),
        "does not list documents.json, index.faiss, table/documents.npy, table/pages.npy, table/passages.npy, table/strings.bin, vectors.npy",
    ),
    "manifest-no-model": (
        lambda live: _rewrite_manifest(live, lambda d: d.pop("model")),
        "lacks a field",
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_is_detected_at_load_and_rebuild_recovers(
    built: Path, corpus: Path, fake_embedder, damage: str, capsys
) -> None:
    # Read before the damage: the tables are memory-mapped, and the harm edits files in place.
    before = [p.to_dict() for p in Index.load(built).passages]
    harm, message = DAMAGE[damage]
    harm(_live(built))
    with pytest.raises(IndexCorruptError, match="run `qa index --rebuild`") as exc:
        Index.load(built)
    assert message in str(exc.value)
    # The CLI turns it into one line and exit status 1, not a traceback.
    assert main(["status", "--index", str(built), "--corpus", str(corpus)]) == 1
    err = capsys.readouterr().err
    assert "qa: ERROR:" in err and message in err and "Traceback" not in err

    report = build_index(corpus, built, embedder=fake_embedder, rebuild=True)
    assert report.full_rebuild_reason.startswith(("previous index unusable", "--rebuild was given"))
    after = Index.load(built)
    assert [p.to_dict() for p in after.passages] == before
    assert len(list(built.glob("v-*"))) == 1  # the damaged snapshot is gone


def test_plain_index_also_falls_back_to_a_full_rebuild(built: Path, corpus: Path, fake_embedder) -> None:
    _flip_byte(_live(built) / "vectors.npy")
    report = build_index(corpus, built, embedder=fake_embedder)
    assert report.full_rebuild_reason.startswith("previous index unusable (index file vectors.npy fails")
    assert sorted(report.added) == ["cats.txt", "rockets.md", "sub/bread.txt"]
    assert len(Index.load(built)) == report.passages


def test_cli_index_rebuild_recovers(built: Path, corpus: Path, cli_fake_model, capsys) -> None:
    _truncate(_live(built) / "table/passages.npy")
    assert main(["index", "--index", str(built), "--corpus", str(corpus), "--rebuild", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["full_rebuild_reason"].startswith(
        "previous index unusable (index file table/passages.npy is"
    )
    assert report["passages"] > 0
    assert main(["check", "--index", str(built)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_check_hashes_what_load_only_sizes(built: Path, capsys) -> None:
    # Big indexes skip hashing at load (sizes only); `qa check` always hashes.
    _flip_byte(_live(built) / "index.faiss", offset=-5)
    assert len(Index.load(built, hash_limit=0)) > 0
    assert main(["check", "--index", str(built)]) == 1
    assert "index.faiss fails its checksum" in capsys.readouterr().err


def test_check_reports_ok_with_counts(built: Path, capsys) -> None:
    assert main(["check", "--index", str(built), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    index = Index.load(built)
    assert result == {
        "ok": True,
        "index": str(index.path),
        "files": len(index.manifest.files),
        "documents": 3,
        "passages": len(index),
    }


def test_check_without_index(tmp_path: Path, capsys) -> None:
    assert main(["check", "--index", str(tmp_path / "none")]) == 1
    assert "no index in" in capsys.readouterr().err


def test_current_pointing_nowhere_is_corrupt(built: Path) -> None:
    (built / "CURRENT").write_text("v-does-not-exist\n")
    with pytest.raises(IndexCorruptError, match="names snapshot v-does-not-exist, which does not exist"):
        Index.load(built)


def test_no_current_and_no_snapshot_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "idx").mkdir()
    with pytest.raises(IndexNotFoundError, match="run `qa index` first"):
        Index.load(tmp_path / "idx")


def test_unknown_format_version_asks_for_rebuild(built: Path) -> None:
    _rewrite_manifest(_live(built), lambda d: d.update(format=99))
    with pytest.raises(IndexMismatchError, match="index format 99 is not supported"):
        Index.load(built)


# -- atomic updates ------------------------------------------------------------------


def test_failed_build_leaves_the_previous_index(built: Path, corpus: Path, fake_embedder) -> None:
    before = Index.load(built)
    (corpus / "new.txt").write_text("A new document about lighthouses.\n")
    fake_embedder.fail_after = len(fake_embedder.embedded)  # the next embed call fails
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(corpus, built, embedder=fake_embedder)
    assert Index.load(built).path == before.path
    fake_embedder.fail_after = None
    report = build_index(corpus, built, embedder=fake_embedder)
    assert report.added == ["new.txt"]


def test_failure_while_writing_removes_the_temp_folder_and_keeps_the_index(
    built: Path, corpus: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = Index.load(built)
    (corpus / "new.txt").write_text("A new document about lighthouses.\n")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(qa.indexing, "save_tables", fail)
    with pytest.raises(IndexWriteError, match=f"no space left on the device of the index folder {built}"):
        build_index(corpus, built, embedder=fake_embedder)
    assert not list(built.glob(".tmp-*"))  # freed at once
    assert Index.load(built).path == before.path
    monkeypatch.undo()
    assert build_index(corpus, built, embedder=fake_embedder).added == ["new.txt"]
    assert not list(built.glob(".tmp-*"))


def test_old_reader_keeps_answering_after_a_swap(built: Path, corpus: Path, fake_embedder) -> None:
    old = Retriever(Index.load(built), embedder=fake_embedder)
    old_path = old.index.path
    (corpus / "cats.txt").write_text("Cats\n\nCats hunt mice at night in the barn.\n")
    build_index(corpus, built, embedder=fake_embedder)  # the old snapshot is kept as the previous one
    (corpus / "rockets.md").write_text("# Rockets\n\nRockets fly.\n")
    build_index(corpus, built, embedder=fake_embedder)
    assert not old_path.exists()  # the old snapshot folder was removed ...
    for hit in old.search("cat purrs content", k=3):  # ... yet its reader still answers exactly
        assert old.index.documents[hit.passage.doc_id].text[hit.passage.start : hit.passage.end] == hit.text
    new = Index.load(built)
    assert "barn" in new.documents["cats.txt"].text and "purrs" in old.index.documents["cats.txt"].text


def test_readers_never_see_a_half_written_index(corpus: Path, tmp_path: Path, fake_embedder) -> None:
    index_dir = tmp_path / "idx"
    states = {}
    for variant in ("a", "b"):
        (corpus / "extra.txt").write_text(
            f"Variant {variant}.\n\n" + f"Sentence {variant}. " * 300 * (variant == "b")
        )
        build_index(corpus, index_dir, embedder=fake_embedder)
        index = Index.load(index_dir)
        states[len(index)] = sorted(index.documents)
    assert len(states) == 2, "the two variants must differ in passage count"
    errors: list[BaseException] = []
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                index = Index.load(index_dir)
                seen.add(len(index))
                assert len(index) in states
                for p in index.passages:
                    assert index.documents[p.doc_id].text[p.start : p.end] == p.text
            except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for i in range(8):
            variant = "ab"[i % 2]
            (corpus / "extra.txt").write_text(
                f"Variant {variant}.\n\n" + f"Sentence {variant}. " * 300 * (variant == "b")
            )
            build_index(corpus, index_dir, embedder=fake_embedder)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors[0]
    assert seen, "the readers loaded the index at least once"


def test_writer_lock_is_exclusive(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "idx")
    with store.lock():
        with pytest.raises(IndexLockedError, match="another process is writing"):
            with store.lock(wait=False):
                pass
    with store.lock(wait=False):  # released again
        pass


def test_orphan_snapshot_folders_are_removed_on_publish(built: Path, corpus: Path, fake_embedder) -> None:
    live = _live(built)
    orphan = built / "v-19700101T000000-deadbeef"  # a build killed between rename and CURRENT
    shutil.copytree(live, orphan)
    (built / ".CURRENT-deadbeef").write_text(orphan.name)
    assert Index.load(built).path == live
    (corpus / "new.txt").write_text("New.\n")
    build_index(corpus, built, embedder=fake_embedder)
    assert not orphan.exists() and not list(built.glob(".CURRENT-*"))
