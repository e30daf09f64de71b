"""The GAN losses written on the discriminator's logit a, with their gradients ∂L/∂a.

D(x, y) = σ(a) for the cross-entropy losses and D = a for least squares. Shapes: a: [2B, 1] for
the discriminator's [real; fake] batch, [B, 1] for the generator's. tests/lessons/gan1d checks
every gradient against autograd. TorchScript functions (``core.fastnet.script``), so that
``core.lessons.gan1d.algorithm`` runs whole iterations without the interpreter lock.
"""
from __future__ import annotations

import torch
from torch.nn.functional import softplus

from core.fastnet import script


@script
def d_loss_and_grad(a: torch.Tensor, sign: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """L_D and ∂L_D/∂a for logits a: [2B, 1] of [real; fake]; sign s: −1 real rows, +1 fake rows."""
    B = a.shape[0] // 2
    if kind == "least-squares":
        # L_D = ½ E[(D(x) − 1)²] + ½ E[D(G(z))²];  target t = 1 (real), 0 (fake)
        r = a - (1 - sign) / 2
        return 0.5 * (r * r).sum() / B, r / B
    # L_D = −E[log D(x)] − E[log(1 − D(G(z)))]. With z = s·a this is (1/B) Σ softplus(z),
    # since −log σ(a) = softplus(−a) and −log(1 − σ(a)) = softplus(a); ∂/∂a = s·σ(z)/B.
    z = a * sign
    return softplus(z).sum() / B, torch.sigmoid(z) * sign / B


@script
def g_loss_and_grad(a: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """L_G and ∂L_G/∂a for logits a: [B, 1] of generated points."""
    B = a.shape[0]
    if kind == "minimax":
        # L_G = E[log(1 − D(G(z)))] = −E[softplus(a)];  ∂/∂a = −σ(a)/B → 0 when D wins
        return -softplus(a).mean(), -torch.sigmoid(a) / B
    if kind == "least-squares":
        # L_G = ½ E[(D(G(z)) − 1)²];  ∂/∂a = (a − 1)/B
        r = a - 1
        return 0.5 * (r * r).mean(), r / B
    # non-saturating: L_G = −E[log D(G(z))] = E[softplus(−a)];  ∂/∂a = (σ(a) − 1)/B
    return softplus(-a).mean(), (torch.sigmoid(a) - 1) / B


@script
def d_value(logits: torch.Tensor, kind: str) -> torch.Tensor:
    """What the charts call D(x, y): a probability for BCE losses, the raw score for LS."""
    return logits if kind == "least-squares" else torch.sigmoid(logits)
