"""Headless training speed of the default 1D GAN, against a plain PyTorch loop of the same model.

    python benchmarks/bench_gan1d.py [--seconds 3] [--repeats 3]

Prints one JSON object. One torch thread, CPU, as the server runs it. ``ours`` and ``plain_loop``
(steps/s over about ``seconds``) are also what ``benchmarks/bench_throughput.py`` tabulates.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer  # noqa: E402
from benchmarks.bench_throughput import rate  # noqa: E402  (the shared timing loop)

STEP = ("one iteration of Algorithm 1 at the defaults: k = 1 discriminator update and 1 generator "
        "update, batch 128, G 5→15→2 (ReLU), D 2→25→1 (LeakyReLU), Adam β₁ 0.5, target y = x²")


def plain_loop(seconds: float) -> float:
    """The textbook loop of the same model: nn.Sequential, autograd, torch.optim.Adam, fresh noise
    and fresh real points (x, x²) every step. Steps/s."""
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(5, 15), nn.ReLU(), nn.Linear(15, 2))
    D = nn.Sequential(nn.Linear(2, 25), nn.LeakyReLU(0.2), nn.Linear(25, 1))
    og = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    B = 128
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)

    def steps(n: int) -> None:
        for _ in range(n):
            x = torch.rand(B, 1) - 0.5
            real = torch.cat([x, x * x], 1)
            fake = G(torch.randn(B, 5)).detach()
            od.zero_grad()
            (bce(D(real), ones) + bce(D(fake), zeros)).backward()
            od.step()
            og.zero_grad()
            bce(D(G(torch.randn(B, 5))), ones).backward()
            og.step()

    return rate(steps, seconds, warmup=50)


def ours(seconds: float) -> float:
    """The lesson's trainer at its defaults (its metrics every 50 steps included). Steps/s."""
    t = Gan1DTrainer(Gan1DConfig(), torch.device("cpu"))
    return rate(t.step, seconds, warmup=50)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    best = plain = 0.0
    for _ in range(a.repeats):                       # alternated, so both see the same load
        best = max(best, ours(a.seconds))
        plain = max(plain, plain_loop(a.seconds))
    print(json.dumps({
        "benchmark": "gan1d_headless", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "seconds": a.seconds, "repeats": a.repeats,
        "steps_per_s": round(best, 1), "plain_pytorch_steps_per_s": round(plain, 1),
        "speedup_vs_plain": round(best / plain, 2), "target_steps_per_s": 1600,
    }))


if __name__ == "__main__":
    main()
