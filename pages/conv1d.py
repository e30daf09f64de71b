"""Lesson conv1d — convolutions for sequences: Conv1D, dilated causal convolutions (WaveNet) and
the LSTM compared (seed 000 activity 3, seed 004, seed 002)."""
import streamlit as st

from core import ui
from core.lessons.conv1d import Conv1dConfig, Conv1dTrainer, Conv1dView, text
from core.lessons.conv1d import experiments as guide
from core.lessons.conv1d import charts as cc
from core.lessons.conv1d import lesson_view as lv

page = ui.page_setup("conv1d", intro=text.INTRO)
form, vform = ui.Form(page, Conv1dConfig), ui.Form(page, Conv1dView)
with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Data**")
        form.controls("task", "seq_len", "seed")
    with c2:
        st.markdown("**Training** (live)")
        form.controls("lr", "batch_size", "optimizer")
    with c3:
        st.markdown("**Models** (restart the run)")
        form.controls("models", "channels", "hidden")
    with c4:
        st.markdown("**Convolutions** (restart the run)")
        form.controls("conv_kernel", "conv_layers")
        form.control("wave_kernel", horizontal=True)
        form.controls("wave_layers", "residual")
config = form.config()
if not page.presenting:      # on a projector it goes under the charts (the first chart must fit 720 px)
    st.caption(lv.task_note(config))

live_box, below = st.container(), st.container()
with below:     # drawn first (the live frame needs their values), shown under the live charts
    st.markdown("**What one filter responds to** (pick a model, layer, filter and held-out series)")
    a1, a2, a3, a4 = st.columns([2, 1, 1, 1])
    with a1:
        vform.control("act_model", horizontal=True)
    with a2:
        vform.control("act_layer")
    with a3:
        vform.control("act_filter")
    with a4:
        vform.control("act_series")
view = vform.config()


def load_pretrained(device):      # the same function the guided steps start from
    return guide.pretrained(config, device, read=ui.checkpoint)


def render(snap: dict, runner) -> None:
    models, h, m = snap["models"], snap["history"], snap["metrics"]
    height = 130
    c1, c2, c3 = st.columns([5, 5, 3])
    with c1:
        ui.chart(page, cc.accuracy_chart(m, models, snap["n_classes"], height), "chart_acc")
    with c2:
        ui.chart(page, cc.loss_chart(h, models, height), "chart_loss")
    with c3:
        ui.chart(page, cc.speed_chart(snap["steps_per_s"], height), "chart_speed")
    st.markdown(lv.scoreboard(snap))
    if page.presenting:
        st.caption(lv.task_note(config))
        return
    act = snap["act"]
    st.caption(lv.activation_caption(snap))
    ui.chart(page, lambda: cc.activation_chart(snap["series"], act, act and act["anchors"]), "chart_act", detail=True)


with live_box:
    ui.live_panel(page, config, make_trainer=Conv1dTrainer, render=render, pretrained=load_pretrained,
                  to_widgets=form.to_widgets, snapshot_kwargs=lv.snapshot_kwargs(view))

with below:
    st.subheader("Receptive field, layer by layer")
    f1, f2 = st.columns([1, 2])
    with f1:
        vform.control("field_model")
    with f2:
        vform.control("out_step")
    view = vform.config()
    drawing = lv.field_drawing(config, view)
    if drawing.error:
        st.warning(drawing.error, icon="⚠️")
    else:
        ui.chart(page, drawing.spec, "chart_field")
        st.markdown(drawing.sentence)
    with st.expander("Output length of a Conv1D stack, by formula", expanded=not page.presenting):
        k1, k2, k3, k4 = st.columns(4)
        with k1:
            vform.controls("calc_len", "calc_layers")
        with k2:
            vform.controls("calc_kernel", "calc_stride")
        with k3:
            vform.controls("calc_padding", "calc_dilation")
        with k4:
            vform.control("calc_pool")
        view = vform.config()
        st.markdown(lv.length_table(view))
        st.markdown(lv.model_lengths(config))
    with st.expander("What is going on — the maths behind the picture", expanded=not page.presenting):
        st.markdown(text.EXPLANATION)
