"""The conv1d lesson's guided steps (``core.experiments``): who learns the long-range task and why
(receptive fields), causal vs "same" padding, and the control charts. Every claim is measured on
what the page shows: held-out accuracy (the accuracy chart and the scoreboard), the receptive field
by formula (the drawing's sentence), and look-ahead with autograd on the trained front end."""
from __future__ import annotations

from typing import Any, Callable

import torch

from core.experiments import Claim, Experiment, Question, shipped
from core.lessons.conv1d import CHECKPOINTS
from core.lessons.conv1d.data import gap_range
from core.lessons.conv1d.fields import receptive_field
from core.lessons.conv1d.model import MODELS, specs_for
from core.lessons.conv1d.trainer import Conv1dTrainer


def pretrained(config, device, read: Callable[[str], dict[str, Any]] = shipped) -> Conv1dTrainer:
    """What ⚡ Load pretrained loads: the shipped run of the chosen task. ``read(stem)``: the
    checkpoint (the page passes its cached ``ui.checkpoint``)."""
    return Conv1dTrainer.from_checkpoint(read(CHECKPOINTS[config.task]), device)


def acc(model: str) -> Callable[[Any], float]:
    """The model's latest held-out accuracy: the number on the accuracy chart and the scoreboard."""
    def measure(run) -> float:
        return float(run.trainer.metrics.last(f"acc_{model}"))
    return measure


def lowest_acc(run) -> float:
    return min(float(run.trainer.metrics.last(f"acc_{m}")) for m in run.trainer.names)


def field(model: str) -> Callable[[Any], float]:
    """The receptive field by formula, as the drawing's sentence prints it (r = …)."""
    def measure(run) -> float:
        return float(receptive_field(specs_for(model, run.trainer.config)))
    return measure


def shortest_gap(run) -> float:
    return float(gap_range(int(run.trainer.config.seq_len))[0])


def steps_ahead(model: str) -> Callable[[Any], float]:
    """How many steps ahead the model's first convolution looks, measured with autograd on the
    trained weights: the largest s for which the output at step t has a non-zero gradient with
    respect to x[t + s] (0 when no later input reaches it)."""
    def measure(run) -> float:
        net = run.trainer.nets[model].module
        T, t = int(run.trainer.config.seq_len), int(run.trainer.config.seq_len) // 2
        with torch.enable_grad():
            x = torch.randn(8, T, generator=torch.Generator().manual_seed(0), device=run.trainer.device,
                            requires_grad=True)
            first = net.convs[0](x.unsqueeze(1)) if model == "wavenet" else net.conv(x.unsqueeze(1))
            (grad,) = torch.autograd.grad(first[:, :, t].sum(), x)     # the weights' .grad untouched
        later = torch.nonzero(grad[:, t + 1:].abs().sum(0) > 0).flatten()
        return float(later.max() + 1) if len(later) else 0.0
    return measure


_QUICK = (0, 1)

EXPERIMENTS = (
    Experiment(
        title="Four models, one long-range task",
        start="reset", train=300, watch="chart_acc",
        predict=Question("Two spikes 17–31 steps apart; the class is which came first. Which model stays "
                         "at chance (50 %)?",
                         (MODELS["lstm"], MODELS["conv"], MODELS["wavenet"]), answer=1),
        claims=(
            Claim("the dilated causal stack reaches at least {value:.0%} held-out accuracy within 300 steps",
                  acc("wavenet"), ">=", 0.95, seeds=_QUICK),
            Claim("the Conv1D → LSTM reaches at least {value:.0%}", acc("convlstm"), ">=", 0.95, seeds=_QUICK),
            Claim("the LSTM reaches at least {value:.0%}", acc("lstm"), ">=", 0.9, seeds=_QUICK),
            Claim("the Conv1D + pooling model stays below {value:.0%} (chance is 50 %)", acc("conv"), "<", 0.55,
                  seeds=_QUICK),
        ),
        why="All four see the same batches. The spikes are far apart and only their *order* tells the "
            "classes apart. The LSTM carries a memory along the whole sequence; the dilated stack's last "
            "output reads all 64 steps; the Conv1D front end finds the spikes and hands an ordered, halved "
            "sequence to its LSTM. The Conv1D + pooling model averages its features over time at the end, "
            "so it can only know the order if one window holds both spikes — see the next step.",
    ),
    Experiment(
        title="Receptive fields: why the Conv1D cannot see the order",
        start="continue", watch="chart_field",
        do="Scroll to **Receptive field, layer by layer**. Pick *Conv1D + pooling*, then *Dilated causal "
           "stack*, and read the size r under the drawing.",
        predict=Question("Two conv-5 layers, each followed by max-pool 2: how many input steps does one "
                         "output read?", ("10", "16", "64"), answer=1),
        claims=(
            Claim("the Conv1D + pooling model reads r = {value:.0f} steps", field("conv"), "≈", 16, 0),
            Claim("the shortest gap between the spikes is {value:.0f} steps, longer than that field",
                  shortest_gap, "≈", 17, 0),
            Claim("the dilated stack (kernel 2, dilations 1, 2, 4 … 32) reads r = {value:.0f} steps: "
                  "the whole sequence", field("wavenet"), "≈", 64, 0),
        ),
        why=r"With $r_0 = 1$, $j_0 = 1$, each layer adds $(k_l - 1)\,d_l\,j_{l-1}$ steps and pooling doubles "
            r"the jump $j$: two conv-5 + pool-2 layers give $1 + 4 + 1 + 4\cdot 2 + 2 = 16$. No window "
            r"of 16 steps holds both spikes, and the mean over time forgets *where* a feature fired: the "
            r"lecture's “no concept of sequence order outside the convolution window”. Doubling the "
            r"dilation each layer doubles the field: $r = 2^L$ with kernel 2, so six layers read 64 steps.",
    ),
    Experiment(
        title="Causal or not: how far does “same” padding look ahead?",
        start="continue", watch="chart_field",
        do="In the receptive-field drawing pick *Conv1D front end*, then *Dilated causal stack*, and look "
           "at the shaded future to the right of the output's step.",
        predict=Question("The front end is Conv1D(k = 5, padding “same”). How many future steps does its "
                         "output at step t read?", ("none", "2", "4"), answer=1),
        claims=(
            Claim("the Conv1D front end's output at step t depends on inputs up to t + {value:.0f} "
                  "(autograd on the trained weights: ⌈(k − 1)/2⌉ with k = 5)", steps_ahead("convlstm"), "≈", 2, 0),
            Claim("the dilated stack's first layer reads {value:.0f} future steps: causal",
                  steps_ahead("wavenet"), "≈", 0, 0),
        ),
        why=r"“Same” padding adds $k - 1$ zeros in total, $\lfloor (k-1)/2 \rfloor$ on the left and the "
            r"rest, $\lceil (k-1)/2 \rceil$, on the right, so the output at $t$ reads up to "
            r"$x_{t + \lceil (k-1)/2 \rceil}$: even $k = 2$ looks one step ahead. Fine for classifying a "
            r"whole sequence, but a forecaster built this way would peek at the answer. WaveNet pads "
            r"$(k-1)\,d$ zeros on the left only, so its output at $t$ depends on $x_{\le t}$.",
    ),
    Experiment(
        title="Widen the Conv1D's field: three layers",
        settings={"conv_layers": 3, "models": ("conv",)},
        start="reset", train=200, watch="chart_acc",
        predict=Question("With a third conv-5 + pool-2 layer, does the Conv1D + pooling model learn the order?",
                         ("yes: its field now covers both spikes", "no: pooling still forgets the order"),
                         answer=0),
        claims=(
            Claim("its receptive field grows to r = {value:.0f} steps, more than the longest gap (31)",
                  field("conv"), "≈", 36, 0),
            Claim("and it reaches at least {value:.0%} held-out accuracy within 200 steps", acc("conv"), ">=", 0.9,
                  seeds=_QUICK),
        ),
        why=r"The third layer adds $(5-1)\cdot 4 = 16$ steps and one more pooling: $r = 16 + 16 + 4 = 36$. "
            r"Now one unit of the top layer sees both spikes, and its filters can respond to "
            r"“up, then down” differently from “down, then up”. A fourth layer would run out of time steps "
            r"(64 → 60 → 30 → 26 → 13 → 9 → 4 → 0): the page says so instead of training.",
    ),
    Experiment(
        title="Shrink the dilated stack: three layers",
        settings={"wave_layers": 3, "models": ("wavenet",)},
        start="reset", train=300, watch="chart_acc",
        predict=Question("Three dilated layers of kernel 2 (dilations 1, 2, 4): what happens?",
                         ("it still learns", "it stays near chance, like the Conv1D"), answer=1),
        claims=(
            Claim("its receptive field is only r = {value:.0f} steps", field("wavenet"), "≈", 8, 0),
            Claim("and its held-out accuracy stays below {value:.0%} after 300 steps", acc("wavenet"), "<", 0.6,
                  seeds=_QUICK),
        ),
        why=r"The field is $1 + (1 + 2 + 4) = 8 = 2^3$ steps: the last output reads the final 8 steps only, "
            r"where no spike ever sits (they stay in the middle half of the sequence). Depth is what buys a "
            r"dilated stack its reach: each layer doubles it, so the cost grows with $\log_2$ of the field.",
    ),
    Experiment(
        title="Local patterns: the control charts",
        settings={"task": "control"},
        start="pretrained", watch="chart_acc",
        do="Set *Task* to *Control charts* and press **⚡ Load pretrained** (1,500 steps).",
        predict=Question("Normal, cyclic, trend up/down, shift up/down: can the Conv1D + pooling model "
                         "tell them apart?", ("yes", "no, its window is too short"), answer=0),
        claims=(
            Claim("every model, the Conv1D + pooling one included, is above {value:.0%} held-out accuracy",
                  lowest_acc, ">", 0.95),
        ),
        why="A slope, a jump or a wave shows inside any window of 16 steps, so nothing needs to be carried "
            "across the sequence: a convolution with pooling is enough, and it is the cheapest model per "
            "step. The lecture's advice follows: Conv1D works well at least as a preprocessing step; when "
            "order over long distances matters, put a recurrent layer (or a deep dilated stack) after it.",
    ),
)
