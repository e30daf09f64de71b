"""One flat parameter vector per model: every parameter of the module becomes a view into one
tensor and every gradient a view into another, so the optimiser updates one tensor per model
(about 10 tensor operations) instead of ~10 small tensors × ~10 operations each. For models this
small the optimiser's per-tensor Python overhead is a large share of a step.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


class FlatModel:
    """``module``'s parameters as views of ``self.flat`` (an nn.Parameter whose ``.grad`` holds
    every gradient). Backward accumulates into the views in place, so ``flat.grad`` is filled
    without a copy. ``state_dict`` clones (a saved view would carry the whole flat buffer)."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        params = list(module.parameters())
        with torch.no_grad():
            self.flat = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
        self.flat.grad = torch.zeros_like(self.flat)
        off = 0
        for p in params:
            k = p.numel()
            p.data = self.flat.data[off:off + k].view_as(p)
            p.grad = self.flat.grad[off:off + k].view_as(p)
            off += k

    def zero_grad(self) -> None:
        self.flat.grad.zero_()

    def all_finite(self) -> torch.Tensor:
        return torch.isfinite(self.flat).all()

    def state_dict(self) -> dict[str, Any]:
        return {k: v.detach().clone() for k, v in self.module.state_dict().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)       # copies into the existing views, in place


def make_optimizer(fm: FlatModel, kind: str, lr: float) -> torch.optim.Optimizer:
    """Adam, or SGD with momentum 0.9, over the one flat vector."""
    if kind == "sgd":
        return torch.optim.SGD([fm.flat], lr=lr, momentum=0.9)
    return torch.optim.Adam([fm.flat], lr=lr)
