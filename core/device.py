"""Device choice and seeding, shared by every lesson."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def pick_device(force_cpu: bool = False) -> torch.device:
    """CUDA if available, else Apple MPS, else CPU; ``force_cpu`` (or DASH_FORCE_CPU=1) wins."""
    if force_cpu or os.environ.get("DASH_FORCE_CPU") == "1":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """A short human label, e.g. 'GPU: NVIDIA H100' or 'CPU (1 torch thread)'."""
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "GPU: Apple MPS"
    return f"CPU ({torch.get_num_threads()} torch thread{'s' if torch.get_num_threads() != 1 else ''})"


def seeded_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private RNG stream, so one trainer's randomness never depends on another's."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def seed_everything(seed: int) -> None:
    """Seed the global RNGs (used only for weight initialisation inside a ``fork_rng``)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
