"""The guide panel beside a lesson's live view: its guided experiments (``core.experiments``),
one step at a time.

Step k of n, Back/Next, one Set-up button that applies the step exactly as moving the widgets
would (its settings on top of the defaults, then Reset, ⚡ Load pretrained or carry on; a
structural change restarts with the usual notice), a question to answer before the reveal, and
an automatic pause after the step's training, so a whole class stops at the same point. The step
lives in the URL (``?<key>_step=3``), so a lecturer can project step 3 directly.
"""
from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, Iterator

import streamlit as st

from core import experiments
from core.experiments import Experiment, Guide
from core.ui.keys import KEYS
from core.ui.notices import add_notice
from core.ui.page import Page, chart_specs, checkpoint, view_key
from core.ui.widgets import is_pinned

SETUP_LABEL = "⚙️ Set up this experiment"
OUTLINE = "#E69F00"      # Okabe–Ito orange: seen by every kind of colour vision


@functools.lru_cache(maxsize=None)
def guide_for(lesson: str) -> Guide | None:
    """The lesson's guide (read-only, declared in code: one copy per process is enough)."""
    return experiments.guide_of(lesson)


def _url_key(page: Page) -> str:
    return page.key("step")


def current_index(page: Page, guide: Guide) -> int:
    """The step shown (0-based): the session's, first read from the link's ``?<key>_step=``
    (1-based; a number out of range opens the nearest step, anything else the first)."""
    ss, key, n = st.session_state, page.key("guide_index"), len(guide.experiments)
    raw = st.query_params.get(_url_key(page))
    # A link that names another step than the address last held (a first visit, or a step sent to
    # the class and followed on a page this session knows) is read; the session's step otherwise.
    if key not in ss or (raw is not None and raw != ss.get(page.key("guide_url"))):
        try:
            ss[key] = int(float(raw if raw is not None else 1)) - 1
        except (TypeError, ValueError, OverflowError):
            ss[key] = 0
    ss[key] = min(max(int(ss[key]), 0), n - 1)
    return ss[key]


def _url_step(page: Page, index: int) -> None:
    """The step in the address bar (``history.replaceState``: Playwright's ``page.url`` does not
    follow it, ``location.search`` does)."""
    key = _url_key(page)
    if st.query_params.get(key) != str(index + 1) and (index or key in st.query_params):
        st.query_params[key] = str(index + 1)
    st.session_state[page.key("guide_url")] = st.query_params.get(key)


def _go(page: Page, guide: Guide, index: int) -> None:
    index = min(max(index, 0), len(guide.experiments) - 1)
    st.session_state[page.key("guide_index")] = index
    st.session_state[page.key("guide_pick")] = index


def _on_pick(page: Page, guide: Guide) -> None:
    _go(page, guide, int(st.session_state[page.key("guide_pick")]))


def _on_setup(page: Page, guide: Guide, index: int, to_widgets: Callable[[Any], dict[str, Any]],
              pause: Callable[[Page], None]) -> None:
    """Apply step ``index`` as a student moving the widgets would, then start it (callback)."""
    exp = guide.experiments[index]
    pause(page)
    config = guide.config(index)
    widgets = {**to_widgets(config), **{page.key(k): v for k, v in exp.page_widgets.items()}}
    for k, v in widgets.items():
        if not is_pinned(k):              # a lesson link's pinned settings stay as pinned
            st.session_state[k] = v
    ss = st.session_state
    if exp.start == "reset":
        ss[page.key("reset")] = True
    ss[page.key("guide_pending")] = (index, exp.start)
    ss[page.key("guide_revealed")] = ss.get(page.key("guide_revealed"), set()) - {index}


def pending_start(page: Page) -> tuple[int, str] | None:
    """The step whose set-up waits for this run's config (read once, by the live loop)."""
    return st.session_state.pop(page.key("guide_pending"), None)


def start_step(page: Page, runner: Any, guide: Guide, index: int, step_unit: str) -> None:
    """A guided step was just set up: pause ▶ Train after its training, and say what to do."""
    exp = guide.experiments[index]
    runner.stop_at = runner.trainer.step_count + exp.train if exp.train else None
    add_notice(page, "info", f"Step {index + 1} is set up: {exp.todo(step_unit)}")


def load_pretrained(page: Page, guide: Guide | None, config: Any,
                    page_pretrained: Callable[[Any], Any] | None) -> Any:
    """A pretrained start for a step: the lesson's own ``pretrained(config, device, read)`` (the
    one its claims are tested with) reading through the page's shared cache (``checkpoint``, as ⚡
    does), else the page's ⚡ loader."""
    if guide is not None and guide.pretrained is not None:
        return guide.pretrained(config, page.device, read=checkpoint)
    if page_pretrained is None:
        raise ValueError("this lesson ships no pretrained run")
    return page_pretrained(page.device)


def panel(page: Page, guide: Guide, to_widgets: Callable[[Any], dict[str, Any]],
          pause: Callable[[Page], None], step_unit: str) -> None:
    """The guide, drawn on full runs only (never in the live fragment: it costs no frame)."""
    ss = st.session_state
    n = len(guide.experiments)
    index = current_index(page, guide)
    exp = guide.experiments[index]
    ss[page.key("guide_pick")] = index
    _url_step(page, index)
    if exp.watch:          # outline the view the step is about, on the live panel
        st.markdown(f"<style>.st-key-{view_key(page, exp.watch)} {{ outline: 3px dashed {OUTLINE}; "
                    "outline-offset: 3px; border-radius: 4px; }</style>", unsafe_allow_html=True)
    with st.container(border=True, key=page.key("guide")):
        if page.presenting:
            # On a projector the room reads the step's title and question: first, large; the
            # lecturer's buttons come after them.
            st.markdown(f"🧭 Step {index + 1} of {n}\n##### {exp.title}")
            _predict_and_reveal(page, exp, index)
            _setup_button(page, guide, index, to_widgets, pause)
            _back_next(page, guide, index)
            return
        st.selectbox("🧭 Guided experiments", range(n), key=page.key("guide_pick"),
                     format_func=lambda i: f"Step {i + 1} of {n}: {guide.experiments[i].title}",
                     on_change=_on_pick, args=(page, guide),
                     help="Each step sets the page up, asks what you expect, then shows what happens and why. "
                          f"The address keeps the step (?{_url_key(page)}=…), for a projector or a handout.")
        _back_next(page, guide, index)
        st.markdown(f"**{index + 1}. {exp.title}**")
        _setup_button(page, guide, index, to_widgets, pause)
        st.markdown(exp.todo(step_unit) + (f" Watch **{_chart_name(page, exp)}** (outlined)." if exp.watch else ""))
        _predict_and_reveal(page, exp, index)


def _back_next(page: Page, guide: Guide, index: int) -> None:
    b1, b2 = st.columns(2)
    # Arrows only: Streamlit writes the key (Page Up/Down) on the button too, and a narrow
    # column cut "Next ▶ PageDown" to "PageDown"
    b1.button("◀", key=page.key("guide_back"), on_click=_go, args=(page, guide, index - 1),
              disabled=index == 0, width="stretch", shortcut=KEYS["back"], help="The step before")
    b2.button("▶", key=page.key("guide_next"), on_click=_go, args=(page, guide, index + 1),
              disabled=index == len(guide.experiments) - 1, width="stretch", shortcut=KEYS["next"],
              help="The next step")


def _setup_button(page: Page, guide: Guide, index: int, to_widgets: Callable[[Any], dict[str, Any]],
                  pause: Callable[[Page], None]) -> None:
    st.button(SETUP_LABEL, key=page.key("guide_setup"), type="primary", width="stretch",
              on_click=_on_setup, args=(page, guide, index, to_widgets, pause), help=_setup_help(guide, index))


def _setup_help(guide: Guide, index: int) -> str:
    exp = guide.experiments[index]
    start = {"reset": "a fresh run from the seed", "pretrained": "the shipped, already trained run",
             "continue": "the run of the step before, carried on"}[exp.start]
    changes = ", ".join(f"{k} = {v}" for k, v in exp.settings.items()) or "none"
    return f"Starts from {start}. Settings (on top of the defaults): {changes}."


def _chart_name(page: Page, exp: Experiment) -> str:
    """The watched chart's title as last drawn, else its key in words."""
    title = chart_specs(page).get(exp.watch, {}).get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return title if isinstance(title, str) and title else exp.watch.replace("chart_", "").replace("_", " ")


def _predict_and_reveal(page: Page, exp: Experiment, index: int) -> None:
    ss = st.session_state
    revealed: set[int] = ss.setdefault(page.key("guide_revealed"), set())
    q = exp.predict
    if q is not None:
        choice = st.radio(f"**{q.prompt}**" if page.presenting else q.prompt, range(len(q.choices)), index=None,
                          format_func=lambda i: q.choices[i], key=page.key(f"guide_q{index}"))
        if choice is not None:
            revealed.add(index)
            if choice == q.answer:
                st.success(f"Yes: {q.choices[q.answer]}.", icon="✅")
            else:
                st.warning(f"Not quite: {q.choices[q.answer]}.", icon="🤔")
    if index not in revealed:
        st.button("Show what happens", key=page.key("guide_reveal"), on_click=revealed.add, args=(index,),
                  width="stretch", help="Predict first: it sticks better.")
        return
    if exp.claims:
        st.markdown("**What you should see**\n" + "\n".join(f"- {c.sentence()}" for c in exp.claims))
    st.markdown(f"**Why.** {exp.why}")


def beside_live_view(page: Page, guide: Guide | None, to_widgets: Callable[[Any], dict[str, Any]],
                     pause: Callable[[Page], None], step_unit: str) -> Any:
    """The guide in a column beside the live view; returns the live view's container."""
    if guide is None:
        return st.container()
    # the live view keeps most of the width; on a projector a little more
    main, side = st.columns([3.6, 1] if page.presenting else [3, 1], gap="small")
    with side:
        panel(page, guide, to_widgets, pause, step_unit)
    return main


def declared_widgets(page: Page, guide: Guide) -> Callable[[Any], dict[str, Any]]:
    """Widget values for a config from its declarations alone (``Form.to_widgets`` without a form:
    for a view of the page that draws no settings form)."""
    from core import settings
    decls = settings.declarations(guide.trainer_cls.Config)

    def to_widgets(config: Any) -> dict[str, Any]:
        return {page.key(n): (list(v) if d.widget == "multiselect" else v)
                for n, d in decls.items() if d.widget != "none" for v in [getattr(config, n)]}
    return to_widgets


@contextlib.contextmanager
def beside(page: Page, pause: Callable[[Page], None], enabled: bool = True) -> Iterator[None]:
    """For a view of a lesson page without a live panel (upsampling's viewers): draw the guide
    beside what the block draws, so a step that asks for this view keeps its guide in sight."""
    guide = guide_for(page.lesson)
    if not enabled or guide is None:
        yield
        return
    main, side = st.columns([3, 1], gap="small")
    with side:
        panel(page, guide, declared_widgets(page, guide), pause, "step")
    with main:
        done = pending_start(page)
        if done is not None:       # a step about this view: nothing to train, so no reset either
            st.session_state.pop(page.key("reset"), None)
            st.info(f"Step {done[0] + 1} is set up: {guide.experiments[done[0]].todo()}")
        yield
