"""The character-level lesson's targets (issue 13), one torch thread on the CPU:

    python benchmarks/bench_charrnn.py [--prose-seconds 60] [--names-seconds 30] [--speed-steps 30]

Prints one JSON object:
* ``speed``: steps/s of CharRnnTrainer.step against a plain PyTorch loop of the same model (the
  same ``nn.LSTM`` on one-hot characters + ``nn.Linear``, the same batch and length, the same
  initial weights) in the same run, alternating in rounds; the median round counts.
* ``prose``: the defaults on the prose text for N seconds of wall time: held-out bits/char at
  each measurement, the first time it went below the 3-gram's, and the n-gram lines.
* ``names``: the defaults on the names for N seconds, then 200 names sampled at T = 0.8: the
  share not in the list (novel), and their 3-gram bits/char against held-out names'.
* ``frame``: the cost of one snapshot (samples at 4 temperatures, 120 characters) and of the
  slowest training step the page accepts.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from core.lessons.charrnn import CharRnnConfig, CharRnnTrainer  # noqa: E402
from core.lessons.charrnn.config import MAX_WORK, work  # noqa: E402

CPU = torch.device("cpu")


class PlainModel(nn.Module):
    """What one writes first: nn.LSTM on one-hot characters (batch first), dropout, a linear layer."""

    def __init__(self, V: int, H: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.V = V
        self.rnn = nn.LSTM(V, H, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(H, V)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.rnn(F.one_hot(x, self.V).float())
        return self.out(self.drop(y))


def plain_step_fn(trainer: CharRnnTrainer):
    """A plain loop of the trainer's model: random windows, Adam, clipping, loss.item() per step."""
    cfg, V = trainer.config, trainer.corpus.V
    model = PlainModel(V, cfg.hidden, cfg.layers, cfg.dropout)
    model.rnn.load_state_dict(trainer.model.rnn.state_dict())
    model.out.load_state_dict(trainer.model.out.state_dict())
    opt = torch.optim.Adam(model.parameters(), cfg.lr)
    data = torch.from_numpy(trainer.corpus.ids[: trainer.corpus.split].astype(np.int64))
    B, T = cfg.batch_size, cfg.seq_len
    losses: list[float] = []

    def step(n: int) -> None:
        for _ in range(n):
            idx = torch.randint(0, len(data) - T - 1, (B,))
            x = torch.stack([data[i:i + T] for i in idx])
            y = torch.stack([data[i + 1:i + T + 1] for i in idx])
            loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            losses.append(loss.item())
    return step


STEP = "one Adam step of the default model (its batch, BPTT length and clipping) on random windows of the default text"


def ours(seconds: float) -> float:
    """Steps/s of the lesson's trainer at its defaults (for benchmarks/bench_throughput.py)."""
    from benchmarks.bench_throughput import rate
    return rate(CharRnnTrainer(CharRnnConfig(), CPU).step, seconds)


def plain_loop(seconds: float) -> float:
    """Steps/s of the plain loop of the same model (for benchmarks/bench_throughput.py)."""
    from benchmarks.bench_throughput import rate
    return rate(plain_step_fn(CharRnnTrainer(CharRnnConfig(), CPU)), seconds)


def speed(cfg: CharRnnConfig, steps: int, rounds: int = 5) -> dict:
    t = CharRnnTrainer(cfg, CPU)
    plain = plain_step_fn(t)
    t.step(3)
    plain(3)
    rates: dict[str, list[float]] = {"trainer": [], "plain": []}
    for _ in range(rounds):
        for name, fn in (("trainer", t.step), ("plain", plain)):
            t0 = time.perf_counter()
            fn(steps)
            rates[name].append(steps / (time.perf_counter() - t0))
    tr, pl = statistics.median(rates["trainer"]), statistics.median(rates["plain"])
    return {"config": f"{cfg.cell} H={cfg.hidden} L={cfg.layers} B={cfg.batch_size} T={cfg.seq_len}",
            "trainer_steps_per_s": round(tr, 1), "plain_steps_per_s": round(pl, 1), "ratio": round(tr / pl, 2)}


def train_for(cfg: CharRnnConfig, seconds: float) -> tuple[CharRnnTrainer, list]:
    t = CharRnnTrainer(cfg, CPU)
    curve, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        before = len(t.metrics)
        t.step(cfg.eval_every)
        if len(t.metrics) > before:
            curve.append((round(time.perf_counter() - t0, 1), t.step_count, round(t.metrics.last("heldout_bits"), 3)))
    return t, curve


def prose(seconds: float) -> dict:
    cfg = CharRnnConfig(corpus="prose")
    t, curve = train_for(cfg, seconds)
    lines = t.ngram.heldout_bits(t.corpus, cfg.add_k)
    beat = next(((s, n, b) for s, n, b in curve if b < lines[3]), None)
    return {"seconds": seconds, "steps": t.step_count, "final_bits": curve[-1][2] if curve else None,
            "ngram_bits": {n: round(b, 3) for n, b in lines.items()},
            "beats_3gram_at": {"seconds": beat[0], "step": beat[1], "bits": beat[2]} if beat else None,
            "curve": curve[:: max(1, len(curve) // 12)]}


def names(seconds: float) -> dict:
    cfg = CharRnnConfig(corpus="names")
    t, curve = train_for(cfg, seconds)
    runs = [t.novelty()]
    # ~250 names: four draws of 64 with different seeds
    got, n_names = [], 0
    for seed in range(4):
        t.config = dataclasses.replace(t.config, seed=seed)
        nov = t.novelty()
        got.append((nov["novel"], nov["n_names"], nov["sample_3gram_bits"]))
        n_names += nov["n_names"]
    w = np.array([g[1] for g in got], dtype=float)
    return {"seconds": seconds, "steps": t.step_count, "heldout_bits": round(t.metrics.last("heldout_bits"), 3),
            "ngram3_bits": round(t.ngram.heldout_bits(t.corpus, cfg.add_k)[3], 3),
            "names_sampled": n_names, "novel_share_T0.8": round(float(np.dot(w, [g[0] for g in got]) / w.sum()), 3),
            "sample_3gram_bits": round(float(np.dot(w, [g[2] for g in got]) / w.sum()), 3),
            "heldout_names_3gram_bits": round(runs[0]["heldout_3gram_bits"], 3), "examples": runs[0]["names"][:10]}


def frame_costs() -> dict:
    t = CharRnnTrainer(CharRnnConfig(), CPU)
    t.step(5)
    t.snapshot(running=True)
    t0 = time.perf_counter()
    for _ in range(5):
        t.snapshot(running=True)
    snap_ms = (time.perf_counter() - t0) / 5 * 1000
    t0 = time.perf_counter()
    t._detail = None
    t.snapshot(running=False)
    paused_ms = (time.perf_counter() - t0) * 1000
    # a slow step the page accepts (check_config's budget: 2.5× the defaults' work)
    big = CharRnnConfig(layers=2, hidden=128, batch_size=32, seq_len=64)
    assert work(big) <= MAX_WORK
    b = CharRnnTrainer(big, CPU)
    b.step(2)
    t0 = time.perf_counter()
    b.step(5)
    return {"snapshot_ms_training": round(snap_ms, 1), "snapshot_ms_paused_with_cell_search": round(paused_ms, 1),
            "max_settings_step_s": round((time.perf_counter() - t0) / 5, 3), "max_settings": "2 × 128 units, 32 × 64 characters", "work_vs_defaults": round(work(big) / work(CharRnnConfig()), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prose-seconds", type=float, default=60)
    ap.add_argument("--names-seconds", type=float, default=30)
    ap.add_argument("--speed-steps", type=int, default=30)
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = {"device": "cpu", "torch_threads": 1, "torch": torch.__version__}
    out["speed"] = [speed(CharRnnConfig(corpus="prose"), a.speed_steps),
                    speed(CharRnnConfig(corpus="names"), a.speed_steps)]
    out["frame"] = frame_costs()
    out["names"] = names(a.names_seconds)
    out["prose"] = prose(a.prose_seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
