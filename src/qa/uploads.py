"""Uploaded files: what an upload may be (UploadLimits), safe file names, and the checks before saving."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError
from qa.ingest import SUPPORTED_SUFFIXES, UnreadableFile, read_document

__all__ = [
    "DEFAULT_UPLOAD_BYTES",
    "MAX_NAME_CHARS",
    "Upload",
    "UploadLimits",
    "UploadRejectedError",
    "check_upload",
    "read_uploads",
    "sanitize_filename",
]

DEFAULT_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_NAME_CHARS = 120

_UNSAFE = re.compile(r"[^\w.\- ()+,@&=]+")
_SPACES = re.compile(r"\s+")


class UploadRejectedError(InputError):
    """An uploaded file was refused (name, type, size or content); nothing was changed."""


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be.

    Args:
        max_bytes: largest accepted file.
        max_files: most files in one upload.
        suffixes: accepted file name suffixes; None means every format the core reads.
    """

    max_bytes: int = DEFAULT_UPLOAD_BYTES
    max_files: int = 50
    suffixes: tuple[str, ...] | None = None

    def accepted_suffixes(self) -> tuple[str, ...]:
        return self.suffixes if self.suffixes is not None else SUPPORTED_SUFFIXES

    def check_count(self, count: int) -> None:
        """Raise UploadRejectedError if one upload holds more than `max_files` files."""
        if count > self.max_files:
            raise UploadRejectedError(
                f"{count} files in one upload; upload at most {self.max_files} at a time"
            )

    def check_size(self, name: str, size: int) -> None:
        """Raise UploadRejectedError if the file `name` of `size` bytes is over `max_bytes`."""
        if size > self.max_bytes:
            raise UploadRejectedError(
                f"{name!r} is {size:,} bytes, over the {self.max_bytes:,}-byte upload limit; "
                "split it into smaller files"
            )


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user gave it and its bytes."""

    name: str
    data: bytes


def sanitize_filename(name: str, *, suffixes: Sequence[str] | None = None) -> str:
    """A safe file name for the corpus folder, made from an uploaded file's name.

    Only the last path component is kept (both `/` and `\\` separate), so the result can
    never point outside the folder; control and unusual characters become `_`, leading
    dots are dropped (hidden files are not indexed), and long names are shortened while
    keeping the suffix.

    Raises:
        UploadRejectedError: nothing usable is left, or the suffix is not accepted.
    """
    original = name
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _SPACES.sub(" ", name)
    name = "".join(ch if ch.isprintable() else "_" for ch in name)
    name = _SPACES.sub(" ", _UNSAFE.sub("_", name)).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = f".{suffix.lower()}" if dot else ""
    stem = stem.strip(" ._") or ""
    accepted = tuple(s.lower() for s in (suffixes if suffixes is not None else SUPPORTED_SUFFIXES))
    if suffix not in accepted:
        raise UploadRejectedError(
            f"{original!r}: unsupported file type {suffix or '(none)'!r}; upload one of {', '.join(accepted)}"
        )
    if not stem:
        raise UploadRejectedError(
            f"{original!r} is not a usable file name; rename the file and upload it again"
        )
    stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .")
    return stem + suffix


def check_upload(upload: Upload, limits: UploadLimits) -> str:
    """Validate one upload's name, type, size and text; return the file name it would get.

    Raises:
        UploadRejectedError: bad name or type, too large, or not readable text.
    """
    doc_id = sanitize_filename(upload.name, suffixes=limits.accepted_suffixes())
    limits.check_size(upload.name, len(upload.data))
    try:
        read_document(Path(doc_id), doc_id, max_bytes=limits.max_bytes, data=upload.data)
    except UnreadableFile as exc:
        raise UploadRejectedError(f"{upload.name!r} was not added: {exc}") from None
    return doc_id


def read_uploads(
    paths: Sequence[Path | str], *, limits: UploadLimits, names: Sequence[str] | None = None
) -> list[Upload]:
    """Read uploaded files from disk, refusing oversized ones before reading them.

    Args:
        paths: where the uploaded files are (e.g. the web server's temporary copies).
        limits: what an upload may be.
        names: the names the user gave them; default: the files' own names.

    Raises:
        UploadRejectedError: too many files, one too large, or one that cannot be read.
    """
    limits.check_count(len(paths))
    uploads = []
    for i, p in enumerate(paths):
        p = Path(p)
        name = names[i] if names is not None else p.name
        try:
            limits.check_size(name, p.stat().st_size)
            uploads.append(Upload(name, p.read_bytes()))
        except OSError as exc:
            raise UploadRejectedError(
                f"{name!r} could not be read ({exc.strerror or exc}); upload it again"
            ) from None
    return uploads
