"""The character-level lesson as a standalone PyTorch script / notebook (core.export): the text as
character ids, parallel streams read with truncated backpropagation through time, the app's own
CharRNN module (an nn.LSTM, GRU or RNN on one-hot characters; its source, core.export.sources), torch.optim and a visible training loop, held-out bits per
character against n-gram baselines, and samples at the page's temperatures. The text travels as
a file beside the script (``files``): the shipped corpus, or the student's own text."""
from __future__ import annotations

from core.export import settings_cell, sources
from core.fastnet import FastDropout
from core.lessons.charrnn.config import CORPORA, CharRnnConfig
from core.lessons.charrnn.data import DATA, EVAL_CHARS, EVAL_LEN, FILES, HELD_OUT, LINE_CORPORA
from core.lessons.charrnn.model import CharRNN, detach
from core.lessons.charrnn.sampling import MAX_PROMPT

DEFAULT_STEPS = {"names": 1200, "prose": 2500}      # the shipped runs' lengths; other texts: 2000
CUSTOM_FILE = "charrnn_text.txt"
PARITY = {"loss": "loss", "grad_norm": "grad_norm"}
# The app's own code the script carries (core.export.sources): its network is CharRNN (the app's
# CharModel adds only the explicit step-by-step path over the same weights).
MODEL_SOURCES = (FastDropout, CharRNN, detach)
PARITY_STEPS = 30
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-6
MISMATCH = ("the same numbers as the page for the same seed, up to float rounding: the page steps "
            "with torch's fused Adam / SGD kernels (foreach RMSprop) and samples through a "
            "hand-written cell, the script with the plain torch.optim step and nn.LSTM; held-out "
            "bits are averaged in float64 on the page. A run near blowing up (SGD at a high rate, no "
            "clipping) grows those last-digit differences. Settings changed during the page's "
            "run (batch, BPTT length, dropout…) apply from the script's first step.")

NAMES = {"cell": "CELL", "layers": "LAYERS", "hidden": "HIDDEN", "seed": "SEED",
         "optimizer": "OPTIMIZER", "lr": "LR", "batch_size": "BATCH", "seq_len": "SEQ_LEN",
         "dropout": "DROPOUT", "clip": "CLIP", "eval_every": "EVAL_EVERY", "add_k": "ADD_K",
         "prompt": "PROMPT", "temperatures": "TEMPERATURES", "sampling": "SAMPLING", "top_k": "TOP_K",
         "top_p": "TOP_P", "sample_len": "SAMPLE_LEN", "sample_seed": "SAMPLE_SEED"}

HEAD = '''# %% [markdown]
# # A recurrent network writes text one character at a time
# Exported from the live deep-learning dashboard (lesson "Text, one character at a time"). An
# LSTM (or GRU, or vanilla RNN) reads a text character by character and, at every position,
# predicts the next character. Trained on names or prose, it then writes new text by sampling its
# own predictions one character at a time. One step of `history` is one batch.

'''

BODY = '''
# %%
import math
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# %% [markdown]
# ## The text as character ids
# Every distinct character gets an id (the characters sorted); the text becomes a sequence of
# ids. The last HELD_OUT of it is kept aside: the model never trains on it, and the held-out
# bits per character are measured there. A list of names is shuffled first (a fixed seed), so
# the held-out names are not just the end of the alphabet.

# %%
TEXT_FILE = {text_file!r}  # {label}
LINES = {lines!r}           # one item per line (names): shuffled before the split
HELD_OUT = {held_out!r}
with open(TEXT_FILE, encoding="utf-8", newline="") as f:
    text = f.read()
if LINES:
    items = [s for s in text.split("\\n") if s.strip()]
    order = np.random.default_rng(0).permutation(len(items))
    text = "\\n".join(items[i] for i in order) + "\\n"
vocab = sorted(set(text))
V = len(vocab)
stoi = {{c: i for i, c in enumerate(vocab)}}
ids = torch.tensor([stoi[c] for c in text])                   # [N] int64
split = int(len(ids) * (1 - HELD_OUT))
train_ids = ids[:split]
print(f"{{len(ids):,}} characters, {{V}} distinct; training on the first {{split:,}}")
print(repr(text[:200]))

# %% [markdown]
# ## Parallel streams and truncated BPTT
# The training text is cut into B slices read side by side: `data` is [n, B] and column b is the
# b-th slice. A batch is T consecutive rows: x = data[p : p+T] and y = data[p+1 : p+T+1] (every
# character's target is the next one), both [T, B]. The hidden state carries on from one batch to
# the next, but gradients stop at the batch's start (truncated backpropagation through time).
# When the text runs out a new pass starts, at a random offset and from a fresh state.

# %%
T = min(SEQ_LEN, max(1, len(train_ids) // 2 - 1))
B = max(1, min(BATCH, len(train_ids) // (T + 2)))
n = len(train_ids) // B
data = train_ids[: n * B].view(B, n).t()                      # [n, B]
print("streams:", B, " rows per stream:", n, " BPTT length:", T)

# Held-out rows of EVAL_LEN characters, each read from a zero state: [EVAL_LEN + 1, R]
EVAL_LEN = {eval_len!r}
R = max(1, min({eval_chars!r}, len(ids) - split - 1) // EVAL_LEN)
rows = split + EVAL_LEN * np.arange(R)
eval_ids = ids[torch.from_numpy(rows[None, :] + np.arange(EVAL_LEN + 1)[:, None])]

# %% [markdown]
# ## The model
# One-hot characters [T, B, V] -> stacked recurrent layers -> dropout -> a linear layer giving the
# logits z of the next character, [T, B, V]. The probabilities are p = softmax(z).
# Seeding as in the app: SEED for the weights, SEED + 1 for the pass offsets, SEED + 2 for dropout.

# %%
State = list[tuple[torch.Tensor, ...]]     # per layer (h [B, H], c [B, H]) for an LSTM, (h,) otherwise
MODULES = {{"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}}


@MODEL@

torch.manual_seed(SEED)
model = CharRNN(V, CELL, HIDDEN, LAYERS, DROPOUT)
if OPTIMIZER == "adam":
    opt = torch.optim.Adam(model.parameters(), lr=LR)
elif OPTIMIZER == "rmsprop":
    opt = torch.optim.RMSprop(model.parameters(), lr=LR)
else:
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
rng = np.random.default_rng(SEED + 1)                         # where each new pass starts
torch.manual_seed(SEED + 2)                                    # dropout's random draws
print(model)

# %% [markdown]
# ## Held-out bits per character, and the n-gram baselines to beat
# bits/char = −(1/M) Σ log₂ p(the true next character), over the M held-out positions. An n-gram
# model counts on the training part how often each character follows the n − 1 before it, with
# add-k smoothing: P(c | context) = (count(context, c) + k) / (count(context) + k·V).

# %%
@torch.no_grad()
def heldout_bits():
    model.eval()
    logits, _ = model(eval_ids[:-1])                            # [EVAL_LEN, R, V]
    model.train()
    log_p = torch.log_softmax(logits, -1).gather(-1, eval_ids[1:, :, None])
    return -log_p.double().mean().item() / math.log(2.0)


positions = (rows[:, None] + 1 + np.arange(EVAL_LEN)[None, :]).ravel()   # the scored positions


def ngram_bits(order, k=ADD_K):
    tr, full = train_ids.tolist(), ids.tolist()
    joint = Counter(tuple(tr[p - order + 1:p + 1]) for p in range(order - 1, len(tr)))
    context = Counter(tuple(tr[p - order + 1:p]) for p in range(order - 1, len(tr)))
    log_p = [math.log((joint[tuple(full[p - order + 1:p + 1])] + k) / (context[tuple(full[p - order + 1:p])] + k * V))
             for p in positions]
    return -float(np.mean(log_p)) / math.log(2.0)


ngram = {{order: ngram_bits(order) for order in (1, 2, 3, 4, 5)}}
print("n-gram held-out bits/char:", {{k: round(v, 3) for k, v in ngram.items()}})

# %% [markdown]
# ## Training
# The loss is the cross-entropy in nats per character, L = −(1/TB) Σ log softmax(z)_y (divide by
# ln 2 for bits). Before each step the gradient is clipped: if its norm ‖g‖ exceeds CLIP it is
# scaled to g · CLIP / ‖g‖ (CLIP = 0: no clipping); `grad_norm` is ‖g‖ before clipping.

# %%
history = {{"loss": [], "grad_norm": []}}
heldout = {{"step": [0], "bits": [heldout_bits()]}}
pos, state = 0, None
for step in range(1, STEPS + 1):
    if pos + T + 1 > n:                                        # a new pass over the streams
        pos, state = int(rng.integers(0, min(T, n - T - 1))), None
    x, y = data[pos:pos + T], data[pos + 1:pos + T + 1]        # [T, B] each
    pos += T
    logits, state = model(x, state)
    state = detach(state)                                      # memory carries on, gradients stop
    loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP if CLIP > 0 else math.inf)
    opt.step()
    history["loss"].append(loss.item())
    history["grad_norm"].append(norm.item())
    if step % EVAL_EVERY == 0:
        heldout["step"].append(step)
        heldout["bits"].append(heldout_bits())
    if step % 250 == 0 or step == STEPS:
        print(f"step {{step}}: loss {{loss.item() / math.log(2):.3f}} bits/char, "
              f"held-out {{heldout['bits'][-1]:.3f}} (at step {{heldout['step'][-1]}})")

# %% [markdown]
# ## Writing: sampling with a temperature
# The next character is drawn from p_i = exp(z_i / T) / Σ_j exp(z_j / T): a temperature T < 1
# sharpens the distribution, T > 1 flattens it. Top-k keeps the k likeliest characters, top-p the
# smallest set whose probabilities reach p (both renormalised); greedy always takes argmax z.
# Every temperature uses the same uniform numbers u (the character whose cumulative probability
# first passes u), so the samples side by side differ only by their temperature.

# %%
def sampling_probs(logits, temps):
    """logits: [R, V]; temps: [R] -> the distribution each row samples from, [R, V]."""
    if SAMPLING == "greedy":
        return F.one_hot(logits.argmax(-1), V).float()
    probs = torch.softmax(logits / temps[:, None], dim=-1)
    if SAMPLING == "top-k":
        kth = probs.topk(min(TOP_K, V), dim=-1).values[:, -1:]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
    elif SAMPLING == "top-p":
        sorted_p, order = probs.sort(dim=-1, descending=True)
        keep_sorted = sorted_p.cumsum(-1) - sorted_p < TOP_P  # the mass ranked before is still < p
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = torch.where(keep, probs, torch.zeros_like(probs))
    return probs / probs.sum(-1, keepdim=True)


@torch.no_grad()
def sample(temps, length):
    """One text of `length` characters per temperature, after reading a new line and PROMPT."""
    model.eval()
    start = [stoi[c] for c in PROMPT[:{max_prompt}] if c in stoi]   # characters the text never uses are left out
    if "\\n" in stoi:
        start = [stoi["\\n"]] + start
    if not start:
        start = [int(ids[0])]
    x = torch.tensor(start)[:, None].expand(-1, len(temps))   # [P, R]
    state = model(x[:-1])[1] if len(start) > 1 else None
    last = x[-1]
    u = torch.rand(length, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    temps = torch.tensor(temps, dtype=torch.float32)
    out = []
    for i in range(length):
        logits, state = model(last[None], state)               # [1, R, V]
        cdf = sampling_probs(logits[0], temps).cumsum(-1)
        last = torch.searchsorted(cdf, u[i].expand(len(temps), 1).contiguous(), right=True)[:, 0].clamp(max=V - 1)
        out.append(last)
    model.train()
    return ["".join(vocab[i] for i in row) for row in torch.stack(out, 1).tolist()]


temps = list(TEMPERATURES) or [1.0]
for temp, s in zip(temps, sample(temps, SAMPLE_LEN)):
    print(f"--- T = {{temp}} ({{SAMPLING}}) ---")
    print(PROMPT + s)

# %% [markdown]
# ## The picture: bits per character (lower is better)

# %%
fig, ax = plt.subplots(figsize=(9, 4))
steps = np.arange(1, len(history["loss"]) + 1)
ax.plot(steps, np.array(history["loss"]) / math.log(2), lw=1, alpha=0.6, label="training batch")
ax.plot(heldout["step"], heldout["bits"], lw=2, label="held-out")
for order, bits in ngram.items():
    ax.axhline(bits, color="grey", ls="--", lw=0.8)
    ax.text(len(steps) or 1, bits, f"{{order}}-gram {{bits:.2f}}", ha="right", va="bottom", fontsize=8, color="#555")
ax.set_xlabel("step")
ax.set_ylabel("bits / char")
ax.legend()
plt.show()
'''


def _text_file(cfg: CharRnnConfig) -> str:
    return CUSTOM_FILE if cfg.corpus == "custom" else FILES[cfg.corpus]


def script(cfg: CharRnnConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` batches."""
    steps = steps or DEFAULT_STEPS.get(cfg.corpus, 2000)
    body = BODY.format(text_file=_text_file(cfg), label=CORPORA[cfg.corpus], lines=cfg.corpus in LINE_CORPORA, held_out=HELD_OUT,
                       eval_len=EVAL_LEN, eval_chars=EVAL_CHARS, max_prompt=MAX_PROMPT)
    body = body.replace("@MODEL@", sources(*MODEL_SOURCES))     # after format: the app's braces stay
    return HEAD + settings_cell(cfg, NAMES, steps) + body


def files(cfg: CharRnnConfig) -> dict[str, bytes]:
    """The text the script reads: the shipped corpus file, or the student's own text."""
    if cfg.corpus == "custom":
        return {CUSTOM_FILE: cfg.custom_text.encode("utf-8")}
    return {FILES[cfg.corpus]: (DATA / FILES[cfg.corpus]).read_bytes()}
