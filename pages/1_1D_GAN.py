"""Lesson 1 — a GAN learns the points of a 1D function (seed 000, activity 4; seed 003)."""
import numpy as np
import streamlit as st

from core import charts, ui
from core.gan1d import G_LOSSES, TARGETS, Gan1DConfig, Gan1DTrainer

CUSTOM = "custom formula…"
PRESET_BY_FORMULA = {v: k for k, v in TARGETS.items()}

# ---------------------------------------------------------------- config
page = ui.page_setup(
    "gan1d", "1D GAN: learning y = f(x)", "🎯",
    "A **generator** turns random noise into points *(x, y)*; a **discriminator** scores how real "
    "each point looks. Trained against each other (Goodfellow's Algorithm 1), the generated points "
    "settle on the curve. The background shows what the discriminator currently believes.",
)
d = Gan1DConfig()

with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Target**")
        preset = ui.select(page, "target_preset", "Function f(x)", [*TARGETS, CUSTOM], "x²")
        if preset == CUSTOM:
            formula = ui.text(page, "formula", "Formula in x", "x**2 - 0.5*x",
                              help="Numbers, x, + − * / ** and sin, cos, exp, log, sqrt, abs, tanh… "
                                   "Nothing you type is run as code.")
        else:
            formula = TARGETS[preset]
        x_min, x_max = ui.slider(page, "x_range", "x range", -3.0, 3.0, (d.x_min, d.x_max), step=0.1)
    with c2:
        st.markdown("**Training**")
        g_loss = ui.radio(page, "g_loss", "Generator loss", list(G_LOSSES), d.g_loss,
                          help="minimax: minimise log(1 − D(G(z))), Algorithm 1 as published. "
                               "non-saturating: minimise −log D(G(z)). least-squares: LSGAN.")
        k = ui.slider(page, "k", "k (D steps per G step)", 1, 10, d.k)
    with c3:
        st.markdown("**Learning rates** (live)")
        lr_d = ui.learning_rate(page, "lr_d", "Discriminator", d.lr_d)
        lr_g = ui.learning_rate(page, "lr_g", "Generator", d.lr_g)
        batch = ui.select_slider(page, "batch_size", "Batch size", [8, 16, 32, 64, 128, 256, 512], d.batch_size)
    with c4:
        st.markdown("**Networks** (restart the run)")
        g_width = ui.slider(page, "g_width", "G width", 2, 64, d.g_width)
        d_width = ui.slider(page, "d_width", "D width", 2, 64, d.d_width)
        seed = ui.number(page, "seed", "Seed", d.seed, min_value=0, max_value=10_000, step=1)

    # Always rendered (so a shared link keeps every setting), folded away by default.
    with st.expander("More settings: depth, activation, latent size, optimiser", expanded=False):
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            latent = ui.slider(page, "latent_size", "Latent size", 1, 16, d.latent_size)
            g_depth = ui.slider(page, "g_depth", "G hidden layers", 0, 4, d.g_depth)
        with a2:
            d_depth = ui.slider(page, "d_depth", "D hidden layers", 0, 4, d.d_depth)
            g_act = ui.select(page, "g_activation", "G activation", ["relu", "leaky_relu", "tanh", "elu"], d.g_activation)
        with a3:
            optimizer = ui.select(page, "optimizer", "Optimiser", ["adam", "sgd"], d.optimizer)
        with a4:
            beta1 = ui.slider(page, "beta1", "Adam β₁", 0.0, 0.95, d.beta1, step=0.05)
            momentum = ui.slider(page, "momentum", "SGD momentum", 0.0, 0.95, d.momentum, step=0.05)

config = Gan1DConfig(
    target=formula, x_min=float(x_min), x_max=float(x_max), latent_size=int(latent), g_width=int(g_width),
    g_depth=int(g_depth), g_activation=g_act, d_width=int(d_width), d_depth=int(d_depth), seed=int(seed),
    g_loss=g_loss, optimizer=optimizer, lr_d=float(lr_d), lr_g=float(lr_g), beta1=float(beta1),
    momentum=float(momentum), k=int(k), batch_size=int(batch),
)


def to_widgets(cfg: Gan1DConfig) -> dict:
    """Widget values that reproduce ``cfg`` (for the pretrained start)."""
    preset = PRESET_BY_FORMULA.get(cfg.target, CUSTOM)
    values = {page.key(f): getattr(cfg, f) for f in (
        "latent_size", "g_width", "g_depth", "g_activation", "d_width", "d_depth", "seed", "g_loss",
        "optimizer", "lr_d", "lr_g", "beta1", "momentum", "k", "batch_size")}
    values[page.key("target_preset")] = preset
    values[page.key("x_range")] = (cfg.x_min, cfg.x_max)
    if preset == CUSTOM:
        values[page.key("formula")] = cfg.target
    return values


def load_pretrained(device):
    return Gan1DTrainer.from_checkpoint(ui.checkpoint("gan1d_x2", "gan1d"), device)


# ---------------------------------------------------------------- live charts
ALGO = [
    ("d", "<b>for</b> k steps <b>do</b>"),
    ("d", "&nbsp;&nbsp;sample m noise vectors z and m real points x"),
    ("d", "&nbsp;&nbsp;update D by <b>ascending</b> ∇ (1/m) Σ [log D(x) + log(1 − D(G(z)))]"),
    ("d", "<b>end for</b>"),
    ("g", "sample m noise vectors z"),
    ("g", "update G by <b>descending</b> ∇ (1/m) Σ log(1 − D(G(z))) <i>(minimax)</i> "
          "or ∇ −(1/m) Σ log D(G(z)) <i>(non-saturating)</i>"),
]


def algorithm_box(last_phase: str) -> str:
    lines = []
    for part, text in ALGO:
        hot = last_phase == "iteration" or last_phase == part
        style = "background:#ffe8a3;border-radius:4px;padding:1px 4px;" if hot else "padding:1px 4px;"
        lines.append(f"<div style='{style}'>{'▶ ' if hot else '&nbsp;&nbsp;&nbsp;'}{text}</div>")
    return ("<div style='font-size:0.95rem;line-height:1.6'><b>Algorithm 1</b> (one training iteration; "
            "marked: what the last step ran)" + "".join(lines) + "</div>")


def render(snap: dict, runner) -> None:
    h, m = snap["history"], snap["metrics"]
    left, right = st.columns([3, 2])
    with left:
        ls = snap["g_loss_kind"] == "least-squares"
        st.vega_lite_chart(charts.field_chart(
            gx=snap["grid_x"], gy=snap["grid_y"], z=snap["d_grid"],
            z_title="D(x, y)" + (" (score)" if ls else ""), z_domain=(0.0, 1.0),
            points={"real (x, f(x))": snap["real"], "generated G(z)": snap["fake"]}, curve=snap["curve"],
            title="Generated vs real points over the discriminator's belief D(x, y)",
            height=470 if page.presenting else 420), width="stretch", key=page.key("chart_field"))
    with right:
        st.markdown(algorithm_box(snap["last_phase"]), unsafe_allow_html=True)
        q1, q2 = st.columns(2)
        q1.metric("mean |y − f(x)|", f"{snap['mean_abs_err']:.4f}",
                  help="Average vertical distance of 1,000 generated points from the curve.")
        q2.metric("distance to real", f"{snap['sliced_w1']:.4f}",
                  help="Sliced Wasserstein-1 distance between 1,000 generated and 1,000 real points: "
                       "0 when the generated points are spread along the curve like the real ones.")
        q3, q4 = st.columns(2)
        q3.metric("mean D(real)", f"{h['d_real'][-1]:.3f}" if len(h["step"]) else "–")
        q4.metric("mean D(fake)", f"{h['d_fake'][-1]:.3f}" if len(h["step"]) else "–",
                  help="At the equilibrium D cannot tell them apart: both → ½.")
    c1, c2, c3 = st.columns(3)
    with c1:
        st.vega_lite_chart(charts.line_chart(h["step"], {"D loss": h["d_loss"], "G loss": h["g_loss"]},
                                             title="Losses", y_title="loss", height=200),
                           width="stretch", key=page.key("chart_loss"))
    with c2:
        st.vega_lite_chart(charts.line_chart(h["step"], {"D(real)": h["d_real"], "D(fake)": h["d_fake"]},
                                             title="Mean D output (→ ½ at equilibrium)", y_title="D",
                                             rules=[(0.5, "equilibrium ½")], height=200),
                           width="stretch", key=page.key("chart_dprob"))
    with c3:
        st.vega_lite_chart(charts.line_chart(
            m["step"], {"mean |y − f(x)|": m["mean_abs_err"], "distance to real": m["sliced_w1"]},
            title="Quality (lower is better)", y_title="", log_y=True, height=200),
            width="stretch", key=page.key("chart_quality"))
    if not page.presenting:
        st.vega_lite_chart(charts.line_chart(h["step"], {"|∂L_G/∂a| per sample": h["g_grad"]},
                                             title="Gradient reaching G through D's logit a (log scale)",
                                             y_title="", log_y=True, height=170),
                           width="stretch", key=page.key("chart_grad"))


runner = ui.live_panel(
    page, config, make_trainer=Gan1DTrainer, render=render, pretrained=load_pretrained,
    to_widgets=to_widgets, step_unit="iteration",
    step_buttons={"Step": None, "D step": lambda t: t.step_d(), "G step": lambda t: t.step_g()},
)

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — the maths behind the picture", expanded=not page.presenting):
    st.markdown(r"""
**The game.** The discriminator $D$ maximises $V(D,G)=\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$;
the generator minimises it. Real points are $(x, f(x))$ with $x$ uniform on the range; generated points
are $G(z)$ with $z\sim\mathcal N(0, I)$. At the equilibrium the generated points are distributed like the
real ones and $D=\tfrac12$ everywhere — watch the two lines of the middle chart meet at ½ and the
background fade towards white.

**The two generator losses.** Algorithm 1 as published lets $G$ descend $\log(1-D(G(z)))$ (*minimax*).
Write $D=\sigma(a)$ with $a$ the discriminator's logit: then
$\partial_a \log(1-\sigma(a)) = -\sigma(a) = -D(G(z))$, which is ≈ 0 exactly when $D$ confidently rejects
the generated points — early in training, when $G$ most needs a signal. The *non-saturating* loss
$-\log D(G(z))$ has $\partial_a = \sigma(a)-1$, strong when $D$ wins. Switch the loss while training and
watch the bottom chart: the gradient reaching $G$ collapses under minimax when $D$ gets ahead
(raise the discriminator's learning rate or $k$ to make it happen).

**Step modes.** *D step* runs one pass of the inner loop, *G step* one generator update, *Step* one whole
iteration ($k$ D steps, then one G step); the algorithm box marks what ran.

**Why not Keras?** The lecture's Keras code marks the discriminator untrainable inside the combined
model. Keras 2 fixed that flag when a model was compiled; Keras 3 reads it at every step, so the
published script freezes the discriminator for good and the generator drifts away. Here D's weights
simply receive no update during the G step, which is what Algorithm 1 says.
""")
