"""Faster CPU backward passes for the 4×4, stride-2, padding-1 convolutions of the digit lessons
(the DCGAN's discriminator and generator), as a drop-in: ``speed_up(module)`` switches the
eligible layers of a model to subclasses that compute the same numbers with other ATen kernels.
Weights, state dicts and checkpoints are untouched. No Streamlit.

Why (one CPU thread, torch 2.13, ``benchmarks/bench_dcgan.py``): oneDNN computes the gradient with
respect to a strided convolution's *input* — which is also what a transposed convolution's
forward pass computes — five times more slowly than it need be when there is **one channel on
the image side** (the discriminator's first layer, the generator's last): 0.81 ms for 64 digits,
against 0.16 ms for ATen's own ``slow_conv_transpose2d``. Only such layers are switched: with more
channels oneDNN was the fastest kernel measured (sub-pixel and space-to-depth rewrites, ATen's
kernel, a large batch cut in pieces: all slower, or no faster within a whole step). The gradient
of a transposed convolution's *input* is a plain strided convolution, which oneDNN does fast.
A DCGAN step at the defaults: 14.95 → 13.97 ms (median of 6 rounds, same process).
``tests/framework/test_fastconv.py`` checks outputs and every gradient against torch to 1e-10
(float64) and that a swapped model's state dict is the same.

Shapes: a convolution maps x [B, Ci, 2H, 2W] → [B, Co, H, W] with w [Co, Ci, 4, 4]; a transposed
one maps x [B, Ci, H, W] → [B, Co, 2H, 2W] with w [Ci, Co, 4, 4] (torch's layouts).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd import Function

aten = torch.ops.aten
STRIDE, PAD, DIL = [2, 2], [1, 1], [1, 1]


def transposed(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """conv_transpose2d(x, w, b, stride 2, padding 1): x [B, Ci, H, W], w [Ci, Co, 4, 4] →
    [B, Co, 2H, 2W]. Also the input gradient of conv2d(·, w, stride 2, padding 1) at x."""
    if w.shape[1] == 1:                                  # one output channel: ATen's kernel
        return aten.slow_conv_transpose2d(x, w, [4, 4], b, STRIDE, PAD, [0, 0], DIL)
    return F.conv_transpose2d(x, w, b, stride=2, padding=1)


class _StridedConv(Function):
    """y = conv2d(x, w, b, stride 2, padding 1);  ∂L/∂x = conv2d-transposed(∂L/∂y, w)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return F.conv2d(x, w, b, STRIDE, PAD)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = transposed(g, w) if need_x else None
        dw = db = None
        if need_w or (need_b and ctx.has_bias):
            _, dw, db = aten.convolution_backward(g, x, w, [w.shape[0]] if ctx.has_bias else None, STRIDE, PAD,
                                                  DIL, False, [0, 0], 1, [False, need_w, need_b and ctx.has_bias])
        return dx, dw, db


class _StridedTransposedConv(Function):
    """y = conv_transpose2d(x, w, b, stride 2, padding 1);  ∂L/∂x = conv2d(∂L/∂y, w, stride 2,
    padding 1);  ∂L/∂w = the weight gradient of that convolution with ∂L/∂y as its input and x as
    its output gradient (⟨y, g⟩ = ⟨x, conv2d(g, w)⟩);  ∂L/∂b = Σ_{n,h,w} ∂L/∂y."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        return transposed(x, w, b)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g = g.contiguous()
        dx = F.conv2d(g, w, None, STRIDE, PAD) if need_x else None
        dw = aten.convolution_backward(x, g, w, None, STRIDE, PAD, DIL, False, [0, 0], 1,
                                       [False, True, False])[1] if need_w else None
        db = g.sum((0, 2, 3)) if need_b and ctx.has_bias else None
        return dx, dw, db


class FastConv2d(nn.Conv2d):
    """An ``nn.Conv2d`` (4×4, stride 2, padding 1) with the backward of ``_StridedConv``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _StridedConv.apply(x, self.weight, self.bias)


class FastConvTranspose2d(nn.ConvTranspose2d):
    """An ``nn.ConvTranspose2d`` (4×4, stride 2, padding 1) computed as ``_StridedTransposedConv``."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        return _StridedTransposedConv.apply(x, self.weight, self.bias)


def _eligible(m: nn.Module) -> bool:
    """A plain 4×4 / stride 2 / padding 1 layer on the CPU with one channel on the image side."""
    if type(m) not in (nn.Conv2d, nn.ConvTranspose2d):
        return False
    single = (m.in_channels == 1) if type(m) is nn.Conv2d else (m.out_channels == 1)
    return (single and m.kernel_size == (4, 4) and m.stride == (2, 2)
            and m.padding == (1, 1) and m.dilation == (1, 1) and m.groups == 1 and m.padding_mode == "zeros"
            and tuple(m.output_padding) == (0, 0) and m.weight.device.type == "cpu")


def speed_up(module: nn.Module) -> int:
    """Switch every eligible (transposed) convolution inside ``module`` to its fast subclass, in
    place (same parameters). Returns how many were switched."""
    n = 0
    for m in module.modules():
        if _eligible(m):
            m.__class__ = FastConv2d if type(m) is nn.Conv2d else FastConvTranspose2d
            n += 1
    return n
