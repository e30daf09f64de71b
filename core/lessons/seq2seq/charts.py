"""The lesson's figures: arrays from ``Seq2SeqTrainer.snapshot`` in, Vega-Lite specs out.

Specs stay identical between frames (titles without numbers); only the datasets change. The
attention map is a grid of at most 41 × 40 cells, drawn as rects so the axes can carry the
characters; repeated characters get invisible zero-width spaces, so each position keeps its own
column.
"""
from __future__ import annotations

import numpy as np

from core import charts

PLAIN, ATTN = "no attention", "with attention"
PLAIN_LONG, ATTN_LONG = "none, longest", "attention, longest"     # the longest held-out inputs
COLORS = {PLAIN: charts.BASELINE, ATTN: charts.REMEDY}       # core.charts roles (issue 36)


def accuracy(m: dict[str, np.ndarray], height: int, longest: bool = True) -> dict:
    """Held-out exact match of both models over training (the main chart); ``longest`` adds the
    same on the longest inputs (left out in presentation mode, where the metrics show it)."""
    series = {PLAIN: m["acc_plain"], ATTN: m["acc_attn"]}
    if longest:
        series.update({PLAIN_LONG: m["long_plain"], ATTN_LONG: m["long_attn"]})
    spec = charts.line_chart(
        m["step"], series, title="Held-out exact match", y_title="share exactly right", y_domain=(0.0, 1.0),
        height=height, colors={PLAIN: COLORS[PLAIN], ATTN: COLORS[ATTN], PLAIN_LONG: charts.BASELINE_LIGHT, ATTN_LONG: charts.REMEDY_LIGHT})
    spec["config"]["legend"] = {**spec["config"]["legend"], "columns": 2}     # at most two rows
    return spec


def by_length(buckets: list[tuple[int, int]], acc: dict[str, np.ndarray], height: int = 200) -> dict:
    """Exact match by input length at the last measurement: the bottleneck gap. x: each length
    bucket's middle; acc[key]: [n_buckets]."""
    mid = np.array([(lo + hi) / 2 for lo, hi in buckets], dtype=np.float64)
    spec = charts.line_chart(mid, {PLAIN: acc["plain"], ATTN: acc["attn"]},
                             title="Exact match by input length (last measurement)",
                             x_title="input length (characters)", y_title="exact match", y_domain=(0.0, 1.0),
                             height=height, colors=COLORS)
    spec["layer"][0]["mark"]["point"] = {"filled": True, "size": 50}      # few points: show each
    return spec


def losses(h: dict[str, np.ndarray]) -> dict:
    return charts.line_chart(h["step"], {PLAIN: h["loss_plain"], ATTN: h["loss_attn"]},
                             title="Training loss (cross-entropy per character)", y_title="loss",
                             log_y=True, height=200, colors=COLORS)


def _unique(chars: list[str]) -> list[str]:
    """Distinct labels that read as the characters (zero-width spaces tell repeats apart)."""
    seen: dict[str, int] = {}
    out = []
    for c in chars:
        c = "␣" if c == " " else c
        seen[c] = seen.get(c, 0) + 1
        out.append(c + "\u200b" * (seen[c] - 1))
    return out


def heatmap(chars_in: str, chars_out: list[str], alpha: np.ndarray, height: int) -> dict:
    """α [T_out, S]: output step (rows) × input character (columns)."""
    xs, ys = _unique(list(chars_in)), _unique(chars_out)
    T, S = alpha.shape
    spec = charts.base("Attention α: output step × input character", height)
    # ``height`` is the grid itself (the axes' characters add to it), whatever the legend needs
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec.update({
        "datasets": {"cells": charts.frame(x=[xs[j] for _ in range(T) for j in range(S)],
                                           y=[f"{t + 1}: {ys[t]}" for t in range(T) for _ in range(S)],
                                           j=np.tile(np.arange(S), T), t=np.repeat(np.arange(T), S),
                                           a=alpha.reshape(-1))},
        "data": {"name": "cells"}, "mark": {"type": "rect"},
        "encoding": {
            # positions in input / output order (numeric sort fields keep the spec constant)
            "x": {"field": "x", "type": "ordinal", "sort": {"field": "j", "op": "min"}, "title": "input character",
                  "axis": {"labelAngle": 0, "labelFont": "monospace", "labelOverlap": False,
                                                 "labelFontSize": 11}},
            "y": {"field": "y", "type": "ordinal", "sort": {"field": "t", "op": "min"},
                  "title": "output step: character",
                  "axis": {"labelFont": "monospace", "labelOverlap": False, "labelFontSize": 11}},
            "color": {"field": "a", "type": "quantitative", "title": "α",
                      "scale": {"scheme": "blues", "domain": [0, 1]},
                      "legend": {"orient": "right", "gradientLength": max(60, height // 2)}},
            "tooltip": [{"field": "y", "title": "output"}, {"field": "x", "title": "input"},
                        {"field": "a", "title": "α", "format": ".3f"}],
        }})
    return spec
