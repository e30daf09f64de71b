"""Lesson autoencoders: a plain autoencoder, a VAE and a denoising autoencoder squeeze 16×16
handwritten digits into a 2-D latent space you can look at and walk through (seed 004: Chollet
8.4, sampling images from a VAE's latent space; seed 001: autoencoders). The digits and their
classifier are shared: ``core.digits``.

Modules: model (the three models as one stack; the reparameterisation and the KL term), metrics
(5-NN accuracy, latent planes, the classifier's verdict), config (settings), trainer, explore
(a picked latent point, interpolations), charts, text.
"""
from __future__ import annotations

from typing import Any

import torch

from core.lessons.autoencoders.config import MODELS, AutoencodersConfig, ExploreConfig
from core.lessons.autoencoders.model import AutoencoderStack, kl_to_prior, reconstruction, reparameterize
from core.lessons.autoencoders.trainer import AutoencodersTrainer

Trainer = AutoencodersTrainer        # what registry-driven code (tests, benchmarks) builds
LESSON = "autoencoders"
CHECKPOINT = "autoencoders_digits"
PRETRAIN_STEPS = 12_000


def slim(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint without Adam's moment estimates and with half-precision weights: the shipped
    file stays well under a megabyte. Loading copies the weights back into float32 parameters
    (rounded to ~3 significant digits); a run loaded from it restarts Adam's averages."""
    out = dict(checkpoint)
    out["optim"] = {k: {**o, "state": {}} for k, o in checkpoint["optim"].items()}
    out["model"] = {k: {n: t.half() if t.is_floating_point() else t for n, t in sd.items()}
                    for k, sd in checkpoint["model"].items()}
    return out


def pretrain(seed: int = 0, steps: int = PRETRAIN_STEPS) -> dict[str, Any]:
    """The shipped run: the defaults trained on the CPU."""
    trainer = AutoencodersTrainer(AutoencodersConfig(seed=seed), torch.device("cpu"))
    trainer.step(steps)
    if trainer.step_count % trainer.config.eval_every:
        trainer._record_metrics()
    last = {k: round(trainer.metrics.last(k), 3) for k in trainer.METRIC_KEYS}
    return {"checkpoints": {CHECKPOINT: slim(trainer.state_dict())}, "metrics": {CHECKPOINT: {"steps": steps, **last}}}


__all__ = ["Trainer", "LESSON", "CHECKPOINT", "MODELS", "AutoencodersConfig", "ExploreConfig", "AutoencodersTrainer",
           "AutoencoderStack", "kl_to_prior", "reconstruction", "reparameterize", "slim", "pretrain"]
