"""Reading one file's bytes safely: regular files only, within a size limit, never half-written."""

from __future__ import annotations

import io
import logging
import os
import stat
from pathlib import Path

from qa.ingest.reader import UnreadableFile

__all__ = ["DEFAULT_MAX_BYTES", "READ_ATTEMPTS", "read_file", "too_big"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Times a file is re-read when it changes while being read, before it is skipped.
READ_ATTEMPTS = 3


def too_big(size: int, max_bytes: int) -> UnreadableFile:
    """The refusal for a file of `size` bytes over the `max_bytes` limit."""
    return UnreadableFile(
        f"file is {size:,} bytes, over the {max_bytes:,}-byte limit; raise it with --max-bytes"
    )


def _read_all(f: io.BufferedReader, limit: int) -> bytes:
    # A seam of its own, so tests can change the file while it is being read.
    return f.read(limit)


def read_file(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file and its stat, consistent with each other.

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
                    raise too_big(before.st_size, max_bytes)
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
            raise too_big(len(data), max_bytes)
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
