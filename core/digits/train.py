"""Training the digit classifier, and the quality figures it gives for any batch of digits.
No Streamlit.

``train_classifier`` is what ``pretrained/digits_classifier.pt`` was made with
(``python -m core.digits``); ``judge_quality`` is the lessons' judge of generated digits.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.digits.data import N_CLASSES, load
from core.digits.model import DigitClassifier

CONFIDENT = 0.9             # a digit is "accepted" when the classifier's top probability is ≥ this


def shift_batch(x: torch.Tensor, gen: torch.Generator, max_shift: int = 1) -> torch.Tensor:
    """Each image moved by its own random whole-pixel shift in [−max_shift, max_shift]² (zero
    background = −1 comes in at the edges). x: [B, 1, H, W] -> [B, 1, H, W]."""
    B, _, H, W = x.shape
    m = max_shift
    padded = F.pad(x, (m, m, m, m), value=-1.0)
    dy = torch.randint(0, 2 * m + 1, (B,), generator=gen)
    dx = torch.randint(0, 2 * m + 1, (B,), generator=gen)
    out = torch.empty_like(x)
    for sy in range(2 * m + 1):
        for sx in range(2 * m + 1):
            sel = (dy == sy) & (dx == sx)
            if sel.any():
                out[sel] = padded[sel, :, sy:sy + H, sx:sx + W]
    return out


def garbage_batch(n: int, gen: torch.Generator, real: torch.Tensor) -> torch.Tensor:
    """n images that are no digit, in [−1, 1]: [n, 1, 16, 16]. A third uniform noise, a third
    smooth blobs (4×4 noise enlarged), a third real digits with their pixels shuffled (the same
    ink, no shape). The classifier learns to be unsure of them (outlier exposure), so a
    generator cannot pass its judge with noise: without them it read 99 % of uniform noise
    as some digit with confidence ≥ 0.9."""
    k = n // 3
    noise = torch.rand(k, 1, 16, 16, generator=gen) * 2 - 1
    small = torch.rand(k, 1, 4, 4, generator=gen) * 2 - 1
    blobs = F.interpolate(small, size=(16, 16), mode="bilinear", align_corners=False).sign()
    pick = real[torch.randint(len(real), (n - 2 * k,), generator=gen)].flatten(1)
    perm = torch.argsort(torch.rand(pick.shape, generator=gen), dim=1)
    shuffled = torch.gather(pick, 1, perm).view(-1, 1, 16, 16)
    return torch.cat([noise, blobs, shuffled])


@torch.no_grad()
def accuracy(model: DigitClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    label, _ = model.judge(x)
    return float((label == y).float().mean())


def train_classifier(seed: int = 0, epochs: int = 30, batch: int = 64, lr: float = 1e-3,
                     width: int = 32, garbage_weight: float = 0.5) -> tuple[DigitClassifier, dict[str, Any]]:
    """Adam on cross-entropy over the 4,000 training digits with ±1-pixel shifts, plus half a
    batch of non-digits (``garbage_batch``) pulled towards the uniform distribution; the learning
    rate is cosine-annealed to 0. Returns the model (eval mode) and its held-out figures."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = load("train").as_tensor()
    xh, yh = load("heldout").as_tensor()
    model = DigitClassifier(width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * (len(yt) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    t0 = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(yt) - batch + 1, batch):
            idx = order[i:i + batch]
            junk = garbage_batch(batch // 2, gen, xt)
            logits = model(torch.cat([shift_batch(xt[idx], gen), junk]))
            # L = −(1/B) Σ log softmax(f(x))_y  +  w · (1/B′) Σ_junk −(1/10) Σ_c log softmax(f(x))_c
            loss = (F.cross_entropy(logits[:batch], yt[idx])
                    - garbage_weight * F.log_softmax(logits[batch:], dim=1).mean())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    metrics = {"heldout_accuracy": round(accuracy(model, xh, yh), 4),
               "train_accuracy": round(accuracy(model, xt, yt), 4),
               **{f"heldout_{k}": round(v, 4) for k, v in judge_quality(model, xh).items() if k != "counts"},
               "noise_accepted": round(judge_quality(model, torch.rand(1000, 1, 16, 16, generator=gen) * 2 - 1)["accepted"], 4),
               "epochs": epochs, "seconds": round(time.perf_counter() - t0, 1)}
    return model, metrics


@torch.no_grad()
def judge_quality(model: DigitClassifier, x: torch.Tensor, threshold: float = CONFIDENT) -> dict[str, Any]:
    """What the classifier says about a batch of digits x: [B, 1, 16, 16] in [−1, 1].

    accepted: the share labelled with confidence ≥ threshold; classes: how many of the 10 digits
    occur among the accepted ones; counts: [10] accepted digits per class; confidence: the mean
    top probability.
    """
    label, conf = model.judge(x)
    ok = conf >= threshold
    counts = torch.bincount(label[ok], minlength=N_CLASSES).cpu().numpy()
    return {"accepted": float(ok.float().mean()), "classes": int((counts > 0).sum()),
            "counts": counts.astype(np.int64), "confidence": float(conf.mean())}
