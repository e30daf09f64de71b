"""The forecasters: an MLP on the window, or a recurrent net (RNN / LSTM / GRU) with a linear head.

The LSTM cell itself is torch's ``nn.LSTM``; the cell written out step by step (gates, cell
state, BPTT) is lesson "lstm"'s ``core/lessons/lstm/cells.py``.
"""
from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import nn


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


def detach_state(state: Any) -> Any:
    """Keep the values, cut the graph (truncated back-propagation through time)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam, RMSprop, or SGD with momentum 0.9."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"unknown optimiser {name!r}")
