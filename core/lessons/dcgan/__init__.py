"""Lesson dcgan: a DCGAN draws 16×16 handwritten digits, and a conditional GAN draws the digit
asked for (seed 000 activity 5; seed 002's DCGAN guidelines; seeds 001 and 004: conditional GANs,
latent walks and arithmetic). The digits and their classifier are shared: ``core.digits``.

Modules: model (G and D, the upsampling kinds, size formulas), losses, metrics (the classifier as
judge), config (settings), trainer, latent (walks and arithmetic), charts, text.
"""
from __future__ import annotations

from typing import Any

import torch

from core.lessons.dcgan.config import ATTRIBUTES, DcganConfig, LatentConfig
from core.lessons.dcgan.losses import d_loss, g_loss
from core.lessons.dcgan.model import UPSAMPLING, Discriminator, Generator, conv_size, tconv_size
from core.lessons.dcgan.trainer import DcganTrainer
from core.lessons.dcgan import charts, latent, text  # noqa: E402  (modules the page reads)

Trainer = DcganTrainer        # what registry-driven code (tests, benchmarks) builds
LESSON = "dcgan"
CHECKPOINTS = {False: "dcgan_digits", True: "dcgan_conditional"}
PRETRAIN_STEPS = {False: 12_000, True: 6_000}


def slim(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint without Adam's moment estimates (two more copies of every weight) and without
    the averaged generator (a third copy of G): shipped files stay under 750 KB; a run loaded from
    one restarts Adam's averages, and Ḡ starts again from G."""
    out = dict(checkpoint)
    out["optim"] = {k: {**o, "state": {}} for k, o in checkpoint["optim"].items()}
    out["model"] = {k: m for k, m in checkpoint["model"].items() if k != "G_avg"}
    return out


def pretrain(seed: int = 0, steps: dict[bool, int] | None = None) -> dict[str, Any]:
    """The shipped runs: the default DCGAN and the conditional one, trained on the CPU."""
    steps = steps or PRETRAIN_STEPS
    out: dict[str, Any] = {"checkpoints": {}, "metrics": {}}
    for conditional, stem in CHECKPOINTS.items():
        trainer = DcganTrainer(DcganConfig(seed=seed, conditional=conditional), torch.device("cpu"))
        trainer.step(steps[conditional])
        if trainer.step_count % trainer.config.eval_every:
            trainer._record_metrics()
        out["checkpoints"][stem] = slim(trainer.state_dict())
        snap = trainer.snapshot()
        out["metrics"][stem] = {"steps": trainer.step_count, "accepted": round(snap["accepted"], 3),
                                "classes": int(snap["classes"]),
                                **({"label_match": round(snap["label_match"], 3)} if conditional else {})}
    return out


__all__ = ["Trainer", "LESSON", "CHECKPOINTS", "ATTRIBUTES", "DcganConfig", "LatentConfig", "DcganTrainer",
           "Generator", "Discriminator", "UPSAMPLING", "conv_size", "tconv_size", "d_loss", "g_loss", "slim",
           "pretrain", "charts", "latent", "text"]
