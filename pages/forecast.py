"""Lesson forecast — forecasting a time series with an LSTM, against an MLP on a sliding window
(seed 000, activities 1 and 2; seed 003's airline-passengers example)."""
import streamlit as st

from core import ui
from core.lessons import forecast as fc
from core.lessons.forecast import charts, leaderboard, text, upload

# ---------------------------------------------------------------- setup and controls
page = ui.page_setup("forecast", "Forecasting: an LSTM vs an MLP window", intro=text.INTRO)
ss = st.session_state
board = ss.setdefault(page.key("leaderboard"), fc.Leaderboard())


def upload_panel() -> dict:
    """The CSV picker and its column choices; the config fields of a usable series, else {}."""
    f = st.file_uploader("CSV file (one value per row; at most 1 MB)", key=page.key("upload"),
                         help="Nothing in the file is run: it is read as numbers only.")
    if f is None:
        st.caption(upload.NO_FILE_HINT)
        return {}
    cache = ss.get(page.key("upload_cache"))
    if cache is None or cache[0] != f.file_id:
        cache = ss[page.key("upload_cache")] = (f.file_id, upload.parse(f.name, f.getvalue()))
    up = cache[1]
    if isinstance(up, upload.UploadError):
        st.error(str(up), icon="📄")
        return {}
    col = st.selectbox("Value column", up.numeric, key=page.key("value_col"))
    date_col = st.selectbox("Date column (optional)", upload.date_options(up, col), key=page.key("date_col"))
    fix, n_bad = None, upload.bad_cells(up, col)
    if n_bad:
        st.warning(upload.bad_cells_warning(col, n_bad))
        fix = st.radio("What to do with them", list(upload.FIXES), format_func=upload.FIXES.get, index=None,
                       key=page.key("fix"), horizontal=True)
    try:
        values, years, note = upload.series_from_upload(up, col, None if date_col == upload.NO_DATE else date_col, fix)
    except upload.UploadError as e:
        (st.info if n_bad and fix is None else st.error)(str(e))
        return {}
    st.caption(upload.summary(up, len(values), note))
    return upload.config_fields(values, years, col)


form = ui.Form(page, fc.ForecastConfig)
with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Data**")
        source = form.control("source")
        custom = upload_panel() if source == "upload" else {}
        form.control("horizon")
    with c2:
        st.markdown("**Framing**")
        form.controls("look_back", "framing", "scale")
    with c3:
        st.markdown("**Model** (restarts the run)")
        model = form.control("model")
        form.control("hidden")
        stateful = form.control("stateful", disabled=model == "mlp") and model != "mlp"
    with c4:
        st.markdown("**Training** (live)")
        form.controls("optimizer", "lr")
        form.control("batch_size", disabled=stateful)
        form.control("epochs")
    # Always rendered (so a shared link keeps every setting), folded away by default.
    with st.expander("More settings: generated series, split, depth, dropout, seed", expanded=False):
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            form.control("noise", disabled=source not in fc.SYNTHETIC)
            form.control("length", disabled=source not in fc.SYNTHETIC)
        with a2:
            form.control("train_frac")
        with a3:
            form.controls("layers", "dropout")
        with a4:
            form.control("seed")
config = form.config(stateful=stateful, **custom)


# ---------------------------------------------------------------- the live panel
def render(snap: dict, runner) -> None:
    if snap["finished"] and not runner.error:       # reached its epochs: on the board (the loop pauses)
        runner.call(board.add)
    ui.chart(page, charts.main(snap, 250 if page.presenting else 265), "chart_series")
    for col, (label, value, about) in zip(st.columns(4), text.metrics(snap)):
        col.metric(label, value, help=about)
    if snap["finished"] and not runner.error:
        st.success(board.finished_text(runner.trainer))
    h = snap["history"]
    if not len(h["step"]):
        st.caption(text.NO_HISTORY)
        return
    c1, c2 = st.columns(2)
    with c1:
        ui.chart(page, charts.loss(h), "chart_loss")
    with c2:
        ui.chart(page, charts.errors(h, snap["unit"]), "chart_rmse")


runner = ui.live_panel(
    page, config, make_trainer=fc.live_trainer, render=render,
    pretrained=lambda device: fc.live_from_checkpoint(ui.checkpoint(fc.CHECKPOINT), device),
    from_checkpoint=fc.live_from_checkpoint, to_widgets=form.to_widgets, step_unit="epoch", step_buttons={"Step": (lambda t: t.train_epochs(1), "Pause and train one whole epoch.")},
    snapshot_kwargs={"budget": fc.LIVE_SLICE_SECONDS if ui.is_running(page) else None})

# ---------------------------------------------------------------- framing picture
if runner is not None:
    tr = runner.trainer
    if tr.config.stateful:
        st.caption(text.STATEFUL_CAPTION)
    with st.expander("How the series is cut into (X → y) pairs — the framing", expanded=not page.presenting):
        ex, L = tr.framing_example(2), tr.config.look_back        # read-only data: no need to pause
        left, right = st.columns([3, 2])
        with left:
            ui.chart(page, charts.framing(tr.series.values, L), "chart_framing")
            st.caption(text.framing_caption(ex, tr.series.unit, tr.config.scale))
        right.markdown(text.framing_markdown(ex, L, tr.config.model, tr.config.framing))

# ---------------------------------------------------------------- leaderboard
st.subheader("Leaderboard (this session)")


def add_run(runner) -> None:
    why = runner.call(board.add) if runner is not None else "There is no run yet."
    if why:
        ss[page.key("notice")] = ("info", why)


b1, b2, b3, _ = st.columns([1.4, 1, 1.4, 3])
b1.button("📌 Add this run", key=page.key("add_run"), on_click=add_run, args=(runner,), width="stretch",
          help="Finished runs are added automatically; this adds the run as it is now.")
b2.button("🗑 Clear", key=page.key("clear_board"), on_click=board.clear, width="stretch", disabled=not board)
b3.download_button("⬇ Download CSV", data=board.csv(), file_name="forecast_leaderboard.csv", mime="text/csv",
                   key=page.key("download"), width="stretch", disabled=not board)
if board:
    st.dataframe(board.table(), hide_index=True, width="stretch")
    if len(board) > 1:
        ui.chart(page, charts.board(*board.bars()), "chart_board")
else:
    st.caption(leaderboard.EMPTY_HINT)

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — framing, scaling, memory", expanded=not page.presenting):
    st.markdown(text.EXPLANATION)
