"""The character lesson's figures: snapshot arrays in, Vega-Lite specs (and small HTML) out.

Specs stay identical between frames (labels and numbers travel in the datasets), so the browser
only swaps data.
"""
from __future__ import annotations

import html
import math

import numpy as np

from core import charts
from core.images import colormap

NGRAM_COLOR = charts.INK
SHOW = {" ": "␣", "\n": "↵", "\t": "⇥"}


def show(ch: str) -> str:
    """A character as the charts print it (space, new line and tab made visible)."""
    return SHOW.get(ch, ch)


LABEL_COLUMNS, LABEL_STAGGER = 3, 78     # n-gram labels: columns, and pixels between them


def bits(h: dict, m: dict, ngram: dict[int, float], height: int) -> dict:
    """Training and held-out bits per character against the steps, with the n-gram models'
    held-out bits/char as labelled dashed lines (the lines to beat)."""
    keep = charts.thin(len(h["step"]))
    train = h["loss"][keep] / math.log(2.0)
    xs = np.concatenate([h["step"][keep], m["step"]])
    ys = np.concatenate([train, m["heldout_bits"]])
    names = ["training batch"] * len(keep) + ["held-out"] * len(m["step"])
    spec = charts.base("Bits per character (lower is better)", int(height * 0.8))
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    y = {"field": "y", "type": "quantitative", "title": "bits / char", "scale": {"zero": False}, "axis": {"format": "~r"}}
    spec["layer"] = [
        {"data": {"name": "lines"}, "mark": {"type": "line", "strokeWidth": 2, "clip": True, "point": False},
         "encoding": {"x": {"field": "x", "type": "quantitative", "title": "step"}, "y": y,
                      "color": {"field": "series", "type": "nominal", "title": None,
                                "scale": {"domain": ["training batch", "held-out"], "range": [charts.PALETTE[0], charts.PALETTE[1]]}}}},
        {"data": {"name": "ngram"}, "mark": {"type": "rule", "strokeDash": [4, 4], "color": NGRAM_COLOR},
         "encoding": {"y": {"field": "y", "type": "quantitative"}, "tooltip": [{"field": "label"}]}},
        # the labels in LABEL_COLUMNS staggered columns from the right, by rank of their value, so
        # that lines a few hundredths of a bit apart (3-gram 2.93, 4-gram 2.78) do not print on top
        # of each other
        *({"data": {"name": "ngram"}, "transform": [{"filter": f"datum.col == {k}"}],
           "mark": {"type": "text", "align": "right", "dy": -6, "color": "#555", "fontSize": charts.FONT - 2},
           "encoding": {"x": {"value": {"expr": f"width - 2 - {k * LABEL_STAGGER}"}},
                        "y": {"field": "y", "type": "quantitative"}, "text": {"field": "label"}}}
          for k in range(LABEL_COLUMNS)),
        # the best held-out measurement so far: where stopping would have been best (early stopping)
        {"data": {"name": "best"}, "mark": {"type": "point", "shape": "diamond", "size": 90, "filled": True,
                                            "color": charts.PALETTE[1], "stroke": "#222"},
         "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
                      "tooltip": [{"field": "label"}]}},
        {"data": {"name": "best"}, "mark": {"type": "text", "align": "left", "dx": 6, "dy": 12, "color": "#222",
                                            "fontSize": charts.FONT - 2},
         "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
                      "text": {"field": "label"}}},
        charts.placeholder_layer(),
    ]
    bx, by = best_so_far(m)
    has_best = len(h["step"]) > 0 and np.isfinite(by)        # a diamond once training has begun
    ns = sorted(ngram, key=lambda n: -ngram[n])              # from the highest line down
    spec["datasets"] = {
        "lines": charts.frame(x=xs, y=ys, series=names),
        "ngram": charts.frame(y=[ngram[n] for n in ns], label=[f"{n}-gram {ngram[n]:.2f}" for n in ns],
                              col=[i % LABEL_COLUMNS for i in range(len(ns))]),
        "empty_note": charts.frame(note=[] if len(h["step"]) else ["press ▶ Train or Step"]),
        "best": charts.frame(x=[bx] if has_best else [], y=[by] if has_best else [],
                             label=[f"best {by:.2f} (step {bx:,})"] if has_best else []),
    }
    return spec


def best_so_far(m: dict) -> tuple[int, float]:
    """(step, bits/char) of the lowest held-out measurement so far (the chart's diamond)."""
    if not len(m["step"]):
        return 0, float("nan")
    i = int(np.nanargmin(m["heldout_bits"]))
    return int(m["step"][i]), float(m["heldout_bits"][i])


def heatmap(snap: dict, height: int) -> dict:
    """Top candidates for the next character at each position of the inspected sample: columns
    are positions, the top row the character that was drawn, then the 6 likeliest candidates."""
    chars, cand, prob = snap["heat_chars"], snap["heat_cand"], snap["heat_prob"]
    P, K = prob.shape if len(chars) else (0, 0)
    pos = np.repeat(np.arange(P), K)
    rank = [str(r + 1) for _ in range(P) for r in range(K)]
    cells = charts.frame(pos=pos, rank=rank, p=prob.ravel() if P else [],
                         ch=[show(c) for row in cand for c in row],
                         drawn=[cand[i][r] == chars[i] for i in range(P) for r in range(K)])
    top = charts.frame(pos=np.arange(P), rank=["drawn"] * P, ch=[show(c) for c in chars])
    x = {"field": "pos", "type": "ordinal", "title": "position in the sample", "axis": {"labels": False, "ticks": False}}
    y = {"field": "rank", "type": "ordinal", "title": None, "sort": ["drawn", *map(str, range(1, 7))]}
    spec = charts.base("Next-character candidates at each position (colour = probability)", height)
    spec["layer"] = [
        {"data": {"name": "cells"}, "mark": {"type": "rect", "stroke": "white"},
         "encoding": {"x": x, "y": y, "color": {"field": "p", "type": "quantitative", "title": "p",
                                                "scale": {"scheme": "blues", "domain": [0, 1]},
                                                "legend": {"orient": "right", "gradientLength": 80}},
                      "tooltip": [{"field": "ch", "title": "candidate"}, {"field": "p", "format": ".3f"}]}},
        {"data": {"name": "cells"}, "mark": {"type": "text", "fontSize": charts.FONT - 1},
         "encoding": {"x": x, "y": y, "text": {"field": "ch"},
                      "color": {"condition": {"test": "datum.p > 0.5", "value": "white"}, "value": "#222"},
                      "fontWeight": {"condition": {"test": "datum.drawn", "value": "bold"}, "value": "normal"}}},
        {"data": {"name": "top"}, "mark": {"type": "text", "fontSize": charts.FONT, "fontWeight": "bold",
                                           "color": charts.ALERT},
         "encoding": {"x": x, "y": y, "text": {"field": "ch"}}},
    ]
    spec["datasets"] = {"cells": cells, "top": top}
    return spec


def temperature(snap: dict, height: int) -> dict:
    """softmax(z / T) of the likeliest characters at one position, one bar per temperature."""
    chars, probs = snap["demo_chars"], snap["demo_probs"]
    temps = list(probs)
    ch = [show(c) for _ in temps for c in chars]
    tl = [f"T = {T:g}" for T in temps for _ in chars]
    p = np.concatenate([probs[T] for T in temps]) if temps else np.zeros(0)
    spec = charts.base("p = softmax(z / T) at the chosen position", int(height * 0.8))
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    order = [show(c) for c in chars]
    spec.update({
        "datasets": {"bars": charts.frame(ch=ch, T=tl, p=p)}, "data": {"name": "bars"},
        "mark": {"type": "bar"},
        "encoding": {"x": {"field": "ch", "type": "nominal", "title": "next character (likeliest first)",
                           "sort": order, "axis": {"labelAngle": 0}},
                     "xOffset": {"field": "T", "type": "nominal", "sort": [f"T = {T:g}" for T in temps]},
                     "y": {"field": "p", "type": "quantitative", "title": "probability", "scale": {"domain": [0, 1]}},
                     "color": {"field": "T", "type": "nominal", "title": None, "sort": [f"T = {T:g}" for T in temps],
                               "scale": {"scheme": "viridis"}},
                     "tooltip": [{"field": "ch"}, {"field": "T"}, {"field": "p", "format": ".3f"}]},
    })
    return spec


def coloured(text: str, acts: np.ndarray, size: str = "1rem") -> str:
    """HTML: each character on a background from orange (−1) through near-white to blue (+1) by the
    unit's activation at that character (Karpathy's visualisation). text: n chars; acts: [n]."""
    acts = np.asarray(acts, dtype=np.float64)[: len(text)]
    rgb = (colormap(acts[None, :], -1.0, 1.0)[0] * 255).astype(int)
    spans = []
    for ch, (r, g, b), a in zip(text, rgb, acts):
        glyph = "↵<br>" if ch == "\n" else html.escape(ch).replace(" ", "&nbsp;")
        spans.append(f"<span title='{a:+.2f}' style='background:rgb({r},{g},{b})'>{glyph}</span>")
    return (f"<div style='font-family:monospace;font-size:{size};line-height:1.6;color:#111;"
            f"word-break:break-all'>{''.join(spans)}</div>")


def samples_html(samples: list[tuple[float, str]], height_em: float) -> str:
    """The samples side by side, one column per temperature, in fixed-height boxes."""
    cols = []
    for T, s in samples:
        body = html.escape(s).replace("\n", "<br>")
        cols.append(f"<div style='flex:1;min-width:0'><b>T = {T:g}</b><div style='font-family:monospace;"
                    f"font-size:0.85rem;height:{height_em}em;overflow:hidden;word-break:break-word;"
                    f"border:1px solid #ddd;border-radius:4px;padding:4px;background:#fafafa;color:#111'>{body}</div></div>")
    return f"<div style='display:flex;gap:8px'>{''.join(cols)}</div>"
