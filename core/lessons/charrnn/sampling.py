"""Writing text one character at a time: temperature, top-k, top-p (nucleus) and greedy sampling.

Every rule turns the logits z of the next character into a distribution p, then one character
is drawn from p. All temperatures share the same uniform draws u (inverse-CDF sampling: the
character whose cumulative probability first passes u), so samples side by side differ only by
their temperature, and the same seed gives the same draws every frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.lessons.charrnn.data import Corpus
from core.lessons.charrnn.model import CharModel

MAX_PROMPT = 60
TOP = 6                 # candidates kept per position for the heatmap


def sampling_probs(logits: torch.Tensor, temps: torch.Tensor, mode: str, k: int = 5, p: float = 0.9) -> torch.Tensor:
    """The distribution each rule samples from. logits: [B, V]; temps: [B] -> probs [B, V]."""
    if mode == "greedy":
        # all mass on argmax z
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    # p_i = exp(z_i / T) / Σ_j exp(z_j / T)
    probs = torch.softmax(logits / temps[:, None], dim=-1)
    if mode == "top-k":
        # keep the k largest p_i, renormalise: p_i / Σ_{j ∈ top k} p_j
        kth = probs.topk(min(int(k), probs.shape[-1]), dim=-1).values[:, -1:]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
    elif mode == "top-p":
        # the smallest set of likeliest characters whose mass reaches p: keep i when the mass of
        # the characters ranked before it is still below p
        sp, order = probs.sort(dim=-1, descending=True)
        before = sp.cumsum(-1) - sp
        keep_sorted = before < p
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = torch.where(keep, probs, torch.zeros_like(probs))
    else:
        return probs                      # softmax is normalised already
    return probs / probs.sum(-1, keepdim=True)


def draw(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse CDF: for each row the first index whose cumulative probability exceeds u · (the
    row's total), so a character of probability 0 is never drawn. probs: [B, V] (≥ 0), u: [B] in
    [0, 1) -> ids [B].

    The float cumulative sum of a softmax can end a hair below 1 (0.99999994): a uniform draw
    above it would fall past the end. Scaling u by the row's own total keeps it inside; where
    rounding still puts it at the total, the last character with p > 0 is taken (an index the
    search returns always has p > 0: the cumulative sum only rises where p does)."""
    cdf = probs.cumsum(-1)
    target = u.reshape(-1, 1).to(cdf.dtype) * cdf[:, -1:]
    idx = torch.searchsorted(cdf, target.contiguous(), right=True)[:, 0]
    positions = torch.arange(probs.shape[-1], device=probs.device)
    last = torch.where(probs > 0, positions, torch.zeros_like(positions)).amax(-1)
    return torch.where(idx < probs.shape[-1], idx, last)


def prompt_ids(corpus: Corpus, prompt: str) -> tuple[np.ndarray, str]:
    """The ids the samples start from (a new line first, when the text has new lines), and the
    prompt's characters that the text never uses (left out)."""
    ids, dropped = corpus.encode(prompt[:MAX_PROMPT])
    start, _ = corpus.encode("\n")
    ids = np.concatenate([start, ids]) if len(start) else ids
    return (ids if len(ids) else corpus.ids[:1].astype(np.int64)), dropped


@dataclass
class Samples:
    """What one batched generation returns (numpy). R rows (temperatures), L characters."""

    ids: np.ndarray          # [R, L] the sampled characters
    logits: np.ndarray       # [L, V] raw logits before each character of the inspected row
    probs: np.ndarray        # [L, V] the distribution it was drawn from (after the rule)
    shown: np.ndarray        # [L, H] top-layer c (LSTM) or h after reading each sampled character


@torch.no_grad()
def generate(model: CharModel, start: np.ndarray, temps: list[float], length: int, mode: str, k: int,
             p: float, seed: int, inspect: int, shared: bool = True) -> Samples:
    """Sample ``length`` characters for every temperature at once (one row each), after reading
    ``start``; keep the details of row ``inspect``. ``shared``: every row uses the same uniform
    draws (temperatures side by side); otherwise each row has its own (many samples at one T)."""
    dev = model.out.weight.device
    R = len(temps)
    x = torch.as_tensor(start, device=dev).long()[:, None].expand(-1, R)         # [P, R]
    logits, state, _ = model.explicit(x[:-1]) if len(start) > 1 else (None, model.zero_state(R), None)
    last = x[-1]
    W = model.step_weights()
    u = torch.rand(length, 1 if shared else R, generator=torch.Generator().manual_seed(int(seed))).to(dev)
    t = torch.tensor(temps, device=dev, dtype=model.out.weight.dtype)
    ids, lg, pr, sh = [], [], [], []
    for i in range(length):
        z, state, shown = model.step(last, state, W)
        probs = sampling_probs(z, t, mode, k, p)
        last = draw(probs, u[i].expand(R))
        ids.append(last)
        lg.append(z[inspect])
        pr.append(probs[inspect])
        sh.append(shown[inspect])
    # the activation shown under character i is the state after reading it: one step later
    _, _, shown = model.step(last, state, W)
    shown_seq = torch.stack(sh[1:] + [shown[inspect]])
    return Samples(torch.stack(ids, 1).cpu().numpy(), torch.stack(lg).cpu().numpy(),
                   torch.stack(pr).cpu().numpy(), shown_seq.cpu().numpy())
