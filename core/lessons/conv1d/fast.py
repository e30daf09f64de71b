"""The same three convolutional models, computed the cheap way for training (no Streamlit).

The nn.Modules in ``model.py`` stay the lesson's definition (the page draws their activations and
the take-home script uses them); the functions here compute exactly their logits from the same
weights with less work, and the trainer calls them. Two changes, neither changes the maths:

1. **Only what the loss sees (the dilated stack).** The stack's logits read the top layer at the
   last step t = T − 1 only. That output reads layer L − 1 at T − 1 and T − 1 − d_L, …, so layer l
   (dilation d = 2^(l−1)) is needed only at the steps t ≡ T − 1 (mod 2d). WaveNet's fast
   generation (Paine et al., 2016) uses the same observation. At T = 64 and six layers that is
   32 + 16 + 8 + 4 + 2 + 1 = 63 outputs instead of 6 × 64 = 384. Outputs that cannot reach the
   loss get a gradient of exactly zero in the full model, so the gradients are the same.
2. **A convolution as one matrix product, channels last.** With h [B, T, C], a convolution of
   kernel k is ``linear(taps, W')`` with taps[b, t, c·k + j] = h[b, t + j, c] and W'[o, c·k + j] = W[o, c, j]:
   one GEMM, no layout changes, where torch's convolution (oneDNN) has a fixed cost per call that
   dominates at these sizes (measured: the dilated stack 2.7 → 1.2 ms a step, the Conv1D 1.26 →
   1.03 ms; benchmarks/bench_conv1d.py).

Max pooling then ReLU equals ReLU then max pooling (ReLU is monotonic), so ReLU runs on half the
values. Every function returns the module's own logits (tests/lessons/conv1d/test_fast.py checks
values and gradients against the modules to 1e-6).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.lessons.conv1d.model import ConvLSTMNet, ConvPoolNet, WaveNetStack


def conv_as_linear(h: torch.Tensor, conv: nn.Conv1d, stride: int = 1) -> torch.Tensor:
    """A valid (unpadded, dilation 1) Conv1d on channels-last input: h [B, L, C_in] ->
    [B, L_out, C_out], L_out = ⌊(L − k) / stride⌋ + 1.

    y[b, t, o] = bias[o] + Σ_j Σ_c W[o, c, j] · h[b, stride·t + j, c]
    """
    w = conv.weight                                           # [C_out, C_in, k]
    B, _, C = h.shape
    k = w.shape[-1]
    # taps[b, t, c·k + j] = h[b, stride·t + j, c]: a view of h, then one copy
    taps = h.unfold(1, k, stride)                             # [B, L_out, C_in, k]
    return F.linear(taps.reshape(B, taps.shape[1], C * k), w.reshape(w.shape[0], C * k), conv.bias)


def pool2_relu(a: torch.Tensor) -> torch.Tensor:
    """ReLU(MaxPool1d(2)) over time on channels-last a [B, L, C] -> [B, ⌊L/2⌋, C]
    (= MaxPool1d(2)(ReLU(a)); the odd last step is dropped, as torch's pooling does).

    p[b, t, c] = max(0, a[b, 2t, c], a[b, 2t + 1, c])
    """
    # torch's pooling over the transposed view: its backward routes the gradient through saved
    # indices, 3× cheaper than torch.maximum's (measured 79 vs 237 µs at [32, 60, 16])
    return F.relu(F.max_pool1d(a.transpose(1, 2), 2)).transpose(1, 2)


def wavenet_logits(net: WaveNetStack, x: torch.Tensor) -> torch.Tensor:
    """``net(x)`` computing only the outputs the last step reads: x [B, T] -> logits [B, n_classes].

    Layer l with dilation d reads its input at t ≡ T − 1 (mod d), held densely as h [B, L, C] (one
    step of h = d steps of time), and writes t ≡ T − 1 (mod 2d): every second entry of h, ending at
    the last. Its taps t, t − d, …, t − (k − 1)d are consecutive entries of h, with zeros before the
    start (causal padding):

        a_t = ReLU(b + Σ_j W[:, :, k − 1 − j] · h_{t − j·d}),   h ← h_t + a_t (residual, l > 1)
    """
    h = x.unsqueeze(-1)                                       # [B, T, 1]: d = 1, every step
    for i, cc in enumerate(net.convs):
        k = cc.conv.kernel_size[0]
        start = (h.shape[1] - 1) % 2                          # the entries ≡ T − 1 (mod 2d)
        hp = F.pad(h, (0, 0, k - 1 - start, 0))               # zeros before the first step
        a = F.relu(conv_as_linear(hp, cc.conv, stride=2))     # [B, ⌈(L − start)/2⌉, C]
        h = h[:, start::2] + a if net.residual and i > 0 else a
    return net.head(h[:, -1])


def convpool_logits(net: ConvPoolNet, x: torch.Tensor) -> torch.Tensor:
    """``net(x)``: [valid conv → ReLU → max-pool 2] × L → mean over time → Linear.
    x [B, T] -> logits [B, n_classes]."""
    h = x.unsqueeze(-1)                                       # [B, T, 1]
    for conv in net.convs:
        h = pool2_relu(conv_as_linear(h, conv))
    return net.head(h.mean(1))


def convlstm_logits(net: ConvLSTMNet, x: torch.Tensor) -> torch.Tensor:
    """``net(x)``: conv with "same" padding (the extra zero on the right) → ReLU → pool 2 → LSTM
    → last hidden state → Linear. Channels last is already the LSTM's batch_first layout.
    x [B, T] -> logits [B, n_classes]."""
    k = net.conv.kernel_size[0]
    left = (k - 1) // 2
    h = F.pad(x.unsqueeze(-1), (0, 0, left, k - 1 - left))    # [B, T + k − 1, 1]
    h = pool2_relu(conv_as_linear(h, net.conv))               # [B, T/2, C]
    _, (hn, _) = net.lstm(h)
    return net.head(hn[-1])


def logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The fast path of any of the four models (the LSTM is torch's own: one oneDNN call)."""
    if isinstance(net, WaveNetStack):
        return wavenet_logits(net, x)
    if isinstance(net, ConvPoolNet):
        return convpool_logits(net, x)
    if isinstance(net, ConvLSTMNet):
        return convlstm_logits(net, x)
    return net(x)
