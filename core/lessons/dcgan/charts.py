"""The DCGAN lesson's figures: arrays from ``DcganTrainer.snapshot`` in, Vega-Lite specs out.
Titles are constant (no live numbers), so the browser only swaps data between frames.
No Streamlit. The digit grids themselves are drawn by ``ui.image_grid`` (inline PNGs).
"""
from __future__ import annotations

import numpy as np

from core import charts

CEILING = "real digits"


def losses(h: dict[str, np.ndarray], coded: bool = False, height: int = 170) -> dict:
    """D's and G's GAN losses; with InfoGAN's code also Q's cross-entropy on the code (ln K when
    Q guesses, 0 when it always knows which code made a digit)."""
    series = {"D loss": h["d_loss"], "G loss": h["g_loss"]}
    if coded:
        series["code CE"] = h["code_loss"]
    return charts.line_chart(h["step"], series, title="Losses", y_title="loss", height=height)


def d_outputs(h: dict[str, np.ndarray], height: int = 170) -> dict:
    return charts.line_chart(h["step"], {"D(real)": h["d_real"], "D(fake)": h["d_fake"]},
                             title="Mean D output", y_title="D", y_domain=(0.0, 1.0), height=height)


def quality(m: dict[str, np.ndarray], ceiling: dict[str, float], conditional: bool, height: int = 170) -> dict:
    """The share of generated digits the classifier accepts (and, conditional, reads as the
    digit asked for) against the step; the real held-out digits' share as a dashed line."""
    series = {"accepted": m["accepted"]}
    if conditional:
        series["asked digit"] = m["label_match"]
    steps = np.asarray(m["step"], dtype=np.float64)
    series[CEILING] = np.full(steps.shape, float(ceiling["accepted"]))
    spec = charts.line_chart(steps, series, title="Quality, judged by the digit classifier", y_title="share",
                             y_domain=(0.0, 1.0), height=height, colors={CEILING: charts.INK})
    names = list(series)
    spec["layer"][0]["encoding"]["strokeDash"] = {
        "field": "series", "type": "nominal", "title": None, "sort": names,
        "scale": {"domain": names, "range": [[1, 0]] * (len(names) - 1) + [[5, 4]]}}
    spec["config"]["legend"] = {**spec["config"].get("legend", {}), "columns": 3}
    return spec


def class_counts(counts: np.ndarray, height: int = 150) -> dict:
    """Accepted digits per class at the last measurement ([10]); a collapsed run shows gaps."""
    return charts.bar_chart([str(d) for d in range(len(counts))], np.asarray(counts, dtype=np.float64),
                            title="Accepted digits per class", y_title="digits", height=height)


def percent(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{100 * v:.0f} %"
