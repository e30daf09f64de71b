"""The mode-collapse lesson's settings, each declared once (label, bounds, options, help, live or
structural).

Why the sizes stop where they do: one training step trains every panel on every seed (k or
critic-steps discriminator updates, the unrolled look-ahead, one generator update), and a step is
never interrupted, so Pause, Step and the redraws wait for the one in flight. At the largest values
below (4 panels × 8 seeds, batch 128, widths 64, 2 hidden layers, 5 D/critic/unroll steps, on the
spiral) one step takes about 0.09 s of CPU on the 2-core server, 0.15 s when it also measures a
panel (``python benchmarks/bench_gan2d.py --max-settings``; tests/lessons/gan2d checks it); the old
bounds (16 seeds, batch 512, widths 128, 4 hidden layers, 10 steps) took 6.5 s.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.settings import declarations, live_field, lr_field, seed_field, structural_field

DATASETS: dict[str, str] = {
    "ring8": "ring of 8 Gaussians",
    "grid25": "5 × 5 grid of 25 Gaussians",
    "moons": "two moons",
    "spiral": "spiral",
}
METHODS: dict[str, str] = {
    "vanilla": "Vanilla GAN (non-saturating)",
    "minimax": "Minimax GAN (saturating)",
    "wgan-gp": "WGAN-GP",
    "mbstd": "Minibatch std feature",
    "unrolled": "Unrolled GAN",
    "pacgan": "PacGAN",
    "cgan": "Conditional GAN (labels)",
}
# What the multiselect's chips and the legends show: short enough that four chips fit a column.
SHORT_LABELS: dict[str, str] = {
    "vanilla": "vanilla", "minimax": "minimax", "wgan-gp": "WGAN-GP", "mbstd": "minibatch std",
    "unrolled": "unrolled", "pacgan": "PacGAN", "cgan": "conditional",
}
# The page opens on the collapse next to a remedy that covers the modes *with* quality (measured,
# 8 seeds: vanilla 0.9 modes; WGAN-GP 8.0 modes at 85 % high quality; PacGAN 7.9 modes but 8 %).
# WGAN-GP rather than the unrolled GAN (8.0 modes, 79 %): it gets there in fewer steps (59 % high
# quality at step 1,500 against 41 %) and each step costs half as much, so a class sees it live.
DEFAULT_METHODS = ("vanilla", "wgan-gp")
MAX_PANELS = 4
SEED_COUNTS = (1, 2, 4, 8)
STDS = (0.01, 0.02, 0.03, 0.05, 0.1, 0.2)
BATCH_SIZES = (16, 32, 64, 128)
GP_LAMBDAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)
EVAL_EVERY = (25, 50, 100, 200, 500)
MAX_WIDTH = 64
MAX_DEPTH = 2
MAX_INNER_STEPS = 5        # k, critic steps and unroll steps

_LIVE = (" Capped so that one step (every panel, every seed) stays near 0.1 s: a step is never "
         "interrupted, so Pause waits for it.")


@dataclass
class Gan2DConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    dataset: str = structural_field("ring8", label="Real data", options=tuple(DATASETS), labels=DATASETS)
    std: float = structural_field(
        0.05, label="Mode standard deviation σ", options=STDS, widget="select_slider", fmt="{:g}",
        help="Spread of each mode. A generated point within 3σ of its nearest mode counts as high quality.")
    show_real: bool = live_field(True, label="Show real samples")
    methods: tuple = structural_field(
        DEFAULT_METHODS, label=f"Panels (1–{MAX_PANELS})", options=tuple(METHODS), labels=SHORT_LABELS,
        max_items=MAX_PANELS,
        help="Methods trained side by side on the same data, noise and seed. Adding one restarts the run.")
    seed: int = seed_field(0, "First seed")
    n_seeds: int = structural_field(
        1, label="Seeds trained at once", options=SEED_COUNTS, widget="select_slider",
        help="Run N seeds of every panel in one batched computation, to see how often each method "
             "collapses." + _LIVE)
    show_seed: int = live_field(0, label="Seed shown in the panels", bounds=(0, max(SEED_COUNTS) - 1),
                                widget="none")    # drawn by the page (its choices follow seed and n_seeds)
    latent_size: int = structural_field(4, label="Latent size", bounds=(1, 16))
    g_width: int = structural_field(64, label="G width", bounds=(4, MAX_WIDTH), help=_LIVE.strip())
    g_depth: int = structural_field(2, label="G hidden layers", bounds=(0, MAX_DEPTH), help=_LIVE.strip())
    d_width: int = structural_field(64, label="D width", bounds=(4, MAX_WIDTH), help=_LIVE.strip())
    d_depth: int = structural_field(2, label="D hidden layers", bounds=(1, MAX_DEPTH), help=_LIVE.strip())
    pack: int = structural_field(4, label="PacGAN: packing m", bounds=(1, 8),
                                 help="D judges m samples at once (restarts the run).")
    lr_d: float = lr_field(3e-4, "D learning rate")
    lr_g: float = lr_field(1e-3, "G learning rate",
                           help="G learning ~3× faster than D makes the vanilla GAN hop from mode to mode. "
                                "Applies at once; too high and the run blows up.")
    beta1: float = live_field(0.5, label="Adam β₁", bounds=(0.0, 0.95), step=0.05, help="0.5 is the DCGAN advice.")
    batch_size: int = live_field(128, label="Batch size", options=BATCH_SIZES, widget="select_slider",
                                 help=_LIVE.strip())
    k: int = live_field(1, label="k (D steps per G step)", bounds=(1, MAX_INNER_STEPS), help=_LIVE.strip())
    critic_steps: int = live_field(5, label="WGAN-GP critic steps", bounds=(1, MAX_INNER_STEPS),
                                   help="Critic updates per generator update (the WGAN papers use 5)." + _LIVE)
    gp_lambda: float = live_field(1.0, label="WGAN-GP penalty λ", options=GP_LAMBDAS, widget="select_slider",
                                  fmt="{:g}")
    unroll_steps: int = live_field(5, label="Unrolled GAN: unroll steps", bounds=(0, MAX_INNER_STEPS),
                                   help="D steps G looks ahead (0 = the vanilla GAN). Each costs about three "
                                        "D steps." + _LIVE)
    eval_every: int = structural_field(100, label="Measure every … steps", options=EVAL_EVERY,
                                       widget="select_slider",
                                       help="Modes covered, quality and KL are measured on 2,500 samples "
                                            "per seed this often.")


def check_config(cfg: Gan2DConfig) -> None:
    """Checks across fields (the declared bounds and options are checked by core.settings).
    Raises ValueError with a student-readable message."""
    methods = tuple(cfg.methods)
    if not methods:
        raise ValueError("choose at least one method")
    if len(set(methods)) != len(methods):
        raise ValueError("each method can appear only once")


def show_index(shown_seed: int, seed: int, n_seeds: int) -> int:
    """The shown seed as an index into the run's seeds (0 … n_seeds − 1), whatever the widget held."""
    return int(min(max(int(shown_seed) - int(seed), 0), int(n_seeds) - 1))


# The four panels that cost most per step (measured: unrolled ≫ WGAN-GP > minibatch std > the rest).
HEAVIEST = ("unrolled", "wgan-gp", "mbstd", "minimax")


def largest_config(dataset: str = "spiral") -> Gan2DConfig:
    """The most work per step the widgets allow: every size, seed count and inner-step count at
    its declared maximum, the four costliest panels, measuring as often as allowed (the spiral's
    dense reference curve makes measuring dearest). Learning rates stay at their defaults."""
    kw: dict = {"dataset": dataset, "methods": HEAVIEST}
    for name, d in declarations(Gan2DConfig).items():
        if name in ("latent_size", "g_width", "g_depth", "d_width", "d_depth", "pack", "k", "critic_steps",
                    "unroll_steps"):
            kw[name] = d.bounds[1]
        elif name in ("n_seeds", "batch_size"):
            kw[name] = max(d.options)
        elif name == "eval_every":
            kw[name] = min(d.options)
    return Gan2DConfig(**kw)
