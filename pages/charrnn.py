"""Lesson charrnn — an LSTM writes text one character at a time: temperature, sampling, and what its
cells learned (seed 004: Chollet's text generation; seed 001: RNN language models; seed 000)."""
import streamlit as st

from core import ui
from core.lessons import charrnn as cr
from core.lessons.charrnn import charts, experiments, text

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("charrnn", intro=text.INTRO)
ss = st.session_state


def own_text() -> str:
    """The paste box and the file picker: the text to train on (checked when the model is built)."""
    pasted = st.text_area("Paste a text", key=page.key("paste"), height=90, max_chars=cr.data.MAX_CHARS,
                          help=text.PASTE_HELP)
    f = st.file_uploader("…or upload a .txt file", key=page.key("upload"), help=text.UPLOAD_HELP)
    if f is None:
        return cr.clean_paste(pasted)
    cache = ss.get(page.key("upload_cache"))
    if cache is None or cache[0] != f.file_id:
        try:
            cache = (f.file_id, cr.read_upload(f.name, f.getvalue()))
        except cr.TextError as e:
            cache = (f.file_id, e)
        ss[page.key("upload_cache")] = cache
    if isinstance(cache[1], cr.TextError):
        st.error(str(cache[1]), icon="📄")
        return cr.clean_paste(pasted)
    st.caption(f"{len(cache[1]):,} characters from “{f.name}”.")
    return cache[1]


form = ui.Form(page, cr.CharRnnConfig)
settings_area, live_area, inspect_area = st.container(), st.container(), st.container()
with settings_area, ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Text** (restarts the run)")
        corpus = form.control("corpus")
        custom = own_text() if corpus == "custom" else ""
    with c2:
        st.markdown("**Network** (restarts the run)")
        form.controls("cell", "layers", "hidden")
    with c3:
        st.markdown("**Training** (live)")
        form.controls("optimizer", "lr", "batch_size", "seq_len")
    with c4:
        st.markdown("**Writing** (live)")
        form.controls("prompt", "temperatures", "sampling", "sample_len")
    with st.expander("More settings: top-k, top-p, dropout, clipping, seeds, n-gram smoothing", expanded=False):
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            form.controls("top_k", "top_p")
        with a2:
            form.controls("dropout", "clip")
        with a3:
            form.controls("seed", "sample_seed")
        with a4:
            form.control("add_k")
with inspect_area:          # drawn below the live panel, declared here so the config has them
    st.markdown("**Inspect** (live): the sample, the position and the unit the views below the chart show")
    i1, i2, i3 = st.columns(3)
    with i1:
        form.control("inspect_t")
    with i2:
        form.control("position")
    with i3:
        form.control("unit")
config = form.config(custom_text=custom)


def load_pretrained(device):
    """The shipped run of the chosen text: the same function the guided steps start from."""
    return experiments.pretrained(config, device, read=ui.checkpoint)


# ---------------------------------------------------------------- the live panel
def render(snap: dict, runner) -> None:
    left, right = st.columns([2, 3])
    with left:
        ui.chart(page, charts.bits(snap["history"], snap["metrics"], snap["ngram"], 170 if page.presenting else 225),
                 "chart_bits")
    with right:
        st.markdown(charts.samples_html(snap["samples"], 9 if page.presenting else 12), unsafe_allow_html=True)
        if snap["dropped"]:
            st.caption(f"Left out of the prompt (the text never uses them): {snap['dropped']!r}")
    readouts = text.metrics(snap)
    for col, (label, value, about) in zip(st.columns(len(readouts)), readouts):
        col.metric(label, value, help=about)
    note = text.streams_note(snap, runner.trainer.config)
    if note:
        st.caption(note)
    ui.chart(page, lambda: charts.heatmap(snap, 190), "chart_heat", detail=True)
    t1, t2 = st.columns([2, 3])
    with t1:
        ui.chart(page, lambda: charts.temperature(snap, 220), "chart_temp", detail=True)
    with t2:
        st.markdown(ui.detail_view(page, "temp_line", lambda: text.temperature_line(snap)))
        st.markdown(f"**The sample at T = {snap['inspect_t']:g}, coloured by unit {snap['unit']}** "
                    "(orange −1 · white 0 · blue +1):")
        st.markdown(ui.detail_view(page, "coloured", lambda: charts.coloured(snap["inspected"], snap["acts"])),
                    unsafe_allow_html=True)
    d = snap["detail"]
    if d is not None and not page.presenting:
        st.markdown("**Interpretable cells** (searched on Pause and every 250 steps)")
        p1, p2 = st.columns([2, 3])
        p1.markdown(text.probe_table(d))
        with p2:
            st.markdown(f"Held-out text coloured by unit {snap['unit']}:")
            st.markdown(charts.coloured(d["excerpt"], d["excerpt_unit"], "0.9rem"), unsafe_allow_html=True)
            if text.novelty_line(d):
                st.markdown(text.novelty_line(d))


with live_area:
    ui.live_panel(page, config, make_trainer=cr.CharRnnTrainer, render=render, pretrained=load_pretrained,
                  to_widgets=form.to_widgets, snapshot_kwargs={"running": ui.is_running(page)})

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — bits per character, temperature, cells", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
