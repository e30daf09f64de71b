"""Figures of the upsampling lesson: arrays in, Vega-Lite dicts (or image arrays) out. No Streamlit.

* ``grid_chart``: a small grid of numbers with each value printed in its cell (the viewer's input,
  zero-inserted input, kernel, output, overlap map, contributions);
* ``overlap_1d_chart``: bars of the 1D overlap counts, one row per stacked layer;
* ``loss_chart`` / ``checker_chart``: the decoders' live lines, every line in the legend;
* ``stretch`` and ``captions``: what goes with the decoders' live images (drawn by
  ``ui.image_grid`` as inline PNGs, one 2×2 tile per decoder).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from core.charts import BLUE, FONT, INK, ORANGE, base, frame, line_chart
from core.lessons.upsampling.model import SHORT

MAX_CELLS = 3200          # the page's largest grid: 8×8 input, k=5, s=4, d=3 -> 56×56 padded (static, not live)


def _fmt_cells(values: np.ndarray) -> list[str]:
    """Whole numbers without decimals, the rest to 2 decimals (trailing zeros dropped)."""
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        if not np.isfinite(v):
            out.append("")
        elif abs(v - round(v)) < 1e-9:
            out.append(str(int(round(v))))
        else:
            out.append(f"{v:.2f}".rstrip("0").rstrip("."))
    return out


def cell_size(shape: tuple[int, int], max_width: int = 560, lo: int = 12, hi: int = 40) -> int:
    """Pixels per cell so a grid fits ``max_width``."""
    return int(max(lo, min(hi, max_width // max(shape[1], 1), 420 // max(shape[0], 1))))


def _value_domain(v: np.ndarray) -> tuple[float, float]:
    """The colour scale's range: the finite values' min and max, widened when they are equal."""
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return (lo - 1.0, hi + 1.0) if hi - lo < 1e-12 else (lo, hi)


def _cell_colour(kind: np.ndarray | None, kind_labels: dict[int, str] | None, scheme: str,
                 domain: tuple[float, float], legend: bool, legend_length: int) -> dict:
    """Colour by category (``kind``, with a palette per label) or by value (a colour scheme)."""
    if kind is not None:
        names = list((kind_labels or {}).values())
        palette = {"input pixel": BLUE, "inserted zero": "#dbe9f6", "padding": "#f2f2f2",
                   "cropped": "#f8d0d0"}
        return {"field": "kind", "type": "nominal", "title": None,
                "scale": {"domain": names, "range": [palette.get(n, "#cccccc") for n in names]},
                "legend": {"orient": "bottom"} if legend else None}
    return {"field": "value", "type": "quantitative", "title": None,
            "scale": {"scheme": scheme, "domain": list(domain), "clamp": True},
            "legend": {"orient": "right", "gradientLength": legend_length} if legend else None}


def grid_chart(values: np.ndarray, *, title: str | None = None, scheme: str = "blues",
               domain: tuple[float, float] | None = None, kind: np.ndarray | None = None,
               kind_labels: dict[int, str] | None = None, highlight: np.ndarray | None = None,
               show_values: bool | None = None, cell: int | None = None, max_width: int = 560,
               legend: bool = False, row_offset: int = 0, col_offset: int = 0) -> dict:
    """A grid of cells coloured by value with the value printed inside. values: [H, W].

    kind: optional [H, W] integer categories that colour the cells instead of the values
        (with ``kind_labels`` {category: legend text});
    highlight: optional [H, W] bool — these cells get a thick orange border;
    row_offset/col_offset: shift of the printed row/column indices (e.g. −padding).
    """
    v = np.asarray(values, dtype=np.float64)
    H, W = v.shape
    if H * W > MAX_CELLS:
        raise ValueError(f"a {H}×{W} grid is too large to draw")
    cell = cell or cell_size((H, W), max_width)
    show_values = cell >= 20 if show_values is None else show_values
    domain = domain or _value_domain(v)
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    # text colour: white on the darker half of the scale (on input pixels when coloured by kind)
    dark = (v > (domain[0] + domain[1]) / 2) if kind is None else np.isin(np.asarray(kind), [2])
    cols_df = dict(row=(rows + row_offset).ravel(), col=(cols + col_offset).ravel(), value=v.ravel(),
                   label=_fmt_cells(v), dark=dark.ravel().astype(int))
    if kind is not None:
        cols_df["kind"] = [(kind_labels or {}).get(int(k), str(int(k))) for k in np.asarray(kind).ravel()]
    if highlight is not None:
        cols_df["hi"] = np.asarray(highlight, dtype=int).ravel()
    axis = {"labelFontSize": 11} if cell >= 16 else None
    x = {"field": "col", "type": "ordinal", "title": None,
         "axis": {**axis, "orient": "top", "labelAngle": 0} if axis else None}
    y = {"field": "row", "type": "ordinal", "title": None, "axis": axis}
    colour = _cell_colour(kind, kind_labels, scheme, domain, legend, min(160, H * cell))
    layers: list[dict] = [{
        "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 1},
        "encoding": {"x": x, "y": y, "color": colour,
                     "tooltip": [{"field": "row"}, {"field": "col"}, {"field": "value", "format": ".4~f"}]},
    }]
    if highlight is not None:
        layers.append({"transform": [{"filter": "datum.hi == 1"}],
                       "mark": {"type": "rect", "fillOpacity": 0, "stroke": ORANGE, "strokeWidth": 3},
                       "encoding": {"x": x, "y": y}})
    if show_values:
        layers.append({
            "mark": {"type": "text", "fontSize": max(9, min(FONT, cell // 2 - 2))},
            "encoding": {"x": x, "y": y, "text": {"field": "label"},
                         "color": {"condition": {"test": "datum.dark == 1", "value": "white"}, "value": "#222"}},
        })
    spec = base(title, H * cell)
    # width/height are the plotting area; the title, axes and legend come on top (Streamlit's default
    # "fit" would squeeze a small grid to make room for them)
    spec["width"] = W * cell
    spec["autosize"] = {"type": "pad", "contains": "padding"}
    spec.update({"data": {"name": "cells"}, "datasets": {"cells": frame(**cols_df)}, "layer": layers})
    return spec


def overlap_1d_chart(counts: list[np.ndarray], k: int, s: int, height_per_layer: int = 90) -> dict:
    """Bars: how many paths reach each output position after each stacked layer.

    counts[l]: [n_l] from ``overlap.overlap_1d``. Bars are coloured by their count, so an
    uneven overlap shows up as a repeating pattern of colours.
    """
    layer, pos, cnt = [], [], []
    for i, c in enumerate(counts):
        layer += [f"after layer {i + 1}"] * len(c)
        pos += list(range(len(c)))
        cnt += list(np.asarray(c, dtype=np.float64))
    data = frame(layer=layer, pos=pos, count=cnt)
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": f"Paths to each output pixel (1D, kernel {k}, stride {s})",
        "data": {"name": "bars"}, "datasets": {"bars": data},
        "facet": {"row": {"field": "layer", "type": "nominal", "title": None,
                          "header": {"labelFontSize": FONT, "labelAngle": 0, "labelAlign": "left"}}},
        "resolve": {"scale": {"y": "independent", "x": "independent"}},
        "spec": {
            "height": height_per_layer, "width": 900,
            "mark": {"type": "bar"},
            "encoding": {
                "x": {"field": "pos", "type": "ordinal", "title": "output position",
                      "axis": {"labels": False, "ticks": False}},
                "y": {"field": "count", "type": "quantitative", "title": "paths"},
                "color": {"field": "count", "type": "quantitative", "scale": {"scheme": "viridis"},
                          "legend": None},
                "tooltip": [{"field": "pos"}, {"field": "count"}],
            },
        },
        "config": {"axis": {"labelFontSize": FONT, "titleFontSize": FONT}, "view": {"stroke": None}},
    }
    return spec


TARGETS_LINE = "targets' own score"


def _legend(spec: dict, side: bool = False) -> dict:
    """The legend below in rows of two (four decoder names never run off a half-width chart), or
    ``side``: one column on the right, where a short chart has width to spare but no height."""
    extra = {"orient": "right", "columns": 1} if side else {"columns": 2}
    spec["config"]["legend"] = {**spec["config"].get("legend", {}), **extra}
    return spec


def loss_chart(history: dict[str, np.ndarray], variants: list[str], height: int = 220,
               compact: bool = False) -> dict:
    """Each decoder's training loss against the step, log scale. history: {'step': [m], 'loss_<v>': [m]}.
    ``compact`` (a projector's first screen): the legend on the right, no axis title under the steps."""
    spec = line_chart(history["step"], {SHORT[v]: history[f"loss_{v}"] for v in variants},
                      title="Loss (mean squared error, log scale)", log_y=True, height=height,
                      x_title="" if compact else "step")
    return _legend(spec, compact)


def checker_chart(metrics: dict[str, np.ndarray], variants: list[str], target: float, height: int = 220) -> dict:
    """Each decoder's checkerboard score, and the targets' own score as a dashed line in the legend.
    metrics: {'step': [m], 'checker_<v>': [m]}."""
    steps = np.asarray(metrics["step"], dtype=np.float64)
    series = {SHORT[v]: metrics[f"checker_{v}"] for v in variants}
    series[TARGETS_LINE] = np.full(steps.shape, float(target))
    spec = line_chart(steps, series, title="Checkerboard score (lower = smoother)", height=height,
                      colors={TARGETS_LINE: INK})
    names = list(series)
    # one legend for colour and dash: the targets' line is dashed there too
    spec["layer"][0]["encoding"]["strokeDash"] = {
        "field": "series", "type": "nominal", "title": None, "sort": names,
        "scale": {"domain": names, "range": [[1, 0]] * len(variants) + [[5, 4]]}}
    return _legend(spec)


def stretch(images: np.ndarray) -> np.ndarray:
    """Min–max stretched to [0, 1] over all the images together (outputs at initialisation are
    tiny; a shared stretch keeps them comparable). Non-finite values -> 0."""
    a = np.asarray(images, dtype=np.float64)
    a = np.where(np.isfinite(a), a, 0.0)
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi - lo > 1e-12 else np.zeros_like(a)


def captions(snap: dict[str, Any]) -> dict[str, str]:
    """The line under each decoder's picture: its loss and checkerboard score, short enough for a
    fifth of a projector's width ("not trained yet" before the first step, never "nan")."""
    out = {}
    for v in snap["variants"]:
        loss, checker = snap["loss"][v], snap["checker"][v]
        first = f"loss {loss:.4f}" if np.isfinite(loss) else "not trained yet"
        out[v] = first + (f" · checker {checker:.3f}" if np.isfinite(checker) else "")
    return out


Picture = tuple[str, np.ndarray, str]     # (caption under the image, images [N, R, R] in [0, 1], note below)


def live_pictures(snap: dict[str, Any]) -> list[Picture]:
    """The targets, then each decoder's outputs on the same examples, with their loss and score."""
    notes = captions(snap)
    return [("targets", snap["targets"], "")] + [(SHORT[v], snap["outputs"][v], notes[v]) for v in snap["variants"]]


def initial_pictures(snap: dict[str, Any]) -> list[Picture]:
    """Each decoder's outputs at initialisation, contrast stretched (they are tiny)."""
    return [(SHORT[v], stretch(snap["initial"][v]), "") for v in snap["variants"]]
