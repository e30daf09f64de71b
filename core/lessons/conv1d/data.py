"""The two tasks, generated from a seed (nothing is downloaded).

* ``control`` — the six synthetic control-chart patterns of Alcock & Manolopoulos (1999), the
  UCI "Synthetic Control Chart Time Series" recipe: with m = 30, s = 2, r ~ U(−3, 3) per step,
      normal      y(t) = m + r·s
      cyclic      y(t) = m + r·s + a·sin(2πt / P),  a ~ U(10, 15), P ~ U(10, 15)
      trend ±     y(t) = m + r·s ± g·t,             g ~ U(0.2, 0.5)
      shift ±     y(t) = m + r·s ± k(t)·x,          x ~ U(7.5, 20), k(t) = 1 from t₀ ~ U(T/3, 2T/3) on
  then scaled to (y − 30) / 10 so that the networks see numbers of order one.
* ``longrange`` — Gaussian noise (σ = 0.5) with two events: a spike up (+2.5) and a spike down
  (−2.5), the first at a step in [T/4, 3T/8), the second in [5T/8, 3T/4), so they are between
  T/4 + 1 and T/2 − 1 steps apart (17 to 31 at T = 64). Label 1 when the spike up comes first.
  Both spikes are in every sequence; only their order tells the classes apart, so a convolution
  that never sees both in one window, followed by pooling over time, has nothing to go on. The
  spikes keep T/4 away from the ends: a window cut short by an end would tell where it is (a
  convolution without padding learned "the spike near the start comes first" that way).

Shapes: x [N, T] float32, y [N] int64.
"""
from __future__ import annotations

import numpy as np

TASKS = {"longrange": "Long range: which spike comes first?",
         "control": "Control charts: six patterns"}
CONTROL_CLASSES = ("normal", "cyclic", "trend up", "trend down", "shift up", "shift down")
LONGRANGE_CLASSES = ("spike down first", "spike up first")
SPIKE = 2.5
NOISE = 0.5


def n_classes(task: str) -> int:
    return len(CONTROL_CLASSES) if task == "control" else len(LONGRANGE_CLASSES)


def class_names(task: str) -> tuple[str, ...]:
    return CONTROL_CLASSES if task == "control" else LONGRANGE_CLASSES


def control_charts(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n control-chart series of length T, classes balanced in turn: x [n, T], y [n]."""
    y = np.arange(n) % 6
    t = np.arange(T)[None, :]                                   # [1, T]
    u = lambda lo, hi: rng.uniform(lo, hi, (n, 1))              # noqa: E731  one value per series
    x = 30.0 + rng.uniform(-3.0, 3.0, (n, T)) * 2.0
    cyc = u(10, 15) * np.sin(2 * np.pi * t / u(10, 15))
    trend = u(0.2, 0.5) * t
    step = (t >= rng.integers(T // 3, max(2 * T // 3, T // 3 + 1), (n, 1))) * u(7.5, 20)
    add = np.select([y[:, None] == 1, y[:, None] == 2, y[:, None] == 3, y[:, None] == 4, y[:, None] == 5],
                    [cyc, trend, -trend, step, -step], 0.0)
    return ((x + add - 30.0) / 10.0).astype(np.float32), y.astype(np.int64)


def event_positions(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Where the two spikes go: the first in [T/4, 3T/8), the second in [5T/8, 3T/4): p1, p2 [n]."""
    m, q = T // 4, max(T // 8, 1)
    return rng.integers(m, m + q, n), rng.integers(T - m - q, T - m, n)


def long_range(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n sequences with a spike up and a spike down far apart: x [n, T], y [n] (1 = up first)."""
    y = np.arange(n) % 2
    x = rng.normal(0.0, NOISE, (n, T))
    p1, p2 = event_positions(n, T, rng)
    sign = np.where(y == 1, 1.0, -1.0)
    rows = np.arange(n)
    x[rows, p1] = sign * SPIKE
    x[rows, p2] = -sign * SPIKE
    return x.astype(np.float32), y.astype(np.int64)


def gap_range(T: int) -> tuple[int, int]:
    """The smallest and largest distance between the two spikes (in steps)."""
    m, q = T // 4, max(T // 8, 1)
    return (T - m - q) - (m + q - 1), (T - m - 1) - m


def make_set(task: str, n: int, T: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A shuffled set of n sequences of ``task``, reproducible from ``seed``: x [n, T], y [n]."""
    rng = np.random.default_rng(seed)
    x, y = (control_charts if task == "control" else long_range)(n, T, rng)
    order = rng.permutation(n)
    return x[order], y[order]
