"""The adversarial lesson's figures: arrays from ``AdversarialTrainer.snapshot`` in, Vega-Lite
specs and coloured images out. Titles are constant (no live numbers), so the browser only swaps
data between frames. No Streamlit. The digits themselves are drawn by ``ui.image``.
"""
from __future__ import annotations

import numpy as np

from core import charts
from core.images import colormap

CLEAN, ROBUST = "clean", "adv. trained"
COLORS = {CLEAN: charts.BASELINE, ROBUST: charts.REMEDY}      # core.charts roles (issue 36)


def accuracy_curve(eps_grid: np.ndarray, curves: np.ndarray, eps: float, height: int = 200) -> dict:
    """Held-out accuracy under FGSM against ε for both models (curves [2, E]); a dashed
    vertical line at the ε of the attack above."""
    spec = charts.line_chart(eps_grid, {CLEAN: curves[0], ROBUST: curves[1]}, title="Accuracy against ε (FGSM)",
                             x_title="ε (pixels in [0, 1])", y_title="held-out accuracy", y_domain=(0.0, 1.0),
                             height=height, colors=COLORS)
    spec["layer"][0]["mark"]["point"] = {"filled": True, "size": 30}
    spec["datasets"]["eps_now"] = charts.frame(x=[float(eps)])
    spec["layer"].append({"data": {"name": "eps_now"}, "mark": {"type": "rule", "strokeDash": [4, 4], "color": charts.NEUTRAL},
                          "encoding": {"x": {"field": "x", "type": "quantitative"}}})
    return spec


def over_time(m: dict[str, np.ndarray], height: int = 200) -> dict:
    """Accuracy at ε = 0 and at ε = 0.2 for both models against the step: the price of robustness
    in clean accuracy and what it buys."""
    series = {f"{CLEAN}, ε 0": m["clean_acc"], f"{CLEAN}, ε .2": m["clean_acc_eps"],
              "adv., ε 0": m["robust_acc"], "adv., ε .2": m["robust_acc_eps"]}
    spec = charts.line_chart(m["step"], series, title="Accuracy while training", y_title="accuracy",
                             y_domain=(0.0, 1.0), height=height,
                             colors={k: COLORS[CLEAN if k.startswith(CLEAN) else ROBUST] for k in series})   # dashed: ε 0.2
    names = list(series)
    spec["layer"][0]["encoding"]["strokeDash"] = {
        "field": "series", "type": "nominal", "title": None, "sort": names,
        "scale": {"domain": names, "range": [[1, 0], [5, 3], [1, 0], [5, 3]]}}
    spec["config"]["legend"] = {**spec["config"].get("legend", {}), "columns": 2, "labelLimit": 95}
    return spec


def losses(h: dict[str, np.ndarray], height: int = 200) -> dict:
    return charts.line_chart(h["step"], {CLEAN: h["clean_loss"], ROBUST: h["robust_loss"]}, title="Training loss",
                             y_title="cross-entropy", log_y=True, height=height, colors=COLORS)


def probabilities(p_before: np.ndarray, p_after: np.ndarray, height: int = 160) -> dict:
    """The model's class probabilities for x (wide grey bars) and for x̃ (narrow orange bars), [10] each."""
    spec = charts.base("Probabilities: x grey, x̃ orange", int(height * 0.8))
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}     # height is the plot's (charts.line_chart)
    classes = [str(c) for c in range(len(p_before))]
    x_enc = {"field": "digit", "type": "nominal", "title": None, "sort": classes, "axis": {"labelAngle": 0}}
    y_scale = {"domain": [0, 1]}
    spec.update({
        "datasets": {"probs": charts.frame(digit=classes, before=p_before, after=p_after)},
        "data": {"name": "probs"},
        "layer": [
            {"mark": {"type": "bar", "color": charts.INK, "opacity": 0.6, "width": {"band": 0.85}},
             "encoding": {"x": x_enc, "y": {"field": "before", "type": "quantitative", "title": "probability",
                                            "scale": y_scale}}},
            {"mark": {"type": "bar", "color": charts.ALERT, "width": {"band": 0.4}},
             "encoding": {"x": x_enc, "y": {"field": "after", "type": "quantitative", "scale": y_scale}}},
        ]})
    return spec


def path(path_linf: np.ndarray, path_p: np.ndarray, eps: float, height: int = 200) -> dict:
    """BIM/PGD iteration by iteration: ‖x_k − x‖∞ (never above the dashed ε) and the probability
    of the attacked label (the true one, or the target)."""
    k = np.arange(len(path_linf), dtype=np.float64)
    return charts.line_chart(k, {"‖x_k − x‖∞": path_linf, "p(label attacked)": path_p}, title="The attack, step by step",
                             x_title="iteration k", y_title="", y_domain=(0.0, 1.0), height=height,
                             rules=[(float(eps), "ε")], colors={"‖x_k − x‖∞": charts.NEUTRAL, "p(label attacked)": charts.ALERT})


def perturbation_rgb(delta: np.ndarray, eps: float) -> np.ndarray:
    """δ = x̃ − x ([16, 16]) as colours on the budget's scale: orange −ε, near-white 0, blue +ε (core.images.DIVERGING_STOPS). [16, 16, 3]."""
    e = max(float(eps), 1e-6)
    return colormap(delta, -e, e)


def sign_grey(sign: np.ndarray) -> np.ndarray:
    """The signs (−1, 0, +1) as black, grey, white: [16, 16] in [0, 1]."""
    return (np.asarray(sign, dtype=np.float64) + 1.0) / 2.0


def percent(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{100 * v:.0f} %"
