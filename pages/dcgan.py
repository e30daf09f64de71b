"""Lesson dcgan — a DCGAN draws handwritten digits, and a conditional GAN draws the one you ask for
(seed 000 activity 5; seed 002; seeds 001 and 004)."""
import streamlit as st

from core import ui
from core.lessons.dcgan import DcganConfig, DcganTrainer, LatentConfig, experiments, latent, text
from core.lessons.dcgan import charts as dc

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("dcgan", intro=text.INTRO)
form = ui.Form(page, DcganConfig)
with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Model** (restarts the run)")
        form.controls("conditional", "codes", "upsampling", "batch_norm")
    with c2:
        st.markdown("**Training** (live)")
        form.controls("lr_d", "lr_g", "batch_size")
    with c3:
        st.markdown("**The game and the view** (live)")
        form.controls("k", "slope", "real_label", "average")
    with c4:
        st.markdown("**Sizes** (restart the run)")
        form.controls("width", "latent_size", "seed")
config = form.config()


def load_pretrained(device):       # the guide's pretrained start too
    return experiments.pretrained(config, device, read=ui.checkpoint)


# ---------------------------------------------------------------- the live panel
def render(snap: dict, runner) -> None:
    left, mid, right = st.columns([2, 2, 3])
    with left, ui.view(page, "fake"):      # the main view (Home's card, the first-screen tests)
        ui.image_grid(snap["fake"], 10, lo=-1.0, hi=1.0, caption=text.grid_caption(snap["conditional"], snap["codes"]))
    with mid:
        ui.image_grid(snap["real"], 10, lo=-1.0, hi=1.0, caption=text.REAL, detail=(page, "real"))
    with right:
        q1, q2, q3 = st.columns(3)
        q1.metric("accepted", dc.percent(snap["accepted"]), help=text.ACCEPTED_HELP)
        q2.metric("digits seen", f"{snap['classes']:.0f} / 10", help=text.CLASSES_HELP)
        if snap["conditional"]:
            q3.metric("asked digit", dc.percent(snap["label_match"]), help=text.MATCH_HELP)
        else:
            q3.metric("real digits", dc.percent(snap["ceiling"]["accepted"]), help="The ceiling: held-out real digits.")
        ui.chart(page, lambda: dc.quality(snap["metrics"], snap["ceiling"], snap["conditional"],
                                  120 if page.presenting else 170), "chart_quality", detail=True)
    if snap["step"] == 0 and not page.presenting:
        st.caption(text.NOT_TRAINED)
    g1, g2, g3 = st.columns(3)
    with g1:
        ui.chart(page, lambda: dc.losses(snap["history"], snap["codes"] > 0), "chart_loss", detail=True)
    with g2:
        ui.chart(page, lambda: dc.d_outputs(snap["history"]), "chart_dprob", detail=True)
    with g3:
        ui.chart(page, lambda: dc.class_counts(snap["counts"]), "chart_counts", detail=True)


runner = ui.live_panel(page, config, make_trainer=DcganTrainer, render=render, pretrained=load_pretrained,
                       to_widgets=form.to_widgets)

# ---------------------------------------------------------------- the latent space (on Pause)
lform = ui.Form(page, LatentConfig)
with st.expander("🧭 Latent space: walks and arithmetic", expanded=not page.presenting):
    w1, w2, w3, w4 = st.columns(4)
    with w1:
        lform.controls("start", "end")
    with w2:
        lform.controls("class_a", "class_b")
    with w3:
        lform.control("attribute")
    with w4:
        lform.controls("digit_from", "digit_to")
    lcfg = lform.config()
    if runner is None:
        st.info("No model to explore: fix the settings above.")
    elif ui.is_running(page):
        st.info(text.PAUSED_ONLY, icon="⏸")
    else:
        trainer_conditional = runner.trainer.config.conditional
        st.markdown(text.WALK)
        ui.image_grid(runner.call(lambda t: latent.walk_z(t, lcfg.start, lcfg.end)), 10, lo=-1.0, hi=1.0,
                      width=600, caption=f"cell {lcfg.start} → cell {lcfg.end}")
        if trainer_conditional:
            st.markdown(text.WALK_LABEL)
            ui.image_grid(runner.call(lambda t: latent.walk_label(t, lcfg.start, lcfg.class_a, lcfg.class_b)), 10,
                          lo=-1.0, hi=1.0, width=600, caption=f"digit {lcfg.class_a} → digit {lcfg.class_b}")
        st.markdown(text.ARITH)
        ar = runner.call(lambda t: latent.arithmetic(t, lcfg.attribute, lcfg.digit_from, lcfg.digit_to))
        cols = st.columns(5)
        for col, sign, (caption, imgs) in zip(cols, ("", "−", "+"), ar.groups):
            with col:
                st.markdown(f"**{' '.join(filter(None, (sign, caption)))}**")
                if len(imgs):
                    ui.image_grid(imgs, 3, lo=-1.0, hi=1.0, width=160)
        with cols[4]:
            st.markdown("**= answer and neighbours**")
            if ar.found:
                ui.image_grid(ar.result, 3, lo=-1.0, hi=1.0, width=160, caption=f"the classifier reads {ar.result_label}")
        if not ar.found:
            st.warning("Not enough confidently drawn digits of these kinds yet: train longer or pick other digits.")

# ---------------------------------------------------------------- explanation
with st.expander("What is going on", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
