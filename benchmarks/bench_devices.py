"""Training steps per second of every lesson's default trainer, on the CPU and (if present) CUDA.

    python benchmarks/bench_devices.py [--seconds 3] [--threads 1]     # prints one JSON line per run

The pages pick CUDA automatically when it exists (core.device.pick_device). These models are
tiny, so a GPU is not always faster: each step is a handful of small kernels and the launch
overhead dominates. This script measures it instead of guessing. Headless: no drawing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402


def lessons():
    """lesson key -> (Trainer class, default config, seed 0), from the lesson table."""
    from core import registry
    return registry.default_trainers(seed=0)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(cls, cfg, device: torch.device, seconds: float) -> float:
    tr = cls(cfg, device)
    tr.step(5)                      # warm-up: allocations, cuDNN/cuBLAS handles
    sync(device)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.step(10)
        steps += 10
    tr.snapshot()                   # includes the final device→host copy
    sync(device)
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for name, (cls, cfg) in lessons().items():
        row = {"lesson": name, "torch": torch.__version__, "threads": a.threads}
        for d in devices:
            row[f"{d.type}_steps_per_s"] = round(measure(cls, cfg, d, a.seconds), 1)
        if torch.cuda.is_available():
            row["gpu"] = torch.cuda.get_device_name(0)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
