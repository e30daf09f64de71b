"""Headless training speed of the LSTM lesson (default task) and the cost of one snapshot.

    python benchmarks/bench_lstm.py [--steps 300]
    python benchmarks/bench_lstm.py --plain [--seconds 3]   # the trainer against a plain PyTorch loop

Prints one JSON object: steps/s of LstmTrainer.step for each cell type (the default task:
first bit, T = 60, H = 8, batch 64, clipping on), the milliseconds of one ``snapshot`` (explicit
float64 forward + BPTT of one sequence and of 32 held-out sequences), and the lesson's check: the
LSTM ÷ vanilla RNN gradient ratio 50 steps back on the default settings at initialisation;
``<cell>_largest_step_ms``: the slowest single step at the largest settings (T = 100, H = 16, batch 256).
``ours`` and ``plain_loop`` (steps/s) are what ``benchmarks/bench_throughput.py`` tabulates.
One torch thread, CPU, as the server runs it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from core.lessons.lstm import LstmConfig, LstmTrainer, compare_cells, make_batch, ratio_back  # noqa: E402
from benchmarks.bench_throughput import rate  # noqa: E402  (the shared timing loop)

STEP = ("one Adam step (lr 0.01) on a fresh batch of 64 random bit strings of length 60 (task: remember the "
        "first bit), LSTM(1→8) + linear read-out at the last step, BCE, gradient norm clipped at 1")


def ours(seconds: float) -> float:
    """The lesson's trainer at its defaults (its held-out evaluation every 50 steps included)."""
    t = LstmTrainer(LstmConfig(), torch.device("cpu"))
    return rate(t.step, seconds, warmup=20)


def plain_loop(seconds: float) -> float:
    """The same net as a tutorial writes it: nn.LSTM + nn.Linear, autograd, clip_grad_norm_,
    torch.optim.Adam, over the same kind of batches (the lesson's ``make_batch``)."""
    cfg = LstmConfig()
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(1, cfg.hidden)
            self.head = nn.Linear(cfg.hidden, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out, _ = self.lstm(x)                      # [T, B, H]
            return self.head(out[-1:]).squeeze(-1)     # [1, B]

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(1)

    def steps(n: int) -> None:
        for _ in range(n):
            x, y = make_batch(cfg.task, cfg.seq_len, cfg.batch_size, cfg.delay, gen)
            loss = nn.functional.binary_cross_entropy_with_logits(net(x), y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), cfg.clip_norm)
            opt.step()

    return rate(steps, seconds, warmup=20)


def largest_step_ms(cell: str) -> float:
    """The slowest of 10 single steps at the largest settings the widgets allow (T = 100, H = 16,
    batch 256), the held-out evaluation every 50 steps included: a step is never interrupted, so
    it must stay well under 0.25 s for Pause to answer at once."""
    t = LstmTrainer(LstmConfig(cell=cell, seq_len=100, hidden=16, batch_size=256), torch.device("cpu"))
    t.step(40)
    worst = 0.0
    for _ in range(10):                      # crosses step 50, which runs the evaluation
        t0 = time.perf_counter()
        t.step(1)
        worst = max(worst, time.perf_counter() - t0)
    return round(worst * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--plain", action="store_true", help="only the default run against a plain PyTorch loop")
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.plain:
        o, p = ours(a.seconds), plain_loop(a.seconds)
        print(json.dumps({"torch": torch.__version__, "threads": 1, "steps_per_s": round(o, 1),
                          "plain_pytorch_steps_per_s": round(p, 1), "ratio": round(o / p, 2), "step": STEP}))
        return
    out: dict = {"steps": a.steps, "device": "cpu", "torch_threads": 1}
    for cell in ("lstm", "gru", "rnn"):
        t = LstmTrainer(dataclasses.replace(LstmConfig(), cell=cell), torch.device("cpu"))
        t.step(20)
        t0 = time.perf_counter()
        t.step(a.steps)
        out[f"{cell}_steps_per_s"] = round(a.steps / (time.perf_counter() - t0), 1)
        t.snapshot()
        t0 = time.perf_counter()
        for _ in range(5):
            t.inspect(t=30, unit=1)              # the detail views' explicit float64 pass
        out[f"{cell}_snapshot_ms"] = round((time.perf_counter() - t0) / 5 * 1000, 1)
        out[f"{cell}_largest_step_ms"] = largest_step_ms(cell)
    prof = compare_cells(LstmConfig())
    out["ratio_lstm_rnn_50_back_init"] = float(f"{ratio_back(prof):.4g}")
    out["ratio_lstm_rnn_50_back_init_raw"] = float(f"{ratio_back(prof, key='dh'):.4g}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
