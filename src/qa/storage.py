"""The index folder on disk: versioned snapshots, an atomic CURRENT pointer, a writer lock.

Layout of `embeddings/`:
    CURRENT          name of the live snapshot (replaced atomically with os.replace)
    v-<time>-<id>/   one complete snapshot: manifest.json and the files it lists
    .tmp-<id>/       a snapshot being written; never read, removed by the next writer
    .lock            held (flock) by the one process that writes

A reader resolves CURRENT once and reads that snapshot only, so it never sees a
half-written index: a build that crashes or is killed leaves CURRENT unchanged.
Publishing keeps the snapshot it replaces (one previous snapshot, so at rest the folder
holds at most two), which `qa index --recover` can go back to if the live one is damaged.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError, IndexLockedError, IndexWriteError
from qa.timestamps import name_stamp

__all__ = ["CURRENT", "IndexStore", "file_sha256", "fsync_dir", "save_npy", "write_error"]

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
# A snapshot folder's name: no path separators, no dots, so CURRENT cannot point outside.
SNAPSHOT_NAME = re.compile(r"v-[A-Za-z0-9_-]{1,64}")
# Index.load adds "or run `qa index --recover`" when an intact snapshot exists.
_CURRENT_FIX = "run `qa index --rebuild`"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_npy(path: Path, array: Any) -> None:
    """`np.save` with plain file writes: a full disk raises OSError(ENOSPC), which a build
    turns into its clear error (numpy's own `tofile` raises an OSError without errno)."""
    import numpy as np

    array = np.ascontiguousarray(array)
    with Path(path).open("wb") as f:
        np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(array))
        f.write(array.tobytes())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in sorted(path.rglob("*")):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(path)


class IndexStore:
    """Versioned snapshots under one folder, published atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def current(self) -> Path | None:
        """The live snapshot folder, or None if no index was ever published.

        Raises:
            IndexCorruptError: CURRENT is damaged, names no snapshot folder, or is missing
                while snapshots exist.
        """
        for _ in range(3):
            name = self._read_current()
            if name is None:
                return None
            path = self.root / name
            if path.is_dir():
                return path
            # A writer may have switched CURRENT and removed this snapshot meanwhile.
            if self._read_current() == name:
                break
        raise IndexCorruptError(
            f"{self.root / CURRENT} names snapshot {name}, which does not exist; {_CURRENT_FIX}"
        )

    def _read_current(self) -> str | None:
        path = self.root / CURRENT
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            if self.snapshots():
                raise IndexCorruptError(f"{path} is missing; {_CURRENT_FIX}") from None
            return None
        except OSError as exc:
            raise IndexCorruptError(f"{path} cannot be read ({exc.strerror}); {_CURRENT_FIX}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise IndexCorruptError(f"{path} is not text (damaged); {_CURRENT_FIX}") from None
        lines = text.splitlines()
        name = lines[0].strip() if lines else ""
        if len(lines) != 1 or not SNAPSHOT_NAME.fullmatch(name):
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise IndexCorruptError(
                f"{path} holds {shown!r}, not the name of a snapshot folder (v-*); {_CURRENT_FIX}"
            )
        return name

    def snapshots(self) -> list[Path]:
        """Every published snapshot folder, newest first."""
        found = [p for p in self.root.glob("v-*") if SNAPSHOT_NAME.fullmatch(p.name) and p.is_dir()]
        # The name starts with the publish time (to the second); the folder's mtime breaks ties.
        return sorted(found, key=lambda p: (p.name[:17], p.stat().st_mtime_ns), reverse=True)

    @contextlib.contextmanager
    def lock(self, *, wait: bool = True) -> Iterator[None]:
        """Hold the writer lock; only one process builds at a time."""
        # A write that fails for want of space or permission (here or in the body)
        # becomes an IndexWriteError naming the folder and the fix.
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / ".lock", "a+") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not wait:
                        raise IndexLockedError(
                            f"another process is writing the index in {self.root}; wait for it to finish"
                        ) from None
                    logger.warning("another process is writing the index in %s; waiting for it", self.root)
                    fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)
        except OSError as exc:
            err = write_error(exc, self.root)
            if err is None:
                raise
            raise err from None

    def new_snapshot(self) -> Path:
        """A fresh temporary folder to write a snapshot into (call under lock)."""
        self._remove_stale_temps()
        path = self.root / f".tmp-{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        return path

    def publish(self, tmp: Path, *, previous: Path | None = None) -> Path:
        """Make a fully written snapshot live, atomically, and drop older ones.

        Args:
            tmp: the folder from `new_snapshot`, completely written.
            previous: an intact snapshot to keep beside the new one (for `qa index
                --recover`); every other older snapshot is removed.
        """
        _fsync_tree(tmp)
        name = f"v-{name_stamp()}-{uuid.uuid4().hex[:8]}"
        final = self.root / name
        os.rename(tmp, final)
        try:
            self.point_to(final)
        except BaseException:
            # CURRENT is unchanged: hand the folder back so the caller removes it.
            os.rename(final, tmp)
            raise
        self._remove_old(keep={final} | ({previous} if previous is not None else set()))
        logger.info("published index snapshot %s", final)
        return final

    def point_to(self, snapshot: Path) -> None:
        """Atomically make `snapshot` (a folder in this store) the live one (call under lock)."""
        pointer = self.root / f".CURRENT-{uuid.uuid4().hex[:8]}"
        try:
            pointer.write_text(snapshot.name + "\n", encoding="utf-8")
            with open(pointer, "rb") as f:
                os.fsync(f.fileno())
            os.replace(pointer, self.root / CURRENT)
        except BaseException:
            pointer.unlink(missing_ok=True)
            raise
        fsync_dir(self.root)

    def _remove_stale_temps(self) -> None:
        for p in self.root.glob(".tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob(".CURRENT-*"):
            p.unlink(missing_ok=True)

    def _remove_old(self, *, keep: set[Path]) -> None:
        # Readers that already loaded an old snapshot hold its data in memory (or an
        # open mmap, which survives unlinking), so removing it is safe.
        for p in self.root.glob("v-*"):
            if p not in keep and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)


def write_error(exc: OSError, root: Path) -> IndexWriteError | None:
    """The IndexWriteError for a failed write in the index folder `root`, or None if
    `exc` is not about space or permission there."""
    where = f"the index folder {root}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return IndexWriteError(
            f"no space left on the device of {where}; free some space (or use `--index DIR` on "
            "another disk) and run `qa index` again; the previous index is unchanged"
        )
    if exc.errno == errno.EROFS:
        return IndexWriteError(
            f"{where} is on a read-only file system; use `--index DIR` in a writable folder "
            "to build there (`qa ask` still reads the index as it is)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        name = exc.filename if isinstance(exc.filename, str) else None
        if name is None or Path(name).resolve().is_relative_to(Path(root).resolve()):
            return IndexWriteError(
                f"no permission to write in {where} ({exc.filename or exc.strerror}); fix its "
                "permissions or use `--index DIR` in a writable folder"
            )
    return None
