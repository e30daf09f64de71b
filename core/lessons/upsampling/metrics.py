"""The checkerboard score: how much of an image is pixel-scale pattern rather than picture."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def checkerboard_score(y: torch.Tensor) -> torch.Tensor:
    """High-frequency energy: how far an image is from its own slightly blurred self.

    blur = the 3×3 binomial filter ([1, 2, 1] ⊗ [1, 2, 1]) / 16, applied where it fits (valid);
    score = mean over images of √(mean over pixels of (y − blur(y))²).
    The binomial blur leaves a linear ramp unchanged (score 0 for a smooth gradient) and removes a
    (+1, −1) pixel checkerboard completely (score = its amplitude). y: [B, 1, R, R] -> a scalar.
    """
    k1 = torch.tensor([1.0, 2.0, 1.0], dtype=y.dtype, device=y.device)
    k = (k1[:, None] * k1[None, :] / 16.0).view(1, 1, 3, 3)
    gap = y[..., 1:-1, 1:-1] - F.conv2d(y, k)
    return torch.sqrt((gap * gap).mean(dim=(-1, -2, -3))).mean()
