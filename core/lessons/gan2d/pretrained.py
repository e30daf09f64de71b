"""The shipped runs: one file per method (``pretrained/gan2d_<method>.pt``, 3,000 steps of the
default ring, seed 0), merged into one trainer for whichever panels the student chose."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import torch

from core.lessons.gan2d.config import METHODS, Gan2DConfig
from core.lessons.gan2d.trainer import LESSON, Gan2DTrainer

PRETRAIN_STEPS = 3000


def pretrained_stem(method: str) -> str:
    """The file stem of a method's shipped run ("wgan-gp" -> "gan2d_wgangp")."""
    return f"gan2d_{method.replace('-', '')}"


def merge_checkpoints(states: list[dict[str, Any]], methods: tuple[str, ...]) -> dict[str, Any]:
    """Combine one-method checkpoints (same config otherwise) into one for the given methods, in
    their order. Raises ValueError if there is none or their lengths differ."""
    if not states:
        raise ValueError("no checkpoint to merge")
    runs: dict[str, Any] = {}
    for s in states:
        runs.update(s["extra"]["runs"])
    steps = {int(s["step"]) for s in states}
    if len(steps) != 1:
        raise ValueError("the recorded runs have different lengths")
    cfg = dict(states[0]["config"])
    cfg["methods"] = [m for m in methods if m in runs]
    return {"lesson": LESSON, "config": cfg, "step": steps.pop(), "model": {"methods": cfg["methods"]},
            "optim": {}, "history": {}, "extra": {"runs": {m: runs[m] for m in cfg["methods"]}}}


def load_pretrained(read: Callable[[str], dict[str, Any]], methods: tuple[str, ...],
                    device: torch.device | None = None, unavailable: type[Exception] = OSError) -> Gan2DTrainer:
    """A trainer holding the shipped runs of ``methods`` (those that have one).

    read(stem) returns a checkpoint dict (e.g. ``core.ui.checkpoint``) or raises ``unavailable``
    for a missing or damaged file, which is skipped; none at all raises ``unavailable``.
    """
    states = []
    for m in methods:
        try:
            states.append(read(pretrained_stem(m)))
        except unavailable:
            continue
    if not states:
        raise unavailable("no recorded run for the chosen methods")
    return Gan2DTrainer.from_checkpoint(merge_checkpoints(states, methods), device)


def pretrain(seed: int = 0, steps: int | None = None) -> dict[str, Any]:
    """A recorded run of every method on the default ring (one small file per method)."""
    steps = steps or PRETRAIN_STEPS
    cfg = Gan2DConfig(seed=seed)
    ckpts, metrics = {}, {}
    for m in METHODS:
        t = Gan2DTrainer(dataclasses.replace(cfg, methods=(m,)), torch.device("cpu"))
        t.step(steps)
        ckpts[pretrained_stem(m)] = t.state_dict()
        last = t.runs[m].rec.last
        metrics[m] = {"covered": int(last["covered"][0]), "hq": round(float(last["hq"][0]), 3),
                      "kl": round(float(last["kl"][0]), 3)}
    metrics["steps"] = steps
    return {"checkpoints": ckpts, "metrics": metrics}
