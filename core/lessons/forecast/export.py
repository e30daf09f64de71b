"""The forecasting lesson as a standalone PyTorch script / notebook (core.export): the series, the
sliding windows, the app's own Forecaster module (an nn.LSTM, RNN, GRU or MLP with a linear head;
its source, core.export.sources), torch.optim and a visible epoch loop, with the page's settings. The airline data and an uploaded series travel as a CSV beside the
script (``files``); a generated series is generated in the script exactly as the app does."""
from __future__ import annotations

import numpy as np
import torch

from core.export import settings_cell, sources
from core.lessons.forecast.config import SYNTHETIC, ForecastConfig
from core.lessons.forecast.data import AIRLINE_CSV, DATA_SEED, mackey_glass, series_for
from core.lessons.forecast.model import Forecaster, detach_state

PARITY = {"loss": "loss", "train_rmse": "train_rmse", "test_rmse": "test_rmse"}
# The app's own code the script carries (core.export.sources): its network is this class.
MODEL_SOURCES = (Forecaster, detach_state)
PARITY_STEPS = 30
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-6
MISMATCH = ("the same numbers as the page for the same seed, up to float rounding: the page trains "
            "the default one-step LSTM with hand-written gradients and a fused Adam kernel, and "
            "predicts long series in blocks; the script uses autograd and the plain torch.optim "
            "step. Settings changed during the page's run apply from the script's first epoch.")

AIRLINE_FILE = "airline_passengers.csv"
SERIES_FILE = "series.csv"

NAMES = {"noise": "NOISE", "length": "LENGTH", "look_back": "LOOK_BACK",
         "framing": "FRAMING", "scale": "SCALE", "train_frac": "TRAIN_FRAC", "model": "MODEL",
         "hidden": "HIDDEN", "layers": "LAYERS", "dropout": "DROPOUT", "stateful": "STATEFUL",
         "seed": "SEED", "optimizer": "OPTIMIZER", "lr": "LR", "batch_size": "BATCH",
         "horizon": "HORIZON"}

HEAD = '''# %% [markdown]
# # Forecasting a time series: an LSTM against an MLP on a sliding window
# Exported from the live deep-learning dashboard (lesson "LSTM forecasting"). The series is cut
# into supervised pairs: the previous LOOK_BACK values are the input X, the next value the
# target y. A network learns the map X -> y on the first part of the series (the training part)
# and is judged on the rest (the test part), which it never sees while fitting. One training step
# (one point of `history`) is one epoch: one pass over every training pair.

'''

IMPORTS = '''
# %%
import csv
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

# %% [markdown]
# ## The series
'''

AIRLINE = '''# The monthly totals of international airline passengers (thousands), January 1949 to
# December 1960: 144 values, read from the CSV file beside this script.

# %%
with open("''' + AIRLINE_FILE + '''", newline="") as f:
    values = np.array([float(row["Passengers"]) for row in csv.DictReader(f)])   # [n]
x = 1949 + np.arange(len(values)) / 12.0          # time axis in decimal years (Jan 1949 = 1949.0)
X_TITLE, UNIT = "year", "thousand passengers"
print(len(values), "values, from", values[:3], "to", values[-3:])
'''

UPLOAD = '''# The series the page was given as a CSV, saved beside this script as ''' + SERIES_FILE + '''
# (columns x: the time axis, value: the series).

# %%
with open("''' + SERIES_FILE + '''", newline="") as f:
    rows = list(csv.DictReader(f))
values = np.array([float(row["value"]) for row in rows])   # [n]
x = np.array([float(row["x"]) for row in rows])             # [n]
X_TITLE, UNIT = {x_title!r}, {unit!r}
print(len(values), "values, from", values[:3], "to", values[-3:])
'''

SYNTH = {
    "sine": '''# A sine wave of period 25 steps: s_t = sin(2π t / 25).

# %%
t = np.arange(LENGTH, dtype=np.float64)
values = np.sin(2 * np.pi * t / 25.0)
''',
    "seasonal": '''# A trend times a yearly (12-step) season, like the airline series:
# s_t = (1 + 0.006 t) (10 + 2 sin(2π t / 12) + sin(2π t / 6)).

# %%
t = np.arange(LENGTH, dtype=np.float64)
values = (1.0 + 0.006 * t) * (10.0 + 2.0 * np.sin(2 * np.pi * t / 12.0) + np.sin(2 * np.pi * t / 6.0))
''',
    "square": '''# A square wave of period 30 steps: s_t = sign(sin(2π (t + 1/2) / 30)), ±1.

# %%
t = np.arange(LENGTH, dtype=np.float64)
values = np.where(np.sin(2 * np.pi * (t + 0.5) / 30.0) >= 0, 1.0, -1.0)
''',
    "mackey_glass": '''# The Mackey-Glass delay equation (chaotic), integrated with Euler steps of dt = 0.1 and
# sampled every 2 time units after a warm-up:
# dx/dt = β x(t−τ) / (1 + x(t−τ)^10) − γ x(t),  β = 0.2, γ = 0.1, τ = 17.

# %%
''' + sources(mackey_glass) + '''

values = mackey_glass(LENGTH)
''',
    "logistic": '''# The logistic map (chaotic): s_{t+1} = 3.9 s_t (1 − s_t), s_0 = 0.3. One previous value
# determines the next, yet the series never repeats.

# %%
values = np.empty(LENGTH)
values[0] = 0.3
for i in range(LENGTH - 1):
    values[i + 1] = 3.9 * values[i] * (1.0 - values[i])
''',
}

NOISE_CELL = '''if NOISE > 0:
    # Gaussian noise of σ = NOISE · std(signal), from its own seed (not the model's)
    noise_rng = np.random.default_rng(''' + str(DATA_SEED) + ''')
    values = values + noise_rng.normal(0.0, NOISE * float(values.std()), LENGTH)
x = np.arange(len(values), dtype=np.float64)      # time axis: the step t
X_TITLE, UNIT = "t", "units"
print(len(values), "values, from", values[:3], "to", values[-3:])
'''

BODY = '''
# %% [markdown]
# ## Training and test parts, scaling, windows
# The first n_train = ⌊TRAIN_FRAC · n⌋ values are the training part. Scaling to [0, 1] is fitted
# on them only: z = (v − lo) / (hi − lo), with lo and hi the training part's min and max.
#
# Pair t (t = L … n−1) has the input X_t = (z[t−L], …, z[t−1]) and the target y_t = z[t]; it is a
# training pair when t < n_train. Recurrent layers read X as [samples, time steps, features]:
# "features" gives [N, 1, L] (one step of L numbers), "timesteps" [N, L, 1] (L steps of one).

# %%
n = len(values)
n_train = int(np.floor(TRAIN_FRAC * n))
lo, hi = float(values[:n_train].min()), float(values[:n_train].max())   # the training part only
if SCALE:
    LO, SPAN = lo, (hi - lo if hi > lo else 1.0)
else:
    LO, SPAN = 0.0, 1.0                                        # no scaling: z = v
z = (values - LO) / SPAN                                       # scaled series [n]

L = LOOK_BACK
t = np.arange(L, n)                                            # target index of each pair [N]
windows = np.stack([z[i - L:i] for i in t])                    # [N, L]
targets = z[t]                                                 # [N]
is_train = t < n_train
n_train_pairs = int(is_train.sum())
framed = windows[:, None, :] if FRAMING == "features" else windows[:, :, None]
X = torch.tensor(framed, dtype=torch.float32)                  # [N, T, F]
y = torch.tensor(targets[:, None], dtype=torch.float32)        # [N, 1]
X_train, y_train = X[:n_train_pairs], y[:n_train_pairs]
actual = torch.tensor(values[t], dtype=torch.float32)          # [N] in the series' units
print("X:", tuple(X.shape), " training pairs:", n_train_pairs, " test pairs:", len(t) - n_train_pairs)

# %% [markdown]
# ## The model
# A recurrent layer (nn.RNN, nn.LSTM or nn.GRU) reads the T steps of a window; a linear head
# turns the last step's output h_T into the prediction ŷ = w·h_T + b. The MLP baseline instead
# flattens the window into L numbers and passes them through Linear + ReLU layers.
# Seeding as in the app: SEED for the weights, SEED + 1 for the shuffling, SEED + 2 for dropout.

# %%
@MODEL@

torch.manual_seed(SEED)
model = Forecaster(MODEL, X.shape[2], X.shape[1], HIDDEN, LAYERS, DROPOUT)
if OPTIMIZER == "adam":
    opt = torch.optim.Adam(model.parameters(), lr=LR)
elif OPTIMIZER == "rmsprop":
    opt = torch.optim.RMSprop(model.parameters(), lr=LR)
else:
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
shuffle = torch.Generator().manual_seed(SEED + 1)             # the order of the pairs, each epoch
torch.manual_seed(SEED + 2)                                    # dropout's random draws
print(model)

# %% [markdown]
# ## Training
# Each epoch visits every training pair once, in mini-batches b of a shuffled order, and takes an
# optimiser step on the mean squared error MSE_b = (1/|b|) Σ_i (ŷ_i − y_i)². The epoch's loss is
# (1/N_train) Σ_b MSE_b · |b|. A *stateful* run instead takes the pairs one at a time in time
# order, each starting from the state the previous pair left (reset at every epoch).
#
# After each epoch the model predicts every pair one step ahead; the errors are measured in the
# series' own units: RMSE = √((1/N) Σ (ŷ − y)²), over the training pairs and over the test pairs.

# %%
@torch.no_grad()
def predict_all():
    """One-step predictions of all N pairs (scaled) [N], and the final state (stateful runs)."""
    model.eval()
    state = None
    if not STATEFUL:
        pred = model(X)[0][:, 0]
    elif FRAMING == "features":
        out, state = model.rnn(X[:, 0][None])                 # the N windows as one sequence [1, N, L]
        pred = model.head(model.drop(out[0]))[:, 0]
    else:
        preds = []
        for i in range(len(X)):
            p, state = model(X[i:i + 1], state)
            preds.append(p[0])
        pred = torch.cat(preds)
    model.train()
    return pred, state


BATCH_USED = 1 if STATEFUL else min(BATCH, n_train_pairs)
history = {"loss": [], "train_rmse": [], "test_rmse": []}
for epoch in range(1, STEPS + 1):
    model.train()
    total = 0.0
    if STATEFUL:
        state = None
        for i in range(n_train_pairs):
            pred, state = model(X_train[i:i + 1], state)
            loss = torch.mean((pred - y_train[i:i + 1]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            state = detach_state(state)
            total += loss.item()
    else:
        order = torch.randperm(n_train_pairs, generator=shuffle)
        for start in range(0, n_train_pairs, BATCH_USED):
            idx = order[start:start + BATCH_USED]
            pred, _ = model(X_train[idx])
            loss = torch.mean((pred - y_train[idx]) ** 2)      # MSE on the scaled values
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
    pred_z, final_state = predict_all()
    err2 = (pred_z * SPAN + LO - actual) ** 2                 # back to the series' units
    history["loss"].append(total / n_train_pairs)
    history["train_rmse"].append(torch.sqrt(err2[:n_train_pairs].mean()).item())
    history["test_rmse"].append(torch.sqrt(err2[n_train_pairs:].mean()).item())
    if epoch % 25 == 0 or epoch == STEPS:
        print(f"epoch {epoch}: loss {history['loss'][-1]:.5f}  train RMSE {history['train_rmse'][-1]:.3f}"
              f"  test RMSE {history['test_rmse'][-1]:.3f}")

# %% [markdown]
# ## The picture: one-step predictions, and a recursive forecast beyond the data
# Beyond the data there is no true window any more: each prediction becomes the newest input,
# ŷ_n = f(z[n−L], …, z[n−1]), ŷ_{n+1} = f(z[n−L+1], …, z[n−1], ŷ_n), and so on.

# %%
@torch.no_grad()
def recursive_forecast(horizon, state):
    model.eval()
    window = torch.tensor(z[-L:], dtype=torch.float32)       # [L]
    out = []
    for _ in range(horizon):
        inp = window.view(1, 1, -1) if FRAMING == "features" else window.view(1, -1, 1)
        p, new_state = model(inp, state)
        if STATEFUL:
            state = new_state
        out.append(p[0])
        window = torch.cat([window[1:], p[0]])
    model.train()
    return torch.cat(out).numpy().astype(np.float64) * SPAN + LO if out else np.zeros(0)


pred = pred_z.numpy().astype(np.float64) * SPAN + LO
forecast = recursive_forecast(HORIZON, final_state if STATEFUL else None)
dx = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
forecast_x = x[-1] + dx * np.arange(1, len(forecast) + 1)
split_x = (x[n_train - 1] + x[n_train]) / 2

fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [2, 1]})
left.axvspan(split_x, x[-1], color="tab:red", alpha=0.08, label="test part")
left.plot(x, values, color="#222222", label="actual")
left.plot(x[t][is_train], pred[is_train], color="tab:blue", label="one-step prediction, train")
left.plot(x[t][~is_train], pred[~is_train], color="tab:red", label="one-step prediction, test")
if len(forecast):
    left.plot(np.r_[x[-1], forecast_x], np.r_[values[-1], forecast], "--", color="tab:orange",
              label="recursive forecast")
left.set_xlabel(X_TITLE)
left.set_ylabel(UNIT)
left.legend(fontsize=8)
right.plot(range(1, len(history["train_rmse"]) + 1), history["train_rmse"], label="train RMSE")
right.plot(range(1, len(history["test_rmse"]) + 1), history["test_rmse"], label="test RMSE")
right.set_xlabel("epoch")
right.set_ylabel(UNIT)
right.legend()
plt.tight_layout()
plt.show()
'''


def _data_cell(cfg: ForecastConfig) -> str:
    if cfg.source == "airline":
        return AIRLINE
    if cfg.source in SYNTHETIC:
        return SYNTH[cfg.source] + NOISE_CELL
    s = series_for(cfg)
    return UPLOAD.format(x_title=s.x_title, unit=s.unit)


def script(cfg: ForecastConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` epochs (default: the
    config's epochs)."""
    names = {k: v for k, v in NAMES.items()
             if k not in ("noise", "length") or cfg.source in SYNTHETIC}
    return (HEAD + settings_cell(cfg, names, steps or cfg.epochs) + IMPORTS + _data_cell(cfg)
            + BODY.replace("@MODEL@", sources(*MODEL_SOURCES)))


def files(cfg: ForecastConfig) -> dict[str, bytes]:
    """The data the script reads: the airline CSV, or the uploaded series (x, value) as CSV."""
    if cfg.source == "airline":
        return {AIRLINE_FILE: AIRLINE_CSV.read_bytes()}
    if cfg.source == "upload":
        s = series_for(cfg)
        rows = ["x,value"] + [f"{float(a)!r},{float(b)!r}" for a, b in zip(s.x, s.values)]
        return {SERIES_FILE: ("\n".join(rows) + "\n").encode()}
    return {}


def trainer_history(cfg: ForecastConfig, steps: int) -> dict[str, np.ndarray]:
    """The trainer's history after ``steps`` whole epochs (the live page slices an epoch into
    several steps; ``train_epochs`` does not)."""
    from core.lessons.forecast.trainer import ForecastTrainer
    trainer = ForecastTrainer(cfg, torch.device("cpu"))
    trainer.train_epochs(steps)
    return trainer.history.arrays()
