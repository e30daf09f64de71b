"""The four sequence classifiers, all reading x [B, T] and returning logits [B, C]:

* ``lstm``  — LSTM(1 → H); the last hidden state → Linear;
* ``conv``  — [Conv1d(k, no padding) → ReLU → MaxPool1d(2)] × L → mean over time → Linear
  (seed 004: "no concept of sequence order outside the convolution window");
* ``convlstm`` — Conv1d(k, padding "same") → ReLU → MaxPool1d(2) → LSTM → Linear (seed 000,
  activity 3: a Conv1D front end before the LSTM);
* ``wavenet`` — causal Conv1d with dilations 1, 2, 4, … (WaveNet's stack, seed 002), ReLU,
  optional residual connections h ← h + ReLU(conv(h)); the last time step's features → Linear.

Each model also describes its convolution stack as ``LayerSpec``s, from which the receptive field
is computed (core.lessons.conv1d.fields) and checked against autograd in the tests.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.charts import PALETTE

MODELS = {"lstm": "LSTM", "conv": "Conv1D + pooling", "convlstm": "Conv1D → LSTM", "wavenet": "Dilated causal stack"}
COLORS = dict(zip(("lstm", "conv", "convlstm", "wavenet"), PALETTE))     # core.charts: CVD-safe (issue 36)


@dataclass(frozen=True)
class LayerSpec:
    """One layer along time: kernel k, stride s, dilation d, zeros added on the left and right."""

    name: str
    kernel: int
    stride: int = 1
    dilation: int = 1
    pad_left: int = 0
    pad_right: int = 0


def conv_specs(kernel: int, layers: int) -> list[LayerSpec]:
    """Conv1D + pooling: [conv k (no padding), max-pool 2] × layers."""
    out = []
    for i in range(layers):
        out += [LayerSpec(f"conv {i + 1}", kernel), LayerSpec(f"pool {i + 1}", 2, stride=2)]
    return out


def convlstm_specs(kernel: int) -> list[LayerSpec]:
    """The Conv1D front end: conv k with torch's "same" padding (an extra zero goes right), pool 2."""
    left = (kernel - 1) // 2
    return [LayerSpec("conv", kernel, pad_left=left, pad_right=kernel - 1 - left), LayerSpec("pool", 2, stride=2)]


def dilations(layers: int) -> list[int]:
    """WaveNet's doubling dilations: 1, 2, 4, …, 2^(layers − 1)."""
    return [2 ** i for i in range(layers)]


def wavenet_specs(kernel: int, layers: int) -> list[LayerSpec]:
    """The dilated causal stack: kernel k, dilation 2^i, (k − 1)·d zeros on the left only."""
    return [LayerSpec(f"dilation {d}", kernel, dilation=d, pad_left=(kernel - 1) * d) for d in dilations(layers)]


def specs_for(name: str, cfg) -> list[LayerSpec]:
    """The convolution stack of model ``name`` under config ``cfg`` (no weights needed)."""
    if name == "conv":
        return conv_specs(int(cfg.conv_kernel), int(cfg.conv_layers))
    if name == "convlstm":
        return convlstm_specs(int(cfg.conv_kernel))
    if name == "wavenet":
        return wavenet_specs(int(cfg.wave_kernel), int(cfg.wave_layers))
    return []


class CausalConv1d(nn.Module):
    """Conv1d whose output at t sees inputs t − d(k − 1) … t only: (k − 1)·d zeros on the left.

    x [B, C_in, T] -> [B, C_out, T]."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.pad, 0)))


def unit_forget_bias(lstm: nn.LSTM) -> nn.LSTM:
    """Forget-gate bias 1 at the start, as Keras' LSTM does by default (``unit_forget_bias``):
    the cell keeps its content until it learns to forget. With torch's default (about 0) the LSTM
    stayed at chance on the long-range task for 1,500 steps; with 1 it was at 98 % after 250."""
    H = lstm.hidden_size
    with torch.no_grad():
        # torch adds two biases, b_ih + b_hh; the forget gate is the second block of H
        lstm.bias_ih_l0[H:2 * H].fill_(0.0)
        lstm.bias_hh_l0[H:2 * H].fill_(1.0)
    return lstm


class LSTMNet(nn.Module):
    def __init__(self, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.lstm = unit_forget_bias(nn.LSTM(1, hidden, batch_first=True))
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x.unsqueeze(-1))          # h [1, B, H]
        return self.head(h[-1])

    def specs(self) -> list[LayerSpec]:
        return []


class ConvPoolNet(nn.Module):
    def __init__(self, channels: int, kernel: int, layers: int, n_classes: int) -> None:
        super().__init__()
        self.kernel, self.layers = kernel, layers
        self.convs = nn.ModuleList(nn.Conv1d(1 if i == 0 else channels, channels, kernel) for i in range(layers))
        self.head = nn.Linear(channels, n_classes)

    def features(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """Activations after conv layer ``upto`` (ReLU, before its pooling); all layers when None.
        x [B, T] -> [B, C, T_l]."""
        h = x.unsqueeze(1)
        for i, conv in enumerate(self.convs):
            h = F.relu(conv(h))
            if upto is not None and i == upto:
                return h
            h = F.max_pool1d(h, 2)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(-1))

    def specs(self) -> list[LayerSpec]:
        return conv_specs(self.kernel, self.layers)


class ConvLSTMNet(nn.Module):
    def __init__(self, channels: int, kernel: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.kernel = kernel
        self.conv = nn.Conv1d(1, channels, kernel, padding="same")
        self.lstm = unit_forget_bias(nn.LSTM(channels, hidden, batch_first=True))
        self.head = nn.Linear(hidden, n_classes)

    def features(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """The convolution's ReLU activations: x [B, T] -> [B, C, T]."""
        return F.relu(self.conv(x.unsqueeze(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.max_pool1d(self.features(x), 2)                # [B, C, T/2]
        _, (hn, _) = self.lstm(h.transpose(1, 2))
        return self.head(hn[-1])

    def specs(self) -> list[LayerSpec]:
        return convlstm_specs(self.kernel)


class WaveNetStack(nn.Module):
    def __init__(self, channels: int, kernel: int, layers: int, residual: bool, n_classes: int) -> None:
        super().__init__()
        self.kernel, self.residual = kernel, residual
        self.convs = nn.ModuleList(CausalConv1d(1 if i == 0 else channels, channels, kernel, d)
                                   for i, d in enumerate(dilations(layers)))
        self.head = nn.Linear(channels, n_classes)

    def features(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """Activations after layer ``upto`` (all when None): x [B, T] -> [B, C, T]."""
        h = x.unsqueeze(1)
        for i, conv in enumerate(self.convs):
            a = F.relu(conv(h))
            # residual: h ← h + ReLU(conv(h)) (not on the first layer, whose input has one channel)
            h = h + a if self.residual and i > 0 else a
            if upto is not None and i == upto:
                return h
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)[:, :, -1])           # the last step sees the whole field

    def specs(self) -> list[LayerSpec]:
        return wavenet_specs(self.kernel, len(self.convs))


def build_model(name: str, cfg, n_classes: int) -> nn.Module:
    """One of MODELS from the config's sizes (``cfg``: a Conv1dConfig)."""
    if name == "lstm":
        return LSTMNet(int(cfg.hidden), n_classes)
    if name == "conv":
        return ConvPoolNet(int(cfg.channels), int(cfg.conv_kernel), int(cfg.conv_layers), n_classes)
    if name == "convlstm":
        return ConvLSTMNet(int(cfg.channels), int(cfg.conv_kernel), int(cfg.hidden), n_classes)
    if name == "wavenet":
        return WaveNetStack(int(cfg.channels), int(cfg.wave_kernel), int(cfg.wave_layers), bool(cfg.residual), n_classes)
    raise ValueError(f"unknown model {name!r}")
