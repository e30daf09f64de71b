"""Lesson adversarial — fooling a classifier with a nudge no one can see (seed 001: FGSM), then
adversarial training."""
import streamlit as st

from core import ui
from core.lessons.adversarial import AdversarialConfig, AdversarialTrainer, experiments, text
from core.lessons.adversarial import charts as ac

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("adversarial", intro=text.INTRO)
form = ui.Form(page, AdversarialConfig)
with ui.settings_box(page):
    st.markdown("**The attack on one held-out digit** (live, on the current model)")
    a1, a2, a3, a4 = st.columns(4)
    with a1:
        form.controls("digit", "attacked")
    with a2:
        form.controls("eps", "method", "steps")     # ε and the method: above the live view
    with a3:
        form.control("alpha")
    with a4:
        form.controls("targeted", "target")
    st.markdown("**Training**")
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.caption("Model (restarts the run)")
        form.controls("model", "size", "seed")
    with c2:
        st.caption("Optimiser (live)")
        form.controls("lr", "batch_size")
    with c3:
        st.caption("Adversarial training (live)")
        form.controls("adv_share", "train_eps")
    with c4:
        st.caption("Measuring (live)")
        form.control("eval_every")
config = form.config()


def load_pretrained(device):       # the guide's pretrained start too; keeps the attack on screen
    return experiments.pretrained(config, device, read=ui.checkpoint)


# ---------------------------------------------------------------- the live panel
def render(snap: dict, runner) -> None:
    a = snap["attack"]
    with ui.view(page, "attack"):
        cols = st.columns([1, 1, 1, 1, 2.4])
        with cols[0]:
            ui.image(a["x"], caption=text.X)
        with cols[1]:
            ui.image(ac.sign_grey(a["sign"]), caption=text.SIGN)
        with cols[2]:
            ui.image(ac.perturbation_rgb(a["delta"], a["eps"]), caption=text.DELTA)
        with cols[3]:
            ui.image(a["x_adv"], caption=text.X_ADV)
        with cols[4]:
            ui.chart(page, ac.probabilities(a["p_before"], a["p_after"], 120 if page.presenting else 150), "chart_probs")
    st.latex(text.equation(a, config.alpha, config.steps))
    st.markdown(text.verdict(a))
    m = snap["metrics"]
    q = st.columns(4)
    q[0].metric("clean model, clean digits", ac.percent(m["clean_acc"][-1]), help=text.CLEAN_HELP)
    q[1].metric("clean model, ε = 0.2", ac.percent(m["clean_acc_eps"][-1]), help=text.CLEAN_HELP)
    q[2].metric("robust model, clean digits", ac.percent(m["robust_acc"][-1]), help=text.ROBUST_HELP)
    q[3].metric("robust model, ε = 0.2", ac.percent(m["robust_acc_eps"][-1]), help=text.ROBUST_HELP)
    if snap["step"] == 0 and not page.presenting:
        st.caption(text.PAUSED)
    g = st.columns(3)
    with g[0]:
        ui.chart(page, lambda: ac.accuracy_curve(snap["eps_grid"], snap["curves"], a["eps"]), "chart_curve", detail=True)
    with g[1]:
        ui.chart(page, lambda: ac.over_time(m), "chart_time", detail=True)
    with g[2]:
        if a["method"] == "fgsm":
            ui.chart(page, lambda: ac.losses(snap["history"]), "chart_loss", detail=True)
        else:
            ui.chart(page, lambda: ac.path(a["path_linf"], a["path_p"], a["eps"]), "chart_path", detail=True)


ui.live_panel(page, config, make_trainer=AdversarialTrainer, render=render, pretrained=load_pretrained,
              to_widgets=form.to_widgets)

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — the maths behind the picture", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
