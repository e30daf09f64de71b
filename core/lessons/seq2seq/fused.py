"""Both models' GRUs in one call: what makes the trainer faster than a plain loop of the same models.

Two GRUs with states of size H₁ and H₂ are one GRU with a state of size H₁ + H₂ whose weight
matrices are block-diagonal, gate by gate: the blocks never mix, so each half of the state
follows exactly its own GRU. At these sizes a GRU step costs its number of operations, not its
arithmetic, so one merged call costs about what one of the two did. The merged weights are
assembled from the models' own parameters at every step (``torch.block_diag`` is
differentiable), so each model still owns, and gets gradients for, exactly its own weights.

Shapes: xs[i]: [B, T, E_i]; h0s[i]: [B, H_i] or None; the result: [B, T, H_i] per GRU.
"""
from __future__ import annotations

import torch
from torch import nn

from core.lessons.seq2seq.model import Encoded, Seq2Seq


def _merge(ws: list[torch.Tensor], hs: list[int]) -> torch.Tensor:
    """[3H_i, n_i] per GRU (gates r, z, n stacked) -> [3ΣH, Σn], block-diagonal gate by gate."""
    return torch.cat([torch.block_diag(*[w[g * h:(g + 1) * h] for w, h in zip(ws, hs)]) for g in range(3)])


def _merge_bias(bs: list[torch.Tensor], hs: list[int]) -> torch.Tensor:
    return torch.cat([b[g * h:(g + 1) * h] for g in range(3) for b, h in zip(bs, hs)])


def merged_gru(grus: list[nn.GRU], xs: list[torch.Tensor], h0s: list[torch.Tensor | None]) -> list[torch.Tensor]:
    """Run several one-layer batch-first GRUs on their own inputs in one call (same results)."""
    hs = [g.hidden_size for g in grus]
    params = [_merge([g.weight_ih_l0 for g in grus], hs), _merge([g.weight_hh_l0 for g in grus], hs),
              _merge_bias([g.bias_ih_l0 for g in grus], hs), _merge_bias([g.bias_hh_l0 for g in grus], hs)]
    x = torch.cat(xs, -1)
    B = x.shape[0]
    h0 = torch.cat([h if h is not None else x.new_zeros(B, n) for h, n in zip(h0s, hs)], -1).unsqueeze(0)
    out, _ = torch._VF.gru(x, h0, params, True, 1, 0.0, grus[0].training, False, True)
    return list(torch.split(out, hs, -1))


def encode_all(models: list[Seq2Seq], src: torch.Tensor, src_len: torch.Tensor) -> list[Encoded]:
    """Every model's encoder on the same batch, in one GRU call."""
    encs = merged_gru([m.encoder for m in models], [m.src_emb(src) for m in models], [None] * len(models))
    return [m.encoded(enc, src, src_len) for m, enc in zip(models, encs)]


def forward_all(models: list[Seq2Seq], src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor,
                feed_truth: bool) -> list[torch.Tensor]:
    """Logits [B, T, V] of every model. Teacher-forced decoders that need no attention inside
    the GRU (plain, dot) also run as one merged call; the others step (``Seq2Seq.run``)."""
    encs = encode_all(models, src, src_len)
    together = [i for i, m in enumerate(models) if feed_truth and m.parallel_ok()]
    out: list[torch.Tensor | None] = [None] * len(models)
    if len(together) > 1:
        ms = [models[i] for i in together]
        states = merged_gru([m.decoder for m in ms], [m.tgt_emb(tgt_in) for m in ms],
                            [encs[i].last for i in together])
        for i, m, s in zip(together, ms, states):
            out[i] = m.parallel_head(s, encs[i])
    for i, m in enumerate(models):
        if out[i] is None:
            out[i] = m.run(encs[i], tgt_in, feed_truth)
    return out  # type: ignore[return-value]
