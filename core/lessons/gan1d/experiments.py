"""The 1D GAN's guided experiments (``core.experiments``): Algorithm 1 converging to D = ½, the
minimax loss's vanishing gradient and the non-saturating fix (seed 000 activity 4, seed 003),
a learning rate that blows the run up, and the shipped finished run."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from core.experiments import Claim, Experiment, Question, Run, shipped
from core.lessons.gan1d.trainer import Gan1DTrainer

SEEDS = (0, 1, 2)
# A discriminator that outpaces a generator that barely moves: k = 10 D steps per G step, D's
# learning rate 10× G's usual, G's 100× smaller. After 300 iterations D tells fake from real.
STRONG_D = {"lr_d": 1e-2, "lr_g": 1e-5, "k": 10}


def pretrained(config: Any, device: torch.device, read: Callable[[str], dict[str, Any]] = shipped) -> Gan1DTrainer:
    """The shipped x² run, whatever the settings (what ⚡ Load pretrained loads). ``read(stem)``:
    the checkpoint (the page passes its cached ``ui.checkpoint``)."""
    return Gan1DTrainer.from_checkpoint(read("gan1d_x2"), device)


def mean_abs_err(run: Run) -> float:
    """The page's "mean |y − f(x)|" readout: 1,000 fixed latent draws, measured every 50 steps."""
    return float(run.trainer.snapshot()["mean_abs_err"])


def _recent(run: Run, key: str, n: int = 50) -> np.ndarray:
    return run.trainer.history.arrays()[key][-n:]


def d_real_off_half(run: Run) -> float:
    return float(abs(np.mean(_recent(run, "d_real")) - 0.5))


def d_fake_off_half(run: Run) -> float:
    return float(abs(np.mean(_recent(run, "d_fake")) - 0.5))


def g_gradient(run: Run) -> float:
    """The bottom chart's |∂L_G/∂a|, the median of the last 50 iterations."""
    return float(np.median(_recent(run, "g_grad")))


def blew_up(run: Run) -> float:
    return 1.0 if run.error and "blew up" in run.error else 0.0


EXPERIMENTS = (
    Experiment(
        "A GAN learns y = x²",
        start="reset", train=2000, watch="chart_field",
        predict=Question("When the generator has learnt the curve, what does the discriminator say about "
                         "real and generated points?",
                         ("D(real) → 1 and D(fake) → 0", "Both → ½: it cannot tell them apart",
                          "Both → 1"), answer=1),
        claims=(Claim("the generated points lie on the curve: mean |y − x²| below {value:.2f} after 2,000 "
                      "iterations (3 seeds)", mean_abs_err, "<", 0.03, seeds=SEEDS),
                Claim("mean D(real) ends within {value:.2f} of ½", d_real_off_half, "<", 0.02, seeds=SEEDS),
                Claim("mean D(fake) ends within {value:.2f} of ½", d_fake_off_half, "<", 0.02, seeds=SEEDS)),
        why="The two players play a minimax game, $\\min_G \\max_D\\; \\mathbb{E}[\\log D(x)] + "
            "\\mathbb{E}[\\log(1 - D(G(z)))]$. For a fixed G the best discriminator is "
            "$D^*(x) = p_{data}(x) / (p_{data}(x) + p_g(x))$; once G's points are distributed like "
            "the data, $p_g = p_{data}$ and $D^* = ½$ everywhere: the background fades to one colour."),
    Experiment(
        "When D wins: the minimax loss stops teaching G",
        settings={"g_loss": "minimax", **STRONG_D},
        start="reset", train=300, watch="chart_grad",
        predict=Question("D now trains 10 times per G step and G barely moves. With the minimax loss "
                         "log(1 − D(G(z))), what reaches the generator?",
                         ("A large gradient: G is far off, so it is pushed hard",
                          "A vanishing gradient: G is hardly pushed at all",
                          "The same gradient as before"), answer=1),
        claims=(Claim("|∂L_G/∂a| falls below {value:.2f} (3 seeds)", g_gradient, "<", 0.15, seeds=SEEDS),
                Claim("mean D(fake) falls below ½ by more than {value:.2f}: D spots the fakes",
                      d_fake_off_half, ">", 0.3, seeds=SEEDS)),
        why="With the minimax loss $L_G = \\log(1 - \\sigma(a))$ on D's logit $a$, "
            "$\\partial L_G / \\partial a = -\\sigma(a) = -D(G(z))$: exactly when D confidently calls "
            "a point fake ($D(G(z)) \\to 0$), the gradient G needs vanishes. Early in training, "
            "when G is worst, it learns slowest."),
    Experiment(
        "The non-saturating fix",
        settings={"g_loss": "non-saturating", **STRONG_D},
        start="continue", train=50, watch="chart_grad",
        predict=Question("Same D, same generator. Switch G's loss to −log D(G(z)). The gradient…",
                         ("stays tiny", "jumps up at once", "becomes NaN"), answer=1),
        claims=(Claim("|∂L_G/∂a| jumps above {value:.2f} within 50 iterations (3 seeds)",
                      g_gradient, ">", 0.8, seeds=SEEDS),),
        why="For $L_G = -\\log \\sigma(a)$, $\\partial L_G / \\partial a = -(1 - D(G(z)))$, which is "
            "close to 1 when D rejects the fakes. Both losses have the same fixed point "
            "(D = ½), but this one pushes hardest when G is worst. It is the loss Goodfellow et al. "
            "recommend in practice, and the page's default."),
    Experiment(
        "Let G learn again",
        settings={"g_loss": "non-saturating", "lr_d": 1e-2, "lr_g": 1e-3, "k": 10},
        start="continue", train=2000, watch="chart_field",
        predict=Question("Give G its usual learning rate back (k stays 10). Does it catch up with the strong D?",
                         ("Yes: the points reach the curve", "No: D has won for good"), answer=0),
        claims=(Claim("mean |y − x²| falls below {value:.2f} 2,000 iterations later (3 seeds)",
                      mean_abs_err, "<", 0.02, seeds=SEEDS),),
        why="Nothing is lost for good: with a gradient that does not vanish, G follows D's "
            "belief uphill until its points are where the data is, and D drifts back to ½."),
    Experiment(
        "A learning rate that blows up",
        settings={"optimizer": "sgd", "lr_d": 10.0, "lr_g": 10.0},
        start="reset", train=100, watch="chart_loss",
        predict=Question("SGD with both learning rates at 10: what does the page do?",
                         ("Trains faster", "Stops itself and says the run blew up", "Nothing visible"),
                         answer=1),
        claims=(Claim("the run stops itself with a blow-up message (3 seeds: {value:.0f} = yes)", blew_up,
                      "≈", 1.0, seeds=SEEDS),),
        why="Each update moves a weight by the learning rate times its gradient; at 10 the first "
            "steps overshoot so far that the logits overflow and the loss becomes NaN. The page "
            "pauses and names what happened; ↺ Reset after lowering the rate starts again."),
    Experiment(
        "A finished run, shipped",
        start="pretrained", watch="chart_quality",
        predict=Question("The shipped run trained 5,000 iterations on x². How far are its points from "
                         "the curve, on average?",
                         ("About 0.1", "About 0.01", "Exactly 0"), answer=1),
        claims=(Claim("mean |y − x²| is {value:.3f} ± {tol:.3f}", mean_abs_err, "≈", 0.008, tol=0.004),),
        why="A GAN never reaches zero error: the generator matches a distribution, and its "
            "points keep moving a little as D and G chase each other around the equilibrium. "
            "The Quality chart (log scale) shows how the error fell over the run."),
)
