"""Fault-injection readers for the hostile-corpus suite: one stalls, one kills its process,
one allocates without bound. Registered under made-up suffixes by the tests only."""

from __future__ import annotations

import os
import time

from qa.ingest.reader import Extracted


def stall(data: bytes, notes: list[str]) -> Extracted:
    """Never returns (a reader stuck in a loop)."""
    while True:
        time.sleep(1)


def crash(data: bytes, notes: list[str]) -> Extracted:
    """Ends its process at once, as a segfault in native code would."""
    os._exit(3)


def hog(data: bytes, notes: list[str]) -> Extracted:
    """Asks for far more memory than the worker may have."""
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(256)]  # 16 GiB
    return Extracted(str(len(blocks)), fmt="txt", title="")
