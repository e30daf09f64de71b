"""Vega-Lite specs (plain dicts) for the forecasting lesson. No Streamlit, no trainers.

Follows core/charts.py: data in named ``datasets`` built column-wise, a spec that does not change
from frame to frame (no step numbers in titles), and at most ``charts.MAX_POINTS`` points per
series. Every line is named in a legend; the shaded parts are labelled on the chart itself.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from core import charts
from core.charts import FONT, base, frame, thin

SERIES_COLORS = {                          # the shared roles (core.charts, issue 36)
    "actual": charts.INK,
    "one-step prediction, train": charts.TRAIN,
    "one-step prediction, test": charts.HELDOUT,
    "recursive forecast": charts.FORECAST,
}
SERIES_DASH = {"actual": [1, 0], "one-step prediction, train": [1, 0], "one-step prediction, test": [1, 0],
               "recursive forecast": [6, 3]}
TEST_LABEL = "test part (never used for fitting or scaling)"
BEYOND_LABEL = "beyond the data"


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = thin(len(x))
    return np.asarray(x, dtype=np.float64)[keep], np.asarray(y, dtype=np.float64)[keep]


def _lines(x: np.ndarray, values: np.ndarray, pred_x: np.ndarray, pred: np.ndarray, is_train: np.ndarray,
           forecast_x: np.ndarray, forecast: np.ndarray) -> Any:
    """The four named lines as one long table (x, y, series)."""
    parts = [("actual", *_thin(x, values))]
    is_train = np.asarray(is_train, dtype=bool)
    px, p = np.asarray(pred_x, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    parts.append(("one-step prediction, train", *_thin(px[is_train], p[is_train])))
    parts.append(("one-step prediction, test", *_thin(px[~is_train], p[~is_train])))
    if len(forecast):
        # start the forecast line at the last actual value so it visibly continues the series
        fx = np.r_[float(x[-1]), np.asarray(forecast_x, dtype=np.float64)]
        fy = np.r_[float(values[-1]), np.asarray(forecast, dtype=np.float64)]
        parts.append(("recursive forecast", *_thin(fx, fy)))
    return frame(x=np.concatenate([a for _, a, _ in parts]), y=np.concatenate([b for _, _, b in parts]),
                 series=[n for n, a, _ in parts for _ in range(len(a))])


def series_chart(*, x: np.ndarray, values: np.ndarray, pred_x: np.ndarray, pred: np.ndarray,
                 is_train: np.ndarray, split_x: float, forecast_x: np.ndarray, forecast: np.ndarray,
                 x_title: str, unit: str, height: int = 300, title: str | None = None) -> dict:
    """Actual series, one-step predictions over train and test, recursive forecast beyond the data.

    x, values: [n]; pred_x, pred, is_train: [N]; forecast_x, forecast: [h]. The test part is
    shaded orange-red and the part beyond the data grey, each labelled; a dashed rule marks the split.
    The legend (right, so it costs no height) names all four lines, dashes included. ``height`` is
    the plot itself; the axes add about 50 px.
    """
    x_end = float(max(x[-1], forecast_x[-1] if len(forecast_x) else x[-1]))
    region = frame(x0=[split_x, float(x[-1])], x1=[float(x[-1]), x_end], label=[TEST_LABEL, BEYOND_LABEL],
                   short=["test", "forecast"])
    xs = {"field": "x", "type": "quantitative", "title": x_title,
          "scale": {"zero": False, "nice": False}, "axis": {"format": "d"} if x_title == "year" else {}}
    names = list(SERIES_COLORS)
    spec = base(title, height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec["config"]["legend"] = {**spec["config"]["legend"], "orient": "right", "symbolStrokeWidth": 3,
                                "symbolSize": 300, "labelLimit": 320}
    spec.update({
        "datasets": {"lines": _lines(x, values, pred_x, pred, is_train, forecast_x, forecast), "region": region},
        "layer": [
            {"data": {"name": "region"}, "transform": [{"filter": "datum.x0 < datum.x1"}], "mark": {"type": "rect"},
             "encoding": {"x": {"field": "x0", "type": "quantitative"}, "x2": {"field": "x1"},
                          "color": {"value": charts.HELDOUT},
                          # the test part shaded in the held-out colour, the forecast region a faint grey
                          "opacity": {"condition": {"test": f"datum.label == '{BEYOND_LABEL}'", "value": 0.04},
                                      "value": 0.08},
                          "tooltip": [{"field": "label"}]}},
            {"data": {"name": "region"}, "transform": [{"filter": "datum.x0 < datum.x1"}],
             "mark": {"type": "rule", "strokeDash": [4, 4], "color": charts.NEUTRAL},
             "encoding": {"x": {"field": "x0", "type": "quantitative"}}},
            {"data": {"name": "region"}, "transform": [{"filter": "datum.x0 < datum.x1"}],
             "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4, "dy": 4, "color": charts.HELDOUT,
                      "fontSize": FONT - 1},
             "encoding": {"x": {"field": "x0", "type": "quantitative"}, "y": {"value": 0},
                          "text": {"field": "short"}}},
            {"data": {"name": "lines"},
             "mark": {"type": "line", "strokeWidth": 2, "clip": True, "point": False},
             "encoding": {
                 "x": xs,
                 "y": {"field": "y", "type": "quantitative", "title": unit, "scale": {"zero": False}},
                 "color": {"field": "series", "type": "nominal", "title": None,
                           "scale": {"domain": names, "range": [SERIES_COLORS[n] for n in names]}, "sort": names},
                 # same field and title as the colour: Vega-Lite draws one legend with the dashes
                 "strokeDash": {"field": "series", "type": "nominal", "title": None, "sort": names,
                                "scale": {"domain": names, "range": [SERIES_DASH[n] for n in names]}},
                 "tooltip": [{"field": "series"}, {"field": "x", "format": ".2f"}, {"field": "y", "format": ".2f"}],
             }},
        ],
    })
    return spec


def main(snap: dict, height: int) -> dict:
    """The page's main chart from a ``ForecastTrainer.snapshot``."""
    return series_chart(x=snap["x"], values=snap["values"], pred_x=snap["pred_x"], pred=snap["pred"],
                        is_train=snap["is_train"], split_x=snap["split_x"], forecast_x=snap["forecast_x"],
                        forecast=snap["forecast"], x_title=snap["x_title"], unit=snap["unit"], height=height)


def loss(h: dict[str, np.ndarray], height: int = 240) -> dict:
    return charts.line_chart(h["step"], {"training loss": h["loss"]}, title="Loss (MSE, model units)",
                             x_title="epoch", log_y=True, height=height)


def errors(h: dict[str, np.ndarray], unit: str, height: int = 240) -> dict:
    return charts.line_chart(h["step"], {"train RMSE": h["train_rmse"], "test RMSE": h["test_rmse"]},
                             title=f"RMSE ({unit})", x_title="epoch", height=height,
                             colors={"train RMSE": SERIES_COLORS["one-step prediction, train"],
                                     "test RMSE": SERIES_COLORS["one-step prediction, test"]})


def framing(values: np.ndarray, look_back: int) -> dict:
    """The first five (X → y) pairs of the series for this look-back."""
    return framing_chart(values, look_back, rows=5, title=f"The first 5 pairs for look-back L = {look_back}")


def board(labels: list[str], values: list[float], unit: str) -> dict:
    return charts.bar_chart(labels, values, title="Test RMSE per run (lower is better)", y_title=unit,
                            height=260, color=SERIES_COLORS["one-step prediction, test"])


def framing_chart(values: np.ndarray, look_back: int, *, rows: int = 5, start: int = 0,
                  show_values: bool = True, height: int | None = None, title: str | None = None) -> dict:
    """How the series is cut into (X → y) pairs: one row per pair, one column per time index.

    Row i covers the window values[start+i : start+i+L] (input X, light blue) and the target
    values[start+i+L] (y, orange). values: [n] (shown as numbers in the cells).
    """
    L = int(look_back)
    rows = max(1, min(int(rows), len(values) - L - start))
    ii, jj, role, val = [], [], [], []
    for i in range(rows):
        for j in range(start + i, start + i + L + 1):
            ii.append(f"pair {i + 1}")
            jj.append(j)
            role.append("target y" if j == start + i + L else "input X")
            val.append(float(values[j]))
    cells = frame(pair=ii, t=np.asarray(jj, dtype=np.float64), role=role, value=np.asarray(val),
                  label=[f"{v:.3g}" for v in val])
    span = rows + L
    order = [f"pair {i + 1}" for i in range(rows)]
    enc_x = {"field": "t", "type": "ordinal", "title": "time index t of the series",
             "axis": {"labelAngle": 0}}
    enc_y = {"field": "pair", "type": "nominal", "title": None, "sort": order}
    layers = [{"mark": {"type": "rect", "stroke": "white", "strokeWidth": 2},
               "encoding": {"x": enc_x, "y": enc_y,
                            "color": {"field": "role", "type": "nominal", "title": None,
                                      "scale": {"domain": ["input X", "target y"], "range": [charts.SKY, charts.ORANGE]},
                                      "legend": {"orient": "top"}},
                            "tooltip": [{"field": "pair"}, {"field": "t"}, {"field": "role"},
                                        {"field": "value", "format": ".4g"}]}}]
    if show_values and span <= 22:
        layers.append({"mark": {"type": "text", "fontSize": FONT - 3 if span > 12 else FONT - 1},
                       "encoding": {"x": enc_x, "y": enc_y, "text": {"field": "label"}}})
    # Streamlit sizes Vega-Lite charts with autosize "fit": the height includes title, axis and legend
    spec = base(title, height or 38 * rows + 120)
    spec.update({"datasets": {"cells": cells}, "data": {"name": "cells"}, "layer": layers})
    return spec
