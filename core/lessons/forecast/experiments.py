"""The forecasting lesson's guided experiments (``core.experiments``): what a student tries, in
order, and what each step claims, measured in epochs (this lesson's step unit: ``step(n)`` trains
n whole epochs, never past the run's *Epochs*) on what the page shows: the framing caption's pair
counts, the metrics under the main chart (the history's last train / test RMSE) and the recursive
forecast of the snapshot. ``tests/lessons/test_claims.py`` runs every claim.

Measured (seeds 0–4, default airline run, 150 epochs): train RMSE 10.5–11.8, test 27.5–35.3; MLP
test 18.0–25.4 (lower than the LSTM's on every seed); window as time steps test 46.8–64.3 (seeds
0–2); scaling off train RMSE 177–220; the lecture's Keras setting train 22.7–22.9; Adam at lr 10
stops at epoch 1. Each claim's margin is noted beside it.
"""
from __future__ import annotations

import numpy as np
import torch

from core.experiments import Claim, Experiment, Question, Run
from core.live import Diverged

SEEDS = (0, 1, 2, 3, 4)
FEW = (0, 1, 2)
FRAMING_ROWS = 2               # the page's framing panel shows the first two pairs


def _last(run: Run, key: str, trainer=None) -> float:
    """The metric under the chart: the history's last value (after the last whole epoch)."""
    h = (trainer or run.trainer).snapshot()["history"]
    return float(h[key][-1]) if len(h[key]) else float("nan")


def train_pairs(run: Run) -> float:
    return float(run.trainer.framing_example(FRAMING_ROWS)["shape_timesteps"][0])


def test_pairs(run: Run) -> float:
    return float(run.trainer.framing_example(FRAMING_ROWS)["n_test"])


def test_rmse(run: Run) -> float:
    return _last(run, "test_rmse")


def train_rmse(run: Run) -> float:
    return _last(run, "train_rmse")


def test_over_train(run: Run) -> float:
    return _last(run, "test_rmse") / _last(run, "train_rmse")


def _forecast_years(run: Run) -> np.ndarray:
    """The snapshot's recursive forecast (the config's horizon) as years of 12 months: [years, 12]."""
    fc = run.trainer.snapshot()["forecast"]
    return fc[: len(fc) // 12 * 12].reshape(-1, 12)


def last_year_swing(run: Run) -> float:
    """Max − min of the forecast's last whole year (the seasonal swing), in the series' units."""
    return float(np.ptp(_forecast_years(run)[-1]))


def first_year_swing(run: Run) -> float:
    return float(np.ptp(_forecast_years(run)[0]))


def _other(run: Run, **changes):
    """``run.other`` with gradients on (claims are measured under ``torch.no_grad``, and every
    model but the default LSTM trains through autograd)."""
    with torch.enable_grad():
        return run.other(**changes)


def minus_lstm_test(run: Run) -> float:
    """This run's test RMSE minus the default LSTM's (same seed, same epochs)."""
    return _last(run, "test_rmse") - _last(run, "test_rmse", _other(run, model="lstm", framing="features"))


def scaled_ratio(run: Run) -> float:
    """This (unscaled) run's train RMSE over the same run's with scaling on."""
    return _last(run, "train_rmse") / _last(run, "train_rmse", _other(run, scale=True))


def mlp_unscaled_train(run: Run) -> float:
    return _last(run, "train_rmse", _other(run, model="mlp"))


def blowup_epoch(run: Run) -> float:
    """The epoch at which a fresh run of this step's settings stops itself (inf if it never does
    within 10 epochs); epochs as the page's Step takes them."""
    trainer = type(run.trainer)(run.trainer.config, run.device)
    for _ in range(10):
        try:
            trainer.train_epochs(1)
        except Diverged:
            return float(trainer.step_count)
    return float("inf")


EXPERIMENTS = (
    Experiment(
        title="From a series to (window → next value) pairs",
        start="reset",
        watch="chart_framing",
        do="Open **How the series is cut into (X → y) pairs** under the charts and read the shapes.",
        predict=Question("144 months, a look-back of 12 and the first 67 % for training: how many training "
                         "pairs are there?", ("96", "84", "132"), answer=1),
        claims=(Claim("{value:.0f} training pairs: a pair trains only if its target lies in the first 96 months, "
                      "and the first 12 months have no full window before them", train_pairs, "≈", 84),
                Claim("{value:.0f} test pairs, whose targets are the last 48 months", test_pairs, "≈", 48)),
        why=r"""Forecasting becomes ordinary regression once the series is cut into pairs
$X_t=(s_{t-L},\dots,s_{t-1})\rightarrow y_t=s_t$. The split is made on the **targets**: a pair whose
$y$ falls in the test part is a test pair, even though its window starts in the training part. The
scaler's min and max come from the training part only, so nothing about the test months leaks into
training. The same window can be handed to a recurrent layer two ways: as one time step with $L$
features, `[N, 1, L]`, or as $L$ time steps of one feature, `[N, L, 1]`.""",
    ),
    Experiment(
        title="Train the LSTM: one whole run",
        start="reset", train=150,
        watch="chart_series",
        do="Press **▶ Train**: 150 epochs are the whole run (*Epochs* = 150), so it finishes and joins the "
           "leaderboard by itself.",
        predict=Question("Where will the one-step error be larger?",
                         ("On the training part", "On the test part", "About the same on both"), answer=1),
        claims=(Claim("Train RMSE ends below {value:.0f} thousand passengers (all 5 seeds)", train_rmse, "<", 13,
                      seeds=SEEDS),                                    # measured 10.5–11.8
                Claim("Test RMSE ends below {value:.0f} thousand passengers (all 5 seeds)", test_rmse, "<", 40,
                      seeds=SEEDS),                                    # measured 27.5–35.3
                Claim("The test error is more than {value:.0f}× the training error", test_over_train, ">", 2,
                      seeds=SEEDS)),                                   # measured 2.3–3.0
        why=r"""Each epoch is one pass over the 84 training pairs in shuffled mini-batches of 8, with
Adam minimising the mean squared error on the scaled values. The RMSE under the chart,
$\sqrt{\tfrac1N\sum_t(\hat y_t-y_t)^2}$, is in thousands of passengers. The test months lie beyond
anything the model was fitted on and beyond the training part's maximum (scaled above 1), so the
network extrapolates there, and its error is several times larger.""",
    ),
    Experiment(
        title="Forecast ten years ahead",
        settings={"horizon": 120},
        start="continue",
        watch="chart_series",
        do="The horizon is now 120 months: follow the orange dashed line beyond the data.",
        predict=Question("Feeding each prediction back in as the newest input for ten years, the forecast…",
                         ("keeps the seasonal pattern and the growth", "flattens: its seasonal swing dies away",
                          "swings more and more wildly"), answer=1),
        claims=(Claim("In the first forecast year the seasonal swing (max − min) is already below {value:.0f} "
                      "thousand; the last real year swung 232", first_year_swing, "<", 150, seeds=SEEDS),
                # measured 109–127
                Claim("In the tenth forecast year it is below {value:.0f} thousand: an almost flat line",
                      last_year_swing, "<", 10, seeds=SEEDS)),        # measured 0.3–2.2
        why=r"""Beyond the data there are no true inputs, so the forecast is **recursive**:
$\hat y_{n}=f(s_{n-L},\dots,s_{n-1})$, then $\hat y_{n+1}=f(s_{n-L+1},\dots,s_{n-1},\hat y_n)$, and so on.
After twelve steps the window holds only the model's own outputs. This network shrinks the swing it
is given a little at each step, and the shrinking compounds: the seasonal pattern fades and the line
settles on a constant. One-step accuracy says little about a long recursive forecast.""",
    ),
    Experiment(
        title="The MLP baseline on the same window",
        settings={"model": "mlp"},
        start="reset", train=150,
        watch="chart_rmse",
        do="Press **▶ Train** (the whole run again), then compare the two runs on the leaderboard.",
        predict=Question("With the window as features, does the LSTM beat a plain MLP here?",
                         ("Yes, clearly: it has memory", "No: the MLP does as well or better"), answer=1),
        claims=(Claim("MLP test RMSE below {value:.0f} thousand (all 5 seeds)", test_rmse, "<", 30,
                      seeds=SEEDS),                                    # measured 18.0–25.4
                Claim("The MLP tests better than the LSTM (MLP − LSTM test RMSE below {value:.0f}) on at least 4 "
                      "of 5 seeds",
                      minus_lstm_test, "<", 0, seeds=SEEDS, share=0.8)),   # measured −17.3 … −2.5
        why=r"""With the window as features the LSTM runs **one** time step from a zero state: the
forget gate multiplies $c_0=0$, so the cell reduces to
$h=\sigma(a_o)\odot\tanh(\sigma(a_i)\odot\tanh(a_g))$, each $a=Wx+b$ a linear function of the 12
inputs: a small gated one-layer network. There is nothing to carry across time steps, so its memory
buys nothing over an MLP reading the same 12 numbers. That is why the lecture starts from the MLP
on a window: it is the baseline a recurrent model has to beat.""",
    ),
    Experiment(
        title="Window as time steps",
        settings={"framing": "timesteps"},
        start="reset", train=150,
        watch="chart_rmse",
        do="Press **▶ Train**: the same 150 epochs, now reading the 12 months one at a time (slower).",
        predict=Question("Now the LSTM reads the 12 months one after another. Its test error…",
                         ("falls: now it can use its memory", "rises", "stays the same"), answer=1),
        claims=(Claim("Test RMSE is more than {value:.0f} thousand above the window-as-features LSTM's "
                      "(3 seeds)", minus_lstm_test, ">", 10, seeds=FEW),),   # measured 34.3, 19.0, 20.2
        why=r"""As `[N, 12, 1]` the cell runs 12 steps per pair, and whatever it needs from early
months has to pass through $c_t=f_t\odot c_{t-1}+i_t\odot g_t$. That is harder to learn from only 84
short sequences, and every epoch costs twelve cell steps instead of one. In 150 epochs it fits worse
than the one-step framing, and its test error is clearly higher. Memory helps when the data need
it; a 12-value window already holds everything this series offers.""",
    ),
    Experiment(
        title="Turn scaling off",
        settings={"scale": False},
        start="reset", train=150,
        watch="chart_loss",
        predict=Question("Passenger counts in the hundreds go straight into the LSTM. It…",
                         ("learns as before", "barely learns: its gates saturate", "blows up at once"),
                         answer=1),
        claims=(Claim("Train RMSE stays above {value:.0f} thousand after 150 epochs", train_rmse, ">", 150,
                      seeds=FEW),                                      # measured 177, 197, 187
                Claim("…more than {value:.0f}× the same run with scaling on", scaled_ratio, ">", 10,
                      seeds=FEW),                                      # measured 16.8, 17.4, 16.1
                Claim("An MLP without scaling still reaches a train RMSE below {value:.0f}",
                      mlp_unscaled_train, "<", 15, seeds=FEW)),       # measured 11.6 on each
        why=r"""The lecture warns that LSTMs are sensitive to the scale of their inputs. A gate is
$\sigma(Wx+Uh+b)$ and the candidate $\tanh(\dots)$: with $x$ in the hundreds these sit at 0 or 1
(or ±1), where their slopes are almost zero, so almost no gradient reaches the weights. The output
must also reach values in the hundreds through a linear layer on $|h|\le1$. The MLP's ReLUs do not
saturate, so it copes. Min-max scaling to $[0,1]$, fitted on the training part, avoids all of it.""",
    ),
    Experiment(
        title="The lecture's Keras setting",
        settings={"look_back": 1, "hidden": 4, "batch_size": 1, "lr": 0.001, "epochs": 100},
        start="reset", train=100,
        watch="chart_series",
        do="Press **▶ Train**: 100 epochs of batch 1 are the whole run (a few seconds).",
        predict=Question("The lecture's LSTM(4) with one month of look-back reached a train RMSE of about 22.7. "
                         "Here it will be…", ("about the same", "far lower", "far higher"), answer=0),
        claims=(Claim("Train RMSE ≈ {value:.1f} ± {tol:.1f} thousand, as in the lecture", train_rmse, "≈", 22.8,
                      tol=0.5, seeds=(0, 1)),                          # measured 22.71, 22.83
                Claim("Test RMSE above {value:.0f}: one month of history cannot see the season", test_rmse, ">",
                      50, seeds=(0, 1))),                              # measured 55.9, 54.7
        why=r"""This is the lecture's model: look-back 1, four LSTM units, batch size 1, Adam at
0.001, 100 epochs. The training error matches. Its test error is higher than the lecture's 47–52
because here the scaler is fitted on the training part only, as it should be. With a single past
month as input the model can only say "about last month"; a 12-month window lets it see the season,
which is why the default run does so much better. Tick **Stateful** to try the lecture's memory
between batches on the same setting.""",
    ),
    Experiment(
        title="A learning rate too large",
        settings={"lr": 10.0},
        start="reset",
        watch="chart_series",
        do="Press **▶ Train**: the run stops itself and says why in red. Then lower the learning rate and press "
           "**↺ Reset**.",
        predict=Question("Adam at a learning rate of 10…", ("trains faster", "stops itself after the first epoch",
                                                             "slowly turns into NaN after many epochs"), answer=1),
        claims=(Claim("The run stops itself at epoch {value:.0f}, its predictions far off the data's scale",
                      blowup_epoch, "≈", 1, seeds=FEW),),              # measured 1 on each
        why=r"""An update of size ~10 in weights that live around 1 throws every unit into
saturation: the predictions land more than ten times outside the data's range and the network then sits
on one flat line. The page watches for exactly this (train RMSE more than 5× the size of the
training values) and stops the run, which also keeps it off the leaderboard.""",
    ),
)
