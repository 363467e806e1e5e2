"""The fault matrix (issue #16): every way a built snapshot can be damaged gives a one-line
error naming the file and the fix, never a traceback, and `qa index --recover` goes back
to the previous intact snapshot. Also: a full disk and a read-only index folder.

`QA_WRITE_FAULT_TABLE=1` writes the matrix into docs/RELIABILITY.md (between the
`fault-matrix` markers), so the table in the docs is what this suite saw.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import qa.indexing
import qa.retrieval.retriever
from conftest import FakeEmbedder, downgrade_to_jsonl, write_corpus
from qa.cli import main
from qa.errors import IndexCorruptError, IndexWriteError, QAError
from qa.index import Index, recover_index
from qa.indexing import build_index
from qa.manifest import MANIFEST, content_digest
from qa.storage import CURRENT, IndexStore

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "RELIABILITY.md"
START, END = "<!-- fault-matrix:start -->", "<!-- fault-matrix:end -->"
QUESTION = "How fast is orbital velocity?"
TEXT_SUFFIXES = (".json", ".jsonl")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, index folder) with two snapshots: the live one and the previous, intact one."""
    base = tmp_path_factory.mktemp("faults")
    corpus = write_corpus(base / "corpus")
    index_dir = base / "idx"
    embedder = FakeEmbedder()
    build_index(corpus, index_dir, embedder=embedder)
    (corpus / "lighthouse.txt").write_text("Lighthouses\n\nA keeper tends the lamp.\n", encoding="utf-8")
    build_index(corpus, index_dir, embedder=embedder)
    assert len(IndexStore(index_dir).snapshots()) == 2
    return corpus, index_dir


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeEmbedder:
    """`qa ask` and `qa index` in-process with the fake embedder."""
    embedder = FakeEmbedder()
    monkeypatch.setattr(qa.retrieval.retriever, "load_embedder", lambda name=None, backend=None: embedder)
    monkeypatch.setattr(qa.indexing, "resolve_model", lambda name: (embedder.name, Path(".")))
    monkeypatch.setattr(qa.indexing, "model_fingerprint", lambda path: embedder.fingerprint())
    monkeypatch.setattr(qa.indexing, "load_embedder", lambda name=None, backend=None: embedder)
    return embedder


# -- the faults ------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    name: str  # what was done, for the table
    target: str  # the file or folder damaged (relative to the snapshot, or the index folder)
    harm: Callable[[Path, Path], None]  # (index folder, live snapshot) -> None
    names: str  # what the error message must name
    answers: bool = False  # the index still answers (the damage is harmless)
    recoverable: bool = True  # `qa index --recover` finds an intact snapshot


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _bad_utf8(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] = 0xFF  # never valid in UTF-8
    path.write_bytes(bytes(data))


def _edit_manifest(
    edit: Callable[[dict], None], *, keep_digest: bool = False
) -> Callable[[Path, Path], None]:
    """Edit manifest.json's content, keeping it valid JSON (and its digest, if asked)."""

    def harm(_root: Path, live: Path) -> None:
        path = live / MANIFEST
        d = json.loads(path.read_text(encoding="utf-8"))
        edit(d)
        if keep_digest:
            d["digest"] = content_digest(d)
        path.write_text(json.dumps(d, indent=1), encoding="utf-8")

    return harm


def _first(mapping: dict) -> dict:
    return mapping[sorted(mapping)[0]]


def _set(d: dict, keys: tuple[str, ...], value: object) -> None:
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value


def _edit_documents(edit: Callable[[dict], None]) -> Callable[[Path, Path], None]:
    """Edit documents.json's content, keeping it valid JSON."""

    def harm(_root: Path, live: Path) -> None:
        path = live / "documents.json"
        d = json.loads(path.read_text(encoding="utf-8"))
        edit(d)
        path.write_text(json.dumps(d, separators=(",", ":")), encoding="utf-8")

    return harm


def _write_current(text: bytes) -> Callable[[Path, Path], None]:
    return lambda root, live: (root / CURRENT).write_bytes(text)


def file_faults(live: Path) -> list[Fault]:
    """Flip, truncate, empty and delete each file of the snapshot; invalid UTF-8 in text files."""
    faults = []
    for path in sorted(p for p in live.rglob("*") if p.is_file()):
        rel = path.relative_to(live).as_posix()
        kinds: list[tuple[str, Callable[[Path], None]]] = [
            ("a byte flipped", _flip),
            ("truncated to half", _truncate),
            ("emptied (0 bytes)", lambda p: p.write_bytes(b"")),
            ("deleted", Path.unlink),
        ]
        if path.suffix in TEXT_SUFFIXES:
            kinds.insert(1, ("invalid UTF-8", _bad_utf8))
        for what, damage in kinds:
            if path.stat().st_size == 0 and damage is not Path.unlink:
                continue
            faults.append(
                Fault(f"`{rel}` {what}", rel, lambda root, live, r=rel, d=damage: d(live / r), Path(rel).name)
            )
    return faults


def manifest_faults() -> list[Fault]:
    m = MANIFEST

    def other_model(d: dict) -> None:
        d["model"]["name"] = "another-model"

    faults = [
        Fault(
            "a document's `sha256` edited in `documents.json`",
            "documents.json",
            _edit_documents(lambda d: _set(_first(d), ("sha256",), "0" * 64)),
            "documents.json",
        ),
        Fault(
            "a file's `sha256` edited",
            m,
            _edit_manifest(lambda d: _set(_first(d["files"]), ("sha256",), "0" * 64)),
            m,
        ),
        Fault(
            "a file's `size` edited", m, _edit_manifest(lambda d: _set(_first(d["files"]), ("size",), 1)), m
        ),
        Fault("the model name edited", m, _edit_manifest(other_model), m),
        Fault("the passage count edited", m, _edit_manifest(lambda d: _set(d, ("counts", "passages"), 1)), m),
        Fault(
            "a chunk setting edited", m, _edit_manifest(lambda d: _set(d, ("settings", "max_tokens"), 7)), m
        ),
        Fault("`format` set to 99", m, _edit_manifest(lambda d: _set(d, ("format",), 99)), m),
        Fault("`digest` removed", m, _edit_manifest(lambda d: d.pop("digest")), m),
        Fault("`digest` edited", m, _edit_manifest(lambda d: _set(d, ("digest",), "sha256:" + "0" * 64)), m),
        Fault(
            "`files` removed, digest recomputed",
            m,
            _edit_manifest(lambda d: d.pop("files"), keep_digest=True),
            m,
        ),
        Fault(
            "`model` removed, digest recomputed",
            m,
            _edit_manifest(lambda d: d.pop("model"), keep_digest=True),
            m,
        ),
        Fault(
            "a file's `sha256` edited, digest recomputed",
            m,
            _edit_manifest(lambda d: _set(_first(d["files"]), ("sha256",), "0" * 64), keep_digest=True),
            "fails its checksum",
        ),
        Fault("replaced by a JSON list", m, lambda root, live: (live / m).write_text("[]"), m),
        Fault("binary garbage", m, lambda root, live: (live / m).write_bytes(b"\x00\xff\xfe\x80garbage"), m),
        Fault(
            "re-indented (content unchanged)",
            m,
            lambda root, live: (live / m).write_text(
                json.dumps(json.loads((live / m).read_text()), indent=4)
            ),
            m,
            answers=True,
        ),
    ]
    return [replace(f, name=f"`{m}`: {f.name}") for f in faults]


def current_faults() -> list[Fault]:
    c = CURRENT
    return [
        Fault("`CURRENT` deleted", c, lambda root, live: (root / c).unlink(), c),
        Fault("`CURRENT` emptied", c, _write_current(b""), c),
        Fault("`CURRENT` binary garbage", c, _write_current(b"\x00\x9c\xffgarbage\x01"), c),
        Fault("`CURRENT` invalid UTF-8", c, _write_current(b"v-2024\xff\xfe\n"), c),
        Fault("`CURRENT` names a missing snapshot", c, _write_current(b"v-19700101T000000-deadbeef\n"), c),
        Fault("`CURRENT` names `../elsewhere`", c, _write_current(b"../elsewhere\n"), c),
        Fault("`CURRENT` names an absolute path", c, _write_current(b"/etc\n"), c),
        Fault(
            "`CURRENT` holds two lines",
            c,
            lambda root, live: (root / c).write_text(f"{live.name}\n{live.name}\n"),
            c,
        ),
        Fault(
            "`CURRENT` without its newline",
            c,
            lambda root, live: (root / c).write_text(live.name),
            c,
            answers=True,
        ),
        Fault("live snapshot folder deleted", c, lambda root, live: shutil.rmtree(live), c),
        Fault(
            "every snapshot folder deleted",
            c,
            lambda root, live: [shutil.rmtree(p) for p in root.glob("v-*")],
            c,
            recoverable=False,
        ),
    ]


def _previous(root: Path, live: Path) -> Path:
    return next(p for p in IndexStore(root).snapshots() if p != live)


def other_faults() -> list[Fault]:
    return [
        Fault(
            "previous snapshot's `vectors.npy` flipped",
            "v-* (previous)",
            lambda root, live: _flip(_previous(root, live) / "vectors.npy"),
            "",
            answers=True,
        ),
        Fault(
            "a killed build's `.tmp-*` folder and `.CURRENT-*` file left behind",
            ".tmp-*",
            lambda root, live: (
                shutil.copytree(live, root / ".tmp-0123456789ab"),
                (root / ".CURRENT-01234567").write_text("v-x"),
            ),
            "",
            answers=True,
        ),
        Fault(
            "an unlisted extra file in the snapshot",
            "extra.bin",
            lambda root, live: (live / "extra.bin").write_bytes(b"\x00" * 10),
            "",
            answers=True,
        ),
        Fault(
            "both snapshots' `table/passages.npy` truncated",
            "table/passages.npy",
            lambda root, live: [_truncate(p / "table/passages.npy") for p in IndexStore(root).snapshots()],
            "passages.npy",
            recoverable=False,
        ),
    ]


def all_faults(live: Path) -> list[Fault]:
    return file_faults(live) + manifest_faults() + current_faults() + other_faults()


# -- running one fault -----------------------------------------------------------------


@dataclass
class Outcome:
    fault: Fault
    ask_status: int
    ask_err: str
    load_error: str  # the exception class Index.load raised ("" if it loaded)
    recover_status: int
    recover_out: str
    after_status: int  # `qa ask` after the recovery


def _one_line(err: str) -> str:
    return " / ".join(line for line in err.splitlines() if line.strip())


def run_fault(fault: Fault, template: tuple[Path, Path], work: Path, capsys) -> Outcome:
    corpus, src = template
    root = work / "idx"
    shutil.copytree(src, root)
    live = IndexStore(root).current()
    assert live is not None
    fault.harm(root, live)
    ask = ["ask", QUESTION, "--index", str(root), "--corpus", str(corpus), "-k", "2"]

    status = main(ask)
    ask_err = capsys.readouterr().err
    try:
        Index.load(root)
        load_error = ""
    except QAError as exc:
        load_error = type(exc).__name__
    recover_status = main(["index", "--recover", "--index", str(root)])
    captured = capsys.readouterr()
    after_status = main(ask)
    capsys.readouterr()
    return Outcome(
        fault, status, ask_err, load_error, recover_status, captured.out + captured.err, after_status
    )


def check(outcome: Outcome) -> list[str]:
    """What is wrong with an outcome (empty: as promised)."""
    f, problems = outcome.fault, []
    lines = [line for line in outcome.ask_err.splitlines() if line.strip()]
    if "Traceback" in outcome.ask_err:
        problems.append("a traceback")
    if f.answers:
        if outcome.ask_status != 0 or outcome.load_error:
            problems.append(f"should still answer; got {outcome.ask_status}: {_one_line(outcome.ask_err)}")
        return problems
    if outcome.ask_status != 1 or len(lines) != 1 or not lines[0].startswith("qa: ERROR: "):
        problems.append(f"expected one error line and status 1, got {outcome.ask_status}: {lines}")
    msg = lines[0] if lines else ""
    if f.names not in msg:
        problems.append(f"the message does not name {f.names!r}: {msg}")
    if "qa index --rebuild" not in msg:
        problems.append(f"the message does not name the fix: {msg}")
    if f.recoverable != ("qa index --recover" in msg):
        problems.append(
            f"`qa index --recover` offered={'qa index --recover' in msg}, expected {f.recoverable}"
        )
    if not outcome.load_error:
        problems.append("Index.load accepted it")
    if f.recoverable and (outcome.recover_status, outcome.after_status) != (0, 0):
        problems.append(
            f"recovery failed ({outcome.recover_status}, {outcome.after_status}): {outcome.recover_out}"
        )
    if not f.recoverable and outcome.recover_status != 1:
        problems.append(f"`qa index --recover` should fail, got {outcome.recover_status}")
    return problems


def _cases(template: tuple[Path, Path]) -> Iterator[Fault]:
    live = IndexStore(template[1]).current()
    assert live is not None
    yield from all_faults(live)


def test_fault_matrix(template, fake_model, tmp_path: Path, capsys) -> None:
    outcomes, failures = [], []
    files = {
        p.relative_to(IndexStore(template[1]).current()).as_posix()
        for p in IndexStore(template[1]).current().rglob("*")
        if p.is_file()
    }
    faults = list(_cases(template))
    assert files <= {f.target for f in faults}, "every file of the snapshot is damaged in some way"
    for i, fault in enumerate(faults):
        outcome = run_fault(fault, template, tmp_path / f"case-{i}", capsys)
        outcomes.append(outcome)
        failures += [f"{fault.name}: {p}" for p in check(outcome)]
    if os.environ.get("QA_WRITE_FAULT_TABLE") == "1":
        write_table(outcomes, tmp_path)
    assert not failures, "\n".join(failures)
    assert len(outcomes) >= 49  # at least the 49 cases of issue #16


# -- the table in docs/RELIABILITY.md --------------------------------------------------


def _shown(text: str, tmp: Path) -> str:
    text = _one_line(text).replace(str(tmp), "")
    text = re.sub(r"/case-\d+/idx", "embeddings", text)
    text = re.sub(r"v-\d{8}T\d{6}-[0-9a-f]{8}", "v-…", text)
    text = re.sub(r"built \d{4}-\d\d-\d\dT[\d:.]+Z?(\+00:00)?", "built …", text)
    text = re.sub(r"is \d+ bytes, expected \d+", "is N bytes, expected M", text)
    return text.replace("|", "\\|")


def write_table(outcomes: list[Outcome], tmp: Path) -> None:
    rows = [
        "| # | Fault | `qa ask` prints (exit status) | `qa index --recover` |",
        "|---|---|---|---|",
    ]
    for i, o in enumerate(outcomes, 1):
        seen = "answers (0)" if o.ask_status == 0 else f"{_shown(o.ask_err, tmp)} ({o.ask_status})"
        if o.recover_status == 0 and "recovered" in o.recover_out:
            rec = "goes back to the previous snapshot; `qa ask` answers"
        elif o.recover_status == 0:
            rec = "nothing to do (live snapshot intact)"
        else:
            rec = _shown(o.recover_out, tmp)
        rows.append(f"| {i} | {o.fault.name} | {seen} | {rec} |")
    table = "\n".join(rows)
    doc = DOC.read_text(encoding="utf-8")
    head, rest = doc.split(START)
    _, tail = rest.split(END)
    DOC.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")


# -- targeted checks -------------------------------------------------------------------


def test_an_edited_document_hash_is_caught(template, tmp_path: Path) -> None:
    # The #16 case that was accepted silently: in format 5 the hash is in documents.json,
    # whose checksum the manifest (with its own digest) holds.
    root = shutil.copytree(template[1], tmp_path / "idx")
    live = IndexStore(root).current()
    _edit_documents(lambda d: _set(_first(d), ("sha256",), "0" * 64))(root, live)
    with pytest.raises(IndexCorruptError, match="documents.json fails its checksum"):
        Index.load(root)
    # Where it was inside the manifest (format 4), the manifest's digest catches it.
    root4 = shutil.copytree(template[1], tmp_path / "idx4")
    live4 = IndexStore(root4).current()
    downgrade_to_jsonl(live4, 4)
    _edit_manifest(lambda d: _set(_first(d["documents"]), ("sha256",), "0" * 64))(root4, live4)
    with pytest.raises(IndexCorruptError, match="manifest.json fails its own checksum"):
        Index.load(root4)


def test_manifest_without_digest_of_an_older_format_still_loads(template, tmp_path: Path) -> None:
    root = shutil.copytree(template[1], tmp_path / "idx")
    live = IndexStore(root).current()
    downgrade_to_jsonl(live, 3)  # format 3: JSON-lines tables, no digest
    index = Index.load(root)
    assert index.manifest.format == 3 and len(index) > 0


def test_recover_points_current_at_the_previous_snapshot(template, tmp_path: Path) -> None:
    root = shutil.copytree(template[1], tmp_path / "idx")
    store = IndexStore(root)
    live = store.current()
    previous = _previous(root, live)
    _flip(live / "vectors.npy")
    with pytest.raises(
        IndexCorruptError, match=f"qa index --recover` to go back to the intact snapshot {previous.name}"
    ):
        Index.load(root)
    recovery = recover_index(root)
    assert recovery.switched and recovery.snapshot == previous
    assert list(recovery.damaged) == [live.name]
    assert Index.load(root).path == previous
    assert "lighthouse.txt" not in Index.load(root).documents  # the previous snapshot's content
    # Recovering an intact index changes nothing.
    again = recover_index(root)
    assert not again.switched and again.snapshot == previous


def test_publishing_keeps_one_previous_snapshot(template, tmp_path: Path, fake_embedder) -> None:
    corpus = shutil.copytree(template[0], tmp_path / "corpus")
    root = shutil.copytree(template[1], tmp_path / "idx")
    before = IndexStore(root).current()
    (corpus / "new.txt").write_text("Lighthouses\n\nA keeper tends the lamp.\n", encoding="utf-8")
    report = build_index(corpus, root, embedder=fake_embedder)
    assert [p.name for p in IndexStore(root).snapshots()] == [report.snapshot.name, before.name]


def test_a_damaged_live_snapshot_is_not_kept_as_the_previous(template, tmp_path: Path, fake_embedder) -> None:
    corpus = shutil.copytree(template[0], tmp_path / "corpus")
    root = shutil.copytree(template[1], tmp_path / "idx")
    _flip(IndexStore(root).current() / "vectors.npy")
    report = build_index(corpus, root, embedder=fake_embedder)
    assert report.full_rebuild_reason.startswith("previous index unusable")
    assert [p.name for p in IndexStore(root).snapshots()] == [report.snapshot.name]


# -- full disk and read-only folders (a small tmpfs; needs root) ------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    mounts: list[Path] = []

    def mount(size: str) -> Path:
        where = tmp_path / f"tmpfs-{len(mounts)}"
        where.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not permitted'}); needs root")
        mounts.append(where)
        return where

    yield mount
    for where in reversed(mounts):
        subprocess.run(["umount", "-l", str(where)], check=False)


def _big_document(n_paragraphs: int) -> str:
    words = "river harbour ledger council granite orchard lantern meadow copper signal".split()
    paras = [
        " ".join(words[(i + j) % 10] for j in range(120)).capitalize() + "." for i in range(n_paragraphs)
    ]
    return "Big\n\n" + "\n\n".join(paras) + "\n"


def test_disk_full_gives_a_clear_error_and_keeps_the_previous_index(
    tmpfs, tmp_path: Path, fake_model, capsys
) -> None:
    root = tmpfs("1m") / "idx"
    corpus = write_corpus(tmp_path / "corpus")
    assert main(["index", "--corpus", str(corpus), "--index", str(root)]) == 0
    before = Index.load(root)
    capsys.readouterr()
    # Far more than 1 MB of vectors and text: the new snapshot cannot fit.
    (corpus / "big.txt").write_text(_big_document(600), encoding="utf-8")

    assert main(["index", "--corpus", str(corpus), "--index", str(root)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"qa: ERROR: no space left on the device of the index folder {root}" in err
    assert "the previous index is unchanged" in err
    # The failed build removed its temporary folder at once (freeing the space) ...
    assert not list(root.glob(".tmp-*")) and not list(root.glob(".CURRENT-*"))
    after = Index.load(root)
    assert after.path == before.path and "big.txt" not in after.documents
    assert main(["ask", QUESTION, "--index", str(root), "--corpus", str(corpus)]) == 0
    # ... and once space is back, the build completes.
    (corpus / "big.txt").write_text(_big_document(3), encoding="utf-8")
    assert main(["index", "--corpus", str(corpus), "--index", str(root)]) == 0
    assert "big.txt" in Index.load(root).documents


def test_read_only_index_folder_gives_a_clear_error_and_still_answers(
    tmpfs, tmp_path: Path, fake_model, capsys
) -> None:
    mount = tmpfs("4m")
    root = mount / "idx"
    corpus = write_corpus(tmp_path / "corpus")
    assert main(["index", "--corpus", str(corpus), "--index", str(root)]) == 0
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    capsys.readouterr()

    (corpus / "new.txt").write_text("Lighthouses\n\nA keeper tends the lamp.\n", encoding="utf-8")
    assert main(["index", "--corpus", str(corpus), "--index", str(root)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"qa: ERROR: the index folder {root} is on a read-only file system" in err
    with pytest.raises(IndexWriteError):
        recover_index(root)
    # Reading needs no write access.
    assert main(["ask", QUESTION, "--index", str(root), "--corpus", str(corpus)]) == 0
    assert "7.8 kilometres" in capsys.readouterr().out


def test_recover_without_an_index_says_so_and_creates_nothing(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "none"
    assert main(["index", "--recover", "--index", str(missing)]) == 1
    assert "no index in" in capsys.readouterr().err
    assert not missing.exists()
