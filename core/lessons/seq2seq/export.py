"""The seq2seq lesson as a standalone PyTorch script / notebook (core.export): the same data
generator, the two encoder–decoders as the app's own Seq2Seq class (its source,
core.export.sources), autograd and torch.optim, with the page's settings."""
from __future__ import annotations

from core.export import settings_cell, sources
from core.lessons.seq2seq import data as D
from core.lessons.seq2seq.config import Seq2SeqConfig
from core.lessons.seq2seq.model import Encoded, Seq2Seq
from core.lessons.seq2seq.trainer import BUCKET

DEFAULT_STEPS = 1000
PARITY = {"loss_plain": "loss_plain", "loss_attn": "loss_attn"}
# The app's own code the script carries (core.export.sources): its networks are these classes.
MODEL_SOURCES = (Encoded, Seq2Seq)
PARITY_STEPS = 20
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-5
MISMATCH = ("the same batches and weights as the page for the same seed, up to float rounding: the "
            "page runs both encoders as one merged GRU and the teacher-forced decoders in one call, "
            "the script runs each model on its own (the app's Seq2Seq class, one GRU each). The page's held-out accuracy uses "
            "600 of the 1,000 held-out pairs; settings changed during the page's run apply from the "
            "script's first step.")

NAMES = {"task": "TASK", "max_len": "MAX_LEN", "attention": "ATTENTION", "hidden": "HIDDEN", "embed": "EMBED",
         "seed": "SEED", "lr": "LR", "batch_size": "BATCH", "teacher_forcing": "TEACHER_FORCING"}

HEAD = '''# %% [markdown]
# # Sequence to sequence, and why attention
# Exported from the live deep-learning dashboard (lesson "Sequence to sequence, and attention").
# Two GRU encoder–decoders learn the same toy translation from the same batches: one must squeeze
# the whole input into the encoder's last state (the bottleneck), the other attends to every input
# character at every output step.

'''

BODY = '''
# %%
import datetime as dt
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# %% [markdown]
# ## The data, generated from the seed
# Dates written eight ways -> ISO dates (held-out days never occur in training), or digit strings
# -> the same digits backwards. One character vocabulary: PAD, START, END, then the alphabet.

# %%
PAD, START, END = 0, 1, 2
VOCAB = ["<pad>", "<s>", "</s>"] + list({alphabet!r})
INDEX = {{c: i for i, c in enumerate(VOCAB)}}
V = len(VOCAB)
FIRST_DAY, N_DAYS, N_HELD, N_POOL = dt.date(1950, 1, 1), {n_days}, {n_held}, {n_pool}
MONTHS = {months!r}
WEEKDAYS = {weekdays!r}


def ordinal(n):
    return f"{{n}}" + ("th" if 10 <= n % 100 <= 20 else {{1: "st", 2: "nd", 3: "rd"}}.get(n % 10, "th"))


def format_date(d, fmt):
    m, wd = MONTHS[d.month - 1], WEEKDAYS[d.weekday()]
    return [f"{{d.month:02d}}/{{d.day:02d}}/{{d.year % 100:02d}}", f"{{d.month}}/{{d.day}}/{{d.year}}",
            f"{{d.day}} {{m}} {{d.year}}", f"{{m}} {{d.day}}, {{d.year}}", f"{{ordinal(d.day)}} of {{m}} {{d.year}}",
            f"{{wd}}, {{m}} {{d.day}}, {{d.year}}", f"{{wd[:3]}}, {{d.day}} {{m[:3]}} {{d.year % 100:02d}}",
            f"{{wd}}, the {{ordinal(d.day)}} of {{m}} {{d.year}}"][fmt]


def dates(days, fmts):
    ds = [FIRST_DAY + dt.timedelta(days=int(k)) for k in days]
    return [format_date(d, int(f)) for d, f in zip(ds, fmts)], [d.isoformat() for d in ds]


def digits(rng, n):
    xs = ["".join(map(str, rng.integers(0, 10, k))) for k in rng.integers(1, MAX_LEN + 1, n)]
    return xs, [x[::-1] for x in xs]


def encode(texts, width, end=False):
    """Token ids [N, width], right-padded with PAD (END after each text when end=True)."""
    out = torch.zeros(len(texts), width, dtype=torch.long)
    for i, t in enumerate(texts):
        ids = [INDEX[c] for c in t] + ([END] if end else [])
        out[i, :len(ids)] = torch.tensor(ids)
    return out


def pairs(inputs, answers):
    return (encode(inputs, max(map(len, inputs))), torch.tensor([len(x) for x in inputs]),
            encode(answers, max(map(len, answers)) + 1, end=True))


rng = np.random.default_rng([SEED, 2024])
if TASK == "dates":
    held_days = rng.choice(N_DAYS, N_HELD, replace=False)
    held = dates(held_days, rng.integers(0, 8, N_HELD))
    free = np.setdiff1d(np.arange(N_DAYS), held_days)
    pool = dates(rng.choice(free, N_POOL), rng.integers(0, 8, N_POOL))
else:
    held, pool = digits(rng, N_HELD), digits(rng, N_POOL)
pool_src, pool_len, pool_tgt = pairs(*pool)
held_src, held_len, held_tgt = pairs(*held)
print(pool[0][:3], "->", pool[1][:3])

# %% [markdown]
# ## The model
# Encoder: h_j = GRU(emb(x_j), h_{{j-1}}); the decoder starts from s_0 = h_S (the last real character).
# Attention: e_tj = score(s, h_j), alpha_tj = softmax_j(e_tj), c_t = sum_j alpha_tj h_j.

# %%
@MODEL@

torch.manual_seed(SEED)
models = {{"plain": Seq2Seq(EMBED, HIDDEN, None), "attn": Seq2Seq(EMBED, HIDDEN, ATTENTION)}}
opt = torch.optim.Adam([p for m in models.values() for p in m.parameters()], lr=LR)

# %% [markdown]
# ## Training: both models on the same batch
# Batches come from a window of {bucket} pairs of similar input length (length bucketing). With
# probability TEACHER_FORCING a batch is teacher-forced. Loss: cross-entropy per answer character.

# %%
batch_rng = np.random.default_rng([SEED, 7])
by_len = np.argsort(pool_len.numpy(), kind="stable")
tgt_lens = (pool_tgt != PAD).sum(1)
history = {{"loss_plain": [], "loss_attn": []}}
for step in range(1, STEPS + 1):
    start = int(batch_rng.integers(0, len(by_len) - {bucket} + 1))
    idx = torch.from_numpy(by_len[start + batch_rng.integers(0, {bucket}, BATCH)])
    S, T = int(pool_len[idx].max()), int(tgt_lens[idx].max())
    src, src_len, tgt = pool_src[idx, :S], pool_len[idx], pool_tgt[idx, :T]
    tgt_in = torch.cat([torch.full_like(tgt[:, :1], START), tgt[:, :-1]], 1)
    feed_truth = bool(batch_rng.random() < TEACHER_FORCING)
    losses = {{k: F.cross_entropy(m.run(m.encode(src, src_len), tgt_in, feed_truth).reshape(-1, V), tgt.reshape(-1),
                                 ignore_index=PAD) for k, m in models.items()}}
    opt.zero_grad()
    (losses["plain"] + losses["attn"]).backward()
    opt.step()
    for k in models:
        history["loss_" + k].append(losses[k].item())
    if step % 200 == 0 or step == STEPS:
        print(f"step {{step}}: loss without attention {{losses['plain'].item():.4f}}, with {{losses['attn'].item():.4f}}")

# %% [markdown]
# ## Held-out exact match (greedy decoding), and the losses

# %%
@torch.no_grad()
def exact_match(m):
    T = held_tgt.shape[1]
    logits = m.run(m.encode(held_src, held_len), torch.full((len(held_src), T), START), feed_truth=False)
    ids = logits.argmax(-1)
    ends = torch.cumsum(ids == END, 1) - (ids == END).long() > 0     # after the first END: ignored
    return (ids.masked_fill(ends, PAD) == held_tgt).all(1).float().mean().item()


acc = {{k: exact_match(m) for k, m in models.items()}}
print("held-out exact match:", acc)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(history["loss_plain"], color="tab:red", label="no attention")
left.plot(history["loss_attn"], color="tab:blue", label="with attention")
left.set_yscale("log")
left.set_xlabel("step")
left.set_ylabel("loss")
left.legend()
right.bar(["no attention", "with attention"], [acc["plain"], acc["attn"]], color=["tab:red", "tab:blue"])
right.set_ylim(0, 1)
right.set_ylabel("held-out exact match")
plt.show()
'''


def script(cfg: Seq2SeqConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` steps."""
    body = BODY.format(alphabet=D.ALPHABET, n_days=D.N_DAYS, n_held=D.N_HELD, n_pool=D.N_POOL,
                       months=D.MONTHS, weekdays=D.WEEKDAYS, bucket=BUCKET)
    body = body.replace("@MODEL@", sources(*MODEL_SOURCES))     # after format: the app's braces stay
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body
