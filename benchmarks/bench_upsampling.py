"""Headless training speed of the upsampling lesson's decoders (steps per second).

    python benchmarks/bench_upsampling.py [--seconds 4]

One step = every chosen decoder takes one Adam step on the same batch. Measures the default page
run (all four decoders, 16×16, batch 32), each decoder alone, and 32×32; the longest single step
the widgets allow (32×32, 32 channels, batch 32, all four decoders, plus a checkerboard
measurement: Pause waits for it); plus the time to compute the viewer for the largest input the
page allows. Prints one JSON object. One torch thread, CPU, as the server runs it.
``ours`` and ``plain_loop`` (steps/s of the default run and of a plain PyTorch loop of the same four
decoders) are what ``benchmarks/bench_throughput.py`` tabulates; ``--plain`` prints just those.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from core.lessons.upsampling import (VARIANTS, TConvSettings, UpsamplingConfig, UpsamplingTrainer,  # noqa: E402
                                     contribution, transposed_conv)
from core.lessons.upsampling.config import BATCH_SIZES, CHANNELS  # noqa: E402
from core.lessons.upsampling.data import CODE_DIM, make_targets  # noqa: E402
from benchmarks.bench_throughput import rate as timed  # noqa: E402  (the shared timing loop)

STEP = ("one Adam step (lr 0.002, MSE) of each of the 4 decoders (transposed conv k=3 and k=4, nearest and "
        "bilinear resize + conv 3×3; 16 channels, 4×4 → 16×16) on the same batch of 32 (code, target) pairs")


def ours(seconds: float) -> float:
    """The lesson's trainer at its defaults (its checkerboard measurement every 25 steps included)."""
    t = UpsamplingTrainer(UpsamplingConfig(), torch.device("cpu"))
    return timed(t.step, seconds, warmup=5)


class PlainDecoder(nn.Module):
    """A tutorial's decoder: Linear → [C, 4, 4] → two ×2 blocks (transposed conv, or resize + conv)."""

    def __init__(self, kind: str, c: int = 16) -> None:
        super().__init__()
        self.kind, self.c = kind, c
        self.fc = nn.Linear(CODE_DIM, c * 16)

        def up(c_out: int) -> nn.Module:
            if kind == "tconv3":
                return nn.ConvTranspose2d(c, c_out, 3, stride=2, padding=1, output_padding=1)
            if kind == "tconv4":
                return nn.ConvTranspose2d(c, c_out, 4, stride=2, padding=1)
            return nn.Sequential(nn.Upsample(scale_factor=2, mode=kind), nn.Conv2d(c, c_out, 3, padding=1))

        self.body = nn.Sequential(up(c), nn.ReLU(), up(1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(F.relu(self.fc(z)).view(-1, self.c, 4, 4))


def plain_loop(seconds: float) -> float:
    """The four decoders as a tutorial trains them: autograd, torch.optim.Adam (its default
    implementation), MSE, the same random batches of 32 from the same pool of 512 targets."""
    cfg = UpsamplingConfig()
    codes, imgs = make_targets(cfg.kinds, cfg.n_targets, cfg.resolution, cfg.seed)
    codes, imgs = torch.from_numpy(codes), torch.from_numpy(imgs).unsqueeze(1)
    torch.manual_seed(0)
    nets = [PlainDecoder(k, cfg.channels) for k in VARIANTS]
    opts = [torch.optim.Adam(n.parameters(), lr=cfg.lr) for n in nets]
    gen = torch.Generator().manual_seed(1)

    def steps(n: int) -> None:
        for _ in range(n):
            idx = torch.randint(len(codes), (cfg.batch_size,), generator=gen)
            z, target = codes[idx], imgs[idx]
            for net, opt in zip(nets, opts):
                loss = F.mse_loss(net(z), target)
                opt.zero_grad()
                loss.backward()
                opt.step()

    return timed(steps, seconds, warmup=5)


def rate(cfg: UpsamplingConfig, seconds: float) -> float:
    t = UpsamplingTrainer(cfg, torch.device("cpu"))
    t.step(5)                                    # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        t.step(10)
        n += 10
    return round(n / (time.perf_counter() - t0), 1)


def longest_step_ms(repeats: int = 20) -> dict:
    """Median and worst wall time of one step at the largest settings, and of one checkerboard
    measurement (it runs inside a step every ``eval_every`` steps)."""
    cfg = UpsamplingConfig(resolution=32, channels=max(CHANNELS), batch_size=max(BATCH_SIZES), eval_every=10_000)
    t = UpsamplingTrainer(cfg, torch.device("cpu"))
    t.step(2)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        t.step(1)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    t._record_metrics()
    measure = time.perf_counter() - t0
    return {"max_settings_step_ms_median": round(1000 * float(np.median(times)), 1),
            "max_settings_step_ms_worst": round(1000 * max(times), 1),
            "max_settings_checker_ms": round(1000 * measure, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--plain", action="store_true", help="only the default run against a plain PyTorch loop")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out: dict = {"device": "cpu", "threads": 1, "torch": torch.__version__}
    if a.plain:
        o, p = ours(a.seconds), plain_loop(a.seconds)
        print(json.dumps({**out, "steps_per_s": round(o, 1), "plain_pytorch_steps_per_s": round(p, 1),
                          "ratio": round(o / p, 2), "step": STEP}))
        return
    out["steps_per_s_all4_16px"] = rate(UpsamplingConfig(), a.seconds)
    out["steps_per_s_all4_32px"] = rate(UpsamplingConfig(resolution=32), a.seconds)
    out.update(longest_step_ms())
    for v in VARIANTS:
        out[f"steps_per_s_{v}_16px"] = rate(UpsamplingConfig(variants=(v,)), a.seconds / 2)
    # the viewer: an 8×8 input, k=5, s=4, dilation 3 (the largest output the page can ask for)
    x = np.random.default_rng(0).standard_normal((8, 8))
    st = TConvSettings(kernel=np.ones((5, 5)), stride=(4, 4), output_padding=(3, 3), dilation=(3, 3))
    t0 = time.perf_counter()
    res = transposed_conv(x, st)
    for q in range(64):                           # the page's "sum so far" at the last position
        contribution(res, *divmod(q, 8))
    out["viewer_ms_8x8_k5_s4_d3"] = round(1000 * (time.perf_counter() - t0), 2)
    out["viewer_output_shape"] = list(res.output.shape)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
