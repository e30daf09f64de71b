"""Device choice, shared by every lesson: CPU unless a GPU was measured faster for the lesson
(the figures are in the lesson table, ``core.registry``)."""
from __future__ import annotations

import os

import torch

from core import registry


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


DEVICE_CHOICES = ("Auto", "CPU", "GPU")


def gpu_helps(lesson: str) -> bool:
    """Whether this lesson trains faster on a GPU than on one CPU thread (measured, above)."""
    row = registry.BY_KEY.get(lesson)
    cpu, gpu = row.measured if row is not None and row.measured else (1.0, 0.0)
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
    row = registry.BY_KEY.get(lesson)
    if row is None or row.measured is None:
        return ""
    cpu, gpu = row.measured
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
