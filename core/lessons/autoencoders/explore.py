"""The latent-space explorer (on Pause; nothing is trained): decode a picked latent point, and
walk in a straight line between the codes of two held-out digits in each model. An autoencoder's
straight path crosses holes (points no digit was ever encoded to, decoded into smudges); the
VAE's crosses a space the KL term has filled. The classifier says which frames are digits.
No Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core import digits
from core.lessons.autoencoders.model import NAMES, N_MODELS
from core.lessons.autoencoders.trainer import AutoencodersTrainer

STEPS = 10          # frames of an interpolation, both ends included


@dataclass
class Walk:
    """images [3 · STEPS, 16, 16] in [0, 1] (one row per model: AE, VAE, denoising AE);
    paths [3, STEPS, 2] in each model's view; accepted [3, STEPS] bool (classifier ≥ 0.9 sure);
    read [3, STEPS] the classifier's labels."""

    images: np.ndarray
    paths: np.ndarray
    accepted: np.ndarray
    read: np.ndarray


def _judge(t: AutoencodersTrainer, pixels: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(labels, accepted) of decoded digits [n, 256] in [0, 1]."""
    label, conf = t.clf.judge(2.0 * pixels.reshape(-1, 1, digits.SIZE, digits.SIZE) - 1.0)
    return label.cpu().numpy(), (conf >= digits.CONFIDENT).cpu().numpy()


def example(t: AutoencodersTrainer, digit: int) -> int:
    """Index of the first held-out example of ``digit``."""
    return int(torch.nonzero(t.y_held == int(digit)).flatten()[0])


@torch.no_grad()
def pick(t: AutoencodersTrainer, model: str, s1: float, s2: float) -> dict[str, Any]:
    """The decoding of the explorer's point in ``model``'s view: image [16, 16] in [0, 1];
    point [2] in the view; z [L]; the classifier's label and whether it is sure."""
    m = NAMES.index(model)
    pl = t.planes(t.model.codes(t.x_held))[m]
    p = pl.point(s1, s2)                                                   # [1, 2]
    z = pl.lift(p)                                                         # [1, L]
    img = t.model.images(z.expand(N_MODELS, 1, -1))[m]                     # [1, 256]
    label, ok = _judge(t, img)
    return {"image": img.reshape(16, 16).cpu().numpy(), "point": p[0].cpu().numpy().astype(np.float64),
            "z": z[0].cpu().numpy().astype(np.float64), "label": int(label[0]), "sure": bool(ok[0])}


@torch.no_grad()
def walk(t: AutoencodersTrainer, digit_a: int, digit_b: int) -> Walk:
    """Straight lines z(λ) = (1 − λ)·z_a + λ·z_b, λ = 0 … 1, between the codes (the VAE: μ) of the
    first held-out examples of the two digits, in each model's own latent space."""
    held = t.model.codes(t.x_held)                                         # [3, N, L]
    planes = t.planes(held)
    za, zb = held[:, example(t, digit_a)], held[:, example(t, digit_b)]    # [3, L]
    lam = torch.linspace(0.0, 1.0, STEPS, device=za.device).view(1, -1, 1)
    # z(λ) = (1 − λ)·z_a + λ·z_b
    z = (1.0 - lam) * za.unsqueeze(1) + lam * zb.unsqueeze(1)              # [3, STEPS, L]
    imgs = t.model.images(z)                                               # [3, STEPS, 256]
    label, ok = _judge(t, imgs.reshape(-1, 256))
    paths = torch.stack([planes[m].project(z[m]) for m in range(N_MODELS)])
    return Walk(imgs.reshape(-1, 16, 16).cpu().numpy(), paths.double().cpu().numpy(),
                ok.reshape(N_MODELS, STEPS), label.reshape(N_MODELS, STEPS))


@torch.no_grad()
def view(t: AutoencodersTrainer, model: str) -> dict[str, Any]:
    """One model's scatter and manifold (as in the live snapshot) for the explorer's chart."""
    snap = t.snapshot()
    m = NAMES.index(model)
    return {"codes": snap["codes"][m], "labels": snap["labels"], "box": snap["boxes"][m],
            "manifold": snap["manifolds"][m]}


def pick_caption(picked: dict[str, Any]) -> str:
    """What the classifier makes of the picked point's drawing."""
    z = ", ".join(f"{v:+.2f}" for v in picked["z"][:4]) + (", …" if len(picked["z"]) > 4 else "")
    verdict = f"reads a {picked['label']}" if picked["sure"] else f"is unsure (best guess {picked['label']})"
    return f"z = ({z}): the classifier {verdict}"


def walk_caption(w: Walk) -> str:
    """Per model, how many frames of the walk the classifier accepts."""
    names = ("autoencoder", "VAE", "denoising AE")
    return " · ".join(f"{n}: {int(w.accepted[m].sum())}/{STEPS} frames read as digits" for m, n in enumerate(names))
