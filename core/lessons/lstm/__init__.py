"""Lesson lstm: inside an LSTM — gates, cell state and gradients through time (seed 001; seed 000).

A small recurrent net (LSTM, GRU or vanilla RNN, hidden size 1–16) with a linear read-out learns
a toy task that needs memory. Training runs through ``torch.nn.LSTM`` / ``GRU`` / ``RNN``; every
number the page shows inside the cell comes from the explicit code in ``cells`` run on a float64
copy of the weights.

Modules: config (settings), data (tasks), model (init, explicit pass, gradient profile), cells
(explicit forward/BPTT), trainer, viewer (the detail views' data), equations (one step written
out), compare (RNN vs LSTM vs GRU), charts (figures), text (the page's words).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import torch

from core.lessons.lstm import cells
from core.lessons.lstm.compare import compare_cells, ratio_back, trained_facts
from core.lessons.lstm.config import (BIT_TASKS, CELL_LABELS, CELLS, MAX_HIDDEN, MAX_LEN, PROBE_BACK, SAMPLE, TASKS,
                                      TYPED, LstmConfig, LstmView, check_config, sv_widgets)
from core.lessons.lstm.data import bit_targets, make_batch, parse_bits, typed_bits
from core.lessons.lstm.model import build_rnn, cell_params
from core.lessons.lstm.trainer import LstmTrainer
from core.lessons.lstm.viewer import BACKWARD_VIEW, FORWARD_VIEW

Trainer = LstmTrainer        # what registry-driven code (tests, benchmarks) builds: Trainer(Trainer.Config())


def pretrain(seed: int = 0, steps: int = 1500) -> dict[str, Any]:
    """The shipped runs: the default task trained with each cell type on the CPU.

    Also measures the lesson's check: on the default settings, ‖∂L/∂h‖ 50 steps back of the LSTM
    divided by the vanilla RNN's, at initialisation and after training.
    """
    base = LstmConfig(seed=seed)
    trainers, ckpts, metrics = {}, {}, {}
    init_prof = compare_cells(base)
    for cell in CELLS:
        tr = LstmTrainer(dataclasses.replace(base, cell=cell), torch.device("cpu"))
        tr.step(steps)
        tr._record_metrics()
        trainers[cell] = tr
        ckpts[f"lstm_{cell}"] = tr.state_dict()
        loss, acc = tr.evaluate()
        metrics[f"{cell}_eval_acc"] = round(acc, 4)
        metrics[f"{cell}_eval_loss"] = round(loss, 5)
    trained_prof = compare_cells(base, trainers)
    metrics["steps"] = steps
    for name, prof in (("init", init_prof), ("trained", trained_prof)):
        for num in ("lstm", "gru"):
            # relative: ‖δh_{T−51}‖/‖δh_{T−1}‖ per sequence; raw: ‖δh_{T−51}‖
            metrics[f"ratio_{num}_rnn_50_back_{name}"] = float(f"{ratio_back(prof, num=num):.4g}")
            metrics[f"ratio_{num}_rnn_50_back_{name}_raw"] = float(f"{ratio_back(prof, num=num, key='dh'):.4g}")
    facts = trained_facts(trained_prof)
    metrics.update({f"trained_{k}": float(f"{v:.4g}") for k, v in facts.items() if isinstance(v, float)})
    return {"checkpoints": ckpts, "metrics": metrics}


__all__ = ["Trainer", "BACKWARD_VIEW", "BIT_TASKS", "CELL_LABELS", "CELLS", "FORWARD_VIEW", "MAX_HIDDEN", "MAX_LEN",
           "PROBE_BACK", "SAMPLE", "TASKS", "TYPED", "LstmConfig", "LstmTrainer", "LstmView", "bit_targets", "build_rnn", "cell_params",
           "cells", "check_config", "compare_cells", "make_batch", "parse_bits", "pretrain", "ratio_back", "sv_widgets",
           "trained_facts", "typed_bits"]
