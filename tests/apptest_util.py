"""Helpers shared by the AppTest files (every lesson's test_page_*.py, the framework's hostile and
isolation sweeps)."""
from __future__ import annotations

import pathlib

from streamlit.testing.v1 import AppTest

from core import registry
from core.ui import PAUSE, TRAIN

ROOT = pathlib.Path(__file__).resolve().parent.parent

# lesson key -> page script, for tests that walk every lesson (read from the one lesson table)
PAGES = {l.key: l.page for l in registry.built()}


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


def run_control(at: AppTest, lesson: str):
    """The Train/Pause segmented control of lesson ``lesson``."""
    return at.button_group(key=f"{lesson}_run")


def press_train(at: AppTest, lesson: str) -> AppTest:
    """Choose ▶ Train (AppTest never fires ``run_every``: drive frames with Step or reruns)."""
    return run_control(at, lesson).set_value(TRAIN).run()


def press_pause(at: AppTest, lesson: str) -> AppTest:
    return run_control(at, lesson).set_value(PAUSE).run()


def is_training(at: AppTest, lesson: str) -> bool:
    return run_control(at, lesson).value == TRAIN
