"""How to store the passage and document tables: JSON lines vs SQLite vs columnar numpy.

The same generated table (default 1M passages in 100k documents of SciFact sentences,
bench/scale.py's generator) is written three ways, and each is measured in a fresh
process with its pages evicted from the page cache (cold):
- open: time until the table answers (JSON lines: parse everything into Passage and
  Document objects, as qa did before format 5; SQLite: connect and read the row count;
  columnar: `qa.tables.load_tables`, memory-mapped), and RSS after it;
- 1,000 random passages read as Passage objects with their text (`document.text[start:end]`),
  the work of one question's candidates many times over;
- every row's document code (what a document filter needs);
- size on disk.

Run: `.venv/bin/python bench/tables.py --passages 1000000` (prints a table; the figures
in docs/SCALE.md come from it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ENV, machine, rss_mb, table  # noqa: E402
from scale import documents, evict  # noqa: E402

logger = logging.getLogger("bench.tables")


def make(folder: Path, n: int) -> None:
    from qa.chunking import chunk
    from qa.config import IndexSettings
    from qa.index import write_jsonl
    from qa.tables import save_tables, tables_from_records

    docs, passages = [], []
    settings = IndexSettings()
    spans = lambda text: [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text)]  # noqa: E731
    for doc in documents(n):
        docs.append(doc)
        passages.extend(chunk(doc, settings=settings, token_spans=spans))
    folder.mkdir(parents=True, exist_ok=True)
    # columnar
    (folder / "columnar").mkdir()
    _, _, arrays = tables_from_records(docs, passages)
    save_tables(folder / "columnar", arrays)
    # JSON lines (format 4)
    (folder / "jsonl").mkdir()
    write_jsonl(folder / "jsonl" / "passages.jsonl", [p.to_dict() for p in passages])
    write_jsonl(
        folder / "jsonl" / "documents.jsonl",
        [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "text": d.text,
                "sha256": d.sha256,
                "size": d.size,
                "fmt": d.fmt,
                "page_starts": list(d.page_starts),
            }
            for d in docs
        ],
    )
    # SQLite: documents (sorted by id) and passages (row = vector id), text not duplicated.
    (folder / "sqlite").mkdir()
    con = sqlite3.connect(folder / "sqlite" / "table.sqlite")
    con.executescript(
        "CREATE TABLE documents (code INTEGER PRIMARY KEY, doc_id TEXT UNIQUE, title TEXT, text TEXT,"
        " sha256 TEXT, size INTEGER, fmt TEXT, page_starts TEXT);"
        "CREATE TABLE passages (row INTEGER PRIMARY KEY, doc INTEGER, ordinal INTEGER, start INTEGER,"
        " end_ INTEGER, paragraph_start INTEGER, paragraph_end INTEGER, heading TEXT);"
    )
    docs.sort(key=lambda d: d.doc_id)
    code = {d.doc_id: i for i, d in enumerate(docs)}
    con.executemany(
        "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)",
        [
            (i, d.doc_id, d.title, d.text, d.sha256, d.size, d.fmt, json.dumps(d.page_starts))
            for i, d in enumerate(docs)
        ],
    )
    con.executemany(
        "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                i,
                code[p.doc_id],
                int(p.passage_id.rsplit("#", 1)[1]),
                p.start,
                p.end,
                p.paragraph_start,
                p.paragraph_end,
                p.heading,
            )
            for i, p in enumerate(passages)
        ],
    )
    con.commit()
    con.close()


def measure(kind: str, folder: Path) -> dict:
    from qa.types import Document, Passage

    evict(folder)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    if kind == "jsonl":
        from qa.index import _jsonl_tables

        docs, passages = _jsonl_tables(folder)
        n = len(passages)
    elif kind == "columnar":
        from qa.tables import load_tables

        docs, passages = load_tables(folder)
        n = len(passages)
    else:
        con = sqlite3.connect(f"file:{folder / 'table.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        n = con.execute("SELECT max(row) + 1 FROM passages").fetchone()[0]
    res = {"open_s": time.perf_counter() - t0, "rss_mb": rss_mb()}
    rows = rng.integers(0, n, 1000).tolist()
    t0 = time.perf_counter()
    if kind == "sqlite":
        cache: dict[int, Document] = {}
        for row in rows:
            r = con.execute(
                "SELECT doc, ordinal, start, end_, paragraph_start, paragraph_end, heading FROM passages WHERE row=?",
                (row,),
            ).fetchone()
            d = cache.get(r[0])
            if d is None:
                x = con.execute(
                    "SELECT doc_id, title, text, sha256, size, fmt, page_starts FROM documents WHERE code=?",
                    (r[0],),
                ).fetchone()
                d = cache[r[0]] = Document(*x[:6], page_starts=tuple(json.loads(x[6])))
            Passage(
                f"{d.doc_id}#{r[1]:04d}", d.doc_id, d.title, d.text[r[2] : r[3]], r[2], r[3], r[4], r[5], r[6]
            )
    else:
        for row in rows:
            passages[row]
    res["read_1000_ms"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    if kind == "sqlite":
        codes = np.fromiter((c for (c,) in con.execute("SELECT doc FROM passages ORDER BY row")), np.int64)
    elif kind == "columnar":
        codes = passages.doc_codes()
    else:
        code_of = {d: i for i, d in enumerate(docs)}
        codes = np.fromiter((code_of[p.doc_id] for p in passages), np.int64, count=len(passages))
    res["codes_ms"] = (time.perf_counter() - t0) * 1000
    assert len(codes) == n
    res["disk_mb"] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--passages", type=int, default=1_000_000)
    p.add_argument("--work", default="/tmp/qa-tables")
    p.add_argument("--make-only", action="store_true", help="write the tables and stop (untimed)")
    p.add_argument("--reuse", action="store_true", help="measure tables an earlier --make-only wrote")
    p.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    work = Path(args.work)
    if args.measure:
        print(json.dumps(measure(args.measure, work / args.measure)))
        return
    if not args.reuse:
        shutil.rmtree(work, ignore_errors=True)
        t0 = time.perf_counter()
        make(work, args.passages)
        logger.info("wrote the three tables in %.0f s", time.perf_counter() - t0)
        if args.make_only:
            return
    results = {}
    for kind in ("jsonl", "sqlite", "columnar"):
        out = subprocess.run(
            [sys.executable, __file__, "--work", str(work), "--measure", kind],
            env={**os.environ, **ENV},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results[kind] = json.loads(out.strip().splitlines()[-1])
        logger.info("%s: %s", kind, results[kind])
    base = results["jsonl"]["open_s"]
    rows = [
        [
            kind,
            f"{r['open_s']:.3f} s ({base / r['open_s']:.0f}x)",
            f"{r['rss_mb']:,.0f} MB",
            f"{r['read_1000_ms']:.1f} ms",
            f"{r['codes_ms']:.0f} ms",
            f"{r['disk_mb']:,.0f} MB",
        ]
        for kind, r in results.items()
    ]
    print(
        f"Machine: {machine()}. {args.passages:,} passages (generated, bench/scale.py). "
        f"Command: `.venv/bin/python bench/tables.py --passages {args.passages}`.\n"
    )
    print(
        table(
            [
                "layout",
                "open, cold (vs JSON lines)",
                "RSS after open",
                "1,000 random passages",
                "all rows' document codes",
                "on disk",
            ],
            rows,
        )
    )
    if not args.make_only:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
