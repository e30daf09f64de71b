"""The latent space of a trained generator: walks between two z (and, in the conditional model,
between two labels with z fixed), and arithmetic on mean z vectors as in Radford et al. (their
"smiling woman − neutral woman + neutral man"): here "bold 3 − thin 3 + thin 7 = bold 7".
Reads the generator, never trains it. No Streamlit.

Shapes: z [n, L], or [n, L + K] with InfoGAN's code of K values; digits [n, 16, 16] in [−1, 1].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core import digits
from core.lessons.dcgan.model import code_input

STEPS = 10                 # images along a walk
POOL = 1000                # digits generated to find the groups of the arithmetic
GROUP = 3                  # z averaged per group (the paper averaged three)
NEIGHBOURS = 8             # extra results: the answer z plus a little noise, as in the paper
NOISE = 0.25


def lerp_weights(steps: int = STEPS) -> torch.Tensor:
    """t = 0, 1/(steps − 1), …, 1: [steps, 1]."""
    return torch.linspace(0.0, 1.0, steps).unsqueeze(1)


def walk_z(trainer, start: int, end: int, steps: int = STEPS) -> np.ndarray:
    """Digits along z_t = (1 − t)·z_a + t·z_b between grid cells ``start`` and ``end`` (the
    conditional model keeps each cell's label, moving from one to the other too): [steps, 16, 16]."""
    t = lerp_weights(steps).to(trainer.device)
    za, zb = trainer.grid_z[start], trainer.grid_z[end]
    z = (1 - t) * za + t * zb
    ya = torch.nn.functional.one_hot(trainer.grid_y[start], digits.N_CLASSES).float()
    yb = torch.nn.functional.one_hot(trainer.grid_y[end], digits.N_CLASSES).float()
    return trainer.generate(z, (1 - t) * ya + t * yb)


def walk_label(trainer, column: int, a: int, b: int, steps: int = STEPS) -> np.ndarray:
    """Conditional model: one z (the grid's column), the label moving from one-hot(a) to
    one-hot(b): y_t = (1 − t)·e_a + t·e_b. [steps, 16, 16]."""
    t = lerp_weights(steps).to(trainer.device)
    z = trainer.grid_z[column % len(trainer.grid_z)].expand(steps, -1)
    eye = torch.eye(digits.N_CLASSES, device=trainer.device)
    return trainer.generate(z, (1 - t) * eye[a] + t * eye[b])


def thickness(x: np.ndarray) -> np.ndarray:
    """Ink per digit: the mean brightness in [0, 1]. x: [n, 16, 16] in [−1, 1] -> [n]."""
    return ((x + 1) / 2).mean(axis=(1, 2))


def slant(x: np.ndarray) -> np.ndarray:
    """How far the strokes lean right: −μ₁₁/μ₀₂ from the ink's second moments (x to the right, y
    down; 0 = upright). x: [n, 16, 16] -> [n]."""
    w = np.clip((x + 1) / 2, 0, None)
    ys, xs = np.mgrid[0:x.shape[1], 0:x.shape[2]].astype(np.float64)
    m = w.sum(axis=(1, 2)) + 1e-9
    cy, cx = (w * ys).sum(axis=(1, 2)) / m, (w * xs).sum(axis=(1, 2)) / m
    dy, dx = ys - cy[:, None, None], xs - cx[:, None, None]
    mu11 = (w * dx * dy).sum(axis=(1, 2)) / m
    mu02 = (w * dy * dy).sum(axis=(1, 2)) / m + 1e-9
    return -mu11 / mu02


ATTRIBUTE_FN = {"thickness": thickness, "slant": slant}


@dataclass
class Arithmetic:
    """The three groups (with their digits), the answer and its neighbours, and the checks."""

    groups: list[tuple[str, np.ndarray]]       # (caption, digits [GROUP, 16, 16]) × 3
    result: np.ndarray                         # [1 + NEIGHBOURS, 16, 16]; [0] is the answer itself
    result_label: str                          # what the classifier reads in the answer
    attribute_gain: float                      # attribute(answer) − mean attribute(third group)
    found: bool                                # False when a group could not be filled


def arithmetic(trainer, attribute: str, a: int, b: int, seed: int = 0) -> Arithmetic:
    """mean z[high-attribute a] − mean z[low-attribute a] + mean z[low-attribute b].

    Groups are picked among POOL generated digits by what the classifier reads (unconditional)
    or by the label asked for (conditional, where the answer is drawn with label b)."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    L, K = trainer.config.latent_size, trainer.codes
    z = torch.randn(POOL, L, generator=g)
    # with InfoGAN's code the generator's input is [z, one-hot(c)], and the arithmetic acts on all of it
    if K:
        z = code_input(z, torch.randint(K, (POOL,), generator=g), K)
    z = z.to(trainer.device)                                                         # [POOL, L (+ K)]
    asked = torch.tensor([a, b], device=trainer.device).repeat_interleave(POOL // 2)
    x = trainer.generate(z, asked)
    label, conf = trainer.judge.clf.judge(torch.from_numpy(x).float().unsqueeze(1).to(trainer.device))
    label, conf = label.cpu().numpy(), conf.cpu().numpy()
    if trainer.config.conditional:
        label, conf = asked.cpu().numpy(), np.ones(POOL)
    value = ATTRIBUTE_FN[attribute](x)
    picks = []
    for digit, high in ((a, True), (a, False), (b, False)):
        idx = np.flatnonzero((label == digit) & (conf >= digits.CONFIDENT))
        order = idx[np.argsort(value[idx])]
        picks.append((order[::-1][:GROUP] if high else order[:GROUP]).copy())
    names = {"thickness": ("bold", "thin"), "slant": ("slanted", "upright")}[attribute]
    captions = [f"{names[0]} {a}", f"{names[1]} {a}", f"{names[1]} {b}"]
    found = all(len(p) == GROUP for p in picks)
    if not found:
        return Arithmetic([(c, x[p]) for c, p in zip(captions, picks)], np.zeros((0, 16, 16)), "", 0.0, False)
    mean = [z[torch.from_numpy(p).to(trainer.device)].mean(0) for p in picks]
    answer = mean[0] - mean[1] + mean[2]                                                  # [L]
    noise = torch.randn(NEIGHBOURS, L, generator=g).to(trainer.device)
    near = answer + NOISE * torch.nn.functional.pad(noise, (0, K))          # noise on z, not on the code
    zs = torch.cat([answer[None], near])
    out = trainer.generate(zs, torch.full((len(zs),), b, device=trainer.device))
    lab, cf = trainer.judge.clf.judge(torch.from_numpy(out[:1]).float().unsqueeze(1).to(trainer.device))
    reads = f"{int(lab[0])} ({float(cf[0]):.0%} sure)"
    gain = float(ATTRIBUTE_FN[attribute](out[:1])[0] - value[picks[2]].mean())
    return Arithmetic([(c, x[p]) for c, p in zip(captions, picks)], out, reads, gain, True)
