"""The torch backend: a sentence-transformers model loaded from disk, on CPU, offline."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from qa.embedding.base import PieceBatch, embed_in_pieces, normalize_for_model, progress_bar
from qa.embedding.models import model_fingerprint, resolve_model
from qa.errors import ModelError

__all__ = ["SentenceTransformerEmbedder"]


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from disk, on CPU, offline.

    Args:
        model: a model name qa ships (all-MiniLM-L6-v2) or a model folder.
        batch_size: texts per forward pass.
    """

    backend = "torch"

    def __init__(self, model: str | None = None, *, batch_size: int = 32) -> None:
        self.name, self.path = resolve_model(model)
        self.batch_size = batch_size
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the weight-loading bar is noise in a CLI
            self._model = SentenceTransformer(str(self.path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - any load failure gets one clear message
            raise ModelError(
                f"could not load model {self.name!r} from {self.path}: {exc}; "
                "check that the folder holds a sentence-transformers model"
            ) from exc
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer
        # token_spans() reads whole paragraphs to place passage boundaries; the model
        # itself never sees more than max_tokens, so the "too long" warning is noise.
        # (A tokenizer attribute of transformers, not an embedder feature.)
        warned = getattr(self._tokenizer, "deprecation_warnings", None)
        if isinstance(warned, dict):
            warned["sequence-length-is-longer-than-the-specified-maximum"] = True
        self._fingerprint: str | None = None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self.path)
        return self._fingerprint

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        enc = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
        return [(int(s), int(e)) for s, e in enc["offset_mapping"]]

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with _single_thread() if len(texts) <= SMALL_BATCH else contextlib.nullcontext():
            vectors = self._model.encode(
                [normalize_for_model(t) for t in texts],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_pieces(
        self, texts: Sequence[Sequence[str]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed texts given as pieces: one vector per text, and one per piece.

        Each text is read once, as `join_pieces(pieces)`; its vector is what `embed`
        returns for that text, and each piece's vector pools the same forward pass's
        token vectors over the piece (so a sentence is embedded in its passage's
        context, at no extra encoder cost).
        """
        return embed_in_pieces(
            texts, self.dimension, lambda joined: self._token_batches(joined, show_progress)
        )

    def _token_batches(self, texts: list[str], show_progress: bool) -> Iterator[PieceBatch]:
        """Forward passes over `texts` (already normalised), longest first."""
        import torch

        # Longest first, in batches of similar length: padding is wasted compute.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        bar = progress_bar(len(texts), show_progress)
        with _single_thread() if len(texts) <= SMALL_BATCH else contextlib.nullcontext():
            for b in range(0, len(order), self.batch_size):
                rows = order[b : b + self.batch_size]
                enc = self._tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_offsets_mapping=True,
                    return_tensors="pt",
                )
                offsets = enc.pop("offset_mapping").numpy()
                with torch.inference_mode():
                    features = self._model(dict(enc))
                tokens = features["token_embeddings"].float().numpy()
                vectors = features["sentence_embedding"].float().numpy()
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
                yield rows, vectors, tokens, offsets
                if bar is not None:
                    bar.update(len(rows))
        if bar is not None:
            bar.close()


# Questions are embedded a few at a time. One thread is as fast for such tiny inputs,
# and avoids OpenMP barriers that stall when the other core is busy: measured on this
# 2-core machine under load, one query took ~1000 ms with 2 threads and ~50 ms with 1.
SMALL_BATCH = 8
_threads_lock = threading.Lock()


@contextlib.contextmanager
def _single_thread():
    import torch

    with _threads_lock:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)
