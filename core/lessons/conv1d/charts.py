"""Figures of the conv1d lesson: arrays in, Vega-Lite dicts out. No Streamlit.

* ``loss_chart`` / ``accuracy_chart``: one line per model (live);
* ``speed_chart``: each model's own steps per second (live);
* ``activation_chart``: a held-out series with one filter's activation under it (live);
* ``field_chart``: the receptive field drawn layer by layer over the input, causality shaded
  (static: it depends on the settings only).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from core.charts import BASELINE_LIGHT, BLUE, ORANGE, base, frame, line_chart
from core.lessons.conv1d.fields import influence, receptive_field, top_unit_at, unit_anchors
from core.lessons.conv1d.model import COLORS, MODELS, LayerSpec

# the receptive-field picture: the output, the units that reach it, the rest (core.charts roles,
# CVD-safe pairs, issue 36)
RECEPTIVE_COLORS = [BLUE, ORANGE, "#d9d9d9"]


def _colors(models: Sequence[str]) -> dict[str, str]:
    return {MODELS[m]: COLORS[m] for m in models}


# The bars' axis has room for ~10 characters at presentation size ("Conv1D +…" was all it showed).
SHORT = {"lstm": "LSTM", "conv": "Conv + pool", "convlstm": "Conv → LSTM", "wavenet": "Dilated"}


def _two_column_legend(spec: dict, names: Sequence[str]) -> dict:
    """Four model names do not fit one row of a third of the page: two columns. Vega fills them
    row by row and sizes each column to its own longest label, so the two longest names go to
    the first column ("Dilated causal stack" was cut at the chart's edge in the second)."""
    by_length = sorted(names, key=len, reverse=True)
    half = (len(by_length) + 1) // 2
    first, second = by_length[:half], by_length[half:][::-1]
    order = [n for pair in zip(first, second + [None] * (half - len(second))) for n in pair if n is not None]
    # tighter than Vega's defaults (column gap 10, label offset 4, symbol 100 px²): at presentation
    # size the two columns then fit the width of a third of the page
    spec["config"] = {**spec["config"], "legend": {**spec["config"]["legend"], "columns": 2, "labelLimit": 260,
                                                   "columnPadding": 4, "labelOffset": 3, "symbolSize": 60}}
    spec["layer"][0]["encoding"]["color"]["legend"] = {"values": order}
    return spec


def loss_chart(h: dict[str, np.ndarray], models: Sequence[str], height: int = 200) -> dict:
    """The same colours as the accuracy chart beside it, whose legend names them."""
    spec = line_chart(h["step"], {MODELS[m]: h[f"loss_{m}"] for m in models}, title="Training loss (cross-entropy)",
                      log_y=True, height=height, colors=_colors(models))
    spec["layer"][0]["encoding"]["color"]["legend"] = None
    return spec


def accuracy_chart(m: dict[str, np.ndarray], models: Sequence[str], n_classes: int, height: int = 200) -> dict:
    return _two_column_legend(line_chart(m["step"], {MODELS[k]: m[f"acc_{k}"] for k in models},
                                         title="Held-out accuracy", y_domain=(0.0, 1.0),
                                         rules=[(1.0 / n_classes, "chance")], height=height, colors=_colors(models)),
                              [MODELS[k] for k in models])


def speed_chart(rates: dict[str, float], height: int = 200) -> dict:
    """Horizontal bars: steps/s of each model alone (its forward, backward and update)."""
    names = list(rates)
    spec = base("Own steps / s", int(height * 0.8))
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    vals = np.array([rates[n] for n in names], dtype=np.float64)
    spec.update({"datasets": {"bars": frame(model=[SHORT[n] for n in names], rate=vals,
                                            full=[MODELS[n] for n in names])},
                 "data": {"name": "bars"}, "mark": {"type": "bar"},
                 "encoding": {"y": {"field": "model", "type": "nominal", "title": None, "sort": None,
                                    "axis": {"labelLimit": 200}},
                              "x": {"field": "rate", "type": "quantitative", "title": "steps / s"},
                              "tooltip": [{"field": "full", "title": "model"},
                                          {"field": "rate", "title": "steps / s", "format": ",.0f"}],
                              "color": {"field": "model", "type": "nominal", "legend": None,
                                        "scale": {"domain": [SHORT[n] for n in names],
                                                  "range": [COLORS[n] for n in names]}}}})
    return spec


def activation_chart(series: np.ndarray, act: dict[str, Any] | None, anchors: np.ndarray | None,
                     height: int = 140) -> dict:
    """The series (top) and one filter's activation placed under the steps it belongs to (bottom).
    series: [T]; act["values"]: [T_l]; anchors: [T_l] input step of each activation."""
    T = len(series)
    vals = np.asarray(act["values"] if act else [], dtype=np.float64)
    xs = np.asarray(anchors if anchors is not None else np.arange(len(vals)), dtype=np.float64)[:len(vals)]
    x_enc = {"field": "t", "type": "quantitative", "title": "time step t", "scale": {"domain": [0, T - 1]}}
    spec = base(None, height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec.update({
        "datasets": {"series": frame(t=np.arange(T), v=np.asarray(series, dtype=np.float64)),
                     "act": frame(t=xs, v=vals)},
        "vconcat": [
            {"height": height, "data": {"name": "series"}, "mark": {"type": "line", "color": "#555"},
             "encoding": {"x": {**x_enc, "title": None}, "y": {"field": "v", "type": "quantitative", "title": "x_t"}}},
            {"height": height, "data": {"name": "act"}, "mark": {"type": "line", "point": True, "color": ORANGE},
             "encoding": {"x": x_enc, "y": {"field": "v", "type": "quantitative", "title": "activation"}}},
        ],
    })
    return spec


def field_chart(T: int, specs: Sequence[LayerSpec], t: int, causal: bool, height: int = 300) -> dict:
    """Every unit of every layer as a dot over the input's time axis (input at the bottom); the
    units that can influence the chosen output (at step t) in orange with the connections that
    carry it; the input steps after t shaded ("the future"). Sizes: T ≤ 96, ≤ 9 levels."""
    levels = ["input"] + [sp.name for sp in specs]
    unit = top_unit_at(T, specs, t, causal)
    infl = influence(T, specs, unit)
    anchors = unit_anchors(T, specs, causal)
    xs, ys, kind = [], [], []
    for lvl, (a, on) in enumerate(zip(anchors, infl)):
        xs += a.tolist()
        ys += [levels[lvl]] * len(a)
        kind += ["output" if lvl == len(levels) - 1 and i == unit else ("reaches the output" if o else "does not")
                 for i, o in enumerate(on)]
    ex, ex2, ey, ey2 = [], [], [], []
    for lvl in range(len(specs), 0, -1):               # connections carrying the chosen output's field
        sp = specs[lvl - 1]
        for o in np.flatnonzero(infl[lvl]):
            pos = o * sp.stride - sp.pad_left + sp.dilation * np.arange(sp.kernel)
            for p in pos[(pos >= 0) & (pos < len(anchors[lvl - 1]))]:
                ex.append(anchors[lvl][o]), ex2.append(anchors[lvl - 1][p])
                ey.append(levels[lvl]), ey2.append(levels[lvl - 1])
    t_out = float(anchors[-1][unit])                   # where the chosen output sits in time
    y_enc = {"field": "y", "type": "ordinal", "title": None, "sort": levels[::-1], "scale": {"type": "point", "padding": 0.5}}
    x_enc = {"field": "x", "type": "quantitative", "title": "input time step", "scale": {"domain": [-0.5, T - 0.5], "nice": False}}
    kinds = ["output", "reaches the output", "does not"]
    spec = base(None, height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec.update({
        "datasets": {"units": frame(x=np.array(xs), y=ys, kind=kind),
                     "edges": frame(x=np.array(ex), x2=np.array(ex2), y=ey, y2=ey2),
                     "future": frame(x=[t_out + 0.5], x2=[T - 0.5], label=["future of the output"])},
        "layer": [
            {"data": {"name": "future"}, "mark": {"type": "rect", "color": BASELINE_LIGHT, "opacity": 0.3},
             "encoding": {"x": {**x_enc, "field": "x"}, "x2": {"field": "x2"}, "tooltip": [{"field": "label"}]}},
            {"data": {"name": "edges"}, "mark": {"type": "rule", "color": RECEPTIVE_COLORS[1], "opacity": 0.6},
             "encoding": {"x": x_enc, "x2": {"field": "x2"}, "y": y_enc, "y2": {"field": "y2"}}},
            {"data": {"name": "units"}, "mark": {"type": "circle", "size": 28, "opacity": 0.9},
             "encoding": {"x": x_enc, "y": y_enc,
                          "color": {"field": "kind", "type": "nominal", "title": None, "legend": {"orient": "top"},
                                    "scale": {"domain": kinds, "range": RECEPTIVE_COLORS}}}},
        ],
    })
    return spec


def field_summary(T: int, specs: Sequence[LayerSpec], t: int, causal: bool) -> dict[str, Any]:
    """Numbers for the sentence under the drawing: r by formula, the inputs reached, the future ones."""
    unit = top_unit_at(T, specs, t, causal)
    reach = np.flatnonzero(influence(T, specs, unit)[0])
    t_out = float(unit_anchors(T, specs, causal)[-1][unit])
    return {"r": receptive_field(specs), "lo": int(reach.min()), "hi": int(reach.max()), "n": len(reach),
            "t": t_out, "future": int((reach > t_out).sum())}
