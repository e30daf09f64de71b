"""How close the generated points are to the real ones."""
from __future__ import annotations

import numpy as np


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_proj: int = 32) -> float:
    """Sliced 1-Wasserstein distance between two equal-size point clouds a, b: [n, 2].

    SW(a, b) = mean over directions θ of W1(θ·a, θ·b), W1 in 1D = mean |sort(θ·a) − sort(θ·b)|.
    Fixed, evenly spread directions make it deterministic.
    """
    ang = np.linspace(0, np.pi, n_proj, endpoint=False)
    theta = np.stack([np.cos(ang), np.sin(ang)], axis=1)          # [P, 2]
    pa, pb = np.sort(a @ theta.T, axis=0), np.sort(b @ theta.T, axis=0)  # [n, P]
    return float(np.abs(pa - pb).mean())


def mean_abs_error(points: np.ndarray, f) -> float:
    """mean |y − f(x)| over generated points [n, 2]; NaN when no point is finite."""
    with np.errstate(all="ignore"):
        err = np.abs(points[:, 1] - f(points[:, 0]))
    return float(np.nanmean(err)) if np.isfinite(err).any() else float("nan")
