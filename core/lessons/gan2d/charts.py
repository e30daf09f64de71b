"""Vega-Lite specs (plain dicts) for the mode-collapse lesson. No Streamlit, no trainers.

As in ``core.charts``: data goes in named ``datasets`` and nothing that changes from frame to frame
is in the rest of the spec, so the browser only swaps data. Every builder bounds what it sends and
what the browser must lay out each frame: D's field as one small picture, at most ``MAX_SHOW``
generated points, ``MAX_REAL`` real ones and ``MAX_TRAIL`` points of trail per panel.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from core import charts
from core.charts import PALETTE, base, frame, line_chart

MAX_SHOW = 400             # generated points per cloud
MAX_REAL = 250             # the real clouds are tight blobs: fewer points show them as well
MAX_TRAIL = 240            # the faint earlier clouds together
# the shared roles (core.charts, issue 36): colours a colour-blind student can tell apart
FAKE_COLOR = charts.FAKE
REAL_COLOR = charts.REAL
EARLIER_COLOR = charts.EARLIER
COVERED_COLOR = charts.FIELD_MARK      # a cross on the field (its shape tells it from the ring)
MISSING_COLOR = charts.MISSING
# seven methods are more than colour alone can keep apart: the legend names each line
METHOD_COLORS = dict(zip(("wgan-gp", "vanilla", "minimax", "unrolled", "mbstd", "pacgan", "cgan"), PALETTE))
SETS = ("real", "earlier", "generated", "mode covered", "mode missing")
SET_COLORS = (REAL_COLOR, EARLIER_COLOR, FAKE_COLOR, COVERED_COLOR, MISSING_COLOR)


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


def panel_height(n_panels: int, presenting: bool) -> int:
    """The scatter's plot height: what fits the first screen at 1280×720 in presentation mode
    (under the title, the folded settings, Train and the counters), larger on a desk screen."""
    if presenting:
        return {1: 250, 2: 250, 3: 225, 4: 225}.get(n_panels, 225)
    return {1: 300, 2: 250, 3: 240, 4: 225}.get(n_panels, 225)   # whole at 1280×800 too


def legend_html() -> str:
    """The scatter's key, once under the panels (each chart keeps its full height for the data)."""
    dot = "<span style='color:{c};font-size:1.2em'>{s}</span> {t}"
    items = [dot.format(c=REAL_COLOR, s="●", t="real"), dot.format(c=FAKE_COLOR, s="▲", t="generated"),
             dot.format(c=EARLIER_COLOR, s="●", t="earlier (faint)"),
             dot.format(c=COVERED_COLOR, s="✚", t="mode covered"),
             dot.format(c=MISSING_COLOR, s="◯", t="mode missing"),
             f"background: D(x), <span style='color:{charts.BLUE}'>blue = looks real</span>, "
             f"<span style='color:{charts.VERMILLION}'>orange = looks fake</span> (WGAN-GP: the critic, scaled)"]
    return "<div style='font-size:0.9rem'>" + " &nbsp;·&nbsp; ".join(items) + "</div>"


def _field_layers(gx: np.ndarray, gy: np.ndarray, z: np.ndarray, critic: bool, enc_x: dict, enc_y: dict,
                  height: int) -> tuple[list[dict], dict[str, Any]]:
    """D's field as one picture (core.charts.image_field_layers): with four panels, a thousand
    rectangles each kept Chromium so busy that a Pause click took seconds to leave the page.
    z: [ny, nx] (rows = y) in [0, 1] (D) or [−1, 1] (critic, scaled)."""
    dom, title_z = ((-1.0, 1.0), "critic") if critic else ((0.0, 1.0), "D(x)")
    layers = charts.image_field_layers(enc_x, enc_y, title_z, dom, legend_length=max(60, height - 60), opacity=0.8)
    return layers, charts.image_field_datasets(gx, gy, z, dom)


def _point_layers(enc_x: dict, enc_y: dict) -> list[dict]:
    """Clouds (real, earlier, generated) and the mode markers: a black cross on a covered mode, a
    an orange ring around a missing one. One colour scale, its key drawn once above the panels."""
    color = {"field": "set", "type": "nominal", "legend": None,
             "scale": {"domain": list(SETS), "range": list(SET_COLORS)}}
    return [
        {"data": {"name": "points"},
         "mark": {"type": "point", "filled": True, "clip": True, "strokeWidth": 0},
         # a second cue besides colour (issue 36): generated points are triangles, real ones dots
         "encoding": {"x": enc_x, "y": enc_y, "color": color,
                      "shape": {"condition": {"test": "datum.set == 'generated'", "value": "triangle-up"},
                                "value": "circle"},
                      "size": {"condition": {"test": "datum.set == 'generated'", "value": 18}, "value": 10},
                      "opacity": {"condition": {"test": "datum.set == 'earlier'", "value": 0.35}, "value": 0.8}}},
        {"data": {"name": "modes"}, "transform": [{"filter": "datum.set == 'mode covered'"}],
         "mark": {"type": "point", "shape": "cross", "filled": True, "size": 70, "clip": True},
         "encoding": {"x": enc_x, "y": enc_y, "color": color}},
        {"data": {"name": "modes"}, "transform": [{"filter": "datum.set == 'mode missing'"}],
         "mark": {"type": "point", "shape": "circle", "filled": False, "size": 420, "strokeWidth": 3, "clip": True},
         "encoding": {"x": enc_x, "y": enc_y, "color": color,
                      "tooltip": [{"field": "mode", "title": "missing mode"}]}},
    ]


def samples_chart(*, gx: np.ndarray, gy: np.ndarray, field: np.ndarray | None, critic: bool,
                  fake: np.ndarray, real: np.ndarray | None, modes: np.ndarray | None = None,
                  counts: np.ndarray | None = None, trail: Sequence[np.ndarray] = (),
                  title: str | None = None, height: int = 330) -> dict:
    """Generated points over the real ones, on the discriminator's (critic's) field, with every
    mode marked covered or missing.

    gx: [nx], gy: [ny] grid centres; field: [ny, nx] D(x) ∈ [0, 1] or the critic's f(x)
    (drawn scaled to [−1, 1]), or None; fake: [n, 2]; real: [n, 2] or None (hidden); modes:
    [K, 2] where each mode is marked, counts: [K] its high-quality samples (0 = missing);
    trail: older sample clouds [n_i, 2], oldest first, drawn faint. The x range widens with the
    chart's width (an expression of the width), so a ring stays round in any column.
    """
    y_dom = [float(gy[0]), float(gy[-1])]
    half = (y_dom[1] - y_dom[0]) / 2
    x_mid = (float(gx[0]) + float(gx[-1])) / 2
    # x range = [mid − half·w/h, mid + half·w/h]: one unit is as long across as up
    x_scale = {"domainMin": {"expr": f"{x_mid} - {half} * max(1, width / height)"},
               "domainMax": {"expr": f"{x_mid} + {half} * max(1, width / height)"}, "nice": False, "zero": False}
    # no axes: the coordinates teach nothing here, and on a projector the height goes to the data
    enc_x = {"field": "x", "type": "quantitative", "scale": x_scale, "title": None, "axis": None}
    enc_y = {"field": "y", "type": "quantitative", "scale": {"domain": y_dom, "nice": False}, "title": None,
             "axis": None}
    clouds: list[tuple[str, np.ndarray]] = [("real", _cloud(real, MAX_REAL))] if real is not None else []
    trail = list(trail)
    if trail:
        per = max(1, MAX_TRAIL // len(trail))
        clouds += [("earlier", _cloud(t, per)) for t in trail]
    clouds.append(("generated", _cloud(fake, MAX_SHOW)))
    datasets: dict[str, Any] = {
        "points": frame(x=np.concatenate([c[:, 0] for _, c in clouds]), y=np.concatenate([c[:, 1] for _, c in clouds]),
                        set=[n for n, c in clouds for _ in range(len(c))])}
    mk = np.zeros((0, 2)) if modes is None else _cloud(modes, 64)
    cnt = np.ones(len(mk)) if counts is None else np.asarray(counts, dtype=np.float64)[:len(mk)]
    datasets["modes"] = frame(x=mk[:, 0], y=mk[:, 1], mode=np.arange(1, len(mk) + 1),
                              set=["mode covered" if c > 0 else "mode missing" for c in cnt])
    points = {"layer": _point_layers(enc_x, enc_y)}
    layers: list[dict] = [points]
    if field is not None:
        z = scaled_critic(field) if critic else np.asarray(field, dtype=np.float64)
        heat, more = _field_layers(gx, gy, z, critic, enc_x, enc_y, height)
        datasets.update(more)
        layers = heat + layers
    spec = base(title, height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec.update({"datasets": datasets, "layer": layers, "resolve": {"scale": {"color": "independent"}}})
    return spec


def coverage_chart(counts: np.ndarray, *, title: str | None = "High-quality samples per mode",
                   height: int = 110) -> dict:
    """High-quality samples per mode (counts: [K]); a mode with none gets an orange marker on the
    axis (a bar of height 0 would not show)."""
    counts = np.asarray(counts, dtype=np.float64)
    data = frame(mode=np.arange(1, len(counts) + 1), n=counts,
                 status=["covered" if c > 0 else "missing" for c in counts])
    status = {"field": "status", "type": "nominal", "title": None,
              "scale": {"domain": ["covered", "missing"], "range": [charts.COVERED, MISSING_COLOR]},
              "legend": {"orient": "bottom"}}
    x = {"field": "mode", "type": "ordinal", "title": "mode", "axis": {"labelOverlap": True, "labelAngle": 0}}
    y = {"field": "n", "type": "quantitative", "title": "samples", "axis": {"format": ",~r"},
         "scale": {"domainMin": 0, "nice": True}}
    spec = base(title, height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}    # height = the bars' own height
    spec.update({"datasets": {"bars": data}, "data": {"name": "bars"}, "layer": [
        {"mark": {"type": "bar"},
         "encoding": {"x": x, "y": y, "color": status,
                      "tooltip": [{"field": "mode"}, {"field": "n", "title": "high-quality samples"}]}},
        {"transform": [{"filter": "datum.status == 'missing'"}],
         "mark": {"type": "point", "shape": "triangle-up", "filled": True, "size": 90, "yOffset": -6},
         "encoding": {"x": x, "y": y, "color": status,
                      "tooltip": [{"field": "mode", "title": "missing mode"}]}},
    ]})
    return spec


def _by_method(panels: dict[str, dict], key: str, labels: dict[str, str]) -> tuple[np.ndarray, dict, dict]:
    """One series per panel of metric ``key`` on the first panel's steps (panels are measured a
    step or two apart: near enough on a chart of thousands of steps)."""
    first = next(iter(panels.values()))["metrics"]
    n = min(len(p["metrics"]["step"]) for p in panels.values())
    series = {labels.get(m, m): p["metrics"][key][-n:] if n else p["metrics"][key][:0] for m, p in panels.items()}
    colors = {labels.get(m, m): METHOD_COLORS.get(m, PALETTE[i % 8]) for i, m in enumerate(panels)}
    return first["step"][-n:] if n else first["step"][:0], series, colors


def _legend_rows(spec: dict, n_series: int) -> dict:
    """Two legend entries a row when there are more than two lines (a third of the page is too
    narrow for four method names side by side)."""
    if n_series > 2:
        spec["layer"][0]["encoding"]["color"]["legend"] = {"orient": "bottom", "columns": 2}
    return spec


def coverage_lines(panels: dict[str, dict], n_modes: int, labels: dict[str, str], height: int = 170) -> dict:
    """Modes covered over training steps, one line per panel (shown seed)."""
    x, series, colors = _by_method(panels, "covered", labels)
    return _legend_rows(line_chart(x, series, title="Modes covered", y_title="modes", height=height, colors=colors,
                                   y_domain=(0, n_modes), rules=[(n_modes, "all modes")]), len(series))


def quality_lines(panels: dict[str, dict], labels: dict[str, str], height: int = 170) -> dict:
    """Share of high-quality samples (within 3σ of a mode) over steps, one line per panel."""
    x, series, colors = _by_method(panels, "hq", labels)
    return _legend_rows(line_chart(x, series, title="High-quality share (≤ 3σ)", y_title="share",
                                   height=height, colors=colors, y_domain=(0, 1)), len(series))


def kl_lines(panels: dict[str, dict], labels: dict[str, str], height: int = 170) -> dict:
    """KL(mode histogram of the high-quality samples ‖ uniform) over steps, one line per panel."""
    x, series, colors = _by_method(panels, "kl", labels)
    return _legend_rows(line_chart(x, series, title="KL to uniform (0 = even)", y_title="KL", height=height,
                                   colors=colors), len(series))


def trail_chart(steps: np.ndarray, hist: np.ndarray, *, title: str | None = "Where the mass sat",
                height: int = 140) -> dict:
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
    spec = base(title, height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}    # height = the heatmap's own height
    spec.update({"datasets": {"trail": data}, "data": {"name": "trail"}, "mark": {"type": "rect"},
                 "encoding": {"x": {"field": "ago", "type": "ordinal", "title": "measurement (0 = now)",
                                    "axis": {"labelOverlap": True, "labelAngle": 0}},
                              "y": {"field": "mode", "type": "ordinal", "title": "mode",
                                    "axis": {"labelOverlap": True}},
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
    spec = base("Modes covered per seed", height)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
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


# --------------------------------------------------------------------------- from a snapshot

def panel_samples(snap: dict, m: str, height: int) -> dict:
    """The live scatter of panel ``m`` (with the faint trail of its last recorded clouds)."""
    p = snap["panels"][m]
    trail = list(p["frames"][-4:-1]) if len(p["frames"]) > 1 else []
    return samples_chart(gx=snap["grid_x"], gy=snap["grid_y"], field=p["d_grid"], critic=p["critic"],
                         fake=p["fake"], real=snap["real"] if snap["show_real"] else None,
                         modes=snap["modes"], counts=p["counts"], trail=trail, height=height)


def replay_frame(snap: dict, m: str, i: int, n: int, height: int = 260) -> tuple[dict, str]:
    """Recorded snapshot i of n (1 = the oldest all panels share) of panel ``m``: its scatter
    and a caption."""
    p = snap["panels"][m]
    j = len(p["frame_steps"]) - n + i - 1
    counts = p["frame_counts"][j]
    spec = samples_chart(gx=snap["grid_x"], gy=snap["grid_y"], field=None, critic=False, fake=p["frames"][j],
                         real=snap["real"] if snap["show_real"] else None, modes=snap["modes"],
                         counts=counts, height=height)
    return spec, f"step {int(p['frame_steps'][j]):,}: modes covered {int((counts > 0).sum())} / {snap['n_modes']}"
