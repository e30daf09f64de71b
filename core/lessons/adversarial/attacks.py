"""The attacks, written out (Goodfellow et al. 2015; Kurakin et al. 2017; Madry et al. 2018).
No Streamlit. Pixels are in [0, 1]; ε is an L∞ budget on that scale.

J(θ, x, y) is the cross-entropy of the model's logits. Untargeted attacks climb J at the true
label y; targeted ones descend J at the label t the attacker wants, so the sign flips:

    FGSM, untargeted:   x̃ = clip₀₁(x + ε · sign(∇ₓ J(θ, x, y)))
    FGSM, targeted:     x̃ = clip₀₁(x − ε · sign(∇ₓ J(θ, x, t)))
    BIM / PGD:          x_{k+1} = Π(x_k ± α · sign(∇ₓ J(θ, x_k, ·))),  Π = clip to [x − ε, x + ε] ∩ [0, 1]

PGD is BIM started from a random point of the ε-ball. Shapes: x [B, 1, 16, 16], y/t [B].
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def input_gradient(model: nn.Module, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """∇ₓ J(θ, x, label) with J = Σ_b cross-entropy(model(x_b), label_b): [B, 1, 16, 16].
    Summed, not averaged, so each image's gradient does not shrink with the batch size (the sign is
    the same either way). Only the input's gradient is computed: no weight gradients."""
    with torch.enable_grad():              # also when called under no_grad (a snapshot)
        x = x.detach().requires_grad_(True)
        loss = F.cross_entropy(model(x), label, reduction="sum")
        return torch.autograd.grad(loss, x)[0]


def direction(targeted: bool) -> float:
    """+1: climb J at the true label (untargeted); −1: descend J at the target label."""
    return -1.0 if targeted else 1.0


def fgsm_perturbation(model: nn.Module, x: torch.Tensor, label: torch.Tensor, eps: float,
                      targeted: bool = False) -> torch.Tensor:
    """η = ± ε · sign(∇ₓ J(θ, x, label)), before clipping: [B, 1, 16, 16]. ``label`` is the true
    label (untargeted) or the target (targeted)."""
    # η = s · ε · sign(∇ₓ J),  s = +1 untargeted, −1 targeted
    return direction(targeted) * eps * input_gradient(model, x, label).sign()


def project(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Π: the nearest point of the ε-ball around x (in L∞) that is also an image:
    clip(x_adv, max(x − ε, 0), min(x + ε, 1)). [B, 1, 16, 16]."""
    return torch.minimum(torch.maximum(x_adv, (x - eps).clamp(min=0.0)), (x + eps).clamp(max=1.0))


def fgsm(model: nn.Module, x: torch.Tensor, label: torch.Tensor, eps: float, targeted: bool = False) -> torch.Tensor:
    """x̃ = clip₀₁(x + η): [B, 1, 16, 16] in [0, 1], ‖x̃ − x‖∞ ≤ ε."""
    # x̃ = clip(x + η, 0, 1)
    return (x + fgsm_perturbation(model, x, label, eps, targeted)).clamp(0.0, 1.0).detach()


@dataclass
class PgdPath:
    """One iterated attack: x_adv [B, 1, 16, 16]; per step k = 0…K: linf [K+1, B] = ‖x_k − x‖∞,
    p_label [K+1, B] = the model's probability of ``label`` at x_k."""

    x_adv: torch.Tensor
    linf: torch.Tensor
    p_label: torch.Tensor


def pgd(model: nn.Module, x: torch.Tensor, label: torch.Tensor, eps: float, alpha: float, steps: int,
        targeted: bool = False, random_start: bool = False, gen: torch.Generator | None = None) -> PgdPath:
    """BIM (``random_start=False``) or PGD: ``steps`` signed-gradient steps of size α, each
    projected back onto the ε-ball and [0, 1] (``project``). Records the path for the page."""
    s = direction(targeted)
    x = x.detach()
    x_k = x.clone()
    if random_start:
        noise = torch.rand(x.shape, generator=gen).to(x.device)
        x_k = project(x + (2.0 * noise - 1.0) * eps, x, eps)
    linf, probs = [], []
    for _ in range(int(steps)):
        with torch.enable_grad():
            xk = x_k.detach().requires_grad_(True)
            logits = model(xk)
            g = torch.autograd.grad(F.cross_entropy(logits, label, reduction="sum"), xk)[0]
        linf.append((x_k.detach() - x).abs().flatten(1).amax(1))
        probs.append(F.softmax(logits.detach(), 1).gather(1, label[:, None])[:, 0])
        # x_{k+1} = Π(x_k + s · α · sign(∇ₓ J(θ, x_k, label)))
        x_k = project(x_k.detach() + s * alpha * g.sign(), x, eps)
    with torch.no_grad():
        linf.append((x_k - x).abs().flatten(1).amax(1))
        probs.append(F.softmax(model(x_k), 1).gather(1, label[:, None])[:, 0])
    return PgdPath(x_k.detach(), torch.stack(linf), torch.stack(probs))


def attack(model: nn.Module, x: torch.Tensor, label: torch.Tensor, eps: float, method: str, steps: int = 10,
           alpha: float = 0.02, targeted: bool = False, gen: torch.Generator | None = None) -> torch.Tensor:
    """x̃ for ``method`` "fgsm", "bim" or "pgd" (see the module docstring): [B, 1, 16, 16]."""
    if method == "fgsm":
        return fgsm(model, x, label, eps, targeted)
    return pgd(model, x, label, eps, alpha, steps, targeted, random_start=method == "pgd", gen=gen).x_adv


@torch.no_grad()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (model(x).argmax(1) == y).float().mean()


def fgsm_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps_grid: torch.Tensor,
               gradient: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None
               ) -> torch.Tensor:
    """Accuracy under untargeted FGSM for every ε of ``eps_grid`` ([E]) at once: [E]. ``gradient``
    computes ∇ₓ J as ``input_gradient`` does (the trainer passes its faster one).

    The gradient sign at x does not depend on ε, so one backward pass serves every ε, and all
    E·B attacked images go through the model as one batch: x̃_e = clip₀₁(x + ε_e · sign(∇ₓ J))."""
    g = (gradient or input_gradient)(model, x, y).sign()                     # [B, 1, 16, 16]
    with torch.no_grad():
        x_all = (x.unsqueeze(0) + eps_grid.view(-1, 1, 1, 1, 1) * g.unsqueeze(0)).clamp(0.0, 1.0)
        pred = model(x_all.flatten(0, 1)).argmax(1).view(len(eps_grid), -1)  # [E, B]
        return (pred == y.unsqueeze(0)).float().mean(1)
