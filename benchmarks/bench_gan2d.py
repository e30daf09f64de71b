"""Speed of the mode-collapse trainer: steps/s per method, the cost of N seeds relative to one, and
the longest step the widgets allow (what Pause may have to wait for).

    python benchmarks/bench_gan2d.py [--seconds 2]     # prints JSON
    python benchmarks/bench_gan2d.py --max-settings    # only the largest settings' step times

One torch thread, page defaults (ring of 8, widths 64, batch 128). "cost_vs_1" is the time per
step with N seeds batched divided by the time per step with one seed: 1.0 would be free, N
would be no better than N separate runs. "max_settings" trains ``largest_config`` (every size at
its declared maximum, four panels, 8 seeds, measuring every 25 steps) and reports the wall and
thread-CPU seconds per step (the CPU time is what the step costs when the machine is not shared).
Timings on a shared machine are noisy. ``ours`` and ``plain_loop`` (steps/s of the default page run
and of a plain PyTorch loop of the same two GANs) are what ``benchmarks/bench_throughput.py``
tabulates; ``--plain`` prints just those two.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from core.lessons.gan2d import DATASETS, METHODS, Gan2DConfig, Gan2DTrainer  # noqa: E402
from core.lessons.gan2d.config import largest_config  # noqa: E402
from benchmarks.bench_throughput import rate  # noqa: E402  (the shared timing loop)


def steps_per_second(method: str, n_seeds: int, seconds: float) -> float:
    t = Gan2DTrainer(Gan2DConfig(methods=(method,), n_seeds=n_seeds), torch.device("cpu"))
    t.step(3)                                  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        t.step(5)
        n += 5
    return n / (time.perf_counter() - t0)


STEP = ("one iteration of both default panels on the ring of 8 (σ 0.05), 1 seed, batch 128, G 4→64→64→2, "
        "D 2→64→64→1: vanilla GAN (1 D update + 1 G update) and WGAN-GP (5 critic updates with the "
        "gradient penalty, λ 1, + 1 G update)")


def ours(seconds: float) -> float:
    """The page's default run (vanilla and WGAN-GP side by side, one seed), measuring included."""
    t = Gan2DTrainer(Gan2DConfig(), torch.device("cpu"))
    return rate(t.step, seconds, warmup=3)


def plain_loop(seconds: float) -> float:
    """The same two GANs as a tutorial writes them: nn.Sequential, autograd, torch.optim.Adam
    (β 0.5/0.999 for the GAN, 0.5/0.9 for WGAN-GP), fresh ring samples and noise every update."""
    torch.manual_seed(0)
    B, Z, W = 128, 4, 64

    def net(n_in: int, n_out: int, act: nn.Module) -> nn.Sequential:
        return nn.Sequential(nn.Linear(n_in, W), act, nn.Linear(W, W), act, nn.Linear(W, n_out))

    ang = torch.arange(8) * (2 * torch.pi / 8)
    centres = torch.stack([2 * torch.cos(ang), 2 * torch.sin(ang)], 1)

    def real() -> torch.Tensor:
        return centres[torch.randint(8, (B,))] + 0.05 * torch.randn(B, 2)

    G1, D1 = net(Z, 2, nn.ReLU()), net(2, 1, nn.LeakyReLU(0.2))
    G2, C2 = net(Z, 2, nn.ReLU()), net(2, 1, nn.LeakyReLU(0.2))
    og1 = torch.optim.Adam(G1.parameters(), 1e-3, betas=(0.5, 0.999))
    od1 = torch.optim.Adam(D1.parameters(), 3e-4, betas=(0.5, 0.999))
    og2 = torch.optim.Adam(G2.parameters(), 1e-3, betas=(0.5, 0.9))
    oc2 = torch.optim.Adam(C2.parameters(), 3e-4, betas=(0.5, 0.9))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)

    def vanilla() -> None:
        fake = G1(torch.randn(B, Z)).detach()
        od1.zero_grad()
        (bce(D1(real()), ones) + bce(D1(fake), zeros)).backward()
        od1.step()
        og1.zero_grad()
        bce(D1(G1(torch.randn(B, Z))), ones).backward()
        og1.step()

    def wgan_gp() -> None:
        for _ in range(5):
            x, fake = real(), G2(torch.randn(B, Z)).detach()
            eps = torch.rand(B, 1)
            xhat = (eps * x + (1 - eps) * fake).requires_grad_(True)
            (g,) = torch.autograd.grad(C2(xhat).sum(), xhat, create_graph=True)
            gp = ((g.norm(dim=1) - 1) ** 2).mean()
            oc2.zero_grad()
            (C2(fake).mean() - C2(x).mean() + 1.0 * gp).backward()
            oc2.step()
        og2.zero_grad()
        (-C2(G2(torch.randn(B, Z))).mean()).backward()
        og2.step()

    def steps(n: int) -> None:
        for _ in range(n):
            vanilla()
            wgan_gp()

    return rate(steps, seconds, warmup=3)


def max_settings_step(dataset: str, steps: int = 50) -> dict:
    """Wall and thread-CPU seconds of single steps at the largest settings (records included)."""
    t = Gan2DTrainer(largest_config(dataset), torch.device("cpu"))
    t.step(2)
    wall, cpu = [], []
    for _ in range(steps):
        w0, c0 = time.perf_counter(), time.thread_time()
        t.step(1)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.thread_time() - c0)
    return {"dataset": dataset, "steps": steps, "wall_median_s": round(statistics.median(wall), 4),
            "wall_max_s": round(max(wall), 4), "cpu_median_s": round(statistics.median(cpu), 4),
            "cpu_max_s": round(max(cpu), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--seeds", default="1,2,4,8")
    ap.add_argument("--max-settings", action="store_true", help="only the largest settings' step times")
    ap.add_argument("--plain", action="store_true", help="only the default run against a plain PyTorch loop")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.plain:
        o, p = ours(a.seconds), plain_loop(a.seconds)
        print(json.dumps({"torch": torch.__version__, "threads": 1, "steps_per_s": round(o, 1),
                          "plain_pytorch_steps_per_s": round(p, 1), "ratio": round(o / p, 2), "step": STEP}))
        return
    out: dict = {"torch": torch.__version__, "threads": 1}
    out["max_settings"] = [max_settings_step(d) for d in DATASETS]
    print(json.dumps(out["max_settings"]), file=sys.stderr, flush=True)
    if not a.max_settings:
        out["methods"] = {}
        counts = [int(s) for s in a.seeds.split(",")]
        for m in METHODS:
            rates = {n: steps_per_second(m, n, a.seconds) for n in counts}
            out["methods"][m] = {
                "steps_per_s": {str(n): round(r, 1) for n, r in rates.items()},
                "cost_vs_1": {str(n): round(rates[counts[0]] / r, 2) for n, r in rates.items()},
            }
            print(json.dumps({m: out["methods"][m]}), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
