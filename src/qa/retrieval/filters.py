"""Filters: search only some documents (by id, folder, file type or title words), resolved to allowed rows.

Within a field the values are alternatives (any document id, any folder, any type); the
fields combine (a document must pass every field that is set). Title words are all
required. A filter names documents the user can see: an unknown document id, a folder
that holds no document or a file type qa does not read is an error that lists what
exists; a filter that is valid but matches no document gives an empty (unanswered)
result.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import InputError
from qa.types import Document

if TYPE_CHECKING:
    from qa.index import Index

__all__ = [
    "FILE_TYPES",
    "FILTER_FIELDS",
    "Filter",
    "Filters",
    "allowed_rows",
    "merge_filters",
    "rows_per_question",
]

# Formats qa reads (Document.fmt), and the other names users write for them.
FILE_TYPES = ("html", "md", "pdf", "txt")
_TYPE_ALIASES = {"htm": "html", "markdown": "md", "text": "txt"}
# The JSON keys of a filter (batch input, the HTTP API) -> Filter attribute.
FILTER_FIELDS = {"doc": "doc_ids", "under": "folders", "type": "types", "title": "title_words"}
_WORD = re.compile(r"\w+")
_LISTED = 20  # names listed in an error message before "and N more"


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _listing(names: Iterable[str]) -> str:
    names = sorted(names)
    shown = ", ".join(names[:_LISTED])
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return (shown + more) or "(none)"


def _folder(prefix: str) -> str:
    """A folder prefix as document ids start with it: `/`-separated, no leading `./` or `/`, ending in `/`."""
    p = prefix.replace("\\", "/").strip()
    while p.startswith("./"):
        p = p[2:]
    p = p.strip("/")
    return p + "/" if p else ""


def _file_type(value: str) -> str:
    t = value.strip().lower().lstrip(".")
    t = _TYPE_ALIASES.get(t, t)
    if t not in FILE_TYPES:
        raise InputError(f"unknown file type {value!r}; choose among {', '.join(FILE_TYPES)}")
    return t


@dataclass(frozen=True)
class Filter:
    """Which documents a search may return passages from (an empty field does not filter).

    Attributes:
        doc_ids: exact document ids (paths relative to the corpus folder).
        folders: folder prefixes: `reports` allows `reports/a.txt` and `reports/2024/b.pdf`.
        types: file types among FILE_TYPES (`htm`, `markdown`, `.pdf` are accepted too).
        title_words: words every allowed document's title contains (case-insensitive).
    """

    doc_ids: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    title_words: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        doc_ids: Iterable[str] = (),
        folders: Iterable[str] = (),
        types: Iterable[str] = (),
        title_words: Iterable[str] = (),
    ) -> Filter:
        """A normalised filter (folders end in `/`, types canonical, title split into words).

        Raises InputError for an unknown file type or a value that is not a string.
        """
        values = {"doc_ids": doc_ids, "folders": folders, "types": types, "title_words": title_words}
        for name, items in values.items():
            if isinstance(items, str):
                values[name] = [items]
            for item in values[name]:
                if not isinstance(item, str):
                    raise InputError(f"filter {name} must hold strings, got {type(item).__name__}")
        return cls(
            doc_ids=tuple(dict.fromkeys(d.strip() for d in values["doc_ids"] if d.strip())),
            folders=tuple(dict.fromkeys(_folder(f) for f in values["folders"] if _folder(f))),
            types=tuple(dict.fromkeys(_file_type(t) for t in values["types"] if t.strip())),
            title_words=tuple(dict.fromkeys(w for t in values["title_words"] for w in _words(t))),
        )

    @classmethod
    def from_dict(cls, data: Any) -> Filter:
        """A filter from JSON: `{"doc": [..], "under": [..], "type": [..], "title": "words"}`.

        Each value is a string or a list of strings; InputError names an unknown key.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InputError(
                f'"filters" must be an object like {{"doc": ["a.txt"], "type": ["pdf"]}}, '
                f"got {type(data).__name__}"
            )
        unknown = sorted(set(data) - set(FILTER_FIELDS))
        if unknown:
            raise InputError(f"unknown filter field(s) {unknown}; use {sorted(FILTER_FIELDS)}")
        values: dict[str, Any] = {}
        for key, name in FILTER_FIELDS.items():
            value = data.get(key)
            if value is None:
                continue
            if not isinstance(value, (str, list)):
                raise InputError(f'filter "{key}" must be a string or a list of strings')
            values[name] = value
        return cls.of(**values)

    def to_dict(self) -> dict[str, list[str]]:
        """The JSON form (only the fields that are set)."""
        out = {key: list(getattr(self, name)) for key, name in FILTER_FIELDS.items()}
        return {key: value for key, value in out.items() if value}

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def check(self, documents: Mapping[str, Document]) -> None:
        """InputError if a document id or folder names nothing in `documents` (the message lists what exists)."""
        unknown = [d for d in self.doc_ids if d not in documents]
        if unknown:
            raise InputError(
                f"unknown document id(s) {unknown}; the index holds: {_listing(documents)} "
                "(`qa status` lists them)"
            )
        for folder in self.folders:
            if not any(d.startswith(folder) for d in documents):
                folders = {d.rsplit("/", 1)[0] + "/" for d in documents if "/" in d}
                raise InputError(
                    f"no indexed document is under {folder!r}; folders in the index: {_listing(folders)}"
                )

    def allows(self, document: Document) -> bool:
        """Whether `document` passes every field that is set."""
        if self.doc_ids and document.doc_id not in self.doc_ids:
            return False
        if self.folders and not any(document.doc_id.startswith(f) for f in self.folders):
            return False
        if self.types and document.fmt not in self.types:
            return False
        if self.title_words:
            title = set(_words(document.title))
            return all(w in title for w in self.title_words)
        return True

    def documents(self, documents: Mapping[str, Document]) -> frozenset[str]:
        """The ids of the allowed documents, after `check`."""
        self.check(documents)
        return frozenset(d for d, doc in documents.items() if self.allows(doc))


def merge_filters(base: Filter | None, over: Filter | None) -> Filter | None:
    """`base` with each field that `over` sets replaced by `over`'s (a batch line over the command line)."""
    if base is None or not base:
        return over if over else None
    if over is None or not over:
        return base
    changes = {f.name: getattr(over, f.name) for f in fields(over) if getattr(over, f.name)}
    return replace(base, **changes)


# Per index: its document ids in order and each row's position in that list.
_ROW_CODES: weakref.WeakKeyDictionary[Index, tuple[dict[str, int], np.ndarray]] = weakref.WeakKeyDictionary()


def _row_codes(index: Index) -> tuple[dict[str, int], np.ndarray]:
    found = _ROW_CODES.get(index)
    if found is None:
        code_of = {d: i for i, d in enumerate(index.documents)}
        if hasattr(index.passages, "doc_codes"):  # a table: codes are positions in doc_id order
            codes = index.passages.doc_codes()
        else:
            codes = np.fromiter((code_of[p.doc_id] for p in index.passages), dtype=np.int64, count=len(index))
        found = _ROW_CODES[index] = (code_of, codes)
    return found


def allowed_rows(index: Index, flt: Filter) -> np.ndarray:
    """The sorted passage rows of the documents `flt` allows (int64); raises like `Filter.check`."""
    allowed = flt.documents(index.documents)
    code_of, codes = _row_codes(index)
    wanted = np.array(sorted(code_of[d] for d in allowed), dtype=np.int64)
    return np.flatnonzero(np.isin(codes, wanted)).astype(np.int64)


# One filter for every question of a call, or one per question (None: no filter).
Filters = Filter | Sequence[Filter | None] | None


def rows_per_question(index: Index, filters: Filters, n: int) -> list[np.ndarray | None]:
    """Each of `n` questions' allowed rows (None: unfiltered); a filter shared by questions is resolved once."""
    if filters is None or isinstance(filters, Filter):
        rows = allowed_rows(index, filters) if filters else None
        return [rows] * n
    per_question = list(filters)
    if len(per_question) != n:
        raise InputError(f"got {len(per_question)} filters for {n} questions; pass one per question")
    resolved: dict[Filter, np.ndarray] = {}
    out: list[np.ndarray | None] = []
    for flt in per_question:
        if not flt:
            out.append(None)
            continue
        if flt not in resolved:
            resolved[flt] = allowed_rows(index, flt)
        out.append(resolved[flt])
    return out
