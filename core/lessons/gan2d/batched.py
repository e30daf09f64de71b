"""S seeds of a small network at once: every weight tensor carries a leading seed axis
(W: [S, n_in, n_out], b: [S, 1, n_out]) and every layer is one ``baddbmm``, so S seeds cost about
what one costs on these tiny networks. Seed i draws its initial weights and its random numbers
from its own generators, and its loss only touches its own slice of the weights, so it computes
exactly what a run with that seed alone computes (tests/lessons/gan2d checks it). The stacks are
built from the one-seed modules of nets.py (``stack_params``): their layout has one source.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from core.lessons.gan2d.nets import LEAKY_SLOPE, seeded_linear


def seed_generators(seeds: list[int], salt: int) -> list[torch.Generator]:
    """One generator per seed; ``salt`` separates the streams (weights, noise, data…)."""
    return [torch.Generator().manual_seed(1_000_003 * salt + s) for s in seeds]


def stack_params(nets: list[nn.Module], device: torch.device) -> list[torch.Tensor]:
    """The weights of S one-seed nets (nets.py's modules, one per seed) in the batched layout,
    one leaf tensor per layer part: [W1 [S, in, out], b1 [S, 1, out], …], each nn.Linear in the
    order its net registers them (its forward order), W its weight transposed."""
    per_seed = [[t for lin in net.modules() if isinstance(lin, nn.Linear)
                 for t in (lin.weight.detach().T, lin.bias.detach()[None])] for net in nets]
    return [torch.stack([ps[i] for ps in per_seed]).to(device).requires_grad_(True)
            for i in range(len(per_seed[0]))]


@torch.no_grad()
def load_seed(net: nn.Module, params: list[torch.Tensor], i: int) -> nn.Module:
    """Seed i's slice of batched weights copied into a one-seed net (stack_params's inverse): ``net``."""
    layers = [lin for lin in net.modules() if isinstance(lin, nn.Linear)]
    if 2 * len(layers) != len(params):
        raise ValueError(f"{len(params)} weight tensors for {len(layers)} layers")
    for lin, W, b in zip(layers, params[0::2], params[1::2]):
        lin.weight.copy_(W[i].T)
        lin.bias.copy_(b[i, 0])
    return net


def init_params(sizes: list[int], gens: list[torch.Generator], device: torch.device) -> list[torch.Tensor]:
    """Batched weights of a bare MLP of ``sizes`` for S generators (a critic of its own, as in
    the tests), drawn like the panels' nets (nets.seeded_linear): [W1 [S, in, out], b1 [S, 1, out], …]."""
    return stack_params([nn.Sequential(*[seeded_linear(n_in, n_out, g) for n_in, n_out in zip(sizes[:-1], sizes[1:])])
                         for g in gens], device)


def mlp(params: list[torch.Tensor], x: torch.Tensor, act: str, mbstd_groups: int = 0) -> torch.Tensor:
    """S MLPs at once. x: [S, n, in] -> [S, n, out]; layer: h ← act(h W + b) (one baddbmm).

    mbstd_groups > 0 (minibatch std feature, Karras et al.): before the output layer, append
    σ̄ = mean over features of the std over each group's rows (the n rows are mbstd_groups
    contiguous groups, e.g. [real; fake]), so D sees how spread the whole batch is.
    """
    L = len(params) // 2
    h = x
    for l in range(L):
        if l == L - 1 and mbstd_groups:
            S, n, H = h.shape
            g = h.reshape(S, mbstd_groups, n // mbstd_groups, H)
            # σ̄ = mean_j sqrt(Var_rows(h_j) + 1e-8)
            sd = (g.var(dim=2, unbiased=False) + 1e-8).sqrt().mean(-1)        # [S, groups]
            feat = sd[:, :, None, None].expand(S, mbstd_groups, n // mbstd_groups, 1).reshape(S, n, 1)
            h = torch.cat([h, feat], -1)
        h = torch.baddbmm(params[2 * l + 1], h, params[2 * l])
        if l < L - 1:
            h = torch.relu(h) if act == "relu" else F.leaky_relu(h, LEAKY_SLOPE)
    return h


def hidden(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The discriminator's last hidden features (LeakyReLU layers, output layer left out):
    [S, n, in] -> [S, n, H]."""
    h = x
    for l in range(len(params) // 2 - 1):
        h = F.leaky_relu(torch.baddbmm(params[2 * l + 1], h, params[2 * l]), LEAKY_SLOPE)
    return h


class BatchedAdam:
    """Adam on a list of per-seed-stacked tensors; elementwise, so seeds never mix.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
    """

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple[float, float]) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, 1e-8
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        b1, b2 = self.betas
        self.t += 1
        torch._foreach_mul_(self.m, b1)
        torch._foreach_add_(self.m, grads, alpha=1 - b1)
        torch._foreach_mul_(self.v, b2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1 - b2)
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denom, math.sqrt(1 - b2 ** self.t))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denom, value=-self.lr / (1 - b1 ** self.t))

    def lookahead(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """One differentiable Adam step from the current moments (the unrolled GAN's D update)."""
        b1, b2 = self.betas
        t = self.t + 1
        out = []
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m2 = b1 * m + (1 - b1) * g
            v2 = b2 * v + (1 - b2) * g * g
            # +1e-20 inside the root keeps its derivative finite where v = g = 0
            out.append(p - (self.lr / (1 - b1 ** t)) * m2 / ((v2 + 1e-20).sqrt() / math.sqrt(1 - b2 ** t) + self.eps))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, "m": [x.detach().cpu().clone() for x in self.m],
                "v": [x.detach().cpu().clone() for x in self.v]}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.t = int(s["t"])
        self.m = [x.to(p).clone() for x, p in zip(s["m"], self.params)]
        self.v = [x.to(p).clone() for x, p in zip(s["v"], self.params)]


class SeedStream:
    """Per-seed random draws in blocks: next(rows) -> [S, rows, d].

    Seed i always draws from its own generator in the same order, whatever S is.
    """

    def __init__(self, draw: Callable[[int, torch.Generator], torch.Tensor], gens: list[torch.Generator],
                 device: torch.device, block_steps: int = 64) -> None:
        self._draw, self._gens, self._device, self._block = draw, gens, device, block_steps
        self._buf: torch.Tensor | None = None
        self._pos = self._rows = 0

    def next(self, rows: int) -> torch.Tensor:
        if self._buf is None or rows != self._rows or self._pos + rows > self._buf.shape[1]:
            self._buf = torch.stack([self._draw(rows * self._block, g) for g in self._gens]).to(self._device)
            self._pos, self._rows = 0, rows
        out = self._buf[:, self._pos:self._pos + rows]
        self._pos += rows
        return out
