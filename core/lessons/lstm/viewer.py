"""The detail views' data: one sequence through the explicit cell (float64), every gate, state
and gradient as [H, T] arrays, the numbers of one step's equations, and the steps-back profile.

Costly (an explicit forward + BPTT of one sequence and of 32 held-out ones: ≈ 10–25 ms), so the
page computes it only when training is paused or on demand, never every frame.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from core.lessons.lstm import cells as rc
from core.lessons.lstm.config import BIT_TASKS
from core.lessons.lstm.data import is_classification, typed_sequence
from core.lessons.lstm.model import cell_params

if TYPE_CHECKING:
    from core.lessons.lstm.trainer import LstmTrainer

# What the forward / backward views draw per cell: (key in the explicit dicts, label)
FORWARD_VIEW: dict[str, list[tuple[str, str]]] = {
    "lstm": [("i", "input gate i"), ("f", "forget gate f"), ("o", "output gate o"),
             ("g", "candidate g"), ("c", "cell state c"), ("h", "hidden state h")],
    "gru": [("r", "reset gate r"), ("z", "update gate z"), ("n", "candidate n"), ("h", "hidden state h")],
    "rnn": [("a", "pre-activation a"), ("h", "hidden state h")],
}
BACKWARD_VIEW: dict[str, list[tuple[str, str]]] = {
    "lstm": [("dh", "δh = ∂L/∂h"), ("dc", "δc = ∂L/∂c"), ("da_i", "∂L/∂(input gate pre-act.)"),
             ("da_f", "∂L/∂(forget gate pre-act.)"), ("da_g", "∂L/∂(candidate pre-act.)"),
             ("da_o", "∂L/∂(output gate pre-act.)")],
    "gru": [("dh", "δh = ∂L/∂h"), ("da_r", "∂L/∂(reset gate pre-act.)"),
            ("da_z", "∂L/∂(update gate pre-act.)"), ("da_n", "∂L/∂(candidate pre-act.)")],
    "rnn": [("dh", "δh = ∂L/∂h"), ("da", "∂L/∂a (pre-activation)")],
}


def sequence(trainer: "LstmTrainer", bits: np.ndarray | None, sample: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One sequence: typed bits [T'] (bit tasks) or held-out sample ``sample``. x [T, 1, I], y."""
    if bits is not None and trainer.config.task in BIT_TASKS:
        return typed_sequence(trainer.config, bits)
    k = int(sample) % trainer.N_EVAL
    return trainer._eval_x[:, k:k + 1], trainer._eval_y[:, k:k + 1]


def inspect(trainer: "LstmTrainer", bits: np.ndarray | None = None, sample: int = 0, t: int | None = None,
            unit: int = 0) -> dict[str, Any]:
    """Everything the detail views draw.

    fwd[name], bwd[name]: [H, T] for the chosen sequence (explicit code, float64); x: [T, I];
    target / pred: [T_out]; terms: the equations' numbers at step t for ``unit``; profile: [T]
    per key (index = steps back, mean over 32 held-out sequences).
    """
    cfg = trainer.config
    with torch.no_grad():
        x, y = sequence(trainer, bits, sample)
        ex = trainer.explicit(x, y)
        T = x.shape[0]
        t = T - 1 if t is None else min(max(int(t), 0), T - 1)
        unit = min(max(int(unit), 0), int(cfg.hidden) - 1)
        p = cell_params(trainer.rnn, cfg.cell)
        terms = rc.step_terms(cfg.cell, x.double(), p, ex["fwd"], t, unit)
        fwd = {k: ex["fwd"][k][:, 0].T.numpy() for k, _ in FORWARD_VIEW[cfg.cell]}
        bwd = {k: ex["bwd"][k][:, 0].T.numpy() for k, _ in BACKWARD_VIEW[cfg.cell]}
        prof = trainer.profile()
    return {
        "step": trainer.step_count, "cell": cfg.cell, "task": cfg.task, "T": T, "t": t, "unit": unit,
        "x": x[:, 0].numpy().astype(np.float64), "target": y[:, 0].numpy().astype(np.float64),
        "pred": ex["pred"][:, 0].numpy(), "last_loss": float(ex["last_loss"][0]),
        "fwd": fwd, "bwd": bwd, "terms": terms, "profile": prof, "gamma": rc.GAMMA["tanh"],
        "classification": is_classification(cfg.task), "typed": bits is not None and cfg.task in BIT_TASKS,
    }
