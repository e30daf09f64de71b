"""The page's words: the intro, the framing panel, captions and the explanation (no Streamlit)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

INTRO = ("The series is cut into **(window → next value)** pairs and a network learns to predict the next "
         "value from the previous *L*. Compare the **MLP** baseline with **RNN / LSTM / GRU** cells; the orange-red "
         "region is test data the model never trains on. **One step = one epoch.**")

STATEFUL_CAPTION = ("Stateful run: batches of one pair in time order (the batch-size slider is ignored); the "
                    "state carries from each pair to the next and is reset at every epoch.")


def rmse_help(part: str, unit: str) -> str:
    return (f"Root-mean-square error of the one-step predictions on the {part} part, in {unit}, after the last "
            "whole epoch. It moves from epoch to epoch and from seed to seed: the default airline run ends with "
            "train 10.5–11.8 and test 27–35 on seeds 0–4, so compare runs by differences larger than that.")


NO_HISTORY = "The loss and RMSE curves start with the first epoch: press **▶ Train** or **Step**."


def number(v: float) -> str:
    """A metric as shown: one decimal, or a dash where there is none yet (never "nan")."""
    return f"{v:,.1f}" if v is not None and math.isfinite(v) else "–"


def metrics(snap: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """The four numbers under the chart: (label, value, help). Read from the history, which after
    a blow-up runs up to the blow-up while the rest of the snapshot is the last good one."""
    h = snap["history"]
    last = {k: float(h[k][-1]) if len(h[k]) else math.nan for k in ("train_rmse", "test_rmse")}
    epoch = max(int(snap["step"]), int(round(h["step"][-1])) if len(h["step"]) else 0)
    return [("Train RMSE", number(last["train_rmse"]), rmse_help("training", snap["unit"])),
            ("Test RMSE", number(last["test_rmse"]), rmse_help("test", snap["unit"])),
            ("Epoch", f"{epoch} / {snap['epochs']}", None),
            ("Training time", f"{snap['train_seconds']:.1f} s", None)]


def _vector(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a), precision=3, suppress_small=True)


def framing_markdown(example: dict[str, Any], look_back: int, model: str, framing: str) -> str:
    """The three input shapes, each with the first sample, the current one marked ← *this run*."""
    now = "MLP" if model == "mlp" else framing
    mark = {k: (" ← *this run*" if now == k else "") for k in ("features", "timesteps", "MLP")}
    L, y0 = int(look_back), float(example["y"][0])
    return "\n\n".join([
        f"**Window as features** · X: `{example['shape_features']}` — one time step holding {L} numbers"
        + mark["features"],
        f"```\nX[0] = {_vector(example['features'][0])}   y[0] = {y0:.3f}\n```",
        f"**Window as time steps** · X: `{example['shape_timesteps']}` — {L} time steps of one number"
        + mark["timesteps"],
        f"```\nX[0] = {_vector(example['timesteps'][0].ravel())}ᵀ  (shape [{L}, 1])   y[0] = {y0:.3f}\n```",
        f"**MLP** · X: `{example['shape_mlp']}` — the window flattened" + mark["MLP"],
    ])


def framing_caption(example: dict[str, Any], unit: str, scaled: bool) -> str:
    return (f"{example['shape_timesteps'][0]} training pairs and {example['n_test']} test pairs (a pair is a "
            f"test pair when its target y lies in the test part). Shown in {unit}; the model receives them "
            + ("scaled to [0, 1] with the training part's min and max." if scaled else "unscaled."))


EXPLANATION = r"""
**Forecasting as regression.** With a look-back of $L$ values, every pair is
$X_t=(s_{t-L},\dots,s_{t-1})\rightarrow y_t=s_t$. A network $f$ is trained to minimise the mean squared
error $\frac1N\sum_t (f(X_t)-y_t)^2$ on the training pairs. The error shown is the RMSE
$\sqrt{\frac1N\sum_t(\hat y_t-y_t)^2}$ in the series' own units (for the airline data, thousands of passengers).

**Test data stays out.** The first part of the series trains the model; the orange-red region is the test part.
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
survive many steps (the lesson *Inside an LSTM* takes the cell apart).

**Stateful: memory between batches.** Normally the state starts at zero for every window. A *stateful*
model feeds the pairs in time order and starts each one from the state the previous one left behind
(reset at each epoch): the memory then spans the whole series, not just one window.

**Recursive forecast.** Beyond the data there are no true inputs: each prediction becomes the newest value
of the next window, so after $L$ steps the model reads only its own outputs. Its errors feed back on
themselves: on the airline data the orange dashed line's seasonal swing shrinks year by year until it is
almost flat (step 3 of the in-app guide measures it).

**When a run blows up.** With Adam at a learning rate of 10 (on some seeds 3 already) the first updates
throw the predictions far off the data's scale and the units saturate, leaving one flat line. The run stops
itself there with a message and stays off the leaderboard; lower the learning rate and press ↺ Reset.
"""
