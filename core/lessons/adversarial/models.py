"""The two classifiers the lesson offers, both on 16×16 digits with pixels in [0, 1] (the digits
of ``core.digits`` are stored in [−1, 1]; the trainer converts them with x₀₁ = (x + 1) / 2).
No dropout and no batch norm, so a model gives the same answer in training and in evaluation and
the attack sees exactly the function that is trained. No Streamlit.

    mlp:      x [B, 1, 16, 16] → flatten 256 → W → ReLU → W → ReLU → 10 logits
    convnet:  x [B, 1, 16, 16] → conv 3×3 (W) → ReLU → max-pool 2    [B, W, 8, 8]
              → conv 3×3 (2W) → ReLU → max-pool 2                     [B, 2W, 4, 4]
              → linear 32W → 10 logits
"""
from __future__ import annotations

import torch
from torch import nn

from core.digits import N_CLASSES, SIZE

KINDS = {"mlp": "MLP", "convnet": "Convnet"}


class MLP(nn.Sequential):
    """logits [B, 10] for x [B, 1, 16, 16] in [0, 1]."""

    def __init__(self, width: int) -> None:
        super().__init__(nn.Flatten(), nn.Linear(SIZE * SIZE, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, N_CLASSES))


class ConvNet(nn.Sequential):
    """logits [B, 10] for x [B, 1, 16, 16] in [0, 1]; ``width`` channels in the first layer."""

    def __init__(self, width: int) -> None:
        super().__init__(nn.Conv2d(1, width, 4, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(2 * width * (SIZE // 4) ** 2, N_CLASSES))


def make_model(kind: str, width: int) -> nn.Module:
    """A fresh classifier of ``kind`` ("mlp" or "convnet") with PyTorch's default initialisation."""
    if kind == "mlp":
        return MLP(width)
    if kind == "convnet":
        return ConvNet(width)
    raise ValueError(f"unknown model {kind!r}: {', '.join(KINDS)}")


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Digits from ``core.digits`` ([−1, 1]) to the lesson's pixel scale [0, 1]: x₀₁ = (x + 1) / 2.
    The issue's ε (0.2) is on this scale: a pixel may move by a fifth of black-to-white."""
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)
