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


# Headless steps/s of each lesson's default trainer, CPU (1 torch thread) vs CUDA, measured with
# ``python benchmarks/bench_devices.py`` on the lent NVIDIA H100 (torch 2.11.0+cu130), 2026-11-24.
# These models are tiny: a step is a few dozen small kernels, so kernel-launch latency outweighs
# the arithmetic and the GPU loses, except for the upsampling decoders (convolutions on images).
# "Auto" therefore uses the GPU only where it was measured to be faster.
MEASURED_STEPS_PER_S: dict[str, tuple[float, float]] = {   # lesson: (cpu, cuda)
    "gan1d": (1603.2, 545.0),
    "gan2d": (222.4, 129.1),
    "forecast": (50.9, 32.8),
    "lstm": (301.8, 264.3),
    "upsampling": (51.1, 121.3),
}

DEVICE_CHOICES = ("Auto", "CPU", "GPU")
# page short name -> lesson name above
_PAGE_LESSON = {"fc": "forecast", "up": "upsampling"}


def gpu_helps(lesson: str) -> bool:
    """Whether this lesson trains faster on a GPU than on one CPU thread (measured, above)."""
    cpu, gpu = MEASURED_STEPS_PER_S.get(_PAGE_LESSON.get(lesson, lesson), (1.0, 0.0))
    return gpu > cpu


def device_for(lesson: str, choice: str = "Auto") -> torch.device:
    """The device a lesson trains on: "CPU", "GPU" (if any) or "Auto" (GPU only where it helps).

    DASH_FORCE_CPU=1 wins over everything (tests, and servers that must not touch a GPU).
    """
    if choice == "CPU" or os.environ.get("DASH_FORCE_CPU") == "1":
        return torch.device("cpu")
    if choice == "GPU":
        return pick_device()
    return pick_device() if gpu_helps(lesson) else torch.device("cpu")


def gpu_available() -> bool:
    return pick_device().type != "cpu"


def device_reason(lesson: str) -> str:
    """One line for the sidebar: why Auto chose what it chose, with the measured figures."""
    lesson = _PAGE_LESSON.get(lesson, lesson)
    if lesson not in MEASURED_STEPS_PER_S:
        return ""
    cpu, gpu = MEASURED_STEPS_PER_S[lesson]
    faster = "GPU" if gpu > cpu else "CPU"
    return (f"For this lesson the {faster} is faster: {cpu:,.0f} steps/s on one CPU thread vs "
            f"{gpu:,.0f} on an H100 (measured).")


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
