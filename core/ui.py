"""The only Streamlit code in core: page setup, URL-bound widgets, and THE live loop.

A lesson page reads top-down::

    page = ui.page_setup("gan1d", "1D GAN", "🎯")             # config, sidebar, device
    cfg = Gan1DConfig(lr_g=ui.slider(page, "lr_g", ...), ...)   # controls -> a config dataclass
    runner = ui.live_panel(page, cfg, make_trainer=..., render=draw)   # the live loop
    st.markdown(explanation)

``live_panel`` owns Train/Pause, Step, Reset and the pretrained start; it turns a change of a
*live* config field into ``trainer.apply_live`` and a change of a *structural* field into a
fresh trainer (with a notice). While training, a ``run_every`` fragment ticks several times a
second: it stops the trainer's background continuation, takes a snapshot, restarts the
continuation (bounded to ``BACKGROUND_SECONDS``) and draws, so the model keeps training while the
browser draws. A Step press calls the same code synchronously, which is what AppTest drives.
All mutable state is in ``st.session_state`` under keys prefixed with the page's short name.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st
import torch
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.checkpoints import CheckpointError, load_checkpoint, pretrained_path
from core.device import DEVICE_CHOICES, describe_device, device_for, device_reason, gpu_available
from core.live import LiveRunner, changed_fields, frame_gate, set_training_cap, slots_in_use

TICK_SECONDS = 0.1           # the browser asks for a frame this often; a frame takes ~60 ms
BACKGROUND_SECONDS = 1.0     # how long training may continue without a tick (e.g. tab closed)
FIRST_TICK_SECONDS = 0.15    # synchronous training on the first tick, so the first chart moves
TRACE_TICKS = os.environ.get("DASH_TRACE_TICKS") == "1"

# One torch thread per process: a class of sessions shares the cores fairly, and tiny models
# are fastest on one thread anyway.
torch.set_num_threads(int(os.environ.get("DASH_TORCH_THREADS", "1")))
set_training_cap(int(os.environ.get("DASH_MAX_TRAINERS", "0")))


@dataclass
class Page:
    short: str                 # prefix of every widget and session key of the page
    title: str
    presenting: bool
    device: torch.device

    def key(self, name: str) -> str:
        return f"{self.short}_{name}"


# --------------------------------------------------------------------------- page setup

_PRESENT_CSS = """
<style>
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { padding-top: 0.5rem; max-width: 100%; }
h1 { padding-top: 0.2rem !important; }
[data-testid="stMetricValue"] { font-size: 2.2rem; }
.dash-advanced { display: none; }
</style>
"""
_BASE_CSS = """
<style>
[data-testid="stMetricValue"] { font-variant-numeric: tabular-nums; }
</style>
"""


def page_setup(short: str, title: str, icon: str, intro: str | None = None) -> Page:
    """Page config, the shared sidebar (presentation mode, device) and the title."""
    # A link with ?present=true opens with the sidebar folded away (more room on a projector).
    hint = st.session_state.get("present") or st.query_params.get("present") == "true"
    st.set_page_config(page_title=f"{title} · Deep-learning live", page_icon=icon, layout="wide",
                       initial_sidebar_state="collapsed" if hint else "auto")
    with st.sidebar:
        presenting = st.toggle("Presentation mode", key="present", bind="query-params",
                               persist_state="session",
                               help="Large type and fewer controls, for a projector at 1280×720. "
                                    "Shared links keep it (?present=true).")
        has_gpu = gpu_available()
        choice = "Auto"
        if has_gpu:
            # Only offered where a GPU exists; Auto uses it only for lessons it speeds up.
            choice = st.radio("Device", DEVICE_CHOICES, key="device_choice", horizontal=True,
                              persist_state="session",
                              help="Auto uses the GPU only where it was measured to train faster.")
        device = device_for(short, choice)
        st.caption(f"Device: **{describe_device(device)}**")
        if has_gpu:
            st.caption(device_reason(short))
    st.markdown(_PRESENT_CSS if presenting else _BASE_CSS, unsafe_allow_html=True)
    st.title(f"{icon} {title}")
    if intro and not presenting:
        st.markdown(intro)
    return Page(short=short, title=title, presenting=presenting, device=device)


def settings_box(page: Page, label: str = "Settings") -> Any:
    """Where a page puts its controls: a bordered box, or in presentation mode a folded
    expander, so at 1280×720 the live charts are on screen. Widgets render either way, so the
    URL keeps every setting."""
    if page.presenting:
        return st.expander(f"⚙️ {label}", expanded=False)
    return st.container(border=True)


# --------------------------------------------------------------------------- URL-bound widgets

def _bound(fn: Callable[..., Any], page: Page, field: str, label: str, default_arg: str,
           default: Any, **kw: Any) -> Any:
    """A widget keyed ``{short}_{field}`` whose value lives in the URL (``?{short}_{field}=…``).

    The default is passed only while session state has no value for the key, so a value set
    from code (e.g. loading a pretrained run) is not fought by the widget's default.
    """
    key = page.key(field)
    if key not in st.session_state:
        kw[default_arg] = default
    return fn(label, key=key, bind="query-params", **kw)


def slider(page: Page, field: str, label: str, lo: Any, hi: Any, default: Any, **kw: Any) -> Any:
    return _bound(st.slider, page, field, label, "value", default, min_value=lo, max_value=hi, **kw)


def _drop_unusable_url_number(key: str, integer: bool) -> None:
    """Forget ``?key=inf`` (or nan, 1e309…) before the widget reads it.

    Streamlit 1.67 converts an integer number_input's URL value with ``int()``, so a link with
    ``?gan1d_seed=inf`` raised OverflowError before the page could say anything. Removing the
    key from ``st.query_params`` is not enough (widgets are seeded from a saved copy of the
    starting URL), so the saved copy is cleaned too; that is private API, hence the guard.
    """
    raw = st.query_params.get(key)
    if raw is None:
        return
    try:
        v = float(raw)
        bad = not math.isfinite(v) or (integer and abs(v) > 2**53)
    except (TypeError, ValueError):
        return   # not a number at all: Streamlit already falls back to the default
    if not bad:
        return
    try:
        ctx = get_script_run_ctx()
        ctx.session_state._state.query_params._initial_query_params.pop(key, None)  # noqa: SLF001
    except AttributeError:
        pass
    del st.query_params[key]


def number(page: Page, field: str, label: str, default: Any, **kw: Any) -> Any:
    _drop_unusable_url_number(page.key(field), isinstance(default, int) and not isinstance(default, bool))
    return _bound(st.number_input, page, field, label, "value", default, **kw)


def select(page: Page, field: str, label: str, options: list[Any], default: Any, **kw: Any) -> Any:
    return _bound(st.selectbox, page, field, label, "index", options.index(default), options=options, **kw)


def multiselect(page: Page, field: str, label: str, options: list[Any], default: list[Any], **kw: Any) -> list[Any]:
    return _bound(st.multiselect, page, field, label, "default", default, options=options, **kw)


def select_slider(page: Page, field: str, label: str, options: list[Any], default: Any, **kw: Any) -> Any:
    return _bound(st.select_slider, page, field, label, "value", default, options=options, **kw)


def radio(page: Page, field: str, label: str, options: list[Any], default: Any, **kw: Any) -> Any:
    return _bound(st.radio, page, field, label, "index", options.index(default), options=options, **kw)


def toggle(page: Page, field: str, label: str, default: bool, **kw: Any) -> bool:
    return _bound(st.toggle, page, field, label, "value", default, **kw)


def text(page: Page, field: str, label: str, default: str, **kw: Any) -> str:
    return _bound(st.text_input, page, field, label, "value", default, **kw)


LEARNING_RATES = [1e-5, 3e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0]


def learning_rate(page: Page, field: str, label: str, default: float, **kw: Any) -> float:
    """A log-spaced learning-rate slider (up to 10, so students can watch divergence)."""
    return select_slider(page, field, label, LEARNING_RATES, default, format_func=lambda v: f"{v:g}", **kw)


# --------------------------------------------------------------------------- read-only caches

@st.cache_resource(show_spinner=False, max_entries=32)
def _cached_checkpoint(path: str, lesson: str, mtime: float) -> dict[str, Any]:
    # Read-only: trainers built from it copy every tensor (``from_checkpoint``).
    return load_checkpoint(path, lesson)


def checkpoint(name: str, lesson: str) -> dict[str, Any]:
    """A shipped checkpoint, cached across sessions; raises CheckpointError if unusable.

    Shared by every student, so never written to: each trainer's ``from_checkpoint`` copies every
    tensor it takes, optimiser state included (tests/test_isolation.py checks every lesson).
    """
    path = pretrained_path(name)
    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing")
    return _cached_checkpoint(str(path), lesson, path.stat().st_mtime)


# --------------------------------------------------------------------------- the live loop

def _runner(page: Page) -> LiveRunner | None:
    return st.session_state.get(page.key("runner"))


def _install(page: Page, trainer: Any) -> None:
    old = _runner(page)
    if old is not None:
        old.close()
    st.session_state[page.key("runner")] = LiveRunner(trainer)
    st.session_state[page.key("first_tick")] = True


def _on_train(page: Page, running: bool) -> None:
    """Train (running=True) or Pause (False): the action the label showed when it was clicked.

    Idempotent on purpose: under load a click's trigger can reach the script twice (the click's
    rerun and a coalesced ``run_every`` fragment rerun); a toggle would then cancel itself and
    the Pause would look lost. Setting the state the user asked for is safe to repeat.
    """
    runner = _runner(page)
    if runner is not None:
        if running and runner.error:
            return  # diverged: Reset first
        runner.hold(not running)     # Pause stops the continuation and refuses late restarts
        runner.reset_rate()
    st.session_state[page.key("running")] = running
    st.session_state[page.key("first_tick")] = running


def _on_step(page: Page, fn: Callable[[Any], Any]) -> None:
    st.session_state[page.key("running")] = False
    runner = _runner(page)
    if runner is None or runner.error:
        return
    runner.hold(True)
    if fn is None:
        runner.step(1)
    else:
        try:
            runner.call(fn)
        except Exception as e:   # Diverged or a bug: show it, keep the page alive
            runner.error = str(e)


def _on_reset(page: Page) -> None:
    st.session_state[page.key("running")] = False
    st.session_state[page.key("reset")] = True


def _on_pretrained(page: Page, load: Callable[[torch.device], Any],
                   to_widgets: Callable[[Any], dict[str, Any]]) -> None:
    st.session_state[page.key("running")] = False
    try:
        trainer = load(page.device)
    except Exception as e:   # any damaged shipped file: say so, keep the current run
        st.session_state[page.key("notice")] = ("warning", f"The pretrained start is unavailable: {e}")
        return
    for k, v in to_widgets(trainer.config).items():
        st.session_state[k] = v
    _install(page, trainer)
    st.session_state[page.key("notice")] = ("success", f"Loaded the pretrained run at step {trainer.step_count:,}.")


def default_to_widgets(page: Page) -> Callable[[Any], dict[str, Any]]:
    """Config field ``f`` -> widget key ``{short}_f`` (for pages whose widgets map 1:1)."""
    return lambda cfg: {page.key(f.name): getattr(cfg, f.name) for f in dataclasses.fields(cfg)}


def live_panel(page: Page, config: Any, *, make_trainer: Callable[[Any, torch.device], Any],
               render: Callable[[dict[str, Any], LiveRunner], None],
               pretrained: Callable[[torch.device], Any] | None = None,
               to_widgets: Callable[[Any], dict[str, Any]] | None = None,
               step_buttons: dict[str, Callable[[Any], Any] | None] | None = None,
               step_unit: str = "step", snapshot_kwargs: dict[str, Any] | None = None) -> LiveRunner | None:
    """The controls, the live fragment and all run bookkeeping for one lesson page.

    make_trainer(config, device) builds a trainer (ValueError = a message for the student);
    render(snapshot, runner) draws the charts (called inside the fragment);
    pretrained(device) returns a trainer loaded from a shipped checkpoint (CheckpointError if not);
    step_buttons maps a button label to fn(trainer) (None = ``step(1)``).
    Returns the session's runner (None when the settings are invalid and no run exists).
    """
    ss = st.session_state
    k_running = page.key("running")
    ss.setdefault(k_running, False)
    runner = _runner(page)

    # 1. Reconcile the run with the settings: reset, live change or structural change.
    error = None
    device_changed = runner is not None and runner.trainer.device != page.device
    if ss.pop(page.key("reset"), False) or runner is None or device_changed:
        try:
            _install(page, make_trainer(config, page.device))
            runner = _runner(page)
            if device_changed:
                ss[page.key("notice")] = ("info", f"Now training on {describe_device(page.device)}.")
        except ValueError as e:
            error = str(e)
    else:
        live, structural = changed_fields(runner.trainer.config, config)
        if structural:
            try:
                trainer = make_trainer(config, page.device)
                _install(page, trainer)
                runner = _runner(page)
                names = ", ".join(n.replace("_", " ") for n in structural)
                ss[page.key("notice")] = ("info", f"Changed {names}: the model was rebuilt and the run "
                                          "restarted at step 0 (live settings such as learning rates "
                                          "apply without a restart).")
            except ValueError as e:
                error = str(e)
        elif live:
            try:
                runner.apply_live(config)
            except ValueError as e:
                error = str(e)
    if error is not None:
        ss[k_running] = False
        st.error(f"These settings can't be used: {error.rstrip('.')}."
                 + (" The previous run is kept, paused." if runner is not None else ""), icon="⚠️")
        if runner is None:
            return None

    # 2. Controls.
    running = ss[k_running] and not runner.error
    steps = step_buttons or {"Step": None}
    cols = st.columns([1.3] + [1.1] * len(steps) + [1.1, 1.9 if pretrained else 0.01, 0.6])
    cols[0].button("⏸ Pause" if running else "▶ Train", key=page.key("train"), type="primary",
                   on_click=_on_train, args=(page, not running), width="stretch",
                   help="Start or pause live training.")
    for i, (label, fn) in enumerate(steps.items()):
        cols[1 + i].button(label, key=page.key(f"step_{i}"), on_click=_on_step, args=(page, fn),
                           width="stretch", help=f"Pause and train one {step_unit}." if fn is None else None)
    cols[1 + len(steps)].button("↺ Reset", key=page.key("reset_btn"), on_click=_on_reset, args=(page,),
                                width="stretch", help="New weights from the seed; step 0.")
    if pretrained:
        cols[2 + len(steps)].button("⚡ Load pretrained", key=page.key("pretrained"), width="stretch",
                                    on_click=_on_pretrained,
                                    args=(page, pretrained, to_widgets or default_to_widgets(page)),
                                    help="Replace the run with a shipped, already trained one (instant).")
    notice = ss.pop(page.key("notice"), None)
    if notice:
        getattr(st, notice[0])(notice[1])

    # 3. The live part: a fragment that reruns every TICK_SECONDS while training.
    @st.fragment(run_every=TICK_SECONDS if running else None)
    def live() -> None:
        _tick(page, runner, render, snapshot_kwargs or {}, step_unit)

    live()
    return runner


SLOW_STEP_SECONDS = 1.0   # above this a step makes the page feel stuck: say why


def _tick(page: Page, runner: LiveRunner, render: Callable[[dict[str, Any], LiveRunner], None],
          snapshot_kwargs: dict[str, Any], step_unit: str) -> None:
    """One frame: (first frame: train briefly), snapshot, draw, let training continue."""
    ss = st.session_state
    running = ss.get(page.key("running"), False) and not runner.error
    if running and ss.pop(page.key("first_tick"), False):
        runner.reset_rate()
        runner.train_for(FIRST_TICK_SECONDS)   # the chart moves on the very first frame
    t0 = time.perf_counter()
    # One frame at a time server-wide (core.live.Gate): with many students, ~60 threads fighting
    # for the GIL starved the thread that sends frames and clicks went unanswered for tens of
    # seconds (benchmarks/bench_load.py). A frame that answers a click (a full run, not a
    # run_every tick) goes ahead of the queued ticks, so buttons answer in well under a second.
    ctx = get_script_run_ctx()
    urgent = not (ctx is not None and ctx.fragment_ids_this_run)
    try:
        with frame_gate(urgent=urgent):
            try:
                snap = runner.snapshot(**snapshot_kwargs)     # stops the background continuation
            except Exception as e:                          # e.g. NaN weights: report, never crash
                runner.error = runner.error or f"Could not read the model: {type(e).__name__}: {e}"
                snap = None
            _draw(page, runner, render, snap, running, step_unit)
    finally:
        # Train on between frames, not while drawing: two Python threads busy at once make every
        # tiny torch call wait for the GIL. ``finally``: a frame interrupted by the next rerun
        # request (at any st.* call) must still leave training running.
        if running and not runner.error:
            runner.start_background(BACKGROUND_SECONDS)
    if TRACE_TICKS:  # one line per frame, read by benchmarks/bench_live_loop.py
        print(f"TICK t={time.perf_counter():.3f} steps={runner.trainer.step_count} "
              f"frame_ms={1000 * (time.perf_counter() - t0):.1f} rate={runner.steps_per_second:.0f}", flush=True)


def _draw(page: Page, runner: LiveRunner, render: Callable[[dict[str, Any], LiveRunner], None],
          snap: dict[str, Any] | None, running: bool, step_unit: str) -> None:
    ss = st.session_state
    rate = runner.update_rate() if running else 0.0
    c1, c2, c3 = st.columns(3)
    c1.metric(f"{step_unit.capitalize()}s trained", f"{runner.trainer.step_count:,}")
    c2.metric(f"{step_unit.capitalize()}s / second", f"{rate:,.0f}" if running else "paused")
    c3.metric("Device", describe_device(runner.trainer.device).split(" (")[0])
    if runner.seconds_per_step > SLOW_STEP_SECONDS and runner.trainer.step_count > 0:
        # A step is never interrupted, so Pause, Step and redraws wait for the current one.
        st.warning(f"One {step_unit} takes about {runner.seconds_per_step:.1f} s with these settings, "
                   f"so Pause and the charts answer only between {step_unit}s. For a live run, lower "
                   "the sizes, batch, seeds or steps per iteration.", icon="🐢")
    if runner.waiting:
        st.info(f"Waiting for a free trainer: {slots_in_use()} sessions are training on this server. "
                "Training starts by itself when one finishes.", icon="⏳")
    if runner.error:
        st.error(f"{runner.error}", icon="🛑")
        if ss.get(page.key("running")):
            ss[page.key("running")] = False
            st.rerun()  # redeclare the fragment without run_every: training stays stopped
    if snap is not None:
        try:
            render(snap, runner)
        except Exception as e:  # a drawing problem must not take the page down
            st.warning(f"Could not draw the charts: {type(e).__name__}: {e}")
