"""Headless training of the forecasting lesson: seconds to test RMSE ≤ 50 and epochs/s per model.

    python benchmarks/bench_forecast.py [--seeds 0 1 2] [--target 50]

The default airline run (LSTM, look-back 12, window as features, Adam lr 0.01, batch 8) and the
same settings with each other model; then the lecture's Keras reference setting (LSTM(4),
look-back 1, batch 1, Adam lr 0.001, 100 epochs) and a stateful LSTM. Training time counts
everything ``step`` does (the per-epoch train/test evaluation included). Prints one JSON object.
One torch thread, CPU, as the server runs it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.forecast import ForecastConfig, ForecastTrainer  # noqa: E402


def run(cfg: ForecastConfig, target: float) -> dict:
    t = ForecastTrainer(cfg, torch.device("cpu"))
    hit_s = hit_ep = None
    while not t.finished:
        t.step(1)
        if hit_s is None and t.history.last("test_rmse") <= target:
            hit_s, hit_ep = t.train_seconds, t.step_count
    h = t.history.arrays()
    return {"seconds_to_target": None if hit_s is None else round(hit_s, 3), "epochs_to_target": hit_ep,
            "epochs_per_s": round(t.step_count / t.train_seconds, 1), "epochs": t.step_count,
            "total_s": round(t.train_seconds, 2), "final_train_rmse": round(float(h["train_rmse"][-1]), 2),
            "final_test_rmse": round(float(h["test_rmse"][-1]), 2),
            "best_test_rmse": round(float(np.nanmin(h["test_rmse"])), 2)}


def summarise(runs: list[dict]) -> dict:
    hits = [r["seconds_to_target"] for r in runs if r["seconds_to_target"] is not None]
    return {
        "seeds_reaching_target": f"{len(hits)}/{len(runs)}",
        "median_seconds_to_target": round(float(np.median(hits)), 3) if hits else None,
        "max_seconds_to_target": round(float(max(hits)), 3) if hits else None,
        "median_epochs_per_s": round(float(np.median([r["epochs_per_s"] for r in runs])), 1),
        "median_final_train_rmse": round(float(np.median([r["final_train_rmse"] for r in runs])), 2),
        "median_final_test_rmse": round(float(np.median([r["final_test_rmse"] for r in runs])), 2),
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--target", type=float, default=50.0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    base = ForecastConfig()
    cases = {f"default_{m}": dataclasses.replace(base, model=m) for m in ("lstm", "mlp", "rnn", "gru")}
    cases["default_lstm_timesteps"] = dataclasses.replace(base, framing="timesteps")
    cases["keras_reference_lstm4_lb1_batch1"] = dataclasses.replace(
        base, look_back=1, hidden=4, batch_size=1, lr=0.001, epochs=100)
    cases["stateful_lstm_lb1"] = dataclasses.replace(base, look_back=1, hidden=4, stateful=True, lr=0.001, epochs=100)
    out = {"machine": f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, 1 thread",
           "target_test_rmse": a.target, "unit": "thousand passengers", "seeds": a.seeds, "cases": {}}
    t0 = time.perf_counter()
    for name, cfg in cases.items():
        seeds = a.seeds if not name.startswith(("keras", "stateful")) else a.seeds[:1]
        out["cases"][name] = summarise([run(dataclasses.replace(cfg, seed=s), a.target) for s in seeds])
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
