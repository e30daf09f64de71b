"""The lecturer's view (issue 35, ``pages/class.py``): every run of a class, live, per lesson; one
run large; class sweeps; sending a step or a lesson link to every student.

Opened with the lecturer key: ``DASH_LECTURER_KEY`` in the environment or in Streamlit's secrets
(``.streamlit/secrets.toml``). The key is typed into a password box inside a form, compared in
constant time, and never put in the address, the session's widgets after the check, or a log.
Wrong keys are rate-limited like join attempts, in the class store (every worker counts together). Students have no path to another run: their pages
only ever read their own class's notices (core/ui/classroom.py).
"""
from __future__ import annotations

import hmac
import os
import time
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import registry
from core.classroom import access, view
from core.classroom.store import StoreError, shared

REFRESH_SECONDS = float(os.environ.get("DASH_CLASS_REFRESH", "1.0"))
PAGE_RUNS = 120                      # small multiples per page (a hall of 300: three pages)
SMALL_POINTS = 30                    # points per small multiple's curve
LECTURER_TRIES, LECTURER_FAILURES = 5, 20     # a minute: per session, and store-wide
OK = "lecturer_ok"


def lecturer_key() -> str | None:
    key = os.environ.get("DASH_LECTURER_KEY")
    if key:
        return key
    try:
        return st.secrets.get("DASH_LECTURER_KEY") or None
    except Exception:                # no secrets file: Streamlit raises on any access
        return None


def _on_login() -> None:
    ss = st.session_state
    typed = str(ss.get("lecturer_key_try") or "")
    ss["lecturer_key_try"] = ""                       # not kept in the session either
    key = lecturer_key()
    ctx_id = getattr(get_script_run_ctx(), "session_id", "-")
    try:
        why = access.join_allowed(shared(), ctx_id, per_key=LECTURER_TRIES, failures=LECTURER_FAILURES,
                                  scope=access.LECTURER)
        if why:
            ss["lecturer_error"] = why
        elif key and hmac.compare_digest(typed.encode(), key.encode()):
            ss[OK] = True
        else:
            access.join_failed(shared(), ctx_id, scope=access.LECTURER)
            ss["lecturer_error"] = "That is not the lecturer key."
    except StoreError:        # no store, no class to view: the key is not even compared
        ss["lecturer_error"] = "The class store cannot be reached right now; try again in a moment."


def authorised() -> bool:
    """Draw the key box until the right key was given in this session."""
    if st.session_state.get(OK):
        return True
    if lecturer_key() is None:
        st.info("The lecturer's view is off on this server: set **DASH_LECTURER_KEY** in the "
                "environment of every worker (or in `.streamlit/secrets.toml`) and restart it.")
        return False
    err = st.session_state.pop("lecturer_error", None)
    if err:
        st.error(err)
    with st.form("lecturer_login"):
        st.text_input("Lecturer key", type="password", key="lecturer_key_try")
        st.form_submit_button("Open the class view", on_click=_on_login)
    st.caption("Students: this page is for your lecturer. Join a class from the 👥 Class box in the sidebar.")
    return False


def _class_picker() -> str | None:
    ss = st.session_state
    store = shared()
    a, b = st.columns([3, 1])
    try:
        known = store.list_classes()
    except StoreError as e:
        st.error(f"The class store is unavailable: {e}.")
        return None
    if b.button("➕ New class", key="lecturer_new"):
        try:
            ss["lecturer_class"] = store.create_class()
            known = [ss["lecturer_class"], *known]
        except StoreError as e:
            st.error(f"Could not create a class: {e}.")
    if not known:
        st.info("Create a class: students then join with its code from the sidebar of any page.")
        return None
    if ss.get("lecturer_class") not in known:
        ss["lecturer_class"] = known[0]
    code = a.selectbox("Class", known, key="lecturer_class")
    base = (st.context.url or "").split("?")[0].rsplit("/", 1)[0]
    st.markdown(f"## Class code: `{code}`")
    st.caption(f"Students join from the 👥 Class box in the sidebar, or open {base}/?class={code} "
               "and choose a nickname.")
    return code


def lecturer_view() -> None:
    if not authorised():
        return
    if st.sidebar.button("🔒 Lock this view", key="lecturer_lock"):
        st.session_state.pop(OK, None)
        st.rerun()
    code = _class_picker()
    if code is None:
        return
    try:
        counts = shared().lesson_counts(code)
    except StoreError:
        counts = {}
    lessons = [l.key for l in registry.built()]
    lesson = st.selectbox("Lesson", lessons, key="lecturer_lesson",
                          index=lessons.index(max(counts, key=counts.get)) if counts else 0,
                          format_func=lambda k: f"{registry.lesson(k).title} ({_runs(counts.get(k, 0))})")
    part = st.segmented_control("Show", ["Runs", "Sweep", "Send a step"], key="lecturer_part",
                                default="Runs") or "Runs"
    if part == "Runs":
        _runs_live(code, lesson)
    elif part == "Sweep":
        _sweep(code, lesson)
    else:
        _send(code, lesson)


@st.fragment(run_every=REFRESH_SECONDS)
def _runs_live(code: str, lesson: str) -> None:
    t0 = time.perf_counter()
    try:
        runs = shared().class_runs(code, lesson)
    except StoreError as e:
        st.warning(f"The class store is unavailable ({e}); retrying every {REFRESH_SECONDS:g} s.")
        return
    t_read = time.perf_counter() - t0
    if not runs:
        st.info("No run of this lesson yet: students who joined appear here when they press Train or Step.")
        return
    st.dataframe(pd.DataFrame(view.table(runs, lesson, time.time())), hide_index=True, width="stretch",
                 column_config={"nickname": st.column_config.TextColumn("nickname")})
    labels = [view.label(r) for r in runs]
    pick = st.selectbox("One run, large", ["—", *labels], key="lecturer_pick")
    if pick in labels:
        r = runs[labels.index(pick)]
        st.vega_lite_chart(pd.DataFrame(view.curves([r], view.history_keys(lesson))), _no_data(view.one_run_spec([])),
                           width="stretch", key="lecturer_one")
    pages = max(1, -(-len(runs) // PAGE_RUNS))
    page = st.number_input("Page of runs", 1, pages, 1, key="lecturer_page") if pages > 1 else 1
    shown = runs[(page - 1) * PAGE_RUNS: page * PAGE_RUNS]
    rows = view.curves([_thinner(r) for r in shown], view.loss_keys(lesson))
    st.vega_lite_chart(pd.DataFrame(rows, columns=["run", "key", "step", "value"]),
                       _no_data(view.small_multiples_spec([])), key="lecturer_small")
    st.caption(f"{_runs(len(runs))} · read in {1000 * t_read:.0f} ms, drawn in "
               f"{1000 * (time.perf_counter() - t0):.0f} ms · refreshed every {REFRESH_SECONDS:g} s")


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _no_data(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec without inline rows: the data goes as Arrow, and the spec stays byte-identical
    between refreshes (the browser then swaps the data instead of rebuilding the view)."""
    return {k: v for k, v in spec.items() if k != "data"}


def _thinner(run: dict[str, Any]) -> dict[str, Any]:
    h = run["history"]
    n = len(h.get("step", []))
    if n <= SMALL_POINTS:
        return run
    idx = sorted({round(i * (n - 1) / (SMALL_POINTS - 1)) for i in range(SMALL_POINTS)})
    return {**run, "history": {k: [v[i] for i in idx] for k, v in h.items()}}


def _parse_values(lesson: str, setting: str, text: str) -> list[Any]:
    d = view.sweepable(lesson)[setting]
    integer = isinstance(d.default, int) and not isinstance(d.default, bool)
    out = []
    for part in text.replace(";", ",").split(","):
        if part.strip():
            v = int(float(part)) if integer else float(part)
            if d.bounds and not (d.bounds[0] <= v <= d.bounds[1]):
                raise ValueError(f"{part.strip()} is outside {d.bounds[0]}–{d.bounds[1]}")
            out.append(v)
    return out


def _sweep(code: str, lesson: str) -> None:
    try:
        info = shared().class_info(code) or {}
    except StoreError as e:
        st.warning(f"The class store is unavailable ({e}).")
        return
    sweep = info.get("sweep")
    if sweep:
        st.markdown(f"Sweep running in **{registry.lesson(sweep['lesson']).title}**: **{sweep['setting']}** over "
                    f"{', '.join(view.url_value(sweep['lesson'], sweep['setting'], v) for v in sweep['values'])}; "
                    f"every other setting pinned at its default; y = final **{sweep['metric']}**.")
        if st.button("⏹ End the sweep", key="lecturer_sweep_end"):
            shared().set_sweep(code, None)
            st.rerun()
        _sweep_live(code, sweep)
        return
    decls = view.sweepable(lesson)
    setting = st.selectbox("Setting to sweep (every other one is pinned at its default)", list(decls),
                           format_func=lambda k: decls[k].label, key="lecturer_sweep_setting")
    d = decls[setting]
    if d.options:
        values = st.multiselect("Values", list(d.options), default=list(d.options)[:4], format_func=d.show,
                                key="lecturer_sweep_options")
    else:
        raw = st.text_input("Values (comma-separated)", key="lecturer_sweep_text",
                            placeholder=f"between {d.bounds[0]} and {d.bounds[1]}" if d.bounds else "")
        try:
            values = _parse_values(lesson, setting, raw)
        except ValueError as e:
            st.error(f"Values: {e}.")
            values = []
    metric = st.selectbox("Final metric (y axis)", view.history_keys(lesson), key="lecturer_sweep_metric")
    if st.button("▶ Start the sweep: deal a value to every student", key="lecturer_sweep_start", disabled=not values):
        shared().set_sweep(code, {**view.new_sweep(lesson, setting, values, metric), "id": time.time()})
        st.rerun()


@st.fragment(run_every=REFRESH_SECONDS)
def _sweep_live(code: str, sweep: dict[str, Any]) -> None:
    try:
        runs = shared().class_runs(code, sweep["lesson"])
    except StoreError as e:
        st.warning(f"The class store is unavailable ({e}).")
        return
    points = view.sweep_points(runs, sweep)
    st.caption(f"{len(points)} of {len(runs)} runs follow the sweep's settings.")
    st.vega_lite_chart(pd.DataFrame(points, columns=["value", "metric", "run", "step"]),
                       _no_data(view.sweep_spec(sweep, [])), width="stretch", key="lecturer_sweep_chart")


def _send(code: str, lesson: str) -> None:
    st.markdown("Send every student a notice with one click to follow (never a forced jump).")
    step = st.number_input("Guided experiment step (0: just the lesson)", 0, 50, 0, key="lecturer_send_step")
    title = registry.lesson(lesson).title
    default = f"Open step {step} of {title}." if step else f"Open {title}."
    text = st.text_input("Message", key="lecturer_send_text", max_chars=200, placeholder=default) or default
    if st.button("📣 Send to the class", key="lecturer_send"):
        page, params = view.step_link(lesson, step or None)
        try:
            shared().send_message(code, {"text": text, "page": page, "params": params})
            st.success("Sent: students see it within a few seconds.")
        except StoreError as e:
            st.error(f"Not sent: {e}.")
