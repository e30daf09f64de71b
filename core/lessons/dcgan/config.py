"""Every setting of the DCGAN lesson, declared once: the trained part (``DcganConfig``) and the
latent-space explorer (``LatentConfig``, nothing trained). The page builds its widgets from these
declarations and the URL keeps them (``?dcgan_upsampling=nearest``). No Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.lessons.dcgan.model import UPSAMPLING
from core.settings import live_field, lr_field, seed_field, structural_field

# Sizes offered. Pause waits for the step under way, so the slowest step the widgets allow must
# stay well under 0.25 s: on one thread of the shared 2-core machine width 64 with batch 128 and
# k 5 took 0.45 s, width 48 with k 3 0.19 s; so the caps are width 32 and k 3
# (benchmarks/bench_dcgan.py reports max_step).
WIDTHS = (8, 16, 32)
BATCH_SIZES = (16, 32, 64, 128)
LATENT_SIZES = (2, 8, 16, 32, 64, 100)
CODE_SIZES = (0, 10, 20, 30, 50)
ATTRIBUTES = {"thickness": "bold − thin", "slant": "slanted − upright"}


@dataclass
class DcganConfig:
    """Live fields apply at the next chunk; structural ones restart the run."""

    conditional: bool = structural_field(
        False, label="Conditional GAN (G and D are given the label)",
        help="Mirza & Osindero's conditional GAN: the digit's label goes into G with z and into D "
             "with the image, so you can ask for a 7. The grid then shows one row per digit.")
    upsampling: str = structural_field(
        "tconv4", label="Generator upsampling", options=tuple(UPSAMPLING), labels=UPSAMPLING, widget="select",
        help="Transposed convolutions start with a checkerboard (lesson 5); resize + convolution does not.")
    batch_norm: bool = structural_field(
        True, label="Batch norm", help="In G after the projection and the first upsampling, in D after its "
                                       "second convolution (the DCGAN guideline).")
    width: int = structural_field(32, label="Channels", options=WIDTHS, widget="select_slider",
                                  help="G: 2C at 4×4, C at 8×8; D: C at 8×8, 2C at 4×4. At most 32, so that one step "
                                       "stays short enough for Pause to answer at once.")
    latent_size: int = structural_field(32, label="Latent size (z)", options=LATENT_SIZES, widget="select_slider")
    codes: int = structural_field(
        30, label="Code values (InfoGAN, no labels)", options=CODE_SIZES, widget="select_slider",
        help="G also gets one of K code values, and a head Q on D must tell from the fake digit which "
             "one it was (Chen et al.'s InfoGAN). No labels are used, yet the codes turn into kinds of "
             "digit, so z no longer has to stretch one cloud over ten separate digits. 0: the plain "
             "DCGAN. The conditional GAN uses the labels instead.")
    average: bool = live_field(
        True, label="Averaged generator",
        help="The grid, the quality figures and the latent space use G's weights averaged over its "
             "last ~1,000 steps (an exponential moving average), which smooths the GAN's back and "
             "forth; training is the same either way. Off: G as it is at this step.")
    seed: int = seed_field()
    lr_d: float = lr_field(2e-4, "D learning rate (Adam)")
    lr_g: float = lr_field(1e-3, "G learning rate (Adam)")
    k: int = live_field(1, label="k (D steps per G step)", bounds=(1, 3),
                        help="At most 3, so that one step stays short enough for Pause to answer at once.")
    slope: float = live_field(0.2, label="LeakyReLU slope in D", bounds=(0.0, 0.5), step=0.05,
                              help="0 makes it a plain ReLU: D then passes no gradient through "
                                   "negative activations back to G.")
    real_label: float = live_field(0.9, label="Real label (one-sided smoothing)", bounds=(0.7, 1.0), step=0.05,
                                   help="D is trained to say this, not 1, for real digits, so it stays "
                                        "less sure of itself. Fake digits keep the label 0.")
    batch_size: int = live_field(64, label="Batch size", options=BATCH_SIZES, widget="select_slider",
                                 help="At most 128, so that one step stays short enough for Pause to "
                                      "answer at once.")
    eval_every: int = structural_field(100, label="Measure quality every … steps", bounds=(10, 10_000),
                                       widget="none")


@dataclass
class LatentConfig:
    """The latent-space explorer's settings (the generator is only read, never trained)."""

    start: int = live_field(0, label="From grid cell", bounds=(0, 99), widget="number",
                            help="Cells of the live grid, numbered row by row from 0.")
    end: int = live_field(9, label="To grid cell", bounds=(0, 99), widget="number")
    class_a: int = live_field(3, label="From digit", bounds=(0, 9), widget="number",
                              help="Conditional model: the same z, the label moving from one digit to the other.")
    class_b: int = live_field(8, label="To digit", bounds=(0, 9), widget="number")
    attribute: str = live_field("thickness", label="Arithmetic on", options=tuple(ATTRIBUTES), labels=ATTRIBUTES,
                                widget="radio")
    digit_from: int = live_field(3, label="Digit with the attribute", bounds=(0, 9), widget="number")
    digit_to: int = live_field(7, label="Digit to give it to", bounds=(0, 9), widget="number")
