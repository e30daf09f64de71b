"""The character lesson's guided experiments (``core.experiments``): the LSTM gets below the best
tuned n-gram on the names and stays there, memorises them once dropout is off, writes new names,
and trades safety for variety with the temperature.

Every number is measured on what the page shows: held-out bits/char is the trainer's own
measurement (``metrics``, the chart's orange line and the first readout), the n-gram lines come
from ``ngram`` (``tuned``: the best of n = 1…5 and k on a grid, the strongest add-k baseline),
the best-so-far point is ``charts.best_so_far`` (the diamond), the samples are the snapshot's.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from core.experiments import Claim, Experiment, Question, shipped
from core.lessons.charrnn import PRETRAINED
from core.lessons.charrnn.charts import best_so_far
from core.lessons.charrnn.trainer import CharRnnTrainer

NAMES = {"corpus": "names"}
# the shipped runs' own settings (``PRETRAINED``), so a pretrained step's widgets show the run loaded
_SIZES = ("hidden", "dropout", "batch_size", "seq_len")
SHIPPED_NAMES = {"corpus": "names", **{f: getattr(PRETRAINED["charrnn_names"][0], f) for f in _SIZES}}
SHIPPED_PROSE = {f: getattr(PRETRAINED["charrnn_prose"][0], f) for f in _SIZES}


def pretrained(config: Any, device: torch.device, read: Callable[[str], dict[str, Any]] = shipped) -> CharRnnTrainer:
    """The shipped run of the chosen text (names; prose for any other): what ⚡ Load pretrained
    loads. ``read(stem)``: the checkpoint (the page passes ``ui.checkpoint``, its read-only cache)."""
    stem = "charrnn_names" if config.corpus == "names" else "charrnn_prose"
    return CharRnnTrainer.from_checkpoint(read(stem), device)


def heldout(run) -> float:
    """The latest held-out bits/char (the chart's orange line, the first readout)."""
    return float(run.trainer.metrics.last("heldout_bits"))


def best_ngram(run) -> float:
    """The best add-k n-gram on the held-out text, tuned over n and k."""
    return run.trainer.ngram.tuned(run.trainer.corpus)[0]


def lead(run) -> float:
    """How far the network's held-out bits/char is below the best tuned n-gram's."""
    return best_ngram(run) - heldout(run)


def worst_lead_since(step: int):
    """The smallest lead over the best n-gram among all held-out measurements from ``step`` on
    (every 25 steps): positive when the network stayed ahead the whole time."""
    def measure(run) -> float:
        m = run.trainer.metrics.arrays()
        return best_ngram(run) - float(np.max(m["heldout_bits"][m["step"] >= step]))
    return measure


def above_best(run) -> float:
    """How far the latest held-out bits/char is above the best so far (the diamond)."""
    return heldout(run) - best_so_far(run.trainer.metrics.arrays())[1]


def train_gap(run, last: int = 100) -> float:
    """Held-out minus training bits/char (the mean of the last ``last`` training batches)."""
    loss = run.trainer.history.arrays()["loss"][-last:]
    return heldout(run) - float(np.mean(loss)) / math.log(2.0)


def distinct(T: float):
    """How many different characters the page's sample at temperature T uses."""
    return lambda run: float(len(set(dict(run.trainer.snapshot()["samples"])[T])))


def novel(run) -> float:
    """The share of names sampled at T = 0.8 that are not in the list (the page's novelty line)."""
    return float(run.trainer.novelty()["novel"])


EXPERIMENTS = (
    Experiment(
        title="Names: get below the best n-gram",
        settings=NAMES,
        start="reset",
        train=1500,
        watch="chart_bits",
        predict=Question("The dashed lines are n-gram models: the last n − 1 letters predict the next. Can a "
                         "network that reads one letter at a time beat the best of them on names it never saw?",
                         ("no: a 3-gram already knows which letters follow which",
                          "yes, by a little, after a few hundred steps", "yes, by more than a bit per letter"),
                         answer=1),
        claims=(
            Claim("the best add-k n-gram (tuned over n and k) scores {value:.2f} ± {tol:.2f} bits/char on the "
                  "held-out names", best_ngram, "≈", 3.006, tol=0.01),
            Claim("after 1,500 steps the LSTM's held-out bits/char is below it, by more than {value:.2f}",
                  lead, ">", 0.01),
        ),
        why=r"""Both models are scored the same way, $-\frac1N\sum \log_2 p(\text{next character})$ on the
same held-out positions. The $n$-gram estimates $p(c \mid \text{last } n-1 \text{ characters})$ by counting,
with add-$k$ smoothing $\frac{\text{count}(ctx, c) + k}{\text{count}(ctx) + kV}$ so unseen pairs keep some
probability; with $k$ tuned on the held-out text it is the strongest version of that idea. Its context
is fixed: a 4-gram has already seen too few contexts to count reliably on 33,000 characters. The LSTM's
state $c_t$ can carry what matters from the whole name so far (its length, a vowel pattern), which is
where its lead comes from.""",
    ),
    Experiment(
        title="Keep going: does it stay ahead?",
        settings=NAMES,
        start="continue",
        train=2250,
        watch="chart_bits",
        predict=Question("Train on for 2,250 more steps (about 70 more passes over the list). Where does the "
                         "held-out line end up?",
                         ("back above the n-gram: it memorises the list",
                          "still below the n-gram", "far lower again: 2 bits/char"), answer=1),
        claims=(
            Claim("at every measurement (every 25 steps) from step 1,500 to 3,750 the held-out bits/char "
                  "stays below the best n-gram, by more than {value:.2f}", worst_lead_since(1500), ">", 0.01),
        ),
        why=r"""A list of 5,000 names is small: an epoch is a few dozen steps, and a network with tens of
thousands of weights could learn it by heart. Dropout (here 0.5) zeroes a random half of the LSTM's
outputs in every training batch, $\tilde h = m \odot h / (1 - p)$ with $m_i \sim \text{Bernoulli}(1-p)$,
so no single unit can hold one name's spelling, and memorising is slow: the held-out line levels out
near step 3,000 and turns up only after it, thousands of steps after it first beat the n-gram. The diamond
on the chart marks the best held-out figure so far: where stopping would have been best.""",
    ),
    Experiment(
        title="Dropout off: watch it memorise",
        settings={**NAMES, "dropout": 0.0},
        start="continue",
        train=600,
        watch="chart_bits",
        predict=Question("Now set Dropout to 0 and train on. What happens to the two lines?",
                         ("both fall", "training falls, held-out rises: memorising",
                          "both rise"), answer=1),
        claims=(
            Claim("the held-out line rises more than {value:.2f} bits/char above its best so far (the diamond)",
                  above_best, ">", 0.1),
            Claim("while the training batches score more than {value:.2f} bits/char better than the held-out "
                  "names", train_gap, ">", 0.3),
        ),
        why=r"""Without dropout the network can fit the training names ever more closely: the training
loss keeps falling while the held-out loss, on names it never saw, turns up. That gap is
**overfitting**: the model learns the list, not the rules of names. The best-so-far diamond stops moving;
*early stopping* would keep the weights from that step. (With dropout the same thing happens too, only much
later: it slows memorising, it does not forbid it.)""",
    ),
    Experiment(
        title="Temperature: safe or daring",
        settings=SHIPPED_NAMES,
        start="pretrained",
        watch="chart_temp",
        do=("Compare the four sample boxes (T = 0.2, 0.5, 1, 1.5) and the bars below: move *Position in that "
            "sample* to just after a new line (many candidates) and into a name (one dominant candidate)."),
        predict=Question("Which sample uses more different letters?", ("T = 0.2", "T = 1.5", "about the same"),
                         answer=1),
        claims=(
            Claim("the sample at T = 1.5 uses more than {value:.0f} different characters more than the one at T = 0.2",
                  lambda run: distinct(1.5)(run) - distinct(0.2)(run), ">", 5),
        ),
        why=r"""Sampling draws the next character from $p_i = e^{z_i/T} / \sum_j e^{z_j/T}$. Dividing the
logits by $T < 1$ stretches their differences, so the likeliest letters take almost all the probability:
safe, repetitive names. $T > 1$ shrinks the differences towards a uniform guess: rare letters get drawn,
and the names turn unpronounceable. $T = 1$ samples the model's own distribution, the one that was
trained to match the text.""",
    ),
    Experiment(
        title="New names, not copies",
        settings=SHIPPED_NAMES,
        start="continue",
        do=("Pause, and read the line under the interpretable-cell table: the page samples 64 names at "
            "T = 0.8 and looks each one up in the list."),
        predict=Question("Of the names the trained network writes at T = 0.8, how many are copies from the list?",
                         ("almost all", "about half", "a small minority"), answer=2),
        claims=(
            Claim("more than {value:.0%} of the sampled names are not in the list", novel, ">", 0.7),
        ),
        why=r"""A model that has learned letter patterns rather than the list writes names that *could* be
names. The page measures it: the share of sampled names absent from all 5,163, and their 3-gram
bits/char next to real held-out names' (how much they look like the list's letter patterns).""",
    ),
    Experiment(
        title="Prose: below every n-gram line",
        settings=SHIPPED_PROSE,
        start="pretrained",
        watch="chart_bits",
        do="Switch *Text* to Milton's prose and press ⚡ Load pretrained; read the samples at T = 0.5 and 1.",
        predict=Question("On the names the best n-gram is the 3-gram. Prose has longer-range structure (words, "
                         "spelling, punctuation): which n-gram is best on it?",
                         ("the 2-gram", "the 3-gram", "the 4-gram", "the 5-gram"), answer=2),
        claims=(
            Claim("the best tuned n-gram on the prose is the {value:.0f}-gram", lambda run: run.trainer.ngram.tuned(
                run.trainer.corpus)[1], "≈", 4, tol=0),
            Claim("and the shipped prose run is more than {value:.2f} bits/char below it", lead, ">", 0.1),
        ),
        why=r"""On prose the useful context is long: a word's spelling, a phrase, an open bracket. An
$n$-gram's context is exactly $n-1$ characters, so a longer context helps, up to a point: with $V = 70$
characters there are $70^4 \approx 24$ million possible 4-character contexts and only 91,000 training
characters to count them in, so the 5-gram has seen too few of its contexts and is worse than the 4-gram.
The LSTM needs no table of contexts: its state carries what it has learned to keep, as far back as it
pays.""",
    ),
)
