"""The passage and document tables of a snapshot: columnar arrays, memory-mapped on open.

Opening a snapshot must not parse every passage: at a million passages, reading
`passages.jsonl` into Python objects took seconds and hundreds of MB. The tables are
kept as four files in `table/` (format 5):

    passages.npy    one record per passage row: document code, ordinal in its document,
                    character range, paragraph range, heading (bytes in strings.bin)
    documents.npy   one record per document, sorted by doc_id: id, title and text (bytes
                    in strings.bin), size, sha256, format, page starts (in pages.npy),
                    first passage row and passage count
    strings.bin     UTF-8 bytes of every id, title, heading and document text
    pages.npy       int64 page start offsets of every paged document, back to back

They are opened with `np.load(mmap_mode="r")` and `np.memmap`, so opening reads the
headers only; a Passage or Document is decoded when it is asked for. A passage's text
is not stored: it is `document.text[start:end]`, so the citation invariant holds by
construction. Passage ids are `{doc_id}#{ordinal:04d}` (as chunking makes them); the
writer refuses a passage whose id is not.

`PassageTable` is a `Sequence[Passage]` and `DocumentTable` a `Mapping[str, Document]`:
code that used the lists and dicts of earlier formats reads them unchanged. Snapshots of
formats 2-4 (JSON lines) load into the same classes through `from_records`.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import mmap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from qa.errors import IndexCorruptError
from qa.storage import save_npy
from qa.types import Document, Passage

__all__ = ["TABLE_DIR", "TABLE_FILES", "DocumentTable", "PassageTable", "load_tables", "tables_from_records"]

TABLE_DIR = "table"
TABLE_FILES = tuple(
    f"{TABLE_DIR}/{name}" for name in ("passages.npy", "documents.npy", "strings.bin", "pages.npy")
)

PASSAGE_DTYPE = np.dtype(
    [
        ("doc", "<i4"),
        ("ordinal", "<i4"),
        ("start", "<i8"),
        ("end", "<i8"),
        ("paragraph_start", "<i4"),
        ("paragraph_end", "<i4"),
        ("heading_at", "<i8"),  # -1: no heading
        ("heading_len", "<i4"),
    ]
)
DOCUMENT_DTYPE = np.dtype(
    [
        ("id_at", "<i8"),
        ("id_len", "<i4"),
        ("title_at", "<i8"),
        ("title_len", "<i4"),
        ("text_at", "<i8"),
        ("text_len", "<i8"),
        ("size", "<i8"),
        ("sha256", "S64"),
        ("fmt", "S16"),
        ("pages_at", "<i8"),
        ("pages_len", "<i4"),
        ("first_row", "<i8"),
        ("rows", "<i8"),
    ]
)
# Decoded documents kept per table (a query touches a few dozen).
DOCUMENT_CACHE = 2048


class _Strings:
    """UTF-8 slices of one byte buffer (a memory map or bytes)."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    def get(self, at: int, length: int) -> str:
        return self._data[at : at + length].tobytes().decode("utf-8")


class DocumentTable(Mapping[str, Document]):
    """doc_id -> Document over `documents.npy`, sorted by doc_id (binary search)."""

    def __init__(self, records: np.ndarray, strings: _Strings, pages: np.ndarray) -> None:
        self._records = records
        self._strings = strings
        self._pages = pages
        self._document = functools.lru_cache(maxsize=DOCUMENT_CACHE)(self._decode)
        self._id_at = functools.lru_cache(maxsize=65536)(self._decode_id)

    def __len__(self) -> int:
        return len(self._records)

    def _decode_id(self, code: int) -> str:
        r = self._records[code]
        return self._strings.get(int(r["id_at"]), int(r["id_len"]))

    def doc_id(self, code: int) -> str:
        """The id of the document with this code (its position in doc_id order)."""
        return self._id_at(code)

    def code(self, doc_id: str) -> int | None:
        """The position of `doc_id` in the table, or None."""
        i = bisect.bisect_left(range(len(self)), doc_id, key=self._id_at)
        return i if i < len(self) and self._id_at(i) == doc_id else None

    def _decode(self, code: int) -> Document:
        r = self._records[code]
        get = self._strings.get
        pages_at, pages_len = int(r["pages_at"]), int(r["pages_len"])
        return Document(
            doc_id=get(int(r["id_at"]), int(r["id_len"])),
            title=get(int(r["title_at"]), int(r["title_len"])),
            text=get(int(r["text_at"]), int(r["text_len"])),
            sha256=r["sha256"].decode("ascii"),
            size=int(r["size"]),
            fmt=r["fmt"].decode("ascii"),
            page_starts=tuple(int(x) for x in self._pages[pages_at : pages_at + pages_len]),
        )

    def by_code(self, code: int) -> Document:
        return self._document(code)

    def rows(self, code: int) -> range:
        """The passage rows of the document with this code."""
        r = self._records[code]
        first = int(r["first_row"])
        return range(first, first + int(r["rows"]))

    def __getitem__(self, doc_id: str) -> Document:
        code = self.code(doc_id) if isinstance(doc_id, str) else None
        if code is None:
            raise KeyError(doc_id)
        return self._document(code)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self.code(doc_id) is not None

    def __iter__(self) -> Iterator[str]:
        return (self._id_at(i) for i in range(len(self)))


class PassageTable(Sequence[Passage]):
    """Passage rows over `passages.npy`; row i is vector id i and BM25 document i."""

    def __init__(self, records: np.ndarray, documents: DocumentTable, strings: _Strings) -> None:
        self._records = records
        self._documents = documents
        self._strings = strings

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, row: int) -> Passage: ...
    @overload
    def __getitem__(self, row: slice) -> list[Passage]: ...
    def __getitem__(self, row: int | slice) -> Passage | list[Passage]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} out of range (0..{len(self) - 1})")
        r = self._records[row]
        doc = self._documents.by_code(int(r["doc"]))
        start, end = int(r["start"]), int(r["end"])
        heading_at = int(r["heading_at"])
        return Passage(
            passage_id=f"{doc.doc_id}#{int(r['ordinal']):04d}",
            doc_id=doc.doc_id,
            title=doc.title,
            text=doc.text[start:end],
            start=start,
            end=end,
            paragraph_start=int(r["paragraph_start"]),
            paragraph_end=int(r["paragraph_end"]),
            heading=None if heading_at < 0 else self._strings.get(heading_at, int(r["heading_len"])),
        )

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))

    def doc_codes(self) -> np.ndarray:
        """Each row's document code (position in doc_id order), int64."""
        return np.asarray(self._records["doc"], dtype=np.int64)

    def row_of(self, passage_id: str) -> int | None:
        """The row of a passage id, or None."""
        doc_id, sep, ordinal = passage_id.rpartition("#")
        code = self._documents.code(doc_id) if sep else None
        if code is None or not ordinal.isdigit():
            return None
        rows = self._documents.rows(code)
        n = int(ordinal)
        # Ordinals run 0.. within a document (chunking numbers them), so try the direct slot first.
        if n < len(rows) and int(self._records[rows[n]]["ordinal"]) == n:
            return rows[n]
        for row in rows:
            if int(self._records[row]["ordinal"]) == n:
                return row
        return None

    def rows_of(self, doc_id: str) -> range:
        """The rows of one document's passages (empty if it is not indexed)."""
        code = self._documents.code(doc_id)
        return range(0) if code is None else self._documents.rows(code)


def _ordinal(p: Passage) -> int:
    head, sep, tail = p.passage_id.rpartition("#")
    if not sep or head != p.doc_id or not tail.isdigit() or f"{int(tail):04d}" != tail:
        raise ValueError(f"passage id {p.passage_id!r} is not '{p.doc_id}#NNNN'; the table cannot store it")
    return int(tail)


def tables_from_records(
    documents: Iterable[Document], passages: Sequence[Passage]
) -> tuple[DocumentTable, PassageTable, dict[str, np.ndarray]]:
    """Build the tables in memory (a new build, or a snapshot of formats 2-4).

    Passages must be grouped by document, in any document order; each must be the
    exact slice of its document.

    Returns:
        `(documents, passages, arrays)`: `arrays` maps each file of `TABLE_FILES` (its
        name) to the array to write.

    Raises:
        ValueError: a passage's document is missing, its passages are not contiguous, its
            text is not its document's slice, or its id does not follow the scheme.
    """
    docs = sorted(documents, key=lambda d: d.doc_id)
    code_of = {d.doc_id: i for i, d in enumerate(docs)}
    blob = bytearray()

    def put(text: str) -> tuple[int, int]:
        raw = text.encode("utf-8")
        at = len(blob)
        blob.extend(raw)
        return at, len(raw)

    drec = np.zeros(len(docs), dtype=DOCUMENT_DTYPE)
    pages: list[int] = []
    for i, d in enumerate(docs):
        drec[i]["id_at"], drec[i]["id_len"] = put(d.doc_id)
        drec[i]["title_at"], drec[i]["title_len"] = put(d.title)
        drec[i]["text_at"], drec[i]["text_len"] = put(d.text)
        drec[i]["size"] = d.size
        drec[i]["sha256"] = d.sha256.encode("ascii")
        drec[i]["fmt"] = d.fmt.encode("ascii")
        drec[i]["pages_at"], drec[i]["pages_len"] = len(pages), len(d.page_starts)
        drec[i]["first_row"] = -1
        pages.extend(d.page_starts)

    prec = np.zeros(len(passages), dtype=PASSAGE_DTYPE)
    headings: dict[str, tuple[int, int]] = {}
    last = -1
    for row, p in enumerate(passages):
        code = code_of.get(p.doc_id)
        if code is None:
            raise ValueError(
                f"passage {p.passage_id!r} names document {p.doc_id!r}, which is not in the table"
            )
        doc = docs[code]
        if doc.text[p.start : p.end] != p.text:
            raise ValueError(
                f"passage {p.passage_id!r} is not the exact text of {p.doc_id}[{p.start}:{p.end}]"
            )
        if code != last:
            if drec[code]["first_row"] != -1:
                raise ValueError(f"the passages of {p.doc_id!r} are not contiguous rows")
            drec[code]["first_row"] = row
            last = code
        drec[code]["rows"] += 1
        r = prec[row]
        r["doc"], r["ordinal"] = code, _ordinal(p)
        r["start"], r["end"] = p.start, p.end
        r["paragraph_start"], r["paragraph_end"] = p.paragraph_start, p.paragraph_end
        if p.heading is None:
            r["heading_at"], r["heading_len"] = -1, 0
        else:
            if p.heading not in headings:
                headings[p.heading] = put(p.heading)
            r["heading_at"], r["heading_len"] = headings[p.heading]
    drec["first_row"][drec["first_row"] < 0] = 0
    strings = np.frombuffer(bytes(blob), dtype=np.uint8)
    page_arr = np.asarray(pages, dtype=np.int64)
    doc_table = DocumentTable(drec, _Strings(strings), page_arr)
    arrays = {"passages.npy": prec, "documents.npy": drec, "strings.bin": strings, "pages.npy": page_arr}
    return doc_table, PassageTable(prec, doc_table, _Strings(strings)), arrays


def save_tables(folder: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write the arrays of `tables_from_records` into `folder/table/`."""
    out = Path(folder) / TABLE_DIR
    out.mkdir(exist_ok=True)
    for name, array in arrays.items():  # plain writes: a full disk raises OSError(ENOSPC)
        if name.endswith(".bin"):
            with (out / name).open("wb") as f:
                f.write(np.ascontiguousarray(array).tobytes())
        else:
            save_npy(out / name, array)


def _advise_random(array: np.ndarray) -> None:
    """Tell the kernel a mapping is read at random: a page fault then reads that page, not
    a read-ahead window around it (cold random reads were ~4x slower without it)."""
    mapping = getattr(array, "_mmap", None)
    if mapping is not None and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        with contextlib.suppress(OSError, ValueError):
            mapping.madvise(mmap.MADV_RANDOM)


def load_tables(folder: Path) -> tuple[DocumentTable, PassageTable]:
    """Open the tables of a format-5 snapshot, memory-mapped (reads headers only).

    Raises:
        IndexCorruptError: a table file is malformed or its records point outside the data.
    """
    base = Path(folder) / TABLE_DIR
    try:
        prec = np.load(base / "passages.npy", mmap_mode="r")
        drec = np.load(base / "documents.npy", mmap_mode="r")
        pages = np.load(base / "pages.npy", mmap_mode="r")
        size = (base / "strings.bin").stat().st_size
        strings = np.memmap(base / "strings.bin", dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
    except (ValueError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise IndexCorruptError(
            f"the passage table of {folder} cannot be read ({exc}); run `qa index --rebuild`"
        ) from None
    if prec.dtype != PASSAGE_DTYPE or drec.dtype != DOCUMENT_DTYPE or pages.dtype != np.int64:
        raise IndexCorruptError(
            f"the passage table of {folder} has unexpected columns; run `qa index --rebuild`"
        )
    if len(drec):
        # Cheap bounds on the last records: the checksums catch the rest.
        ends = drec["text_at"][-1:] + drec["text_len"][-1:]
        if int(ends.max()) > size or int(drec["first_row"][-1] + drec["rows"][-1]) > len(prec):
            raise IndexCorruptError(
                f"the passage table of {folder} points outside its data; run `qa index --rebuild`"
            )
    _advise_random(strings)  # texts are read at random; the records also get scanned whole
    strs = _Strings(strings)
    documents = DocumentTable(drec, strs, pages)
    return documents, PassageTable(prec, documents, strs)
