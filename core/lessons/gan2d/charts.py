"""Vega-Lite specs (plain dicts) for the mode-collapse lesson. No Streamlit, no trainers.

As in ``core.charts``: data goes in named ``datasets`` (DataFrames, shipped as Arrow) and nothing
that changes from frame to frame is in the rest of the spec, so the browser only swaps data.
Every builder bounds what it sends: a heatmap of GRID² cells, at most ``MAX_SHOW`` points per
cloud, at most ``MAX_TRAIL`` points of trail.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from core.charts import PALETTE, _base, frame, heatmap_frame, line_chart

MAX_SHOW = 400
MAX_TRAIL = 450
FAKE_COLOR = "#ff7f0e"
REAL_COLOR = "#555555"
METHOD_COLORS = {"vanilla": "#d62728", "minimax": "#8c564b", "wgan-gp": "#1f77b4", "mbstd": "#9467bd",
                 "unrolled": "#2ca02c", "pacgan": "#17becf", "cgan": "#e377c2"}


def _cloud(a: np.ndarray, n: int) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).reshape(-1, 2)[:n]


def scaled_critic(z: np.ndarray) -> np.ndarray:
    """The critic's values mapped to [−1, 1] around their median (its raw range drifts freely):
    (f − median) / max |f − median|."""
    z = np.asarray(z, dtype=np.float64)
    finite = z[np.isfinite(z)]
    if not finite.size:
        return z
    mid = float(np.median(finite))
    half = float(np.max(np.abs(finite - mid))) or 1.0
    return (z - mid) / half


def samples_chart(*, gx: np.ndarray, gy: np.ndarray, field: np.ndarray | None, critic: bool,
                  fake: np.ndarray, real: np.ndarray | None, ref: np.ndarray | None,
                  trail: Sequence[np.ndarray] = (), title: str | None = None, height: int = 330) -> dict:
    """Generated points over the real ones, on the discriminator's (critic's) field.

    gx: [nx], gy: [ny] grid centres; field: [ny, nx] D(x) ∈ [0, 1] or the critic's f(x)
    (drawn scaled to [−1, 1]); fake: [n, 2]; real: [n, 2] or None (hidden); ref: [K, 2] mode
    centres or None; trail: older sample clouds [n_i, 2], oldest first, drawn faint.
    """
    x_dom = [float(gx[0]), float(gx[-1])]
    y_dom = [float(gy[0]), float(gy[-1])]
    enc_x = {"field": "x", "type": "quantitative", "scale": {"domain": x_dom, "nice": False}, "title": None}
    enc_y = {"field": "y", "type": "quantitative", "scale": {"domain": y_dom, "nice": False}, "title": None}
    layers: list[dict] = []
    datasets: dict[str, Any] = {}
    if field is not None:
        z = scaled_critic(field) if critic else np.asarray(field, dtype=np.float64)
        dom, title_z = ([-1.0, 1.0], "critic (scaled)") if critic else ([0.0, 1.0], "D(x)")
        datasets["heat"] = heatmap_frame(gx, gy, z)
        layers.append({
            "data": {"name": "heat"},
            "mark": {"type": "rect", "opacity": 0.8},
            "encoding": {
                "x": {"field": "x0", "type": "quantitative", "scale": enc_x["scale"], "title": None},
                "x2": {"field": "x1"},
                "y": {"field": "y0", "type": "quantitative", "scale": enc_y["scale"], "title": None},
                "y2": {"field": "y1"},
                "color": {"field": "z", "type": "quantitative", "title": title_z,
                          "scale": {"scheme": "redblue", "domain": dom, "clamp": True},
                          "legend": {"orient": "right", "gradientLength": 120, "format": ".2~g"}},
            },
        })
    clouds: list[tuple[str, np.ndarray]] = []
    if real is not None:
        clouds.append(("real", _cloud(real, MAX_SHOW)))
    trail = list(trail)
    if trail:
        per = max(1, MAX_TRAIL // len(trail))
        clouds += [("earlier", _cloud(t, per)) for t in trail]
    clouds.append(("generated", _cloud(fake, MAX_SHOW)))
    names = (["real"] if real is not None else []) + (["earlier"] if trail else []) + ["generated"]
    colours = {"real": REAL_COLOR, "earlier": "#ffcc80", "generated": FAKE_COLOR}
    datasets["points"] = frame(x=np.concatenate([c[:, 0] for _, c in clouds]),
                               y=np.concatenate([c[:, 1] for _, c in clouds]),
                               set=[n for n, c in clouds for _ in range(len(c))])
    layers.append({
        "data": {"name": "points"},
        "mark": {"type": "circle", "clip": True, "strokeWidth": 0},
        "encoding": {
            "x": enc_x, "y": enc_y,
            "color": {"field": "set", "type": "nominal", "title": None,
                      "scale": {"domain": names, "range": [colours[n] for n in names]},
                      "legend": {"orient": "bottom"}},
            "size": {"condition": {"test": "datum.set == 'generated'", "value": 18}, "value": 10},
            "opacity": {"condition": {"test": "datum.set == 'earlier'", "value": 0.35}, "value": 0.8},
        },
    })
    if ref is not None:
        r = _cloud(ref, 64)
        datasets["modes"] = frame(x=r[:, 0], y=r[:, 1])
        layers.append({
            "data": {"name": "modes"},
            "mark": {"type": "point", "shape": "cross", "size": 60, "color": "#000", "strokeWidth": 1.2, "clip": True},
            "encoding": {"x": enc_x, "y": enc_y},
        })
    spec = _base(title, height)
    spec.update({"datasets": datasets, "layer": layers, "resolve": {"scale": {"color": "independent"}}})
    return spec


def coverage_chart(counts: np.ndarray, *, title: str | None = None, height: int = 130) -> dict:
    """High-quality samples per mode (counts: [K]); a mode with none is drawn as missing."""
    counts = np.asarray(counts, dtype=np.float64)
    data = frame(mode=np.arange(1, len(counts) + 1), n=counts,
                 status=["covered" if c > 0 else "missing" for c in counts])
    spec = _base(title, height)
    spec.update({"datasets": {"bars": data}, "data": {"name": "bars"}, "mark": {"type": "bar"},
                 "encoding": {"x": {"field": "mode", "type": "ordinal", "title": "mode"},
                              "y": {"field": "n", "type": "quantitative", "title": "samples"},
                              "color": {"field": "status", "type": "nominal", "title": None,
                                        "scale": {"domain": ["covered", "missing"], "range": ["#2ca02c", "#d62728"]},
                                        "legend": None},
                              "tooltip": [{"field": "mode"}, {"field": "n", "title": "high-quality samples"}]}})
    return spec


def metrics_chart(m: dict[str, np.ndarray], n_modes: int, *, height: int = 150) -> dict:
    """Modes covered over training steps (m: History arrays with 'step', 'covered', 'covered_mean')."""
    series = {"modes covered": m["covered"]}
    if "covered_mean" in m and not np.array_equal(m["covered_mean"], m["covered"]):
        series["mean over seeds"] = m["covered_mean"]
    return line_chart(m["step"], series, title=None, y_title="modes covered", height=height,
                      y_domain=(0, n_modes), rules=[(n_modes, "all modes")])


def quality_chart(m: dict[str, np.ndarray], *, height: int = 150) -> dict:
    """High-quality share and KL(mode histogram ‖ uniform) over steps."""
    return line_chart(m["step"], {"high-quality share": m["hq"], "KL to uniform": m["kl"]},
                      y_title="", height=height)


def trail_chart(steps: np.ndarray, hist: np.ndarray, *, title: str | None = None, height: int = 150) -> dict:
    """Where the generator's mass sat: share of high-quality samples per mode (rows) per snapshot.

    steps: [T]; hist: [T, K] counts. The x axis is the snapshot's position (0 = newest, −1 the
    one before…), so the spec does not change as training goes on.
    """
    hist = np.asarray(hist, dtype=np.float64).reshape(len(steps), -1)
    T, K = hist.shape
    tot = hist.sum(1, keepdims=True)
    share = np.divide(hist, tot, out=np.zeros_like(hist), where=tot > 0)
    ago = np.repeat(np.arange(T) - (T - 1), K)
    data = frame(ago=ago, step=np.repeat(np.asarray(steps, dtype=np.float64), K),
                 mode=np.tile(np.arange(1, K + 1), T), share=share.ravel())
    spec = _base(title, height)
    spec.update({"datasets": {"trail": data}, "data": {"name": "trail"}, "mark": {"type": "rect"},
                 "encoding": {"x": {"field": "ago", "type": "ordinal", "title": "snapshot (0 = now)",
                                    "axis": {"labelOverlap": True, "labelAngle": 0}},
                              "y": {"field": "mode", "type": "ordinal", "title": "mode"},
                              "color": {"field": "share", "type": "quantitative", "title": "share",
                                        "scale": {"scheme": "oranges", "domain": [0, 1]},
                                        "legend": {"orient": "right", "gradientLength": 80}},
                              "tooltip": [{"field": "step"}, {"field": "mode"}, {"field": "share", "format": ".2f"}]}})
    return spec


def seeds_chart(per_seed: dict[str, np.ndarray], seeds: Sequence[int], labels: dict[str, str],
                n_modes: int, *, height: int = 220) -> dict:
    """Modes covered per seed and method (per_seed[method]: [S])."""
    order = [labels.get(m, m) for m in per_seed]
    meth, sd, cov = [], [], []
    for m, c in per_seed.items():
        c = np.asarray(c, dtype=np.float64)
        meth += [labels.get(m, m)] * len(c)
        sd += list(seeds)[:len(c)]
        cov.append(c)
    data = frame(method=meth, seed=np.asarray(sd), covered=np.concatenate(cov) if cov else [])
    spec = _base("Modes covered per seed", height)
    spec.update({"datasets": {"seeds": data}, "data": {"name": "seeds"},
                 "mark": {"type": "bar"},
                 "encoding": {"x": {"field": "seed", "type": "ordinal", "title": "seed"},
                              "xOffset": {"field": "method", "sort": order},
                              "y": {"field": "covered", "type": "quantitative", "title": "modes covered",
                                    "scale": {"domain": [0, n_modes]}},
                              "color": {"field": "method", "type": "nominal", "title": None, "sort": order,
                                        "scale": {"domain": order,
                                                  "range": [METHOD_COLORS.get(m, PALETTE[i % 8]) for i, m in enumerate(per_seed)]}},
                              "tooltip": [{"field": "method"}, {"field": "seed"}, {"field": "covered"}]}})
    return spec
