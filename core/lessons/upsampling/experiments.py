"""The upsampling lesson's guided steps (``core.experiments``): the transposed convolution by hand
(view ①), the overlap behind checkerboards (view ②), then the four decoders (view ③) at
initialisation, trained, and fully trained. The view is not a trainer setting (it lives in
``ViewerConfig``), so each step's ``do`` names the view to open. Every claim is measured with the
functions the page draws from: ``viewer.tconv_view``, ``viewer.overlap_chart`` and the checkerboard
scores the decoders' chart plots."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from core.experiments import Claim, Experiment, Question, shipped
from core.lessons.upsampling import CHECKPOINT, viewer
from core.lessons.upsampling.config import ViewerConfig
from core.lessons.upsampling.grids import parse_grid
from core.lessons.upsampling.trainer import UpsamplingTrainer

RESIZE, TCONV = ("nearest", "bilinear"), ("tconv3", "tconv4")


def pretrained(config, device, read: Callable[[str], dict[str, Any]] = shipped) -> UpsamplingTrainer:
    """What ⚡ Load pretrained loads: the shipped 2,000-step run of the four decoders. ``read(stem)``:
    the checkpoint (the page passes its cached ``ui.checkpoint``)."""
    return UpsamplingTrainer.from_checkpoint(read(CHECKPOINT), device)


# ---------------------------------------------------------------- the static views, as the page draws them
def lecture_output(**changes: Any) -> np.ndarray:
    """View ①'s output on the lecture's example (input 1, 2; 3, 4, 1×1 kernel of weight 1, stride 2)."""
    cfg = ViewerConfig(**changes)
    grid, kernel = parse_grid(cfg.grid, "input", 2, 8), parse_grid(cfg.kernel, "kernel", 1, 5)
    return viewer.tconv_view(grid, kernel, cfg).result.output


def overlap_levels(k: int, s: int, layers: int = 1) -> list[int]:
    """View ②'s interior path counts (the sentence above its bars)."""
    return viewer.overlap_chart(k, s, layers)[0].levels


# ---------------------------------------------------------------- the decoders, as the checkerboard chart plots them
def score(run, variant: str) -> float:
    """The decoder's latest checkerboard score (the chart's last point, under its picture)."""
    return float(run.trainer.metrics.last(f"checker_{variant}"))


def tconv_over_resize(run) -> float:
    """The cleaner transposed conv's score over the noisier resize + conv decoder's."""
    return min(score(run, v) for v in TCONV) / max(score(run, v) for v in RESIZE)


def bilinear_over_tconv3(run) -> float:
    return score(run, "bilinear") / score(run, "tconv3")


_SEEDS = (0, 1, 2)

EXPERIMENTS = (
    Experiment(
        title="A transposed convolution by hand: the lecture's 1×1 kernel",
        start="reset", watch="chart_out", page_widgets={"view": "viewer"},
        do="The set-up opens view **① Viewer: step by step** (input 1, 2; 3, 4, kernel 1, stride 2 are its "
           "defaults). Read the output, then set **Output padding = 1**.",
        predict=Question("Input 2×2, a 1×1 kernel of weight 1, stride 2, no padding: how big is the output?",
                         ("2×2", "3×3", "4×4"), answer=1),
        claims=(
            Claim("the output is {value:.0f}×{value:.0f}: (2 − 1)·2 + 1 = 3", lambda run: lecture_output().shape[0],
                  "≈", 3, 0),
            Claim("{value:.0f} of its 9 pixels are inserted zeros", lambda run: (lecture_output() == 0).sum(),
                  "≈", 5, 0),
            Claim("with output padding 1 it is {value:.0f}×{value:.0f}, the slide's picture",
                  lambda run: lecture_output(output_padding=1).shape[0], "≈", 4, 0),
        ),
        why=r"A transposed convolution with stride $s$ puts $s - 1$ zeros between the input pixels, pads, "
            r"and runs an ordinary convolution with the kernel flipped by 180°. The output size per axis is "
            r"$(n - 1)\,s - 2p + d\,(k - 1) + \text{output padding} + 1$. With a 1×1 kernel nothing fills "
            r"the inserted zeros: the input is simply spread out. Output padding only tells the layer which "
            r"size it is undoing (a stride-2 convolution maps both 5 and 6 pixels to 3).",
    ),
    Experiment(
        title="Overlap: kernel 3, stride 2",
        start="reset", watch="chart_ov1d", page_widgets={"view": "overlap"},
        do="The set-up opens view **② Overlap and checkerboards** (kernel 3, stride 2, 2 layers); then set "
           "the kernel size to 4.",
        predict=Question("Kernel 3, stride 2, one layer: do all output pixels inside the picture receive "
                         "the same number of kernel taps?", ("yes", "no: 1 and 2 alternate"), answer=1),
        claims=(
            Claim("one layer: interior pixels receive between 1 and {value:.0f} taps, alternating",
                  lambda run: max(overlap_levels(3, 2, 1)), "≈", 2, 0),
            Claim("two stacked layers: {value:.0f} different interior counts, the pattern compounds",
                  lambda run: len(overlap_levels(3, 2, 2)), "≈", 3, 0),
            Claim("kernel 4 (divisible by the stride): {value:.0f} count everywhere inside",
                  lambda run: len(overlap_levels(4, 2, 2)), "≈", 1, 0),
        ),
        why=r"Each input pixel stamps the kernel onto the output, $s$ pixels further along than its "
            r"neighbour. When $k$ is not a multiple of $s$ the stamps overlap unevenly: with $k = 3$, "
            r"$s = 2$ every other output pixel gets two contributions, the rest one. In 2D that becomes "
            r"1, 2 and 4: a grid pattern before any learning. With $k = 4$ the overlap is even inside the "
            r"picture (the borders still taper off).",
    ),
    Experiment(
        title="Four decoders before any training",
        start="reset", watch="chart_checker", page_widgets={"view": "decoders"},
        do="The set-up opens view **③ Four decoders trained live** at step 0: press **Step** once and "
           "compare the row “at initialisation” and the first point of the checkerboard chart.",
        predict=Question("Untrained, with random weights: which decoders already draw a pixel grid?",
                         ("none: random weights draw noise", "the transposed convolutions",
                          "the resize + conv decoders"), answer=1),
        claims=(
            Claim("the transposed convolutions' checkerboard score is more than {value:.0f}× the resize + conv "
                  "decoders' at step 0", tconv_over_resize, ">", 2.0, seeds=_SEEDS),
        ),
        why="The checkerboard score is the RMS gap between an output and its own slightly blurred self, on "
            "smooth gradient targets (a smooth ramp scores 0). A transposed convolution's output pixels come "
            "in phases, each made by a different subset of the kernel's weights; random weights make the "
            "phases disagree, so the pattern is there from the start — even with kernel 4, whose overlap is "
            "even. Resizing first gives every pixel the same kind of neighbourhood, so the 3×3 convolution "
            "after it has no phases to disagree.",
    ),
    Experiment(
        title="Train them side by side",
        start="continue", train=300, watch="chart_checker", page_widgets={"view": "decoders"},
        predict=Question("After 300 steps on the same batches, which decoder's outputs are smoothest?",
                         ("transposed conv k = 3", "transposed conv k = 4", "bilinear resize + conv"),
                         answer=2),
        claims=(
            Claim("transposed conv k = 3 still scores more than {value:.1f}× the bilinear + conv decoder",
                  lambda run: 1 / bilinear_over_tconv3(run), ">", 1.5, seeds=_SEEDS),
            Claim("transposed conv k = 4 too: more than {value:.1f}× the bilinear + conv decoder",
                  lambda run: score(run, "tconv4") / score(run, "bilinear"), ">", 1.5, seeds=_SEEDS),
        ),
        why="Training lowers every score, since the targets are smooth, but the transposed convolutions "
            "must *learn* to make their phases agree, weight by weight, while the loss is busy with shapes "
            "and positions. The resize + conv decoders get smoothness for free from the resize (bilinear "
            "more than nearest, which copies pixels into 2×2 blocks). This is why later GAN generators "
            "replaced DCGAN's fractionally-strided convolutions by resize + conv, the lecture's "
            "UpSampling2D + Conv2D generator.",
    ),
    Experiment(
        title="After 2,000 steps: the pattern stays",
        start="pretrained", watch="chart_checker", page_widgets={"view": "decoders"},
        do="The set-up loads the shipped run (2,000 steps, as ⚡ Load pretrained does): compare the outputs "
           "on the gradient example.",
        predict=Question("Does more training remove the transposed convolutions' checkerboard?",
                         ("yes, completely", "it shrinks but stays above the resize decoders'"), answer=1),
        claims=(
            Claim("bilinear + conv scores less than {value:.0%} of transposed conv k = 3",
                  bilinear_over_tconv3, "<", 0.6),
            Claim("both transposed convs still score above both resize + conv decoders (ratio > {value:.1f})",
                  tconv_over_resize, ">", 1.2),
        ),
        why="The recorded run trained all four for 2,000 steps. The scores have fallen, but their order is "
            "the stable part: the transposed convolutions keep a faint speckle; the resize decoders do "
            "not. The dashed line is the targets' own score (about 0.004), the floor a perfect decoder "
            "would reach.",
    ),
)
