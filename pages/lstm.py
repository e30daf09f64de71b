"""Lesson lstm — inside an LSTM: gates, cell state and gradients through time (seeds 001, 000).
Only the live view redraws every frame; the chosen detail view is drawn when paused or on demand."""
import dataclasses

import streamlit as st

from core import ui
from core.lessons.lstm import (BIT_TASKS, CELL_LABELS, PROBE_BACK, SAMPLE, TYPED, LstmConfig, LstmTrainer, LstmView,
                               sv_widgets, typed_bits)
from core.lessons.lstm import charts as lc
from core.lessons.lstm import compare, equations, experiments, text

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("lstm", intro=text.INTRO)
form = ui.Form(page, LstmConfig, derived=sv_widgets)        # + the λ₁ toggle and slider (hand-made)
look = ui.Form(page, LstmView)
with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Task** (restarts the run)")
        task, _ = form.controls("task", "seq_len")
        form.control("delay", disabled=task != "echo")
    with c2:
        st.markdown("**Network** (restarts the run)")
        form.controls("cell", "hidden", "seed")
    with c3:
        st.markdown("**Training** (live)")
        form.controls("lr", "batch_size", "clip_norm")
    with c4:
        st.markdown("**Initialisation** (restarts the run)")
        form.control("forget_bias")
        set_sv = look.control("set_sv")
        sv = form.control("recurrent_sv", value=1.0, disabled=not set_sv)
config = form.config(recurrent_sv=sv if set_sv else 0.0)


# ---------------------------------------------------------------- the live view (every frame)
def render(snap: dict, runner) -> None:
    h = 180 if page.presenting else 225      # whole on a 1280×720 projector, a 1280×800 laptop
    left, right = st.columns(2)
    with left:
        ui.chart(page, lc.loss_chart(snap["history"], snap["metrics"], h), "chart_loss")
    with right:
        ui.chart(page, lc.clip_chart(snap["history"], h), "chart_clip")
    for col, (label, value, hint) in zip(st.columns(4), text.live_metrics(snap)):
        col.metric(label, value, help=hint)


runner = ui.live_panel(page, config, make_trainer=LstmTrainer, render=render, to_widgets=form.to_widgets,
                       pretrained=lambda device: experiments.pretrained(config, device, read=ui.checkpoint))


# ---------------------------------------------------------------- the detail views (paused / on demand)
def inspect_controls(cfg: LstmConfig) -> dict:
    """Which sequence, step and unit the detail views follow."""
    v1, v2, v3, v4 = st.columns([1.2, 2, 3, 1])
    sources = (SAMPLE, TYPED) if cfg.task in BIT_TASKS else (SAMPLE,)
    if st.session_state.get(page.key("source")) not in sources:
        st.session_state[page.key("source")] = SAMPLE
    with v1:
        source = ui.widget(page.key("source"), dataclasses.replace(look.decls["source"], options=sources))
    with v2:
        try:
            bits = typed_bits(cfg, look.control("bits")) if source == TYPED else None
        except ValueError as e:
            st.warning(f"{e}. Showing evaluation sample 0 instead.")
            bits = None
        sample = look.control("sample", disabled=bits is not None)
    T = len(bits) if bits is not None else cfg.seq_len
    for name, hi, default in (("t", T - 1, T - 1), ("unit", cfg.hidden - 1, 0)):   # T, H change (URL too)
        if not (0 <= st.session_state.get(key := page.key(name), -1) <= hi and 0 <= ui.url_int(key) <= hi):
            st.session_state[key] = default
    with v3:
        t = ui.widget(page.key("t"), dataclasses.replace(look.decls["t"], bounds=(0, max(T - 1, 1))))
    with v4:
        unit = ui.widget(page.key("unit"), dataclasses.replace(look.decls["unit"], options=tuple(range(cfg.hidden))))
    return {"bits": bits, "sample": int(sample) if bits is None else 0, "t": min(int(t), T - 1), "unit": int(unit)}


def grid(specs: list) -> None:
    cols = st.columns(2)
    for n, (key, spec) in enumerate(specs):
        with cols[n % 2]:
            ui.chart(page, spec, key)


def forward_view(d: dict) -> None:
    st.markdown(f"#### Forward view — {CELL_LABELS[d['cell']]}, time step t = {d['t']} of {d['T']}")
    strip, *results = st.columns([3, 1, 1])
    with strip:
        ui.chart(page, lc.input_strip(d["x"], bits=d["classification"], t_mark=d["t"]), "chart_x")
    for col, (label, value, hint) in zip(results, equations.result_metrics(d)):
        col.metric(label, value, help=hint)
    grid(lc.forward_specs(d))


def equations_view(d: dict) -> None:
    st.markdown(f"**Step t = {d['t']}, unit j = {d['unit']}: the equations with this step's numbers, and the cell**")
    st.latex(equations.latex(d["cell"], d["terms"]))
    ui.chart(page, lc.cell_diagram(d["cell"], d["terms"]), "chart_diagram")


def backward_view(d: dict) -> None:
    st.markdown(f"#### {text.BACKWARD_TITLE}")
    grid(lc.backward_specs(d))
    ui.chart(page, lc.profile_chart(d["profile"], PROBE_BACK), "chart_back")
    if d["cell"] == "lstm":
        st.caption(text.LSTM_BACK_NOTE)


def compare_view(cfg: LstmConfig) -> None:
    st.caption(text.COMPARE_HEAD)
    s1, s2 = st.columns(2)
    with s1:
        prof = compare.at_init(cfg)
        ui.chart(page, lc.steps_back_chart(compare.init_series(prof), title=text.INIT_TITLE), "chart_cmp_init")
        m = compare.ratio_metric(prof)
        if m:
            st.metric(m[0], m[1], help=m[2])
        st.caption(m[3] if m else text.TOO_SHORT)
    with s2:
        prof, steps = compare.trained()
        if not prof:
            st.info(text.NO_SHIPPED)
            return
        ui.chart(page, lc.steps_back_chart(compare.trained_series(prof), title=text.TRAINED_TITLE), "chart_cmp_trained")
        st.caption(text.trained_caption(steps, compare.trained_facts(prof)))


choice = look.control("view")
shown = runner.trainer.config if runner is not None else config      # the run the views inspect
where = inspect_controls(shown) if choice != "compare" else {}
if runner is None:
    st.info("Fix the settings above to see the detail views.")
elif ui.is_running(page) and not st.session_state.pop(page.key("show_once"), False):
    # a callback, not the button's return value: a full rerun (the live loop re-pacing) drops that
    st.button("🔍 Show now", key=page.key("show_now"), on_click=st.session_state.__setitem__,
              args=(page.key("show_once"), True))
    st.info(text.DETAIL_PAUSED)
elif runner.error and not runner.trainer.weights_finite():
    st.info(text.NAN_WEIGHTS)
elif choice == "compare":
    compare_view(shown)
else:
    detail = runner.call(lambda tr: tr.inspect(**where))
    {"forward": forward_view, "backward": backward_view, "equations": equations_view}[choice](detail)

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — the maths behind the picture", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
