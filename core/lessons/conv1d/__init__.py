"""Lesson conv1d: convolutions for sequences — Conv1D, dilated causal convolutions (WaveNet) and
the LSTM compared (seed 000 activity 3: an LSTM and a Conv1D on sequences; seed 004: Conv1D has no
notion of order beyond its window, a Conv1D front end before an RNN; seed 002: WaveNet).

Modules: data (the two generated tasks), model (the four models and their layer stacks), fields
(receptive fields and output lengths by formula), flat (one flat parameter vector per model),
config, trainer, charts, text.
"""
from __future__ import annotations

from typing import Any

import torch

from core.lessons.conv1d.config import Conv1dConfig, Conv1dView
from core.lessons.conv1d.trainer import Conv1dTrainer
from core.lessons.conv1d import lesson_view, text  # noqa: E402  (modules the page reads)

Trainer = Conv1dTrainer        # what registry-driven code (tests, benchmarks) builds
CHECKPOINTS = {"longrange": "conv1d_longrange", "control": "conv1d_control"}
PRETRAIN_STEPS = {"longrange": 3000, "control": 1500}


def pretrain(seed: int = 0) -> dict[str, Any]:
    """The shipped runs: the defaults on each task, trained on the CPU."""
    out: dict[str, Any] = {"checkpoints": {}, "metrics": {}}
    for task, stem in CHECKPOINTS.items():
        t = Conv1dTrainer(Conv1dConfig(task=task, seed=seed), torch.device("cpu"))
        t.step(PRETRAIN_STEPS[task])
        t._record_metrics()
        out["checkpoints"][stem] = t.state_dict()
        out["metrics"][task] = {"steps": t.step_count, **{f"acc_{m}": round(a, 4) for m, a in t.accuracies().items()}}
    return out


__all__ = ["Trainer", "CHECKPOINTS", "Conv1dConfig", "Conv1dView", "Conv1dTrainer", "pretrain", "lesson_view", "text"]
