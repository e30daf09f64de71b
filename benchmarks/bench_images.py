"""How to send live images cheaply (issue 19): server cost and bytes per frame for each way.

    python benchmarks/bench_images.py

Cases: a 4×4 grid of 32×32 RGB images (decoder outputs) and a 10×10 grid of 16×16 grey digits.
Ways measured, per frame:
* ``tiled_png_uri``: the grid tiled into one picture, one PNG data URI (what core.images does);
* ``png_uri_each``: one PNG data URI per image;
* ``vega_rects``: a Vega-Lite rect heatmap, one row per pixel, as the Arrow table Streamlit sends;
* ``media_file_png``: ``st.image`` with an array: the same PNG encoding, but stored on the media
  endpoint and fetched by the browser over HTTP afterwards (the way that showed broken images).
Prints one JSON object: milliseconds to build (median of 30) and bytes on the wire.
"""
from __future__ import annotations

import base64
import io
import json
import os
import sys
import time

import numpy as np
import pyarrow as pa
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from core.charts import heatmap_frame  # noqa: E402
from core.images import grid_data_uri, png_data_uri, tile, to_uint8  # noqa: E402


def timed(fn, reps: int = 30) -> tuple[float, int]:
    out, ts = None, []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    size = out if isinstance(out, int) else len(out)
    return round(1000 * sorted(ts)[len(ts) // 2], 3), size


def arrow_bytes(table: pa.Table) -> int:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().size


def media_png(images: np.ndarray, cols: int) -> int:
    """st.image's path: PNG bytes stored server-side (the URL sent is ~60 bytes)."""
    buf = io.BytesIO()
    a = to_uint8(tile(images, cols))
    Image.fromarray(a).save(buf, format="PNG")
    return len(buf.getvalue())


def case(images: np.ndarray, cols: int) -> dict:
    grey = images if images.ndim == 3 else images.mean(axis=3)
    n, h, w = grey.shape[:3]
    return {
        "tiled_png_uri": dict(zip(("ms", "bytes"), timed(lambda: grid_data_uri(images, cols)))),
        "png_uri_each": dict(zip(("ms", "bytes"), timed(lambda: sum(len(png_data_uri(im, min_size=64)) for im in images)))),
        "vega_rects": dict(zip(("ms", "bytes"), timed(lambda: arrow_bytes(heatmap_frame(
            np.arange(cols * w, dtype=float), np.arange(-(-n // cols) * h, dtype=float), tile(grey, cols, pad=0)))))),
        "media_file_png": dict(zip(("ms", "bytes"), timed(lambda: media_png(images, cols)))),
    }


def main() -> None:
    rng = np.random.default_rng(0)
    decoders = rng.random((16, 32, 32, 3))
    digits = (rng.random((100, 16, 16)) > 0.7).astype(float)
    out = {"benchmark": "live_images", "4x4_of_32x32_rgb": case(decoders, 4),
           "10x10_of_16x16_grey": case(digits, 10),
           "note": "bytes: what travels per frame; media_file_png travels over a second HTTP request "
                   "the browser makes after the frame, which 404s once the next frame replaced the file"}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
