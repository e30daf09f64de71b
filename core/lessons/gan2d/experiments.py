"""The mode-collapse lesson's guided steps (``core.experiments``): modes dropped (the vanilla GAN
hopping from mode to mode), then recovered by the lecture's remedies — WGAN-GP, mini-batch
features and packing (coverage without quality), the unrolled GAN, and labels. Most steps start
from the shipped 3,000-step runs (⚡ Load pretrained), so a class sees the trained result at once;
one step trains four seeds live. Every claim is measured as the page shows it: a panel's heading
(modes covered, high-quality share, on the fixed evaluation noise) and its *where the mass sat*
trail."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from core.checkpoints import CheckpointError
from core.experiments import Claim, Experiment, Question, shipped
from core.lessons.gan2d.config import DEFAULT_METHODS
from core.lessons.gan2d.metrics import mode_metrics
from core.lessons.gan2d.pretrained import load_pretrained
from core.lessons.gan2d.trainer import Gan2DTrainer


def pretrained(config, device, read: Callable[[str], dict[str, Any]] = shipped) -> Gan2DTrainer:
    """What ⚡ Load pretrained loads: the recorded runs (ring of 8, seed 0, 3,000 steps) of the
    chosen panels, merged into one trainer. ``read(stem)``: a checkpoint (the page passes its
    cached ``ui.checkpoint``); a missing or refused file is skipped."""
    return load_pretrained(read, tuple(config.methods) or DEFAULT_METHODS, device, CheckpointError)


def heading(trainer: Gan2DTrainer, method: str, seed_index: int = 0) -> dict[str, Any]:
    """A panel's heading numbers for one of the run's seeds: what the page shows with that seed
    picked under *Seed shown* (``Gan2DTrainer.snapshot``: the same samples, the same metrics)."""
    d = trainer.data
    x = trainer.runs[method].eval_samples(seed_index=seed_index)[0]
    return mode_metrics(x, d.ref, d.ref_label, d.n_modes, d.std)


def covered(method: str) -> Callable[[Any], float]:
    return lambda run: float(heading(run.trainer, method)["covered"])


def quality(method: str) -> Callable[[Any], float]:
    return lambda run: float(heading(run.trainer, method)["hq"])


def modes_visited(method: str) -> Callable[[Any], float]:
    """How many different modes held the panel's mass at some recorded measurement: the distinct
    brightest cells of its *where the mass sat* chart (measurements with no high-quality sample
    left out)."""
    def measure(run) -> float:
        trail = np.asarray(run.trainer.runs[method].rec.arrays(run.trainer.data.n_modes)["trail"])
        busy = trail[trail.sum(1) > 0]
        return float(len(set(busy.argmax(1).tolist())))
    return measure


def seeds_with_all(method: str) -> Callable[[Any], float]:
    """Of the run's seeds, how many cover every mode now."""
    def measure(run) -> float:
        t = run.trainer
        return float(sum(heading(t, method, i)["covered"] == t.data.n_modes for i in range(t.config.n_seeds)))
    return measure


def most_on_a_seed(method: str) -> Callable[[Any], float]:
    def measure(run) -> float:
        t = run.trainer
        return float(max(heading(t, method, i)["covered"] for i in range(t.config.n_seeds)))
    return measure


def all_modes_on(method: str, name: str, share: float) -> tuple[Claim, Claim]:
    """A remedy's two numbers, read together: every mode covered, and most samples on a mode."""
    return (Claim(f"{name} covers all {{value:.0f}} modes", covered(method), "≈", 8, 0),
            Claim("…with more than {value:.0%} of its samples on them", quality(method), ">", share))


EXPERIMENTS = (
    Experiment(
        title="A GAN that drops modes",
        start="pretrained", watch="chart_covered",
        do="Press **⚡ Load pretrained** (3,000 recorded steps of vanilla GAN | WGAN-GP), then open "
           "**⏮ Replay the recorded run** and drag the slider; on ⏸ Pause, read *Where the mass sat*.",
        predict=Question("The vanilla GAN trained 3,000 steps on a ring of 8 Gaussians. How many modes "
                         "does it cover at the end?", ("all 8", "4 or 5", "1 or 2"), answer=2),
        claims=(
            Claim("the vanilla GAN covers at most {value:.0f} of the 8 modes", covered("vanilla"), "<=", 2),
            Claim("…with fewer than {value:.0%} of its samples on a mode (high quality)", quality("vanilla"),
                  "<", 0.05),
            Claim("yet over the recorded run its mass sat on {value:.0f} or more different modes, one at a time",
                  modes_visited("vanilla"), ">=", 6),
            *all_modes_on("wgan-gp", "WGAN-GP", 0.75),
        ),
        why=r"$G$ only has to make $D$ say “real”. A single mode does that until $D$ learns that this "
            r"mode is now mostly fake; $G$ then jumps to whichever mode $D$ currently trusts, $D$ follows, "
            r"and so on: the mass hops around the ring instead of spreading over it (the staircase in "
            r"*Where the mass sat*, the orange rings on the scatter). A mode counts as covered when some "
            r"sample within $3\sigma$ of it is nearest to it; the high-quality share is the fraction of "
            r"samples within $3\sigma$ of any mode, both on 2,500 samples of fixed noise.",
    ),
    Experiment(
        title="Four seeds, live: how often does it collapse?",
        settings={"n_seeds": 4},
        start="reset", train=300, watch="chart_covered",
        do="Press **▶ Train** (it pauses after 300 steps), then move *Seed shown* through the four seeds "
           "and read each panel's heading; the per-seed chart and table are under the panels.",
        predict=Question("Same settings, four seeds: on how many does WGAN-GP reach all 8 modes within 300 steps?",
                         ("none", "one or two", "three or four"), answer=2),
        claims=(
            Claim("WGAN-GP covers all 8 modes on at least {value:.0f} of the 4 seeds", seeds_with_all("wgan-gp"),
                  ">=", 3),
            Claim("the vanilla GAN covers at most {value:.0f} mode on any seed", most_on_a_seed("vanilla"),
                  "<=", 1),
        ),
        why="All four seeds of a panel train in one batched computation: every weight tensor has a seed "
            "axis. One seed can be luck; four show the pattern. The vanilla GAN's points wander between "
            "modes, so few of them count as high quality, and it holds at most one mode at a time. WGAN-GP's "
            "critic is trained several steps per generator step to estimate the Wasserstein distance: "
            r"its gradient points from every fake sample towards the data, so no mode is left without a pull.",
    ),
    Experiment(
        title="Mini-batch features and packing: coverage without quality",
        settings={"methods": ("vanilla", "mbstd", "pacgan")},
        start="pretrained", watch="chart_quality",
        do="Choose the panels *vanilla, minibatch std, PacGAN* and press **⚡ Load pretrained**.",
        predict=Question("Letting D look at a whole batch (minibatch std) or at 4 samples at once (PacGAN) "
                         "rewards diversity. What do you expect after 3,000 steps?",
                         ("all 8 modes, mostly on them", "all 8 modes, but mostly between them",
                          "still one mode"), answer=1),
        claims=(
            Claim("PacGAN covers all {value:.0f} modes", covered("pacgan"), "≈", 8, 0),
            Claim("…but fewer than {value:.0%} of its samples are on a mode", quality("pacgan"), "<", 0.15),
            Claim("the minibatch-std GAN: fewer than {value:.0%} on a mode", quality("mbstd"), "<", 0.2),
        ),
        why="The lecture's mini-batch GANs: $D$ sees a feature of the whole batch (here the spread of its "
            "samples) or several samples at once, so a batch of look-alikes is easy to call fake and $G$ is "
            "pushed to diversify. It works for coverage: every mode gets some samples. But a cloud sprayed "
            "over the whole ring also touches every mode, which is why each heading shows coverage *and* "
            "quality: read them together.",
    ),
    Experiment(
        title="Looking ahead: the unrolled GAN",
        settings={"methods": ("vanilla", "unrolled")},
        start="pretrained", watch="chart_covered",
        do="Choose the panels *vanilla, unrolled* and press **⚡ Load pretrained**.",
        predict=Question("G's loss is taken against D after 5 more D steps. Does that stop the hopping?",
                         ("yes", "no"), answer=0),
        claims=all_modes_on("unrolled", "the unrolled GAN", 0.7),
        why=r"Hopping happens because $G$ moves to the mode $D$ forgot, ignoring that $D$ will follow. The "
            r"unrolled GAN differentiates through $K$ of $D$'s future (Adam) steps, so $G$ sees $D$'s "
            r"reaction before it moves: parking everything on one mode no longer pays. Each step costs "
            r"about $K$ times more, which is why WGAN-GP is the page's default remedy.",
    ),
    Experiment(
        title="Supervision with labels: the conditional GAN",
        settings={"methods": ("vanilla", "cgan")},
        start="pretrained", watch="chart_kl",
        do="Choose the panels *vanilla, conditional* and press **⚡ Load pretrained**.",
        predict=Question("G and D are told which mode each sample belongs to. What happens to collapse?",
                         ("it disappears", "it gets worse", "nothing changes"), answer=0),
        claims=all_modes_on("cgan", "the conditional GAN", 0.9),
        why="With the mode's label as an input, $G$ must produce a convincing sample *of each mode on "
            "demand*, and $D$ judges each sample against its label: putting everything on one mode fails "
            "for the other seven labels. The lecture's “label information of the real data might help”, "
            "and it is the conditional GAN that draws the MNIST digit you ask for.",
    ),
)
