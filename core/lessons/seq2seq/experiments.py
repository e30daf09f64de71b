"""The sequence-to-sequence lesson's guided experiments (``core.experiments``): attention learns
the dates first, the plain model's errors on dates do not depend on length, the reversal task's
do, and beam search cannot repair a model that has forgotten the input.

Every number in a claim is measured on what the page shows: held-out exact match overall and on
the longest inputs (``Seq2SeqTrainer.last_acc``, the four readouts) and by input length
(``Seq2SeqTrainer.by_length``, the length chart), on the fixed held-out set of the seed.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from core.experiments import Claim, Experiment, Question, shipped
from core.lessons.seq2seq.trainer import Seq2SeqTrainer


def pretrained(config: Any, device: torch.device, read: Callable[[str], dict[str, Any]] = shipped) -> Seq2SeqTrainer:
    """The shipped run of the config's task (dates: 3,000 steps; reversal: 2,000): what the
    page's ⚡ Load pretrained loads. ``read(stem)``: the checkpoint (the page passes
    ``ui.checkpoint``, its read-only cache)."""
    return Seq2SeqTrainer.from_checkpoint(read(f"seq2seq_{config.task}"), device)


def acc(model: str, longest: bool = False):
    """Held-out exact match of one model (overall, or on the longest inputs), as the readouts show it."""
    return lambda run: float(run.trainer.last_acc[model][1 if longest else 0])


def by_length(model: str, bucket: int):
    """One point of the length chart: exact match of ``model`` on held-out inputs of length bucket ``bucket``."""
    return lambda run: float(run.trainer.by_length[model][bucket])


def spread(model: str):
    """Largest minus smallest exact match across the length chart's buckets."""
    return lambda run: float(np.nanmax(run.trainer.by_length[model]) - np.nanmin(run.trainer.by_length[model]))


EXPERIMENTS = (
    Experiment(
        title="Attention learns first",
        start="reset",
        train=400,
        watch="chart_acc",
        predict=Question("Both models see exactly the same 400 batches of dates. After them, which one gets "
                         "held-out dates exactly right?",
                         ("both, about equally", "the one with attention, most of them",
                          "the one without attention: it has fewer weights to learn", "neither yet"), answer=1),
        claims=(
            Claim("with attention, more than {value:.0%} of held-out dates are exactly right after 400 steps",
                  acc("attn"), ">", 0.6, seeds=(0, 1)),
            Claim("without attention, fewer than {value:.0%}", acc("plain"), "<", 0.05, seeds=(0, 1)),
        ),
        why=r"""Without attention the decoder starts from the encoder's last state $h_S$ and never sees
the input again, so before it can write a single right digit the encoder must have learned to pack
day, month and year into those 48 numbers *and* the decoder to unpack them: two things that only pay off
together. With attention the decoder reads $c_t = \sum_j \alpha_{t,j} h_j$ at every output step; as
soon as the year digits learn to look at the year, they are right, whatever the rest does. Short
paths from the error to the weights that cause it make learning fast.""",
    ),
    Experiment(
        title="3,000 steps later: read the attention map",
        start="pretrained",
        watch="chart_attn",
        do=("Pick held-out inputs with *Held-out example* (9 is the longest) or type your own date, and read "
            "the map row by row: which input characters does each output digit look at?"),
        predict=Question("After 3,000 steps, which output digits look at the weekday (e.g. `thursday`)?",
                         ("the day digits", "the first digit", "none of them"), answer=2),
        claims=(
            Claim("with attention, at least {value:.0%} of held-out dates are exactly right",
                  acc("attn"), ">=", 0.99),
            Claim("without attention, still fewer than {value:.0%}", acc("plain"), "<", 0.6),
        ),
        why=r"""Each row of the map is one output character $t$, each column one input character $j$,
the colour $\alpha_{t,j} = \operatorname{softmax}_j(e_{t,j})$. The year digits look at the year, the month
digits at the month's name or number, the day digits at the day; the weekday is redundant (the date
fixes it), and nothing looks at it. Nobody told the model what a month is: these alignments are
what made the loss fall. The model without attention has had the same 3,000 batches and still gets
only about half the dates exactly right.""",
    ),
    Experiment(
        title="Dates: is the plain model worse on long inputs?",
        start="continue",
        watch="chart_len",
        predict=Question("On dates, how does the no-attention model's exact match change from the shortest "
                         "inputs (`05/03/99`) to the longest (`monday, the 3rd of may 1999`)?",
                         ("it falls steeply", "it stays about the same", "it rises"), answer=1),
        claims=(
            Claim("without attention, the longest and the shortest dates are exactly right equally often, "
                  "give or take {tol:.0%} of them", lambda run: by_length("plain", -1)(run) - by_length("plain", 0)(run),
                  "≈", 0.0, tol=0.15),
            Claim("and no two length groups are further apart than {value:.0%} of their inputs", spread("plain"),
                  "<", 0.3),
        ),
        why=r"""The bottleneck is about *information*, not characters. Whatever the format, a date
carries the same three numbers, about $\log_2(36\,500) \approx 15$ bits, and `monday, the 3rd of may
1999` says nothing that `05/03/99` does not. The long formats are longer, not fuller, so the one
vector $h_S$ is no more crowded for them and the plain model's errors are spread evenly over the
lengths. To see the bottleneck bite, the content has to grow with the length: the next step.""",
    ),
    Experiment(
        title="Reversal: the bottleneck by length",
        settings={"task": "reverse"},
        start="pretrained",
        watch="chart_len",
        predict=Question("Reversing digit strings of 1 to 16 digits: how does the no-attention model do as "
                         "the strings get longer?",
                         ("the same at every length", "perfect on short strings, near 0 on the longest",
                          "worse on short strings (too little to go on)"), answer=1),
        claims=(
            Claim("without attention, at least {value:.0%} of 1–3-digit strings are reversed exactly",
                  by_length("plain", 0), ">=", 0.95),
            Claim("but at most {value:.0%} of 13–15-digit ones", by_length("plain", 4), "<=", 0.05),
            Claim("with attention, at least {value:.0%} of 13–15-digit ones", by_length("attn", 4), ">=", 0.9),
        ),
        why=r"""Here every digit is new information: $n$ digits are $n \log_2 10 \approx 3.3n$ bits, and
all of them must pass through the $H = 48$ numbers of $h_S$ before the first output digit, which is the
*last* input digit, the one written furthest from the start of decoding. Short strings fit; long ones
are overwritten in the middle and the exact match drops to zero. The attention model never has to hold
the string: at output step $t$ it looks at input position $S + 1 - t$ (the anti-diagonal of the map).""",
    ),
    Experiment(
        title="Beam search cannot bring the input back",
        settings={"task": "reverse", "decoding": "beam", "beam_width": 3},
        start="continue",
        watch="chart_len",
        do="Switch *Decoding* to beam search (width 3) and compare the four readouts with the step before.",
        predict=Question("Beam search keeps the 3 likeliest partial outputs instead of 1. Does it rescue the "
                         "plain model on the longest strings?", ("yes, mostly", "a little", "no"), answer=2),
        claims=(
            Claim("without attention, the longest strings stay at most {value:.0%} right",
                  acc("plain", longest=True), "<=", 0.05),
            Claim("with attention, still at least {value:.0%} of all held-out strings", acc("attn"), ">=", 0.95),
        ),
        why=r"""Beam search looks for the output $y$ with the largest $\log p(y \mid x)$ under the model,
more thoroughly than greedy decoding does. It fixes *search* errors: a likelier answer the greedy
choice missed. It cannot fix *model* errors: when the digits were overwritten in $h_S$, the model gives
the right answer no high probability, and no search finds it. (Beam search is measured on 600 ÷ 3 = 200
held-out inputs to stay live, so small moves in the overall figure are sampling noise.)""",
    ),
)
