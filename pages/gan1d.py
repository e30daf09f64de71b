"""Lesson gan1d — a GAN learns the points of a 1D function (seed 000, activity 4; seed 003)."""
import streamlit as st

from core import ui
from core.lessons.gan1d import CUSTOM, TARGETS, Gan1DConfig, Gan1DTrainer, preset_of
from core.lessons.gan1d import charts as gc
from core.lessons.gan1d import experiments, text

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("gan1d", "1D GAN: learning y = f(x)", intro=text.INTRO)
d = Gan1DConfig()


def derived_widgets(cfg: Gan1DConfig) -> dict:
    """The hand-made widgets' values for a loaded config: preset, formula and the x range."""
    out = {"target_preset": preset_of(cfg.target), "x_range": (cfg.x_min, cfg.x_max)}
    if out["target_preset"] == CUSTOM:
        out["formula"] = cfg.target
    return out


form = ui.Form(page, Gan1DConfig, derived=derived_widgets)
with ui.settings_box(page):
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Target**")
        preset = ui.bound(st.selectbox, page.key("target_preset"), "Function f(x)", "index", 0,
                          options=[*TARGETS, CUSTOM])
        formula = (ui.bound(st.text_input, page.key("formula"), "Formula in x", "value", "x**2 - 0.5*x",
                            help=text.FORMULA_HELP) if preset == CUSTOM else TARGETS[preset])
        x_min, x_max = ui.bound(st.slider, page.key("x_range"), "x range", "value", (d.x_min, d.x_max),
                                min_value=-3.0, max_value=3.0, step=0.1)
    with c2:
        st.markdown("**Training** (live)")
        form.controls("g_loss", "k", "lr_d", "lr_g")     # the key settings: above the live view
        form.control("batch_size")
    with c3:
        st.markdown("**Networks** (restart the run)")
        form.controls("g_width", "d_width", "seed")
    # Always rendered (so a shared link keeps every setting), folded away by default.
    with st.expander("More settings: depth, activation, latent size, optimiser", expanded=False):
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            form.controls("latent_size", "g_depth")
        with a2:
            form.controls("d_depth", "g_activation")
        with a3:
            form.control("optimizer")
        with a4:
            form.controls("beta1", "momentum")

config = form.config(target=formula, x_min=x_min, x_max=x_max)


def load_pretrained(device):      # the same function the guided steps start from
    return experiments.pretrained(config, device, read=ui.checkpoint)


# ---------------------------------------------------------------- the live panel
def render(snap: dict, runner) -> None:
    h, m = snap["history"], snap["metrics"]
    left, right = st.columns([3, 2])
    with left:
        ui.chart(page, gc.field(snap, 350), "chart_field")
    with right:
        st.markdown(gc.algorithm_box(snap["last_phase"]), unsafe_allow_html=True)
        q1, q2 = st.columns(2)
        q1.metric("mean |y − f(x)|", f"{snap['mean_abs_err']:.4f}", help=text.MAE_HELP)
        q2.metric("distance to real", f"{snap['sliced_w1']:.4f}", help=text.SW_HELP)
        q3, q4 = st.columns(2)
        q3.metric("mean D(real)", f"{h['d_real'][-1]:.3f}" if len(h["step"]) else "–")
        q4.metric("mean D(fake)", f"{h['d_fake'][-1]:.3f}" if len(h["step"]) else "–",
                  help="At the equilibrium D cannot tell them apart: both → ½.")
    c1, c2, c3 = st.columns(3)
    with c1:
        ui.chart(page, lambda: gc.losses(h), "chart_loss", detail=True)
    with c2:
        ui.chart(page, lambda: gc.d_outputs(h), "chart_dprob", detail=True)
    with c3:
        ui.chart(page, lambda: gc.quality(m), "chart_quality", detail=True)
    if not page.presenting:
        ui.chart(page, lambda: gc.g_gradient(h), "chart_grad", detail=True)


ui.live_panel(
    page, config, make_trainer=Gan1DTrainer, render=render, pretrained=load_pretrained,
    to_widgets=form.to_widgets, step_unit="iteration",
    step_buttons={"Step": None, "D step": lambda t: t.step_d(), "G step": lambda t: t.step_g()},
)

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — the maths behind the picture", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
