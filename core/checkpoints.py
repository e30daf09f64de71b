"""Checkpoints as one dict: {'lesson', 'config', 'step', 'model', 'optim', 'history', 'extra'}.

Saved with ``torch.save`` and always read back with ``torch.load(..., weights_only=True)``, so
a checkpoint file can hold tensors, numbers, strings, lists and dicts but never code.
"""
from __future__ import annotations

import io
import pathlib
from typing import Any

import torch

# The largest checkpoint a page accepts (the server refuses larger uploads too: maxUploadSize).
MAX_UPLOAD_BYTES = 5 * 2**20
PRETRAINED_DIR = pathlib.Path(__file__).resolve().parent.parent / "pretrained"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or of the wrong lesson (the page says so and goes on)."""


def save_checkpoint(path: str | pathlib.Path, checkpoint: dict[str, Any]) -> None:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(checkpoint, tmp)
    tmp.replace(path)  # never leave a half-written file where the app looks


def load_checkpoint(path: str | pathlib.Path, lesson: str | None = None) -> dict[str, Any]:
    """Read a checkpoint safely (CPU tensors); raise ``CheckpointError`` with a readable reason."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing")
    return _read(path, path.name, lesson)


def read_checkpoint_bytes(data: bytes, name: str, lesson: str | None = None,
                          max_bytes: int = MAX_UPLOAD_BYTES) -> dict[str, Any]:
    """An uploaded checkpoint, checked like a shipped one (``weights_only=True``: a pickle that
    holds code is refused, never run); ``CheckpointError`` with a reason a student can act on."""
    if len(data) > max_bytes:
        raise CheckpointError(f"{name} is {len(data) / 2**20:.1f} MB; a checkpoint of this app is "
                              f"under {max_bytes / 2**20:.0f} MB")
    if not data:
        raise CheckpointError(f"{name} is empty")
    return _read(io.BytesIO(data), name, lesson)


def _read(source: Any, name: str, lesson: str | None) -> dict[str, Any]:
    try:
        ckpt = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt, truncated, or holding something other than plain data
        raise CheckpointError(f"{name} could not be read as a checkpoint ({type(e).__name__}); only "
                              ".pt files saved by this app's ⬇ Checkpoint button can be loaded") from e
    if not isinstance(ckpt, dict) or "config" not in ckpt or "model" not in ckpt:
        raise CheckpointError(f"{name} is not a checkpoint of this app")
    # The layout every lesson's from_checkpoint relies on. A damaged file that still unpickles
    # (e.g. {"config": None, ...}) used to crash the page with a TypeError/AttributeError that
    # ui's "pretrained start is unavailable" handler does not catch (tests/test_hostile.py).
    for key in ("config", "model", "optim", "history", "extra"):
        if key in ckpt and not isinstance(ckpt[key], dict):
            raise CheckpointError(f"{name} is damaged ({key!r} is not a dict)")
    if "step" in ckpt and (isinstance(ckpt["step"], bool) or not isinstance(ckpt["step"], int)):
        raise CheckpointError(f"{name} is damaged ('step' is not a whole number)")
    if lesson is not None and ckpt.get("lesson") != lesson:
        raise CheckpointError(f"{name} belongs to lesson {ckpt.get('lesson')!r}, not {lesson!r}")
    return ckpt


def checkpoint_bytes(checkpoint: dict[str, Any]) -> bytes:
    """A checkpoint as the bytes of a ``.pt`` file (the download button's content)."""
    buf = io.BytesIO()
    torch.save(checkpoint, buf)
    return buf.getvalue()


def pretrained_path(name: str) -> pathlib.Path:
    return PRETRAINED_DIR / f"{name}.pt"
