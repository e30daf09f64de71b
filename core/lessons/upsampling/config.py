"""Every setting of the lesson, declared once: the decoders' training (``UpsamplingConfig``) and
the viewer's (``ViewerConfig``: which view, the operation, the grids typed as text). The page
builds its widgets from these declarations (``ui.Form``) and the URL keeps them
(``?upsampling_stride=3``). No Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.lessons.upsampling.data import TARGET_KINDS
from core.lessons.upsampling.model import VARIANTS
from core.lessons.upsampling.ops import (DILATION_RANGE, FACTOR_RANGE, OUTPUT_PADDING_RANGE, PADDING_RANGE,
                                         STRIDE_RANGE)
from core.lessons.upsampling.overlap import OV_KERNEL_RANGE, OV_LAYERS_RANGE, OV_STRIDE_RANGE
from core.settings import live_field, lr_field, seed_field, structural_field

# Batch sizes offered. 64 and 128 are left out: at 32×32 pixels and 32 channels one step of the
# four decoders took 0.26 s (128) and 0.12 s (64) on one CPU thread, 0.05 s with 32; Pause waits
# for the step under way, so it must stay well under 0.25 s on a shared server.
BATCH_SIZES = (8, 16, 32)
CHANNELS = (4, 8, 16, 32)


@dataclass
class UpsamplingConfig:
    """The trained part. Live fields apply at the next chunk; structural ones restart the run."""

    variants: tuple[str, ...] = structural_field(
        tuple(VARIANTS), label="Decoders side by side", options=tuple(VARIANTS), labels=VARIANTS,
        help="All train on the same batches from the same seed; pick fewer to train faster.")
    kinds: tuple[str, ...] = structural_field(
        tuple(TARGET_KINDS), label="Target images", options=tuple(TARGET_KINDS), labels=TARGET_KINDS,
        help="The pictures the decoders learn to draw, generated in code.")
    resolution: int = structural_field(
        16, label="Image size", options=(16, 32), widget="select",
        labels={16: "16×16 (2 upsampling layers)", 32: "32×32 (3 upsampling layers)"})
    channels: int = structural_field(16, label="Channels", options=CHANNELS, widget="select_slider",
                                     help="Feature maps per layer in every decoder.")
    n_targets: int = structural_field(512, label="Targets in the pool", bounds=(1, 4096), widget="none")
    seed: int = seed_field(0)
    lr: float = lr_field(2e-3, label="Learning rate (Adam, live)",
                         help="Applies at once, mid-run. From about 0.1 up the decoders blow up and the run "
                              "stops with a message: try it.")
    batch_size: int = live_field(32, label="Batch size (live)", options=BATCH_SIZES, widget="select_slider",
                                 help="Targets per step. At most 32, so that one step at 32×32 with 32 "
                                      "channels stays short enough for Pause to answer at once.")
    eval_every: int = structural_field(25, label="Steps between checkerboard measurements", bounds=(1, 10_000),
                                       widget="none")


VIEWS = {"viewer": "① Viewer: step by step", "overlap": "② Overlap and checkerboards",
         "decoders": "③ Four decoders trained live"}
OPS = ("nearest upsampling", "bilinear upsampling", "transposed convolution")


@dataclass
class ViewerConfig:
    """Which view the page shows and the settings of the two static views (nothing is trained)."""

    view: str = live_field("viewer", label="View", options=tuple(VIEWS), labels=VIEWS, widget="radio",
                           help="Only the chosen view is computed. Links keep it (?upsampling_view=decoders).")
    op: str = live_field("transposed convolution", label="Operation", options=OPS, widget="radio")
    fh: int = live_field(2, label="Height factor", bounds=FACTOR_RANGE)
    fw: int = live_field(2, label="Width factor", bounds=FACTOR_RANGE,
                         help="The lecture's UpSampling2D(size=(2, 3)): height × 2, width × 3 → 4×6.")
    align_corners: bool = live_field(
        False, label="align_corners",
        help="Off (shown by default): pixel centres sit at (i + ½)/n, as in Keras' "
             "UpSampling2D(interpolation='bilinear') and torch's default. On: the corner pixels of input "
             "and output coincide.")
    stride: int = live_field(2, label="Stride s", bounds=STRIDE_RANGE)
    padding: int = live_field(0, label="Padding p", bounds=PADDING_RANGE)
    output_padding: int = live_field(0, label="Output padding", bounds=OUTPUT_PADDING_RANGE,
                                     help="Extra rows/columns at the bottom/right of the output.")
    dilation: int = live_field(1, label="Dilation d", bounds=DILATION_RANGE)
    bias: float = live_field(0.0, label="Bias", bounds=(-1e308, 1e308), step=0.5, widget="number")
    grid: str = live_field("1, 2; 3, 4", label="Input as text (rows separated by ';')",
                           help="Type numbers like 1, 2; 3, 4 — or edit the cells below. Nothing typed is "
                                "run as code.")
    kernel: str = live_field("1", label="Kernel as text (rows separated by ';')",
                             help="Type numbers like 0, 1, 0; 1, 2, 1; 0, 1, 0 — or edit the cells below. "
                                  "Nothing typed is run as code.")
    ov_k: int = live_field(3, label="Kernel size", bounds=OV_KERNEL_RANGE)
    ov_s: int = live_field(2, label="Stride", bounds=OV_STRIDE_RANGE)
    ov_layers: int = live_field(2, label="Stacked layers", bounds=OV_LAYERS_RANGE)
