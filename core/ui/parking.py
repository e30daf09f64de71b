"""Parking in a session (issue 36): when a page opens, every other lesson's run the session
holds live is parked (``core.parking``: a bounded checkpoint in ``<lesson>_parked``, the runner
dropped, with the lesson's kept chart views and chart specs, which its page draws again), and the
opening lesson's own parked run is rebuilt into ``<lesson>_runner`` before its live panel looks
for one. So a student who has visited all eleven lessons holds one live trainer, not eleven.

Called from ``core.ui.page._pause_other_lessons`` (the one hook). ``DASH_PARKING=0`` turns it off
(every visited lesson's run stays live, as before; benchmarks/bench_memory.py compares both).
"""
from __future__ import annotations

import os

import streamlit as st

from core import parking

ENABLED = os.environ.get("DASH_PARKING", "1") != "0"
RUNNER, PARKED = "_runner", "_parked"
# per-lesson session entries that only a drawn page needs: dropped with its live run
_DROPPED_WITH_RUN = ("_kept_views", "_chart_specs", "_rate_marks")

parking.start_trimmer()      # hand freed heap pages back every few seconds (core.parking.trim)


def on_page(lesson: str) -> None:
    """The page of ``lesson`` (a lesson key, "home" or another page) opens: restore its parked
    run, park every other lesson's live one."""
    if not ENABLED:
        return
    ss = st.session_state
    parked_any = False
    for key in [k for k in list(ss.keys()) if isinstance(k, str) and k.endswith(RUNNER)]:
        other = key[: -len(RUNNER)]
        if other == lesson:
            continue
        parked = parking.park(ss[key])
        if parked is None:             # blown up, mid-epoch…: stays live (and held, by the caller)
            continue
        runner = ss[key]
        ss[other + PARKED] = parked
        del ss[key]
        for suffix in _DROPPED_WITH_RUN:
            ss.pop(other + suffix, None)
        runner.close()
        parked_any = True
    restore(lesson)
    if parked_any:
        parking.trim()


def restore(lesson: str) -> None:
    """Put ``lesson``'s parked run back live (held: the page's Train/Pause decides), unless the
    session already holds a live one. A run that cannot be rebuilt is dropped with a notice; the
    page then starts a fresh one."""
    ss = st.session_state
    parked = ss.pop(lesson + PARKED, None)
    if parked is None or lesson + RUNNER in ss:
        return
    try:
        ss[lesson + RUNNER] = parking.unpark(parked)
    except Exception as e:  # noqa: BLE001 - never take the page down: start afresh and say so
        ss[lesson + "_notice"] = ("warning", f"Your earlier run of this lesson could not be restored "
                                             f"({type(e).__name__}: {e}); a fresh run starts at step 0.")


def parked(lesson: str) -> parking.ParkedRun | None:
    """The session's parked run of ``lesson``, if any (tests)."""
    return st.session_state.get(lesson + PARKED)
