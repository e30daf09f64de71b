"""Lesson 2 — forecasting a time series with an LSTM, against an MLP on a sliding window
(seed 000, activities 1 and 2; seed 003's airline-passengers example)."""
import numpy as np
import pandas as pd
import streamlit as st

from core import charts, ui
from core import forecast as fc
from core import forecast_charts as fcc

# ---------------------------------------------------------------- config
page = ui.page_setup(
    "fc", "Forecasting a time series: LSTM vs an MLP window", "📈",
    "The series is cut into **(window → next value)** pairs and a network learns to predict the next "
    "value from the previous *L*. Compare the **MLP** baseline with **RNN / LSTM / GRU** cells; the red "
    "region is test data the model never trains on. **One step = one epoch.**",
)
ss = st.session_state
d = fc.ForecastConfig()
EPOCHS = [10, 25, 50, 100, 150, 200, 300, 500, 1000, 2000]
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128]
DROPOUTS = [0.0, 0.1, 0.2, 0.3, 0.5]
FIXES = {"drop": "drop those rows", "interpolate": "interpolate them"}


def upload_panel() -> tuple[tuple, tuple, str]:
    """The CSV upload with its checks. Returns (values, decimal years or (), column name)."""
    f = st.file_uploader("CSV file (one value per row; at most 1 MB)", key=page.key("upload"),
                         help="Nothing in the file is run: it is read as numbers only.")
    if f is None:
        st.caption("Upload a CSV to forecast your own series (e.g. the original airline-passengers.csv).")
        return (), (), ""
    cache = ss.get(page.key("upload_cache"))
    if cache is None or cache[0] != f.file_id:
        try:
            cache = (f.file_id, fc.read_upload(f.name, f.getvalue()))
        except fc.UploadError as e:
            cache = (f.file_id, e)
        ss[page.key("upload_cache")] = cache
    up = cache[1]
    if isinstance(up, fc.UploadError):
        st.error(str(up), icon="📄")
        return (), (), ""
    col = st.selectbox("Value column", up.numeric, key=page.key("value_col"))
    others = [c for c in up.table.columns if c != col]
    date_col = st.selectbox("Date column (optional)", ["(none)", *others], key=page.key("date_col"))
    fix = None
    n_bad = fc.bad_cells(up, col)
    if n_bad:
        st.warning(f"“{col}” has {n_bad} empty, non-numeric, NaN or infinite cell{'s' if n_bad > 1 else ''}.")
        fix = st.radio("What to do with them", list(FIXES), format_func=FIXES.get, index=None,
                       key=page.key("fix"), horizontal=True)
    try:
        v, years, note = fc.series_from_upload(up, col, None if date_col == "(none)" else date_col, fix)
    except fc.UploadError as e:
        (st.info if n_bad and fix is None else st.error)(str(e))
        return (), (), ""
    st.caption(f"{len(v):,} values from “{up.name}”" + (f" ({note})" if note else "") + ".")
    return tuple(float(x) for x in v), tuple(float(x) for x in years) if years is not None else (), col


with ui.settings_box(page):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.markdown("**Data**")
        source = ui.select(page, "source", "Series", list(fc.SOURCES), d.source, format_func=fc.SOURCES.get)
        custom = ((), (), "")
        if source == "upload":
            custom = upload_panel()
        noise = ui.slider(page, "noise", "Noise (generated series)", 0.0, 0.5, d.noise, step=0.05,
                          disabled=source not in fc.SYNTHETIC, help="Gaussian noise, σ as a fraction of the signal's σ.")
        length = ui.slider(page, "length", "Length (generated series)", 50, 2000, d.length, step=10,
                           disabled=source not in fc.SYNTHETIC)
    with c2:
        st.markdown("**Framing**")
        look_back = ui.slider(page, "look_back", "Look-back window L", 1, 24, d.look_back,
                              help="How many past values form the input X of each pair.")
        framing = ui.radio(page, "framing", "Recurrent input [samples, time steps, features]", list(fc.FRAMINGS),
                           d.framing, format_func=fc.FRAMINGS.get)
        scale = ui.toggle(page, "scale", "Scale to [0, 1]", d.scale,
                          help="Min-max scaling fitted on the training part only.")
        train_frac = ui.slider(page, "train_frac", "Training part", 0.5, 0.9, d.train_frac, step=0.01,
                               format="%.2f")
        horizon = ui.slider(page, "horizon", "Forecast horizon (steps beyond the data)", 0, fc.MAX_HORIZON, 24,
                            help="The forecast feeds each prediction back in as the newest input.")
    with c3:
        st.markdown("**Model** (restarts the run)")
        model = ui.select(page, "model", "Model", list(fc.MODELS), d.model, format_func=fc.MODELS.get)
        hidden = ui.slider(page, "hidden", "Hidden units", 1, 64, d.hidden)
        layers = ui.slider(page, "layers", "Stacked layers", 1, 3, d.layers)
        dropout = ui.select_slider(page, "dropout", "Dropout", DROPOUTS, d.dropout)
        stateful = ui.toggle(page, "stateful", "Stateful LSTM", d.stateful,
                             disabled=model == "mlp",
                             help="Memory between batches: the state after each pair starts the next one (batches of 1 in time "
                                  "order); it is reset at every epoch. Recurrent models only.")
    with c4:
        st.markdown("**Training** (live)")
        optimizer = ui.select(page, "optimizer", "Optimiser", list(fc.OPTIMIZERS), d.optimizer)
        lr = ui.learning_rate(page, "lr", "Learning rate", d.lr)
        batch = ui.select_slider(page, "batch_size", "Batch size", BATCHES, d.batch_size,
                                 disabled=bool(stateful and model != "mlp"))
        epochs = ui.select_slider(page, "epochs", "Epochs (the run stops there)", EPOCHS, d.epochs)
        seed = ui.number(page, "seed", "Seed", d.seed, min_value=0, max_value=10_000, step=1)

config = fc.ForecastConfig(
    source=source, noise=float(noise), length=int(length), custom_values=custom[0], custom_x=custom[1],
    custom_name=custom[2], look_back=int(look_back), framing=framing, scale=bool(scale),
    train_frac=float(train_frac), model=model, hidden=int(hidden), layers=int(layers), dropout=float(dropout),
    stateful=bool(stateful and model != "mlp"), seed=int(seed), optimizer=optimizer, lr=float(lr),
    batch_size=int(batch), epochs=int(epochs),
)
WIDGET_FIELDS = ("source", "noise", "length", "look_back", "framing", "scale", "train_frac", "model", "hidden",
                 "layers", "dropout", "stateful", "seed", "optimizer", "lr", "batch_size", "epochs")


def to_widgets(cfg: fc.ForecastConfig) -> dict:
    """Widget values that reproduce ``cfg`` (for the pretrained start)."""
    return {page.key(f): getattr(cfg, f) for f in WIDGET_FIELDS}


def load_pretrained(device):
    return fc.ForecastTrainer.from_checkpoint(ui.checkpoint("forecast_airline_lstm", "forecast"), device)


# ---------------------------------------------------------------- leaderboard bookkeeping
def board() -> list:
    return ss.setdefault(page.key("leaderboard"), [])


def record(trainer, note: str = "") -> bool:
    """Add the trainer's run to the leaderboard once (per run and epoch count)."""
    tag = (trainer.run_id, trainer.step_count)
    seen = ss.setdefault(page.key("recorded"), set())
    if tag in seen or trainer.step_count == 0:
        return False
    seen.add(tag)
    row = fc.leaderboard_row(trainer, f"#{len(board()) + 1}{note}")
    board().append(row)
    return True


def on_add() -> None:
    runner = ss.get(page.key("runner"))
    if runner is not None:
        if not runner.call(lambda t: record(t)):
            ss[page.key("notice")] = ("info", "This run is already on the leaderboard at this epoch "
                                      "(or has not trained yet).")


def on_clear() -> None:
    ss[page.key("leaderboard")] = []
    ss[page.key("recorded")] = set()


# ---------------------------------------------------------------- live charts
def fmt(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{v:,.1f}"


def render(snap: dict, runner) -> None:
    if snap["finished"] and snap["step"] > 0:
        added = runner.call(lambda t: record(t))
        if ss.get(page.key("running")):
            ss[page.key("running")] = False
            ss[page.key("notice")] = ("success", f"Finished {snap['epochs']} epochs"
                                      + (": the run is on the leaderboard below." if added else ".")
                                      + " Raise *Epochs* to train on.")
            st.rerun()
    h = snap["history"]
    unit = snap["unit"]
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(f"Train RMSE ({unit})", fmt(snap["train_rmse"]))
    m2.metric(f"Test RMSE ({unit})", fmt(snap["test_rmse"]),
              help="Root-mean-square error of the one-step predictions on the test part, in the series' units.")
    m3.metric("Epoch", f"{snap['step']} / {snap['epochs']}")
    m4.metric("Training time", f"{snap['train_seconds']:.1f} s")
    st.vega_lite_chart(fcc.series_chart(
        x=snap["x"], values=snap["values"], pred_x=snap["pred_x"], pred=snap["pred"], is_train=snap["is_train"],
        split_x=snap["split_x"], forecast_x=snap["forecast_x"], forecast=snap["forecast"],
        x_title=snap["x_title"], unit=unit, height=400 if page.presenting else 380),
        width="stretch", key=page.key("chart_series"))
    c1, c2 = st.columns(2)
    with c1:
        st.vega_lite_chart(charts.line_chart(h["step"], {"training loss": h["loss"]}, title="Loss (MSE, model units)",
                                             x_title="epoch", log_y=True, height=280),
                           width="stretch", key=page.key("chart_loss"))
    with c2:
        st.vega_lite_chart(charts.line_chart(h["step"], {"train RMSE": h["train_rmse"], "test RMSE": h["test_rmse"]},
                                             title=f"RMSE ({unit})", x_title="epoch", height=280,
                                             colors={"train RMSE": "#1f77b4", "test RMSE": "#d62728"}),
                           width="stretch", key=page.key("chart_rmse"))


runner = ui.live_panel(
    page, config, make_trainer=fc.ForecastTrainer, render=render, pretrained=load_pretrained,
    to_widgets=to_widgets, step_unit="epoch", snapshot_kwargs={"horizon": int(horizon)},
)
if runner is not None and config.stateful:
    st.caption("Stateful run: batches of one pair in time order (the batch-size slider is ignored); the "
               "state carries from each pair to the next and is reset at every epoch.")

# ---------------------------------------------------------------- framing picture
if runner is not None:
    with st.expander("How the series is cut into (X → y) pairs — the framing", expanded=not page.presenting):
        tr = runner.trainer
        ex = runner.call(lambda t: t.framing_example(2))
        L = tr.config.look_back
        left, right = st.columns([3, 2])
        with left:
            st.vega_lite_chart(fcc.framing_chart(tr.series.values, L, rows=5,
                                                 title=f"The first 5 pairs for look-back L = {L}"),
                               width="stretch", key=page.key("chart_framing"))
            st.caption(f"{ex['shape_timesteps'][0]} training pairs and {ex['n_test']} test pairs "
                       f"(a pair is a test pair when its target y lies in the test part). Shown in "
                       f"{tr.series.unit}; the model receives them " +
                       ("scaled to [0, 1] with the training part's min and max." if tr.config.scale else "unscaled."))
        with right:
            now = "MLP" if tr.config.model == "mlp" else tr.config.framing
            st.markdown(
                f"**Window as features** · X: `{ex['shape_features']}` — one time step holding {L} numbers"
                + (" ← *this run*" if now == "features" else ""))
            st.code(f"X[0] = {np.array2string(ex['features'][0], precision=3, suppress_small=True)}   y[0] = {ex['y'][0]:.3f}",
                    language=None, wrap_lines=True)
            st.markdown(
                f"**Window as time steps** · X: `{ex['shape_timesteps']}` — {L} time steps of one number"
                + (" ← *this run*" if now == "timesteps" else ""))
            flat = np.array2string(ex["timesteps"][0].ravel(), precision=3, suppress_small=True)
            st.code(f"X[0] = {flat}ᵀ  (shape [{L}, 1])   y[0] = {ex['y'][0]:.3f}", language=None, wrap_lines=True)
            st.markdown(f"**MLP** · X: `{ex['shape_mlp']}` — the window flattened"
                        + (" ← *this run*" if now == "MLP" else ""))

# ---------------------------------------------------------------- leaderboard
st.subheader("Leaderboard (this session)")
rows = board()
b1, b2, b3, _ = st.columns([1.4, 1, 1.4, 3])
b1.button("📌 Add this run", key=page.key("add_run"), on_click=on_add, width="stretch",
          help="Finished runs are added automatically; this adds the run as it is now.")
b2.button("🗑 Clear", key=page.key("clear_board"), on_click=on_clear, width="stretch", disabled=not rows)
b3.download_button("⬇ Download CSV", data=fc.leaderboard_csv(rows), file_name="forecast_leaderboard.csv",
                   mime="text/csv", key=page.key("download"), width="stretch", disabled=not rows)
if rows:
    df = pd.DataFrame(rows, columns=list(fc.LEADERBOARD_COLUMNS))
    st.dataframe(df, hide_index=True, width="stretch")
    if len(rows) > 1:
        st.vega_lite_chart(charts.bar_chart([f"{r['run']} {r['model']}" for r in rows],
                                            [r["test_rmse"] for r in rows], title="Test RMSE per run (lower is better)",
                                            y_title=rows[-1]["unit"], height=260, color="#d62728"),
                           width="stretch", key=page.key("chart_board"))
else:
    st.caption("Each finished run lands here with its model, settings, train/test RMSE and training time: "
               "try the MLP, then RNN, LSTM and GRU on the same data.")

# ---------------------------------------------------------------- explanation
with st.expander("What is going on — framing, scaling, memory", expanded=not page.presenting):
    st.markdown(r"""
**Forecasting as regression.** With a look-back of $L$ values, every pair is
$X_t=(s_{t-L},\dots,s_{t-1})\rightarrow y_t=s_t$. A network $f$ is trained to minimise the mean squared
error $\frac1N\sum_t (f(X_t)-y_t)^2$ on the training pairs. The error shown is the RMSE
$\sqrt{\frac1N\sum_t(\hat y_t-y_t)^2}$ in the series' own units (for the airline data, thousands of passengers).

**Test data stays out.** The first part of the series trains the model; the red region is the test part.
The [0, 1] scaling $z=(v-\min)/(\max-\min)$ uses the *training* part's min and max only, so the test part
can go above 1 — that is the honest setting, and it is why extrapolating a growing series is hard.
Turn scaling off to see why the lecture insists on it: sigmoid and tanh gates saturate on inputs in the
hundreds and the LSTM barely learns (the MLP copes better).

**Two framings of the same window.** A recurrent layer reads $[\text{samples}, \text{time steps}, \text{features}]$.
*Window as features* gives one time step holding $L$ numbers: the cell runs once, like a gated MLP layer.
*Window as time steps* feeds the $L$ values one at a time, so the cell's memory has to carry them.

**The LSTM cell** (gates $i, f, o$ and candidate $g$, with $\sigma$ the logistic function):
$c_t = f_t\odot c_{t-1} + i_t\odot g_t,\quad h_t = o_t\odot\tanh(c_t)$, where each gate is
$\sigma(W x_t + U h_{t-1} + b)$ and $g_t=\tanh(\dots)$. The additive update of $c$ is what lets gradients
survive many steps.

**Stateful: memory between batches.** Normally the state starts at zero for every window. A *stateful*
model feeds the pairs in time order and starts each one from the state the previous one left behind
(reset at each epoch): the memory then spans the whole series, not just one window.

**Recursive forecast.** Beyond the data there are no true inputs: each prediction becomes the newest value
of the next window. Errors feed back on themselves, which is why the orange line drifts as the horizon grows.
""")
