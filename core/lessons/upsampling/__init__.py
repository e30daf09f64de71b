"""Lesson: upsampling vs transposed convolution, and where checkerboards come from
(seed 000: "How to upsample with a CNN" — UpSampling2D, Conv2DTranspose, the 1×1 stride-2 example;
DCGAN's fractionally-strided convolutions; seed 002: a generator of UpSampling2D + Conv2D).

Modules:
  grids     typed grids of numbers (parse, format, resize, spreadsheet edits)
  ops       nearest / bilinear upsampling and the transposed convolution by zero insertion
  overlap   the 1D overlap counts behind checkerboards, and their verdict
  viewer    what the viewer and overlap views draw (checked against torch.nn.functional)
  data      the decoders' targets, generated in code
  model     the four decoders
  metrics   the checkerboard score
  config    every setting, declared once
  trainer   the four decoders trained side by side
  charts    figures (Vega-Lite specs, image tiles); text: the page's explanations
"""
from __future__ import annotations

from typing import Any

import torch

from core.lessons.upsampling.config import OPS, VIEWS, UpsamplingConfig, ViewerConfig
from core.lessons.upsampling.data import TARGET_KINDS, make_targets, render_target
from core.lessons.upsampling.grids import (UpsamplingError, apply_edits, format_grid, parse_grid,
                                           resize_grid)
from core.lessons.upsampling.metrics import checkerboard_score
from core.lessons.upsampling.model import SHORT, VARIANTS, Decoder
from core.lessons.upsampling.ops import (LECTURE_INPUT, TConvSettings, contribution, output_size,
                                         transposed_conv, upsample_bilinear, upsample_nearest)
from core.lessons.upsampling.overlap import interior, overlap_1d, overlap_is_even, overlap_verdict
from core.lessons.upsampling.trainer import UpsamplingTrainer
from core.lessons.upsampling import grids, text, viewer  # noqa: E402  (modules the page reads)

Trainer = UpsamplingTrainer    # what registry-driven code (tests, benchmarks) builds
LESSON = "upsampling"
CHECKPOINT = "upsampling_decoders"

__all__ = ["Trainer", "LESSON", "CHECKPOINT", "OPS", "VIEWS", "UpsamplingConfig", "ViewerConfig", "TARGET_KINDS",
           "make_targets", "render_target", "UpsamplingError", "apply_edits", "format_grid", "parse_grid",
           "resize_grid", "checkerboard_score", "SHORT", "VARIANTS", "Decoder", "LECTURE_INPUT",
           "TConvSettings", "contribution", "output_size", "transposed_conv", "upsample_bilinear",
           "upsample_nearest", "interior", "overlap_1d", "overlap_is_even", "overlap_verdict",
           "UpsamplingTrainer", "pretrain", "grids", "text", "viewer"]


def pretrain(seed: int = 0, steps: int = 2000) -> dict[str, Any]:
    """The shipped run: all four decoders, every target kind, 16×16, trained ``steps`` steps on the CPU."""
    trainer = UpsamplingTrainer(UpsamplingConfig(seed=seed), torch.device("cpu"))
    trainer.step(steps)
    snap = trainer.snapshot()
    init = {v: float(checkerboard_score(torch.from_numpy(a)[:, None])) for v, a in snap["initial"].items()}
    return {
        "checkpoints": {CHECKPOINT: trainer.state_dict()},
        "metrics": {"steps": trainer.step_count,
                    **{f"loss_{v}": round(x, 5) for v, x in snap["loss"].items()},
                    **{f"checker_{v}": round(x, 5) for v, x in snap["checker"].items()},
                    **{f"checker_init_shown_{v}": round(x, 5) for v, x in init.items()},
                    "checker_targets": round(snap["target_checker"], 5)},
    }
