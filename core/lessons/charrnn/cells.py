"""LSTM, GRU and vanilla-RNN layers written out step by step (forward only, no gradients).

Training uses torch's fused modules (``nn.LSTM`` / ``GRU`` / ``RNN``: oneDNN's kernels were
measured faster on one CPU core than any hand-written loop, see docs/charrnn.md). This explicit
version serves what those modules do not return: the cell state c_t at *every* step, which the
page colours the text by (Karpathy's interpretable cells), and a lean one-character step for
sampling. tests/lessons/charrnn checks it against the torch modules to 1e-6 in float64.

Layouts are torch's, so the same weights serve both: LSTM gate blocks i, f, g, o (4H rows); GRU
blocks r, z, n (3H rows); RNN one tanh block (H rows). Shapes: xp (the input projections
x W_ihᵀ + b_ih, and b_hh too for LSTM and RNN): [T, B, kH]; w_hh: [kH, H]; b_hh: [kH];
states h, c: [B, H]; per-step outputs: [T, B, H].
"""
from __future__ import annotations

import torch

CELLS = ("lstm", "gru", "rnn")
GATES = {"lstm": 4, "gru": 3, "rnn": 1}     # k: blocks of H rows in W_ih and W_hh


def lstm_step(xp: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step. xp: [B, 4H] (biases included); w_hh_t = W_hhᵀ [H, 4H] -> (h_t, c_t), each [B, H]."""
    H = h.shape[1]
    # a = x W_ihᵀ + b + h_{t-1} W_hhᵀ ; i, f, o = σ(a_i, a_f, a_o), g = tanh(a_g)
    a = torch.addmm(xp, h, w_hh_t)
    s = a.sigmoid()
    i, f, o, g = s[:, :H], s[:, H:2 * H], s[:, 3 * H:], a[:, 2 * H:3 * H].tanh()
    # c_t = f ⊙ c_{t-1} + i ⊙ g ;  h_t = o ⊙ tanh(c_t)
    c = torch.addcmul(i * g, f, c)
    return o * torch.tanh(c), c


def gru_step(xp: torch.Tensor, h: torch.Tensor, w_hh_t: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One GRU step. xp: [B, 3H] (b_ih included); w_hh_t = W_hhᵀ [H, 3H] -> h_t [B, H]."""
    H = h.shape[1]
    gh = torch.addmm(b_hh, h, w_hh_t)
    # r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ (W_hn h + b_hn))
    rz = torch.sigmoid(xp[:, :2 * H] + gh[:, :2 * H])
    n = torch.tanh(torch.addcmul(xp[:, 2 * H:], rz[:, :H], gh[:, 2 * H:]))
    # h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
    return torch.addcmul(n, rz[:, H:], h - n)


def rnn_step(xp: torch.Tensor, h: torch.Tensor, w_hh_t: torch.Tensor) -> torch.Tensor:
    """One vanilla RNN step: h_t = tanh(xp + h_{t-1} W_hhᵀ). xp: [B, H] (both biases included)."""
    return torch.addmm(xp, h, w_hh_t).tanh_()


def step(cell: str, xp: torch.Tensor, state: tuple[torch.Tensor, ...], w_hh_t: torch.Tensor,
         b_hh: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """One step of any cell (w_hh_t = W_hhᵀ, contiguous): (new state, what the colouring shows:
    c for an LSTM, h otherwise)."""
    if cell == "lstm":
        h, c = lstm_step(xp, state[0], state[1], w_hh_t)
        return (h, c), c
    h = gru_step(xp, state[0], w_hh_t, b_hh) if cell == "gru" else rnn_step(xp, state[0], w_hh_t)
    return (h,), h


@torch.no_grad()
def run_layer(cell: str, xp: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor,
              state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
    """One layer over T steps: (h [T, B, H], shown [T, B, H] (c or h), final state)."""
    hs, shown = [], []
    w_hh_t = w_hh.t().contiguous()
    for t in range(xp.shape[0]):
        state, s = step(cell, xp[t], state, w_hh_t, b_hh)
        hs.append(state[0])
        shown.append(s)
    return torch.stack(hs), torch.stack(shown), state
