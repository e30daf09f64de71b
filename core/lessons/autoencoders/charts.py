"""The autoencoder lesson's figures: arrays from ``AutoencodersTrainer.snapshot`` in, Vega-Lite
specs out. Titles and scales are constant (no live numbers), so the browser only swaps data
between frames. No Streamlit. Digit grids on their own are drawn by ``ui.image_grid``.
"""
from __future__ import annotations

import numpy as np

from core import charts
from core.images import png_data_uri, tile

DIGITS = [str(d) for d in range(10)]
# ten digits are more than colour alone can keep apart for everyone: the legend names each, and the
# first seven are the shared CVD-safe palette (issue 36), the rest Tol's wine and teal and grey
DIGIT_COLORS = [*charts.PALETTE, "#882255", "#44AA99", charts.INK]
MODEL_COLORS = dict(zip(("autoencoder", "VAE", "denoising AE"), charts.PALETTE))      # issue 36: CVD-safe


def manifold_image(manifold: np.ndarray, box: np.ndarray) -> dict:
    """The decoded grid as one picture placed over its box: manifold [G², 16, 16] in [0, 1] (row
    by row from the top), box [2, 2] = (lo, hi) of the grid's centres. Dark digits on white, so
    the coloured points stay readable on top."""
    g = int(round(np.sqrt(len(manifold))))
    half = (box[1] - box[0]) / max(g - 1, 1) / 2              # half a cell beyond the outer centres
    url = png_data_uri(tile(1.0 - manifold, g, pad=0), 0.0, 1.0)
    return {"x0": [box[0, 0] - half[0]], "x1": [box[1, 0] + half[0]],
            "y0": [box[0, 1] - half[1]], "y1": [box[1, 1] + half[1]], "url": [url]}


def latent_map(codes: np.ndarray, labels: np.ndarray, box: np.ndarray, manifold: np.ndarray,
               marks: np.ndarray | None = None, picked: np.ndarray | None = None, title: str | None = None,
               height: int = 250, legend: bool = True) -> dict:
    """Held-out digits in latent space (codes [n, 2], labels [n]) coloured by digit, over the
    decoded manifold grid; ``marks`` [m, 2]: an optional path (the explorer's interpolation)
    drawn as a black line with dots; ``picked`` [2]: the explorer's point, a black cross."""
    xy = {"x": {"field": "x", "type": "quantitative", "title": "z₁", "scale": {"zero": False, "nice": False}},
          "y": {"field": "y", "type": "quantitative", "title": "z₂", "scale": {"zero": False, "nice": False}}}
    color = {"field": "digit", "type": "nominal", "title": None, "scale": {"domain": DIGITS, "range": DIGIT_COLORS},
             "legend": {"orient": "bottom", "direction": "horizontal", "columns": 5, "symbolSize": 50,
                        "labelFontSize": 12, "rowPadding": 2} if legend else None}
    layers = [
        {"data": {"name": "manifold"}, "mark": {"type": "image", "aspect": False, "opacity": 0.7},
         "encoding": {"x": {**xy["x"], "field": "x0"}, "x2": {"field": "x1"},
                      "y": {**xy["y"], "field": "y1"}, "y2": {"field": "y0"},
                      "url": {"field": "url", "type": "nominal"}}},
        {"data": {"name": "points"}, "mark": {"type": "circle", "size": 22, "opacity": 0.85},
         "encoding": {**xy, "color": color, "tooltip": [{"field": "digit", "type": "nominal"}]}},
        {"data": {"name": "marks"}, "mark": {"type": "line", "color": "black", "strokeWidth": 2,
                                            "point": {"filled": True, "color": "black", "size": 40}},
         "encoding": {**xy, "order": {"field": "i", "type": "quantitative"}}},
        {"data": {"name": "picked"}, "mark": {"type": "point", "shape": "cross", "size": 260, "filled": True,
                                             "color": "black"}, "encoding": xy},
    ]
    codes = np.asarray(codes, dtype=np.float64).reshape(-1, 2)
    m = np.zeros((0, 2)) if marks is None else np.asarray(marks, dtype=np.float64).reshape(-1, 2)
    spec = charts.base(title, height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec.update({"layer": layers, "datasets": {
        "manifold": charts.frame(**manifold_image(np.asarray(manifold), np.asarray(box, dtype=np.float64))),
        "points": charts.frame(x=codes[:, 0], y=codes[:, 1], digit=[DIGITS[int(d)] for d in labels]),
        "marks": charts.frame(x=m[:, 0], y=m[:, 1], i=np.arange(len(m))),
        "picked": charts.frame(x=[] if picked is None else [float(picked[0])],
                               y=[] if picked is None else [float(picked[1])])}})
    return spec


def reconstruction(h: dict[str, np.ndarray], height: int = 160) -> dict:
    """Reconstruction loss of each model (BCE summed over the 256 pixels, per digit)."""
    return charts.line_chart(h["step"], {"autoencoder": h["ae_loss"], "VAE": h["vae_recon"],
                                         "denoising AE": h["dae_loss"]},
                             title="Reconstruction loss (BCE per digit)", y_title="BCE", height=height,
                             colors=MODEL_COLORS)


def vae_split(h: dict[str, np.ndarray], height: int = 160) -> dict:
    """The VAE's loss in its two parts: reconstruction and KL (the KL before β weighs it)."""
    return charts.line_chart(h["step"], {"reconstruction": h["vae_recon"], "KL": h["vae_kl"]},
                             title="VAE loss = reconstruction + β·KL", y_title="nats", log_y=True, height=height,
                             colors={"reconstruction": charts.ALERT, "KL": charts.NEUTRAL})


def quality(m: dict[str, np.ndarray], kind: str, height: int = 160) -> dict:
    """``kind`` "accepted": the share of each decoded grid the classifier accepts; "knn": 5-NN
    accuracy of the held-out digits in each latent space."""
    title = {"accepted": "Decoded grid the classifier accepts (≥ 0.9 sure)",
             "knn": "5-NN accuracy of held-out digits in latent space"}[kind]
    return charts.line_chart(m["step"], {"autoencoder": m[f"{kind}_ae"], "VAE": m[f"{kind}_vae"],
                                         "denoising AE": m[f"{kind}_dae"]},
                             title=title, y_title="share", y_domain=(0.0, 1.0), height=height, colors=MODEL_COLORS)


def percent(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{100 * v:.0f} %"
