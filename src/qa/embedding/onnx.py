"""The ONNX backends: the model's weights exported once (int8 or fp32), run with ONNX Runtime.

The export is done offline from the model folder (`torch.onnx.export`, then dynamic int8
quantisation of the MatMul weights, per channel) and cached on disk, keyed by the
weights' fingerprint, so it happens once per model and machine. Nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.config import cache_dir, configured_threads
from qa.embedding.base import embed_in_pieces, normalize_for_model, progress_bar
from qa.embedding.models import model_fingerprint, resolve_model
from qa.errors import ModelError

__all__ = ["OnnxEmbedder", "default_cache_dir", "export_onnx", "load_fp32", "load_int8"]

logger = logging.getLogger(__name__)

# Bump when the exported graph changes, so stale cached files are not reused.
EXPORT_VERSION = 2  # 2: also outputs the token vectors (late-chunked sentences)
OPSET = 17


default_cache_dir = cache_dir


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _pooling(folder: Path) -> str:
    """The sentence-transformers pooling of the model folder: `mean` or `cls`."""
    modules = _read_json(folder / "modules.json") or []
    for m in modules:
        if m.get("type", "").endswith("Pooling"):
            cfg = _read_json(folder / m["path"] / "config.json")
            if cfg.get("pooling_mode_mean_tokens"):
                return "mean"
            if cfg.get("pooling_mode_cls_token"):
                return "cls"
            raise ModelError(
                f"the ONNX backend supports mean or CLS pooling; {folder} uses {cfg}; use --backend torch"
            )
    return "mean"


def export_onnx(folder: Path, out: Path, *, quantize: bool = True) -> Path:
    """Export the transformer + pooling + normalisation of `folder` to `out` (int8 if `quantize`).

    Written to a temporary file and renamed, so a crash never leaves a half-written model.
    """
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the weight-loading bar is noise in a CLI

    pooling = _pooling(folder)
    try:
        model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    except Exception as exc:  # noqa: BLE001 - any load failure gets one clear message
        raise ModelError(f"could not load {folder} for ONNX export: {exc}; use --backend torch") from exc

    class Encoder(torch.nn.Module):
        """Token ids -> pooled, L2-normalised sentence vectors (what sentence-transformers computes)."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )[0]
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1), hidden

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        ids = torch.ones((2, 16), dtype=torch.long)
        logger.info("exporting %s to ONNX (once; cached in %s)", folder, out.parent)
        # The tracer's warnings are about Python-side branches the export does not need.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Encoder(model),
                (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["embedding", "tokens"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "seq"},
                    "attention_mask": {0: "batch", 1: "seq"},
                    "token_type_ids": {0: "batch", 1: "seq"},
                    "embedding": {0: "batch"},
                    "tokens": {0: "batch", 1: "seq"},
                },
                opset_version=OPSET,
                dynamo=False,  # the TorchScript exporter needs no onnxscript
            )
        final = fp32
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            final = Path(tmp) / "model-int8.onnx"
            # Per-channel int8 on MatMul weights only: default settings lose too much
            # (cosine ~0.93 against fp32); this keeps ~0.99.
            quantize_dynamic(
                str(fp32),
                str(final),
                per_channel=True,
                op_types_to_quantize=["MatMul"],
                weight_type=QuantType.QInt8,
            )
        os.replace(final, out)
    return out


class OnnxEmbedder:
    """A sentence-transformers model run with ONNX Runtime on CPU (int8 by default).

    Args:
        model: a model name qa ships (all-MiniLM-L6-v2) or a model folder.
        batch_size: texts per forward pass.
        quantize: use the int8 export (else fp32).
        threads: ONNX Runtime intra-op threads (default: `QA_THREADS`, else all cores).
        cache_dir: where the exported model is kept (default: `default_cache_dir()`).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        batch_size: int = 32,
        quantize: bool = True,
        threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.name, self.path = resolve_model(model)
        self.batch_size = batch_size
        self.backend = "onnx-int8" if quantize else "onnx"
        self._fingerprint = model_fingerprint(self.path)
        st_cfg = _read_json(self.path / "sentence_bert_config.json")
        hf_cfg = _read_json(self.path / "config.json")
        self.max_tokens = int(st_cfg.get("max_seq_length") or hf_cfg.get("max_position_embeddings", 512))
        self.dimension = int(hf_cfg.get("hidden_size", 0))
        tok_file = self.path / "tokenizer.json"
        if not tok_file.is_file() or not self.dimension:
            raise ModelError(
                f"the ONNX backend needs tokenizer.json and config.json in {self.path}; use --backend torch"
            )
        from tokenizers import Tokenizer

        # Two tokenizers: one cuts at the model's limit for encoding, the other maps
        # offsets of the whole text for chunking and highlighting.
        self._spans_tok = Tokenizer.from_file(str(tok_file))
        self._spans_tok.no_truncation()
        self._spans_tok.no_padding()
        self._tok = Tokenizer.from_file(str(tok_file))
        self._tok.enable_truncation(max_length=self.max_tokens)
        self._tok.no_padding()

        cache = (cache_dir or default_cache_dir()) / "onnx"
        onnx_file = cache / f"{self._fingerprint[:32]}-v{EXPORT_VERSION}-{self.backend}.onnx"
        if not onnx_file.is_file():
            export_onnx(self.path, onnx_file, quantize=quantize)
        self.onnx_file = onnx_file

        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or configured_threads() or (os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # No busy-waiting between ops: on a shared machine spinning threads steal the
        # cores the other thread needs (single-query p50 115 -> 81 ms under load).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - a corrupt cache file gets one clear message
            raise ModelError(
                f"could not load the ONNX model {onnx_file}: {exc}; delete it to export it again"
            ) from exc
        self._inputs = {i.name for i in self._session.get_inputs()}

    def fingerprint(self) -> str:
        # The weights identify the model; the backend is recorded next to it in the manifest.
        return self._fingerprint

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [(int(s), int(e)) for s, e in self._spans_tok.encode(text, add_special_tokens=False).offsets]

    def count_tokens(self, text: str) -> int:
        return len(self._spans_tok.encode(text, add_special_tokens=False).ids)

    def _batches(self, encodings: list, show_progress: bool):
        """Yield (rows, vectors, token vectors) per batch, longest texts first."""
        # Longest first, in batches of similar length: padding is mostly wasted compute.
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        bar = progress_bar(len(encodings), show_progress)
        for b in range(0, len(order), self.batch_size):
            rows = order[b : b + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                e = encodings[i]
                n = len(e.ids)
                ids[j, :n], mask[j, :n], types[j, :n] = e.ids, e.attention_mask, e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            vectors, tokens = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
            # Re-normalise: int8 arithmetic can leave norms a hair off 1.
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            yield rows, vectors, tokens
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tok.encode_batch([normalize_for_model(t) for t in texts])
        for rows, vectors, _ in self._batches(encodings, show_progress):
            out[rows] = vectors
        return out

    def embed_pieces(
        self, texts: Sequence[Sequence[str]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One vector per text and one per piece, from one forward pass (see SentenceTransformerEmbedder)."""

        def run(joined: list[str]):
            encodings = self._tok.encode_batch(joined)
            for rows, vectors, tokens in self._batches(encodings, show_progress):
                lengths = [len(encodings[i].ids) for i in rows]
                yield (
                    rows,
                    vectors,
                    [tokens[j, :n] for j, n in enumerate(lengths)],
                    [np.asarray(encodings[i].offsets, dtype=np.int64).reshape(-1, 2) for i in rows],
                )

        return embed_in_pieces(texts, self.dimension, run)


def load_int8(model: str | None = None) -> OnnxEmbedder:
    """The `onnx-int8` backend (the default): int8 weights, ~2.6x torch's speed on 2 cores."""
    return OnnxEmbedder(model, quantize=True)


def load_fp32(model: str | None = None) -> OnnxEmbedder:
    """The `onnx` backend: fp32 weights, the same rankings as torch."""
    return OnnxEmbedder(model, quantize=False)
