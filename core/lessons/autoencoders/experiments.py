"""The autoencoder lesson's guided experiments (``core.experiments``): the maps forming from scratch,
the three latent spaces compared on the shipped run, β pulled both ways, denoising at full noise,
and a walk through the latent space. Every claim is measured on what the page shows: the snapshot
(scatter codes, reconstructions, z = μ + σ·ε for the fixed 8, the quality readouts, the losses)
and the explorer's walk. No Streamlit.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from core.experiments import Claim, Experiment, Question, Run, shipped
from core.lessons.autoencoders import explore
from core.lessons.autoencoders.config import AutoencodersConfig
from core.lessons.autoencoders.model import AE, DAE, VAE
from core.lessons.autoencoders.trainer import AutoencodersTrainer

CHECKPOINT = "autoencoders_digits"
RECON_ROWS = {"digit": 0, "noisy": 1, "ae": 2, "dae": 3, "vae": 4}     # the reconstruction grid's rows
WINDOW = 50                                                           # losses averaged over this many records


def pretrained(config: AutoencodersConfig, device: torch.device,
               read: Callable[[str], dict[str, Any]] = shipped) -> AutoencodersTrainer:
    """What ⚡ Load pretrained loads: the shipped 12,000-step run with its own settings (the page
    then shows them). ``read(stem)``: the checkpoint (the page passes its cached ``ui.checkpoint``)."""
    return AutoencodersTrainer.from_checkpoint(read(CHECKPOINT), device)


# --------------------------------------------------------------------------- measures
def readout(key: str) -> Callable[[Run], float]:
    """A quality readout as the page shows it (its last measurement)."""
    def measure(run: Run) -> float:
        return float(run.trainer.snapshot()["last"][key])
    return measure


def spread(run: Run, m: int) -> float:
    """The largest |coordinate| of model m's 300 scattered held-out codes (its map's reach)."""
    return float(np.abs(run.trainer.snapshot()["codes"][m]).max())


def spread_ratio(run: Run) -> float:
    return spread(run, AE) / spread(run, VAE)


def sigma(reduce: Callable[[np.ndarray], float]) -> Callable[[Run], float]:
    """σ of the fixed held-out 8 in the written-out z = μ + σ·ε, over both latent dimensions."""
    def measure(run: Run) -> float:
        return float(reduce(run.trainer.snapshot()["reparam"]["sigma"]))
    return measure


def kl_of_the_8(run: Run) -> float:
    return float(run.trainer.snapshot()["reparam"]["kl"])


def loss_change(key: str) -> Callable[[Run], float]:
    """Mean of the loss ``key`` over the last WINDOW records minus its mean over the WINDOW records
    before this step began (the loss chart's line, before and after)."""
    def measure(run: Run) -> float:
        h = run.trainer.snapshot()["history"]
        start = run.trainer.step_count - run.experiment.train
        before = h[key][h["step"] <= start][-WINDOW:]
        return float(np.mean(h[key][-WINDOW:]) - np.mean(before))
    return measure


def recon_error(row: str) -> Callable[[Run], float]:
    """Mean absolute pixel difference between a row of the reconstruction grid and the digits."""
    def measure(run: Run) -> float:
        rows = run.trainer.snapshot()["recon"].reshape(len(RECON_ROWS), -1, 256)
        return float(np.abs(rows[RECON_ROWS[row]] - rows[RECON_ROWS["digit"]]).mean())
    return measure


def denoised_share(run: Run) -> float:
    """The denoising AE's error as a share of the noisy copy's."""
    return recon_error("dae")(run) / recon_error("noisy")(run)


def walk_frames(m: int, a: int, b: int) -> Callable[[Run], float]:
    """Frames of the explorer's walk from digit a to b that model m's decoder draws as a digit."""
    def measure(run: Run) -> float:
        return float(explore.walk(run.trainer, a, b).accepted[m].sum())
    return measure


# --------------------------------------------------------------------------- the steps
EXPERIMENTS = (
    Experiment(
        title="From a grey blob to a map of digits",
        start="reset",
        train=2000,
        watch="chart_knn",
        do="Press **▶ Train** and watch the three maps, then the 5-NN chart (bottom right). The run pauses itself "
           "after 2,000 steps (about 10 s).",
        predict=Question(
            "No label is ever used in training. After 2,000 steps, do the digits of one kind end up near each "
            "other in the 2-number code?",
            ("No: without labels the code cannot know what a 3 is", "Yes, mostly: most digits' nearest "
             "neighbours in the code are the same digit"), answer=1),
        claims=(
            Claim("The VAE's 5-NN accuracy (1,000 held-out digits) is above {value:.0%} …",
                  readout("knn_vae"), ">", 0.55, seeds=(0, 1)),
            Claim("… its decoded grid shows at least {value:.0f} of the ten digits …",
                  readout("classes_vae"), ">=", 8, seeds=(0, 1)),
            Claim("… and the autoencoder's codes reach more than {value:.0f}× as far from 0 as the VAE's.",
                  spread_ratio, ">", 3, seeds=(0, 1)),
        ),
        why=r"""
Two numbers cannot hold 256 pixels, so to rebuild the digit the encoder has to keep what matters
most: which digit it is, and roughly how it is written. Digits that look alike get similar codes, so
the kinds of digit separate without any label. The 5-NN accuracy measures that: a held-out digit is
given the majority label of its 5 nearest training digits in the code space (chance is 10 %). It and
the grid's readouts are measured every 200 steps, so they move in steps.
""",
    ),
    Experiment(
        title="Three latent spaces compared",
        start="pretrained",
        watch="chart_map_0",
        do="⚡ Loads the shipped 12,000-step run. Compare the axes of the three maps, and read z = μ + σ·ε "
           "for the held-out 8 under the quality readouts.",
        predict=Question("Which codes stay closest to 0?",
                         ("The autoencoder's", "The VAE's", "All three alike"), answer=1),
        claims=(
            Claim("The autoencoder's codes reach more than {value:.0f}× as far as the VAE's …",
                  spread_ratio, ">", 5),
            Claim("… the VAE's stay within ±{value:.1f} …", lambda run: spread(run, VAE), "<", 4.5),
            Claim("… and the VAE is sure of the 8's code: σ is below {value:.2f} in both dimensions.",
                  sigma(np.max), "<", 0.1),
        ),
        why=r"""
Nothing tells an autoencoder where to put its codes, so they drift far out in long arms with gaps
between them. The VAE's loss adds the KL divergence of each code's distribution
$\mathcal N(\mu, \sigma^2)$ from the prior $\mathcal N(0, I)$,
$\mathrm{KL} = -\tfrac12\sum_j\bigl(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\bigr)$,
which grows with $\mu^2$: every code is pulled towards 0. The decoder is trained on a sample
$z = \mu + \sigma\cdot\varepsilon$, $\varepsilon \sim \mathcal N(0, I)$ (the reparameterisation:
the randomness is an input, so gradients reach $\mu$ and $\sigma$).
""",
    ),
    Experiment(
        title="β = 8: the KL term wins",
        settings={"beta": 8.0},
        start="continue",
        train=400,
        watch="chart_split",
        predict=Question("β weighs the KL term 8 times more. What happens to the VAE's reconstruction loss?",
                         ("It falls", "It rises", "Nothing: β only changes the KL line"), answer=1),
        claims=(
            Claim("The VAE's reconstruction loss rises by more than {value:.0f} nats per digit (mean of the last "
                  "50 records) …", loss_change("vae_recon"), ">", 4),
            Claim("… the 8's KL term falls below {value:.1f} nats …", kl_of_the_8, "<", 2.0),
            Claim("… its σ grows above {value:.2f} in both dimensions …", sigma(np.min), ">", 0.25),
            Claim("… and the VAE's codes shrink to within ±{value:.1f}.", lambda run: spread(run, VAE), "<", 2.8),
        ),
        why=r"""
With a large β the cheapest way to lower the loss is to make every code's distribution look like the
prior: means near 0, σ near 1. Blobs that wide overlap, so the decoder can no longer tell the digits
apart and draws blurry averages. β trades reconstruction against a smooth, well-filled latent space;
at β → ∞ the code would carry nothing at all.
""",
    ),
    Experiment(
        title="β = 0.1: back to an autoencoder",
        settings={"beta": 0.1},
        start="continue",
        train=400,
        watch="chart_split",
        predict=Question("And with β = 0.1?", ("σ shrinks, the code gets precise", "σ grows further"), answer=0),
        claims=(
            Claim("σ of the 8 falls below {value:.2f} in both dimensions …", sigma(np.max), "<", 0.05),
            Claim("… and its KL term rises above {value:.0f} nats.", kl_of_the_8, ">", 5),
        ),
        why=r"""
With little weight on the KL term the encoder is free to be precise again: σ shrinks and the means
move apart, so reconstructions sharpen, but the space gets patchier. At β = 0 the VAE is an
autoencoder with a little noise on its code. β = 1 is the plain VAE, the one that maximises a bound
on the data's likelihood.
""",
    ),
    Experiment(
        title="Denoising at full noise",
        settings={"beta": 1.0, "noise": 1.0},
        start="continue",
        train=200,
        watch="recon",
        do="Look at the reconstructions: row 2 is the noisy copy the denoising AE gets, row 4 what it rebuilds.",
        predict=Question("The noise is now as strong as the whole pixel range. What does the denoising AE draw?",
                         ("Mostly noise", "A clean digit"), answer=1),
        claims=(
            Claim("Its reconstructions differ from the clean digits by less than {value:.0%} as much as the "
                  "noisy copies do (mean absolute pixel difference).", denoised_share, "<", 0.6),
        ),
        why=r"""
The denoising autoencoder gets $\tilde x = \mathrm{clip}(x + \text{noise}\cdot\xi, 0, 1)$ but is
scored against the clean $x$. It cannot copy pixels through, so it has to learn what digits look
like and draw the nearest one. Its code has only two numbers, so the result is a typical digit of
that kind rather than an exact copy.
""",
    ),
    Experiment(
        title="Walk through the latent space",
        start="pretrained",
        watch="chart_explore",
        do="Pause, open **🧭 Walk through the latent space**, and walk from a 3 to a 5 (From digit 3, To digit 5). "
           "Then try from 1 to 7.",
        predict=Question("On the straight line from a 3's code to a 5's, whose frames stay digits?",
                         ("The autoencoder's", "The VAE's"), answer=1),
        claims=(
            Claim("From 3 to 5 the autoencoder's decoder draws at most {value:.0f} of the 10 frames as a digit …",
                  walk_frames(AE, 3, 5), "<=", 4),
            Claim("… the VAE's at least {value:.0f} …", walk_frames(VAE, 3, 5), ">=", 7),
            Claim("… and from 1 to 7 all three models stay on digits ({value:.0f} frames of 10 or more).",
                  lambda run: min(walk_frames(m, 1, 7)(run) for m in (AE, VAE, DAE)), ">=", 9),
        ),
        why=r"""
The walk decodes $z(\lambda) = (1-\lambda)\,z_a + \lambda\,z_b$ for ten values of $\lambda$. In an
autoencoder nothing was ever encoded in the gaps between the clouds, so a straight path can cross a
hole and decode to a smudge. The VAE's KL term packs the codes around 0 and its noisy training
teaches the decoder a whole neighbourhood of every code, so paths tend to stay on digits. Not every
pair shows it: 1 and 7 are neighbours in every model.
""",
    ),
)
