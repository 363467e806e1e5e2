"""The extraction worker: readers that can stall run in a child process, killed at the deadline.

`Extractor.read` runs a format's reader within `ExtractionLimits`. Plain text and
Markdown (decoding only, linear in the bytes) are read in-process; every other format
(PDF, HTML, and any format added later) goes to one worker process, started on first
use and reused for the rest of the scan. A file whose reader does not answer within
`limits.seconds` is skipped with a message naming the limit, the worker is killed and a
fresh one is started for the next file, so no single file can stall a build. The worker
also runs under an address-space cap (`limits.memory_bytes`), so a file that makes a
reader allocate without bound costs one skipped file, not the machine.

The worker is a plain `python -c` child talking over two pipes (not `multiprocessing`
start methods), so it never re-imports the caller's main module and never forks a
process that holds model threads.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from qa.ingest.limits import DEFAULT_LIMITS, ExtractionLimits, check_before, check_extracted, over
from qa.ingest.reader import Extracted, UnreadableFile
from qa.ingest.registry import READERS, load_reader, resolve_reader

__all__ = ["IN_PROCESS_SUFFIXES", "Extractor", "extract", "serve", "shared_extractor"]

logger = logging.getLogger(__name__)

# Readers that only decode bytes (linear time, bounded by the file size limit).
IN_PROCESS_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
# Waiting for a worker to start (a loaded machine can take seconds to start Python).
START_SECONDS = 120.0


@contextlib.contextmanager
def _pypdf_caps(suffix: str, limits: ExtractionLimits) -> Iterator[None]:
    """pypdf's own per-stream decompression caps, set to `limits.decompressed_bytes`."""
    if suffix != ".pdf":
        yield
        return
    import pypdf

    cap = limits.decompressed_bytes
    with pypdf.apply_configuration(
        zlib_maximum_output_length=cap,
        lzw_maximum_output_length=cap,
        run_length_maximum_output_length=cap,
        array_based_stream_maximum_output_length=cap,
    ):
        yield


def extract(
    suffix: str, data: bytes, notes: list[str], limits: ExtractionLimits, *, spec: str | None = None
) -> Extracted:
    """Run the reader for `suffix` (or the one `spec` names) on `data` in this process,
    with the byte and text checks."""
    suffix = suffix.lower()
    reader = resolve_reader(suffix, spec) if spec is not None else load_reader(suffix)
    check_before(suffix, data, limits)
    with _pypdf_caps(suffix, limits):
        extracted = reader(data, notes)
    check_extracted(extracted, limits)
    return extracted


class _Worker:
    """One child process and its two pipe ends."""

    def __init__(self, memory_bytes: int) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # the folder holding qa/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from qa.ingest.worker import serve; serve(*map(int, sys.argv[1:]))",
                    str(to_child_r),
                    str(from_child_w),
                    str(memory_bytes),
                ],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.send = Connection(to_child_w, readable=False)
        self.recv = Connection(from_child_r, writable=False)

    def kill(self) -> int | None:
        self.proc.kill()
        code = self.proc.wait()
        self.send.close()
        self.recv.close()
        return code

    def stop(self) -> None:
        try:
            self.send.send(None)
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class Extractor:
    """Reads file bytes into `Extracted` within `limits` (see the module docstring).

    Use it as a context manager around a scan, so the worker is stopped at the end.
    Thread-safe: concurrent reads take turns on the one worker.
    """

    def __init__(self, limits: ExtractionLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._worker: _Worker | None = None
        self._broken = False  # the worker could not start: read in-process from then on
        self._lock = threading.RLock()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None

    def read(self, suffix: str, data: bytes, notes: list[str]) -> Extracted:
        """The reader's result for `data` (a file ending in `suffix`); caveats go to `notes`.

        Raises:
            UnreadableFile: the reader gave up, or the file is over a limit
                (`ExtractionLimitError`, whose message names the limit).
        """
        suffix = suffix.lower()
        load_reader(suffix)  # unsupported or unavailable formats are reported here, not in the worker
        if not self.limits.isolated or suffix in IN_PROCESS_SUFFIXES or self._broken:
            return extract(suffix, data, notes, self.limits)
        with self._lock:
            return self._read_in_worker(suffix, data, notes)

    def _read_in_worker(self, suffix: str, data: bytes, notes: list[str]) -> Extracted:
        worker = self._started()
        if worker is None:
            return extract(suffix, data, notes, self.limits)
        try:
            # The reader's spec travels with the file, so the worker reads it as this process would.
            worker.send.send((suffix, READERS[suffix], data, self.limits))
            answered = worker.recv.poll(self.limits.seconds)
        except OSError:
            answered = False  # the worker died before it could take the file
        if not answered and worker.proc.poll() is None:
            self._discard()
            raise over(
                "seconds", f"reading it took longer than {self.limits.seconds:g} s", self.limits.seconds
            )
        try:
            status, payload, worker_notes = worker.recv.recv()
        except (EOFError, OSError):
            code = self._discard()
            raise UnreadableFile(
                f"the {suffix} reader crashed (worker exit status {code}); the file may be damaged"
            ) from None
        notes.extend(worker_notes)
        if status == "ok":
            return payload
        raise payload

    def _started(self) -> _Worker | None:
        if self._worker is not None:
            return self._worker
        try:
            worker = _Worker(self.limits.memory_bytes)
            if worker.recv.poll(START_SECONDS) and worker.recv.recv() == "ready":
                self._worker = worker
                return worker
            worker.kill()
            problem = "it did not start"
        except (OSError, EOFError) as exc:
            problem = str(exc)
        logger.warning("cannot start the extraction worker (%s); reading files without a time limit", problem)
        self._broken = True
        return None

    def _discard(self) -> int | None:
        worker, self._worker = self._worker, None
        return worker.kill() if worker is not None else None


_shared: dict[ExtractionLimits, Extractor] = {}
_shared_lock = threading.Lock()


def shared_extractor(limits: ExtractionLimits = DEFAULT_LIMITS) -> Extractor:
    """One long-lived Extractor per limits, for single reads (an upload, a changed file),
    so each does not pay for starting a worker; stopped when the program exits."""
    with _shared_lock:
        extractor = _shared.get(limits)
        if extractor is None:
            extractor = _shared[limits] = Extractor(limits)
        return extractor


@atexit.register
def _stop_shared() -> None:
    for extractor in list(_shared.values()):
        extractor.close()


def serve(read_fd: int, write_fd: int, memory_bytes: int) -> None:
    """The worker process's loop: (suffix, reader spec, data, limits) in, (status, result, notes) out."""
    import resource
    import signal

    # Ctrl-C reaches the whole process group: the parent handles it and closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    outbox.send("ready")
    while True:
        try:
            message = inbox.recv()
        except EOFError:
            return
        if message is None:
            return
        suffix, spec, data, limits = message
        notes: list[str] = []
        result: tuple[str, object]
        try:
            result = ("ok", extract(suffix, data, notes, limits, spec=spec))
        except UnreadableFile as exc:
            result = ("skip", exc)
        except MemoryError:
            result = (
                "skip",
                over("memory_bytes", "reading it needed more memory than allowed", limits.memory_bytes),
            )
        except RecursionError:
            result = ("skip", UnreadableFile("structure nested too deeply to read"))
        except Exception as exc:  # noqa: BLE001 - one file's reader bug must not stop the scan
            result = ("skip", UnreadableFile(f"the {suffix} reader failed ({type(exc).__name__}: {exc})"))
        del data, message
        try:
            outbox.send((*result, notes))
        except MemoryError:
            outbox.send(("skip", UnreadableFile("the extracted text is too large to pass back"), notes))
