"""The 1D GAN's figures: arrays from ``Gan1DTrainer.snapshot`` in, Vega-Lite specs out.

Titles are constant (no live numbers) so the browser only swaps data between frames.
"""
from __future__ import annotations

import numpy as np

from core import charts

# Algorithm 1 of Goodfellow et al. (2014), one line per row; the first item says which part
# ("d" or "g") a row belongs to, so the box can mark what the last step ran.
ALGO = [
    ("d", "<b>for</b> k steps <b>do</b>"),
    ("d", "&nbsp;&nbsp;sample m noise vectors z and m real points x"),
    ("d", "&nbsp;&nbsp;update D by <b>ascending</b> ∇ (1/m) Σ [log D(x) + log(1 − D(G(z)))]"),
    ("d", "<b>end for</b>"),
    ("g", "sample m noise vectors z"),
    ("g", "update G by <b>descending</b> ∇ (1/m) Σ log(1 − D(G(z))) <i>(minimax)</i> "
          "or ∇ −(1/m) Σ log D(G(z)) <i>(non-saturating)</i>"),
]


def algorithm_box(last_phase: str) -> str:
    """Algorithm 1 as HTML with the rows the last step ran marked ▶ ("d", "g" or "iteration")."""
    lines = []
    for part, text in ALGO:
        hot = last_phase == "iteration" or last_phase == part
        style = "background:#ffe8a3;color:#222;border-radius:4px;padding:1px 4px;" if hot else "padding:1px 4px;"
        lines.append(f"<div style='{style}'>{'▶ ' if hot else '&nbsp;&nbsp;&nbsp;'}{text}</div>")
    return ("<div style='font-size:0.95rem;line-height:1.6'><b>Algorithm 1</b> (one training iteration; "
            "marked: what the last step ran)" + "".join(lines) + "</div>")


def field(snap: dict, height: int) -> dict:
    """Generated vs real points over the discriminator's belief D(x, y) (the main chart)."""
    ls = snap["g_loss_kind"] == "least-squares"
    return charts.field_chart(
        gx=snap["grid_x"], gy=snap["grid_y"], z=snap["d_grid"],
        z_title="D(x, y)" + (" (score)" if ls else ""), z_domain=(0.0, 1.0),
        points={"real": snap["real"], "generated G(z)": snap["fake"]}, curve=snap["curve"],
        curve_label="target f(x)",
        title="Generated vs real points on D's belief D(x, y)", height=height)


def losses(h: dict[str, np.ndarray]) -> dict:
    return charts.line_chart(h["step"], {"D loss": h["d_loss"], "G loss": h["g_loss"]},
                             title="Losses", y_title="loss", height=200)


def d_outputs(h: dict[str, np.ndarray]) -> dict:
    return charts.line_chart(h["step"], {"D(real)": h["d_real"], "D(fake)": h["d_fake"]},
                             title="Mean D output (→ ½)", y_title="D",
                             rules=[(0.5, "equilibrium ½")], height=200)


def quality(m: dict[str, np.ndarray]) -> dict:
    return charts.line_chart(m["step"], {"|y − f(x)|": m["mean_abs_err"], "sliced W1": m["sliced_w1"]},
                             title="Quality (lower is better)", y_title="", log_y=True, height=200)


def g_gradient(h: dict[str, np.ndarray]) -> dict:
    return charts.line_chart(h["step"], {"|∂L_G/∂a| per sample": h["g_grad"]},
                             title="Gradient reaching G through D's logit a (log scale)",
                             y_title="", log_y=True, height=170)
