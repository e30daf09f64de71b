"""Handwritten digits shared by several lessons (DCGAN; later the autoencoder/VAE and
adversarial examples): the shipped data with its fixed train/held-out split (``data``), the small
convnet classifier (``model``) and its training and judging (``train``). No Streamlit.

    from core.digits import load, classifier, judge_quality
    x, y = load("train").as_tensor()           # [4000, 1, 16, 16] in [−1, 1], [4000]
    clf = classifier()                          # the shipped judge, a fresh copy
    judge_quality(clf, fake)                    # {"accepted": 0.93, "classes": 10, …}

Regenerate ``pretrained/digits_classifier.pt`` with ``python -m core.digits``.
"""
from __future__ import annotations

import functools
from typing import Any

import torch

from core.checkpoints import load_checkpoint, pretrained_path, save_checkpoint
from core.digits.data import N_CLASSES, SIZE, SOURCE, Digits, heldout_mask, load
from core.digits.model import DigitClassifier
from core.digits.train import CONFIDENT, accuracy, garbage_batch, judge_quality, shift_batch, train_classifier

CHECKPOINT = "digits_classifier"


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    return load_checkpoint(pretrained_path(CHECKPOINT), "digits")


def classifier(device: torch.device | str = "cpu") -> DigitClassifier:
    """The shipped classifier in eval mode: a new module each call (callers may move or change it
    freely; the cached file's tensors are copied, never shared)."""
    ck = _shipped()
    model = DigitClassifier(int(ck["config"].get("width", 32)))
    model.load_state_dict(ck["model"]["classifier"])      # copies into the new module's tensors
    return model.to(device).eval()


def checkpoint_of(model: DigitClassifier, metrics: dict[str, Any], seed: int) -> dict[str, Any]:
    """The classifier in the app's checkpoint layout (core.checkpoints)."""
    return {"lesson": "digits", "config": {"width": model.width, "seed": seed}, "step": 0,
            "model": {"classifier": model.state_dict()}, "optim": {}, "history": {},
            "extra": {"metrics": metrics, "source": SOURCE}}


def pretrain(seed: int = 0) -> dict[str, Any]:
    """The shipped classifier, in ``core.pretrain``'s shape."""
    model, metrics = train_classifier(seed)
    return {"checkpoints": {CHECKPOINT: checkpoint_of(model, metrics, seed)}, "metrics": metrics}


def main() -> None:
    import json
    torch.set_num_threads(1)
    out = pretrain(0)
    for stem, ck in out["checkpoints"].items():
        save_checkpoint(pretrained_path(stem), ck)
    print(json.dumps(out["metrics"]))


__all__ = ["CHECKPOINT", "CONFIDENT", "N_CLASSES", "SIZE", "SOURCE", "Digits", "DigitClassifier", "accuracy",
           "checkpoint_of", "classifier", "garbage_batch", "heldout_mask", "judge_quality", "load", "pretrain", "shift_batch",
           "train_classifier"]
