"""Vega-Lite specs (plain dicts) for the LSTM lesson: per-step heatmaps, gradient norm against
steps back, and a cell diagram with the current numbers. No Streamlit, no trainers.

As in core.charts, everything that changes from frame to frame travels in named ``datasets``
(so the browser swaps data instead of rebuilding the chart); the rest of each spec depends only
on the cell type, the sequence length and the hidden size. Heatmaps are at most
16 units × 100 steps = 1,600 cells.
"""
from __future__ import annotations

import numpy as np

from core import charts
from core.charts import FONT, PALETTE, base, frame, line_chart
from core.lessons.lstm.viewer import BACKWARD_VIEW, FORWARD_VIEW

LOG_FLOOR = -12.0       # log10 |gradient| below this is drawn as the floor colour

CELL_COLORS = {"lstm": PALETTE[0], "gru": PALETTE[2], "rnn": PALETTE[1]}
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}


def _domain(key: str) -> tuple[float, float]:
    """Fixed colour ranges: gates live in (0, 1), states and candidates around (−1, 1)."""
    if key in ("i", "f", "o", "r", "z"):
        return 0.0, 1.0
    if key in ("c", "a"):
        return -2.0, 2.0
    return -1.0, 1.0


def heatmap(values: np.ndarray, *, title: str, key: str = "h", t_mark: int | None = None,
            log_abs: bool = False, height: int | None = None, name: str = "cells") -> dict:
    """One quantity over time. values: [H, T] (rows = hidden units, columns = time steps).

    log_abs: draw log10 |value| on a fixed range (for gradients, which span many decades).
    t_mark: the selected time step, outlined.
    """
    v = np.asarray(values, dtype=np.float64)
    H, T = v.shape
    tt, uu = np.meshgrid(np.arange(T), np.arange(H))
    z = v.ravel()
    if log_abs:
        with np.errstate(divide="ignore"):
            z = np.maximum(np.log10(np.abs(z)), LOG_FLOOR)
        dom, scheme, z_title = (LOG_FLOOR, 0.0), {"scheme": "viridis"}, "log₁₀|·|"
    else:
        dom = _domain(key)
        # signed values: the shared CVD-safe diverging map (issue 36), blue +, orange −
        scheme = {"scheme": "blues"} if dom[0] == 0.0 else charts.DIVERGING_SCALE
        z_title = "value"
    data = frame(t=tt.ravel(), unit=uu.ravel(), z=z, value=v.ravel())
    enc_x = {"field": "t", "type": "quantitative", "title": "time step t",
             "scale": {"domain": [-0.5, T - 0.5], "nice": False, "zero": False},
             "axis": {"tickMinStep": 1, "format": "d"}}
    enc_y = {"field": "unit", "type": "quantitative", "title": "unit",
             "scale": {"domain": [-0.5, H - 0.5], "reverse": True, "nice": False, "zero": False},
             "axis": {"tickMinStep": 1, "format": "d", **({"values": list(range(H))} if H <= 8 else {})}}
    layers: list[dict] = [{
        "data": {"name": name},
        "transform": [{"calculate": "datum.t - 0.5", "as": "t0"}, {"calculate": "datum.t + 0.5", "as": "t1"},
                      {"calculate": "datum.unit - 0.5", "as": "u0"}, {"calculate": "datum.unit + 0.5", "as": "u1"}],
        "mark": {"type": "rect"},
        "encoding": {
            "x": {**enc_x, "field": "t0"}, "x2": {"field": "t1"},
            "y": {**enc_y, "field": "u0"}, "y2": {"field": "u1"},
            "color": {"field": "z", "type": "quantitative", "title": z_title,
                      "scale": {**scheme, "domain": list(dom), "clamp": True},
                      "legend": {"orient": "right", "gradientLength": 60}},
            "tooltip": [{"field": "t", "title": "t"}, {"field": "unit"},
                        {"field": "value", "format": ".4g"}],
        },
    }]
    datasets = {name: data}
    if t_mark is not None:
        datasets[name + "_mark"] = frame(t0=[t_mark - 0.5], t1=[t_mark + 0.5])
        layers.append({"data": {"name": name + "_mark"},
                       "mark": {"type": "rect", "fill": None, "fillOpacity": 0, "stroke": "#111", "strokeWidth": 2},
                       "encoding": {"x": {"field": "t0", "type": "quantitative"}, "x2": {"field": "t1"}}})
    # Streamlit fits the whole chart (title, axes, legend) into ``height`` when the width stretches
    spec = base(title, height or 14 * H + 150)
    spec.update({"datasets": datasets, "layer": layers})
    spec["config"]["legend"] = {"labelFontSize": FONT - 3, "titleFontSize": FONT - 3}
    return spec


def input_strip(x: np.ndarray, *, bits: bool, t_mark: int | None = None, height: int = 170) -> dict:
    """The input sequence as a strip, with a legend. x: [T, I] (one row per input channel).

    bits: the ±1 encoding of 0/1 bits (one channel), drawn in two colours named "bit 0 (x = −1)"
    and "bit 1 (x = +1)"; otherwise the adding problem's channels "value" (0…1) and "marker" (0/1).
    """
    x = np.asarray(x, dtype=np.float64)
    spec = heatmap(x.T, title="input x_t", key="x", t_mark=t_mark, height=height, name="inputs")
    layer = spec["layer"][0]
    layer["encoding"]["y"]["title"] = "channel"
    if bits:
        # x = 2b − 1, so b = (x + 1) / 2
        layer["transform"].append({"calculate": "datum.value > 0 ? 'bit 1 (x = +1)' : 'bit 0 (x = −1)'",
                                   "as": "bit"})
        layer["encoding"]["color"] = {
            "field": "bit", "type": "nominal", "title": None,
            "scale": {"domain": BIT_NAMES, "range": ["#d9d9d9", charts.BLUE]},
            "legend": {"orient": "right", "symbolType": "square"}}
        layer["encoding"]["y"]["axis"] = {"values": [0], "labelExpr": "'bit'"}
    else:
        layer["encoding"]["color"] = {
            "field": "value", "type": "quantitative", "title": "value / marker",
            "scale": {"scheme": "blues", "domain": [0, 1], "clamp": True},
            "legend": {"orient": "right", "gradientLength": 60}}
        layer["encoding"]["y"]["axis"] = {"values": [0, 1], "labelExpr": "datum.value == 0 ? 'value' : 'marker'"}
    return spec


BIT_NAMES = ["bit 0 (x = −1)", "bit 1 (x = +1)"]


def steps_back_chart(profiles: dict[str, np.ndarray], *, title: str, mark_k: int | None = 50,
                     height: int = 320, colors: dict[str, str] | None = None) -> dict:
    """Gradient norms against steps back k (log y). profiles[label]: [T] (index = k).

    colors: label -> colour (default: each cell's colour when the label starts with its name, so
    the LSTM is blue, the GRU light blue and the RNN orange in every chart). The legend wraps in 2 columns.
    """
    n = max((len(v) for v in profiles.values()), default=0)
    ks = np.arange(n, dtype=np.float64)
    series = {}
    for label, v in profiles.items():
        v = np.asarray(v, dtype=np.float64)
        series[label] = np.concatenate([v, np.full(n - len(v), np.nan)])
    if colors is None:
        colors = {label: next((CELL_COLORS[c] for c, name in CELL_NAMES.items() if label.startswith(name)),
                              PALETTE[4]) for label in profiles}
    spec = line_chart(ks, series, title=title, x_title="steps back k (from the last step)",
                      y_title="mean ‖gradient‖ (log)", log_y=True, height=height, colors=colors)
    spec["layer"][0]["encoding"]["color"]["legend"] = {"columns": 2}
    if mark_k is not None and n > mark_k:
        spec["datasets"]["mark_k"] = frame(k=[float(mark_k)], label=[f"{mark_k} steps back"])
        spec["layer"].append({"data": {"name": "mark_k"},
                              "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#555"},
                              "encoding": {"x": {"field": "k", "type": "quantitative"},
                                           "tooltip": [{"field": "label"}]}})
    return spec


# --------------------------------------------------------------------------- cell diagram

def _fmt(v: float) -> str:
    return f"{v:+.3f}" if abs(v) < 1000 else f"{v:+.2e}"


def diagram_data(cell: str, terms: dict) -> tuple[list[dict], list[dict]]:
    """Nodes (x, y, label, kind) and edges (x, y, x2, y2) of the cell with this step's numbers."""
    tt = terms["t"]
    if cell == "lstm":
        i, f, g, o = (terms[k]["value"] for k in "ifgo")
        nodes = [
            (0.5, 5, f"c(t−1) {_fmt(terms['c_prev'])}", "state"),
            (2.5, 5, "×", "op"), (5.5, 5, "+", "op"),
            (9.8, 5, f"c(t={tt}) {_fmt(terms['c'])}", "state"),
            (2.5, 2, f"f σ {_fmt(f)}", "gate"), (4.3, 2, f"i σ {_fmt(i)}", "gate"),
            (6.1, 2, f"g tanh {_fmt(g)}", "gate"), (7.9, 2, f"o σ {_fmt(o)}", "gate"),
            (5.2, 3.5, "×", "op"), (9.0, 4.0, f"tanh c {_fmt(terms['tanh_c'])}", "gate"),
            (9.0, 3.0, "×", "op"), (9.8, 0.9, f"h(t={tt}) {_fmt(terms['h'])}", "state"),
            (0.8, 0.3, f"h(t−1) {_fmt(terms['h_prev'])}, x_t", "state"),
        ]
        edges = [(0.5, 5, 2.5, 5), (2.5, 5, 5.5, 5), (5.5, 5, 9.8, 5), (2.5, 2, 2.5, 5), (4.3, 2, 5.2, 3.5),
                 (6.1, 2, 5.2, 3.5), (5.2, 3.5, 5.5, 5), (9.0, 5, 9.0, 4.0), (9.0, 4.0, 9.0, 3.0),
                 (7.9, 2, 9.0, 3.0), (9.0, 3.0, 9.8, 0.9), (0.8, 0.3, 7.9, 0.3),
                 (2.5, 0.3, 2.5, 2), (4.3, 0.3, 4.3, 2), (6.1, 0.3, 6.1, 2), (7.9, 0.3, 7.9, 2)]
    elif cell == "gru":
        r, z, n = (terms[k]["value"] for k in "rzn")
        nodes = [
            (0.3, 5, f"h(t−1) {_fmt(terms['h_prev'])}", "state"),
            (6.5, 5, "(1−z)·n + z·h", "op"),
            (9.6, 5, f"h(t={tt}) {_fmt(terms['h'])}", "state"),
            (2.2, 2, f"r σ {_fmt(r)}", "gate"), (6.5, 2, f"z σ {_fmt(z)}", "gate"),
            (4.4, 3.4, f"n tanh {_fmt(n)}", "gate"),
            (0.3, 0.3, "x_t, h(t−1)", "state"),
        ]
        edges = [(0.3, 5, 6.5, 5), (6.5, 5, 9.6, 5), (2.2, 2, 4.4, 3.4), (4.4, 3.4, 6.5, 5),
                 (6.5, 2, 6.5, 5), (0.3, 0.3, 6.5, 0.3), (2.2, 0.3, 2.2, 2), (6.5, 0.3, 6.5, 2),
                 (4.4, 0.3, 4.4, 3.4)]
    else:
        nodes = [
            (0.3, 5, f"h(t−1) {_fmt(terms['h_prev'])}", "state"),
            (5, 3, f"a {_fmt(terms['a']['a'])} → tanh", "gate"),
            (9.6, 5, f"h(t={tt}) {_fmt(terms['h'])}", "state"),
            (0.3, 0.8, "x_t", "state"),
        ]
        edges = [(0.3, 5, 5, 3), (0.3, 0.8, 5, 3), (5, 3, 9.6, 5)]
    node_rows = [{"x": x, "y": y, "label": lab, "kind": kind} for x, y, lab, kind in nodes]
    edge_rows = [{"x": a, "y": b, "x2": c, "y2": d} for a, b, c, d in edges]
    return node_rows, edge_rows


def cell_diagram(cell: str, terms: dict, *, height: int = 300) -> dict:
    """A schematic of the cell at step t for one unit, every box labelled with its value."""
    nodes, edges = diagram_data(cell, terms)
    axis = {"axis": None, "scale": {"domain": [-0.8, 11.0], "nice": False}}
    yaxis = {"axis": None, "scale": {"domain": [-0.4, 5.8], "nice": False}}
    kinds = ["state", "gate", "op"]
    spec = base(None, height)
    spec.update({
        "datasets": {"nodes": frame(x=[n["x"] for n in nodes], y=[n["y"] for n in nodes],
                                    label=[n["label"] for n in nodes], kind=[n["kind"] for n in nodes]),
                     "edges": frame(**{k: [e[k] for e in edges] for k in ("x", "y", "x2", "y2")})},
        "layer": [
            {"data": {"name": "edges"}, "mark": {"type": "rule", "color": "#888", "strokeWidth": 2},
             "encoding": {"x": {"field": "x", "type": "quantitative", **axis}, "x2": {"field": "x2"},
                          "y": {"field": "y", "type": "quantitative", **yaxis}, "y2": {"field": "y2"}}},
            {"data": {"name": "nodes"},
             "mark": {"type": "text", "fontSize": FONT, "fontWeight": "bold", "baseline": "middle"},
             "encoding": {"x": {"field": "x", "type": "quantitative", **axis},
                          "y": {"field": "y", "type": "quantitative", **yaxis},
                          "text": {"field": "label"},
                          "color": {"field": "kind", "type": "nominal", "legend": None,
                                    "scale": {"domain": kinds, "range": [charts.BLUE, charts.VERMILLION, charts.INK]}}}},
        ],
    })
    # white halo behind the labels so the wires do not run through the text
    spec["layer"].insert(1, {"data": {"name": "nodes"},
                             "mark": {"type": "text", "fontSize": FONT, "fontWeight": "bold", "baseline": "middle",
                                      "stroke": "white", "strokeWidth": 6},
                             "encoding": {"x": {"field": "x", "type": "quantitative", **axis},
                                          "y": {"field": "y", "type": "quantitative", **yaxis},
                                          "text": {"field": "label"}}})
    return spec


# --------------------------------------------------------------------------- the live view

def loss_chart(h: dict[str, np.ndarray], m: dict[str, np.ndarray], height: int = 260) -> dict:
    """Training loss per step and the held-out accuracy (measured every 50 steps, interpolated).
    h, m: History.arrays() of the losses and of the held-out metrics."""
    acc = np.interp(h["step"], m["step"], m["eval_acc"]) if len(m["step"]) else np.full(len(h["step"]), np.nan)
    return line_chart(h["step"], {"train loss": h["loss"], "held-out accuracy": acc},
                      title="Loss and held-out accuracy", y_title="", height=height)


def clip_chart(h: dict[str, np.ndarray], height: int = 260) -> dict:
    """The gradient norm per step before clipping and the one used (after clipping), log y."""
    return line_chart(h["step"], {"‖∇‖ unclipped": h["grad_norm"], "‖∇‖ clipped (used)": h["grad_used"]},
                      title="Gradient norm per step: unclipped vs clipped", y_title="", log_y=True, height=height)


# --------------------------------------------------------------------------- the detail views

def forward_specs(d: dict) -> list[tuple[str, dict]]:
    """(chart key, spec) of every forward-view heatmap. d: ``viewer.inspect(...)``."""
    return [(f"chart_f_{k}", heatmap(d["fwd"][k], title=label, key=k, t_mark=d["t"], name=f"f_{k}"))
            for k, label in FORWARD_VIEW[d["cell"]]]


def backward_specs(d: dict) -> list[tuple[str, dict]]:
    """(chart key, spec) of every backward-view heatmap (log₁₀|·|). d: ``viewer.inspect(...)``."""
    return [(f"chart_b_{k}", heatmap(d["bwd"][k], title=label, log_abs=True, t_mark=d["t"], name=f"b_{k}"))
            for k, label in BACKWARD_VIEW[d["cell"]]]


def profile_chart(profile: dict[str, np.ndarray], mark_k: int = 50) -> dict:
    """‖δh‖ (and ‖δc‖ for the LSTM) against steps back, raw, log y. profile: ``gradient_profile``."""
    series = {"‖δh‖": profile["dh"]}
    if "dc" in profile:
        series["‖δc‖"] = profile["dc"]
    return steps_back_chart(series, title="Gradient norm against steps back (log scale)", mark_k=mark_k,
                            colors={"‖δh‖": PALETTE[0], "‖δc‖": PALETTE[4]})
