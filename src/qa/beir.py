"""Old import path of `qa.evaluation.beir`: remove once cli.py imports the new one."""

from __future__ import annotations

from qa.evaluation.beir import beir_index_dir, ensure_beir_index, load_beir

__all__ = ["beir_index_dir", "ensure_beir_index", "load_beir"]
