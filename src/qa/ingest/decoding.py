"""Bytes -> text for the text formats: byte-order mark, UTF-8, a declared charset, then detection.

For UTF-8 text the result is the file's content exactly, except that a leading
byte-order mark is dropped and NUL characters become U+FFFD (same length, so
character offsets still match the file).
"""

from __future__ import annotations

import unicodedata

from qa.ingest.reader import UnreadableFile

__all__ = ["decode_text"]

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


def _control_share(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    controls = sum(1 for c in sample if c not in _TEXT_CONTROLS and unicodedata.category(c) == "Cc")
    return controls / len(sample)


def decode_text(data: bytes, notes: list[str], *, declared: str | None = None) -> str:
    """Bytes -> text: BOM, then UTF-8, then a declared charset, then detection.

    Args:
        data: the file's bytes.
        notes: caveats for the user are appended here (e.g. the encoding that was guessed).
        declared: the charset the file declares for itself (an HTML `<meta charset>`).

    Raises:
        UnreadableFile: binary data, or text whose encoding cannot be found.
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
    # Imported here: only files that are not UTF-8 need it.
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
