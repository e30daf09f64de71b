"""A lesson page's notices: what a callback left (a rebuilt run, a loaded file, a guided step set
up), shown on the next full runs for a moment, or as a toast on a projector."""
from __future__ import annotations

import time

import streamlit as st

from core.ui.page import Page

NOTICE_SECONDS = 2.0         # a callback's message stays on the page's full runs this long


def add_notice(page: Page, kind: str, text: str) -> None:
    """Leave a notice for ``show_notice``. One a callback left in this run and not yet shown (a
    refused upload…) stays first, this one after it, in its kind (a warning stays a warning)."""
    key, ss = page.key("notice"), st.session_state
    old, seen = ss.get(key), ss.get(page.key("notice_seen"))
    fresh = old and not (seen and seen[0] is old)      # left in this run, not shown yet
    ss[key] = (old[0], f"{old[1]} {text}") if fresh else (kind, text)


def show_notice(page: Page) -> None:
    """The message a callback left (a rebuilt run, a loaded file…), on every full run for
    NOTICE_SECONDS. Why not only once: Streamlit drops a run's unsent output when the next run
    starts, and under load a second run can follow at once, so a message drawn in one run only
    could be lost. Toasts survive that drop (Streamlit keeps them): on a projector, shown once."""
    ss = st.session_state
    notice = ss.get(page.key("notice"))
    if not notice:
        return
    now = time.perf_counter()
    seen = ss.get(page.key("notice_seen"))
    if seen is None or seen[0] is not notice:
        seen = ss[page.key("notice_seen")] = (notice, now)
    expired = now - seen[1] > NOTICE_SECONDS
    if page.presenting or expired:
        del ss[page.key("notice")]
    if expired:
        return
    if page.presenting:                # on a projector a notice must not push the chart down
        st.toast(notice[1], icon={"success": "✅", "warning": "⚠️"}.get(notice[0], "ℹ️"))
    else:
        getattr(st, notice[0])(notice[1])
