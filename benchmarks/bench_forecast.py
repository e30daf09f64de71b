"""Headless training of the forecasting lesson: seconds to test RMSE ≤ 50 and epochs/s per model,
and how long one live step takes at the largest settings the page allows (Pause waits for one).

    python benchmarks/bench_forecast.py [--seeds 0 1 2] [--target 50] [--only-steps]

The default airline run (LSTM, look-back 12, window as features, Adam lr 0.01, batch 8) and the
same settings with each other model; then the lecture's Keras reference setting (LSTM(4),
look-back 1, batch 1, Adam lr 0.001, 100 epochs) and a stateful LSTM. Training time counts
everything ``step`` does (the per-epoch train/test evaluation included). The live-step part times
``step(1)`` of the page's sliced trainer (``live_trainer``) at the widgets' maxima. Prints one JSON
object. One torch thread, CPU, as the server runs it.
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

from core.lessons.forecast import ForecastConfig, ForecastTrainer, live_trainer  # noqa: E402


def run(cfg: ForecastConfig, target: float) -> dict:
    t = ForecastTrainer(cfg, torch.device("cpu"))
    hit_s = hit_ep = None
    while not t.finished:
        t.train_epochs(1)
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


# The widgets' maxima: L 24 as time steps, 3 × 64 units, dropout 0.5, batch 1, the longest generated
# series with 90 % for training (1,776 training pairs: an epoch takes seconds), and a 5,000-value
# upload (the upload limit) where the stateful evaluation runs pair by pair.
MAX_SETTINGS = dict(source="sine", length=2000, noise=0.5, train_frac=0.9, look_back=24, framing="timesteps",
                    hidden=64, layers=3, dropout=0.5, batch_size=1, epochs=2000, horizon=120)
UPLOAD = tuple(float(v) for v in np.sin(np.arange(5000) / 7.0))
STEP_CASES = {
    "lstm_batch1": {}, "lstm_batch128": {"batch_size": 128}, "lstm_stateful": {"stateful": True},
    "gru_stateful_features": {"model": "gru", "stateful": True, "framing": "features"},
    "upload5000_lstm_stateful": {"source": "upload", "custom_values": UPLOAD, "stateful": True},
    "upload5000_lstm_batch1": {"source": "upload", "custom_values": UPLOAD},
}


def live_steps(seconds: float = 3.0) -> dict:
    """Seconds per ``step(1)`` of the live (sliced) trainer at the largest settings, and per frame."""
    out = {}
    for name, kw in STEP_CASES.items():
        t = live_trainer(ForecastConfig(**{**MAX_SETTINGS, **kw}), torch.device("cpu"))
        times, t0 = [], time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            s = time.perf_counter()
            t.step(1)
            times.append(time.perf_counter() - s)
        s = time.perf_counter()
        t.snapshot()
        out[name] = {"max_step_s": round(max(times), 3), "p95_step_s": round(float(np.percentile(times, 95)), 3),
                     "median_step_s": round(float(np.median(times)), 3), "epochs_done": t.step_count,
                     "snapshot_s": round(time.perf_counter() - s, 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--target", type=float, default=50.0)
    ap.add_argument("--only-steps", action="store_true", help="only the live-step timing at the maxima")
    a = ap.parse_args()
    torch.set_num_threads(1)
    machine = f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, 1 thread"
    if a.only_steps:
        print(json.dumps({"machine": machine, "live_step_at_max_settings": live_steps()}, indent=1))
        return
    base = ForecastConfig()
    cases = {f"default_{m}": dataclasses.replace(base, model=m) for m in ("lstm", "mlp", "rnn", "gru")}
    cases["default_lstm_timesteps"] = dataclasses.replace(base, framing="timesteps")
    cases["keras_reference_lstm4_lb1_batch1"] = dataclasses.replace(
        base, look_back=1, hidden=4, batch_size=1, lr=0.001, epochs=100)
    cases["stateful_lstm_lb1"] = dataclasses.replace(base, look_back=1, hidden=4, stateful=True, lr=0.001, epochs=100)
    out = {"machine": machine, "target_test_rmse": a.target, "unit": "thousand passengers", "seeds": a.seeds, "cases": {}}
    t0 = time.perf_counter()
    for name, cfg in cases.items():
        seeds = a.seeds if not name.startswith(("keras", "stateful")) else a.seeds[:1]
        out["cases"][name] = summarise([run(dataclasses.replace(cfg, seed=s), a.target) for s in seeds])
    out["live_step_at_max_settings"] = live_steps()
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
