"""A watched corpus folder: files added, changed or removed are re-indexed as they change.

`CorpusWatcher` runs in a background thread (watchfiles), waits until the folder has
been quiet for `debounce_ms`, then calls `reindex` once for the whole batch: for
`qa serve --watch` that is `Collection.sync` (searches keep answering from the previous
snapshot until the new index is published, in one assignment); for `qa index --watch`
it is `build_index`. Only files qa can read count: hidden files (an upload's temporary
`.name.part`), other suffixes and the index folder itself are ignored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

from qa.ingest.registry import SUPPORTED_SUFFIXES

__all__ = ["DEFAULT_DEBOUNCE_MS", "CorpusFilter", "CorpusWatcher", "WatchStatus"]

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_MS = 1500


class CorpusFilter(DefaultFilter):
    """Changes to files qa indexes: supported suffix, not hidden, not inside `ignore_dir`."""

    def __init__(self, root: Path, ignore_dir: Path | None = None) -> None:
        super().__init__()
        self._root = root.resolve()
        self._ignore = ignore_dir.resolve() if ignore_dir is not None else None

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        p = Path(path)
        if self._ignore is not None and (p == self._ignore or self._ignore in p.parents):
            return False
        try:
            parts = p.relative_to(self._root).parts
        except ValueError:
            return False
        if any(part.startswith(".") for part in parts):
            return False
        # A removed folder has no suffix: it may have held documents.
        return p.suffix.lower() in SUPPORTED_SUFFIXES or (change == Change.deleted and not p.suffix)


@dataclass
class WatchStatus:
    """What the watcher is doing, for the UI and the logs."""

    watching: bool = False
    busy: bool = False
    message: str = ""
    last_run: float | None = None  # time.time() of the last finished re-index
    runs: int = 0
    errors: list[str] = field(default_factory=list)


class CorpusWatcher:
    """Re-index a corpus folder whenever files in it change (debounced), in a background thread.

    Args:
        corpus_dir: the folder to watch (recursively).
        reindex: called once per batch of changes with a progress callback
            `(fraction, message)`; returns a one-line summary. An exception is logged and
            shown in the status; the watcher goes on.
        debounce_ms: a batch ends when the folder was quiet this long.
        ignore_dir: a folder inside `corpus_dir` to ignore (the index, if kept there).
    """

    def __init__(
        self,
        corpus_dir: Path,
        reindex: Callable[[Callable[[float, str], None]], str],
        *,
        debounce_ms: int = DEFAULT_DEBOUNCE_MS,
        ignore_dir: Path | None = None,
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self._reindex = reindex
        self._debounce_ms = debounce_ms
        self._filter = CorpusFilter(self.corpus_dir, ignore_dir)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._status = WatchStatus()

    @property
    def status(self) -> WatchStatus:
        with self._lock:
            return WatchStatus(**{**self._status.__dict__, "errors": list(self._status.errors)})

    def _set(self, **changes: object) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._status, key, value)

    def start(self) -> CorpusWatcher:
        """Start watching in a daemon thread; returns once the watch is set up."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="qa-watch", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def wait(self) -> None:
        """Block until the watcher stops; Ctrl-C stops it (for `qa index --watch`)."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        except KeyboardInterrupt:
            log.warning("stopping the watch")
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop watching (a re-index in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _progress(self, fraction: float, message: str) -> None:
        self._set(message=f"re-indexing: {message} ({fraction:.0%})")

    def _run(self) -> None:
        self._set(watching=True, message=f"watching {self.corpus_dir} for changes")
        log.info("watching %s for changes", self.corpus_dir)
        try:
            for changes in watch(
                self.corpus_dir,
                watch_filter=self._filter,
                debounce=self._debounce_ms,
                stop_event=self._stop,
                rust_timeout=500,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                self._ready.set()
                if changes:
                    self._handle(changes)
        except Exception as exc:  # noqa: BLE001 - the server goes on without the watch
            log.error("watching %s stopped: %s", self.corpus_dir, exc)
            self._set(message=f"watching stopped: {exc}")
        finally:
            self._ready.set()
            self._set(watching=False)

    def _handle(self, changes: set[tuple[Change, str]]) -> None:
        names = sorted({Path(p).name for _, p in changes})
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        log.warning("corpus changed (%s); re-indexing", shown)
        self._set(busy=True, message=f"re-indexing: {shown} changed")
        try:
            summary = self._reindex(self._progress)
        except Exception as exc:  # noqa: BLE001 - report it and keep watching
            log.error("re-indexing after a change failed: %s", exc)
            with self._lock:
                self._status.errors.append(str(exc))
                self._status.busy = False
                self._status.message = f"re-indexing failed: {exc}; still watching"
            return
        log.info("%s", summary)
        with self._lock:
            self._status.busy = False
            self._status.runs += 1
            self._status.last_run = time.time()
            self._status.message = summary
