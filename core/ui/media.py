"""Live images: drawn from inline PNG data URIs (core.images), never from the media endpoint,
so a frame's images are complete when the frame arrives (no 404s, no broken icons)."""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import numpy as np
import streamlit as st

from core.images import grid_data_uri, png_data_uri
from core.ui.page import Page, detail_view, view


def _uri(detail: tuple[Page, str] | None, make: Callable[[], str]) -> str:
    return make() if detail is None else detail_view(detail[0], detail[1], make)


def _box(detail: tuple[Page, str] | None) -> Any:
    """A keyed box around a detail picture (the guide points at it by its key)."""
    return contextlib.nullcontext() if detail is None else view(*detail)


def image(img: np.ndarray, caption: str | None = None, lo: float = 0.0, hi: float = 1.0,
          width: Any = "stretch", detail: tuple[Page, str] | None = None) -> None:
    """One live image. img: [H, W] or [H, W, 3] with values in [lo, hi]. ``detail`` = (page,
    key): a detail view, redrawn every DETAIL_EVERY-th frame while training (core.ui.page)."""
    with _box(detail):
        st.image(_uri(detail, lambda: png_data_uri(img, lo, hi)), caption=caption, width=width)


def image_grid(images: np.ndarray, cols: int, caption: str | None = None, lo: float = 0.0, hi: float = 1.0,
               width: Any = "stretch", detail: tuple[Page, str] | None = None) -> None:
    """Many small live images as one tiled picture. images: [N, H, W] or [N, H, W, 3]."""
    with _box(detail):
        st.image(_uri(detail, lambda: grid_data_uri(images, cols, lo, hi)), caption=caption, width=width)
