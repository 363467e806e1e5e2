"""A Milvus server for tests and benchmarks, inside a network namespace with only loopback.

`milvus-server` (PyPI package `milvus`) binds every interface whatever its settings, so
it runs under `unshare --net`: its sockets exist only in a namespace of its own whose one
interface is `lo`. A client must run in that namespace too: `Server.nsenter` is the
command prefix that puts a child process there (`nsenter --net=/proc/PID/ns/net`).
SIGTERM does not stop the server: `stop` sends SIGTERM to its process group, waits up to
5 s, then SIGKILLs the group, and removes the data folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

URI = "http://127.0.0.1:19530"
HEALTH = "http://127.0.0.1:9091/healthz"
START_TIMEOUT = 120.0
STOP_GRACE = 5.0


def unavailable() -> str | None:
    """Why a server cannot be started here, or None."""
    if os.geteuid() != 0:
        return "starting milvus-server in a network namespace needs root (unshare --net)"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (util-linux / iproute2)"
    if _executable() is None:
        return "milvus-server is not installed (pip install milvus==2.3.5)"
    return None


def _executable() -> str | None:
    beside = Path(sys.executable).parent / "milvus-server"
    return str(beside) if beside.is_file() else shutil.which("milvus-server")


@dataclass
class Server:
    process: subprocess.Popen
    data: Path
    log: Path
    uri: str = URI

    @property
    def nsenter(self) -> list[str]:
        """Prefix a command with this to run it in the server's network namespace."""
        return ["nsenter", f"--net=/proc/{self.process.pid}/ns/net"]

    def run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*self.nsenter, *args], **kwargs)

    def healthy(self) -> bool:
        probe = f"import urllib.request as u; u.urlopen({HEALTH!r}, timeout=2).read()"
        return self.run([sys.executable, "-c", probe], capture_output=True, timeout=10).returncode == 0

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after STOP_GRACE seconds, remove the data."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            pass
        # The wrapper may have exited while the server binary it started lives on.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE)
        shutil.rmtree(self.data, ignore_errors=True)


@contextlib.contextmanager
def milvus_server(data: Path, *, timeout: float = START_TIMEOUT) -> Iterator[Server]:
    """Start milvus-server with its data in `data`, wait (bounded) until healthy, stop it after."""
    data.mkdir(parents=True, exist_ok=True)
    log = data.parent / f"{data.name}.log"
    script = 'ip link set lo up && exec "$0" --data "$1"'
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", script, str(_executable()), str(data)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # one process group: stop() signals the server binary too
        )
    server = Server(process=process, data=data, log=log)
    try:
        deadline = time.monotonic() + timeout
        while not server.healthy():
            if process.poll() is not None:
                raise RuntimeError(f"milvus-server exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"milvus-server not healthy after {timeout:.0f}s:\n{server.log_tail()}")
            time.sleep(1.0)
        yield server
    finally:
        server.stop()
