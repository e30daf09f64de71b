"""Lesson 2: forecasting a time series with an LSTM, against an MLP on a sliding window
(seed 000, activities 1 and 2 "Time series prediction with MLP / with LSTM"; seed 003's
airline-passengers example).

The series s[0..n−1] is cut into supervised pairs: the window of the previous L values (the
look-back) is the input X, the next value the target y. A pair is named by its target index t:

    X_t = (s[t−L], …, s[t−1]),   y_t = s[t],   t = L … n−1   →  N = n − L pairs.

The first ``n_train = ⌊train_frac · n⌋`` values are the training part. A pair is a *training*
pair when t < n_train (then its whole window is training data too) and a *test* pair otherwise:
test values are never used for fitting, and the [0, 1] scaling is fitted on s[0..n_train−1]
only. Test predictions are one step ahead from the true past values, as in the lecture.

Recurrent layers read X as [samples, time steps, features]; the lecture's two framings:

    window as features:   X: [N, 1, L]   (one time step holding L numbers)
    window as time steps: X: [N, L, 1]   (L time steps of one number each)

The MLP baseline reads the window flattened, [N, L]. One trainer *step* is one epoch.
"""
from __future__ import annotations

import csv
import copy
import dataclasses
import io
import math
import pathlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.device import pick_device
from core.live import (Diverged, History, config_from_dict, config_to_dict, live_field, structural_field,
                       with_live_fields)

LESSON = "forecast"
DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"
AIRLINE_CSV = DATA_DIR / "airline_passengers.csv"

# source -> label shown on the page
SOURCES: dict[str, str] = {
    "airline": "Airline passengers 1949–1960 (real)",
    "sine": "Sine wave",
    "seasonal": "Seasonal with trend",
    "square": "Square wave",
    "mackey_glass": "Mackey–Glass (chaotic)",
    "logistic": "Logistic map (chaotic)",
    "upload": "Your CSV",
}
SYNTHETIC = ("sine", "seasonal", "square", "mackey_glass", "logistic")
MODELS: dict[str, str] = {"mlp": "MLP on the window", "rnn": "Vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
FRAMINGS: dict[str, str] = {"features": "window as features [N, 1, L]",
                            "timesteps": "window as time steps [N, L, 1]"}
OPTIMIZERS = ("adam", "rmsprop", "sgd")

DATA_SEED = 1234              # synthetic noise does not depend on the model seed: fair comparisons
MIN_TRAIN_PAIRS = 5
MIN_TEST_PAIRS = 2
MAX_SERIES = 5000             # values: keeps an epoch and a chart frame fast
MAX_UPLOAD_BYTES = 1_000_000  # 1 MB
MAX_COLUMNS = 100             # per row of an upload (tests/test_hostile.py: wide rows are slow)
MAX_HORIZON = 120
MAX_ABS_VALUE = 1e15              # squared errors stay finite in float32 (1e30 < 3.4e38)


@dataclass
class ForecastConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    source: str = structural_field("airline")       # one of SOURCES
    noise: float = structural_field(0.0)             # synthetic only: noise σ / signal σ
    length: int = structural_field(300)              # synthetic only: number of values
    custom_values: tuple = structural_field(())      # source "upload": the cleaned series
    custom_x: tuple = structural_field(())           # its time axis (decimal years or indices)
    custom_name: str = structural_field("")          # the column name (the unit on the charts)
    look_back: int = structural_field(12)            # L (12 = one year of months)
    framing: str = structural_field("features")      # one of FRAMINGS
    scale: bool = structural_field(True)             # min-max to [0, 1] fitted on the training part
    train_frac: float = structural_field(0.67)       # the lecture's 67 % / 33 %
    model: str = structural_field("lstm")            # one of MODELS
    hidden: int = structural_field(8)
    layers: int = structural_field(1)
    dropout: float = structural_field(0.0)
    stateful: bool = structural_field(False)         # recurrent only: state kept across batches
    seed: int = structural_field(0)
    optimizer: str = live_field("adam")              # one of OPTIMIZERS
    lr: float = live_field(0.01)
    batch_size: int = live_field(8)                  # stateful runs use 1 (see ``_epoch_stateful``)
    epochs: int = live_field(150)                    # the run stops here (raise it to go on)


# --------------------------------------------------------------------------- data


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
    """Mackey–Glass delay equation, Euler steps of ``dt``, sampled every ``sample_every`` units.

    dx/dt = β x(t−τ) / (1 + x(t−τ)^power) − γ x(t)
    """
    sub = int(round(sample_every / dt))
    lag = int(round(tau / dt))
    total = (n + warmup) * sub + lag
    x = np.empty(total)
    x[:lag + 1] = 1.2
    for i in range(lag, total - 1):
        xd = x[i - lag]
        x[i + 1] = x[i] + dt * (beta * xd / (1.0 + xd ** power) - gamma * x[i])
    return x[lag + warmup * sub::sub][:n].copy()


def synthetic(kind: str, n: int, noise: float, seed: int = DATA_SEED) -> np.ndarray:
    """A generated series of n values plus Gaussian noise of σ = noise · std(signal)."""
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
        has_x = x.shape == v.shape and np.all(np.diff(x) > 0)
        if not has_x:
            x = np.arange(len(v), dtype=np.float64)
        return Series(v, x, cfg.custom_name or "value", "year" if has_x else "t", cfg.custom_name or "your series")
    raise ValueError(f"unknown series {cfg.source!r}")


def min_length(look_back: int, train_frac: float) -> int:
    """Fewest values for which L + MIN_TRAIN_PAIRS ≤ n_train and MIN_TEST_PAIRS ≤ n − n_train."""
    n = look_back + MIN_TRAIN_PAIRS
    while True:
        n_train = int(math.floor(train_frac * n))
        if n_train - look_back >= MIN_TRAIN_PAIRS and n - n_train >= MIN_TEST_PAIRS:
            return n
        n += 1


def check_config(cfg: ForecastConfig) -> Series:
    """Validate a config; return its series. Raises ValueError with a student-readable message."""
    if cfg.source not in SOURCES:
        raise ValueError(f"unknown series {cfg.source!r}")
    if cfg.model not in MODELS:
        raise ValueError(f"unknown model {cfg.model!r}")
    if cfg.framing not in FRAMINGS:
        raise ValueError(f"unknown framing {cfg.framing!r}")
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimiser {cfg.optimizer!r}")
    if cfg.stateful and cfg.model == "mlp":
        raise ValueError("a stateful model needs a recurrent layer (RNN, LSTM or GRU), not the MLP")
    for name, lo in (("look_back", 1), ("hidden", 1), ("layers", 1), ("batch_size", 1), ("epochs", 1)):
        if int(getattr(cfg, name)) < lo:
            raise ValueError(f"{name.replace('_', ' ')} must be at least {lo}")
    if not (0.0 <= cfg.dropout < 1.0):
        raise ValueError("dropout must be in [0, 1)")
    if not (0.1 <= cfg.train_frac <= 0.95):
        raise ValueError("the training part must be between 10 % and 95 % of the series")
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ValueError("the learning rate must be a positive number")
    if cfg.source in SYNTHETIC and not (10 <= int(cfg.length) <= MAX_SERIES):
        raise ValueError(f"a generated series must have between 10 and {MAX_SERIES:,} values")
    s = series_for(cfg)
    n = len(s.values)
    if n > MAX_SERIES:
        raise ValueError(f"the series has {n:,} values; the limit is {MAX_SERIES:,}")
    if not np.all(np.isfinite(s.values)):
        raise ValueError("the series contains NaN or infinite values")
    # Finite but astronomically large values (an upload of ±1e308) overflow the [0, 1] scaling and
    # squared errors to inf/NaN, which the page then misreported as a learning-rate divergence.
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
    """Min-max scaling to [0, 1] fitted on the training part only (identity when off).

    z = (v − lo) / (hi − lo);  v = z · (hi − lo) + lo
    """

    lo: float = 0.0
    span: float = 1.0

    @classmethod
    def fit(cls, train_values: np.ndarray, on: bool = True) -> "Scaler":
        if not on:
            return cls(0.0, 1.0)
        lo, hi = float(np.min(train_values)), float(np.max(train_values))
        return cls(lo, hi - lo if hi > lo else 1.0)

    def transform(self, v: np.ndarray) -> np.ndarray:
        return (np.asarray(v, dtype=np.float64) - self.lo) / self.span

    def inverse(self, z: Any) -> Any:
        return z * self.span + self.lo


def split_point(n: int, train_frac: float) -> int:
    """n_train = ⌊train_frac · n⌋: values 0 … n_train−1 are the training part."""
    return int(math.floor(train_frac * n))


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


def frame(X: np.ndarray, framing: str) -> np.ndarray:
    """[N, L] windows → the recurrent layers' [samples, time steps, features]."""
    X = np.asarray(X)
    if framing == "features":
        return X[:, None, :]                                        # [N, 1, L]
    if framing == "timesteps":
        return X[:, :, None]                                        # [N, L, 1]
    raise ValueError(f"unknown framing {framing!r}")


def rmse(pred: np.ndarray, actual: np.ndarray) -> float:
    """RMSE = √( (1/N) Σ (ŷ_i − y_i)² )."""
    d = np.asarray(pred, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(d * d))) if d.size else float("nan")


# --------------------------------------------------------------------------- uploads


class UploadError(ValueError):
    """An uploaded file that cannot be used; the message says why and what to do."""


@dataclass
class Upload:
    """A parsed CSV: the table, the columns that hold numbers, and the file name."""

    table: pd.DataFrame
    numeric: list[str]
    name: str


def read_upload(name: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> Upload:
    """Parse an uploaded file (never executed). Raises UploadError for each unusable case."""
    if len(data) > max_bytes:
        raise UploadError(f"“{name}” is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
                          "Upload a shorter series (at most a few thousand rows).")
    if not name.lower().endswith((".csv", ".txt")):
        raise UploadError(f"“{name}” is not a CSV file: upload a .csv (comma- or semicolon-separated "
                          "text with one value per row).")
    if b"\x00" in data[:4096]:
        raise UploadError(f"“{name}” is not a CSV file (it holds binary data, e.g. a spreadsheet "
                          "saved as .xlsx): save it as CSV and upload that.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("latin-1")
        except UnicodeDecodeError as e:  # pragma: no cover - latin-1 decodes every byte
            raise UploadError(f"“{name}” is not readable text") from e
    if not text.strip():
        raise UploadError(f"“{name}” is empty.")
    try:
        sep = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    # A series has a few columns. Refuse very wide rows before pandas sees them: its bad-line
    # handling is slow on them (a 400 kB file of one 200,000-field row took ~40 s of server CPU),
    # and every column would become an option of the page's column pickers.
    widest = max((line.count(sep) for line in text.splitlines()), default=0) + 1
    if widest > MAX_COLUMNS:
        raise UploadError(f"“{name}” has a row with {widest:,} columns (at most {MAX_COLUMNS}): upload "
                          "a series with one value per row, e.g. a date column and a value column.")
    try:
        # a blank line inside the data is a missing value, not nothing (trailing ones are dropped)
        table = pd.read_csv(io.StringIO(text.rstrip()), sep=sep, skipinitialspace=True,
                            on_bad_lines="skip", skip_blank_lines=False)
    except Exception as e:  # the pandas parser's own message is not for students
        raise UploadError(f"“{name}” could not be read as CSV ({type(e).__name__}). Check that it is "
                          "plain text with one row per line.") from e
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise UploadError(f"“{name}” has no data rows.")
    table.columns = [str(c).strip() for c in table.columns]
    numeric = []
    for c in table.columns:
        col = pd.to_numeric(table[c], errors="coerce")
        # a value column: at least half of its cells are numbers (the rest are gaps to clean)
        if col.notna().sum() >= max(2, 0.5 * len(col)):
            numeric.append(c)
    if not numeric:
        raise UploadError(f"“{name}” has no column of numbers (columns: {', '.join(map(str, table.columns[:8]))}). "
                          "The value column must hold plain numbers such as 112 or 3.5.")
    return Upload(table, numeric, name)


def bad_cells(upload: Upload, column: str) -> int:
    """Cells of ``column`` that are empty, not numbers, NaN or ±inf."""
    v = pd.to_numeric(upload.table[column], errors="coerce").to_numpy(dtype=np.float64)
    return int((~np.isfinite(v)).sum())


def to_years(dates: pd.Series) -> np.ndarray | None:
    """Parsed dates as decimal years (e.g. 1949-07 → 1949.5); None if they are not increasing dates."""
    try:
        d = pd.to_datetime(dates, errors="coerce", format="mixed")
    except (TypeError, ValueError):
        return None
    if d.isna().any():
        return None
    years = d.dt.year + (d.dt.day_of_year - 1) / 365.25
    y = years.to_numpy(dtype=np.float64)
    return y if len(y) > 1 and np.all(np.diff(y) > 0) else None


def series_from_upload(upload: Upload, column: str, date_column: str | None = None,
                       fix: str | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The value column as a clean series: (values [n], decimal years [n] or None, note).

    ``fix`` handles NaN/inf cells: None raises UploadError (so the page can offer a choice),
    "drop" removes those rows, "interpolate" fills them linearly from their neighbours.
    """
    if column not in upload.table.columns:
        raise UploadError(f"there is no column “{column}”")
    v = pd.to_numeric(upload.table[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(v)
    note = ""
    keep = np.ones(len(v), dtype=bool)
    if bad.any():
        n_bad = int(bad.sum())
        if fix is None:
            raise UploadError(f"column “{column}” has {n_bad} empty, non-numeric, NaN or infinite "
                              f"cell{'s' if n_bad > 1 else ''}: choose to drop those rows or to interpolate them.")
        if bad.all():
            raise UploadError(f"column “{column}” has no numbers at all")
        if fix == "drop":
            keep = ~bad
            v = v[keep]
            note = f"dropped {n_bad} row{'s' if n_bad > 1 else ''} with missing values"
        elif fix == "interpolate":
            idx = np.arange(len(v))
            # linear interpolation between the nearest good neighbours (ends: nearest good value)
            v = np.interp(idx, idx[~bad], v[~bad])
            note = f"interpolated {n_bad} missing value{'s' if n_bad > 1 else ''}"
        else:
            raise UploadError(f"unknown fix {fix!r}")
    if len(v) > MAX_SERIES:
        raise UploadError(f"column “{column}” has {len(v):,} values; the limit is {MAX_SERIES:,}. "
                          "Upload a shorter (or coarser) series.")
    years = None
    if date_column and date_column in upload.table.columns:
        years = to_years(upload.table[date_column][keep].reset_index(drop=True))
        if years is None:
            note = (note + "; " if note else "") + f"“{date_column}” is not a column of increasing dates, so the time axis is the row number"
    return v, years, note


# --------------------------------------------------------------------------- models


class Forecaster(nn.Module):
    """The MLP baseline or a recurrent net, with a linear head giving the next value.

    forward(x: [B, T, F], state) → (ŷ: [B, 1], new state). The MLP flattens x to [B, T·F];
    the recurrent nets read the T steps and the head reads the last step's output.
    """

    def __init__(self, kind: str, n_features: int, n_steps: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.kind = kind
        if kind == "mlp":
            mods: list[nn.Module] = []
            d = n_features * n_steps
            for _ in range(layers):
                mods += [nn.Linear(d, hidden), nn.ReLU()]
                if dropout > 0:
                    mods.append(nn.Dropout(dropout))
                d = hidden
            self.body = nn.Sequential(*mods)
        else:
            cell = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
            # nn's dropout acts between stacked layers; the Dropout below also covers one layer
            self.rnn = cell(n_features, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
            self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        if self.kind == "mlp":
            return self.head(self.body(x.flatten(1))), None
        out, state = self.rnn(x, state)                   # out: [B, T, H]
        return self.head(self.drop(out[:, -1])), state

    def forward_sequence(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Recurrent only: one output per step. x: [1, S, F] → ŷ: [S], final state."""
        out, state = self.rnn(x, state)                   # [1, S, H]
        return self.head(self.drop(out[0]))[:, 0], state


def detach_state(state: Any) -> Any:
    """Keep the values, cut the graph (truncated back-propagation through time)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def lstm_cell_reference(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor,
                        w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step written out (PyTorch's gate order i, f, g, o), for the explanation.

    x: [B, F], h, c: [B, H], w_ih: [4H, F], w_hh: [4H, H], biases: [4H].
        i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
        f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate
        o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
        c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
    """
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh            # [B, 4H]
    zi, zf, zg, zo = z.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new


# --------------------------------------------------------------------------- the trainer


class ForecastTrainer:
    """Trains one forecaster; ``step(n)`` runs n epochs. See the module docstring for shapes."""

    HISTORY_KEYS = ("loss", "train_rmse", "test_rmse")

    def __init__(self, config: ForecastConfig, device: torch.device | None = None) -> None:
        self.config = dataclasses.replace(config)
        cfg = self.config
        self.series = check_config(cfg)
        self.device = device or pick_device()
        v = self.series.values
        n = len(v)
        self.n_train = split_point(n, cfg.train_frac)
        self.scaler = Scaler.fit(v[: self.n_train], cfg.scale)      # training part only
        z = self.scaler.transform(v)
        Xw, yw, t = make_windows(z, cfg.look_back)
        self.t = t                                                   # [N] target indices
        self.is_train = t < self.n_train                            # [N]
        self.n_train_pairs = int(self.is_train.sum())
        dev = self.device
        self.X = torch.from_numpy(frame(Xw, cfg.framing)).float().to(dev)    # [N, T, F]
        self.y = torch.from_numpy(yw[:, None]).float().to(dev)               # [N, 1]
        self.Xtr, self.ytr = self.X[: self.n_train_pairs], self.y[: self.n_train_pairs]
        self.actual = torch.from_numpy(v[t]).float().to(dev)                # [N] in the series' units
        T, F = self.X.shape[1], self.X.shape[2]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.model = Forecaster(cfg.model, F, T, cfg.hidden, cfg.layers, cfg.dropout).to(dev)
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        # dropout draws from torch's global RNG: keep a private copy of it so a run is reproducible
        self._rng_state = torch.Generator().manual_seed(cfg.seed + 2).get_state()
        self._cuda_rng_state = None
        self._build_optimizer()
        self.step_count = 0
        self.train_seconds = 0.0
        self.run_id = uuid.uuid4().hex[:8]
        self.history = History(self.HISTORY_KEYS, capacity=1000)
        self._pending: list[torch.Tensor] = []
        self._last_pred: torch.Tensor | None = None

    # ---------------------------------------------------------------- setup
    def _build_optimizer(self) -> None:
        cfg, params = self.config, self.model.parameters()
        if cfg.optimizer == "adam":
            self.opt = torch.optim.Adam(params, lr=cfg.lr)
        elif cfg.optimizer == "rmsprop":
            self.opt = torch.optim.RMSprop(params, lr=cfg.lr)
        else:
            self.opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9)

    def apply_live(self, config: ForecastConfig) -> None:
        """Adopt optimiser, learning rate, batch size and epochs without touching the weights."""
        old = self.config
        new = with_live_fields(old, config)
        check_config(new)
        self.config = new
        if new.optimizer != old.optimizer:
            self._build_optimizer()
            return
        for g in self.opt.param_groups:
            g["lr"] = new.lr

    @property
    def finished(self) -> bool:
        return self.step_count >= self.config.epochs

    @property
    def effective_batch(self) -> int:
        return 1 if self.config.stateful else min(int(self.config.batch_size), self.n_train_pairs)

    # ---------------------------------------------------------------- training
    def _epoch_stateless(self) -> torch.Tensor:
        """One pass over the training pairs in shuffled mini-batches; returns the mean loss."""
        n, B = self.n_train_pairs, self.effective_batch
        perm = torch.randperm(n, generator=self._gen).to(self.device)
        total = torch.zeros((), device=self.device)
        for i in range(0, n, B):
            idx = perm[i:i + B]
            pred, _ = self.model(self.Xtr[idx])
            loss = torch.mean((pred - self.ytr[idx]) ** 2)          # MSE on the (scaled) values
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            total = total + loss.detach() * idx.shape[0]
        return total / n

    def _epoch_stateful(self) -> torch.Tensor:
        """The lecture's "LSTM with memory between batches": batches of one pair, in time order,
        the state after pair i is the starting state of pair i+1 (values kept, gradients cut),
        and the state is reset to zero at the start of every epoch."""
        state = None
        total = torch.zeros((), device=self.device)
        for i in range(self.n_train_pairs):
            pred, state = self.model(self.Xtr[i:i + 1], state)
            loss = torch.mean((pred - self.ytr[i:i + 1]) ** 2)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            state = detach_state(state)
            total = total + loss.detach()
        return total / self.n_train_pairs

    @torch.no_grad()
    def predict_scaled(self) -> tuple[torch.Tensor, Any]:
        """One-step predictions for every pair (scaled units): ŷ [N], and the final state.

        Stateless: each window on its own. Stateful: all pairs in time order from a zero state,
        as in training, so test pairs continue from the state the training pairs built up.
        """
        was_training = self.model.training
        self.model.eval()
        try:
            if not self.config.stateful:
                pred, _ = self.model(self.X)
                return pred[:, 0], None
            if self.X.shape[1] == 1:
                # window as features: pair i is time step i of one long sequence [1, N, L]
                return self.model.forward_sequence(self.X[:, 0][None])
            state, out = None, []
            for i in range(self.X.shape[0]):
                p, state = self.model(self.X[i:i + 1], state)
                out.append(p[0])
            return torch.cat(out), state
        finally:
            self.model.train(was_training)

    def _evaluate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Train and test RMSE in the series' units (tensors; no sync)."""
        pred = self.scaler.inverse(self.predict_scaled()[0])       # [N]
        self._last_pred = pred
        err2 = (pred - self.actual) ** 2
        k = self.n_train_pairs
        return torch.sqrt(err2[:k].mean()), torch.sqrt(err2[k:].mean())

    def step(self, n: int = 1) -> None:
        """Train up to n epochs (never past ``config.epochs``). Raises ``Diverged`` on NaN/inf."""
        n = min(int(n), self.config.epochs - self.step_count)
        if n <= 0:
            return
        t0 = time.perf_counter()
        self.model.train()
        cuda = self.device.type == "cuda"
        with torch.random.fork_rng(devices=[self.device] if cuda else []):
            torch.set_rng_state(self._rng_state)
            if cuda and self._cuda_rng_state is not None:
                torch.cuda.set_rng_state(self._cuda_rng_state, self.device)
            for _ in range(n):
                loss = self._epoch_stateful() if self.config.stateful else self._epoch_stateless()
                tr, te = self._evaluate()
                self._pending.append(torch.stack([loss, tr, te]))
                self.step_count += 1
            self._rng_state = torch.get_rng_state()
            if cuda:
                self._cuda_rng_state = torch.cuda.get_rng_state(self.device)
        self._flush()
        self.train_seconds += time.perf_counter() - t0

    def _flush(self) -> None:
        """Move the pending per-epoch values to the history (one device sync)."""
        if not self._pending:
            return
        vals = torch.stack(self._pending)                           # [n, 3]
        self._pending = []
        ok = torch.isfinite(vals).all()
        for p in self.model.parameters():
            ok = ok & torch.isfinite(p).all()
        arr = vals.cpu().numpy().astype(np.float64)
        if not bool(ok):
            raise Diverged(f"Training diverged at epoch {self.step_count}: the loss or a weight became NaN "
                           "or infinite. Lower the learning rate (or turn scaling on) and press Reset.")
        steps = np.arange(self.step_count - arr.shape[0] + 1, self.step_count + 1)
        self.history.add_many(steps, {k: arr[:, i] for i, k in enumerate(self.HISTORY_KEYS)})

    # ---------------------------------------------------------------- reading
    @torch.no_grad()
    def forecast(self, horizon: int) -> np.ndarray:
        """Recursive forecast beyond the data: each prediction becomes the newest input.

        ŷ_n = f(s_{n−L}, …, s_{n−1}), ŷ_{n+1} = f(s_{n−L+1}, …, s_{n−1}, ŷ_n), …  Returns [horizon]
        in the series' units.
        """
        horizon = max(0, min(int(horizon), MAX_HORIZON))
        if horizon == 0:
            return np.zeros(0)
        cfg = self.config
        self.model.eval()
        try:
            z = self.scaler.transform(self.series.values)
            window = torch.from_numpy(z[-cfg.look_back:]).float().to(self.device)   # [L]
            state = self.predict_scaled()[1] if cfg.stateful else None
            out = []
            for _ in range(horizon):
                x = window.view(1, 1, -1) if cfg.framing == "features" else window.view(1, -1, 1)
                p, new_state = self.model(x, state)
                if cfg.stateful:
                    state = new_state
                out.append(p[0])
                window = torch.cat([window[1:], p[0]])
            return self.scaler.inverse(torch.cat(out).cpu().numpy().astype(np.float64))
        finally:
            self.model.train()

    def framing_example(self, rows: int = 3) -> dict[str, Any]:
        """The first training windows as the model receives them (scaled), in both framings."""
        L = self.config.look_back
        z = self.scaler.transform(self.series.values)
        Xw, yw, _ = make_windows(z, L)
        N = self.n_train_pairs
        return {"features": frame(Xw[:rows], "features"), "timesteps": frame(Xw[:rows], "timesteps"),
                "y": yw[:rows], "shape_features": [N, 1, L], "shape_timesteps": [N, L, 1],
                "shape_mlp": [N, L], "n_test": int(len(yw) - N)}

    @torch.no_grad()
    def snapshot(self, horizon: int = 24) -> dict[str, Any]:
        """Arrays for the charts, all in the series' units.

        x, values: [n]; pred_x, pred: [N] one-step predictions (target index t = L … n−1), with
        is_train: [N]; forecast_x, forecast: [horizon]; history: dict of [m] arrays.
        """
        cfg, s = self.config, self.series
        pred = self.scaler.inverse(self.predict_scaled()[0]).cpu().numpy().astype(np.float64)
        fc = self.forecast(horizon)
        dx = float(np.median(np.diff(s.x))) if len(s.x) > 1 else 1.0
        h = self.history.arrays()
        return {
            "step": self.step_count, "epochs": cfg.epochs, "finished": self.finished,
            "x": s.x, "values": s.values, "unit": s.unit, "x_title": s.x_title, "name": s.name,
            "pred_x": s.x[self.t], "pred": pred, "is_train": self.is_train,
            "split_x": float((s.x[self.n_train - 1] + s.x[self.n_train]) / 2),
            "forecast_x": s.x[-1] + dx * np.arange(1, len(fc) + 1), "forecast": fc,
            "history": h, "train_rmse": self.history.last("train_rmse"),
            "test_rmse": self.history.last("test_rmse"), "loss": self.history.last("loss"),
            "best_test_rmse": float(np.nanmin(h["test_rmse"])) if len(h["test_rmse"]) else float("nan"),
            "train_seconds": self.train_seconds, "n_train_pairs": self.n_train_pairs,
            "n_test_pairs": int(len(self.t) - self.n_train_pairs), "batch": self.effective_batch,
            "scaler": (self.scaler.lo, self.scaler.span), "run_id": self.run_id,
        }

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        self._flush()
        return {
            "lesson": LESSON, "config": config_to_dict(self.config), "step": self.step_count,
            "model": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "optim": self.opt.state_dict(),
            "history": self.history.state_dict(),
            "extra": {"train_seconds": float(self.train_seconds), "run_id": self.run_id,
                      "rng": self._rng_state.clone(), "shuffle_rng": self._gen.get_state()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if state["config"].get("optimizer", self.config.optimizer) == self.config.optimizer:
            # deep copy: torch's Optimizer.load_state_dict keeps the given moment tensors (no copy when
            # dtype/device match) and steps update them in place, which wrote into the checkpoint
            # cached for every session by ui.checkpoint (tests/test_isolation.py)
            self.opt.load_state_dict(copy.deepcopy(state["optim"]))
        self.history.load_state_dict(state["history"])
        self.step_count = int(state["step"])
        self.train_seconds = float(state["extra"].get("train_seconds", 0.0))
        self.run_id = str(state["extra"].get("run_id", self.run_id))
        if "rng" in state["extra"]:
            self._rng_state = state["extra"]["rng"].clone()
            self._gen.set_state(state["extra"]["shuffle_rng"].clone())

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: torch.device | None = None) -> "ForecastTrainer":
        """A new trainer (own copies of every tensor) continuing from a checkpoint."""
        cfg = config_from_dict(ForecastConfig, state["config"])
        cfg = dataclasses.replace(cfg, custom_values=tuple(cfg.custom_values), custom_x=tuple(cfg.custom_x))
        t = cls(cfg, device)
        t.load_state_dict(state)
        return t


# --------------------------------------------------------------------------- leaderboard

LEADERBOARD_COLUMNS = ("run", "series", "model", "framing", "look_back", "hidden", "layers", "stateful",
                       "scaled", "optimizer", "lr", "batch", "epochs", "train_rmse", "test_rmse", "unit", "seconds")


def leaderboard_row(trainer: ForecastTrainer, label: str = "") -> dict[str, Any]:
    """One leaderboard line for the trainer's current state (RMSE in the series' units)."""
    cfg = trainer.config
    return {
        "run": label or trainer.run_id, "series": trainer.series.name, "model": MODELS[cfg.model],
        "framing": "features" if cfg.framing == "features" else "time steps", "look_back": cfg.look_back,
        "hidden": cfg.hidden, "layers": cfg.layers, "stateful": bool(cfg.stateful), "scaled": bool(cfg.scale),
        "optimizer": cfg.optimizer, "lr": cfg.lr, "batch": trainer.effective_batch, "epochs": trainer.step_count,
        "train_rmse": round(trainer.history.last("train_rmse"), 3),
        "test_rmse": round(trainer.history.last("test_rmse"), 3), "unit": trainer.series.unit,
        "seconds": round(trainer.train_seconds, 2),
    }


def leaderboard_csv(rows: list[dict[str, Any]]) -> str:
    """The leaderboard as CSV text (fixed columns, so an empty board still has its header)."""
    return pd.DataFrame(rows, columns=list(LEADERBOARD_COLUMNS)).to_csv(index=False)


# --------------------------------------------------------------------------- pretraining


def pretrain(seed: int = 0) -> dict[str, Any]:
    """The shipped airline LSTM: the default config trained to its epochs on the CPU."""
    trainer = ForecastTrainer(ForecastConfig(seed=seed), torch.device("cpu"))
    trainer.step(trainer.config.epochs)
    h = trainer.history.arrays()
    return {
        "checkpoints": {"forecast_airline_lstm": trainer.state_dict()},
        "metrics": {"epochs": trainer.step_count, "train_rmse": round(float(h["train_rmse"][-1]), 3),
                    "test_rmse": round(float(h["test_rmse"][-1]), 3),
                    "best_test_rmse": round(float(np.nanmin(h["test_rmse"])), 3),
                    "seconds": round(trainer.train_seconds, 2)},
    }
