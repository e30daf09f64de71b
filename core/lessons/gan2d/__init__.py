"""Lesson gan2d — mode collapse on 2D mixtures (seed 000: mode collapse, GAN hacks; seed 001:
minibatch GANs, supervision with labels, WGAN; seed 003: non-convergence, mode collapse).

Modules: config (settings), data (the 2D targets), nets (G and D for one seed: what the exported
script trains), batched (S seeds of those networks at once, stacked),
methods (one panel: the vanilla GAN or a remedy), record (what a panel remembers), metrics (mode
coverage and quality, the tables), trainer (all panels), pretrained (the shipped runs), charts
(figures), text (the page's words).
"""
from __future__ import annotations

from core.lessons.gan2d.config import (DATASETS, DEFAULT_METHODS, MAX_PANELS, METHODS, SHORT_LABELS, Gan2DConfig,
                                       check_config, show_index)
from core.lessons.gan2d.data import Data2D
from core.lessons.gan2d.metrics import load_table, mode_metrics, panel_summary, seed_table, table_rows
from core.lessons.gan2d.pretrained import (PRETRAIN_STEPS, load_pretrained, merge_checkpoints, pretrain,
                                           pretrained_stem)
from core.lessons.gan2d.trainer import Gan2DTrainer

Trainer = Gan2DTrainer        # what registry-driven code (tests, benchmarks) builds: Trainer(Trainer.Config())

__all__ = ["Trainer", "DATASETS", "DEFAULT_METHODS", "MAX_PANELS", "METHODS", "PRETRAIN_STEPS", "SHORT_LABELS", "Data2D",
           "Gan2DConfig", "Gan2DTrainer", "check_config", "load_pretrained", "load_table", "merge_checkpoints",
           "mode_metrics", "panel_summary", "pretrain", "pretrained_stem", "seed_table", "show_index", "table_rows"]
