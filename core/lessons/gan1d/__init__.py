"""Lesson gan1d: a GAN that learns points (x, f(x)) on a 1D function (seed 000 activity 4; seed 003).

Modules: config (settings), losses (GAN losses on the logit, with gradients), metrics, trainer
(Algorithm 1 on the fast flat nets), charts (figures), text (the page's words).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.lessons.gan1d.config import CUSTOM, G_LOSSES, TARGETS, Gan1DConfig, check_config, preset_of
from core.lessons.gan1d.metrics import sliced_wasserstein
from core.lessons.gan1d.trainer import Gan1DTrainer, mlp_sizes

Trainer = Gan1DTrainer        # what registry-driven code (tests, benchmarks) builds: Trainer(Trainer.Config())


def pretrain(seed: int = 0, steps: int = 5000) -> dict[str, Any]:
    """The shipped x² run: the default config trained ``steps`` iterations on the CPU."""
    trainer = Gan1DTrainer(Gan1DConfig(seed=seed), torch.device("cpu"))
    trainer.step(steps)
    m = trainer.metrics.arrays()
    return {
        "checkpoints": {"gan1d_x2": trainer.state_dict()},
        "metrics": {"steps": trainer.step_count,
                    "mean_abs_err": round(float(m["mean_abs_err"][-1]), 5),
                    "best_mean_abs_err": round(float(np.nanmin(m["mean_abs_err"])), 5),
                    "sliced_w1": round(float(m["sliced_w1"][-1]), 5),
                    "d_real": round(trainer.history.last("d_real"), 4),
                    "d_fake": round(trainer.history.last("d_fake"), 4)},
    }


__all__ = ["Trainer", "CUSTOM", "G_LOSSES", "TARGETS", "Gan1DConfig", "Gan1DTrainer", "check_config", "mlp_sizes",
           "preset_of", "pretrain", "sliced_wasserstein"]
