"""The digit classifier: a small convnet that judges generated digits (shared by the DCGAN,
VAE and adversarial-example lessons). No Streamlit.

    x [B, 1, 16, 16] in [−1, 1]
    → conv 3×3 (32) → ReLU → conv 3×3 (32) → ReLU → max-pool 2   [B, 32, 8, 8]
    → conv 3×3 (64) → ReLU → max-pool 2                          [B, 64, 4, 4]
    → dropout → linear 1024 → 10                                 logits [B, 10]
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.digits.data import N_CLASSES, SIZE


class DigitClassifier(nn.Module):
    """logits [B, 10] for images [B, 1, 16, 16] in [−1, 1]."""

    def __init__(self, width: int = 32, dropout: float = 0.3) -> None:
        super().__init__()
        self.width = width
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.conv3 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * width * (SIZE // 4) ** 2, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        h = F.max_pool2d(h, 2)
        h = F.max_pool2d(F.relu(self.conv3(h)), 2)
        return self.fc(self.drop(h.flatten(1)))

    @torch.no_grad()
    def judge(self, x: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """(label [B], confidence [B]) = argmax and max of softmax(logits), in eval mode."""
        was = self.training
        self.eval()
        probs = torch.cat([F.softmax(self(x[i:i + batch]), dim=1) for i in range(0, x.shape[0], batch)])
        self.train(was)
        conf, label = probs.max(dim=1)
        return label, conf
