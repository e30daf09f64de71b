"""Headless training of the forecasting lesson: seconds to test RMSE ≤ 50 and epochs/s per model,
and how long one live step takes at the largest settings the page allows (Pause waits for one).

    python benchmarks/bench_forecast.py [--seeds 0 1 2] [--target 50] [--only-steps]

The default airline run (LSTM, look-back 12, window as features, Adam lr 0.01, batch 8) and the
same settings with each other model; then the lecture's Keras reference setting (LSTM(4),
look-back 1, batch 1, Adam lr 0.001, 100 epochs) and a stateful LSTM. Training time counts
everything ``step`` does (the per-epoch train/test evaluation included). The live-step part times
``step(1)`` of the page's sliced trainer (``live_trainer``) at the widgets' maxima. Prints one JSON
object. One torch thread, CPU, as the server runs it.

    python benchmarks/bench_forecast.py --speedup [--seeds 0 1 2]

The lesson's default run against the lecture's loop written plainly in torch (look-back 1, LSTM(4),
batch 1, Adam lr 0.001, MSE, 100 epochs, scaler fitted on the training part): seconds until the
test RMSE first reaches ``--target``, per seed, in the same run, wall clock and thread CPU time
(the CPU time is what the work costs when the machine is not shared). Ours counts everything
``step`` does (training, the per-epoch evaluation of all pairs, the history and blow-up checks);
the plain loop counts its training only (its per-epoch evaluation, needed to see when it gets
there, is left out of its time, in its favour). A plain seed that never gets there within its 100
epochs counts as never (∞) in the median. ``ours`` and ``plain_loop`` (epochs/s of the default
run and of a plain loop of the same model, evaluation included in both) are what
``benchmarks/bench_throughput.py`` tabulates.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from torch import nn  # noqa: E402

from core.lessons.forecast import EPOCHS, ForecastConfig, ForecastTrainer, live_trainer  # noqa: E402
from core.lessons.forecast.data import Scaler, frame_windows, load_airline, make_windows, split_point  # noqa: E402
from benchmarks.bench_throughput import rate  # noqa: E402  (the shared timing loop)

STEP = ("one epoch of the default airline run: 11 Adam steps (lr 0.01, batch 8) of LSTM(8) + linear head over "
        "the 84 training windows (look-back 12, window as features), then the one-step predictions of all "
        "132 windows and the train/test RMSE")


class PlainRun:
    """The airline LSTM as a tutorial writes it: nn.LSTM + nn.Linear, autograd, torch.optim.Adam,
    MSE, shuffled mini-batches each epoch, no DataLoader. Windows as features [N, 1, L], [0, 1]
    scaling fitted on the training part (the lesson's own split and windows)."""

    def __init__(self, look_back: int, hidden: int, batch: int, lr: float, seed: int) -> None:
        v = load_airline().values
        n_train = split_point(len(v), 0.67)
        self.scaler = Scaler.fit(v[:n_train])
        X, y, t = make_windows(self.scaler.transform(v), look_back)
        self.k, self.batch = int((t < n_train).sum()), batch
        self.X = torch.from_numpy(frame_windows(X, "features")).float()        # [N, 1, L]
        self.y = torch.from_numpy(y[:, None]).float()                            # [N, 1]
        self.actual = torch.from_numpy(v[t]).float()                             # [N] passengers
        torch.manual_seed(seed)
        self.lstm, self.head = nn.LSTM(look_back, hidden, batch_first=True), nn.Linear(hidden, 1)
        self.opt = torch.optim.Adam([*self.lstm.parameters(), *self.head.parameters()], lr=lr)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])

    def epoch(self) -> None:
        for idx in torch.randperm(self.k).split(self.batch):
            loss = nn.functional.mse_loss(self.predict(self.X[idx]), self.y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()

    @torch.no_grad()
    def rmse(self) -> tuple[float, float]:
        """Train and test RMSE in thousands of passengers."""
        err2 = (self.scaler.inverse(self.predict(self.X)[:, 0]) - self.actual) ** 2
        return float(err2[:self.k].mean().sqrt()), float(err2[self.k:].mean().sqrt())


def ours(seconds: float) -> float:
    """Epochs/s of the lesson's trainer at its defaults (the epoch cap raised so it keeps going)."""
    t = ForecastTrainer(ForecastConfig(epochs=EPOCHS[-1]), torch.device("cpu"))
    return rate(t.step, seconds, warmup=3)


def plain_loop(seconds: float) -> float:
    """Epochs/s of the same model trained plainly (``PlainRun``), each epoch followed by its RMSEs."""
    cfg = ForecastConfig()
    p = PlainRun(cfg.look_back, cfg.hidden, cfg.batch_size, cfg.lr, 0)

    def epochs(n: int) -> None:
        for _ in range(n):
            p.epoch()
            p.rmse()

    return rate(epochs, seconds, warmup=3)


def plain_to_target(seed: int, target: float, epochs: int = 100) -> dict:
    """The lecture's loop (L 1, LSTM(4), batch 1, Adam 0.001): training seconds until test RMSE ≤ target."""
    p = PlainRun(1, 4, 1, 1e-3, seed)
    wall = cpu = 0.0
    for ep in range(1, epochs + 1):
        w0, c0 = time.perf_counter(), time.thread_time()
        p.epoch()
        wall, cpu = wall + time.perf_counter() - w0, cpu + time.thread_time() - c0
        train, test = p.rmse()                           # not timed
        if test <= target:
            return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "epochs": ep, "test_rmse": round(test, 2)}
    return {"wall_s": None, "cpu_s": None, "epochs": None, "never_in_s": round(wall, 2),
            "final_train_rmse": round(train, 2), "final_test_rmse": round(test, 2)}


def ours_to_target(seed: int, target: float) -> dict:
    """The lesson's default run, epoch by epoch as the page counts them, to its last epoch."""
    b0 = time.perf_counter()
    t = ForecastTrainer(ForecastConfig(seed=seed), torch.device("cpu"))
    build = time.perf_counter() - b0                      # not counted (nor is the plain loop's setup)
    wall = cpu = 0.0
    hit: dict = {"wall_s": None, "cpu_s": None, "epochs": None}
    while not t.finished:
        w0, c0 = time.perf_counter(), time.thread_time()
        t.step(1)                                         # train + evaluate + history + blow-up check
        wall, cpu = wall + time.perf_counter() - w0, cpu + time.thread_time() - c0
        if hit["epochs"] is None and t.history.last("test_rmse") <= target:
            hit = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "epochs": t.step_count}
    h = t.history.arrays()
    return {**hit, "build_s": round(build, 3), "total_wall_s": round(wall, 2),
            "final_train_rmse": round(float(h["train_rmse"][-1]), 2),
            "final_test_rmse": round(float(h["test_rmse"][-1]), 2)}


def speedup(seeds: list[int], target: float) -> dict:
    """Ours against the lecture's plain loop, seed by seed in the same run (medians; never = ∞)."""
    rows = {s: {"ours": ours_to_target(s, target), "plain_lecture_loop": plain_to_target(s, target)} for s in seeds}

    def med(who: str, key: str) -> float:
        return float(np.median([math.inf if r[who][key] is None else r[who][key] for r in rows.values()]))

    out: dict = {"target_test_rmse": target, "seeds": {str(s): r for s, r in rows.items()}}
    for key in ("wall_s", "cpu_s"):
        o, p = med("ours", key), med("plain_lecture_loop", key)
        out[f"median_{key}"] = {"ours": o if math.isfinite(o) else None, "plain": p if math.isfinite(p) else None,
                                "speedup": round(p / o, 1) if math.isfinite(p) and math.isfinite(o) else None}
    out["median_final_test_rmse_ours"] = float(np.median([r["ours"]["final_test_rmse"] for r in rows.values()]))
    return out


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
    ap.add_argument("--speedup", action="store_true", help="only the default run against the lecture's plain loop")
    a = ap.parse_args()
    torch.set_num_threads(1)
    machine = f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, 1 thread"
    if a.speedup:
        print(json.dumps({"machine": machine, "against_the_lecture_loop": speedup(a.seeds, a.target)}, indent=1))
        return
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
    out["against_the_lecture_loop"] = speedup(a.seeds, a.target)
    out["live_step_at_max_settings"] = live_steps()
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
