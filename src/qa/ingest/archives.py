"""Zip containers (.docx, .odt, .epub, .pptx): check one before a library unpacks it."""

from __future__ import annotations

import io
import zipfile

from qa.ingest.reader import UnreadableFile

__all__ = ["MAX_UNPACKED_BYTES", "check_zip"]

# A 20 MB office file unpacks to well under this; a "zip bomb" unpacks to far more.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024


def check_zip(data: bytes, what: str, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> None:
    """Raise UnreadableFile unless `data` is a zip archive that unpacks to at most `max_unpacked` bytes.

    Args:
        data: the file's bytes.
        what: the format's name for messages (".docx").
        max_unpacked: the most bytes all members may unpack to together.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile(f"not a valid {what} file (its zip container is damaged: {exc})") from None
    if unpacked > max_unpacked:
        raise UnreadableFile(
            f"{what} file unpacks to {unpacked:,} bytes, over the {max_unpacked:,}-byte limit "
            "(a damaged file or a zip bomb)"
        )
