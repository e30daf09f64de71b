"""Reading a student's CSV into a series: every unusable case gets its own message (no Streamlit).

Nothing in a file is ever run: it is parsed as text and its cells as numbers. The page draws the
file picker and the column choices; what they show and what a choice means is decided here.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.lessons.forecast.data import MAX_SERIES
from core.sniff import packed_kind, packed_message

MAX_UPLOAD_BYTES = 1_000_000  # 1 MB
MAX_COLUMNS = 100             # per row of an upload (tests/framework/test_hostile.py: wide rows are slow)
MAX_ROWS = 2 * MAX_SERIES     # lines of a file, counted before pandas reads it (gaps may be dropped)
NO_DATE = "(none)"
FIXES = {"drop": "drop those rows", "interpolate": "interpolate them"}
NO_FILE_HINT = "Upload a CSV to forecast your own series (e.g. the original airline-passengers.csv)."


class UploadError(ValueError):
    """An uploaded file that cannot be used; the message says why and what to do."""


@dataclass
class Upload:
    """A parsed CSV: the table, the columns that hold numbers, and the file name."""

    table: pd.DataFrame
    numeric: list[str]
    name: str


def read_upload(name: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> Upload:
    """Parse an uploaded file (never executed). Raises UploadError for each unusable case."""
    if len(data) > max_bytes:
        raise UploadError(f"“{name}” is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
                          "Upload a shorter series (at most a few thousand rows).")
    kind = packed_kind(data)
    if kind:
        raise UploadError(packed_message(name, kind, "CSV file"))
    if not name.lower().endswith((".csv", ".txt")):
        raise UploadError(f"“{name}” is not a CSV file: upload a .csv (comma- or semicolon-separated "
                          "text with one value per row).")
    if b"\x00" in data[:4096]:
        raise UploadError(f"“{name}” is not a CSV file (it holds binary data, e.g. a spreadsheet "
                          "saved as .xlsx): save it as CSV and upload that.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("latin-1")
        except UnicodeDecodeError as e:  # pragma: no cover - latin-1 decodes every byte
            raise UploadError(f"“{name}” is not readable text") from e
    if not text.strip():
        raise UploadError(f"“{name}” is empty.")
    try:
        sep = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    # A series has a few columns. Refuse very wide rows before pandas sees them: its bad-line
    # handling is slow on them (a 400 kB file of one 200,000-field row took ~40 s of server CPU),
    # and every column would become an option of the page's column pickers.
    lines = text.splitlines()
    if len(lines) > MAX_ROWS + 1:       # + a header
        raise UploadError(f"“{name}” has {len(lines):,} rows; at most {MAX_ROWS:,} are read (a series "
                          f"here has at most {MAX_SERIES:,} values). Upload a shorter or coarser series.")
    widest = max((line.count(sep) for line in lines), default=0) + 1
    if widest > MAX_COLUMNS:
        raise UploadError(f"“{name}” has a row with {widest:,} columns (at most {MAX_COLUMNS}): upload "
                          "a series with one value per row, e.g. a date column and a value column.")
    try:
        # a blank line inside the data is a missing value, not nothing (trailing ones are dropped)
        table = pd.read_csv(io.StringIO(text.rstrip()), sep=sep, skipinitialspace=True,
                            on_bad_lines="skip", skip_blank_lines=False)
    except Exception as e:  # the pandas parser's own message is not for students
        raise UploadError(f"“{name}” could not be read as CSV ({type(e).__name__}). Check that it is "
                          "plain text with one row per line.") from e
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise UploadError(f"“{name}” has no data rows.")
    table.columns = [str(c).strip() for c in table.columns]
    numeric = []
    for c in table.columns:
        col = pd.to_numeric(table[c], errors="coerce")
        # a value column: at least half of its cells are numbers (the rest are gaps to clean)
        if col.notna().sum() >= max(2, 0.5 * len(col)):
            numeric.append(c)
    if not numeric:
        raise UploadError(f"“{name}” has no column of numbers (columns: {', '.join(map(str, table.columns[:8]))}). "
                          "The value column must hold plain numbers such as 112 or 3.5.")
    return Upload(table, numeric, name)


def bad_cells(upload: Upload, column: str) -> int:
    """Cells of ``column`` that are empty, not numbers, NaN or ±inf."""
    v = pd.to_numeric(upload.table[column], errors="coerce").to_numpy(dtype=np.float64)
    return int((~np.isfinite(v)).sum())


def to_years(dates: pd.Series) -> np.ndarray | None:
    """Parsed dates as decimal years (e.g. 1949-07 → 1949.5); None if they are not increasing dates."""
    try:
        d = pd.to_datetime(dates, errors="coerce", format="mixed")
    except (TypeError, ValueError):
        return None
    if d.isna().any():
        return None
    years = d.dt.year + (d.dt.day_of_year - 1) / 365.25
    y = years.to_numpy(dtype=np.float64)
    return y if len(y) > 1 and np.all(np.diff(y) > 0) else None


def series_from_upload(upload: Upload, column: str, date_column: str | None = None,
                       fix: str | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The value column as a clean series: (values [n], decimal years [n] or None, note).

    ``fix`` handles NaN/inf cells: None raises UploadError (so the page can offer a choice),
    "drop" removes those rows, "interpolate" fills them linearly from their neighbours.
    """
    if column not in upload.table.columns:
        raise UploadError(f"there is no column “{column}”")
    v = pd.to_numeric(upload.table[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(v)
    note = ""
    keep = np.ones(len(v), dtype=bool)
    if bad.any():
        n_bad = int(bad.sum())
        if fix is None:
            raise UploadError(f"column “{column}” has {n_bad} empty, non-numeric, NaN or infinite "
                              f"cell{'s' if n_bad > 1 else ''}: choose to drop those rows or to interpolate them.")
        if bad.all():
            raise UploadError(f"column “{column}” has no numbers at all")
        if fix == "drop":
            keep = ~bad
            v = v[keep]
            note = f"dropped {n_bad} row{'s' if n_bad > 1 else ''} with missing values"
        elif fix == "interpolate":
            idx = np.arange(len(v))
            # linear interpolation between the nearest good neighbours (ends: nearest good value)
            v = np.interp(idx, idx[~bad], v[~bad])
            note = f"interpolated {n_bad} missing value{'s' if n_bad > 1 else ''}"
        else:
            raise UploadError(f"unknown fix {fix!r}")
    if len(v) > MAX_SERIES:
        raise UploadError(f"column “{column}” has {len(v):,} values; the limit is {MAX_SERIES:,}. "
                          "Upload a shorter (or coarser) series.")
    years = None
    if date_column and date_column in upload.table.columns:
        years = to_years(upload.table[date_column][keep].reset_index(drop=True))
        if years is None:
            note = (note + "; " if note else "") + f"“{date_column}” is not a column of increasing dates, so the time axis is the row number"
    return v, years, note


def parse(name: str, data: bytes) -> Upload | UploadError:
    """``read_upload`` that returns its error instead of raising (the page caches either)."""
    try:
        return read_upload(name, data)
    except UploadError as e:
        return e


def date_options(upload: Upload, value_column: str) -> list[str]:
    """Choices for the optional date column: none, or any other column."""
    return [NO_DATE, *[c for c in upload.table.columns if c != value_column]]


def bad_cells_warning(column: str, n_bad: int) -> str:
    return f"“{column}” has {n_bad} empty, non-numeric, NaN or infinite cell{'s' if n_bad > 1 else ''}."


def summary(upload: Upload, n_values: int, note: str) -> str:
    """One line under the picker: how many values came from which file, and what was cleaned."""
    return f"{n_values:,} values from “{upload.name}”" + (f" ({note})" if note else "") + "."


def config_fields(values: np.ndarray, years: np.ndarray | None, column: str) -> dict[str, Any]:
    """The ForecastConfig fields that carry an uploaded series."""
    return {"custom_values": tuple(float(x) for x in values),
            "custom_x": tuple(float(x) for x in years) if years is not None else (),
            "custom_name": column}
