"""Quality measured by the shipped digit classifier (``core.digits``): the share of generated
digits it labels with confidence ≥ 0.9 ("accepted"), how many of the 10 digits occur among the
accepted ones, and for the conditional model how often it sees the digit that was asked for.
The real held-out digits' figures are the ceiling. No Streamlit.

Each measurement judges N_EVAL *fresh* samples (new z from the judge's own generator, so training's
random numbers are untouched and a run stays reproducible): an unbiased estimate of G's share, with
the binomial noise of 500 samples (± 2 points at one standard error). A fixed set of z (the grid's)
is one sample too, judged again and again with the same luck: one run's fixed 500 read 0.79 where
fresh samples of the same generator read 0.72–0.75.
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
EVAL_SEED = 12345          # the grid's fixed z
FRESH_SEED = 54321         # the judge's own stream of fresh z


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
        self.device, self.latent, self.conditional, self.codes = device, latent, conditional, codes
        self.clf = digits.classifier(device)
        self.z = self._inputs(torch.Generator(device="cpu").manual_seed(EVAL_SEED))    # the grid's
        self.fresh = torch.Generator(device="cpu").manual_seed(FRESH_SEED)
        self.y = (torch.arange(N_EVAL) % digits.N_CLASSES).to(device)                 # asked digits

    def _inputs(self, g: torch.Generator) -> torch.Tensor:
        """N_EVAL inputs from ``g``: z, and with a code [z, one-hot(i mod K)], every code value in
        turn: [N_EVAL, L (+ K)]."""
        z = torch.randn(N_EVAL, self.latent, generator=g)
        return code_input(z, torch.arange(N_EVAL) % max(self.codes, 1), self.codes).to(self.device)

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
        """The classifier's verdict on N_EVAL fresh digits of G (eval mode; the conditional model
        is asked for each digit 50 times).

        accepted, classes, counts [10] (accepted per digit), confidence; label_match: the share
        classified as the asked digit (conditional only; NaN otherwise)."""
        was = G.training
        G.eval()
        fake = G(self._inputs(self.fresh), self.y if self.conditional else None)
        G.train(was)
        q = digits.judge_quality(self.clf, fake)
        match = float("nan")
        if self.conditional:
            label, _ = self.clf.judge(fake)
            match = float((label == self.y).float().mean())
        return {**q, "label_match": match}
