"""The forecasters: an MLP on the window, or a recurrent net (RNN / LSTM / GRU) with a linear head.

The LSTM cell itself is torch's ``nn.LSTM``; the cell written out step by step (gates, cell
state, BPTT) is lesson "lstm"'s ``core/lessons/lstm/cells.py``.

``Forecaster`` is the plain module, the app's and the exported script's (core.export.sources).
The fast path (``mse_grads``, beside the class so that the script need not carry it): the
default model, one LSTM layer reading the window as one time step from a zero state, is a
handful of tensor operations, so a training step costs what
autograd's and nn.LSTM's per-call bookkeeping costs, not arithmetic. For that case the loss and its
gradient are written out by hand (the same kernels autograd calls) and put in each parameter's
``.grad``; any ``torch.optim`` optimiser then steps as usual. Checked against autograd to 1e-10 in
float64 (tests/lessons/forecast/test_fast_path.py). Every other model trains through autograd.
"""
from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import nn

aten = torch.ops.aten


class Forecaster(nn.Module):
    """The MLP baseline or a recurrent net, with a linear head giving the next value.

    forward(x: [B, T, F], state) → (ŷ: [B, 1], new state). The MLP flattens x to [B, T·F];
    the recurrent nets read the T steps and the head reads the last step's output.
    """

    def __init__(self, kind: str, n_features: int, n_steps: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.kind = kind
        if kind == "mlp":
            mods: list[nn.Module] = []
            d = n_features * n_steps
            for _ in range(layers):
                mods += [nn.Linear(d, hidden), nn.ReLU()]
                if dropout > 0:
                    mods.append(nn.Dropout(dropout))
                d = hidden
            self.body = nn.Sequential(*mods)
        else:
            cell = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
            # nn's dropout acts between stacked layers; the Dropout below also covers one layer
            self.rnn = cell(n_features, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
            self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        if self.kind == "mlp":
            return self.head(self.body(x.flatten(1))), None
        out, state = self.rnn(x, state)                   # out: [B, T, H]
        return self.head(self.drop(out[:, -1])), state

    def forward_sequence(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Recurrent only: one output per step. x: [1, S, F] → ŷ: [S], final state."""
        out, state = self.rnn(x, state)                   # [1, S, H]
        return self.head(self.drop(out[0]))[:, 0], state


def fast_path(model: Forecaster, n_steps: int) -> bool:
    """Whether ``mse_grads`` applies: one LSTM layer, no dropout, one time step per window."""
    return model.kind == "lstm" and model.rnn.num_layers == 1 and isinstance(model.drop, nn.Identity) \
        and n_steps == 1


@torch.no_grad()
def mse_grads(model: Forecaster, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MSE of ŷ = model(x) against y and its gradient, by hand, from a zero state (``fast_path``):
    the plain module's own weights, trained without autograd's bookkeeping.

    x: [B, 1, F], y: [B, 1]. Sets every parameter's ``.grad``; returns the loss (a 0-d tensor).
    Gates in torch's order i, f, g, o; with h₀ = c₀ = 0:
      a = x W_ihᵀ + b_ih + b_hh,  i, f, o = σ(a_i, a_f, a_o),  g = tanh(a_g)
      c = f⊙c₀ + i⊙g = i⊙g,  h = o⊙tanh(c),  ŷ = h wᵀ + b,  L = (1/B) Σ (ŷ − y)²
    """
    W_ih, W_hh, b_ih, b_hh = (model.rnn.weight_ih_l0, model.rnn.weight_hh_l0, model.rnn.bias_ih_l0,
                              model.rnn.bias_hh_l0)
    w, b = model.head.weight, model.head.bias
    H = W_hh.shape[1]
    x = x[:, 0]                                                     # [B, F]
    a = torch.addmm(b_ih + b_hh, x, W_ih.t())                       # [B, 4H]
    s = torch.sigmoid(a)                                            # i, (f), (g), o used
    i, o = s[:, :H], s[:, 3 * H:]
    g = torch.tanh(a[:, 2 * H:3 * H])
    tc = torch.tanh(i * g)
    h = o * tc
    err = torch.addmm(b, h, w.t()) - y                              # ŷ − y: [B, 1]
    loss = torch.mean(err * err)
    d_y = err * (2.0 / err.numel())                                 # ∂L/∂ŷ
    w.grad, b.grad = torch.mm(d_y.t(), h), d_y.sum(0)               # ∂L/∂w = δŷᵀ h;  ∂L/∂b = Σ δŷ
    d_h = torch.mm(d_y, w)                                          # δh = δŷ w
    d_c = aten.tanh_backward(d_h * o, tc)                           # δc = δh ⊙ o ⊙ (1 − tanh²c)
    d_a = torch.cat([aten.sigmoid_backward(d_c * g, i),             # δa_i = δc ⊙ g ⊙ i(1 − i)
                     torch.zeros_like(g),                           # δa_f = δc ⊙ c₀ ⊙ … = 0
                     aten.tanh_backward(d_c * i, g),                # δa_g = δc ⊙ i ⊙ (1 − g²)
                     aten.sigmoid_backward(d_h * tc, o)], 1)        # δa_o = δh ⊙ tanh(c) ⊙ o(1 − o)
    W_ih.grad = torch.mm(d_a.t(), x)                                # ∂L/∂W_ih = δaᵀ x
    b_ih.grad = d_a.sum(0)
    b_hh.grad = b_ih.grad.clone()                                   # both biases enter a alike
    W_hh.grad = torch.zeros_like(W_hh)                              # h₀ = 0: W_hh has no effect
    return loss


def detach_state(state: Any) -> Any:
    """Keep the values, cut the graph (truncated back-propagation through time)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam, RMSprop, or SGD with momentum 0.9."""
    params = list(params)
    if name == "adam":
        try:        # one fused kernel for all parameters: a tenth of the step's time on this small net
            return torch.optim.Adam(params, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"unknown optimiser {name!r}")
