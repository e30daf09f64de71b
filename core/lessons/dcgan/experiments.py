"""The DCGAN lesson's guided experiments (``core.experiments``): digits forming from scratch with
the code, the plain DCGAN of the lecture for comparison, the shipped runs (with the code, and the
conditional GAN) and arithmetic on z. All counted in steps: the trainer makes about 70 steps a
second on one core, so the claims about well-trained models start from the shipped checkpoints.
Every claim reads what the page shows: the quality readouts (500 fresh digits judged every 100
steps, ``metrics.Judge``), the loss history and the latent explorer. No Streamlit.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from core.experiments import Claim, Experiment, Question, Run, shipped
from core.lessons.dcgan import latent
from core.lessons.dcgan.config import DcganConfig
from core.lessons.dcgan.trainer import DcganTrainer

CHECKPOINTS = {False: "dcgan_digits", True: "dcgan_conditional"}
WINDOW = 50                      # loss records averaged


def pretrained(config: DcganConfig, device: torch.device,
               read: Callable[[str], dict[str, Any]] = shipped) -> DcganTrainer:
    """What ⚡ Load pretrained loads: the shipped run of the kind ``config`` asks for (conditional or
    not), with its own settings. ``read(stem)``: the checkpoint (the page passes ``ui.checkpoint``)."""
    return DcganTrainer.from_checkpoint(read(CHECKPOINTS[bool(config.conditional)]), device)


# --------------------------------------------------------------------------- measures
def readout(key: str, at: int = -1) -> Callable[[Run], float]:
    """A quality readout as the page shows it: the measurement ``at`` (the last by default; 0 is
    the run's first, at step 0)."""
    def measure(run: Run) -> float:
        return float(run.trainer.snapshot()["metrics"][key][at])
    return measure


def loss_mean(key: str) -> Callable[[Run], float]:
    """The mean of a loss chart line over its last WINDOW records."""
    def measure(run: Run) -> float:
        return float(np.mean(run.trainer.snapshot()["history"][key][-WINDOW:]))
    return measure


def arithmetic_reads(attribute: str, a: int, b: int) -> Callable[[Run], float]:
    """The share of the explorer's answer to ``attribute`` a − a + b and its eight noisy neighbours
    that the classifier reads as a b (0 when the groups could not be filled)."""
    def measure(run: Run) -> float:
        t = run.trainer
        ar = latent.arithmetic(t, attribute, a, b)
        if not ar.found:
            return 0.0
        label, _ = t.judge.clf.judge(torch.from_numpy(ar.result).float().unsqueeze(1).to(t.device))
        return float((label == b).float().mean())
    return measure


def arithmetic_gain(attribute: str, a: int, b: int) -> Callable[[Run], float]:
    """The answer's attribute minus the mean of the third group's (``latent.Arithmetic``)."""
    def measure(run: Run) -> float:
        ar = latent.arithmetic(run.trainer, attribute, a, b)
        return ar.attribute_gain if ar.found else float("nan")
    return measure


# --------------------------------------------------------------------------- the steps
EXPERIMENTS = (
    Experiment(
        title="From noise to digits",
        start="reset",
        train=500,
        watch="chart_quality",
        do="Press **▶ Train** and watch the left grid (the same 100 inputs every frame) and the quality chart. "
           "The run pauses itself after 500 steps (7–10 s on one core).",
        predict=Question("After 500 steps, what share of G's digits will the classifier accept (≥ 0.9 sure)?",
                         ("None yet: 500 steps is nothing for a GAN", "Roughly a third or more",
                          "Nearly all of them"), answer=1),
        claims=(
            Claim("At step 0 the classifier accepts fewer than {value:.0%} of G's digits …",
                  readout("accepted", 0), "<", 0.05, seeds=(0, 1)),
            Claim("… after 500 steps more than {value:.0%} …", readout("accepted"), ">", 0.35, seeds=(0, 1)),
            Claim("… and at least {value:.0f} of the ten digits are among them.", readout("classes"), ">=", 9,
                  seeds=(0, 1)),
        ),
        why=r"""
The game of lesson 1 on images: $D$ learns to tell real digits from $G$'s, $G$ learns from $D$'s
gradient to make its digits look real. The networks follow the DCGAN guidelines (strided
convolutions instead of pooling, batch norm, ReLU in G and LeakyReLU in D, $\tanh$ output, Adam with
$\beta_1 = \frac12$). The judge is a separate classifier trained on real digits: "accepted" is the
share of 500 fresh samples it reads with confidence ≥ 0.9, measured every 100 steps. A sample of
500 reads to about ± 2 points, and the real held-out digits reach 0.94 (the dashed line).
""",
    ),
    Experiment(
        title="The plain DCGAN of the lecture",
        settings={"codes": 0, "average": False},
        start="reset",
        train=500,
        watch="chart_quality",
        predict=Question("Without InfoGAN's code and the averaged generator, after the same 500 steps?",
                         ("About the same", "Fewer digits accepted", "More digits accepted"), answer=1),
        claims=(
            Claim("After 500 steps the plain DCGAN has fewer than {value:.0%} of its digits accepted.",
                  readout("accepted"), "<", 0.32),
        ),
        why=r"""
Without labels, $G$ must spread one connected cloud of $z$ over ten separate kinds of digit, so for
a long time many samples fall between two digits, and the classifier rejects them. The default run
gives $G$ a categorical code $c$ as well, and a head $Q$ on $D$ must tell $c$ back from the digit
(InfoGAN): each code value becomes a kind of digit, without a single label. The averaged generator
$\bar G$ (an exponential moving average of $G$'s weights) smooths the back and forth of the game.
The gap stays: after 4,000 steps the plain DCGAN had 0.58 of its digits accepted, the default run
0.78–0.83 (seeds 0 and 1; docs/dcgan.md).
""",
    ),
    Experiment(
        title="The shipped run: 12,000 steps with the code",
        start="pretrained",
        train=100,
        watch="chart_loss",
        do="⚡ Loads the shipped run; press **▶ Train** for 100 steps so the readouts are measured afresh on the "
           "loaded generator. Look at the *code CE* line of the loss chart.",
        predict=Question("How well can the head Q tell which of the 30 code values made a digit?",
                         ("Hardly: 30 values is a lot", "Almost perfectly"), answer=1),
        claims=(
            Claim("The classifier accepts more than {value:.0%} of 500 fresh digits …", readout("accepted"), ">", 0.82),
            Claim("… all {value:.0f} digits are among them …", readout("classes"), ">=", 10),
            Claim("… and the code's cross-entropy stays below {value:.2f} nats (ln 30 ≈ 3.4 is a blind guess).",
                  loss_mean("code_loss"), "<", 0.05),
        ),
        why=r"""
$G$ and $D$ + $Q$ both add $\lambda\,\mathrm{CE}(Q(G(z, c)), c)$ to their losses: a lower bound on the
mutual information between the code and the digit. The cheapest way for $G$ to make its code
readable is to draw a different kind of digit for each value, so the codes end up meaning digits
(two or three codes per digit, e.g. a slanted and an upright 1). The shipped file holds G, D and Q
but not Adam's moments or $\bar G$, which starts again from $G$.
""",
    ),
    Experiment(
        title="The conditional GAN: ask for a digit",
        settings={"conditional": True},
        start="pretrained",
        train=100,
        watch="chart_counts",
        do="⚡ Loads the shipped conditional run (row r of the grid asks for digit r, a column keeps one z); "
           "press **▶ Train** for 100 steps so the readouts are measured afresh.",
        predict=Question("G is given the digit's label, and so is D. How often does it draw the digit asked for?",
                         ("About half the time", "Nearly always"), answer=1),
        claims=(
            Claim("The classifier reads more than {value:.0%} of 500 fresh digits (50 asked per digit) as the "
                  "digit asked for …", readout("label_match"), ">", 0.95),
            Claim("… and accepts more than {value:.0%} of them.", readout("accepted"), ">", 0.85),
        ),
        why=r"""
Mirza and Osindero's conditional GAN gives both networks the label: $G$ gets $[z, e_y]$, $D$ gets the
image with the label. A well-drawn 3 that was asked to be a 7 is now a fake to $D$, so $G$ must draw
the digit asked for, and $z$ is left to carry only the style: a column of the grid shares one $z$ and
shows one "handwriting" across the ten digits.
""",
    ),
    Experiment(
        title="Arithmetic on z: a slanted 4",
        settings={"conditional": True},
        start="continue",
        watch="",
        do="Pause, open **🧭 Latent space: walks and arithmetic**, choose *slanted − upright*, digit with the "
           "attribute 1, digit to give it to 4, and look at the answer and its eight neighbours.",
        predict=Question("slanted 1 − upright 1 + upright 4 in the conditional model gives …",
                         ("a slanted 1", "a slanted 4", "noise"), answer=1),
        claims=(
            Claim("The classifier reads at least {value:.0%} of the answer and its eight neighbours as 4s …",
                  arithmetic_reads("slant", 1, 4), ">=", 0.85),
            Claim("… and the answer leans further right than the upright 4s, by more than {value:.1f} pixels "
                  "per row.", arithmetic_gain("slant", 1, 4), ">", 0.5),
        ),
        why=r"""
Radford et al.'s *smiling woman − neutral woman + neutral man*: the mean $z$ of slanted 1s minus that
of upright 1s is a direction meaning "more slanted"; added to the mean $z$ of upright 4s and drawn
with the label 4, it gives a slanted 4. In the conditional model the label carries the digit, so $z$
is free to carry the style alone; without labels $z$ mixes identity and style, and the same sum can
land on another digit. Try *bold − thin* on 3 and 7 too: the answer is mostly read as a 7, less surely.
""",
    ),
)
