"""Corpus folder -> Documents, with a report of every file that was skipped and why.

Formats: plain text (.txt, .md), HTML (.html, .htm; visible text only) and PDF
(.pdf; text layer, with the character offset where each page starts). The stored
`Document.text` is the extracted text, and every offset indexes it.

For UTF-8 text files the stored text is the file's content exactly, except that a
leading byte-order mark is dropped and NUL characters become U+FFFD (same length,
so character offsets still match the file).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from qa.errors import CorpusError
from qa.types import Document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "CorpusScan",
    "Duplicate",
    "Note",
    "Skipped",
    "UnreadableFile",
    "extract_html",
    "read_document",
    "scan_corpus",
    "make_title",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Times a file is re-read when it changes while being read, before it is skipped.
READ_ATTEMPTS = 3


class UnreadableFile(Exception):
    """Internal: a file that cannot become a Document; the message is the reason."""


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """A file not indexed because its text equals an indexed document's."""

    path: str
    same_as: str


@dataclass(frozen=True)
class Note:
    """A file that was indexed with a caveat the user should know about."""

    path: str
    message: str


@dataclass
class CorpusScan:
    """What a corpus folder holds: documents, and skipped files with reasons."""

    root: Path
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # doc_id -> (size, mtime_ns) of the source file, to spot changes without hashing.
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def make_title(text: str, fmt: str) -> str:
    """The first non-empty line (without Markdown `#` marks), cut to 200 characters."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            if fmt == "md":
                line = line.lstrip("#").strip() or line
            return line[:200]
    return ""


# -- decoding ------------------------------------------------------------------------

# Leading bytes of common binary formats, so a misnamed file gets a precise reason.
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx/.odt)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"SQLite format 3", "an SQLite database"),
)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Share of control characters above which decoded "text" is taken to be binary.
_MAX_CONTROL_SHARE = 0.05
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1b")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _control_share(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    controls = sum(1 for c in sample if c not in _TEXT_CONTROLS and unicodedata.category(c) == "Cc")
    return controls / len(sample)


def _decode_text(data: bytes, notes: list[str], *, declared: str | None = None) -> str:
    """Bytes -> text: BOM, then UTF-8, then a declared charset, then detection.

    Raises UnreadableFile for binary data or text whose encoding cannot be found.
    """
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise UnreadableFile(f"binary file ({what}), not text; rename it or remove it from the corpus")
    text: str | None = None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise UnreadableFile(
                    f"starts with a {codec} byte-order mark but is not valid {codec}"
                ) from None
            if codec != "utf-8-sig":
                notes.append(f"decoded as {codec.upper()} (byte-order mark)")
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _decode_other(data, exc, notes, declared=declared)
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise UnreadableFile("binary file (mostly control characters), not text; remove it from the corpus")
    if "\x00" in text:
        # NUL breaks some viewers and HTML; U+FFFD keeps the length, so offsets still match.
        notes.append(f"{text.count(chr(0))} NUL character(s) shown as U+FFFD")
        text = text.replace("\x00", "\ufffd")
    return text


def _decode_other(data: bytes, exc: UnicodeDecodeError, notes: list[str], *, declared: str | None) -> str:
    if declared:
        try:
            text = data.decode(declared)
            notes.append(f"not UTF-8; decoded as {declared} (declared in the file)")
            return text
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise UnreadableFile(
            f"not valid UTF-8 (byte {exc.start}) and no other text encoding fits; "
            "it may be binary, or re-save it as UTF-8"
        )
    notes.append(
        f"not UTF-8; decoded as {best.encoding} (detected, may be wrong: re-save the file as UTF-8 to be sure)"
    )
    return str(best)


# -- readers -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Extracted:
    text: str
    page_starts: tuple[int, ...] = ()
    title: str | None = None


def _read_plain(data: bytes, notes: list[str]) -> _Extracted:
    return _Extracted(_decode_text(data, notes))


# Elements whose content a browser does not show as text.
_HIDDEN_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "canvas"}
)
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# Elements that start a new paragraph.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav "
    "ol p pre section summary table tbody thead tfoot tr ul".split()
)
_SPACE_RUN = re.compile(r"\s+")


class _VisibleText(HTMLParser):
    """Collect the text a browser would show, one paragraph per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._lines: list[str] = []
        self._words: list[str] = []
        self._hidden: list[str] = []  # open hidden elements
        self._pre = 0
        self._in_title = False
        self.title_parts: list[str] = []

    def _end_line(self) -> None:
        line = _SPACE_RUN.sub(" ", "".join(self._words)).strip() if not self._pre else "".join(self._words)
        self._words = []
        if line.strip():
            self._lines.append(line)

    def _end_paragraph(self) -> None:
        self._end_line()
        if self._lines:
            self.paragraphs.append("\n".join(self._lines))
        self._lines = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag == "body":
            self._hidden = [t for t in self._hidden if t != "head"]  # an unclosed <head> ends here
        if self._hidden or tag in _HIDDEN_TAGS or any(name == "hidden" for name, _ in attrs):
            if tag not in _VOID_TAGS:
                self._hidden.append(tag)
            return
        if tag in _BLOCK_TAGS:
            self._end_paragraph()
        if tag == "pre":
            self._pre += 1
        elif tag == "br":
            self._end_line()
        elif tag in ("td", "th"):
            self._words.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._hidden and tag == "br":
            self._end_line()
        elif not self._hidden and tag in _BLOCK_TAGS:
            self._end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._hidden:
            if tag in self._hidden:
                # Close the element and anything left open inside it.
                del self._hidden[len(self._hidden) - 1 - self._hidden[::-1].index(tag) :]
            return
        if tag == "pre" and self._pre:
            self._end_paragraph()
            self._pre -= 1
        elif tag in _BLOCK_TAGS:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
            return
        if self._hidden:
            return
        if self._pre:
            lines = data.split("\n")
            for i, line in enumerate(lines):
                if i:
                    self._end_line()
                self._words.append(line.rstrip())
        else:
            self._words.append(data)

    def close(self) -> None:
        super().close()
        self._end_paragraph()


def extract_html(source: str) -> tuple[str, str | None]:
    """The visible text of an HTML page (no scripts, styles or hidden elements) and its <title>.

    Block elements become paragraphs separated by a blank line; `<br>` is a line break.
    """
    parser = _VisibleText()
    parser.feed(source)
    parser.close()
    title = _SPACE_RUN.sub(" ", "".join(parser.title_parts)).strip() or None
    return "\n\n".join(parser.paragraphs), title


def _read_html(data: bytes, notes: list[str]) -> _Extracted:
    m = _META_CHARSET.search(data[:4096])
    declared = m.group(1).decode("ascii", "replace") if m else None
    source = _decode_text(data, notes, declared=declared)
    text, title = extract_html(source)
    return _Extracted(text, title=title)


def _read_pdf(data: bytes, notes: list[str]) -> _Extracted:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed files log a warning per object
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("encrypted PDF; save an unencrypted copy to index it")
        n_pages = len(reader.pages)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on a damaged file
        raise UnreadableFile(f"corrupted or unreadable PDF ({type(exc).__name__}: {exc})") from None
    pages: list[str] = []
    bad_pages: list[int] = []
    for number in range(n_pages):
        try:
            pages.append(reader.pages[number].extract_text() or "")
        except Exception:  # noqa: BLE001 - one damaged page should not lose the others
            pages.append("")
            bad_pages.append(number + 1)
    if bad_pages and len(bad_pages) == n_pages:
        raise UnreadableFile("corrupted PDF: no page could be read")
    if bad_pages:
        notes.append(f"page(s) {', '.join(map(str, bad_pages))} could not be read and are left empty")
    starts: list[int] = []
    parts: list[str] = []
    pos = 0
    for page in pages:
        # Pages are separated by a blank line, so a page break is a paragraph break.
        page = page.strip().replace("\x00", "\ufffd")
        if parts:
            parts.append("\n\n")
            pos += 2
        starts.append(pos)
        parts.append(page)
        pos += len(page)
    text = "".join(parts)
    if pages and not text.strip():
        raise UnreadableFile(
            f"PDF has {len(pages)} page(s) but no text layer (scanned?); run OCR on it first"
        )
    if not pages:
        raise UnreadableFile("PDF has no pages")
    return _Extracted(text, page_starts=tuple(starts))


Reader = Callable[[bytes, list[str]], _Extracted]
READERS: dict[str, tuple[str, Reader]] = {
    ".txt": ("txt", _read_plain),
    ".text": ("txt", _read_plain),
    ".md": ("md", _read_plain),
    ".markdown": ("md", _read_plain),
    ".html": ("html", _read_html),
    ".htm": ("html", _read_html),
    ".pdf": ("pdf", _read_pdf),
}
SUPPORTED_SUFFIXES = tuple(sorted(READERS))


# -- files ---------------------------------------------------------------------------


def _too_big(size: int, max_bytes: int) -> UnreadableFile:
    return UnreadableFile(
        f"file is {size:,} bytes, over the {max_bytes:,}-byte limit; raise it with --max-bytes"
    )


def _read_all(f: io.BufferedReader, limit: int) -> bytes:
    return f.read(limit)


def _read_file(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a file and its stat, consistent with each other.

    A file that changes while it is read (size or mtime differ before and after) is
    read again; one still changing after READ_ATTEMPTS reads is skipped.
    """
    for _ in range(READ_ATTEMPTS):
        try:
            # A FIFO or device would block or never end; only regular files are read.
            if not stat.S_ISREG(os.stat(path).st_mode):
                raise UnreadableFile("not a regular file (a pipe, socket or device)")
            with open(path, "rb") as f:
                before = os.fstat(f.fileno())
                if before.st_size > max_bytes:
                    raise _too_big(before.st_size, max_bytes)
                # One byte over the limit tells a file that grew past it while read.
                data = _read_all(f, max_bytes + 1)
                after = os.fstat(f.fileno())
            on_disk = os.stat(path)
        except FileNotFoundError:
            raise UnreadableFile("file vanished while being read") from None
        except PermissionError:
            raise UnreadableFile("permission denied; make the file readable (chmod +r)") from None
        except IsADirectoryError:
            raise UnreadableFile("is a directory") from None
        except OSError as exc:
            raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from None
        if len(data) > max_bytes:
            raise _too_big(len(data), max_bytes)
        key = (before.st_size, before.st_mtime_ns)
        if (
            key == (after.st_size, after.st_mtime_ns)
            and key == (on_disk.st_size, on_disk.st_mtime_ns)
            and (on_disk.st_ino, on_disk.st_dev) == (before.st_ino, before.st_dev)
            and len(data) == before.st_size
        ):
            return data, before
        logger.info("%s changed while being read; reading it again", path)
    raise UnreadableFile(
        f"file kept changing while being read ({READ_ATTEMPTS} attempts); run `qa index` again when it is written"
    )


def _read(
    path: Path, doc_id: str, *, max_bytes: int, data: bytes | None
) -> tuple[Document, list[str], os.stat_result | None]:
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise UnreadableFile(
            f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    fmt, reader = READERS[suffix]
    st = None
    if data is None:
        data, st = _read_file(path, max_bytes)
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes)
    if not data:
        raise UnreadableFile("empty file (0 bytes)")
    notes: list[str] = []
    extracted = reader(data, notes)
    text = extracted.text
    if not text.strip():
        raise UnreadableFile(
            "empty file (no visible text)" if fmt == "html" else "empty file (only whitespace)"
        )
    doc = Document(
        doc_id=doc_id,
        title=(extracted.title or make_title(text, fmt))[:200],
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        size=len(data),
        fmt=fmt,
        page_starts=extracted.page_starts,
    )
    return doc, notes, st


def read_document(
    path: Path, doc_id: str, *, max_bytes: int = DEFAULT_MAX_BYTES, data: bytes | None = None
) -> Document:
    """Read one file (or its bytes, `data`) into a Document, or raise UnreadableFile with the reason."""
    return _read(Path(path), doc_id, max_bytes=max_bytes, data=data)[0]


def scan_corpus(
    root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, prefer: Collection[str] = ()
) -> CorpusScan:
    """Read every supported file under `root` (recursively, hidden files ignored).

    Document ids are paths relative to `root`, with `/` separators. Files that cannot
    be read are listed in `skipped` with the reason; they never stop the scan. Files
    with identical text are indexed once: the copy named in `prefer` (the documents
    already indexed, so a new copy never displaces them), else the first one read
    (root files first, then sub-folders, by name); the others are in `duplicates`.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder {str(root)!r} does not exist; create it, or pass --corpus DIR")
    scan = CorpusScan(root=root)
    read: list[tuple[Document, list[str], os.stat_result | None]] = []

    def unlistable(exc: OSError) -> None:
        # os.walk skips folders it cannot list; say so instead of losing them silently.
        rel = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "?"
        scan.skipped.append(Skipped(rel + "/", f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            doc_id = path.relative_to(root).as_posix()
            try:
                doc, notes, st = _read(path, doc_id, max_bytes=max_bytes, data=None)
            except UnreadableFile as exc:
                scan.skipped.append(Skipped(doc_id, str(exc)))
                logger.warning("skipped %s: %s", doc_id, exc)
                continue
            read.append((doc, notes, st))
    preferred = set(prefer)
    kept: dict[str, str] = {}
    for doc, _, _ in read:
        first = kept.get(doc.sha256)
        if first is None or (doc.doc_id in preferred and first not in preferred):
            kept[doc.sha256] = doc.doc_id
    for doc, notes, st in read:
        keep = kept[doc.sha256]
        if keep != doc.doc_id:
            scan.duplicates.append(Duplicate(doc.doc_id, keep))
            logger.warning("skipped %s: same text as %s", doc.doc_id, keep)
            continue
        for message in notes:
            scan.notes.append(Note(doc.doc_id, message))
            logger.warning("%s: %s", doc.doc_id, message)
        scan.documents.append(doc)
        if st is not None:
            scan.stats[doc.doc_id] = (st.st_size, st.st_mtime_ns)
    return scan
