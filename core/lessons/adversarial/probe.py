"""The attack on one held-out digit that the page shows, run on the current model in every frame
(a few milliseconds: one image, at most 40 gradient steps). No Streamlit.

Everything is returned as plain numbers and arrays: the digit x, the sign of the input gradient
at x, the perturbation δ = x̃ − x, the attacked digit x̃, the class probabilities before and after,
J before and after, ‖δ‖∞ and (BIM/PGD) the path of the iterations.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.lessons.adversarial.attacks import direction, fgsm, input_gradient, pgd


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy().astype(np.float64)


def probe(model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: Any) -> dict[str, Any]:
    """x [1, 1, 16, 16] in [0, 1], y [1]; ``cfg`` carries eps, method, steps, alpha, targeted,
    target. Returns x, sign, delta, x_adv: [16, 16]; p_before, p_after: [10]; label, target,
    pred_before, pred_after: ints; loss_before, loss_after, linf: floats; path_linf, path_p: [K+1]
    (one entry for FGSM)."""
    eps = float(cfg.eps)
    label = torch.full_like(y, int(cfg.target)) if cfg.targeted else y
    g = input_gradient(model, x, label)
    if cfg.method == "fgsm":
        x_adv = fgsm(model, x, label, eps, cfg.targeted)
        path_linf = path_p = None
    else:
        gen = torch.Generator().manual_seed(12345)          # the same random start in every frame
        path = pgd(model, x, label, eps, float(cfg.alpha), int(cfg.steps), cfg.targeted,
                   random_start=cfg.method == "pgd", gen=gen)
        x_adv, path_linf, path_p = path.x_adv, path.linf[:, 0], path.p_label[:, 0]
    with torch.no_grad():
        logits = model(torch.cat([x, x_adv]))               # [2, 10]: before, after
        p = F.softmax(logits, 1)
        losses = F.cross_entropy(logits, torch.cat([label, label]), reduction="none")
    delta = x_adv - x
    return {
        "x": _np(x[0, 0]), "sign": _np(direction(cfg.targeted) * g.sign()[0, 0]), "delta": _np(delta[0, 0]),
        "x_adv": _np(x_adv[0, 0]), "p_before": _np(p[0]), "p_after": _np(p[1]),
        "label": int(y[0]), "target": int(cfg.target), "targeted": bool(cfg.targeted), "method": cfg.method,
        "pred_before": int(p[0].argmax()), "pred_after": int(p[1].argmax()),
        "loss_before": float(losses[0]), "loss_after": float(losses[1]), "eps": eps,
        "linf": float(delta.abs().max()),
        "path_linf": _np(path_linf) if path_linf is not None else np.array([0.0, float(delta.abs().max())]),
        "path_p": _np(path_p) if path_p is not None else _np(p[:, int(label[0])]),
    }
