"""The 1D GAN's settings, each declared once (bounds, options, help, live or structural)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.fastnet import ACTIVATIONS
from core.formula import Formula, check_on_range, parse_formula
from core.settings import live_field, lr_field, seed_field, structural_field

# Built-in targets: label -> formula text (parsed by the same safe parser as typed ones).
TARGETS: dict[str, str] = {
    "x²": "x**2",
    "x³": "x**3",
    "sin": "sin(3*x)",
    "|x|": "abs(x)",
    "line": "0.5*x + 0.1",
}
CUSTOM = "custom formula…"
G_LOSSES = ("non-saturating", "minimax", "least-squares")
OPTIMIZERS = ("adam", "sgd")
X_BOUNDS = (-3.0, 3.0)


@dataclass
class Gan1DConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    target: str = structural_field("x**2", label="Formula in x", widget="none")   # from preset/formula
    x_min: float = structural_field(-0.5, label="x min", bounds=X_BOUNDS, widget="none")
    x_max: float = structural_field(0.5, label="x max", bounds=X_BOUNDS, widget="none")
    latent_size: int = structural_field(5, label="Latent size", bounds=(1, 16))
    g_width: int = structural_field(15, label="G width", bounds=(2, 64))
    g_depth: int = structural_field(1, label="G hidden layers", bounds=(0, 4))
    g_activation: str = structural_field("relu", label="G activation", options=tuple(ACTIVATIONS))
    d_width: int = structural_field(25, label="D width", bounds=(2, 64))
    d_depth: int = structural_field(1, label="D hidden layers", bounds=(0, 4))
    seed: int = seed_field()
    g_loss: str = live_field("non-saturating", label="Generator loss", options=G_LOSSES, widget="radio",
                             help="minimax: minimise log(1 − D(G(z))), Algorithm 1 as published. "
                                  "non-saturating: minimise −log D(G(z)). least-squares: LSGAN.")
    optimizer: str = live_field("adam", label="Optimiser", options=OPTIMIZERS)
    lr_d: float = lr_field(1e-3, "D learning rate")
    lr_g: float = lr_field(1e-3, "G learning rate")
    beta1: float = live_field(0.5, label="Adam β₁", bounds=(0.0, 0.95), step=0.05,
                              help="0.5 is the DCGAN advice.")
    momentum: float = live_field(0.9, label="SGD momentum", bounds=(0.0, 0.95), step=0.05)
    k: int = live_field(1, label="k (D steps per G step)", bounds=(1, 10))
    batch_size: int = live_field(128, label="Batch size", options=(8, 16, 32, 64, 128, 256, 512),
                                 widget="select_slider")
    eval_every: int = structural_field(50, label="Measure every … steps", bounds=(1, 10_000), widget="none")


def check_config(cfg: Gan1DConfig) -> Formula:
    """Checks across fields; return the parsed target. Raises ValueError with a readable message."""
    if not (cfg.x_max > cfg.x_min):
        raise ValueError("the x range is empty: x max must be larger than x min")
    for name in ("lr_d", "lr_g"):
        if not (math.isfinite(getattr(cfg, name)) and getattr(cfg, name) > 0):
            raise ValueError(f"{name} must be a positive number")
    f = parse_formula(cfg.target)
    check_on_range(f, cfg.x_min, cfg.x_max)
    return f


def preset_of(formula: str) -> str:
    """The preset label whose formula this is, or CUSTOM."""
    return next((k for k, v in TARGETS.items() if v == formula), CUSTOM)
