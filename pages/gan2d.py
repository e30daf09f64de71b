"""Lesson 4 — mode collapse: watch a GAN lose modes, and the remedies that bring them back
(seed 000: mode collapse, GAN hacks; seed 001: minibatch GANs, labels, WGAN; seed 003)."""
import json
import pathlib

import numpy as np
import pandas as pd
import streamlit as st

from core import gan2d_charts as gc
from core import ui
from core.checkpoints import CheckpointError
from core.gan2d import (DATASETS, MAX_PANELS, METHODS, SHORT_LABELS, Gan2DConfig, Gan2DTrainer,
                        merge_checkpoints, pretrained_stem)

TABLE_PATH = pathlib.Path(__file__).resolve().parent.parent / "core" / "data" / "gan2d_table.json"
STDS = [0.01, 0.02, 0.03, 0.05, 0.1, 0.2]
SEED_COUNTS = [1, 2, 4, 8, 16]

# ---------------------------------------------------------------- config
page = ui.page_setup(
    "gan2d", "Mode collapse: a GAN that forgets modes", "🌀",
    "The real data has several **modes** (clusters). A GAN can fool its discriminator with just a few of "
    "them — **mode collapse** — and often hops from mode to mode instead of settling. The panels train "
    "different methods side by side on the same data, noise and seed: the vanilla GAN and its remedies.",
)
d = Gan2DConfig()

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Data**")
        dataset = ui.select(page, "dataset", "Real data", list(DATASETS), d.dataset, format_func=DATASETS.get)
        std = ui.select_slider(page, "std", "Mode standard deviation σ", STDS, d.std,
                               help="Spread of each mode. A generated point within 3σ of its nearest mode "
                                    "counts as high quality.")
        show_real = st.toggle("Show real samples", value=True, key=page.key("show_real"))
    with c2:
        st.markdown("**Methods side by side**")
        methods = ui.multiselect(page, "methods", f"Panels (1–{MAX_PANELS})", list(METHODS), list(d.methods),
                                 format_func=METHODS.get, max_selections=MAX_PANELS)
        n_seeds = ui.select_slider(page, "n_seeds", "Seeds trained at once", SEED_COUNTS, d.n_seeds,
                                   help="Run N seeds of every panel in one batched computation, to see how "
                                        "often each method collapses.")
        seed = ui.number(page, "seed", "First seed", d.seed, min_value=0, max_value=10_000, step=1)
    with c3:
        st.markdown("**Training** (live)")
        lr_d = ui.learning_rate(page, "lr_d", "D learning rate", d.lr_d)
        lr_g = ui.learning_rate(page, "lr_g", "G learning rate", d.lr_g)
        batch = ui.select_slider(page, "batch_size", "Batch size", [16, 32, 64, 128, 256, 512], d.batch_size)
        k = ui.slider(page, "k", "k (D steps per G step)", 1, 10, d.k)
    with c4:
        st.markdown("**Remedies' settings**")
        critic_steps = ui.slider(page, "critic_steps", "WGAN-GP critic steps", 1, 10, d.critic_steps)
        gp_lambda = ui.select_slider(page, "gp_lambda", "WGAN-GP penalty λ", [0.0, 0.1, 0.3, 1.0, 3.0, 10.0],
                                     d.gp_lambda)
        unroll = ui.slider(page, "unroll_steps", "Unrolled GAN: unroll steps", 0, 10, d.unroll_steps)
        pack = ui.slider(page, "pack", "PacGAN: packing m", 1, 8, d.pack,
                         help="D judges m samples at once (restarts the run).")

    with st.expander("More settings: network sizes, latent size, Adam β₁", expanded=False):
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            latent = ui.slider(page, "latent_size", "Latent size", 1, 32, d.latent_size)
            beta1 = ui.slider(page, "beta1", "Adam β₁", 0.0, 0.95, d.beta1, step=0.05)
        with a2:
            g_width = ui.slider(page, "g_width", "G width", 4, 128, d.g_width)
            g_depth = ui.slider(page, "g_depth", "G hidden layers", 0, 4, d.g_depth)
        with a3:
            d_width = ui.slider(page, "d_width", "D width", 4, 128, d.d_width)
            d_depth = ui.slider(page, "d_depth", "D hidden layers", 1, 4, d.d_depth)
        with a4:
            eval_every = ui.select_slider(page, "eval_every", "Measure every … steps", [25, 50, 100, 200, 500],
                                          d.eval_every)

config = Gan2DConfig(
    dataset=dataset, std=float(std), methods=tuple(methods or ()), seed=int(seed), n_seeds=int(n_seeds),
    latent_size=int(latent), g_width=int(g_width), g_depth=int(g_depth), d_width=int(d_width),
    d_depth=int(d_depth), pack=int(pack), lr_d=float(lr_d), lr_g=float(lr_g), beta1=float(beta1),
    batch_size=int(batch), k=int(k), critic_steps=int(critic_steps), gp_lambda=float(gp_lambda),
    unroll_steps=int(unroll), eval_every=int(eval_every),
)


def to_widgets(cfg: Gan2DConfig) -> dict:
    """Widget values that reproduce ``cfg`` (for the pretrained start)."""
    values = {page.key(f): getattr(cfg, f) for f in (
        "dataset", "std", "seed", "n_seeds", "latent_size", "g_width", "g_depth", "d_width", "d_depth", "pack",
        "lr_d", "lr_g", "beta1", "batch_size", "k", "critic_steps", "gp_lambda", "unroll_steps", "eval_every")}
    values[page.key("methods")] = list(cfg.methods)
    return values


def load_pretrained(device):
    """The recorded runs (ring of 8, seed 0) of the chosen methods, merged into one trainer."""
    wanted = tuple(st.session_state.get(page.key("methods")) or d.methods)
    states = []
    for m in wanted:
        try:
            states.append(ui.checkpoint(pretrained_stem(m), "gan2d"))
        except CheckpointError:
            continue
    if not states:
        raise CheckpointError("no recorded run for the chosen methods")
    return Gan2DTrainer.from_checkpoint(merge_checkpoints(states, wanted), device)


# ---------------------------------------------------------------- live charts
def fmt_kl(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{v:.2f}"


def panel(snap: dict, m: str, height: int) -> None:
    p = snap["panels"][m]
    K = snap["n_modes"]
    st.markdown(f"**{METHODS[m]}**")
    trail = list(p["frames"][-4:-1]) if len(p["frames"]) > 1 else []
    st.vega_lite_chart(gc.samples_chart(
        gx=snap["grid_x"], gy=snap["grid_y"], field=p["d_grid"], critic=p["critic"], fake=p["fake"],
        real=snap["real"] if show_real else None, ref=None if snap["curve"] else snap["ref"], trail=trail,
        height=height), width="stretch", key=page.key(f"chart_samples_{m}"))
    st.markdown(f"modes covered **{p['covered']} / {K}** · high quality **{100 * p['hq']:.0f} %** · "
                f"KL **{fmt_kl(p['kl'])}**")
    st.vega_lite_chart(gc.coverage_chart(p["counts"], height=110), width="stretch",
                       key=page.key(f"chart_cov_{m}"))
    if len(p["trail_steps"]):
        st.vega_lite_chart(gc.trail_chart(p["trail_steps"], p["trail"], height=130), width="stretch",
                           key=page.key(f"chart_trail_{m}"))
    if not page.presenting:
        st.vega_lite_chart(gc.metrics_chart(p["metrics"], K, height=130), width="stretch",
                           key=page.key(f"chart_metrics_{m}"))
        st.vega_lite_chart(gc.quality_chart(p["metrics"], height=130), width="stretch",
                           key=page.key(f"chart_quality_{m}"))


def seeds_section(snap: dict) -> None:
    seeds, per = snap["seeds"], snap["per_seed"]
    if len(seeds) < 2 or not all(len(v["covered"]) for v in per.values()):
        return
    st.markdown(f"#### {len(seeds)} seeds at once (measured at step {snap['step']:,}, 2,500 samples each)")
    st.vega_lite_chart(gc.seeds_chart({m: v["covered"] for m, v in per.items()}, seeds, SHORT_LABELS,
                                      snap["n_modes"]), width="stretch", key=page.key("chart_seeds"))
    rows = []
    for m, v in per.items():
        cov, hq, kl = v["covered"], v["hq"], v["kl"]
        rows.append({"method": METHODS[m], "modes covered (mean ± sd)": f"{cov.mean():.1f} ± {cov.std():.1f}",
                     f"seeds with ≥ {snap['n_modes'] - 1} modes": f"{int((cov >= snap['n_modes'] - 1).sum())} / {len(cov)}",
                     "high quality": f"{100 * hq.mean():.0f} %",
                     "KL": fmt_kl(float(np.nanmean(kl))) if np.isfinite(kl).any() else "–",
                     **{f"seed {s}": int(c) for s, c in zip(seeds, cov)}})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def replay_section(snap: dict) -> None:
    n = min(len(snap["panels"][m]["frame_steps"]) for m in snap["methods"])
    if n < 2:
        return
    with st.expander("⏮ Replay the recorded run (every recorded snapshot of the shown seed)", expanded=False):
        i = st.slider("Snapshot", 1, n, n, key=page.key("replay"))
        cols = st.columns(len(snap["methods"]))
        for col, m in zip(cols, snap["methods"]):
            p = snap["panels"][m]
            j = len(p["frame_steps"]) - n + i - 1
            counts = p["frame_counts"][j]
            with col:
                st.vega_lite_chart(gc.samples_chart(
                    gx=snap["grid_x"], gy=snap["grid_y"], field=None, critic=False, fake=p["frames"][j],
                    real=snap["real"] if show_real else None, ref=None if snap["curve"] else snap["ref"],
                    height=260), width="stretch", key=page.key(f"chart_replay_{m}"))
                st.caption(f"{SHORT_LABELS[m]}, step {int(p['frame_steps'][j]):,}: "
                           f"modes covered {int((counts > 0).sum())} / {snap['n_modes']}")


def render(snap: dict, runner) -> None:
    ms = snap["methods"]
    if snap["seeds"] and len(snap["seeds"]) > 1:
        st.caption(f"Panels show seed {snap['seeds'][snap['seed_index']]} of {len(snap['seeds'])}.")
    cols = st.columns(len(ms))
    height = {1: 420, 2: 380, 3: 320, 4: 280}[len(ms)]
    for col, m in zip(cols, ms):
        with col:
            panel(snap, m, height)
    seeds_section(snap)
    replay_section(snap)


shown = 0
if n_seeds > 1:
    shown = int(st.select_slider("Seed shown in the panels", list(range(int(seed), int(seed) + int(n_seeds))),
                                 value=int(seed), key=page.key("shown_seed"))) - int(seed)

runner = ui.live_panel(page, config, make_trainer=Gan2DTrainer, render=render, pretrained=load_pretrained,
                       to_widgets=to_widgets, step_unit="step", snapshot_kwargs={"seed_index": shown})

# ---------------------------------------------------------------- measured table
st.markdown("### Measured on this page's defaults: every method, 8 seeds")
try:
    table = json.loads(TABLE_PATH.read_text())
except (OSError, ValueError):
    table = None
if table:
    rows = [{"method": METHODS.get(r["method"], r["method"]),
             "modes covered (of 8)": f"{r['covered_mean']:.1f} ± {r['covered_sd']:.1f}",
             "seeds with ≥ 7 modes": f"{r['seeds_ge7']} / {r['n_seeds']}",
             "high quality": f"{100 * r['hq_mean']:.0f} %", "KL": f"{r['kl_mean']:.2f}",
             "per seed": " ".join(str(int(c)) for c in r["covered"])} for r in table["rows"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"Ring of 8, σ = {table['std']}, {table['steps']:,} steps, seeds {table['seeds'][0]}–{table['seeds'][-1]}, "
               f"2,500 samples per seed; produced by `{table['command']}`. "
               "Published on the ring (2,500 samples): VEEGAN's table — vanilla GAN 1 mode at 99 % high "
               "quality, unrolled GAN 7.6 modes; PacGAN's — vanilla GAN 6.3 ± 0.5 modes, PacGAN4 7.8 ± 0.1.")
else:
    st.info("The measured table is missing: run `python benchmarks/gan2d_modes_table.py`.")

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — mode collapse and its remedies", expanded=not page.presenting):
    st.markdown(r"""
**Mode collapse.** The generator $G$ only has to make the discriminator $D$ say "real". Putting all its
samples on one mode does that — until $D$ learns that this mode is now mostly fake. $G$ then moves to
another mode, $D$ follows, and so on: the **trail** chart (mode × step) shows the mass hopping instead
of converging. Coverage is measured as in the VEEGAN and PacGAN papers: of 2,500 samples, a sample is
*high quality* if it is within $3\sigma$ of its nearest mode, a mode is *covered* if some high-quality
sample is nearest to it, and KL compares the histogram of high-quality samples over the modes with the
uniform one ($\log 8 \approx 2.08$ when everything sits on one mode, 0 when even).

**Minimax vs non-saturating.** Minimax descends $\log(1-D(G(z)))$, whose gradient vanishes when $D$ wins;
the non-saturating loss $-\log D(G(z))$ keeps it.

**Remedies.**
* **WGAN-GP** replaces $D$ by a critic $f$ trained on $\mathbb E[f(G(z))]-\mathbb E[f(x)]+\lambda\,
  \mathbb E_{\hat x}[(\lVert\nabla f(\hat x)\rVert-1)^2]$, $\hat x=\epsilon x+(1-\epsilon)G(z)$: its gradient
  points from every fake sample towards the data, so no mode is left without a pull.
* **Minibatch std feature** (a "mini-batch GAN"): $D$ also sees how spread the whole batch is, so a
  collapsed batch is easy to call fake.
* **Unrolled GAN**: $G$'s loss is taken against $D$ after $K$ more (differentiable) Adam steps, so $G$
  anticipates $D$'s reaction instead of jumping to the mode $D$ forgot.
* **PacGAN**: $D$ judges $m$ samples at once; $m$ samples from a collapsed $G$ look alike, $m$ real ones don't.
* **Conditional GAN** ("supervision with labels"): $G$ and $D$ are given the mode label, so $G$ must
  produce every mode on demand.

**Many seeds.** Pick *Seeds trained at once* = 8: every panel trains 8 seeds in one batched
computation (each weight tensor has a seed axis; each layer is one batched matrix product), and
the table counts how often each method collapses.
""")
