"""Typed grids of numbers: the viewer's input and kernel live as text (the URL keeps it), read
here with ``float()`` only. No Streamlit, no torch.

Shapes: a grid is a numpy array [H, W] of float64.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

MAX_INPUT = 8                # the largest input grid, rows and columns
MAX_VALUE = 1e6              # typed values must lie within ±MAX_VALUE (outputs stay finite)


class UpsamplingError(ValueError):
    """An impossible combination of settings; the message is meant for a student."""


def check_image(x: Any, name: str = "input") -> np.ndarray:
    """A finite 2D float64 array with at least one row and column, or UpsamplingError."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise UpsamplingError(f"the {name} must contain numbers only") from e
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise UpsamplingError(f"the {name} must be a 2D grid of numbers")
    if not np.isfinite(a).all():
        raise UpsamplingError(f"every cell of the {name} needs a finite number (found an empty or invalid cell)")
    return a


def _is_number(c: str) -> bool:
    try:
        float(c)
        return True
    except ValueError:
        return False


def parse_grid(text: str, name: str = "grid", lo: int = 2, hi: int = MAX_INPUT) -> np.ndarray:
    """Numbers typed as rows separated by ';' or new lines, values by ',' or spaces -> [H, W].

    Only ``float()`` reads the text (nothing typed is executed). Raises UpsamplingError with a
    message naming the problem (a non-number, ragged rows, a size outside lo..hi).
    """
    rows = [r for r in str(text).replace("\n", ";").split(";") if r.strip()]
    if not rows:
        raise UpsamplingError(f"the {name} is empty: type rows like 1, 2; 3, 4")
    out = []
    for r in rows:
        cells = [c for c in r.replace(",", " ").split() if c]
        if not all(_is_number(c) for c in cells):
            bad = next(c for c in cells if not _is_number(c))
            raise UpsamplingError(f"the {name} has {bad!r}, which is not a number")
        out.append([float(c) for c in cells])
    if len({len(r) for r in out}) != 1:
        raise UpsamplingError(f"every row of the {name} needs the same number of values")
    a = np.array(out, dtype=np.float64)
    if not (lo <= a.shape[0] <= hi and lo <= a.shape[1] <= hi):
        raise UpsamplingError(f"the {name} must have {lo} to {hi} rows and columns (it has "
                              f"{a.shape[0]} × {a.shape[1]})")
    a = check_image(a, name)
    if np.abs(a).max() > MAX_VALUE:
        raise UpsamplingError(f"the {name}'s values must lie between −1,000,000 and 1,000,000")
    return a


def square_size(text: str, hi: int) -> int | None:
    """k for a typed k × k kernel (1 ≤ k ≤ hi), None when it does not parse or is not square."""
    try:
        h, w = parse_grid(text, "kernel", 1, hi).shape
    except UpsamplingError:
        return None
    return h if h == w else None


def format_grid(a: np.ndarray) -> str:
    """The inverse of ``parse_grid``: '1, 2; 3, 4'."""
    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"
    return "; ".join(", ".join(num(v) for v in row) for row in np.asarray(a, dtype=np.float64))


def resize_grid(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Keep the top-left values, fill new cells with 0. a: [H, W] -> [rows, cols]."""
    out = np.zeros((rows, cols))
    h, w = min(rows, a.shape[0]), min(cols, a.shape[1])
    out[:h, :w] = a[:h, :w]
    return out


def apply_edits(base: np.ndarray, edited_rows: Mapping[Any, Mapping[Any, Any]]) -> str:
    """A spreadsheet editor's changes ({row: {column: value}}, None = a cleared cell) applied to
    ``base`` [H, W], as grid text. A cleared cell becomes 'nan', which ``parse_grid`` then refuses
    with a message (rather than silently reading 0)."""
    a = np.array(base, dtype=np.float64)
    for r, changes in (edited_rows or {}).items():
        for c, v in changes.items():
            a[int(r), int(c)] = np.nan if v is None else float(v)
    return format_grid(a)


def ones_text(k: int) -> str:
    """A k × k kernel of ones as text (what a new kernel size starts from: the lecture's weight 1)."""
    return format_grid(np.ones((int(k), int(k))))


def resized_text(a: np.ndarray, rows: int, cols: int) -> str:
    """``a`` cut or padded with zeros to rows × cols, as text."""
    return format_grid(resize_grid(a, int(rows), int(cols)))


def table(a: np.ndarray) -> Any:
    """The grid as a DataFrame with columns '0', '1', … (what the spreadsheet editor shows)."""
    import pandas as pd
    return pd.DataFrame(a, columns=[str(j) for j in range(a.shape[1])])
