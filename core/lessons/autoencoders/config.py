"""Every setting of the autoencoder lesson, declared once: the trained part (``AutoencodersConfig``)
and the latent-space explorer (``ExploreConfig``, nothing trained). The page builds its widgets
from these declarations and the URL keeps them (``?autoencoders_beta=4``). No Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.settings import live_field, lr_field, seed_field, structural_field

# Sizes offered. Pause waits for the step under way, so the slowest step the widgets allow (three
# models, width 256, batch 256, latent 16) must stay well under 0.25 s on one thread of the shared
# 2-core machine: it took 0.011 s, and 0.11 s for a step that also measures quality (every 200
# steps; benchmarks/bench_autoencoders.py reports max_step).
WIDTHS = (64, 128, 256)
BATCH_SIZES = (32, 64, 128, 256)
LATENT_SIZES = (2, 4, 8, 16)
BETAS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MODELS = {"ae": "autoencoder", "vae": "VAE", "dae": "denoising AE"}


@dataclass
class AutoencodersConfig:
    """Live fields apply at the next chunk; structural ones restart the run."""

    latent_size: int = structural_field(
        2, label="Latent size", options=LATENT_SIZES, widget="select_slider",
        help="2 lets you see the latent space as it is. Larger codes reconstruct better; the scatter "
             "then shows them projected on their two main directions (PCA).")
    width: int = structural_field(
        128, label="Hidden width", options=WIDTHS, widget="select_slider",
        help="Encoder 256 → W → W/2 → code, decoder the mirror image. At most 256, so that one step "
             "of the three models stays short enough for Pause to answer at once.")
    seed: int = seed_field()
    lr: float = lr_field(3e-3, "Learning rate (Adam, all three)")
    beta: float = live_field(
        1.0, label="β on the VAE's KL term", options=BETAS, widget="select_slider", fmt="{:g}",
        help="Small β: sharp reconstructions, a patchy latent space with gaps between the digits. "
             "Large β: codes pulled onto the prior, a smooth space, blurry digits. 1 is the plain VAE.")
    noise: float = live_field(
        0.5, label="Noise of the denoising AE", bounds=(0.0, 1.0), step=0.05,
        help="Standard deviation of the Gaussian noise added to its input pixels (0 = black … 1 = white); "
             "it must reconstruct the clean digit.")
    batch_size: int = live_field(64, label="Batch size", options=BATCH_SIZES, widget="select_slider",
                                 help="At most 256, so that one step stays short enough for Pause to answer at once.")
    eval_every: int = structural_field(200, label="Measure quality every … steps", bounds=(10, 10_000),
                                       widget="none")


@dataclass
class ExploreConfig:
    """The latent-space explorer's settings (the models are only read, never trained)."""

    model: str = live_field("vae", label="Model", options=tuple(MODELS), labels=MODELS, widget="radio")
    z1: float = live_field(0.0, label="z₁", bounds=(-4.0, 4.0), step=0.1,
                           help="In standard deviations of the held-out codes from their mean (for the VAE: "
                                "z itself, the prior's units). With a larger latent: along the first main direction.")
    z2: float = live_field(0.0, label="z₂", bounds=(-4.0, 4.0), step=0.1)
    digit_a: int = live_field(1, label="From digit", bounds=(0, 9), widget="number",
                              help="A held-out example of this digit (the first one).")
    digit_b: int = live_field(7, label="To digit", bounds=(0, 9), widget="number")
