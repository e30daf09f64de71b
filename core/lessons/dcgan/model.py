"""The DCGAN's two networks for 16×16 digits, and their conditional versions (Mirza & Osindero:
the label is given to both), with InfoGAN's code head on D. No Streamlit.

Generator (width C, latent size L; the DCGAN guidelines: no pooling, batch norm, ReLU inside,
tanh out):
    z [B, L] (‖ one-hot y [B, 10])  → linear → [B, 2C, 4, 4] → BN → ReLU
    → upsample ×2 → [B, C, 8, 8] → BN → ReLU → upsample ×2 → [B, 1, 16, 16] → tanh
Discriminator (strided convolutions instead of pooling, LeakyReLU, no BN on the input layer):
    x [B, 1, 16, 16] (‖ 10 label planes) → conv 4×4 s2 → [B, C, 8, 8] → LReLU
    → conv 4×4 s2 → [B, 2C, 4, 4] → BN → LReLU = features h [B, 2C·16]
    → conv 4×4 (valid), i.e. a linear map of h → logit [B]
InfoGAN's head Q (with a code of K values, ``code_head``): h → linear → code logits [B, K].

An "upsample ×2" is one of UPSAMPLING: a transposed convolution (k = 4, or k = 3 with output
padding 1) or a resize (nearest, bilinear) followed by a 3×3 convolution.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.digits import N_CLASSES, SIZE

UPSAMPLING: dict[str, str] = {
    "tconv4": "transposed conv k=4, s=2",
    "tconv3": "transposed conv k=3, s=2",
    "nearest": "nearest resize + conv 3×3",
    "bilinear": "bilinear resize + conv 3×3",
}
BASE = 4                  # the generator starts from a BASE × BASE map: 4 → 8 → 16


def tconv_size(n: int, k: int, s: int, p: int, op: int = 0) -> int:
    """Output size of a transposed convolution: (n − 1)·s − 2p + k + op."""
    return (n - 1) * s - 2 * p + k + op


def conv_size(n: int, k: int, s: int, p: int) -> int:
    """Output size of a convolution: ⌊(n + 2p − k)/s⌋ + 1."""
    return (n + 2 * p - k) // s + 1


class Up(nn.Module):
    """×2 upsampling block [B, c_in, n, n] -> [B, c_out, 2n, 2n] of the chosen kind."""

    def __init__(self, kind: str, c_in: int, c_out: int, bias: bool) -> None:
        super().__init__()
        if kind not in UPSAMPLING:
            raise ValueError(f"unknown upsampling {kind!r}")
        self.kind = kind
        if kind == "tconv4":        # (n−1)·2 − 2 + 4 = 2n
            self.conv = nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)
        elif kind == "tconv3":      # (n−1)·2 − 2 + 3 + 1 = 2n
            self.conv = nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1, bias=bias)
        else:                        # resize to 2n, then a size-keeping 3×3 convolution
            self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.kind == "nearest":
            h = F.interpolate(h, scale_factor=2, mode="nearest")
        elif self.kind == "bilinear":
            h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        return self.conv(h)


def _norm(channels: int, on: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if on else nn.Identity()


class Generator(nn.Module):
    """z [B, L] (and labels [B] when conditional) -> images [B, 1, 16, 16] in (−1, 1)."""

    def __init__(self, latent: int, width: int, upsampling: str, batch_norm: bool, conditional: bool) -> None:
        super().__init__()
        self.latent, self.width, self.conditional = latent, width, conditional
        n_in = latent + (N_CLASSES if conditional else 0)
        # a bias before batch norm is cancelled by its mean subtraction: none then
        self.fc = nn.Linear(n_in, 2 * width * BASE * BASE, bias=not batch_norm)
        self.bn0 = _norm(2 * width, batch_norm)
        self.up1 = Up(upsampling, 2 * width, width, bias=not batch_norm)
        self.bn1 = _norm(width, batch_norm)
        self.up2 = Up(upsampling, width, 1, bias=True)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            z = torch.cat([z, one_hot(y, z.dtype)], dim=1)
        h = self.fc(z).view(z.shape[0], 2 * self.width, BASE, BASE)
        h = F.relu(self.bn0(h))
        h = F.relu(self.bn1(self.up1(h)))
        return torch.tanh(self.up2(h))


class Discriminator(nn.Module):
    """images [B, 1, 16, 16] (and labels [B] when conditional) -> logits [B]; D(x) = σ(logit).
    The LeakyReLU slope is an attribute so it can change mid-run."""

    def __init__(self, width: int, batch_norm: bool, conditional: bool, slope: float = 0.2) -> None:
        super().__init__()
        self.width, self.conditional, self.slope = width, conditional, slope
        c_in = 1 + (N_CLASSES if conditional else 0)
        self.conv1 = nn.Conv2d(c_in, width, 4, stride=2, padding=1)                        # 16 → 8
        self.conv2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=not batch_norm)  # 8 → 4
        self.bn2 = _norm(2 * width, batch_norm)
        self.out = nn.Conv2d(2 * width, 1, BASE)                                           # 4 → 1

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, groups: int = 1) -> torch.Tensor:
        """The logits [B]; ``groups`` as in ``features``."""
        return self.logit(self.features(x, y, groups))

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None, groups: int = 1) -> torch.Tensor:
        """h [B, 2C·16], what the last layer (and Q) read. ``groups``: x holds that many equal
        batches (real digits, then fake ones) that batch norm normalises separately, exactly as if
        D were called on each in turn (the DCGAN advice: never mix real and fake digits in one
        batch-norm batch); the convolutions run once."""
        if self.conditional:
            planes = one_hot(y, x.dtype)[:, :, None, None].expand(-1, -1, SIZE, SIZE)
            x = torch.cat([x, planes], dim=1)
        h = F.leaky_relu(self.conv1(x), self.slope)
        h = self.conv2(h)
        if groups > 1 and isinstance(self.bn2, nn.BatchNorm2d):
            h = torch.cat([self.bn2(part) for part in h.chunk(groups)])
        else:
            h = self.bn2(h)
        return F.leaky_relu(h, self.slope).flatten(1)

    def logit(self, h: torch.Tensor) -> torch.Tensor:
        """features [B, 2C·16] -> logits [B]: the last 4×4 convolution over a 4×4 map is a linear
        map of the flattened map."""
        return F.linear(h, self.out.weight.flatten(1), self.out.bias).flatten()


def code_head(width: int, codes: int) -> nn.Linear:
    """InfoGAN's Q for a discriminator of width C: D's features [B, 2C·16] -> code logits [B, K],
    which of the K code values made a fake digit. Built after the DCGAN initialisation and left
    with PyTorch's own (what benchmarks/bench_dcgan.py measured)."""
    return nn.Linear(2 * width * BASE * BASE, codes)


def code_input(z: torch.Tensor, c: torch.Tensor, codes: int) -> torch.Tensor:
    """InfoGAN's generator input [z, one-hot(c)]: z [B, L], codes c [B] -> [B, L + K]. With K = 0,
    z itself."""
    return torch.cat([z, F.one_hot(c, codes).to(z.dtype)], dim=1) if codes else z


def one_hot(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """labels [B] -> [B, 10]; a float [B, 10] is passed through (mixtures between two classes)."""
    return y.to(dtype) if y.dim() == 2 else F.one_hot(y, N_CLASSES).to(dtype)


def init_weights(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: every weight from N(0, 0.02); batch norm's scale from
    N(1, 0.02) and its shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
