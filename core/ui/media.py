"""Live images: drawn from inline PNG data URIs (core.images), never from the media endpoint,
so a frame's images are complete when the frame arrives (no 404s, no broken icons)."""
from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from core.images import grid_data_uri, png_data_uri


def image(img: np.ndarray, caption: str | None = None, lo: float = 0.0, hi: float = 1.0,
          width: Any = "stretch") -> None:
    """One live image. img: [H, W] or [H, W, 3] with values in [lo, hi]."""
    st.image(png_data_uri(img, lo, hi), caption=caption, width=width)


def image_grid(images: np.ndarray, cols: int, caption: str | None = None, lo: float = 0.0, hi: float = 1.0,
               width: Any = "stretch") -> None:
    """Many small live images as one tiled picture. images: [N, H, W] or [N, H, W, 3]."""
    st.image(grid_data_uri(images, cols, lo, hi), caption=caption, width=width)
