"""Hostile corpora (issue #16): no file can stall or stop indexing.

Each case writes a corpus of good files plus one hostile file, scans it with the real
readers and the real extraction worker, and asserts that the hostile file is skipped
with a reason naming the limit and the flag that raises it, while every good file is
indexed. Limits are lowered where that keeps the fixture small; the cheap cases also
run at the default limits.

`QA_WRITE_FAULT_TABLE=1` writes the table of cases into docs/RELIABILITY.md (between the
`ingest-faults` markers), so the table in the docs is what this suite saw.
"""

from __future__ import annotations

import os
import re
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import qa.indexing
from _pdf import make_pdf
from conftest import FakeEmbedder
from qa.cli import main
from qa.ingest import DEFAULT_LIMITS, ExtractionLimits, registry, scan_corpus
from qa.uploads import UploadLimits, UploadRejectedError, read_uploads

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "RELIABILITY.md"
START, END = "<!-- ingest-faults:start -->", "<!-- ingest-faults:end -->"
GOOD = {"good.txt", "good.html", "good.pdf"}


def write_good(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "good.txt").write_text(
        "Orbits\n\nA satellite keeps falling around the earth.\n", encoding="utf-8"
    )
    (corpus / "good.html").write_text(
        "<html><body><p>Tides follow the moon.</p></body></html>", encoding="utf-8"
    )
    (corpus / "good.pdf").write_bytes(make_pdf(["Volcanoes\nLava cools into basalt."]))


def bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF whose content stream is `inflated` bytes of spaces, Flate-compressed."""
    stream = zlib.compress(b" " * inflated, 9)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


@dataclass(frozen=True)
class Case:
    fault: str
    name: str  # the hostile file's name in the corpus
    write: Callable[[Path], None]
    reason: str  # regex the skip reason must match
    limits: ExtractionLimits = DEFAULT_LIMITS
    max_bytes: int | None = None
    follow: bool = False


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _link(target: Callable[[Path], str]) -> Callable[[Path], None]:
    return lambda p: p.symlink_to(target(p))


def _outside(p: Path) -> str:
    secret = p.parents[1] / "outside" / "secret.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("Outside the corpus.\n", encoding="utf-8")
    return str(secret)


def _outside_dir(p: Path) -> str:
    return str(Path(_outside(p)).parent)


LOW = ExtractionLimits(seconds=2, pages=50, decompressed_bytes=1_000_000, depth=50, chars=1_000)
CASES = [
    Case(
        "PDF with thousands of blank pages (2,001 pages, default limits)",
        "blank.pdf",
        _bytes(make_pdf(["Cover page"] + [""] * 2000)),
        r"^PDF has 2,001 pages, over the 2,000-page limit; raise it with --max-pages$",
    ),
    Case(
        "PDF with 61 blank pages, `--max-pages 50`",
        "blank.pdf",
        _bytes(make_pdf(["Cover page"] + [""] * 60)),
        r"^PDF has 61 pages, over the 50-page limit; raise it with --max-pages$",
        limits=LOW,
    ),
    Case(
        "deflate bomb named .pdf (60 MB of spaces in a 60 KB stream, default limits)",
        "bomb.pdf",
        _bytes(bomb_pdf(60 * 1024 * 1024)),
        r"^compressed streams inflate to more than [\d,]+ bytes, over the 52,428,800-byte decompression limit;"
        r" raise it with --max-decompressed-bytes$",
    ),
    Case(
        "deflate bomb named .pdf (4 MB), `--max-decompressed-bytes 1000000`",
        "bomb.pdf",
        _bytes(bomb_pdf(4_000_000)),
        r"^compressed streams inflate to more than [\d,]+ bytes, over the 1,000,000-byte decompression limit;",
        limits=LOW,
    ),
    Case(
        "HTML of a million nested tags (default limits)",
        "nested.html",
        _bytes(b"<html><body>" + b"<div>" * 1_000_000 + b"deep" + b"</div>" * 1_000_000 + b"</body></html>"),
        r"^elements are nested more than 1,000 deep, over the 1,000-level nesting limit; raise it with --max-depth$",
    ),
    Case(
        "HTML nested 100 deep, `--max-depth 50`",
        "nested.html",
        _bytes(b"<span hidden>" * 100 + b"deep"),
        r"^elements are nested more than 50 deep, over the 50-level nesting limit; raise it with --max-depth$",
        limits=LOW,
    ),
    Case(
        "text file over the size limit (`--max-bytes 100000`; the default is 20 MB)",
        "big.txt",
        _bytes(b"word " * 40_000),
        r"^file is 200,000 bytes, over the 100,000-byte limit; raise it with --max-bytes$",
        max_bytes=100_000,
    ),
    Case(
        "text over the character limit, `--max-chars 1000`",
        "long.txt",
        _bytes(b"word " * 400),
        r"^extracted text is 2,000 characters, over the 1,000-character limit; raise it with --max-chars$",
        limits=LOW,
    ),
    Case(
        "a reader that never returns, `--max-seconds 2`",
        "stuck.stall",
        _bytes(b"anything"),
        r"^reading it took longer than 2 s, over the 2-second time limit; raise it with --max-seconds$",
        limits=LOW,
    ),
    Case(
        "a reader that kills its process (as a native crash would)",
        "crash.crash",
        _bytes(b"anything"),
        r"^the \.crash reader crashed \(worker exit status 3\); the file may be damaged$",
    ),
    Case(
        "a reader that allocates without bound (16 GiB; worker capped at 768 MiB)",
        "hog.hog",
        _bytes(b"anything"),
        r"^reading it needed more memory than allowed, over the 805,306,368-byte memory limit;",
        limits=replace(DEFAULT_LIMITS, memory_bytes=768 * 1024 * 1024),
    ),
    Case(
        "symbolic link to a file outside the corpus",
        "link.txt",
        _link(_outside),
        r"^symbolic link, not followed; pass --follow-symlinks to index links inside the corpus$",
    ),
    Case(
        "symbolic link to a file outside the corpus, `--follow-symlinks`",
        "link.txt",
        _link(_outside),
        r"^symbolic link to a file outside the corpus folder, not followed$",
        follow=True,
    ),
    Case(
        "symbolic link to a folder outside the corpus, `--follow-symlinks`",
        "elsewhere/",
        lambda p: p.symlink_to(_outside_dir(p)),
        r"^symbolic link to a folder outside the corpus folder, not followed$",
        follow=True,
    ),
    Case(
        "symbolic link loop: a folder linking to its parent",
        "sub/up/",
        lambda p: (p.parent.mkdir(exist_ok=True), p.symlink_to(".."))[0],
        r"^symbolic link to a folder, not followed; pass --follow-symlinks to index links inside the corpus$",
    ),
    Case(
        "symbolic link loop: a folder linking to its parent, `--follow-symlinks`",
        "sub/up/",
        lambda p: (p.parent.mkdir(exist_ok=True), p.symlink_to(".."))[0],
        r"^symbolic link to a folder already in the corpus \(a link loop\?\), not followed$",
        follow=True,
    ),
    Case(
        "symbolic link loop between two files, `--follow-symlinks`",
        "a.txt",
        lambda p: (p.symlink_to("b.txt"), (p.parent / "b.txt").symlink_to("a.txt")),
        r"^broken symbolic link \(its target does not exist\) or a link loop$",
        follow=True,
    ),
]


@pytest.fixture
def fault_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault-injection readers of _hostile_readers.py, importable here and in the worker."""
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p))
    monkeypatch.syspath_prepend(here)
    for suffix in ("stall", "crash", "hog"):
        monkeypatch.setitem(registry.READERS, f".{suffix}", f"_hostile_readers:{suffix}")


def run_case(case: Case, corpus: Path) -> dict[str, str]:
    write_good(corpus)
    case.write(corpus / case.name)
    kwargs = {} if case.max_bytes is None else {"max_bytes": case.max_bytes}
    scan = scan_corpus(corpus, limits=case.limits, follow_symlinks=case.follow, **kwargs)
    assert GOOD <= {d.doc_id for d in scan.documents}, "every good file is indexed"
    return {s.path: s.reason for s in scan.skipped}


def test_hostile_corpus_matrix(tmp_path: Path, fault_readers) -> None:
    rows, failures = [], []
    for i, case in enumerate(CASES):
        skipped = run_case(case, tmp_path / f"case-{i}" / "corpus")
        reason = skipped.get(case.name)
        if reason is None or not re.search(case.reason, reason):
            failures.append(f"{case.fault}: skipped {skipped}")
        rows.append((case.fault, reason or "(not skipped)"))
    if os.environ.get("QA_WRITE_FAULT_TABLE") == "1":
        write_table(rows)
    assert not failures, "\n".join(failures)


def test_after_a_stalled_file_the_next_ones_still_read(tmp_path: Path, fault_readers) -> None:
    corpus = tmp_path / "corpus"
    write_good(corpus)
    for name in ("a.stall", "b.stall"):
        (corpus / name).write_bytes(b"x")
    (corpus / "c.html").write_text("<p>After the stalls.</p>", encoding="utf-8")
    scan = scan_corpus(corpus, limits=replace(LOW, seconds=1))
    assert {"c.html", "good.html", "good.pdf"} <= {d.doc_id for d in scan.documents}
    assert [s.path for s in scan.skipped] == ["a.stall", "b.stall"]


def test_follow_symlinks_indexes_links_inside_the_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_good(corpus)
    (corpus / ".drafts").mkdir()  # hidden, so only reached through the link
    (corpus / ".drafts" / "plan.txt").write_text("Plans\n\nBuild a harbour.\n", encoding="utf-8")
    (corpus / "drafts").symlink_to(".drafts")
    (corpus / "notes").mkdir()
    (corpus / "notes" / "ocean.txt").write_text("Oceans\n\nSalt water covers the planet.\n", encoding="utf-8")
    (corpus / "shared").symlink_to("notes")
    (corpus / "zz-alias.txt").symlink_to("notes/ocean.txt")
    default = scan_corpus(corpus)
    assert {d.doc_id for d in default.documents} == GOOD | {"notes/ocean.txt"}
    assert {s.path for s in default.skipped} == {"drafts/", "shared/", "zz-alias.txt"}
    followed = scan_corpus(corpus, follow_symlinks=True)
    assert {d.doc_id for d in followed.documents} == GOOD | {"zz-alias.txt", "drafts/plan.txt"}
    # A second way into a folder already walked is not walked again; a linked file with
    # the same text as a document is a duplicate of it.
    assert [(s.path, s.reason.split(" (")[0]) for s in followed.skipped] == [
        ("shared/", "symbolic link to a folder already in the corpus")
    ]
    assert [(d.path, d.same_as) for d in followed.duplicates] == [("notes/ocean.txt", "zz-alias.txt")]


def test_a_file_over_the_upload_limit_is_refused_by_its_size_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(64 * 1024**3)  # a sparse 64 GiB file: reading it whole could not succeed
    with pytest.raises(
        UploadRejectedError, match=r"is 68,719,476,736 bytes, over the 10,485,760-byte upload limit"
    ):
        read_uploads([huge], limits=UploadLimits())


def test_qa_index_flags_set_the_limits_and_report_the_skip(tmp_path: Path, monkeypatch, capsys) -> None:
    embedder = FakeEmbedder()
    monkeypatch.setattr(qa.indexing, "resolve_model", lambda name: (embedder.name, Path(".")))
    monkeypatch.setattr(qa.indexing, "model_fingerprint", lambda path: embedder.fingerprint())
    monkeypatch.setattr(qa.indexing, "load_embedder", lambda name=None, backend=None: embedder)
    corpus = tmp_path / "corpus"
    write_good(corpus)
    (corpus / "blank.pdf").write_bytes(make_pdf(["Cover"] + [""] * 11))
    (corpus / "nested.html").write_bytes(b"<div>" * 30)
    (corpus / "link.txt").symlink_to(corpus / "good.txt")
    argv = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "idx"), "--max-pages", "10"]
    assert main([*argv, "--max-depth", "20", "--max-seconds", "5", "--max-chars", "10000"]) == 0
    out = capsys.readouterr().out
    assert "skipped blank.pdf: PDF has 12 pages, over the 10-page limit; raise it with --max-pages" in out
    assert "skipped nested.html: elements are nested more than 20 deep" in out
    assert "skipped link.txt: symbolic link, not followed" in out
    assert main([*argv, "--follow-symlinks", "--json"]) == 0
    assert '"path": "link.txt"' not in capsys.readouterr().out.split('"duplicates"')[0]


def test_bad_limits_are_refused_with_the_fix(capsys, tmp_path: Path) -> None:
    assert main(["index", "--corpus", str(tmp_path), "--max-pages", "0"]) == 1
    assert "extraction limit pages=0 must be at least 1" in capsys.readouterr().err


# -- the table in docs/RELIABILITY.md --------------------------------------------------


def write_table(rows: list[tuple[str, str]]) -> None:
    lines = ["| # | Hostile file | What `qa index` reports (every other file is indexed) |", "|---|---|---|"]
    lines += [f"| {i} | {fault} | skipped: `{reason}` |" for i, (fault, reason) in enumerate(rows, 1)]
    doc = DOC.read_text(encoding="utf-8")
    head, rest = doc.split(START)
    _, tail = rest.split(END)
    DOC.write_text(f"{head}{START}\n" + "\n".join(lines) + f"\n{END}{tail}", encoding="utf-8")


def test_a_hostile_upload_is_refused_with_the_limit_named() -> None:
    from qa.uploads import Upload, check_upload

    with pytest.raises(
        UploadRejectedError, match=r"'bomb.pdf' was not added: compressed streams inflate to more"
    ):
        check_upload(Upload("bomb.pdf", bomb_pdf(60 * 1024 * 1024)), UploadLimits())
    with pytest.raises(
        UploadRejectedError, match=r"'deep.html' was not added: elements are nested more than 1,000"
    ):
        check_upload(Upload("deep.html", b"<b>" * 5000), UploadLimits())


if sys.platform == "win32":  # pragma: no cover - symlinks and rlimits are POSIX here
    pytestmark = pytest.mark.skip("POSIX only")
