"""What the page's two static views draw, computed here (the page only places it): the
upsampling or transposed convolution of a typed grid, step by step, checked against PyTorch, and
the 1D overlap bars. No Streamlit.

Shapes: grid [H, W], kernel [kh, kw] (float64).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.lessons.upsampling import charts as uc
from core.lessons.upsampling.config import ViewerConfig
from core.lessons.upsampling.grids import UpsamplingError
from core.lessons.upsampling.ops import (TConvResult, TConvSettings, contribution, partial_sum, transposed_conv,
                                         upsample_bilinear, upsample_nearest)
from core.lessons.upsampling.overlap import OverlapVerdict, overlap_verdict

KIND_LABELS = {2: "input pixel", 1: "inserted zero", 0: "padding"}
SIZE_FORMULA = "**Output size** = (n − 1)·s − 2p + d·(k − 1) + output padding + 1"
OVERLAP_MAP = ("**Overlap map**: how many (input pixel × kernel weight) products land on each output pixel. "
               "Uneven counts mean some pixels get more of the signal than their neighbours.")
IMPOSSIBLE = "PyTorch refuses it as well: change the setting named in the message to go on."


@dataclass
class Panel:
    """One chart with the words above it, drawn under the chart key ``key``."""

    heading: str          # markdown ("" for none)
    spec: dict
    key: str
    note: str = ""        # a caption under the chart


@dataclass
class TConvView:
    result: TConvResult
    formula: str          # the size formula with the numbers, one line per axis
    finite: bool          # False when the output overflowed (huge numbers typed)
    steps: list[Panel]    # zero insertion + padding, flipped kernel, output (noted: checked against torch)
    overlap: Panel        # the overlap map: kernel taps landing on each output pixel


def upsample_view(grid: np.ndarray, cfg: ViewerConfig) -> Panel:
    """Nearest or bilinear upsampling of ``grid`` by (fh, fw); the values drawn are PyTorch's, the
    note compares them with the hand-written version."""
    fh, fw = int(cfg.fh), int(cfg.fw)
    x = torch.tensor(grid, dtype=torch.float64)[None, None]
    if cfg.op == "nearest upsampling":
        ours = upsample_nearest(grid, fh, fw)
        ref = F.interpolate(x, scale_factor=(fh, fw), mode="nearest")[0, 0].numpy()
        how = "each input value is copied into an fh × fw block"
    else:
        ac = bool(cfg.align_corners)
        ours = upsample_bilinear(grid, fh, fw, align_corners=ac)
        ref = F.interpolate(x, scale_factor=(fh, fw), mode="bilinear", align_corners=ac)[0, 0].numpy()
        how = ("each output pixel is a weighted mean of its 4 nearest input pixels, "
               + ("corners aligned" if ac else "pixel centres at (i + ½)/n, edges clamped"))
    headline = (f"**{grid.shape[0]}×{grid.shape[1]} → {ref.shape[0]}×{ref.shape[1]}**: {how}. "
                "Nothing is learned: there are no weights.")
    chart = uc.grid_chart(ref, title=f"torch.nn.functional.interpolate(mode='{cfg.op.split()[0]}')")
    check = f"The hand-written version agrees with PyTorch: max |difference| = {np.abs(ours - ref).max():.1e}."
    return Panel(headline, chart, "chart_up", check)


def try_tconv(grid: np.ndarray, kernel: np.ndarray, cfg: ViewerConfig) -> tuple[TConvView | None, str | None]:
    """(the view, None), or (None, a message) for an impossible combination (PyTorch refuses the same)."""
    try:
        return tconv_view(grid, kernel, cfg), None
    except UpsamplingError as e:
        return None, f"This combination is impossible: {e}. {IMPOSSIBLE}"


def tconv_view(grid: np.ndarray, kernel: np.ndarray, cfg: ViewerConfig) -> TConvView:
    """The transposed convolution in three pictures; raises UpsamplingError for an impossible
    combination (PyTorch refuses the same ones)."""
    s, p, op, d, bias = int(cfg.stride), int(cfg.padding), int(cfg.output_padding), int(cfg.dilation), float(cfg.bias)
    res = transposed_conv(grid, TConvSettings(kernel=kernel, bias=bias, stride=(s, s), padding=(p, p),
                                              output_padding=(op, op), dilation=(d, d)))
    ref = F.conv_transpose2d(torch.tensor(grid, dtype=torch.float64)[None, None],
                             torch.tensor(kernel, dtype=torch.float64)[None, None],
                             torch.tensor([bias], dtype=torch.float64), stride=s, padding=p,
                             output_padding=op, dilation=d)[0, 0].numpy()
    finite = bool(np.isfinite(ref).all())
    pb = res.pad_before[0]
    crop = " (negative: cropped)" if pb < 0 else ""
    steps = [
        Panel(f"**1. Zero insertion + padding**: {s - 1} zero(s) between pixels, then {pb}{crop} before and "
              f"{res.pad_after[0]} after.",
              uc.grid_chart(res.padded, kind=res.padded_kind, kind_labels=KIND_LABELS, legend=True, max_width=420),
              "chart_padded"),
        Panel("**2. Kernel, flipped 180°**", uc.grid_chart(res.flipped, scheme="oranges", max_width=160),
              "chart_kernel"),
        Panel(f"**3. Ordinary convolution** (stride 1, dilation {d}) + bias {bias:g} = output "
              f"{ref.shape[0]}×{ref.shape[1]}", uc.grid_chart(ref, scheme="greens", max_width=420), "chart_out"),
    ]
    if finite:
        steps[2].note = ("Values from torch.nn.functional.conv_transpose2d; the explicit steps 1–3 agree: max "
                         f"|difference| = {np.abs(res.output - ref).max():.1e}.")
    return TConvView(result=res, formula="\n".join(res.formula), finite=finite, steps=steps,
                     overlap=Panel(OVERLAP_MAP, uc.grid_chart(res.overlap, scheme="viridis", max_width=420),
                                   "chart_overlap"))


def position_charts(res: TConvResult, pos: int) -> list[Panel]:
    """Input position ``pos`` (row-major) highlighted, what it adds to the output, and the output
    built from positions 0..pos plus the bias."""
    grid = res.input
    H, W = grid.shape
    pos = int(min(max(pos, 0), H * W - 1))
    i, j = divmod(pos, W)
    vals, mask = contribution(res, i, j)
    here = np.zeros_like(grid, dtype=bool)
    here[i, j] = True
    return [
        Panel("", uc.grid_chart(grid, highlight=here, title=f"input ({i}, {j}) = {grid[i, j]:g}", max_width=300),
              "chart_pos_in"),
        Panel("", uc.grid_chart(vals, highlight=mask, scheme="purples",
                                title=f"its contribution: {grid[i, j]:g} × kernel", max_width=360), "chart_contrib"),
        Panel("", uc.grid_chart(partial_sum(res, pos), highlight=mask, scheme="greens",
                                title=f"sum so far (+ bias), {pos + 1} of {H * W}", max_width=360), "chart_partial"),
    ]


def overlap_chart(k: int, s: int, layers: int) -> tuple[OverlapVerdict, dict]:
    """The overlap view: its verdict and the bars."""
    verdict = overlap_verdict(int(k), int(s), int(layers))
    return verdict, uc.overlap_1d_chart(verdict.counts, int(k), int(s))
