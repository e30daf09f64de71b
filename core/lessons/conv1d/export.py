"""The conv1d lesson as a standalone PyTorch script / notebook (core.export): the four models as
the app's own nn.Modules (their source, core.export.sources; the page trains them through
fast.py, the same weights computed the cheap way), autograd, torch.optim and a visible loop,
with the page's settings."""
from __future__ import annotations

from core.export import settings_cell, sources
from core.lessons.conv1d.config import N_EVAL, N_TRAIN, Conv1dConfig
from core.lessons.conv1d.model import (MODELS, CausalConv1d, ConvLSTMNet, ConvPoolNet, LayerSpec, LSTMNet,
                                       WaveNetStack, conv_specs, convlstm_specs, dilations, unit_forget_bias,
                                       wavenet_specs)
from core.lessons.conv1d.trainer import BLOCK, EVAL_SEED

DEFAULT_STEPS = 1000
PARITY = {f"loss_{m}": f"loss_{m}" for m in MODELS}
# The app's own code the script carries (core.export.sources): its networks are these classes,
# with the layer descriptions their ``specs`` (receptive fields) read.
MODEL_SOURCES = (LayerSpec, conv_specs, convlstm_specs, dilations, wavenet_specs, CausalConv1d,
                 unit_forget_bias, LSTMNet, ConvPoolNet, ConvLSTMNet, WaveNetStack)
PARITY_STEPS = 20
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-6
MISMATCH = ("rounding only: the script's first 20 losses of every model equal the page's to about 2e-7. The "
            "page computes the convolutional models' outputs the cheap way (the dilated stack only where its "
            "last step reads, each convolution as one matrix product): the same sums, added in another order. "
            "Settings changed during the page's run apply from the script's first step.")

NAMES = {"task": "TASK", "seq_len": "T", "models": "MODELS", "channels": "CHANNELS", "hidden": "HIDDEN",
         "conv_kernel": "CONV_KERNEL", "conv_layers": "CONV_LAYERS", "wave_kernel": "WAVE_KERNEL",
         "wave_layers": "WAVE_LAYERS", "residual": "RESIDUAL", "seed": "SEED", "lr": "LR",
         "optimizer": "OPTIMIZER", "batch_size": "BATCH", "eval_every": "EVAL_EVERY"}

HEAD = '''# %% [markdown]
# # Convolutions for sequences: Conv1D, a dilated causal stack (WaveNet) and the LSTM
# Exported from the live deep-learning dashboard (lesson "Convolutions for sequences"). Four
# models learn the same task from the same batches: an LSTM, Conv1D + pooling, a Conv1D front
# end before an LSTM, and a stack of dilated causal convolutions. On the long-range task the
# class is which of two far-apart spikes comes first: a convolution whose window never holds
# both, followed by pooling over time, cannot tell.

'''

BODY = '''
# %%
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_TRAIN, N_EVAL, EVAL_SEED, BLOCK = @N_TRAIN@, @N_EVAL@, @EVAL_SEED@, @BLOCK@
NAMES = {"lstm": "LSTM", "conv": "Conv1D + pooling", "convlstm": "Conv1D -> LSTM", "wavenet": "Dilated causal stack"}

# %% [markdown]
# ## The data, generated from the seed
# Control charts: the six patterns of the UCI "Synthetic Control Chart" recipe, scaled to
# (y - 30) / 10. Long range: noise with a spike up (+2.5) and a spike down (-2.5), the first in
# [T/4, 3T/8), the second in [5T/8, 3T/4); label 1 when the spike up comes first.

# %%
def control_charts(n, T, rng):
    y = np.arange(n) % 6
    t = np.arange(T)[None, :]
    u = lambda lo, hi: rng.uniform(lo, hi, (n, 1))
    x = 30.0 + rng.uniform(-3.0, 3.0, (n, T)) * 2.0                   # y = m + r s
    cyc = u(10, 15) * np.sin(2 * np.pi * t / u(10, 15))               # + a sin(2 pi t / P)
    trend = u(0.2, 0.5) * t                                           # + g t
    step = (t >= rng.integers(T // 3, max(2 * T // 3, T // 3 + 1), (n, 1))) * u(7.5, 20)   # + k(t) x
    add = np.select([y[:, None] == 1, y[:, None] == 2, y[:, None] == 3, y[:, None] == 4, y[:, None] == 5],
                    [cyc, trend, -trend, step, -step], 0.0)
    return ((x + add - 30.0) / 10.0).astype(np.float32), y.astype(np.int64)


def long_range(n, T, rng):
    y = np.arange(n) % 2
    x = rng.normal(0.0, 0.5, (n, T))
    m, q = T // 4, max(T // 8, 1)
    p1, p2 = rng.integers(m, m + q, n), rng.integers(T - m - q, T - m, n)
    sign = np.where(y == 1, 1.0, -1.0)
    x[np.arange(n), p1] = 2.5 * sign
    x[np.arange(n), p2] = -2.5 * sign
    return x.astype(np.float32), y.astype(np.int64)


def make_set(n, seed):
    rng = np.random.default_rng(seed)
    x, y = (control_charts if TASK == "control" else long_range)(n, T, rng)
    order = rng.permutation(n)
    return torch.from_numpy(x[order]), torch.from_numpy(y[order])


x_train, y_train = make_set(N_TRAIN, SEED)
x_test, y_test = make_set(N_EVAL, EVAL_SEED)          # the same held-out set for every seed
N_CLASSES = 6 if TASK == "control" else 2

# %% [markdown]
# ## The four models
# A causal convolution pads (k - 1) d zeros on the left only, so the output at step t reads
# x_{t - (k-1)d} ... x_t and never the future. Dilations 1, 2, 4, ... double the receptive field
# with every layer: r = 1 + (k - 1)(2^L - 1).

# %%
@MODEL@

BUILD = {"lstm": lambda: LSTMNet(HIDDEN, N_CLASSES),
         "conv": lambda: ConvPoolNet(CHANNELS, CONV_KERNEL, CONV_LAYERS, N_CLASSES),
         "convlstm": lambda: ConvLSTMNet(CHANNELS, CONV_KERNEL, HIDDEN, N_CLASSES),
         "wavenet": lambda: WaveNetStack(CHANNELS, WAVE_KERNEL, WAVE_LAYERS, RESIDUAL, N_CLASSES)}
ORDER = ["lstm", "conv", "convlstm", "wavenet"]
torch.manual_seed(SEED)
models, opts = {}, {}
for name in [m for m in ORDER if m in MODELS]:
    torch.manual_seed(SEED * 1000 + ORDER.index(name))     # each model from its own seed
    models[name] = BUILD[name]()
    opts[name] = (torch.optim.SGD(models[name].parameters(), lr=LR, momentum=0.9) if OPTIMIZER == "sgd"
                  else torch.optim.Adam(models[name].parameters(), lr=LR))

# %% [markdown]
# ## Training: every model takes one step on the same batch

# %%
def accuracy(net):
    with torch.no_grad():
        return (net(x_test).argmax(1) == y_test).float().mean().item()


batches = torch.Generator().manual_seed(SEED + 1)
history = {f"loss_{m}": [] for m in models}
acc_steps, acc = [0], {m: [accuracy(net)] for m, net in models.items()}
for step in range(1, STEPS + 1):
    if (step - 1) % BLOCK == 0:                             # batch indices, drawn BLOCK steps at a time
        block = torch.randint(N_TRAIN, (BLOCK, BATCH), generator=batches)
    idx = block[(step - 1) % BLOCK]
    x, y = x_train[idx], y_train[idx]
    for name, net in models.items():
        # L = -(1/B) sum_b log softmax(net(x_b))_{y_b}
        loss = F.cross_entropy(net(x), y)
        opts[name].zero_grad()
        loss.backward()
        opts[name].step()
        history[f"loss_{name}"].append(loss.item())
    if step % EVAL_EVERY == 0 or step == STEPS:
        acc_steps.append(step)
        for name, net in models.items():
            acc[name].append(accuracy(net))
        print(f"step {step}: " + "  ".join(f"{NAMES[m]} {100 * acc[m][-1]:.1f} %" for m in models))

# %% [markdown]
# ## Held-out accuracy and training loss

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for name in models:
    left.plot(acc_steps, acc[name], label=NAMES[name])
    right.plot(history[f"loss_{name}"], label=NAMES[name])
left.axhline(1 / N_CLASSES, color="gray", linestyle="--", label="chance")
left.set_xlabel("step")
left.set_ylabel("held-out accuracy")
left.set_ylim(0, 1.02)
left.legend()
right.set_yscale("log")
right.set_xlabel("step")
right.set_ylabel("cross-entropy")
plt.show()
'''


def script(cfg: Conv1dConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` steps."""
    body = (BODY.replace("@N_TRAIN@", str(N_TRAIN)).replace("@N_EVAL@", str(N_EVAL))
            .replace("@EVAL_SEED@", str(EVAL_SEED)).replace("@BLOCK@", str(BLOCK))
            .replace("@MODEL@", sources(*MODEL_SOURCES)))       # last: nothing in the app's code is a token
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body
