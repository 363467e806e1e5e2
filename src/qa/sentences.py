"""Sentence units of passages and their stored vectors (for reranking, highlights, abstention)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.chunking import split_sentences
from qa.storage import save_npy
from qa.types import Passage

__all__ = ["SentenceTable", "passage_sentences"]


def passage_sentences(passage: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage, as document offsets (the whole passage if none)."""
    spans = split_sentences(passage.text)
    return [(passage.start + a, passage.start + b) for a, b in spans] or [(passage.start, passage.end)]


@dataclass
class SentenceTable:
    """Rows `(passage_row, start, end)` sorted by passage row, and one vector per row.

    Vectors are stored as float16 (half the disk and memory; cosine error ~1e-3).
    """

    table: np.ndarray  # int64 (n, 3)
    vectors: np.ndarray  # float16 (n, d)
    # offsets[r]..offsets[r+1] are the sentences of passage row r (computed when None).
    offsets: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.offsets is None:
            rows = self.table[:, 0] if len(self.table) else np.zeros(0, np.int64)
            n_passages = int(rows.max()) + 1 if len(rows) else 0
            self.offsets = np.searchsorted(rows, np.arange(n_passages + 1), side="left")
        self._offsets = self.offsets

    def __len__(self) -> int:
        return len(self.table)

    def range_of(self, row: int) -> tuple[int, int]:
        if row + 1 >= len(self._offsets):
            return (0, 0)
        return int(self._offsets[row]), int(self._offsets[row + 1])

    def save(self, folder: Path) -> None:
        save_npy(folder / "sentences.npy", self.table)
        save_npy(folder / "sentence_vectors.npy", self.vectors)
        save_npy(folder / "sentence_offsets.npy", np.asarray(self._offsets, dtype=np.int64))

    @classmethod
    def load(cls, folder: Path) -> SentenceTable | None:
        """Open the table memory-mapped; older snapshots without `sentence_offsets.npy`
        compute the offsets (reading the whole table)."""
        if not (folder / "sentences.npy").exists():
            return None
        offsets_file = folder / "sentence_offsets.npy"
        return cls(
            np.load(folder / "sentences.npy", mmap_mode="r"),
            np.load(folder / "sentence_vectors.npy", mmap_mode="r"),
            np.load(offsets_file, mmap_mode="r") if offsets_file.exists() else None,
        )

    def best(self, query: np.ndarray, rows: list[int]) -> dict[int, tuple[float, int, int, np.ndarray]]:
        """For each passage row: (best cosine, start, end, all cosines) of its sentences."""
        out: dict[int, tuple[float, int, int, np.ndarray]] = {}
        q = np.asarray(query, dtype=np.float32)
        for row in rows:
            a, b = self.range_of(row)
            if a == b:
                continue
            sims = np.asarray(self.vectors[a:b], dtype=np.float32) @ q
            j = int(np.argmax(sims))
            out[row] = (float(sims[j]), int(self.table[a + j, 1]), int(self.table[a + j, 2]), sims)
        return out
