"""`qa index --watch`: builds, then re-indexes each change to the corpus folder until Ctrl-C (real model)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qa.index import Index

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
WAIT_S = 120  # generous for a shared machine; not a speed claim


def _lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line)


def _wait_for(lines: queue.Queue, text: str, seen: list[str]) -> None:
    while True:
        try:
            line = lines.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail(f"no line with {text!r} within {WAIT_S}s; output so far:\n{''.join(seen)}")
        seen.append(line)
        if text in line:
            return


def test_index_watch_reindexes_changes_until_interrupted(tmp_path: Path, real_embedder) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("The ferry leaves at nine.\n")
    index = tmp_path / "idx"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--index", str(index)]
    proc = subprocess.Popen(
        [*cmd, "--watch", "--debounce", "300", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _wait_for(lines, "watching", seen)
        (corpus / "tides.md").write_text("# Tides\n\nHigh tide comes twice a day.\n")
        _wait_for(lines, "added (1): tides.md", seen)
        assert set(Index.load(index).documents) == {"ferry.txt", "tides.md"}
        (corpus / "ferry.txt").unlink()
        _wait_for(lines, "removed (1): ferry.txt", seen)
        assert set(Index.load(index).documents) == {"tides.md"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
