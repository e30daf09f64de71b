"""Lesson seq2seq — sequence to sequence, and why attention (seed 001)."""
import streamlit as st

from core import ui
from core.lessons.seq2seq import Seq2SeqConfig, Seq2SeqTrainer
from core.lessons.seq2seq import charts as sc
from core.lessons.seq2seq import experiments, explain, text

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("seq2seq", intro=text.INTRO)
form = ui.Form(page, Seq2SeqConfig)
with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Task** (restarts the run)")
        form.controls("task", "max_len", "attention")
    with c2:
        st.markdown("**Networks** (restart the run)")
        form.controls("hidden", "embed", "seed")
    with c3:
        st.markdown("**Training** (live)")
        form.controls("lr", "batch_size", "teacher_forcing")
    with c4:
        st.markdown("**Held-out accuracy** (live)")
        form.controls("decoding", "beam_width")
    st.markdown("**Attention view** (live: pick a held-out input or type one)")
    a1, a2, a3 = st.columns(3)
    with a1:
        form.control("example")
    with a2:
        form.control("probe", max_chars=40, placeholder="e.g. 3rd of may 1999")
    with a3:
        form.control("explain_step")

config = form.config()


def load_pretrained(device):
    """The shipped run of the task chosen: the same function the guided steps start from."""
    return experiments.pretrained(config, device, read=ui.checkpoint)


def pct(v: float) -> str:
    return "–" if v != v else f"{100 * v:.1f} %"


# ---------------------------------------------------------------- the live panel
def render(snap: dict, runner) -> None:
    m, p, acc = snap["metrics"], snap["probe"], snap["acc"]
    left, right = st.columns([2, 3])
    with left:
        ui.chart(page, sc.accuracy(m, 150 if page.presenting else 225, longest=not page.presenting), "chart_acc")
    with right:
        ui.chart(page, sc.heatmap(p["text"], p["out_chars"], p["alpha"], 190 if page.presenting else 225),
                 "chart_attn")
    q = st.columns(4)
    q[0].metric("Exact match, no attention", pct(acc["plain"][0]), help=text.ACC_HELP)
    q[1].metric("Exact match, with attention", pct(acc["attn"][0]), help=text.ACC_HELP)
    q[2].metric("Longest inputs, no attention", pct(acc["plain"][1]), help=text.LONG_HELP)
    q[3].metric("Longest inputs, with attention", pct(acc["attn"][1]), help=text.LONG_HELP)
    if p["message"]:
        st.warning(p["message"], icon="⌨️")
    ref = f" · correct: `{p['reference']}`" if p["reference"] else ""
    st.markdown(f"**Input** `{p['text']}` → no attention: `{p['plain'] or ' '}` · "
                f"with attention: `{p['attn'] or ' '}`{ref}")
    b1, b2 = st.columns(2)
    with b1:
        ui.chart(page, lambda: sc.by_length(snap["buckets"], snap["by_length"]), "chart_len", detail=True)
    with b2:
        ui.chart(page, lambda: sc.losses(snap["history"]), "chart_loss", detail=True)
    step = p["step"]
    st.markdown(f"**The context vector at output step t = {step.t}** (input `{p['text']}`, "
                f"{'additive' if step.attention == 'additive' else 'dot-product'} attention, "
                "the three largest weights written out)")
    for line in ui.detail_view(page, "context", lambda: explain.latex(step)):
        st.latex(line)


ui.live_panel(page, config, make_trainer=Seq2SeqTrainer, render=render, pretrained=load_pretrained,
              to_widgets=form.to_widgets)

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — the bottleneck, attention, decoding", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
