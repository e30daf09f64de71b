"""Figures of the upsampling lesson: arrays in, Vega-Lite dicts (or image arrays) out. No Streamlit.

* ``grid_chart``: a small grid of numbers with each value printed in its cell (the viewer's input,
  zero-inserted input, kernel, output, overlap map, contributions);
* ``overlap_1d_chart``: bars of the 1D overlap counts, one row per stacked layer;
* ``mosaic``: several small images tiled into one uint8 picture (the decoders' outputs, drawn with
  ``st.image`` — one picture per frame is much cheaper than a heatmap of thousands of cells).
"""
from __future__ import annotations

import numpy as np

from core.charts import FONT, _base, frame

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
    if show_values is None:
        show_values = cell >= 20
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    finite = v[np.isfinite(v)]
    if domain is None:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi - lo < 1e-12:
            lo, hi = lo - 1.0, hi + 1.0
        domain = (lo, hi)
    # text colour: white on the darker half of the scale
    mid = (domain[0] + domain[1]) / 2
    dark = (v > mid) if kind is None else np.isin(np.asarray(kind), [2])
    cols_df = dict(row=(rows + row_offset).ravel(), col=(cols + col_offset).ravel(), value=v.ravel(),
                   label=_fmt_cells(v), dark=dark.ravel().astype(int))
    if kind is not None:
        labels = kind_labels or {}
        cols_df["kind"] = [labels.get(int(k), str(int(k))) for k in np.asarray(kind).ravel()]
    if highlight is not None:
        cols_df["hi"] = np.asarray(highlight, dtype=int).ravel()
    data = frame(**cols_df)
    x = {"field": "col", "type": "ordinal", "title": None,
         "axis": {"labelFontSize": 11, "orient": "top", "labelAngle": 0} if cell >= 16 else None}
    y = {"field": "row", "type": "ordinal", "title": None,
         "axis": {"labelFontSize": 11} if cell >= 16 else None}
    if kind is not None:
        names = list((kind_labels or {}).values())
        palette = {"input pixel": "#1f77b4", "inserted zero": "#dbe9f6", "padding": "#f2f2f2",
                   "cropped": "#f8d0d0"}
        color = {"field": "kind", "type": "nominal", "title": None,
                 "scale": {"domain": names, "range": [palette.get(n, "#cccccc") for n in names]},
                 "legend": {"orient": "bottom"} if legend else None}
    else:
        color = {"field": "value", "type": "quantitative", "title": None,
                 "scale": {"scheme": scheme, "domain": list(domain), "clamp": True},
                 "legend": {"orient": "right", "gradientLength": min(160, H * cell)} if legend else None}
    layers: list[dict] = [{
        "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 1},
        "encoding": {"x": x, "y": y, "color": color,
                     "tooltip": [{"field": "row"}, {"field": "col"}, {"field": "value", "format": ".4~f"}]},
    }]
    if highlight is not None:
        layers.append({
            "transform": [{"filter": "datum.hi == 1"}],
            "mark": {"type": "rect", "fillOpacity": 0, "stroke": "#ff7f0e", "strokeWidth": 3},
            "encoding": {"x": x, "y": y},
        })
    if show_values:
        layers.append({
            "mark": {"type": "text", "fontSize": max(9, min(FONT, cell // 2 - 2))},
            "encoding": {"x": x, "y": y, "text": {"field": "label"},
                         "color": {"condition": {"test": "datum.dark == 1", "value": "white"}, "value": "#222"}},
        })
    spec = _base(title, H * cell)
    # width/height are the plotting area; the title, axes and legend come on top (Streamlit's default
    # "fit" would squeeze a small grid to make room for them)
    spec["width"] = W * cell
    spec["autosize"] = {"type": "pad", "contains": "padding"}
    spec.update({"data": {"name": "cells"}, "datasets": {"cells": data}, "layer": layers})
    return spec


def overlap_1d_chart(counts: list[np.ndarray], k: int, s: int, height_per_layer: int = 90) -> dict:
    """Bars: how many paths reach each output position after each stacked layer.

    counts[l]: [n_l] from ``core.upsampling.overlap_1d``. Bars are coloured by their count, so an
    uneven overlap shows up as a repeating pattern of colours.
    """
    layer, pos, cnt = [], [], []
    for i, c in enumerate(counts):
        layer += [f"after layer {i + 1}"] * len(c)
        pos += list(range(len(c)))
        cnt += list(np.asarray(c, dtype=np.float64))
    data = frame(layer=layer, pos=pos, count=cnt)
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Paths from the inputs to each output pixel (1D, kernel {k}, stride {s})",
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


def mosaic(images: np.ndarray, cols: int = 2, scale: int = 8, stretch: bool = False,
           gap: int = 1) -> np.ndarray:
    """Tile images [n, R, R] into one uint8 grayscale picture, each pixel drawn as scale × scale.

    Values are shown on [0, 1] (clipped), or min–max stretched over the whole tile when ``stretch``
    (used at initialisation, where outputs are tiny). Non-finite values are drawn black.
    """
    imgs = np.asarray(images, dtype=np.float64)
    imgs = np.where(np.isfinite(imgs), imgs, 0.0)
    if stretch:
        lo, hi = float(imgs.min()), float(imgs.max())
        imgs = (imgs - lo) / (hi - lo) if hi - lo > 1e-12 else np.zeros_like(imgs)
    imgs = np.clip(imgs, 0.0, 1.0)
    n, R, _ = imgs.shape
    rows = -(-n // cols)
    size = R * scale
    out = np.full((rows * size + (rows - 1) * gap * scale, cols * size + (cols - 1) * gap * scale), 1.0)
    for i in range(n):
        r, c = divmod(i, cols)
        big = np.kron(imgs[i], np.ones((scale, scale)))
        y0, x0 = r * (size + gap * scale), c * (size + gap * scale)
        out[y0:y0 + size, x0:x0 + size] = big
    return (out * 255).round().astype(np.uint8)
