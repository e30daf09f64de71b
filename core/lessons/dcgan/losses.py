"""The GAN losses on the discriminator's logits a (D(x) = σ(a)), one-sided label smoothing
included. tests/lessons/dcgan checks them against torch's binary cross-entropy.

Shapes: a_real, a_fake: [B]. Uses softplus(t) = log(1 + eᵗ), so −log σ(a) = softplus(−a) and
−log(1 − σ(a)) = softplus(a), which never overflow.
"""
from __future__ import annotations

import torch
from torch.nn.functional import softplus


def d_loss(a_real: torch.Tensor, a_fake: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """L_D = −E[s·log D(x) + (1 − s)·log(1 − D(x))] − E[log(1 − D(G(z)))], s = real_label.

    s = 1 is the plain GAN; s = 0.9 is one-sided label smoothing (real targets only)."""
    s = real_label
    return (s * softplus(-a_real) + (1.0 - s) * softplus(a_real)).mean() + softplus(a_fake).mean()


def g_loss(a_fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss L_G = −E[log D(G(z))]."""
    return softplus(-a_fake).mean()
