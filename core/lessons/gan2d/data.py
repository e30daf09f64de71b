"""The real data: 2D distributions with K labelled modes (a ring, a grid, two moons, a spiral)."""
from __future__ import annotations

import math

import numpy as np
import torch

CURVE_SEGMENTS = 8        # the "modes" of a non-Gaussian shape: equal stretches of its curve


class Data2D:
    """A 2D target distribution with K labelled modes.

    ref: [M, 2] reference points with ref_label: [M] their mode (for the Gaussian mixtures the
    M = K mode centres; for a curve, a dense sample of the curve, cut into K equal stretches).
    The metrics assign a generated point to the mode of its nearest reference point.
    """

    def __init__(self, name: str, std: float) -> None:
        self.name, self.std = name, float(std)
        if name == "ring8":
            ang = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
            self.ref = torch.stack([2 * torch.cos(ang), 2 * torch.sin(ang)], 1)     # radius 2
            self.n_modes, self.curve = 8, False
        elif name == "grid25":
            v = torch.arange(-2, 3, dtype=torch.float64)                            # spacing 1
            self.ref = torch.stack(torch.meshgrid(v, v, indexing="xy"), -1).reshape(-1, 2)
            self.n_modes, self.curve = 25, False
        elif name in ("moons", "spiral"):
            t = (torch.arange(800, dtype=torch.float64) + 0.5) / 800                # curve parameter in (0, 1)
            self.ref = self._curve(t)
            self.n_modes, self.curve = CURVE_SEGMENTS, True
        else:
            raise ValueError(f"unknown data set {name!r}")
        M = self.ref.shape[0]
        self.ref_label = (torch.arange(M) * self.n_modes // M) if self.curve else torch.arange(M)
        self.extent = 3.0

    def _curve(self, t: torch.Tensor) -> torch.Tensor:
        """Points on the curve for parameters t ∈ [0, 1): [n] -> [n, 2] (float64)."""
        if self.name == "moons":
            # first half of t: upper moon (cos θ, sin θ); second half: lower moon (1 − cos θ, ½ − sin θ)
            upper = t < 0.5
            th = torch.where(upper, t * 2, t * 2 - 1) * math.pi
            x = torch.where(upper, torch.cos(th), 1 - torch.cos(th))
            y = torch.where(upper, torch.sin(th), 0.5 - torch.sin(th))
            return torch.stack([(x - 0.5) * 1.6, (y - 0.25) * 1.6], 1)
        # spiral: r = 0.3 θ, θ ∈ [π/2, 3π]
        th = math.pi / 2 + t * 2.5 * math.pi
        r = 0.3 * th
        return torch.stack([r * torch.cos(th), r * torch.sin(th)], 1)

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """n real samples with their mode label: [n, 3] = (x, y, label) (float32)."""
        if self.curve:
            t = torch.rand(n, generator=gen, dtype=torch.float64)
            label = torch.clamp((t * self.n_modes).floor(), max=self.n_modes - 1)
            centre = self._curve(t)
        else:
            label = torch.randint(self.n_modes, (n,), generator=gen).double()
            centre = self.ref[label.long()]
        x = centre + self.std * torch.randn(n, 2, generator=gen, dtype=torch.float64)
        return torch.cat([x, label[:, None]], 1).float()

    def mode_markers(self) -> np.ndarray:
        """Where to mark each mode on a chart: [K, 2] (a curve stretch: its middle point)."""
        if not self.curve:
            return self.ref.numpy().astype(np.float64)
        labels = self.ref_label.numpy()
        mid = [np.flatnonzero(labels == k)[len(np.flatnonzero(labels == k)) // 2] for k in range(self.n_modes)]
        return self.ref.numpy()[mid].astype(np.float64)
