"""The series, and how it is cut into supervised pairs (no torch, no Streamlit).

The series s[0..n−1] is cut into pairs: the window of the previous L values (the look-back) is
the input X, the next value the target y. A pair is named by its target index t:

    X_t = (s[t−L], …, s[t−1]),   y_t = s[t],   t = L … n−1   →  N = n − L pairs.

The first ``n_train = ⌊train_frac · n⌋`` values are the training part. A pair is a *training*
pair when t < n_train (then its whole window is training data too) and a *test* pair otherwise:
test values are never used for fitting, and the [0, 1] scaling is fitted on s[0..n_train−1] only.

Recurrent layers read X as [samples, time steps, features]; the lecture's two framings:

    window as features:   X: [N, 1, L]   (one time step holding L numbers)
    window as time steps: X: [N, L, 1]   (L time steps of one number each)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.lessons.forecast.config import SOURCES, SYNTHETIC, ForecastConfig
from core.registry import ROOT

AIRLINE_CSV = ROOT / "core" / "data" / "airline_passengers.csv"
DATA_SEED = 1234              # synthetic noise does not depend on the model seed: fair comparisons
MIN_TRAIN_PAIRS = 5
MIN_TEST_PAIRS = 2
MAX_SERIES = 5000             # values: keeps an epoch and a chart frame fast
MAX_ABS_VALUE = 1e15          # squared errors stay finite in float32 (1e30 < 3.4e38)


@dataclass
class Series:
    """A series ready for windowing. values: [n] float64; x: [n] its time axis for the charts."""

    values: np.ndarray
    x: np.ndarray
    unit: str
    x_title: str
    name: str


def load_airline() -> Series:
    """The 144 monthly totals (thousands of passengers), Jan 1949 – Dec 1960."""
    df = pd.read_csv(AIRLINE_CSV)
    v = df["Passengers"].to_numpy(dtype=np.float64)
    x = 1949 + np.arange(len(v)) / 12.0           # decimal years, Jan 1949 = 1949.0
    return Series(v, x, "thousand passengers", "year", "airline passengers")


def mackey_glass(n: int, tau: int = 17, beta: float = 0.2, gamma: float = 0.1, power: int = 10,
                 sample_every: float = 2.0, dt: float = 0.1, warmup: int = 300) -> np.ndarray:
    """Mackey–Glass delay equation, Euler steps of ``dt``, sampled every ``sample_every`` units. [n]"""
    sub = int(round(sample_every / dt))
    lag = int(round(tau / dt))
    total = (n + warmup) * sub + lag
    x = np.empty(total)
    x[:lag + 1] = 1.2
    for i in range(lag, total - 1):
        xd = x[i - lag]
        # dx/dt = β x(t−τ) / (1 + x(t−τ)^power) − γ x(t)
        x[i + 1] = x[i] + dt * (beta * xd / (1.0 + xd ** power) - gamma * x[i])
    return x[lag + warmup * sub::sub][:n].copy()


def synthetic(kind: str, n: int, noise: float, seed: int = DATA_SEED) -> np.ndarray:
    """A generated series of n values plus Gaussian noise of σ = noise · std(signal). [n]"""
    t = np.arange(n, dtype=np.float64)
    if kind == "sine":
        s = np.sin(2 * np.pi * t / 25.0)
    elif kind == "seasonal":
        # a trend times a yearly (12-step) season, like the airline series
        s = (1.0 + 0.006 * t) * (10.0 + 2.0 * np.sin(2 * np.pi * t / 12.0) + np.sin(2 * np.pi * t / 6.0))
    elif kind == "square":
        s = np.where(np.sin(2 * np.pi * (t + 0.5) / 30.0) >= 0, 1.0, -1.0)
    elif kind == "mackey_glass":
        s = mackey_glass(n)
    elif kind == "logistic":
        # x_{t+1} = r x_t (1 − x_t), r = 3.9: chaotic, yet one previous value determines the next
        s = np.empty(n)
        s[0] = 0.3
        for i in range(n - 1):
            s[i + 1] = 3.9 * s[i] * (1.0 - s[i])
    else:
        raise ValueError(f"unknown synthetic series {kind!r}")
    if noise > 0:
        rng = np.random.default_rng(seed)
        s = s + rng.normal(0.0, noise * float(s.std()), n)
    return s


def series_for(cfg: ForecastConfig) -> Series:
    """The config's series, unchecked (``load_series`` checks it)."""
    if cfg.source == "airline":
        return load_airline()
    if cfg.source in SYNTHETIC:
        v = synthetic(cfg.source, int(cfg.length), float(cfg.noise))
        return Series(v, np.arange(len(v), dtype=np.float64), "units", "t", SOURCES[cfg.source].lower())
    if cfg.source == "upload":
        v = np.asarray(cfg.custom_values, dtype=np.float64)
        if v.size == 0:
            raise ValueError("no CSV is loaded yet: upload a file or choose another series")
        x = np.asarray(cfg.custom_x, dtype=np.float64)
        has_x = x.shape == v.shape and bool(np.all(np.diff(x) > 0))
        if not has_x:
            x = np.arange(len(v), dtype=np.float64)
        return Series(v, x, cfg.custom_name or "value", "year" if has_x else "t", cfg.custom_name or "your series")
    raise ValueError(f"unknown series {cfg.source!r}")


def split_point(n: int, train_frac: float) -> int:
    """n_train = ⌊train_frac · n⌋: values 0 … n_train−1 are the training part."""
    return int(math.floor(train_frac * n))


def min_length(look_back: int, train_frac: float) -> int:
    """Fewest values for which L + MIN_TRAIN_PAIRS ≤ n_train and MIN_TEST_PAIRS ≤ n − n_train."""
    n = look_back + MIN_TRAIN_PAIRS
    while True:
        n_train = split_point(n, train_frac)
        if n_train - look_back >= MIN_TRAIN_PAIRS and n - n_train >= MIN_TEST_PAIRS:
            return n
        n += 1


def load_series(cfg: ForecastConfig) -> Series:
    """The config's series after every check; ValueError with a student-readable message."""
    s = series_for(cfg)
    n = len(s.values)
    if n > MAX_SERIES:
        raise ValueError(f"the series has {n:,} values; the limit is {MAX_SERIES:,}")
    if not np.all(np.isfinite(s.values)):
        raise ValueError("the series contains NaN or infinite values")
    # Finite but astronomically large values (an upload of ±1e308) overflow the [0, 1] scaling and
    # squared errors to inf/NaN, which would then read as a learning-rate blow-up.
    if n and float(np.max(np.abs(s.values))) > MAX_ABS_VALUE:
        raise ValueError(f"the values must lie within ±{MAX_ABS_VALUE:g}; rescale the series (e.g. to "
                         "thousands or millions)")
    need = min_length(int(cfg.look_back), float(cfg.train_frac))
    if n < need:
        raise ValueError(f"the series is too short: {n} values, but look-back {cfg.look_back} with "
                         f"{100 * cfg.train_frac:.0f} % for training needs at least {need} "
                         f"(≥ {MIN_TRAIN_PAIRS} training and ≥ {MIN_TEST_PAIRS} test windows). "
                         "Lower the look-back or use a longer series")
    return s


@dataclass
class Scaler:
    """Min-max scaling to [0, 1] fitted on the training part only (identity when off)."""

    lo: float = 0.0
    span: float = 1.0

    @classmethod
    def fit(cls, train_values: np.ndarray, on: bool = True) -> "Scaler":
        if not on:
            return cls(0.0, 1.0)
        lo, hi = float(np.min(train_values)), float(np.max(train_values))
        return cls(lo, hi - lo if hi > lo else 1.0)

    def transform(self, v: np.ndarray) -> np.ndarray:
        # z = (v − lo) / (hi − lo)
        return (np.asarray(v, dtype=np.float64) - self.lo) / self.span

    def inverse(self, z: Any) -> Any:
        # v = z · (hi − lo) + lo   (numpy arrays or torch tensors)
        return z * self.span + self.lo


def make_windows(values: np.ndarray, look_back: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (X → y) pairs. values: [n] → X: [N, L], y: [N], t: [N] (target indices), N = n − L.

    X[i] = values[t_i − L : t_i], y[i] = values[t_i], t_i = L + i.
    """
    values = np.asarray(values, dtype=np.float64)
    L = int(look_back)
    N = len(values) - L
    if N <= 0:
        return np.zeros((0, L)), np.zeros(0), np.zeros(0, dtype=np.int64)
    idx = np.arange(L)[None, :] + np.arange(N)[:, None]           # [N, L]
    return values[idx], values[L:], np.arange(L, len(values))


def frame_windows(X: np.ndarray, framing: str) -> np.ndarray:
    """[N, L] windows → the recurrent layers' [samples, time steps, features]."""
    X = np.asarray(X)
    if framing == "features":
        return X[:, None, :]                                        # [N, 1, L]
    if framing == "timesteps":
        return X[:, :, None]                                        # [N, L, 1]
    raise ValueError(f"unknown framing {framing!r}")


def framing_example(values: np.ndarray, scaler: Scaler, look_back: int, n_train_pairs: int,
                    rows: int = 3) -> dict[str, Any]:
    """The first windows as the model receives them (scaled), in both framings, and the shapes."""
    L = int(look_back)
    Xw, yw, _ = make_windows(scaler.transform(values), L)
    N = int(n_train_pairs)
    return {"features": frame_windows(Xw[:rows], "features"), "timesteps": frame_windows(Xw[:rows], "timesteps"),
            "y": yw[:rows], "shape_features": [N, 1, L], "shape_timesteps": [N, L, 1],
            "shape_mlp": [N, L], "n_test": int(len(yw) - N)}
