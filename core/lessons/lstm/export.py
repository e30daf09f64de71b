"""Inside an LSTM as a standalone PyTorch script / notebook (core.export): torch.nn.LSTM / GRU /
RNN with a linear read-out, Adam and gradient-norm clipping on the page's toy task and settings,
the cell's equations written out once (and checked against the module), and the lesson's
picture: loss, clipped gradient, the states over time and the gradient through time."""
from __future__ import annotations

from core.export import settings_cell, sources
from core.lessons.lstm.config import CELL_LABELS, N_EVAL, PROBE_BACK, LstmConfig
from core.lessons.lstm.model import make_rnn

# The app's own code the script carries (core.export.sources): its network is what this builds.
MODEL_SOURCES = (make_rnn,)

DEFAULT_STEPS = 1500          # the shipped runs' length (core.lessons.lstm.pretrain)
PARITY = {"loss": "loss", "acc": "acc", "grad_norm": "grad_norm", "grad_used": "grad_used"}
PARITY_STEPS = 30
PARITY_RTOL, PARITY_ATOL = 1e-5, 1e-6
MISMATCH = ("None in the numbers: the script builds, seeds and trains the same torch modules on the "
            "same batches as the page, so its losses match to float rounding. The page computes its "
            "detail views in float64 from its own written-out cell; the script's pictures use float32. "
            "Settings changed during the page's run apply from the script's first step.")

NAMES = {"task": "TASK", "seq_len": "T", "delay": "DELAY", "cell": "CELL", "hidden": "HIDDEN",
         "forget_bias": "FORGET_BIAS", "recurrent_sv": "LAMBDA_1", "seed": "SEED", "lr": "LR",
         "batch_size": "BATCH", "clip_norm": "CLIP"}

HEAD = '''# %% [markdown]
# # Inside an LSTM: gates, cell state and gradients through time
# Exported from the live deep-learning dashboard (lesson "Inside an LSTM"). A small recurrent
# network (an LSTM, a GRU or a vanilla tanh RNN) with a linear read-out learns a toy task that
# needs memory. Switch `CELL` to "rnn" and watch the gradient vanish through time.
#
# Tasks: `first_bit` (remember the first bit of a ±1 string until the end), `parity` (1 if
# the number of 1s is even), `adding` (two channels, value and marker: output the sum of the two
# marked values), `echo` (at every step t ≥ DELAY, output the bit seen DELAY steps earlier).

'''

BODY = '''
# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CELL_LABELS = ''' + repr(CELL_LABELS) + '''
N_EVAL = ''' + repr(N_EVAL) + '''        # held-out sequences
EVAL_EVERY = 50     # measure on them every this many steps
PROBE_BACK = ''' + repr(PROBE_BACK) + '''     # "the gradient 50 steps back"

# %% [markdown]
# ## The task: random batches
# Inputs x: [T, B, I] (I = 1: a bit b as x = 2b − 1; the adding problem: I = 2, value and
# marker); targets y: [T_out, B], at the last step only, or at every step t ≥ DELAY for the echo.

# %%
def make_batch(B, gen):
    if TASK == "adding":
        values = torch.rand(T, B, generator=gen)
        half = max(T // 2, 1)                         # one marker in each half of the sequence
        p1 = torch.randint(0, half, (B,), generator=gen)
        p2 = torch.randint(half, T, (B,), generator=gen) if T > 1 else p1
        marks = torch.zeros(T, B)
        marks[p1, torch.arange(B)] = 1.0
        marks[p2, torch.arange(B)] = 1.0
        y = (values * marks).sum(0, keepdim=True)      # the sum of the two marked values
        return torch.stack([values, marks], dim=-1), y
    bits = torch.randint(0, 2, (T, B), generator=gen)
    if TASK == "first_bit":
        y = bits[:1].float()
    elif TASK == "parity":
        y = (bits.sum(0, keepdim=True) % 2 == 0).float()   # YES (1) when the number of 1s is even
    else:                                                 # echo: y_t = b_(t−d), t = d … T−1
        y = bits[:T - DELAY].float()
    return (2.0 * bits.float() - 1.0).unsqueeze(-1), y


OUT = slice(DELAY, T) if TASK == "echo" else slice(T - 1, T)    # the steps that have a target
x_eval, y_eval = make_batch(N_EVAL, torch.Generator().manual_seed(12345 + 7 * T))   # fixed held-out set

# %% [markdown]
# ## The network
# One recurrent layer (hidden size H) and a read-out ŷ_t = w · h_t + b. PyTorch's layout: the
# LSTM's weights W_ih [4H, I], W_hh [4H, H] hold the gate blocks i, f, g, o; the GRU's r, z, n.
#
# Two changes to PyTorch's default initialisation: the forget gate's bias b_f (GRU: the update
# gate's b_z, the same "keep" role) is set to FORGET_BIAS (σ(3) ≈ 0.95: remember by default);
# and if LAMBDA_1 > 0, every gate block of W_hh is rescaled so its largest singular value is
# λ₁: W ← W · λ₁ / σ_max(W).

# %%
I, H = (2 if TASK == "adding" else 1), HIDDEN
MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


''' + sources(*MODEL_SOURCES) + '''

rnn, head = make_rnn(CELL, I, H, SEED, FORGET_BIAS, LAMBDA_1)
params = list(rnn.parameters()) + list(head.parameters())
opt = torch.optim.Adam(params, lr=LR)


def predict(x):
    """x [T, B, I] -> ŷ at the steps with a target: [T_out, B]."""
    out, _ = rnn(x)                                     # h_t for every t: [T, B, H]
    return head(out[OUT]).squeeze(-1)


def loss_and_accuracy(pred, y):
    if TASK == "adding":
        # L = mean (ŷ − y)²; an answer within 0.1 of the sum counts as right
        return ((pred - y) ** 2).mean(), ((pred - y).abs() < 0.1).float().mean()
    # L = BCE(σ(ŷ), y); the answer is 1 when ŷ > 0
    return F.binary_cross_entropy_with_logits(pred, y), ((pred > 0).float() == y).float().mean()


# %% [markdown]
# ## One step of the cell, written out
# With a_t = W_ih x_t + b_ih + W_hh h_(t−1) + b_hh split into blocks:
#
# * LSTM: i, f, o = σ(a_i), σ(a_f), σ(a_o), g = tanh(a_g); c_t = f ⊙ c_(t−1) + i ⊙ g; h_t = o ⊙ tanh(c_t)
# * GRU: r, z = σ(a_r), σ(a_z); n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_(t−1) + b_hn));
#   h_t = (1 − z) ⊙ n + z ⊙ h_(t−1)
# * vanilla RNN: h_t = tanh(a_t)
#
# The cell state c is the LSTM's "carousel": while f ≈ 1 and i ≈ 0, c_t ≈ c_(t−1), and so is the
# gradient flowing back through it. `run_cell` runs these equations with the module's weights and
# keeps every state; we check it gives the module's h.

# %%
def run_cell(x):
    """x [T, B, I] -> dict of per-step lists: h (and c, f for the LSTM; z for the GRU)."""
    W_ih, W_hh, b_ih, b_hh = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0
    h = torch.zeros(x.shape[1], H)
    c = torch.zeros(x.shape[1], H)
    keep = {"h": [], "c": [], "f": [], "z": []}
    for t in range(x.shape[0]):
        gi, gh = x[t] @ W_ih.T + b_ih, h @ W_hh.T + b_hh
        if CELL == "lstm":
            a_i, a_f, a_g, a_o = (gi + gh).split(H, dim=1)
            i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            keep["c"].append(c)
            keep["f"].append(f)
        elif CELL == "gru":
            (gi_r, gi_z, gi_n), (gh_r, gh_z, gh_n) = gi.split(H, dim=1), gh.split(H, dim=1)
            r, z = torch.sigmoid(gi_r + gh_r), torch.sigmoid(gi_z + gh_z)
            n = torch.tanh(gi_n + r * gh_n)
            h = (1 - z) * n + z * h
            keep["z"].append(z)
        else:
            h = torch.tanh(gi + gh)
        keep["h"].append(h)
    return keep


with torch.no_grad():
    written_out = torch.stack(run_cell(x_eval[:, :4])["h"])
    assert torch.allclose(written_out, rnn(x_eval[:, :4])[0], atol=1e-5), "the equations differ from the module"
print("The written-out cell gives the module's h_t.")


# %% [markdown]
# ## Measuring on the held-out set
# Besides loss and accuracy: ‖∂L/∂h_t‖ PROBE_BACK steps before the last, for each held-out
# sequence's own loss at the last step (mean over 32 sequences). We stop the run at
# t₀ = T − 1 − PROBE_BACK, make h_(t₀) a leaf, run the rest from it and ask autograd for its gradient.

# %%
def evaluate():
    with torch.no_grad():
        loss, acc = loss_and_accuracy(predict(x_eval), y_eval)
    if T <= PROBE_BACK:
        return loss.item(), acc.item(), float("nan")
    x, y, t0 = x_eval[:, :32], y_eval[-1, :32], T - 1 - PROBE_BACK
    with torch.no_grad():
        _, state = rnn(x[:t0 + 1])
    h = (state[0] if CELL == "lstm" else state).detach().requires_grad_(True)
    out, _ = rnn(x[t0 + 1:], (h, state[1]) if CELL == "lstm" else h)
    pred = head(out[-1]).squeeze(-1)
    last = (F.binary_cross_entropy_with_logits(pred, y, reduction="sum") if TASK != "adding"
            else ((pred - y) ** 2).sum())
    (g,) = torch.autograd.grad(last, [h])
    return loss.item(), acc.item(), g[0].norm(dim=-1).mean().item()


# %% [markdown]
# ## Training
# Adam on a fresh random batch every step. Gradient-norm clipping: if ‖g‖ (all parameters
# together) exceeds CLIP, the whole gradient is rescaled to that norm, g ← g · min(1, CLIP / ‖g‖)
# (CLIP = 0: off).

# %%
gen = torch.Generator().manual_seed(SEED + 1)          # the training batches
history = {"loss": [], "acc": [], "grad_norm": [], "grad_used": []}
metrics = {"step": [], "eval_loss": [], "eval_acc": [], "grad_back": []}


def measure(step):
    for k, v in zip(("step", "eval_loss", "eval_acc", "grad_back"), (step, *evaluate())):
        metrics[k].append(v)


measure(0)
for step in range(1, STEPS + 1):
    x, y = make_batch(BATCH, gen)
    loss, acc = loss_and_accuracy(predict(x), y)
    opt.zero_grad()
    loss.backward()                                     # backpropagation through time
    norm = torch.nn.utils.clip_grad_norm_(params, CLIP if CLIP > 0 else float("inf"))   # ‖g‖ before clipping
    opt.step()
    history["loss"].append(loss.item())
    history["acc"].append(acc.item())
    history["grad_norm"].append(norm.item())
    history["grad_used"].append(norm.clamp(max=CLIP).item() if CLIP > 0 else norm.item())
    if step % EVAL_EVERY == 0:
        measure(step)
    if step % 250 == 0 or step == STEPS:
        print(f"step {step}: loss {loss.item():.4f}  held-out accuracy {metrics['eval_acc'][-1]:.3f}")

# %% [markdown]
# ## The picture
# Left: training loss and held-out accuracy; the gradient norm before and after clipping.
# Right, on one held-out sequence: the state over time (the LSTM's cell state c, else h), and how
# much of the last step's gradient reaches each earlier step, ‖δh_t‖ = ‖∂L/∂h_t‖ (and ‖δc_t‖),
# from autograd through the written-out cell.

# %%
x1, y1 = x_eval[:, :32], y_eval[-1, :32]
states = run_cell(x1)
for v in states["h"] + states["c"]:
    v.retain_grad()                                     # keep ∂L/∂h_t, ∂L/∂c_t of every step
pred = head(states["h"][-1]).squeeze(-1)
last = (F.binary_cross_entropy_with_logits(pred, y1, reduction="sum") if TASK != "adding"
        else ((pred - y1) ** 2).sum())
last.backward()
back = np.arange(T)                                     # steps back k = T − 1 − t
dh = np.array([v.grad.norm(dim=-1).mean().item() for v in states["h"]])[::-1]

fig, axes = plt.subplots(2, 2, figsize=(12, 7))
steps = np.arange(1, len(history["loss"]) + 1)
axes[0, 0].plot(steps, history["loss"], label="train loss")
axes[0, 0].plot(metrics["step"], metrics["eval_acc"], "o-", label="held-out accuracy")
axes[0, 0].set_title(f"{CELL_LABELS[CELL]} on {TASK}, T = {T}")
axes[0, 0].legend()
axes[1, 0].semilogy(steps, history["grad_norm"], label="‖∇‖ unclipped")
axes[1, 0].semilogy(steps, history["grad_used"], label="‖∇‖ clipped (used)")
axes[1, 0].set_xlabel("training step")
axes[1, 0].legend()
name = "c" if CELL == "lstm" else "h"
shown = torch.stack(states[name])[:, 0].detach().numpy().T        # [H, T] for sequence 0
lim = max(float(np.abs(shown).max()), 1e-6)
im = axes[0, 1].imshow(shown, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
axes[0, 1].set_title(f"{name}_t of held-out sequence 0 (one row per unit)")
axes[0, 1].set_xlabel("time step t")
fig.colorbar(im, ax=axes[0, 1])
axes[1, 1].semilogy(back, dh, label="‖δh‖")
if CELL == "lstm":
    dc = np.array([v.grad.norm(dim=-1).mean().item() for v in states["c"]])[::-1]
    axes[1, 1].semilogy(back, dc, label="‖δc‖")
if T > PROBE_BACK:
    axes[1, 1].axvline(PROBE_BACK, color="gray", linestyle=":")
axes[1, 1].set_title("Gradient of the last step's loss, k steps back (mean of 32)")
axes[1, 1].set_xlabel("steps back k")
axes[1, 1].legend()
plt.tight_layout()
plt.show()
'''


def script(cfg: LstmConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` steps."""
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + BODY

