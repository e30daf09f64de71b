"""The decoders' targets, generated in code: smooth gradients, discs, rings and glyphs, each
described by a 14-number code. No Streamlit, no torch.

Shapes: codes [n, CODE_DIM] float32; images [n, R, R] float32 with values in [0, 1].
"""
from __future__ import annotations

import math

import numpy as np

from core.lessons.upsampling.grids import UpsamplingError

TARGET_KINDS: dict[str, str] = {
    "gradient": "smooth gradients",
    "disc": "discs",
    "ring": "rings",
    "glyph": "glyphs (T, L, +, H, X)",
}
# Glyphs as line segments in a unit box: (x0, y0, x1, y1).
GLYPHS: dict[str, list[tuple[float, float, float, float]]] = {
    "T": [(-1, -1, 1, -1), (0, -1, 0, 1)],
    "L": [(-1, -1, -1, 1), (-1, 1, 1, 1)],
    "+": [(-1, 0, 1, 0), (0, -1, 0, 1)],
    "H": [(-1, -1, -1, 1), (1, -1, 1, 1), (-1, 0, 1, 0)],
    "X": [(-1, -1, 1, 1), (-1, 1, 1, -1)],
}
KIND_NAMES = tuple(TARGET_KINDS)
GLYPH_NAMES = tuple(GLYPHS)
# code = [one-hot kind (4), one-hot glyph (5), cx, cy, size, cos θ, sin θ]
CODE_DIM = len(KIND_NAMES) + len(GLYPH_NAMES) + 5


def _segment_distance(px: np.ndarray, py: np.ndarray, seg: tuple[float, float, float, float]) -> np.ndarray:
    """Distance from points (px, py) to the segment (x0, y0)–(x1, y1)."""
    x0, y0, x1, y1 = seg
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
    return np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))


def render_target(kind: str, res: int, cx: float, cy: float, size: float, theta: float,
                  glyph: str = "T") -> np.ndarray:
    """One anti-aliased target image [res, res] with values in [0, 1].

    Coordinates are pixel centres in [0, 1]²; an edge is blurred over one pixel:
    value = clip(½ − signed distance / pixel, 0, 1).
    """
    c = (np.arange(res) + 0.5) / res
    X, Y = np.meshgrid(c, c)                      # rows = y
    px = 1.0 / res
    if kind == "gradient":
        # a ramp along direction θ through (cx, cy): ½ + (projection) / (2·size), clipped
        proj = (X - cx) * math.cos(theta) + (Y - cy) * math.sin(theta)
        return np.clip(0.5 + proj / (2 * size), 0.0, 1.0)
    if kind == "disc":
        dist = np.hypot(X - cx, Y - cy) - size
        return np.clip(0.5 - dist / px, 0.0, 1.0)
    if kind == "ring":
        thick = max(0.35 * size, 1.5 * px)
        dist = np.abs(np.hypot(X - cx, Y - cy) - size) - thick / 2
        return np.clip(0.5 - dist / px, 0.0, 1.0)
    if kind == "glyph":
        # rotate the pixel grid into the glyph's frame, scaled so the glyph spans ±1
        u = ((X - cx) * math.cos(theta) + (Y - cy) * math.sin(theta)) / size
        v = (-(X - cx) * math.sin(theta) + (Y - cy) * math.cos(theta)) / size
        d = np.min([_segment_distance(u, v, s) for s in GLYPHS[glyph]], axis=0) * size
        thick = max(0.22 * size, 1.6 * px)
        return np.clip(0.5 - (d - thick / 2) / px, 0.0, 1.0)
    raise UpsamplingError(f"unknown target kind {kind!r}")


def make_targets(kinds: tuple[str, ...], n: int, res: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n random targets cycling through ``kinds``: (codes [n, CODE_DIM], images [n, res, res])."""
    rng = np.random.default_rng(seed)
    codes = np.zeros((n, CODE_DIM), dtype=np.float32)
    imgs = np.zeros((n, res, res), dtype=np.float32)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        glyph = GLYPH_NAMES[rng.integers(len(GLYPH_NAMES))]
        cx, cy = rng.uniform(0.3, 0.7, 2)
        size = rng.uniform(0.15, 0.3) if kind != "gradient" else rng.uniform(0.25, 0.6)
        theta = rng.uniform(0, 2 * math.pi) if kind in ("gradient",) else rng.uniform(-0.5, 0.5)
        imgs[i] = render_target(kind, res, cx, cy, size, theta, glyph)
        codes[i, KIND_NAMES.index(kind)] = 1.0
        if kind == "glyph":
            codes[i, len(KIND_NAMES) + GLYPH_NAMES.index(glyph)] = 1.0
        codes[i, -5:] = [(cx - 0.5) * 4, (cy - 0.5) * 4, (size - 0.3) * 5, math.cos(theta), math.sin(theta)]
    return codes, imgs
