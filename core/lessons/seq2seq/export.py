"""The seq2seq lesson as a standalone PyTorch script / notebook (core.export): the same data
generator, the two encoder–decoders as plain nn.Modules, one character at a time, autograd and
torch.optim, with the page's settings."""
from __future__ import annotations

from core.export import settings_cell
from core.lessons.seq2seq import data as D
from core.lessons.seq2seq.config import Seq2SeqConfig
from core.lessons.seq2seq.trainer import BUCKET

DEFAULT_STEPS = 1000
PARITY = {"loss_plain": "loss_plain", "loss_attn": "loss_attn"}
PARITY_STEPS = 20
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-5
MISMATCH = ("the same batches and weights as the page for the same seed, up to float rounding: the "
            "page runs both encoders as one merged GRU and the teacher-forced decoders in one call, "
            "the script runs each model one character at a time. The page's held-out accuracy uses "
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
class Seq2Seq(nn.Module):
    def __init__(self, attention):                  # attention: None, "additive" or "dot"
        super().__init__()
        self.attention = attention
        self.src_emb = nn.Embedding(V, EMBED, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(V, EMBED)
        self.encoder = nn.GRU(EMBED, HIDDEN, batch_first=True)
        self.decoder = nn.GRU(EMBED + (HIDDEN if attention == "additive" else 0), HIDDEN, batch_first=True)
        if attention == "additive":
            self.W_s = nn.Linear(HIDDEN, HIDDEN, bias=False)
            self.W_h = nn.Linear(HIDDEN, HIDDEN)
            self.v = nn.Linear(HIDDEN, 1, bias=False)
        if attention:
            self.combine = nn.Linear(2 * HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, V)

    def attend(self, s, enc, mask):
        """c [B, H], alpha [B, S] for the query s [B, H]."""
        if self.attention == "additive":
            e = self.v(torch.tanh(self.W_s(s).unsqueeze(1) + self.W_h(enc))).squeeze(-1)  # v.tanh(W_s s + W_h h_j)
        else:
            e = torch.bmm(enc, s.unsqueeze(-1)).squeeze(-1)                                # s . h_j
        alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), -1)
        return torch.bmm(alpha.unsqueeze(1), enc).squeeze(1), alpha                      # c = sum_j alpha_j h_j

    def gru_step(self, x, s):
        return self.decoder(x.unsqueeze(1), s.unsqueeze(0))[1][0]

    def forward(self, src, src_len, tgt_in, feed_truth):
        """Logits [B, T, V]; the decoder is fed the true previous character or its own guess."""
        enc, _ = self.encoder(self.src_emb(src))
        s = enc[torch.arange(len(src)), src_len - 1]
        mask, y, out = src != PAD, tgt_in[:, 0], []
        for t in range(tgt_in.shape[1]):
            x = self.tgt_emb(y)
            if self.attention == "additive":            # context from s_(t-1), fed into the GRU
                c, _ = self.attend(s, enc, mask)
                s = self.gru_step(torch.cat([x, c], -1), s)
            else:
                s = self.gru_step(x, s)
                if self.attention == "dot":             # context from the new state s_t
                    c, _ = self.attend(s, enc, mask)
            # logits = W_o s (no attention) or W_o tanh(W_c [c; s])
            logits = self.out(s) if self.attention is None else self.out(torch.tanh(self.combine(torch.cat([c, s], -1))))
            out.append(logits)
            if t + 1 < tgt_in.shape[1]:
                y = tgt_in[:, t + 1] if feed_truth else logits.detach().argmax(-1)
        return torch.stack(out, 1)


torch.manual_seed(SEED)
models = {{"plain": Seq2Seq(None), "attn": Seq2Seq(ATTENTION)}}
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
    losses = {{k: F.cross_entropy(m(src, src_len, tgt_in, feed_truth).reshape(-1, V), tgt.reshape(-1),
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
    logits = m(held_src, held_len, torch.full((len(held_src), T), START), feed_truth=False)
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
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body
