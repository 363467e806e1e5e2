"""Per-file extraction budgets (`ExtractionLimits`) and the checks that enforce them.

A file over a budget is skipped with `ExtractionLimitError`, whose message names the
file's measure, the limit and the flag that raises it; the rest of the corpus indexes.
The time budget is enforced by `qa.ingest.worker` (the reader runs in a worker process
that is killed at the deadline); the checks here are cheap scans of the raw bytes done
before the reader runs (pages, decompressed bytes, nesting depth) and a check of what
it returned (characters, pages).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import cache

from qa.errors import ConfigError
from qa.ingest.reader import Extracted, UnreadableFile

__all__ = [
    "DEFAULT_LIMITS",
    "ExtractionLimitError",
    "ExtractionLimits",
    "check_before",
    "check_extracted",
    "html_depth_over",
    "pdf_decompressed_over",
    "pdf_pages",
]


@dataclass(frozen=True)
class ExtractionLimits:
    """How much work reading one file may take; a file over any limit is skipped.

    Args:
        seconds: wall-clock time for the format's reader (PDF, HTML and every format
            other than plain text run in a worker process killed at this deadline);
            0 turns the worker off (readers run in-process, no time limit).
        pages: most pages in a paged document (PDF).
        decompressed_bytes: most bytes a compressed file may inflate to (the Flate
            streams of a PDF, images left out); also the per-stream cap given to pypdf.
        depth: deepest element nesting in a markup file (HTML).
        chars: most characters of extracted text.
        memory_bytes: address-space cap of the worker process (a safety net behind
            the other limits).
    """

    seconds: float = 30.0
    pages: int = 2_000
    decompressed_bytes: int = 50 * 1024 * 1024
    depth: int = 1_000
    chars: int = 20_000_000
    memory_bytes: int = 2 * 1024 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ConfigError(
                f"time limit {self.seconds} s is negative; pass a positive number (0 = no limit)"
            )
        counts = {
            "pages": self.pages,
            "decompressed_bytes": self.decompressed_bytes,
            "depth": self.depth,
            "chars": self.chars,
            "memory_bytes": self.memory_bytes,
        }
        for name, value in counts.items():
            if value < 1:
                raise ConfigError(f"extraction limit {name}={value} must be at least 1")

    @property
    def isolated(self) -> bool:
        """True when readers run in the worker process (a time limit is set)."""
        return self.seconds > 0


DEFAULT_LIMITS = ExtractionLimits()


class ExtractionLimitError(UnreadableFile):
    """A file over one of its extraction budgets; `limit` names the ExtractionLimits field."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit

    def __reduce__(self):  # pickled from the worker process with its keyword argument
        return (_rebuild, (str(self), self.limit))


def _rebuild(message: str, limit: str) -> ExtractionLimitError:
    return ExtractionLimitError(message, limit=limit)


# Limit (an ExtractionLimits field) -> how its value reads in a message, and how to raise it.
_WORDING = {
    "seconds": ("{:g}-second time", "--max-seconds"),
    "pages": ("{:,}-page", "--max-pages"),
    "decompressed_bytes": ("{:,}-byte decompression", "--max-decompressed-bytes"),
    "depth": ("{:,}-level nesting", "--max-depth"),
    "chars": ("{:,}-character", "--max-chars"),
    "memory_bytes": ("{:,}-byte memory", "ExtractionLimits(memory_bytes=...)"),
}


def over(limit: str, measured: str, value: float) -> ExtractionLimitError:
    """The refusal `<measured>, over the <value> <limit> limit; raise it with <flag>`."""
    allowed, flag = _WORDING[limit]
    return ExtractionLimitError(
        f"{measured}, over the {allowed.format(value)} limit; raise it with {flag}", limit=limit
    )


# -- PDF -------------------------------------------------------------------------------

_STREAM = re.compile(rb"stream\r?\n")
_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")


_PAGE_OBJ = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_pages(data: bytes, limit: int) -> int | None:
    """The page count, when it may be over `limit`; None when it is surely not (or unknown).

    Page objects are counted in the raw bytes first (fast); only when that count is over
    the limit, or pages may hide in compressed object streams (`/ObjStm`), does pypdf
    read the page tree (no page is parsed) to get the true count.
    """
    if len(_PAGE_OBJ.findall(data)) <= limit and b"/ObjStm" not in data:
        return None
    import io

    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception:  # noqa: BLE001 - a damaged file is the reader's to report
        return None


def pdf_decompressed_over(data: bytes, limit: int) -> int | None:
    """The decompressed size once the Flate streams of a PDF pass `limit` bytes, else None.

    Scans the raw bytes for `stream` keywords and inflates what follows each with zlib
    (which stops at the end of its deflate data), in bounded steps, so a deflate bomb is
    measured without ever being held in memory. Streams whose dictionary says `/Image`
    are left out (the text layer never needs them); other filters fail zlib's header
    check at once and count nothing.
    """
    total = 0
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - 512) : m.start()]
        objs = list(_OBJ.finditer(head))
        if b"/Image" in (head[objs[-1].end() :] if objs else head):
            continue
        inflate = zlib.decompressobj()
        chunk = data[m.end() : m.end() + 65536]
        pos = m.end() + len(chunk)
        try:
            while chunk and not inflate.eof:
                out = inflate.decompress(chunk, 1 << 20)
                total += len(out)
                if total > limit:
                    return total
                chunk = inflate.unconsumed_tail
                if not chunk:
                    chunk = data[pos : pos + 65536]
                    pos += len(chunk)
        except zlib.error:
            continue
    return None


# -- HTML ------------------------------------------------------------------------------

_TAG = re.compile(rb"<!--|<(/?)([A-Za-z][^\s/>]*)[^>]*>")
_VOID = frozenset(b"area base br col embed hr img input link meta param source track wbr".split())
_RAW = frozenset(b"script style textarea title xmp plaintext".split())
# Elements whose end tag may be left out: a new one closes an open one a few levels up.
_IMPLIED = frozenset(b"p li dt dd tr td th option thead tbody tfoot".split())


@cache
def _raw_end(name: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"</" + re.escape(name) + rb"\s*>", re.IGNORECASE)


def html_depth_over(data: bytes, limit: int) -> int | None:
    """The element nesting depth once it passes `limit`, else None.

    Counts open elements the way a forgiving parser would: void and self-closed tags
    do not nest, an end tag closes up to its open element, an unclosed `<p>`, `<li>`,
    `<td>` ... is closed by the next one of its kind, and the text of `<script>`,
    `<style>` and comments is skipped. Stops as soon as the limit is passed, so a
    million nested tags cost no more than the first thousand.
    """
    stack: list[bytes] = []
    open_count: Counter[bytes] = Counter()
    pos = 0
    while True:
        m = _TAG.search(data, pos)
        if m is None:
            return None
        pos = m.end()
        if m.group(0) == b"<!--":
            end = data.find(b"-->", pos)
            if end < 0:
                return None
            pos = end + 3
            continue
        name = m.group(2).lower()
        if m.group(1):  # an end tag
            if open_count[name]:
                while stack:
                    top = stack.pop()
                    open_count[top] -= 1
                    if top == name:
                        break
            continue
        if name in _VOID or m.group(0).endswith(b"/>"):
            continue
        if name in _RAW:
            end_m = _raw_end(name).search(data, pos)
            pos = end_m.end() if end_m else len(data)
            continue
        if name in _IMPLIED and name in stack[-3:]:
            while stack:
                top = stack.pop()
                open_count[top] -= 1
                if top == name:
                    break
        stack.append(name)
        open_count[name] += 1
        if len(stack) > limit:
            return len(stack)


# -- the checks ------------------------------------------------------------------------

_PDF = frozenset({".pdf"})
_MARKUP = frozenset({".html", ".htm", ".xhtml"})


def check_before(suffix: str, data: bytes, limits: ExtractionLimits) -> None:
    """Raise ExtractionLimitError if the raw bytes already show the file is over a budget."""
    suffix = suffix.lower()
    if suffix in _PDF:
        cap = limits.decompressed_bytes
        inflated = pdf_decompressed_over(data, cap)
        if inflated is not None:
            raise over(
                "decompressed_bytes", f"compressed streams inflate to more than {inflated:,} bytes", cap
            )
        pages = pdf_pages(data, limits.pages)
        if pages is not None and pages > limits.pages:
            raise over("pages", f"PDF has {pages:,} pages", limits.pages)
    elif suffix in _MARKUP and html_depth_over(data, limits.depth) is not None:
        raise over("depth", f"elements are nested more than {limits.depth:,} deep", limits.depth)


def check_extracted(extracted: Extracted, limits: ExtractionLimits) -> None:
    """Raise ExtractionLimitError if what a reader returned is over a budget."""
    if len(extracted.text) > limits.chars:
        raise over("chars", f"extracted text is {len(extracted.text):,} characters", limits.chars)
    if len(extracted.page_starts) > limits.pages:
        raise over("pages", f"document has {len(extracted.page_starts):,} pages", limits.pages)
