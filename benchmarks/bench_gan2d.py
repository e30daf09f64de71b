"""Speed of the mode-collapse trainer: steps/s per method, and the cost of N seeds relative to one.

    python benchmarks/bench_gan2d.py [--seconds 2]     # prints JSON

One torch thread, page defaults (ring of 8, widths 64, batch 128). "cost_vs_1" is the time per
step with N seeds batched divided by the time per step with one seed: 1.0 would be free, N
would be no better than N separate runs. Timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from core.gan2d import METHODS, Gan2DConfig, Gan2DTrainer  # noqa: E402


def steps_per_second(method: str, n_seeds: int, seconds: float) -> float:
    t = Gan2DTrainer(Gan2DConfig(methods=(method,), n_seeds=n_seeds, eval_every=10**9), torch.device("cpu"))
    t.step(3)                                  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        t.step(5)
        n += 5
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--seeds", default="1,4,8,16")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = {"torch": torch.__version__, "threads": 1, "methods": {}}
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
