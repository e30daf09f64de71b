"""Page setup: the page config, the shared sidebar (presentation mode, device), old links read as
aliases, the settings box, charts drawn at the page's type size, and read-only caches."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import streamlit as st
import torch

from core import charts, registry
from core.checkpoints import CheckpointError, load_checkpoint, pretrained_path
from core.device import DEVICE_CHOICES, describe_device, device_for, device_reason, gpu_available
from core.ui import classroom  # issue 35 hook
from core.ui import parking  # issue 36 parking hook
from core.ui.widgets import rename_url_params

T = TypeVar("T")


@dataclass
class Page:
    lesson: str                # the lesson's one name: prefix of every widget and session key
    title: str
    presenting: bool
    device: torch.device
    # The row above the live view that holds the lesson's key settings (registry
    # ``key_settings``): setting name -> its column; made by ``settings_box``, filled by ``Form``.
    quick: dict[str, Any] | None = None

    def key(self, name: str) -> str:
        return f"{self.lesson}_{name}"

    def train_chosen(self) -> bool:
        """Whether the Train/Pause control stands on ▶ Train (``core.ui.loop.is_running`` adds
        "and the run has not blown up")."""
        return st.session_state.get(self.key("run")) == TRAIN


# Rules for every page, both modes. Live images are sent at their own size (a 16×16 digit is
# 16×16 pixels) and enlarged by the browser: without this they would be smeared by smoothing.
# The header is thin and see-through so the title (and the live view) sit higher.
_SHARED_CSS = ('[data-testid="stImage"] img, [data-testid="stFullScreenFrame"] img { image-rendering: pixelated; }\n'
               # the button that carries the Train/Pause key (core.ui.keys) is not shown
               '[class*="_train_key"] { display: none; }\n'
               '[data-testid="stHeader"] { height: 2.2rem; min-height: 2.2rem; background: transparent; pointer-events: none; }\n'
               '[data-testid="stHeader"] button, [data-testid="stHeader"] a { pointer-events: auto; }\n'
               '[data-testid="stMetricValue"] { font-size: 1.5rem; font-variant-numeric: tabular-nums; }\n'
               '[data-testid="stMetricLabel"] { margin-bottom: -0.4rem; }\n'
               # the run's counters: label and value on one line (core.ui.loop)
               '[class*="_counters"] [data-testid="stMetric"] > div { display: flex; align-items: baseline; gap: 0.6rem; }\n'
               '[class*="_counters"] [data-testid="stMetricValue"] { font-size: 1.3rem; }')
# Presentation mode (a projector at 1280×720): bigger type, less padding and space between
# blocks, and anything marked advanced hidden.
_PRESENT_CSS = """
<style>
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { padding-top: 2rem; padding-bottom: 1rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.5rem; }
h1 { padding-top: 0 !important; padding-bottom: 0.3rem !important; font-size: 2rem !important; }
.dash-advanced { display: none; }
""" + _SHARED_CSS + """
</style>
"""
# On a laptop (1440×900, 1280×800) the live view must be whole on the first screen: less
# padding above the title (Streamlit's default is 6rem), a smaller title.
_BASE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 1.8rem; padding-bottom: 2rem; }
h1 { padding-top: 0.25rem !important; padding-bottom: 0.1rem !important; font-size: 2rem !important; }
""" + _SHARED_CSS + """
</style>
"""
PRESENT_CHART_SCALE = 20 / 14     # the page's type grows from 14 to 20 px; chart text follows
TRAIN, PAUSE = "▶ Train", "⏸ Pause"      # the live loop's Train/Pause control (core.ui.loop)
# While training, Vega draws on a canvas instead of building SVG nodes: every live frame costs Chromium
# 10–25 % less (bench_live_loop.py, all ten training pages; autoencoders' three scatter maps
# 222 → 182 ms a frame, and leaving that page while it trains 0.8–1.6 → 0.5 s).
# DASH_CHART_RENDERER=svg restores Vega's default.
# Paused, charts stay SVG: their titles and labels are text in the page (tests, screen readers).
CANVAS = os.environ.get("DASH_CHART_RENDERER", "canvas") == "canvas"
# While a page trains, its detail views (charts and pictures below or beside the main live view,
# marked ``detail=True`` by the page) are redrawn on every DETAIL_EVERY-th frame; the frames in
# between send the kept view again, byte for byte, and Streamlit's frontend leaves a chart whose
# spec and data bytes are unchanged as it is: ~2 ms of Chromium's time a chart instead of ~12 for
# 600 changed rows (benchmarks/README.md, «Detail views»). Full runs and paused frames redraw
# everything.
DETAIL_EVERY = max(1, int(os.environ.get("DASH_DETAIL_EVERY", "2")))


def _pause_other_lessons(lesson: str) -> None:
    """Leaving a page stops its training at once: its runner would otherwise train on for up to
    a second and compete with the new page for the one interpreter lock."""
    for k, v in list(st.session_state.items()):
        if k.endswith("_runner") and not k.startswith(f"{lesson}_") and hasattr(v, "hold"):
            v.hold(True)
    parking.on_page(lesson)  # issue 36 parking hook: only this lesson's run stays live (core.ui.parking)


def _lesson_table_navigation() -> None:
    """Make the first deep link after a server start use Home.py's navigation.

    Streamlit 1.67 runs the first script of a server whose entry folder has ``pages/`` in the old
    pages-directory mode (file names in the sidebar, no topic groups, no old-path aliases) until
    some run calls ``st.navigation``; only the first visitor of a deep link sees it. Clearing
    that class flag and rerunning makes this run go through Home.py at once.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:   # a later Streamlit without the flag
        return
    if PagesManager.uses_pages_directory and (registry.ROOT / "Home.py").is_file():
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_setup(lesson: str, title: str | None = None, icon: str | None = None, intro: str | None = None) -> Page:
    """Page config, the shared sidebar (presentation mode, device) and the title.

    ``lesson`` is a key of ``core.registry`` (title and icon come from there) or "home".
    """
    _lesson_table_navigation()
    if os.environ.get("DASH_TRACE_TICKS") == "1":    # read by benchmarks/bench_live_loop.py
        print(f"PAGE lesson={lesson} t={time.perf_counter():.3f}", flush=True)
    row = registry.BY_KEY.get(lesson)
    title = title or (row.title if row else lesson)
    icon = icon or (row.icon if row else "🧠")
    if row is not None and row.old_prefix:
        rename_url_params(row.old_prefix, row.key)      # links handed out before the rename
    _pause_other_lessons(lesson)
    # A link with ?present=true opens with the sidebar folded away (more room on a projector).
    hint = st.session_state.get("present") or st.query_params.get("present") == "true"
    st.set_page_config(page_title=f"{title} · Deep-learning live", page_icon=icon, layout="wide",
                       initial_sidebar_state="collapsed" if hint else "auto")
    with st.sidebar:
        presenting = st.toggle("Presentation mode", key="present", bind="query-params",
                               persist_state="session",
                               help="Large type and fewer controls, for a projector at 1280×720. "
                                    "Shared links keep it (?present=true).")
        choice = "Auto"
        if gpu_available():
            # Only offered where a GPU exists; Auto uses it only for lessons it speeds up.
            choice = st.radio("Device", DEVICE_CHOICES, key="device_choice", horizontal=True,
                              persist_state="session",
                              help="Auto uses the GPU only where it was measured to train faster.")
        device = device_for(lesson, choice)
        st.caption(f"Device: **{describe_device(device)}**")
        if gpu_available():
            st.caption(device_reason(lesson))
        classroom.sidebar_box(lesson)  # issue 35 hook: the 👥 Class box (join, sharing, leave, notices)
    st.markdown(_PRESENT_CSS if presenting else _BASE_CSS, unsafe_allow_html=True)
    st.title(f"{icon} {title}")
    if intro and not presenting:
        st.markdown(intro)
    return Page(lesson=lesson, title=title, presenting=presenting, device=device)


def settings_box(page: Page, label: str = "Settings") -> Any:
    """Where a page puts its controls: an expander, folded when the page opens (the guided
    experiments set the settings a step needs, and the live view and the guide share the first
    screen at 1440×900); it folds itself again when Train is pressed (core.ui.loop). Widgets
    render either way, so the URL keeps every setting."""
    key = page.key("settings_open")
    if key not in st.session_state:
        st.session_state[key] = False
    box = st.expander(f"⚙️ {label}", key=key, on_change="rerun")
    row = registry.BY_KEY.get(page.lesson)
    if row is not None and row.key_settings:
        # Drawn below the folded box and above the controls, so the settings the lesson is
        # about stay in reach of the live view; ``Form.control`` puts them here, once.
        with st.container(key=page.key("quick")):
            columns = st.columns(len(row.key_settings) + 1, gap="medium")   # + a spare: narrower widgets
        page.quick = dict(zip(row.key_settings, columns))
    return box


def view(page: Page, key: str) -> Any:
    """A keyed box around a view made of several elements (a row of pictures and a chart), so
    the guide and the browser tests find it as ``st-key-<lesson>_<key>_view``."""
    return st.container(key=view_key(page, key))


def begin_frame(page: Page, redraw_all: bool) -> None:
    """Called by the live loop before each frame: is this one of the frames that redraw the
    detail views? ``redraw_all``: a full run (a click, a setting) or a paused frame."""
    ss = st.session_state
    n = ss[page.key("frame_no")] = ss.get(page.key("frame_no"), 0) + 1
    ss[page.key("detail_due")] = redraw_all or n % DETAIL_EVERY == 0


def detail_view(page: Page, key: str, make: Callable[[], T]) -> T:
    """What a detail view sends this frame: ``make()`` on a frame that redraws the detail
    views (then kept), else the kept one, so the browser receives the same bytes again."""
    kept = st.session_state.setdefault(page.key("kept_views"), {})
    if key not in kept or st.session_state.get(page.key("detail_due"), True):
        kept[key] = make()
    return kept[key]


def chart(page: Page, spec: dict | Callable[[], dict], key: str, width: Any = "stretch", detail: bool = False,
          **kw: Any) -> Any:
    """A Vega-Lite chart keyed ``{lesson}_{key}``, its text scaled with the page's in
    presentation mode. Keep ``spec`` identical between frames apart from its datasets, so the
    browser swaps data instead of rebuilding the view (core.charts). ``width="content"`` keeps
    a chart at its spec's own width (number grids). ``detail``: a view below the page's main
    live one, redrawn on every DETAIL_EVERY-th frame while training; pass ``spec`` as a function
    (``lambda: lc.losses(h)``) and it is built only on those frames. The datasets go out as Arrow
    bytes made once (``charts.on_the_wire``), so a kept view costs no conversion when sent again."""

    def to_send() -> dict:
        made = spec() if callable(spec) else spec
        chart_specs(page)[key] = made          # for the take-home box's PNG/SVG buttons
        sent = charts.scale_fonts(made, PRESENT_CHART_SCALE) if page.presenting else made
        if CANVAS and page.train_chosen():       # paused: SVG, its text in the page
            sent = {**sent, "usermeta": {"embedOptions": {"renderer": "canvas"}}}
        return charts.on_the_wire(sent)

    sent = detail_view(page, key, to_send) if detail else to_send()
    # In a keyed box, so the guide can point at it and a browser test find it (a chart's own key
    # gives its element no class to select by, Streamlit 1.67).
    with st.container(key=view_key(page, key)):
        return st.vega_lite_chart(sent, width=width, key=page.key(key), **kw)


def view_key(page: Page, key: str) -> str:
    """The key of the box around the view ``key`` (a chart or a detail picture): CSS class
    ``st-key-<lesson>_<key>_view``."""
    return page.key(f"{key}_view")


def chart_specs(page: Page) -> dict[str, dict]:
    """The page's charts as last drawn (key -> spec), this session's only."""
    return st.session_state.setdefault(page.key("chart_specs"), {})


# --------------------------------------------------------------------------- read-only caches

@st.cache_resource(show_spinner=False, max_entries=32)
def _cached_checkpoint(path: str, lesson: str, mtime: float) -> dict[str, Any]:
    # Read-only: trainers built from it copy every tensor (TrainerBase.from_checkpoint).
    return load_checkpoint(path, lesson)


def checkpoint(name: str, lesson: str | None = None) -> dict[str, Any]:
    """A shipped checkpoint ``pretrained/<name>.pt``, cached across sessions; raises
    CheckpointError if unusable. The lesson defaults to the name's prefix (its one name).

    Shared by every student, so never written to: trainers copy what they load
    (tests/test_isolation.py checks every lesson).
    """
    lesson = lesson or name.split("_")[0]
    path = pretrained_path(name)
    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing")
    return _cached_checkpoint(str(path), lesson, path.stat().st_mtime)

