"""The trainer's hot path for the convnet: its forward and backward written out with the ATen
kernels that are fastest for these shapes, instead of autograd's choice. No Streamlit.

Why (one CPU thread, torch 2.13): a step trains two convnets and makes one FGSM batch, and
oneDNN's gradient with respect to the *input* of a 4×4, stride-2 convolution is its slowest part —
0.6 ms for the first layer's on 64 digits, four times that layer's weight gradient. Two changes:

* **the sub-pixel form**: an input pixel at row 2a + p (p ∈ {0, 1}) is reached only by the kernel
  rows of one parity, so the transposed convolution splits into four stride-1 3×3 convolutions,
  one per output parity (p, q), stacked as channels and interleaved by ``pixel_shuffle`` (conv₂,
  128 digits: 0.62 against 0.78 ms). For conv₁ (one input channel) ATen's own transposed
  convolution is faster still (0.15 against oneDNN's 0.60 ms for 64 digits), so it uses that;
* **no autograd graph**: the step has three backward passes of a five-layer net, and building and
  walking a graph for each costs more than several of the small ops themselves.

A trainer step went from 6.6 to 5.9 ms (fastest of 12 rounds), 1.31× → 1.53× a plain loop in an
A/B run (``benchmarks/bench_adversarial.py`` for the figures in ``docs/adversarial.md``).

``tests/lessons/adversarial/test_fast.py`` checks losses, every weight gradient and the input
gradient against ``torch.autograd`` on the ``nn.Module`` to 1e-10 (float64), and that the trainer's
FGSM equals ε·sign of autograd's input gradient.

The convnet (``models.ConvNet``): x [B, 1, 16, 16] → a₁ = relu(conv₁(x)) [B, W, 8, 8]
→ a₂ = relu(conv₂(a₁)) [B, 2W, 4, 4] → z = flat(a₂) Wₒᵀ + bₒ [B, 10]; each conv 4×4, stride 2,
padding 1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.fastconv import transposed
from core.lessons.adversarial.models import ConvNet

aten = torch.ops.aten
STRIDE, PAD, DIL = [2, 2], [1, 1], [1, 1]

# Forward: x[i] is read by output row o through kernel row k when i = 2o + k − 1. For i = 2a + p the
# kernel rows that reach it are, by offset d = o − a ∈ {−1, 0, +1} (tap e = d + 1 of a 3×3 window):
#   p = 0: d = −1 → k = 3,  d = 0 → k = 1;      p = 1: d = 0 → k = 2,  d = +1 → k = 0.
_TAP_TO_K = {(0, 0): 3, (0, 1): 1, (1, 1): 2, (1, 2): 0}      # (parity, tap) → kernel index


def _subpixel_index() -> torch.Tensor:
    """[4, 9] indices into a flattened 4×4 kernel with a zero appended at 16: row p·2 + q, column
    3·e_h + e_w holds kernel entry (k_h, k_w) for that parity and tap, or 16 (zero) where none."""
    idx = torch.full((2, 2, 3, 3), 16, dtype=torch.long)
    for (p, eh), kh in _TAP_TO_K.items():
        for (q, ew), kw in _TAP_TO_K.items():
            idx[p, q, eh, ew] = 4 * kh + kw
    return idx.view(4, 9)


_INDEX = _subpixel_index()


def subpixel_weight(w: torch.Tensor) -> torch.Tensor:
    """The 3×3 stride-1 weight Wₜ [4·Ci, Co, 3, 3] whose pixel-shuffled output is the input gradient
    of the 4×4 stride-2 padding-1 convolution with weight ``w`` [Co, Ci, 4, 4] (channel 4c + 2p + q
    is input channel c at parity (p, q), pixel_shuffle's order)."""
    co, ci = w.shape[:2]
    flat = torch.cat([w.transpose(0, 1).reshape(ci, co, 16), w.new_zeros(ci, co, 1)], dim=2)   # [Ci, Co, 17]
    return flat[:, :, _INDEX.to(w.device)].permute(0, 2, 1, 3).reshape(4 * ci, co, 3, 3)


def conv_input_grad(g: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """∂L/∂x [B, Ci, 2H, 2W] of y = conv(x, w, stride 2, padding 1) from g = ∂L/∂y [B, Co, H, W]:
    ∂L/∂x = pixel_shuffle(conv₃ₓ₃(g, Wₜ, padding 1), 2)  (the sub-pixel form above)."""
    # (Wₜ is rebuilt at every call: a cache keyed on the weight's version would go stale, because
    # torch's fused Adam updates parameters in place without bumping their version counter.)
    return F.pixel_shuffle(F.conv2d(g, subpixel_weight(w), padding=1), 2)


def ce_grad(z: torch.Tensor, y: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy J = scale · Σ_b −log softmax(z_b)[y_b] and ∂J/∂z = scale · (softmax(z) − onehot(y)).
    z [B, 10], y [B] → (J [], ∂J/∂z [B, 10])."""
    logp = torch.log_softmax(z, dim=1)
    loss = -scale * logp.gather(1, y[:, None]).sum()
    dz = logp.exp().scatter_add_(1, y[:, None], torch.full_like(logp[:, :1], -1.0))
    return loss, dz.mul_(scale)


class FastConvNet:
    """Forward and backward of a ``ConvNet`` on its own parameters (updates to them show)."""

    def __init__(self, model: ConvNet) -> None:
        conv1, _, conv2, _, _, out = model
        self.params = [conv1.weight, conv1.bias, conv2.weight, conv2.bias, out.weight, out.bias]

    @staticmethod
    def supports(model: nn.Module) -> bool:
        return isinstance(model, ConvNet)

    def grads(self, x: torch.Tensor, y: torch.Tensor, scale: float, weights: bool = True,
              inputs: bool = False) -> tuple[torch.Tensor, list[torch.Tensor] | None, torch.Tensor | None]:
        """J = scale · Σ_b CE(model(x_b), y_b) and what is asked of its gradient: (J, [∂J/∂θ] in
        ``model.parameters()`` order or None, ∂J/∂x [B, 1, 16, 16] or None). x [B, 1, 16, 16], y [B]."""
        w1, b1, w2, b2, wo, bo = self.params
        with torch.no_grad():
            # a₁ = relu(conv₁(x)),  a₂ = relu(conv₂(a₁)),  z = flat(a₂) Wₒᵀ + bₒ
            a1 = torch.relu(F.conv2d(x, w1, b1, STRIDE, PAD))
            a2 = torch.relu(F.conv2d(a1, w2, b2, STRIDE, PAD))
            flat = a2.flatten(1)
            loss, dz = ce_grad(F.linear(flat, wo, bo), y, scale)
            # ∂J/∂a₂ = (∂J/∂z Wₒ) ⊙ [a₂ > 0]
            d2 = aten.threshold_backward((dz @ wo).view_as(a2), a2, 0)
            # ∂J/∂a₁ = conv₂ᵀ(∂J/∂a₂) ⊙ [a₁ > 0], the transposed convolution in sub-pixel form
            d1 = aten.threshold_backward(conv_input_grad(d2, w2), a1, 0)
            grads = dx = None
            if weights:
                # ∂J/∂Wₒ = (∂J/∂z)ᵀ flat(a₂),  ∂J/∂bₒ = Σ_b ∂J/∂z_b; the convs' by oneDNN's weight gradient
                _, gw2, gb2 = aten.convolution_backward(d2, a1, w2, [w2.shape[0]], STRIDE, PAD, DIL, False,
                                                        [0, 0], 1, [False, True, True])
                _, gw1, gb1 = aten.convolution_backward(d1, x, w1, [w1.shape[0]], STRIDE, PAD, DIL, False,
                                                        [0, 0], 1, [False, True, True])
                grads = [gw1, gb1, gw2, gb2, dz.t() @ flat, dz.sum(0)]
            if inputs:
                # ∂J/∂x = conv₁ᵀ(∂J/∂a₁): with one input channel, ATen's own transposed convolution
                # is faster than the sub-pixel form (core.fastconv)
                dx = transposed(d1, w1)
        return loss, grads, dx
