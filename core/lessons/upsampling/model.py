"""The four decoders: a code -> a 4×4 map of channels -> ×2 upsampling layers -> an image, built
with transposed convolutions (k=3 or k=4, stride 2) or with nearest / bilinear resizing followed
by an ordinary 3×3 convolution. No Streamlit.

Shapes: code [B, CODE_DIM]; image [B, 1, R, R].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.lessons.upsampling.data import CODE_DIM
from core.lessons.upsampling.grids import UpsamplingError

VARIANTS: dict[str, str] = {
    "tconv3": "transposed conv k=3, s=2",
    "tconv4": "transposed conv k=4, s=2",
    "nearest": "nearest resize + conv 3×3",
    "bilinear": "bilinear resize + conv 3×3",
}
# Short names, for captions and legends that must fit a fifth of a projector's width.
SHORT: dict[str, str] = {
    "tconv3": "tconv k=3",
    "tconv4": "tconv k=4",
    "nearest": "nearest + conv",
    "bilinear": "bilinear + conv",
}
BASE = 4                            # the decoders start from a BASE × BASE feature map
RESOLUTIONS = {16: 2, 32: 3}        # resolution -> number of ×2 upsampling layers from 4×4


class Decoder(nn.Module):
    """code [B, CODE_DIM] -> Linear -> [B, C, 4, 4] -> n_up × (upsample ×2 + conv) -> [B, 1, R, R].

    'tconv3': ConvTranspose2d(k=3, s=2, p=1, output_padding=1): out = (n−1)·2 − 2 + 2 + 1 + 1 = 2n.
    'tconv4': ConvTranspose2d(k=4, s=2, p=1):                     out = (n−1)·2 − 2 + 3 + 0 + 1 = 2n.
    'nearest' / 'bilinear': Upsample(×2) then Conv2d(k=3, p=1) (size kept).
    The last block maps to 1 channel and has no activation (a linear output, trained with MSE).
    """

    def __init__(self, variant: str, channels: int, n_up: int) -> None:
        super().__init__()
        self.variant = variant
        self.channels = channels
        self.fc = nn.Linear(CODE_DIM, channels * BASE * BASE)
        blocks = []
        for i in range(n_up):
            c_out = 1 if i == n_up - 1 else channels
            if variant == "tconv3":
                blocks.append(nn.ConvTranspose2d(channels, c_out, 3, stride=2, padding=1, output_padding=1))
            elif variant == "tconv4":
                blocks.append(nn.ConvTranspose2d(channels, c_out, 4, stride=2, padding=1))
            elif variant in ("nearest", "bilinear"):
                blocks.append(nn.Conv2d(channels, c_out, 3, padding=1))
            else:
                raise UpsamplingError(f"unknown decoder {variant!r}")
        self.blocks = nn.ModuleList(blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc(z)).view(z.shape[0], self.channels, BASE, BASE)
        for i, block in enumerate(self.blocks):
            if self.variant == "nearest":
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            elif self.variant == "bilinear":
                h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
            h = block(h)
            if i < len(self.blocks) - 1:
                h = F.relu(h)
        return h


def adam(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam; the fused kernel when this torch has it (3× faster per step on these tiny models)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(model.parameters(), lr=lr)
