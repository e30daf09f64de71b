"""Helpers shared by the AppTest files (tests/test_page_*.py, test_hostile.py, test_isolation.py)."""
from __future__ import annotations

import pathlib

from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# page short name -> script, for tests that walk every lesson
PAGES = {
    "gan1d": "pages/1_1D_GAN.py",
    "fc": "pages/2_LSTM_Forecast.py",
    "lstm": "pages/3_Inside_LSTM.py",
    "gan2d": "pages/4_Mode_Collapse.py",
    "up": "pages/5_Upsampling.py",
}


def run_page(path: str, timeout: float = 60, check: bool = True, **query: str) -> AppTest:
    """Open ``path`` (relative to the repo) with ``query`` as URL parameters and run it once."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if check:
        assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    """The value of the first metric whose label starts with ``label``."""
    return next(m.value for m in at.metric if m.label.startswith(label))
