"""Headless training speed of the LSTM lesson (default task) and the cost of one snapshot.

    python benchmarks/bench_lstm.py [--steps 300]

Prints one JSON object: steps/s of LstmTrainer.step for each cell type (the default task:
first bit, T = 60, H = 8, batch 64, clipping on), the milliseconds of one ``snapshot`` (explicit
float64 forward + BPTT of one sequence and of 32 held-out sequences), and the lesson's check: the
LSTM ÷ vanilla RNN gradient ratio 50 steps back on the default settings at initialisation.
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

from core.lstm_viz import LstmConfig, LstmTrainer, compare_cells, ratio_back  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    torch.set_num_threads(1)
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
            t.snapshot(t=30, unit=1)
        out[f"{cell}_snapshot_ms"] = round((time.perf_counter() - t0) / 5 * 1000, 1)
    prof = compare_cells(LstmConfig())
    out["ratio_lstm_rnn_50_back_init"] = float(f"{ratio_back(prof):.4g}")
    out["ratio_lstm_rnn_50_back_init_raw"] = float(f"{ratio_back(prof, key='dh'):.4g}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
