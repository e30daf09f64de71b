"""The encoder–decoder, with or without attention (seed 001).

Encoder: a GRU reads the input characters, h_j = GRU(emb(x_j), h_{j−1}); its last state h_S is
the decoder's first state s_0. Without attention that one vector is all the decoder ever sees of
the input (the bottleneck). With attention every output step t reads all h_j:

    e_{t,j} = score(s, h_j)                        additive: v·tanh(W_s s_{t−1} + W_h h_j)  (Bahdanau)
                                                   dot:      s_t · h_j                     (Luong)
    α_{t,j} = exp(e_{t,j}) / Σ_k exp(e_{t,k})      (softmax over the input positions j)
    c_t     = Σ_j α_{t,j} h_j                      (the context vector)

Bahdanau's decoder uses c_t (from s_{t−1}) as an extra GRU input; Luong's computes it from the
new state s_t. Both read out through õ_t = tanh(W_c [c_t; s_t]), logits = W_o õ_t; the plain
model reads out logits = W_o s_t.

Shapes: src [B, S] token ids, src_len [B]; enc [B, S, H]; s [B, H]; logits [B, V] per step or
[B, T, V] for a whole teacher-forced sequence; alpha [B, S] or [B, T, S].
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.lessons.seq2seq.data import PAD, V

ATTENTIONS = ("additive", "dot")


@dataclass
class Encoded:
    """The encoder's output for one batch, with what every decoder step reuses."""

    enc: torch.Tensor       # [B, S, H] the states h_j
    keys: torch.Tensor      # [B, S, H] W_h h_j (additive) or h_j (dot): computed once, not per step
    mask: torch.Tensor      # [B, S] True at real characters, False at padding
    last: torch.Tensor      # [B, H] h at each input's own last character (s_0)

    def repeat(self, k: int) -> "Encoded":
        """Each row repeated k times (beam search): [B·k, …]."""
        return Encoded(*(x.repeat_interleave(k, 0) for x in (self.enc, self.keys, self.mask, self.last)))


class Seq2Seq(nn.Module):
    """A GRU encoder–decoder; ``attention`` None (the bottleneck), "additive" or "dot"."""

    def __init__(self, embed: int, hidden: int, attention: str | None) -> None:
        super().__init__()
        self.attention = attention
        self.src_emb = nn.Embedding(V, embed, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(V, embed)
        self.encoder = nn.GRU(embed, hidden, batch_first=True)
        self.decoder = nn.GRU(embed + (hidden if attention == "additive" else 0), hidden, batch_first=True)
        if attention == "additive":
            self.W_s = nn.Linear(hidden, hidden, bias=False)
            self.W_h = nn.Linear(hidden, hidden)
            self.v = nn.Linear(hidden, 1, bias=False)
        if attention:
            self.combine = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, V)

    # ------------------------------------------------------------------ encoder
    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> Encoded:
        """src: [B, S], src_len: [B] (each ≥ 1)."""
        enc, _ = self.encoder(self.src_emb(src))                            # [B, S, H]
        return self.encoded(enc, src, src_len)

    def encoded(self, enc: torch.Tensor, src: torch.Tensor, src_len: torch.Tensor) -> Encoded:
        """What the decoder reuses, from the encoder states enc: [B, S, H]."""
        # a GRU's output at step j is its state after character j: take each input's own last one
        last = enc[torch.arange(src.shape[0], device=src.device), src_len - 1]   # [B, H]
        keys = self.W_h(enc) if self.attention == "additive" else enc
        return Encoded(enc, keys, src != PAD, last)

    # ------------------------------------------------------------------ attention
    def scores(self, s: torch.Tensor, e: Encoded) -> torch.Tensor:
        """e_{t,j} for queries s: [B, H] -> [B, S] (padding at −inf)."""
        if self.attention == "additive":
            # e_{t,j} = v · tanh(W_s s_{t−1} + W_h h_j)
            sc = self.v(torch.tanh(self.W_s(s).unsqueeze(1) + e.keys)).squeeze(-1)
        else:
            # e_{t,j} = s_t · h_j
            sc = torch.bmm(e.keys, s.unsqueeze(-1)).squeeze(-1)
        return sc.masked_fill(~e.mask, float("-inf"))

    def attend(self, s: torch.Tensor, e: Encoded) -> tuple[torch.Tensor, torch.Tensor]:
        """(c [B, H], α [B, S]): α_{t,j} = softmax_j e_{t,j};  c_t = Σ_j α_{t,j} h_j."""
        alpha = torch.softmax(self.scores(s, e), dim=-1)
        return torch.bmm(alpha.unsqueeze(1), e.enc).squeeze(1), alpha

    def readout(self, s: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """logits = W_o s (plain) or W_o tanh(W_c [c; s]) (attention). s, c: [..., H]."""
        if c is None:
            return self.out(s)
        return self.out(torch.tanh(self.combine(torch.cat([c, s], -1))))

    def gru_step(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """One decoder GRU step (the same weights and maths as ``self.decoder`` over a sequence)."""
        d = self.decoder
        return torch._VF.gru_cell(x, s, d.weight_ih_l0, d.weight_hh_l0, d.bias_ih_l0, d.bias_hh_l0)

    # ------------------------------------------------------------------ decoder
    def step(self, y_prev: torch.Tensor, s: torch.Tensor,
             e: Encoded) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One output character: y_prev [B] ids, s [B, H] -> (logits [B, V], s_new [B, H], α [B, S] or None)."""
        x = self.tgt_emb(y_prev)
        if self.attention == "additive":
            c, alpha = self.attend(s, e)                  # from s_{t−1}, then fed to the GRU
            s_new = self.gru_step(torch.cat([x, c], -1), s)
            return self.readout(s_new, c), s_new, alpha
        s_new = self.gru_step(x, s)
        if self.attention == "dot":
            c, alpha = self.attend(s_new, e)              # from the new state s_t
            return self.readout(s_new, c), s_new, alpha
        return self.readout(s_new, None), s_new, None

    def parallel_ok(self) -> bool:
        """Whether a teacher-forced sequence can run in one call (the GRU input does not depend
        on the attention): plain and dot, not additive."""
        return self.attention != "additive"

    def teacher_forced(self, e: Encoded, tgt_in: torch.Tensor) -> torch.Tensor:
        """All T steps at once when the inputs are the true previous characters (plain and dot).
        tgt_in: [B, T] -> logits [B, T, V]. Same numbers as T calls of ``step``."""
        states, _ = self.decoder(self.tgt_emb(tgt_in), e.last.unsqueeze(0).contiguous())   # [B, T, H]
        return self.parallel_head(states, e)

    def parallel_head(self, states: torch.Tensor, e: Encoded) -> torch.Tensor:
        """Logits [B, T, V] from the decoder states s_1 … s_T [B, T, H] (plain and dot)."""
        if self.attention is None:
            return self.out(states)
        sc = torch.bmm(states, e.keys.transpose(1, 2))                                     # [B, T, S]
        alpha = torch.softmax(sc.masked_fill(~e.mask.unsqueeze(1), float("-inf")), -1)
        return self.readout(states, torch.bmm(alpha, e.enc))

    def run(self, e: Encoded, tgt_in: torch.Tensor, feed_truth: bool) -> torch.Tensor:
        """Logits [B, T, V] for T = tgt_in.shape[1] steps. feed_truth: teacher forcing (the true
        previous character goes in), else the model's own previous guess (argmax) goes in."""
        if feed_truth and self.parallel_ok():
            return self.teacher_forced(e, tgt_in)
        if feed_truth:
            return self._additive_teacher_forced(e, tgt_in)
        s, y, out = e.last, tgt_in[:, 0], []
        for t in range(tgt_in.shape[1]):
            logits, s, _ = self.step(y, s, e)
            out.append(logits)
            if t + 1 < tgt_in.shape[1]:
                y = tgt_in[:, t + 1] if feed_truth else logits.detach().argmax(-1)
        return torch.stack(out, 1)

    def _additive_teacher_forced(self, e: Encoded, tgt_in: torch.Tensor) -> torch.Tensor:
        """The additive model fed the truth: only attention and the GRU step per character; the
        embeddings before the loop and the read-out after it, each in one call."""
        x_all, s, states, ctxs = self.tgt_emb(tgt_in), e.last, [], []
        for t in range(tgt_in.shape[1]):
            c, _ = self.attend(s, e)
            s = self.gru_step(torch.cat([x_all[:, t], c], -1), s)
            states.append(s)
            ctxs.append(c)
        return self.readout(torch.stack(states, 1), torch.stack(ctxs, 1))


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
