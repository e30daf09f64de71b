"""Lesson seq2seq: an encoder–decoder translates dates and reverses digits, without and with
attention, side by side (seed 001: the whole input squeezed into one vector; attention as the fix).

Modules: data (the generated tasks, the alphabet, typed-input checks), model (encoder, decoder,
additive and dot attention), decoding (greedy, beam search), explain (one step's context vector
with its numbers), optim (Adam with a compact checkpoint), trainer, charts, text (the page's words).
"""
from __future__ import annotations

from typing import Any

import torch

from core.lessons.seq2seq.config import Seq2SeqConfig
from core.lessons.seq2seq.trainer import Seq2SeqTrainer

Trainer = Seq2SeqTrainer       # what registry-driven code (tests, benchmarks) builds: Trainer(Trainer.Config())
PRETRAIN_STEPS = {"dates": 3000, "reverse": 2000}


def pretrain(seed: int = 0, steps: dict[str, int] | None = None) -> dict[str, Any]:
    """The shipped runs: the default config on each task, trained on the CPU."""
    steps = steps or PRETRAIN_STEPS
    checkpoints, metrics = {}, {}
    for task, n in steps.items():
        trainer = Seq2SeqTrainer(Seq2SeqConfig(seed=seed, task=task), torch.device("cpu"))
        trainer.step(n)
        trainer.evaluate(record=False)      # already recorded at a multiple of eval_every
        trainer.opt.compact = True          # bfloat16 moments: the shipped file stays small
        acc = trainer.last_acc
        checkpoints[f"seq2seq_{task}"] = trainer.state_dict()
        metrics[task] = {"steps": trainer.step_count,
                         "held_out_exact_match_attention": round(float(acc["attn"][0]), 4),
                         "held_out_exact_match_plain": round(float(acc["plain"][0]), 4),
                         "longest_inputs_attention": round(float(acc["attn"][1]), 4),
                         "longest_inputs_plain": round(float(acc["plain"][1]), 4),
                         "by_length_plain": [round(float(v), 3) for v in trainer.by_length["plain"]],
                         "by_length_attention": [round(float(v), 3) for v in trainer.by_length["attn"]]}
    return {"checkpoints": checkpoints, "metrics": metrics}


__all__ = ["Trainer", "Seq2SeqConfig", "Seq2SeqTrainer", "pretrain"]
