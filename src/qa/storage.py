"""The index folder on disk: versioned snapshots, an atomic CURRENT pointer, a writer lock.

Layout of `embeddings/`:
    CURRENT          name of the live snapshot (replaced atomically with os.replace)
    v-<time>-<id>/   one complete snapshot: manifest.json and the files it lists
    .tmp-<id>/       a snapshot being written; never read, removed by the next writer
    .lock            held (flock) by the one process that writes

A reader resolves CURRENT once and reads that snapshot only, so it never sees a
half-written index: a build that crashes or is killed leaves CURRENT unchanged.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from qa.errors import IndexLockedError

__all__ = ["IndexStore", "file_sha256", "fsync_dir"]

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        """The live snapshot folder, or None if no index was ever published."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        path = self.root / name
        return path if name and path.is_dir() else None

    @contextlib.contextmanager
    def lock(self, *, wait: bool = True) -> Iterator[None]:
        """Hold the writer lock; only one process builds at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise IndexLockedError(
                    f"another process is writing the index in {self.root}; wait for it to finish"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def new_snapshot(self) -> Path:
        """A fresh temporary folder to write a snapshot into (call under lock)."""
        self._remove_stale_temps()
        path = self.root / f".tmp-{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        return path

    def publish(self, tmp: Path) -> Path:
        """Make a fully written snapshot live, atomically, and drop older ones."""
        _fsync_tree(tmp)
        name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        final = self.root / name
        os.rename(tmp, final)
        pointer = self.root / f".CURRENT-{uuid.uuid4().hex[:8]}"
        pointer.write_text(name + "\n", encoding="utf-8")
        with open(pointer, "rb") as f:
            os.fsync(f.fileno())
        os.replace(pointer, self.root / CURRENT)
        fsync_dir(self.root)
        self._remove_old(keep=final)
        logger.info("published index snapshot %s", final)
        return final

    def _remove_stale_temps(self) -> None:
        for p in self.root.glob(".tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob(".CURRENT-*"):
            p.unlink(missing_ok=True)

    def _remove_old(self, *, keep: Path) -> None:
        # Readers that already loaded an old snapshot hold its data in memory (or an
        # open mmap, which survives unlinking), so removing it is safe.
        for p in self.root.glob("v-*"):
            if p != keep and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
