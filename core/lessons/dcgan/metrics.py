"""Quality measured by the shipped digit classifier (``core.digits``): the share of generated
digits it labels with confidence ≥ 0.9 ("accepted"), how many of the 10 digits occur among the
accepted ones, and for the conditional model how often it sees the digit that was asked for.
The real held-out digits' figures are the ceiling. No Streamlit.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from core import digits
from core.lessons.dcgan.model import code_input

N_EVAL = 500               # generated digits judged per measurement (50 asked per digit)
EVAL_SEED = 12345          # fixed z, so successive measurements compare the same digits


@functools.lru_cache(maxsize=1)
def real_ceiling() -> dict[str, float]:
    """The classifier on the 1,000 held-out real digits: {"accepted", "classes", "accuracy"}."""
    clf = digits.classifier()
    x, y = digits.load("heldout").as_tensor()
    q = digits.judge_quality(clf, x)
    return {"accepted": q["accepted"], "classes": float(q["classes"]), "accuracy": digits.accuracy(clf, x, y)}


@functools.lru_cache(maxsize=2)
def _real_grid(n: int) -> np.ndarray:
    """n×n real training digits, row r holding digit r % 10 (the first ones of each class): [n², 16, 16]."""
    train = digits.load("train")
    rows = [train.images[np.flatnonzero(train.labels == r % digits.N_CLASSES)[:n]] for r in range(n)]
    out = np.concatenate(rows).astype(np.float64) / 127.5 - 1.0
    out.setflags(write=False)
    return out


class Judge:
    """The classifier and the fixed inputs a trainer is measured with."""

    def __init__(self, device: torch.device, latent: int, conditional: bool, codes: int = 0) -> None:
        self.device, self.latent, self.conditional = device, latent, conditional
        self.clf = digits.classifier(device)
        g = torch.Generator(device="cpu").manual_seed(EVAL_SEED)
        self.z = torch.randn(N_EVAL, latent, generator=g)                             # [N_EVAL, L]
        # with a code: [z, one-hot(i mod K)], every code value in turn  [N_EVAL, L + K]
        self.z = code_input(self.z, torch.arange(N_EVAL) % max(codes, 1), codes).to(device)
        self.y = (torch.arange(N_EVAL) % digits.N_CLASSES).to(device)                 # asked digits

    def grid_inputs(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """z [n², L (+ K)], labels [n²] of the live grid. Unconditional: the first n² evaluation
        inputs (with a code of K values, cell i has code i mod K).
        Conditional: row r asks for digit r, and column c uses the same z in every row, so a
        column shows one "handwriting" across the ten digits."""
        if not self.conditional:
            return self.z[: n * n], self.y[: n * n]
        cols = self.z[:n]
        z = cols.repeat(n, 1)                                                         # row-major
        y = (torch.arange(n * n, device=self.device) // n) % digits.N_CLASSES
        return z, y

    def real_grid(self, n: int) -> np.ndarray:
        return _real_grid(n)

    def ceiling(self) -> dict[str, float]:
        return real_ceiling()

    @torch.no_grad()
    def measure(self, G: nn.Module) -> dict[str, Any]:
        """The classifier's verdict on G's digits from the fixed z (eval mode).

        accepted, classes, counts [10] (accepted per digit), confidence; label_match: the share
        classified as the asked digit (conditional only; NaN otherwise)."""
        was = G.training
        G.eval()
        fake = G(self.z, self.y if self.conditional else None)
        G.train(was)
        q = digits.judge_quality(self.clf, fake)
        match = float("nan")
        if self.conditional:
            label, _ = self.clf.judge(fake)
            match = float((label == self.y).float().mean())
        return {**q, "label_match": match}
