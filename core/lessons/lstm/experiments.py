"""The LSTM lesson's guided experiments (``core.experiments``): what a student tries, in order,
and what each step claims, measured in training steps on what the page shows: the live metrics
(``LstmTrainer.snapshot``), the gradient-norm chart's history, the detail views' data
(``LstmTrainer.inspect``) and the *RNN vs LSTM vs GRU* comparison (``compare.at_init``).
``tests/lessons/test_claims.py`` runs every claim.

The training steps use Adam at 0.003 rather than the page's default 0.01: on the default task
(first bit, T = 60) at 0.01 the LSTM reaches 100 % held-out accuracy within 600 steps on seeds 0
and 1 only (seeds 2 and 4 stall at 84–89 %, seed 3 at chance), at 0.003 on all of seeds 0–4 by
step 500. The shipped runs (⚡ Load pretrained) were trained at the default 0.01 for 1,500 steps.

``pretrained(config, device, read)`` is what the page's ⚡ Load pretrained loads.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import torch

from core.experiments import Claim, Experiment, Question, Run, shipped
from core.lessons.lstm import compare
from core.lessons.lstm.config import PROBE_BACK, LstmConfig
from core.lessons.lstm.trainer import LstmTrainer

SEEDS = (0, 1, 2, 3, 4)
FEW = (0, 1, 2)
LR = 0.003               # the training steps' learning rate (see the module docstring)
TRAIN = 500              # steps: ten held-out evaluations
LOOK = range(8)          # the held-out sequences the forward-view claims read (samples 0–7)
ENTRY = compare.ENTRY_BACK


def pretrained(config: LstmConfig, device: torch.device,
               read: Callable[[str], dict[str, Any]] = shipped) -> LstmTrainer:
    """The shipped run of ``config``'s cell type (default task, 1,500 steps): what ⚡ Load
    pretrained loads. ``read(stem)``: the checkpoint (the page passes its cached ``ui.checkpoint``)."""
    return LstmTrainer.from_checkpoint(read(f"lstm_{config.cell}"), device)


# ---------------------------------------------------------------- measures (what the page shows)

def eval_acc(run: Run) -> float:
    """The live metric *Held-out accuracy* (256 held-out sequences, measured every 50 steps)."""
    return float(run.trainer.snapshot()["eval_acc"])


def grad_back(run: Run) -> float:
    """The live metric ‖∂L/∂h‖ 50 steps back (mean over 32 held-out sequences)."""
    return float(run.trainer.snapshot()["grad_back"])


def peak_unclipped(run: Run) -> float:
    """The gradient-norm chart's unclipped line: its largest value over the run."""
    return float(np.max(run.trainer.snapshot()["history"]["grad_norm"]))


def peak_used(run: Run) -> float:
    """The gradient-norm chart's clipped (used) line: its largest value over the run."""
    return float(np.max(run.trainer.snapshot()["history"]["grad_used"]))


def _forward(run: Run) -> list[dict[str, Any]]:
    """The forward view's data for held-out samples 0–7."""
    return [run.trainer.inspect(sample=k) for k in LOOK]


def mean_forget(run: Run) -> float:
    """Mean of the forget-gate heatmap (every unit, every step) over samples 0–7."""
    return float(np.mean([d["fwd"]["f"].mean() for d in _forward(run)]))


def cell_at_end(run: Run) -> float:
    """Over samples 0–7: the last step's largest-|c| entry of the cell-state heatmap, signed by
    the sample's first bit (positive: it has the first bit's sign), the smallest of the eight."""
    return float(min(np.sign(d["x"][0, 0]) * d["fwd"]["c"][np.argmax(np.abs(d["fwd"]["c"][:, -1])), -1]
                     for d in _forward(run)))


def _profile(run: Run) -> dict[str, np.ndarray]:
    """The backward view's steps-back chart: raw ‖δh‖ and ‖δc‖ (mean over 32 held-out sequences)."""
    return run.trainer.inspect()["profile"]


def dc_kept(run: Run) -> float:
    p = _profile(run)
    return float(p["dc"][PROBE_BACK] / p["dc"][0])


def dh_entry(run: Run) -> float:
    p = _profile(run)
    return float(p["dh"][ENTRY] / p["dh"][0])


def _at_init(run: Run, **changes: Any) -> dict[str, dict[str, np.ndarray]]:
    """The *RNN vs LSTM vs GRU* view's profiles: the three cells freshly initialised from this
    step's settings (``changes`` on top)."""
    with torch.enable_grad():        # claims are measured under no_grad; a fresh trainer's first
        return compare.at_init(dataclasses.replace(run.trainer.config, **changes))   # metrics need it


def lstm_over_rnn(run: Run) -> float:
    """The view's metric: LSTM ÷ vanilla RNN, ‖δh(T−50)‖/‖δh(T)‖, fresh weights."""
    return compare.ratio_back(_at_init(run))


def gru_over_rnn(run: Run) -> float:
    return compare.ratio_back(_at_init(run), num="gru")


def rnn_back(run: Run) -> float:
    """The view's vanilla RNN line 50 steps back, for this step's λ₁."""
    return float(_at_init(run)["rnn"]["dh_rel"][PROBE_BACK])


def rnn_back_sv3(run: Run) -> float:
    return float(_at_init(run, recurrent_sv=3.0)["rnn"]["dh_rel"][PROBE_BACK])


def lstm_back(run: Run) -> float:
    """The view's LSTM line 50 steps back, for this step's forget-gate bias."""
    return float(_at_init(run)["lstm"]["dh_rel"][PROBE_BACK])


EXPERIMENTS = (
    Experiment(
        title="Teach an LSTM to remember the first bit",
        settings={"lr": LR},
        start="reset", train=TRAIN,
        watch="chart_loss",
        predict=Question("The answer depends on a bit seen 59 steps earlier. After 500 steps, held-out "
                         "accuracy will be about…", ("50 % (guessing)", "75 %", "100 %"), answer=2),
        claims=(Claim("Held-out accuracy reaches at least {value:.0%} by step 500 (all 5 seeds)", eval_acc, ">=",
                      0.95, seeds=SEEDS),),                           # measured 100 % on each
        why=r"""Each step draws 64 random bit strings of length 60; the target is the first bit, and
the loss is taken at the last step only. To answer, the network must write the first bit into its
memory and keep it there for 59 steps while 59 irrelevant bits arrive. Accuracy on 256 fixed
held-out strings is measured every 50 steps: 50 % is guessing. The learning rate is set to 0.003
here: at the page's default 0.01 some seeds settle on a partial solution instead.""",
    ),
    Experiment(
        title="Gradient clipping at work",
        settings={"lr": LR},
        start="continue",
        watch="chart_clip",
        do="Look at the gradient-norm chart of the run you just trained (log scale).",
        predict=Question("Clipping rescales the gradient whenever ‖∇‖ > 1. During this run, the unclipped "
                         "norm…",
                         ("never exceeded 1", "spiked far above 1 a few times", "stayed near 1 throughout"),
                         answer=1),
        claims=(Claim("The unclipped gradient norm peaks above {value:.0f} (all 5 seeds)", peak_unclipped, ">", 20,
                      seeds=SEEDS),                                   # measured 32–1,390
                Claim("…while the norm actually used never exceeds the threshold, {value:.0f}", peak_used, "<=",
                      1.0 + 1e-5, seeds=SEEDS)),
        why=r"""When the network starts to rely on its memory, small weight changes can swing the
output a lot, and the gradient spikes. Norm clipping rescales the whole gradient,
$g\leftarrow g\cdot\min(1,\theta/\lVert g\rVert)$, keeping its direction but capping the step. The
lecture's remedy for **exploding** gradients; it does nothing about vanishing ones.""",
    ),
    Experiment(
        title="Inside the trained cell: the forget gate keeps the bit",
        start="pretrained",
        watch="chart_f_f", page_widgets={"view": "forward"},
        do="The set-up opens **Detail view → Forward view**; scrub *t* from 0 to 59. Compare a sample whose "
           "first bit is 1 with one whose first bit is 0.",
        predict=Question("In the trained LSTM, the forget gate f over the sequence is mostly…",
                         ("near 0: forget everything", "near ½", "near 1: keep the cell state"), answer=2),
        claims=(Claim("The forget gate averages above {value:.2f} over every unit and step (samples 0–7)",
                      mean_forget, ">", 0.9),                          # measured 0.971
                Claim("On each of samples 0–7 the largest cell state at the last step has the first bit's sign "
                      "and |c| above {value:.0f}", cell_at_end, ">", 15),   # measured 25.0 (min of the 8)
                Claim("Held-out accuracy at least {value:.0%}", eval_acc, ">=", 0.99)),   # measured 100 %
        why=r"""The shipped LSTM was trained for 1,500 steps. At $t=0$ a few units write the first bit's
sign into their cell state, and with $f_t\approx1$ the update $c_t=f_t\odot c_{t-1}+i_t\odot g_t$
carries it forward: later bits do not flip it, and $|c|$ keeps growing along the sequence. The
output gate then shows $h=o\odot\tanh c$ to the read-out, which only needs the sign. The large
forget-gate bias at initialisation ($b_f=3$, $\sigma(3)\approx0.95$) made "keep" the default from the first step.""",
    ),
    Experiment(
        title="The constant error carousel, backwards",
        start="continue",
        watch="chart_back", page_widgets={"view": "backward"},
        do="The set-up opens **Detail view → Backward view**: read the chart of gradient norms against steps back.",
        predict=Question("Going back from the last step, which gradient survives 50 steps?",
                         ("‖δh‖, through the hidden state", "‖δc‖, through the cell state", "neither"), answer=1),
        claims=(Claim("‖δc‖ 50 steps back keeps more than {value:.0%} of its value at the last step",
                      dc_kept,
                      ">", 0.3),                                       # measured 63 %
                Claim("‖δh‖ falls below {value:.0e} of its last-step value within 5 steps", dh_entry, "<", 1e-4)),
        # measured 4.1e-6
        why=r"""Backpropagation through the cell state has an additive path,
$\delta c_{t-1}\mathrel{+}=\delta c_t\odot f_t$: no weight matrix and no squashing, only the forget
gate. With $f\approx0.98$ the gradient that enters $c$ is carried back almost unchanged. This is
Hochreiter and Schmidhuber's constant error carousel. ‖δh‖ collapses for another reason: this
trained network holds $|c|$ far into tanh's flat region, so only a tiny share of the last step's
gradient enters the cell at all, and the rest, on the $h$ path, dies within a few steps. What does
enter the cell survives.""",
    ),
    Experiment(
        title="A vanilla RNN on the same task",
        settings={"cell": "rnn", "lr": LR},
        start="reset", train=TRAIN,
        watch="chart_loss",
        predict=Question("The tanh RNN, same task and settings, after 500 steps:",
                         ("learns it like the LSTM", "learns it more slowly", "stays at guessing"), answer=2),
        claims=(Claim("Held-out accuracy stays below {value:.0%} (3 seeds)", eval_acc, "<", 0.6, seeds=FEW),
                # measured 49.6 %, 50.4 %, 51.2 %
                Claim("‖∂L/∂h‖ 50 steps back is below {value:.0e} (3 seeds)", grad_back, "<", 1e-7, seeds=FEW)),
        # measured 4.7e-14, 0, 4.4e-12
        why=r"""Backpropagation through a vanilla RNN multiplies by one Jacobian per step back:
$\partial L/\partial h_{t-1}=W_{hh}^\top\,\mathrm{diag}(1-h_t^2)\,\partial L/\partial h_t$. Over 59 steps
the product shrinks geometrically, so the first bit's influence on the loss sends back essentially
no gradient. The network never finds out that the first bit matters, and loss and accuracy stay at
chance (BCE $\ln2\approx0.69$, 50 %).""",
    ),
    Experiment(
        title="Gradients 50 steps back: RNN vs LSTM vs GRU",
        start="reset",
        watch="chart_cmp_init", page_widgets={"view": "compare"},
        do="The set-up opens **Detail view → RNN vs LSTM vs GRU**: read the left chart and the ratio under it.",
        predict=Question("Freshly initialised, how much more of the gradient survives 50 steps back in the LSTM "
                         "than in the vanilla RNN?", ("about the same", "about 10×", "a million times or more"),
                         answer=2),
        claims=(Claim("LSTM ÷ RNN, 50 steps back, at least {value:.0e}× (all 5 seeds)", lstm_over_rnn, ">=", 1e6,
                      seeds=SEEDS),                                    # measured 7.9e6 … 3.3e23
                Claim("GRU ÷ RNN at least {value:.0e}× too", gru_over_rnn, ">=", 1e6, seeds=SEEDS)),
        # measured 2.3e8 … 1.8e25
        why=r"""The chart plots $\lVert\delta h_{T-k}\rVert/\lVert\delta h_T\rVert$ for the three cells,
freshly initialised with the same seed and evaluated on the same sequences. This is where learning
starts: a gradient that is $10^{-10}$ of its size 50 steps back cannot teach anything. The LSTM's
carousel and the GRU's update gate (its $z\approx1$ copies $h_{t-1}$) both give the gradient a path
without repeated squashing, so it survives. The exact ratio varies a lot from seed to seed; its
order of magnitude does not.""",
    ),
    Experiment(
        title="λ₁: when an RNN's gradients vanish",
        settings={"cell": "rnn", "recurrent_sv": 0.5},
        start="reset",
        watch="chart_cmp_init", page_widgets={"view": "compare"},
        do="In **RNN vs LSTM vs GRU** (the set-up opens it), read the vanilla RNN line at λ₁ = 0.5, then move the λ₁ slider to 1 "
           "and 3.",
        predict=Question("At λ₁ = 3 (above 1/γ = 1 for tanh), the RNN's gradient 50 steps back…",
                         ("still vanishes", "no longer vanishes", "becomes exactly 1"), answer=1),
        claims=(Claim("At λ₁ = 0.5 the RNN keeps less than {value:.0e} of the gradient 50 steps back", rnn_back,
                      "<", 1e-15, seeds=FEW),                          # measured 1.3e-25, 1.2e-42, 8.2e-24
                Claim("At λ₁ = 3 it keeps more than {value:.0e}", rnn_back_sv3, ">", 1e-6, seeds=FEW)),
        # measured 0.47, 3.0e-5, 8.7e-3
        why=r"""Each step back multiplies by $W_{hh}^\top\mathrm{diag}(\tanh')$. Its norm is at most
$\lambda_1\gamma$, with $\lambda_1$ the largest singular value of $W_{hh}$ and $\gamma=1$ the
largest slope of tanh. So $\lambda_1<1/\gamma$ **guarantees** vanishing: $0.5^{50}\approx10^{-15}$,
and tanh's slopes below 1 shrink it further. $\lambda_1>1/\gamma$ is **necessary** for exploding,
but it guarantees nothing: at λ₁ = 3 the gradient survives, and can grow, which is what clipping is
for.""",
    ),
    Experiment(
        title="An LSTM without the forget-gate bias",
        settings={"forget_bias": 0.0, "lr": LR},
        start="reset", train=TRAIN,
        watch="chart_loss",
        predict=Question("The forget-gate bias set to 0 instead of 3, same LSTM: after 500 steps it…",
                         ("learns the first bit as before", "stays at guessing", "learns it faster"), answer=1),
        claims=(Claim("Held-out accuracy stays below {value:.0%} (3 seeds)", eval_acc, "<", 0.6, seeds=FEW),
                # measured 49.6 %, 50.4 %, 49.6 %
                Claim("At initialisation the LSTM keeps less than {value:.0e} of its gradient 50 steps back "
                      "(with bias 3: 0.003–0.02)", lstm_back, "<", 1e-10, seeds=FEW)),
        # measured 8.9e-13, 4.4e-14, 5.8e-15
        why=r"""With $b_f=0$ the forget gate starts at $f=\sigma(0)=\tfrac12$, and the carousel
multiplies by ½ per step: $0.5^{50}\approx10^{-15}$. The LSTM is then no better than the vanilla
RNN at the start, and it never learns the task in 500 steps. The lecture's point (Gers et al.,
2000; Jozefowicz et al., 2015): initialise the forget-gate bias large and positive, so that
"remember" is the default when training begins.""",
    ),
)
