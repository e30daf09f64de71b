"""Headless training speed of the default 1D GAN, against a plain PyTorch loop of the same model.

    python benchmarks/bench_gan1d.py [--steps 3000]

Prints one JSON object. One torch thread, CPU, as the server runs it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from core.gan1d import Gan1DConfig, Gan1DTrainer  # noqa: E402


def plain_loop(steps: int) -> float:
    """The textbook loop: nn.Sequential, autograd, torch.optim.Adam, fresh noise each step."""
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(5, 15), nn.ReLU(), nn.Linear(15, 2))
    D = nn.Sequential(nn.Linear(2, 25), nn.LeakyReLU(0.2), nn.Linear(25, 1))
    og, od = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    bce = nn.BCEWithLogitsLoss()
    B = 128
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)

    def one() -> None:
        x = torch.rand(B, 1) - 0.5
        real = torch.cat([x, x * x], 1)
        fake = G(torch.randn(B, 5)).detach()
        od.zero_grad()
        (bce(D(real), ones) + bce(D(fake), zeros)).backward()
        od.step()
        og.zero_grad()
        bce(D(G(torch.randn(B, 5))), ones).backward()
        og.step()

    for _ in range(50):
        one()
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    return steps / (time.perf_counter() - t0)


def ours(steps: int) -> float:
    t = Gan1DTrainer(Gan1DConfig(), torch.device("cpu"))
    t.step(100)
    t0 = time.perf_counter()
    t.step(steps)
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    best = max(ours(a.steps) for _ in range(a.repeats))
    plain = max(plain_loop(a.steps) for _ in range(a.repeats))
    print(json.dumps({
        "benchmark": "gan1d_headless", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "steps": a.steps,
        "steps_per_s": round(best, 1), "plain_pytorch_steps_per_s": round(plain, 1),
        "speedup_vs_plain": round(best / plain, 2), "target_steps_per_s": 1600,
    }))


if __name__ == "__main__":
    main()
