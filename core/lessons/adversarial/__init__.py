"""Lesson adversarial: a nudge no one can see makes a digit classifier say 3 (seed 001's slide,
"panda + ε · sign(∇ₓ J) = gibbon": the fast gradient sign method), then adversarial training.
Built on the shared digits (``core.digits``), with pixels in [0, 1].

Modules: models (MLP and convnet), attacks (FGSM, BIM/PGD, the accuracy-against-ε curve), probe
(the attack on one digit the page shows), config (settings), trainer (the clean and the
adversarially trained model side by side), charts, text.
"""
from __future__ import annotations

from typing import Any

import torch

from core.lessons.adversarial.attacks import fgsm, fgsm_curve, fgsm_perturbation, input_gradient, pgd, project
from core.lessons.adversarial.config import AdversarialConfig, METHODS, MODELS, SIZES, width_of
from core.lessons.adversarial.models import KINDS, make_model, to_unit
from core.lessons.adversarial.trainer import EPS_GRID, EPS_REPORT, AdversarialTrainer
from core.lessons.adversarial import charts, text  # noqa: E402  (modules the page reads)

Trainer = AdversarialTrainer        # what registry-driven code (tests, benchmarks) builds
LESSON = "adversarial"
CHECKPOINT = "adversarial_digits"
PRETRAIN_STEPS = 6000


def pretrain(seed: int = 0, steps: int = PRETRAIN_STEPS) -> dict[str, Any]:
    """The shipped run: the defaults trained ``steps`` steps on the CPU, curves measured at the end."""
    trainer = AdversarialTrainer(AdversarialConfig(seed=seed), torch.device("cpu"))
    trainer.step(steps)
    trainer.measure_now()
    c, r = trainer.curves
    j = EPS_GRID.index(EPS_REPORT)
    # Adam's moment estimates are kept (the file is 0.37 MB): without them a loaded run restarts
    # Adam, whose first steps are ~lr per weight, and the clean model's loss jumps 100-fold.
    return {"checkpoints": {CHECKPOINT: trainer.state_dict()},
            "metrics": {"steps": trainer.step_count, "clean_acc": round(float(c[0]), 3),
                        "clean_fgsm_0.2": round(float(c[j]), 3), "robust_acc": round(float(r[0]), 3),
                        "robust_fgsm_0.2": round(float(r[j]), 3)}}


__all__ = ["Trainer", "LESSON", "CHECKPOINT", "AdversarialConfig", "AdversarialTrainer", "EPS_GRID", "EPS_REPORT",
           "KINDS", "METHODS", "MODELS", "SIZES", "fgsm", "fgsm_curve", "fgsm_perturbation", "input_gradient",
           "make_model", "pgd", "pretrain", "project", "to_unit", "width_of", "charts", "text"]
