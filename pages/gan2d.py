"""Lesson gan2d — mode collapse: watch a GAN lose modes, and the remedies that bring them back
(seed 000: mode collapse, GAN hacks; seed 001: minibatch GANs, labels, WGAN; seed 003)."""
import streamlit as st

from core import ui
from core.lessons.gan2d import (METHODS, SHORT_LABELS, Gan2DConfig, Gan2DTrainer, load_table, seed_table, show_index,
                                table_rows)
from core.lessons.gan2d import experiments as guide
from core.lessons.gan2d import charts as gc
from core.lessons.gan2d import text

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("gan2d", "Mode collapse: a GAN that forgets modes", intro=text.INTRO)
form = ui.Form(page, Gan2DConfig, derived=lambda cfg: {"shown_seed": cfg.seed + cfg.show_seed})

with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns([1.4, 1, 1, 1])
    with c1:
        st.markdown("**Panels and data**")
        form.controls("methods", "dataset", "std", "show_real")
    with c2:
        st.markdown("**Training** (live)")
        form.controls("lr_d", "lr_g", "batch_size", "k")
    with c3:
        st.markdown("**Remedies' settings**")
        form.controls("unroll_steps", "critic_steps", "gp_lambda", "pack")
    with c4:
        st.markdown("**Seeds**")
        seed, n_seeds = form.controls("seed", "n_seeds")
        # derived: its choices are the run's seeds; the config keeps the index (show_seed)
        shown = seed if n_seeds < 2 else ui.bound(
            st.select_slider, page.key("shown_seed"), form.decls["show_seed"].label, "value", seed,
            options=list(range(seed, seed + n_seeds)))
    # Always rendered (so a shared link keeps every setting), folded away by default.
    with st.expander("More settings: network sizes, latent size, Adam β₁, how often to measure"):
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            form.controls("latent_size", "beta1")
        with a2:
            form.controls("g_width", "g_depth")
        with a3:
            form.controls("d_width", "d_depth")
        with a4:
            form.control("eval_every")

config = form.config(show_seed=show_index(shown, seed, n_seeds))


def pretrained(device):
    """The recorded runs (ring of 8, seed 0) of the chosen panels: the guided steps' own start."""
    return guide.pretrained(config, device, read=ui.checkpoint)


# ---------------------------------------------------------------- the live panels
def render(snap: dict, runner) -> None:
    methods, panels = snap["methods"], snap["panels"]
    height = gc.panel_height(len(methods), page.presenting)
    for col, m in zip(st.columns(len(methods)), methods):
        with col:
            st.markdown(text.panel_title(snap, m))
            ui.chart(page, gc.panel_samples(snap, m, height), f"chart_samples_{m}")
    st.markdown(gc.legend_html(), unsafe_allow_html=True)
    if text.shown_seed_caption(snap):
        st.caption(text.shown_seed_caption(snap))
    q1, q2, q3 = st.columns(3)
    with q1:
        ui.chart(page, lambda: gc.coverage_lines(panels, snap["n_modes"], SHORT_LABELS), "chart_covered", detail=True)
    with q2:
        ui.chart(page, lambda: gc.quality_lines(panels, SHORT_LABELS), "chart_quality", detail=True)
    with q3:
        ui.chart(page, lambda: gc.kl_lines(panels, SHORT_LABELS), "chart_kl", detail=True)
    st.caption(text.METRICS_NOTE)
    if runner.running:         # the detail views cost the browser more than they tell live
        st.caption(text.RUNNING_NOTE)
        return
    for col, m in zip(st.columns(len(methods)), methods):
        with col:
            st.markdown(f"**{SHORT_LABELS[m]}**")
            ui.chart(page, gc.coverage_chart(panels[m]["counts"]), f"chart_cov_{m}")
            ui.chart(page, gc.trail_chart(panels[m]["trail_steps"], panels[m]["trail"]), f"chart_trail_{m}")
    seeds_section(snap)
    replay_section(snap)


def seeds_section(snap: dict) -> None:
    if len(snap["seeds"]) < 2 or not all(len(v["covered"]) for v in snap["per_seed"].values()):
        return
    st.markdown(text.seeds_heading(snap))
    covered = {m: v["covered"] for m, v in snap["per_seed"].items()}
    ui.chart(page, gc.seeds_chart(covered, snap["seeds"], SHORT_LABELS, snap["n_modes"]), "chart_seeds")
    st.dataframe(seed_table(snap["per_seed"], snap["seeds"], snap["n_modes"], METHODS), hide_index=True)


def replay_section(snap: dict) -> None:
    n = min(len(p["frame_steps"]) for p in snap["panels"].values())
    if n < 2:
        return
    with st.expander(text.REPLAY_TITLE, expanded=False):
        i = st.slider("Snapshot", 1, n, n, key=page.key("replay"))
        for col, m in zip(st.columns(len(snap["methods"])), snap["methods"]):
            spec, caption = gc.replay_frame(snap, m, i, n)
            with col:
                ui.chart(page, spec, f"chart_replay_{m}")
                st.caption(f"{SHORT_LABELS[m]}, {caption}")


ui.live_panel(page, config, make_trainer=Gan2DTrainer, render=render, pretrained=pretrained,
              to_widgets=form.to_widgets, step_unit="step")

# ---------------------------------------------------------------- measured table and explanation
st.markdown(text.TABLE_TITLE)
table = load_table()
if table:
    st.dataframe(table_rows(table, METHODS), hide_index=True)
    st.caption(text.table_caption(table))
else:
    st.info(text.TABLE_MISSING)

with st.expander(text.EXPLAIN_TITLE, expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
