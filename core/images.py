"""Images for live charts, sent inline: arrays in, PNG data URIs out. No Streamlit.

Why inline (issue 19): ``st.image`` with an array stores a file on the server's media endpoint and
sends its URL; each frame replaced the file, the browser's fetch of the previous one arrived after
it was dropped, and a training page showed broken-image icons ("Image source error", 404s) until
Pause. A ``data:`` URI travels inside the frame's own websocket message, so every frame the
browser shows is complete, and ``st.image`` passes such a URI through untouched.
``python benchmarks/bench_images.py`` measures this against the alternatives.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_uint8(img: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Values in [lo, hi] -> 0…255 (clipped; NaN -> 0). img: [H, W] or [H, W, 3]."""
    a = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=lo, posinf=hi, neginf=lo)
    return (np.clip((a - lo) / max(hi - lo, 1e-12), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def tile(images: np.ndarray, cols: int, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """A grid of images, row by row. images: [N, H, W] or [N, H, W, 3] -> [R·(H+pad)−pad, …]."""
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape[:3]
    cols = max(1, min(int(cols), n))
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad) + images.shape[3:], pad_value)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = images[i]
    return out


def upscale(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor, so pixels stay crisp when shown big."""
    f = max(1, int(factor))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1) if f > 1 else img


def png_data_uri(img: np.ndarray, lo: float = 0.0, hi: float = 1.0, min_size: int = 0) -> str:
    """A PNG data URI of ``img`` ([H, W] grey or [H, W, 3] RGB, values in [lo, hi]), optionally
    enlarged by a whole factor to at least ``min_size`` pixels across. The UI shows images with
    ``image-rendering: pixelated``, so sending them at their own size keeps pixels crisp and
    the frame small (bench_images.py: 4×4 grid of 32×32 RGB, 88 KB enlarged vs ~67 KB not)."""
    a = to_uint8(img, lo, hi)
    a = upscale(a, -(-min_size // max(a.shape[1], 1)))
    buf = io.BytesIO()
    Image.fromarray(a, mode="L" if a.ndim == 2 else "RGB").save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def grid_data_uri(images: np.ndarray, cols: int, lo: float = 0.0, hi: float = 1.0, pad: int = 1,
                  min_size: int = 0) -> str:
    """Many small images (digits, decoder outputs) as one tiled PNG data URI: one image per
    frame instead of N, measured cheapest (benchmarks/bench_images.py)."""
    return png_data_uri(tile(images, cols, pad, pad_value=hi), lo, hi, min_size)


# Vega's "blueorange" scheme, its own stops (vega-scale's continuous schemes, which Vega
# interpolates linearly in RGB, as colormap() does), reversed: low values orange ("looks fake"),
# high values blue ("looks real"). core.charts.DIVERGING_SCALE draws the legend with the same.
# The former red–blue map kept less contrast under protanopia (issue 36).
_BLUEORANGE = "134b852f78b35da2cb9dcae1d2e5eff2f0ebfce0bafbbf74e8932fc5690d994a07"
DIVERGING_STOPS = np.array([[int(_BLUEORANGE[i + k: i + k + 2], 16) for k in (0, 2, 4)]
                            for i in range(0, len(_BLUEORANGE), 6)][::-1], dtype=np.float64) / 255.0


def colormap(z: np.ndarray, lo: float, hi: float, colors: np.ndarray = DIVERGING_STOPS) -> np.ndarray:
    """z: [H, W] -> RGB [H, W, 3] in [0, 1], linear between the colour stops, clamped to [lo, hi]."""
    t = np.clip((np.nan_to_num(np.asarray(z, dtype=np.float64), nan=(lo + hi) / 2) - lo) / max(hi - lo, 1e-12), 0, 1)
    pos = t * (len(colors) - 1)
    i = np.minimum(pos.astype(int), len(colors) - 2)
    f = (pos - i)[..., None]
    return colors[i] * (1 - f) + colors[i + 1] * f
