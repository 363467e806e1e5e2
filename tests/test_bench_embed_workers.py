"""bench/embed_workers.py's layouts and how it splits the passages between processes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
_spec = importlib.util.spec_from_file_location("bench_embed_workers", BENCH / "embed_workers.py")
assert _spec and _spec.loader
embed_workers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(embed_workers)


def test_parse_layout() -> None:
    assert embed_workers.parse_layout("2x1") == (2, 1)
    assert embed_workers.parse_layout("1X2") == (1, 2)
    for bad in ("2", "0x1", "ax1"):
        with pytest.raises(SystemExit):
            embed_workers.parse_layout(bad)


def test_split_keeps_every_text_once() -> None:
    texts = [str(i) for i in range(7)]
    parts = embed_workers.split(texts, 2)
    assert [len(p) for p in parts] == [4, 3]
    assert sorted(sum(parts, [])) == sorted(texts)
