"""Lesson autoencoders — an autoencoder, a VAE and a denoising autoencoder squeeze digits into a
latent space you can walk through (seed 004: Chollet 8.4; seed 001)."""
import streamlit as st

from core import ui
from core.lessons.autoencoders import MODELS, AutoencodersConfig, AutoencodersTrainer, ExploreConfig
from core.lessons.autoencoders import charts as ac
from core.lessons.autoencoders import experiments, explore, text

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("autoencoders", intro=text.INTRO)
form = ui.Form(page, AutoencodersConfig)
with ui.settings_box(page):
    form.controls("beta", "noise")      # the key settings: above the live view
    c2, c3 = st.columns(2)
    with c2:
        st.markdown("**Training** (live)")
        form.controls("lr", "batch_size")
    with c3:
        st.markdown("**Sizes** (restart the run)")
        form.controls("latent_size", "width", "seed")
config = form.config()


def load_pretrained(device):       # the guide's pretrained start too
    return experiments.pretrained(config, device, read=ui.checkpoint)


# ---------------------------------------------------------------- the live panel
def latent_map(snap: dict, m: int, title: str) -> None:
    spec = ac.latent_map(snap["codes"][m], snap["labels"], snap["boxes"][m], snap["manifolds"][m], title=title,
                         height=170 if page.presenting else 195, legend=m == 1)
    ui.chart(page, spec, f"chart_map_{m}")


def render(snap: dict, runner) -> None:
    maps = st.columns(3)
    with maps[0]:
        latent_map(snap, 0, "Autoencoder")
    with maps[1]:
        latent_map(snap, 1, "VAE")
    with maps[2]:
        latent_map(snap, 2, "Denoising autoencoder")
    if snap["step"] == 0 and not page.presenting:
        st.caption(text.NOT_TRAINED)
    left, mid, right = st.columns([2, 3, 2])
    with left:
        ui.image_grid(snap["recon"], 10, lo=0.0, hi=1.0, caption=text.RECON, detail=(page, "recon"))
    with mid:
        last = snap["last"]
        q1, q2, q3 = st.columns(3)
        q1.metric("VAE grid", ac.percent(last["accepted_vae"]), help=text.ACCEPTED_HELP)
        q2.metric("VAE 5-NN", ac.percent(last["knn_vae"]), help=text.KNN_HELP)
        q3.metric("VAE digits", f"{last['classes_vae']:.0f} / 10", help=text.CLASSES_HELP)
        st.latex(ui.detail_view(page, "reparam", lambda: text.reparam_latex(snap["reparam"])))
        st.caption(ui.detail_view(page, "reparam_caption", lambda: text.reparam_caption(snap["reparam"], snap["beta"])))
    with right:
        ui.chart(page, lambda: ac.quality(snap["metrics"], "accepted"), "chart_accepted", detail=True)
    g1, g2, g3 = st.columns(3)
    with g1:
        ui.chart(page, lambda: ac.reconstruction(snap["history"]), "chart_recon", detail=True)
    with g2:
        ui.chart(page, lambda: ac.vae_split(snap["history"]), "chart_split", detail=True)
    with g3:
        ui.chart(page, lambda: ac.quality(snap["metrics"], "knn"), "chart_knn", detail=True)


runner = ui.live_panel(page, config, make_trainer=AutoencodersTrainer, render=render, pretrained=load_pretrained,
                       to_widgets=form.to_widgets)

# ---------------------------------------------------------------- the latent space (on Pause)
eform = ui.Form(page, ExploreConfig)
with st.expander("🧭 Walk through the latent space", expanded=not page.presenting):
    w1, w2, w3 = st.columns([1, 2, 1])
    with w1:
        eform.control("model")
    with w2:
        eform.controls("z1", "z2")
    with w3:
        eform.controls("digit_a", "digit_b")
    ecfg = eform.config()
    if runner is None:
        st.info("No model to explore: fix the settings above.")
    elif ui.is_running(page):
        st.info(text.PAUSED_ONLY, icon="⏸")
    else:
        view = runner.call(lambda t: explore.view(t, ecfg.model))
        picked = runner.call(lambda t: explore.pick(t, ecfg.model, ecfg.z1, ecfg.z2))
        walk = runner.call(lambda t: explore.walk(t, ecfg.digit_a, ecfg.digit_b))
        e1, e2 = st.columns([3, 2])
        with e1:
            st.markdown(text.PICK)
            ui.chart(page, ac.latent_map(view["codes"], view["labels"], view["box"], view["manifold"],
                                         marks=walk.paths[explore.NAMES.index(ecfg.model)], picked=picked["point"],
                                         title=MODELS[ecfg.model], height=320), "chart_explore")
        with e2:
            ui.image(picked["image"], lo=0.0, hi=1.0, width=200, caption=explore.pick_caption(picked))
        st.markdown(text.WALK)
        ui.image_grid(walk.images, explore.STEPS, lo=0.0, hi=1.0)
        st.caption(explore.walk_caption(walk))

# ---------------------------------------------------------------- explanation
with st.expander("What is going on", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
