"""Figure builders: arrays in, Vega-Lite specs (plain dicts) out. No Streamlit, no trainers.

Vega-Lite is used for every live chart: Streamlit draws it on a reused canvas (no blank frames
at several updates a second) and a dict spec is the cheapest chart to send. Data goes in named
``datasets`` holding pandas DataFrames built column-wise from the arrays: Streamlit ships them as
Arrow, and because the rest of the spec is then identical from frame to frame, the browser only
swaps the data instead of rebuilding the chart (measured: frames went from ~2.5 to ~5+ a second
on the 1D GAN page). So: never put changing text (a step number) in a live spec. Every builder
bounds the points it sends (``MAX_POINTS``) and turns ±inf into NaN, which Vega-Lite leaves out.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa

from core.images import DIVERGING_STOPS, colormap, png_data_uri

MAX_POINTS = 200            # per series: 600 cost the browser ~2x per frame (bench_live_loop)
LOG_TICKS = [m * 10.0 ** k for k in range(-12, 13) for m in (1, 2, 5)]   # log axes: 1-2-5 ticks only
FONT = 14

# Colours (issue 36). One palette for every chart, chosen so that the colours that carry meaning
# stay apart for a colour-blind student: Okabe & Ito's set ("Color Universal Design", 2008),
# ordered so that any two of the first SERIES_SAFE differ by at least MIN_DELTA_E in CAM02-UCS
# under deuteranopia, protanopia and tritanopia (tests/framework/test_colours.py simulates them).
# Lessons import the named roles below instead of writing hex literals, so that test sees them.
BLUE, VERMILLION, SKY, ORANGE = "#0072B2", "#D55E00", "#56B4E9", "#E69F00"
GREEN, PURPLE, YELLOW = "#009E73", "#CC79A7", "#F0E442"
# Okabe–Ito's black vanishes on the dark theme: a mid grey reads on white and on Streamlit's dark
# background (contrast ~3.9:1 and ~4.9:1), for neutral marks (actual values, rules, references).
INK = "#808080"
PALETTE = [BLUE, VERMILLION, SKY, ORANGE, GREEN, PURPLE, YELLOW]
SERIES_SAFE = 4             # line charts with more series than this lean on their legend labels
MIN_DELTA_E = 15.0          # the test's floor; why 15: see tests/framework/test_colours.py

# Roles: what a colour means, the same everywhere (orange/vermillion = the fake, the held-out,
# the baseline that fails; blue = the real, the training data, the remedy).
REAL, FAKE, EARLIER = INK, VERMILLION, "#F2B07E"            # EARLIER: FAKE lightened (old clouds)
TRAIN, HELDOUT, FORECAST = BLUE, VERMILLION, ORANGE
BASELINE, REMEDY = VERMILLION, BLUE                          # plain model vs the fix (attention, adv. training)
BASELINE_LIGHT, REMEDY_LIGHT = "#F2B07E", SKY                # the same two, on the harder inputs
COVERED, MISSING = BLUE, VERMILLION
NEUTRAL, ALERT = INK, VERMILLION                             # a reference line vs the quantity to watch
FIELD_MARK = "#111111"      # a marker drawn only over the D(x) field image, never on the page
# Pairs whose colours are the only thing telling two marks apart at a glance; the test checks each.
ROLE_PAIRS = [("REAL", "FAKE"), ("FAKE", "EARLIER"), ("REAL", "EARLIER"), ("TRAIN", "HELDOUT"),
              ("HELDOUT", "FORECAST"), ("TRAIN", "FORECAST"), ("BASELINE", "REMEDY"),
              ("BASELINE_LIGHT", "REMEDY_LIGHT"), ("BASELINE", "BASELINE_LIGHT"), ("REMEDY", "REMEDY_LIGHT"),
              ("COVERED", "MISSING"), ("NEUTRAL", "ALERT")]

# Diverging maps: Vega's "blueorange" (CVD-safe; the old red–blue scheme kept less contrast under
# protanopia: CAM02-UCS ΔE 32 between its ends, against 45). Reversed, so that blue = high (D:
# "looks real") and orange = low ("looks fake"), as blue and red were before. core/images.py
# renders fields with the same stops.
DIVERGING = "blueorange"
DIVERGING_SCALE = {"scheme": DIVERGING, "reverse": True}
# the second cue for point clouds: real = circle, generated = triangle, ...
POINT_SHAPES = ["circle", "triangle-up", "square", "diamond"]


def clean(v: float) -> float | None:
    """A JSON-safe number: NaN and ±inf become None (a gap in the chart)."""
    v = float(v)
    return v if math.isfinite(v) else None


def frame(**cols: np.ndarray | list) -> pa.Table:
    """An Arrow table from equal-length columns; NaN and ±inf in numeric columns become null (a gap).

    Arrow, not pandas: Streamlit ships chart data as Arrow anyway, and building a DataFrame and
    converting it cost ~1.8 ms per dataset, most of a frame's drawing time (profiled in the live
    loop); a pyarrow table built straight from numpy goes out as is (~0.25 ms).
    """
    out = {}
    for k, v in cols.items():
        if isinstance(v, list) and v and all(type(x) is str for x in v):
            out[k] = pa.array(v, type=pa.string())     # labels: straight from the list (fast path)
            continue
        a = np.asarray(v)
        if a.dtype.kind in "fiu":
            a = a.astype(np.float64)
            a[~np.isfinite(a)] = np.nan
            out[k] = pa.array(a, from_pandas=True)       # NaN -> null, as pandas' conversion did
        elif a.dtype.kind == "b":
            out[k] = pa.array(a)
        else:
            out[k] = pa.array([None if x is None else str(x) for x in a.tolist()], type=pa.string())
    return pa.table(out)


def arrow_bytes(table: pa.Table) -> bytes:
    """``table`` as Arrow IPC stream bytes: the form a chart's dataset travels in. Streamlit takes
    bytes as they are, so a view sent again (a kept detail view) is not serialised again; and
    Streamlit's own conversion first scans every column for large-list types, which ours never
    have (the conversion was half of ``st.vega_lite_chart``'s time in a profile of 30 sessions)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def on_the_wire(spec: dict) -> dict:
    """A copy of ``spec`` whose Arrow datasets are IPC bytes (``arrow_bytes``); the rest is shared."""
    data = spec.get("datasets")
    if not data:
        return spec
    return {**spec, "datasets": {k: arrow_bytes(v) if isinstance(v, pa.Table) else v for k, v in data.items()}}


def thin(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices that keep at most ``max_points`` of n, evenly, always keeping the last."""
    if n <= max_points:
        return np.arange(n)
    idx = np.linspace(0, n - 1, max_points).round().astype(int)
    return np.unique(idx)


def base(title: str | None, height: int) -> dict:
    """The spec every chart starts from: schema, height, font sizes, title. Public so lesson
    chart modules build their own marks on the same look."""
    spec: dict = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "height": height,
        "config": {"axis": {"labelFontSize": FONT, "titleFontSize": FONT},
                   "legend": {"labelFontSize": FONT, "titleFontSize": FONT, "orient": "bottom"},
                   "title": {"fontSize": FONT + 2}, "view": {"stroke": None}},
    }
    if title:
        spec["title"] = title
    return spec


def scale_fonts(spec: dict, factor: float) -> dict:
    """A copy of ``spec`` whose text is ``factor`` times larger (presentation mode)."""
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in spec.get("config", {}).items()}
    for part in ("axis", "legend", "title", "header"):
        if part in cfg:
            for k, v in list(cfg[part].items()):
                if k.endswith("FontSize") or k == "fontSize":
                    cfg[part][k] = round(v * factor)
    return {**spec, "config": cfg}


def placeholder_layer(text: str = "press ▶ Train or Step") -> dict:
    """A text mark shown in the middle of a chart while it has no data yet, so no chart is
    empty without a word. Its dataset (``empty_note``) holds one row while empty, none after."""
    return {"data": {"name": "empty_note"},
            "mark": {"type": "text", "fontSize": FONT + 2, "color": INK},
            "encoding": {"text": {"field": "note", "type": "nominal"},
                         "x": {"value": {"expr": "width / 2"}}, "y": {"value": {"expr": "height / 2"}}}}


def legend_columns(names: Sequence[str], row_chars: int = 32) -> int:
    """A bottom legend in one row when its labels fit a chart a third of a laptop screen wide
    (~32 characters with their symbols), else in two columns: a row wider than its chart is cut
    off, and the last lines lose their names."""
    return len(names) if sum(len(n) + 4 for n in names) <= row_chars else 2


def line_chart(x: np.ndarray, series: dict[str, np.ndarray], *, title: str | None = None,
               x_title: str = "step", y_title: str = "", log_y: bool = False, height: int = 220,
               rules: Sequence[tuple[float, str]] = (), y_domain: tuple[float, float] | None = None,
               colors: dict[str, str] | None = None) -> dict:
    """Several series against one x. x: [n]; series[name]: [n]. ``rules``: (y, label) lines."""
    x = np.asarray(x, dtype=np.float64)
    keep = thin(len(x))
    xs, ys, names_col = [], [], []
    for name, y in series.items():
        y = np.asarray(y, dtype=np.float64)[keep]
        if log_y:
            y = np.where(y > 0, y, np.nan)
        xs.append(x[keep])
        ys.append(y)
        names_col += [name] * len(keep)
    data = frame(x=np.concatenate(xs) if xs else [], y=np.concatenate(ys) if ys else [], series=names_col)
    names = list(series)
    color_range = [(colors or {}).get(n, PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)]
    y_scale: dict = {"type": "log"} if log_y else {"zero": False}
    # log axes: ticks at 1-2-5 only, one number format ("1e-3", "0.01", "10"). Linear axes: "~r",
    # because Vega gives a format without precision the tick step's ("~.2g": 180 → "1.8e+2")
    y_axis: dict = {"format": "~g", "values": LOG_TICKS} if log_y else {"format": ",~r"}
    if y_domain is not None:
        y_scale["domain"] = list(y_domain)
    # steps are whole numbers: no "0.000000" under a lone first point, no tick at step 2.5
    x_axis: dict = {"tickMinStep": 1, "format": ",d"} if len(x) and np.all(x == np.round(x)) else {}
    # with one or two points a line has nothing to draw: show them as dots (blown up at step 1)
    mark: dict = {"type": "line", "strokeWidth": 2, "clip": True}
    if len(keep) <= 2:
        mark["point"] = {"filled": True, "size": 40}
    layers: list[dict] = [{
        "mark": mark,
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": x_title, "axis": x_axis},
            "y": {"field": "y", "type": "quantitative", "title": y_title, "scale": y_scale, "axis": y_axis},
            "color": {"field": "series", "type": "nominal", "title": None, "legend": {"columns": legend_columns(names)},
                      "scale": {"domain": names, "range": color_range}, "sort": names},
        },
    }]
    for y_rule, label in rules:
        layers.append({"data": {"name": f"rule_{len(layers)}"},
                       "mark": {"type": "rule", "strokeDash": [4, 4], "color": NEUTRAL},
                       "encoding": {"y": {"field": "y", "type": "quantitative"},
                                    "tooltip": [{"field": "label"}]}})
    # ``height`` is the whole chart's budget. Streamlit's default autosize ("fit") squeezes the plot
    # to make room for the title, axes and the legend below, which left ~40% of a 200 px chart to
    # the lines. "fit-x" keeps the width fitted to the column but makes ``height`` the plot itself:
    # 80% of the budget goes to the plot and the chart grows by its decorations (~60–90 px).
    spec = base(title, int(height * 0.8))
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    empty = not np.isfinite(np.concatenate(ys)).any() if ys and len(keep) else True
    datasets = {"lines": data, "empty_note": frame(note=["press ▶ Train or Step"] if empty else [])}
    layers.append(placeholder_layer())
    for i, (y_rule, label) in enumerate(rules):
        datasets[f"rule_{i + 1}"] = frame(y=[y_rule], label=[label])
    layers[0]["data"] = {"name": "lines"}
    spec.update({"datasets": datasets, "layer": layers})
    return spec


def heatmap_frame(gx: np.ndarray, gy: np.ndarray, z: np.ndarray) -> pa.Table:
    """Cells of a heatmap. gx: [nx] centres, gy: [ny] centres, z: [ny, nx] (rows = y)."""
    dx = (gx[-1] - gx[0]) / max(len(gx) - 1, 1) / 2
    dy = (gy[-1] - gy[0]) / max(len(gy) - 1, 1) / 2
    X, Y = np.meshgrid(gx, gy)
    return frame(x0=(X - dx).ravel(), x1=(X + dx).ravel(), y0=(Y - dy).ravel(), y1=(Y + dy).ravel(),
                 z=np.asarray(z, dtype=np.float64).ravel())


def image_field_layers(enc_x: dict, enc_y: dict, z_title: str, z_domain: tuple[float, float],
                       legend_length: int = 200, opacity: float = 0.85) -> list[dict]:
    """A scalar field drawn as one server-rendered image (dataset ``heat``) plus an invisible
    layer (``heat_key``) that carries its colour legend. One image, not a rect per cell: 1,600
    rects cost the browser more per frame than the rest of the page together
    (benchmarks/bench_live_loop.py). enc_x / enc_y: the chart's x and y encodings (scale, axis)."""
    return [{
        "data": {"name": "heat"},
        "mark": {"type": "image", "aspect": False, "opacity": opacity},
        "encoding": {
            "x": {**enc_x, "field": "x0", "type": "quantitative"}, "x2": {"field": "x1"},
            "y": {**enc_y, "field": "y1", "type": "quantitative"}, "y2": {"field": "y0"},
            "url": {"field": "url", "type": "nominal"},
        },
    }, {
        "data": {"name": "heat_key"},
        "mark": {"type": "point", "opacity": 0},
        "encoding": {
            "x": {"value": 0}, "y": {"value": 0},
            "color": {"field": "z", "type": "quantitative", "title": z_title,
                      "scale": {**DIVERGING_SCALE, "domain": list(z_domain)},
                      "legend": {"orient": "right", "gradientLength": legend_length, "format": ".2~g"}},
        },
    }]


def image_field_datasets(gx: np.ndarray, gy: np.ndarray, z: np.ndarray,
                         z_domain: tuple[float, float]) -> dict[str, pa.Table]:
    """The datasets of ``image_field_layers``. gx: [nx], gy: [ny] cell centres; z: [ny, nx],
    rows = y ascending, coloured with ``DIVERGING_SCALE`` (the same stops) over ``z_domain``."""
    dx = (gx[-1] - gx[0]) / max(len(gx) - 1, 1) / 2
    dy = (gy[-1] - gy[0]) / max(len(gy) - 1, 1) / 2
    # an image's first row is its top, so the rows are flipped
    url = png_data_uri(colormap(np.asarray(z, dtype=np.float64)[::-1], z_domain[0], z_domain[1], DIVERGING_STOPS))
    return {"heat": frame(x0=[gx[0] - dx], x1=[gx[-1] + dx], y0=[gy[0] - dy], y1=[gy[-1] + dy], url=[url]),
            "heat_key": frame(z=list(z_domain))}


def field_chart(*, gx: np.ndarray, gy: np.ndarray, z: np.ndarray, z_title: str,
                z_domain: tuple[float, float], points: dict[str, np.ndarray],
                curve: np.ndarray | None = None, curve_label: str = "target", title: str | None = None,
                height: int = 420,
                x_title: str = "x", y_title: str = "y", point_colors: dict[str, str] | None = None) -> dict:
    """A scalar field (heatmap, ``DIVERGING_SCALE``: blue high, orange low) with point clouds and an optional curve.

    gx: [nx], gy: [ny] cell centres; z: [ny, nx]; points[name]: [n, 2]; curve: [m, 2].
    """
    x_dom = [float(gx[0] - (gx[1] - gx[0]) / 2), float(gx[-1] + (gx[1] - gx[0]) / 2)]
    y_dom = [float(gy[0] - (gy[1] - gy[0]) / 2), float(gy[-1] + (gy[1] - gy[0]) / 2)]
    xs = {"scale": {"domain": x_dom, "nice": False}, "title": x_title}
    ys = {"scale": {"domain": y_dom, "nice": False}, "title": y_title}
    names = list(points)
    default_colors = [REAL, FAKE, SKY, PURPLE]
    rng = [(point_colors or {}).get(n, default_colors[i % 4]) for i, n in enumerate(names)]
    # the points and the dashed curve share one legend. Colour is not the only cue (issue 36):
    # each cloud has its own shape too, and the curve its dash (a line symbol in the legend)
    domain = names + ([curve_label] if curve is not None else [])
    color = {"field": "set", "type": "nominal", "title": None, "legend": {"orient": "top"},
             "scale": {"domain": domain, "range": rng + ([NEUTRAL] if curve is not None else [])}}
    shape = {"field": "set", "type": "nominal", "title": None, "legend": {"orient": "top"},
             "scale": {"domain": domain, "range": [POINT_SHAPES[i % len(POINT_SHAPES)] for i in range(len(names))]
                       + (["stroke"] if curve is not None else [])}}
    xy = {"x": {"field": "x", "type": "quantitative", **xs}, "y": {"field": "y", "type": "quantitative", **ys}}
    marks = [{"data": {"name": "curve"}, "encoding": {**xy, "color": color},
              "mark": {"type": "line", "strokeDash": [6, 4], "strokeWidth": 2, "clip": True}}] if curve is not None else []
    marks.append({"data": {"name": "points"}, "encoding": {**xy, "color": color, "shape": shape},
                  "mark": {"type": "point", "filled": True, "size": 36, "opacity": 0.85, "stroke": "white",
                           "strokeWidth": 0.5, "clip": True}})
    clouds = [np.asarray(points[n], dtype=np.float64).reshape(-1, 2)[:MAX_POINTS] for n in names]
    datasets = {**image_field_datasets(gx, gy, z, z_domain),
                "points": frame(x=np.concatenate([c[:, 0] for c in clouds]), y=np.concatenate([c[:, 1] for c in clouds]),
                                set=[n for n, c in zip(names, clouds) for _ in range(len(c))])}
    if curve is not None:
        datasets["curve"] = frame(x=np.asarray(curve)[:, 0], y=np.asarray(curve)[:, 1], set=[curve_label] * len(curve))
    spec = base(title, height)
    # the field's colour scale apart from the points' and curve's
    spec.update({"datasets": datasets, "layer": [*image_field_layers(xs, ys, z_title, z_domain), {"layer": marks}],
                 "resolve": {"scale": {"color": "independent"}}})
    return spec


def bar_chart(labels: Iterable[str], values: Iterable[float], *, title: str | None = None,
              y_title: str = "", height: int = 200, color: str = PALETTE[0]) -> dict:
    labels = [str(l) for l in labels]
    spec = base(title, height)
    spec.update({"datasets": {"bars": frame(label=labels, value=np.asarray(list(values), dtype=np.float64))},
                 "data": {"name": "bars"}, "mark": {"type": "bar", "color": color},
                 "encoding": {"x": {"field": "label", "type": "nominal", "title": None, "sort": None},
                              "y": {"field": "value", "type": "quantitative", "title": y_title}}})
    return spec
