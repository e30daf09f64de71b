"""Decoding for evaluation (never for training): greedy and beam search, batched.

Greedy takes the most likely character at every step. Beam search keeps the ``width`` most
likely partial outputs (by the sum of log-probabilities) and extends each by every character;
a finished beam (it produced END) stays as it is at no further cost. With width 1 it is greedy
(tests/lessons/seq2seq checks this on the held-out set).

Shapes: src [B, S]; the result: token ids [B, T] (END, then PAD, after the answer).
"""
from __future__ import annotations

import torch

from core.lessons.seq2seq.data import END, PAD, START
from core.lessons.seq2seq.model import Seq2Seq


@torch.no_grad()
def greedy(model: Seq2Seq, src: torch.Tensor, src_len: torch.Tensor, steps: int,
           keep_alpha: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(ids [B, steps], α [B, steps, S] or None). Rows stop changing after their END."""
    e = model.encode(src, src_len)
    B, dev = src.shape[0], src.device
    y = torch.full((B,), START, dtype=torch.long, device=dev)
    s, done = e.last, torch.zeros(B, dtype=torch.bool, device=dev)
    ids, alphas = [], []
    for _ in range(steps):
        logits, s, alpha = model.step(y, s, e)
        y = logits.argmax(-1).masked_fill(done, PAD)
        ids.append(y)
        if keep_alpha and alpha is not None:
            alphas.append(alpha)
        done = done | (y == END) | (y == PAD)        # as beam search: PAD also ends a row
        if bool(done.all()):
            break
    out = torch.full((B, steps), PAD, dtype=torch.long, device=dev)
    out[:, :len(ids)] = torch.stack(ids, 1)
    return out, (torch.stack(alphas, 1) if alphas else None)


@torch.no_grad()
def beam(model: Seq2Seq, src: torch.Tensor, src_len: torch.Tensor, steps: int, width: int) -> torch.Tensor:
    """The most likely output found by beam search of ``width``: ids [B, steps]."""
    B, K, dev = src.shape[0], width, src.device
    e = model.encode(src, src_len).repeat(K)                          # rows b·K + k
    s = e.last
    y = torch.full((B * K,), START, dtype=torch.long, device=dev)
    # only beam 0 is alive at the start (all K beams are the same empty output)
    score = torch.full((B, K), float("-inf"), device=dev)
    score[:, 0] = 0.0
    done = torch.zeros(B * K, dtype=torch.bool, device=dev)
    hist = torch.full((B, K, 0), PAD, dtype=torch.long, device=dev)
    for _ in range(steps):
        logits, s, _ = model.step(y, s, e)
        logp = torch.log_softmax(logits, -1)                           # [B·K, V]
        # a finished beam may only add PAD, at no cost: its score stays what it was
        frozen = torch.full_like(logp, float("-inf"))
        frozen[:, PAD] = 0.0
        logp = torch.where(done.unsqueeze(1), frozen, logp)
        Vn = logp.shape[1]
        cand = (score.unsqueeze(-1) + logp.view(B, K, Vn)).view(B, K * Vn)
        score, idx = cand.topk(K, dim=-1)                               # [B, K]
        parent, tok = idx // Vn, idx % Vn
        rows = (torch.arange(B, device=dev).unsqueeze(1) * K + parent).view(-1)     # [B·K]
        s, done = s[rows], done[rows] | (tok.view(-1) == END) | (tok.view(-1) == PAD)
        hist = torch.cat([hist.gather(1, parent.unsqueeze(-1).expand(-1, -1, hist.shape[2])),
                          tok.unsqueeze(-1)], -1)
        y = tok.view(-1)
        if bool(done.all()):
            break
    out = torch.full((B, steps), PAD, dtype=torch.long, device=dev)
    out[:, :hist.shape[2]] = hist[torch.arange(B, device=dev), score.argmax(-1)]
    return out


def decode_ids(model: Seq2Seq, src: torch.Tensor, src_len: torch.Tensor, steps: int, method: str,
               width: int) -> torch.Tensor:
    """ids [B, steps] by ``method`` ("greedy" or "beam")."""
    if method == "beam":
        return beam(model, src, src_len, steps, width)
    return greedy(model, src, src_len, steps)[0]


def exact_match(ids: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Per row: the output equals the answer up to and including its END. ids, tgt: [B, ·] -> [B] bool."""
    T = max(ids.shape[1], tgt.shape[1])
    a = torch.nn.functional.pad(ids, (0, T - ids.shape[1]), value=PAD)
    b = torch.nn.functional.pad(tgt, (0, T - tgt.shape[1]), value=PAD)
    # everything after the first END counts as PAD
    a = a.masked_fill(torch.cumsum(a == END, 1) - (a == END).long() > 0, PAD)
    return (a == b).all(1)
