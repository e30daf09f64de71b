"""Lesson charrnn: an LSTM writes text one character at a time (seed 004: Chollet's character-level
text generation with a softmax temperature; seed 001: RNN language models; seed 000: many-to-many).

Modules: config (settings), data (the texts and a student's own), model (the network; training
through torch's fused modules), cells (the same layers step by step, for the cell states and
sampling), sampling (temperature, top-k, top-p, greedy), ngram (the baseline), probe
(interpretable cells), views (what a frame draws), trainer, charts, text (the page's words).
"""
from __future__ import annotations

from typing import Any

import torch

from core.lessons.charrnn.config import CORPORA, CharRnnConfig, check_config
from core.lessons.charrnn.data import TextError, clean_paste, read_upload
from core.lessons.charrnn.trainer import CharRnnTrainer

Trainer = CharRnnTrainer      # what registry-driven code (tests, benchmarks) builds: Trainer(Trainer.Config())

# the shipped runs: checkpoint stem -> (config, steps). Near each text's lowest held-out bits/char
# at these settings: the names are small (33k training characters) and longer runs memorise them.
# Bigger than the defaults (128 units at batch 32, dropout 0.3: the defaults until the names' guided
# steps asked for a model that stays ahead of the n-gram for thousands of steps), and pinned here
# so ``python -m core.pretrain charrnn`` rebuilds the same runs.
PRETRAINED: dict[str, tuple[CharRnnConfig, int]] = {
    "charrnn_names": (CharRnnConfig(corpus="names", hidden=128, dropout=0.3, batch_size=32, seq_len=32), 1200),
    "charrnn_prose": (CharRnnConfig(corpus="prose", hidden=128, dropout=0.3, batch_size=32), 2500),
}


def compact(state: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint small enough to ship: weights in float16 (loaded back into float32) and no
    optimiser moments (training on from it starts Adam afresh). 0.45 MB -> 0.23 MB at 128 units."""
    state["model"] = {k: {n: t.half() if t.is_floating_point() else t for n, t in m.items()}
                      for k, m in state["model"].items()}
    for o in state["optim"].values():
        o["state"] = {}
    return state


def pretrain(seed: int = 0) -> dict[str, Any]:
    """The shipped names and prose runs (trained longer than a class would wait), on the CPU."""
    out: dict[str, Any] = {"checkpoints": {}, "metrics": {}}
    for stem, (cfg, steps) in PRETRAINED.items():
        cfg.seed = seed
        t = CharRnnTrainer(cfg, torch.device("cpu"))
        t.step(steps)
        out["checkpoints"][stem] = compact(t.state_dict())
        m = {"steps": steps, "heldout_bits": round(t.metrics.last("heldout_bits"), 3),
             "ngram3_bits": round(t.ngram.heldout_bits(t.corpus, cfg.add_k)[3], 3)}
        if t.corpus.lines:
            nov = t.novelty()
            m.update(novel=round(nov["novel"], 3), sample_3gram_bits=round(nov["sample_3gram_bits"], 3))
        out["metrics"][stem] = m
    return out


__all__ = ["Trainer", "CORPORA", "CharRnnConfig", "CharRnnTrainer", "TextError", "check_config", "clean_paste",
           "compact", "pretrain", "read_upload"]
