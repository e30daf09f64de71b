"""The character-level language model: one-hot characters -> stacked LSTM / GRU / RNN -> logits.

``nn.LSTM(V, H, layers, dropout)`` (or GRU, RNN) on one-hot inputs, dropout, then
``nn.Linear(H, V)``: Chollet's model (seed 004) with a prediction at every position, as in
Karpathy's char-rnn. Training runs the fused torch module (``CharRNN``, the plain module the
take-home script carries too); ``CharModel.explicit`` runs the same weights
through ``cells.py`` step by step (no gradients) to read the cell state at every position and
to sample one character at a time. There the first layer's one-hot x times W_ihᵀ is a column
lookup of W_ih.

Shapes: characters x: [T, B] (time-major, int64); logits: [T, B, V]; a state: per layer a tuple
(h [B, H], c [B, H]) for an LSTM, (h,) otherwise.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.fastnet import FastDropout
from core.lessons.charrnn import cells

State = list[tuple[torch.Tensor, ...]]
MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class CharRNN(nn.Module):
    """The plain module, the app's and the exported script's (core.export.sources)."""

    def __init__(self, vocab: int, cell: str, hidden: int, layers: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab, self.cell, self.hidden, self.layers = vocab, cell, hidden, layers
        # torch's module applies dropout between stacked layers only; ``drop`` adds it before the output
        self.rnn = MODULES[cell](vocab, hidden, layers, dropout=dropout if layers > 1 else 0.0)
        self.drop = FastDropout(dropout)     # nn.Dropout's maths, its mask drawn faster (core.fastnet)
        self.out = nn.Linear(hidden, vocab)

    def set_dropout(self, p: float) -> None:
        """A live change: the torch module reads ``dropout`` at every call."""
        self.rnn.dropout = float(p) if self.layers > 1 else 0.0
        self.drop.p = float(p)

    def zero_state(self, batch: int) -> State:
        z = self.out.weight.new_zeros(batch, self.hidden)
        return [(z, z.clone()) if self.cell == "lstm" else (z,) for _ in range(self.layers)]

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Training: x [T, B] -> (logits [T, B, V], final state) through the fused module."""
        state = state if state is not None else self.zero_state(x.shape[1])
        hx: object = tuple(torch.stack(s) for s in zip(*state))      # ([L, B, H], [L, B, H])
        y, hn = self.rnn(F.one_hot(x, self.vocab).to(self.out.weight.dtype), hx if self.cell == "lstm" else hx[0])
        hn = hn if isinstance(hn, tuple) else (hn,)
        return self.out(self.drop(y)), [tuple(part[l] for part in hn) for l in range(self.layers)]



class CharModel(CharRNN):
    """The app's model: ``CharRNN`` (its weights, its training forward) plus the explicit path,
    the same weights run step by step through ``cells.py`` (no gradients) for the cell states
    the page colours the text by and for sampling one character at a time."""

    def weights(self, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W_ih, W_hh, the bias added to x W_ihᵀ, b_hh) of one layer."""
        r = self.rnn
        w_ih, w_hh = getattr(r, f"weight_ih_l{layer}"), getattr(r, f"weight_hh_l{layer}")
        b_ih, b_hh = getattr(r, f"bias_ih_l{layer}"), getattr(r, f"bias_hh_l{layer}")
        # the GRU keeps b_hn inside r ⊙ (·), so its b_hh stays in the recurrence
        return w_ih, w_hh, (b_ih if self.cell == "gru" else b_ih + b_hh), b_hh

    @torch.no_grad()
    def explicit(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State, torch.Tensor]:
        """x [T, B] -> (logits [T, B, V], final state, the top layer's c (LSTM) or h [T, B, H])."""
        state = state if state is not None else self.zero_state(x.shape[1])
        new: State = []
        inp, shown = x, None
        for l in range(self.layers):
            w_ih, w_hh, bias, b_hh = self.weights(l)
            # onehot(x) W_ihᵀ is column x of W_ih: a lookup, [T, B, kH]
            xp = F.embedding(inp, w_ih.t()) + bias if l == 0 else F.linear(inp, w_ih, bias)
            inp, shown, last = cells.run_layer(self.cell, xp, w_hh, b_hh, state[l])
            new.append(last)
        return self.out(inp), new, shown

    @torch.no_grad()
    def step_weights(self) -> list[tuple[torch.Tensor, ...]]:
        """Per layer (W_ihᵀ, W_hhᵀ, bias, b_hh) laid out for one-row-at-a-time steps, plus the
        output layer's (Wᵀ, b): computed once per generation, not once per character."""
        out = []
        for l in range(self.layers):
            w_ih, w_hh, bias, b_hh = self.weights(l)
            out.append((w_ih.t().contiguous(), w_hh.t().contiguous(), bias, b_hh))
        out.append((self.out.weight.t().contiguous(), self.out.bias))
        return out

    @torch.no_grad()
    def step(self, x: torch.Tensor, state: State, W: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, State, torch.Tensor]:
        """One character per row: x [B] -> (logits [B, V], new state, top c or h [B, H]);
        W from ``step_weights``."""
        new: State = []
        inp: torch.Tensor = x
        shown = inp
        for l in range(self.layers):
            w_ih_t, w_hh_t, bias, b_hh = W[l]
            # layer 0: row x of W_ihᵀ (the one-hot lookup); above: h W_ihᵀ
            xp = (w_ih_t[inp] + bias) if l == 0 else torch.addmm(bias, inp, w_ih_t)
            s, shown = cells.step(self.cell, xp, state[l], w_hh_t, b_hh)
            new.append(s)
            inp = s[0]
        w_out_t, b_out = W[-1]
        return torch.addmm(b_out, inp, w_out_t), new, shown


def detach(state: State) -> State:
    """Truncated BPTT: the state carries on, its gradient path stops here."""
    return [tuple(s.detach() for s in layer) for layer in state]
