"""Live images as inline PNG data URIs (core.images, issue 19)."""
import base64
import io

import numpy as np
from PIL import Image

from core.images import grid_data_uri, png_data_uri, tile, to_uint8


def decode(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_png_round_trip_is_exact_and_enlarged_by_a_whole_factor():
    img = np.array([[0.0, 1.0], [0.5, 0.25]])
    out = decode(png_data_uri(img, min_size=8))
    assert out.shape == (8, 8)
    assert out[0, 0] == 0 and out[0, 7] == 255 and out[7, 0] == 128 and out[7, 7] == 64


def test_values_are_clipped_and_nan_is_black():
    assert list(to_uint8(np.array([-1.0, np.nan, 2.0, np.inf]))) == [0, 0, 255, 255]


def test_tile_lays_images_row_by_row_with_padding():
    imgs = np.stack([np.full((2, 3), i / 10) for i in range(5)])
    t = tile(imgs, cols=3, pad=1, pad_value=1.0)
    assert t.shape == (2 * 3 - 1, 3 * 4 - 1)
    assert t[0, 4] == 0.1 and t[3, 0] == 0.3 and t[3, 4] == 0.4 and t[3, 8] == 1.0 and t[2, 0] == 1.0


def test_rgb_grid_decodes():
    imgs = np.random.default_rng(0).random((16, 32, 32, 3))
    out = decode(grid_data_uri(imgs, cols=4))
    assert out.ndim == 3 and out.shape[2] == 3 and out.shape[0] >= 131
