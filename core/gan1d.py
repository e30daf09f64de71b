"""Lesson 1: a GAN that learns points (x, f(x)) on a 1D function (seed 000, activity 4).

The generator maps noise z ~ N(0, I) to a pair (x, y); the discriminator scores pairs. Training
follows Goodfellow et al.'s Algorithm 1: k discriminator steps, then one generator step.

Shapes: latent z: [B, latent_size]; a point (x, y): [B, 2]; a discriminator logit a: [B, 1],
with D(x, y) = σ(a) for the cross-entropy losses and D = a for least squares.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.device import pick_device
from core.fastnet import ACTIVATIONS, FlatAdam, FlatMLP, FlatSGD
from core.formula import Formula, FormulaError, check_on_range, parse_formula
from core.live import (Diverged, History, config_from_dict, config_to_dict, live_field, structural_field,
                       with_live_fields)

LESSON = "gan1d"

# Built-in targets: label -> formula text (parsed by the same safe parser as typed ones).
TARGETS: dict[str, str] = {
    "x²": "x**2",
    "x³": "x**3",
    "sin": "sin(3*x)",
    "|x|": "abs(x)",
    "line": "0.5*x + 0.1",
}
G_LOSSES = ("non-saturating", "minimax", "least-squares")
D_ACTIVATION = "leaky_relu"      # the usual GAN advice for discriminators
OPTIMIZERS = ("adam", "sgd")


@dataclass
class Gan1DConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    target: str = structural_field("x**2")          # formula text in x
    x_min: float = structural_field(-0.5)
    x_max: float = structural_field(0.5)
    latent_size: int = structural_field(5)
    g_width: int = structural_field(15)
    g_depth: int = structural_field(1)                # hidden layers
    g_activation: str = structural_field("relu")
    d_width: int = structural_field(25)
    d_depth: int = structural_field(1)
    seed: int = structural_field(0)
    g_loss: str = live_field("non-saturating")      # one of G_LOSSES
    optimizer: str = live_field("adam")             # one of OPTIMIZERS
    lr_d: float = live_field(1e-3)
    lr_g: float = live_field(1e-3)
    beta1: float = live_field(0.5)                  # Adam's β₁ (0.5 is the DCGAN advice)
    momentum: float = live_field(0.9)               # SGD only
    k: int = live_field(1)                          # D steps per G step
    batch_size: int = live_field(128)
    eval_every: int = structural_field(50)          # steps between quality measurements


def check_config(cfg: Gan1DConfig) -> Formula:
    """Validate a config; return the parsed target. Raises ValueError with a readable message."""
    if not (cfg.x_max > cfg.x_min):
        raise ValueError("the x range is empty: x max must be larger than x min")
    if cfg.g_loss not in G_LOSSES:
        raise ValueError(f"unknown generator loss {cfg.g_loss!r}")
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimiser {cfg.optimizer!r}")
    if cfg.g_activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {cfg.g_activation!r}")
    for name in ("latent_size", "g_width", "d_width", "k", "batch_size", "eval_every"):
        if int(getattr(cfg, name)) < 1:
            raise ValueError(f"{name} must be at least 1")
    for name in ("lr_d", "lr_g"):
        v = getattr(cfg, name)
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number")
    f = parse_formula(cfg.target)
    check_on_range(f, cfg.x_min, cfg.x_max)
    return f


def mlp_sizes(n_in: int, width: int, depth: int, n_out: int) -> list[int]:
    """n_in -> width (× depth hidden layers) -> n_out; depth 0 is a linear map."""
    return [n_in] + [width] * depth + [n_out]


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_proj: int = 32) -> float:
    """Sliced 1-Wasserstein distance between two equal-size point clouds a, b: [n, 2].

    SW(a, b) = mean over directions θ of W1(θ·a, θ·b), W1 in 1D = mean |sort(θ·a) − sort(θ·b)|.
    Fixed, evenly spread directions make it deterministic.
    """
    ang = np.linspace(0, np.pi, n_proj, endpoint=False)
    theta = np.stack([np.cos(ang), np.sin(ang)], axis=1)          # [P, 2]
    pa, pb = np.sort(a @ theta.T, axis=0), np.sort(b @ theta.T, axis=0)  # [n, P]
    return float(np.abs(pa - pb).mean())


class _BlockStream:
    """Random numbers drawn in blocks (one RNG call per block, not per step)."""

    def __init__(self, draw, block_steps: int = 256) -> None:
        self._draw = draw            # draw(n_rows) -> tensor [n_rows, d]
        self._block_steps = block_steps
        self._buf: torch.Tensor | None = None
        self._pos = 0
        self._rows = 0

    def next(self, rows: int) -> torch.Tensor:
        if self._buf is None or rows != self._rows or self._pos + rows > self._buf.shape[0]:
            self._buf, self._pos, self._rows = self._draw(rows * self._block_steps), 0, rows
        out = self._buf[self._pos:self._pos + rows]
        self._pos += rows
        return out


class Gan1DTrainer:
    """Trains the 1D GAN; see the module docstring for shapes."""

    HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad")
    METRIC_KEYS = ("mean_abs_err", "sliced_w1")
    N_EVAL = 1000      # generated points used for the quality measures
    N_SHOW = 400       # points drawn on the chart
    GRID = 40          # heatmap resolution

    def __init__(self, config: Gan1DConfig, device: torch.device | None = None) -> None:
        self.config = dataclasses.replace(config)
        self.f = check_config(self.config)
        self.device = device or pick_device()
        cfg = self.config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.G = FlatMLP(mlp_sizes(cfg.latent_size, cfg.g_width, cfg.g_depth, 2), cfg.g_activation, self.device)
            self.D = FlatMLP(mlp_sizes(2, cfg.d_width, cfg.d_depth, 1), D_ACTIVATION, self.device)
        # D's loss as one expression over [real; fake]: sign s = −1 for real rows, +1 for fake rows.
        self._sign: torch.Tensor | None = None
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self._np_rng = np.random.default_rng(cfg.seed + 2)
        self._noise = _BlockStream(lambda n: torch.randn(n, self.config.latent_size, generator=self._gen).to(self.device))
        self._real = _BlockStream(self._draw_real)
        # Fixed evaluation inputs so successive frames are comparable.
        eval_rng = np.random.default_rng(12345)
        self._eval_z = torch.from_numpy(eval_rng.standard_normal((self.N_EVAL, cfg.latent_size))).float().to(self.device)
        xr = eval_rng.uniform(cfg.x_min, cfg.x_max, self.N_EVAL)
        self._eval_real = np.stack([xr, self.f(xr)], axis=1)
        self._build_optimizers()
        self.step_count = 0            # full iterations (k D steps + 1 G step)
        self.d_steps = 0
        self.g_steps = 0
        self.last_phase = ""           # "d", "g" or "iteration": what the last call ran
        self.history = History(self.HISTORY_KEYS, capacity=1000)
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self._pending: list[torch.Tensor] = []   # per-iteration [4] tensors, synced once per chunk
        self._last_d = tuple(torch.zeros((), device=self.device) for _ in range(3))
        self._record_metrics()

    # ---------------------------------------------------------------- setup
    def _draw_real(self, n: int) -> torch.Tensor:
        """n samples (x, f(x)) with x ~ U[x_min, x_max]: [n, 2]."""
        x = self._np_rng.uniform(self.config.x_min, self.config.x_max, n)
        return torch.from_numpy(np.stack([x, self.f(x)], axis=1)).float().to(self.device)

    def _build_optimizers(self) -> None:
        cfg = self.config
        if cfg.optimizer == "adam":
            self.opt_d = FlatAdam(self.D, cfg.lr_d, betas=(cfg.beta1, 0.999))
            self.opt_g = FlatAdam(self.G, cfg.lr_g, betas=(cfg.beta1, 0.999))
        else:
            self.opt_d = FlatSGD(self.D, cfg.lr_d, cfg.momentum)
            self.opt_g = FlatSGD(self.G, cfg.lr_g, cfg.momentum)

    def apply_live(self, config: Gan1DConfig) -> None:
        """Adopt learning rates, k, batch size, losses and optimiser without touching weights."""
        old = self.config
        new = with_live_fields(old, config)
        check_config(new)
        self.config = new
        if new.optimizer != old.optimizer:
            self._build_optimizers()   # fresh optimiser state for the other rule
            return
        self.opt_d.lr, self.opt_g.lr = new.lr_d, new.lr_g
        if new.optimizer == "sgd":
            self.opt_d.momentum = self.opt_g.momentum = new.momentum
        else:
            self.opt_d.betas = self.opt_g.betas = (new.beta1, 0.999)

    # ---------------------------------------------------------------- losses
    # a = D's logit. Cross-entropy losses read D = σ(a); least squares reads D = a.
    def _d_value(self, logits: torch.Tensor) -> torch.Tensor:
        """What the charts call D(x, y): a probability for BCE losses, the raw score for LS."""
        return logits if self.config.g_loss == "least-squares" else torch.sigmoid(logits)

    def _signs(self, B: int) -> torch.Tensor:
        """s: [2B, 1], −1 for the real rows and +1 for the fake rows of [real; fake]."""
        if self._sign is None or self._sign.shape[0] != 2 * B:
            self._sign = torch.cat([-torch.ones(B, 1), torch.ones(B, 1)]).to(self.device)
        return self._sign

    def _d_loss_and_grad(self, a: torch.Tensor, B: int) -> tuple[torch.Tensor, torch.Tensor]:
        """L_D and ∂L_D/∂a for logits a: [2B, 1] of [real; fake]."""
        if self.config.g_loss == "least-squares":
            # L_D = ½ E[(D(x) − 1)²] + ½ E[D(G(z))²];  target t = 1 (real), 0 (fake)
            t = (1 - self._signs(B)) / 2
            r = a - t
            return 0.5 * (r * r).sum() / B, r / B
        # L_D = −E[log D(x)] − E[log(1 − D(G(z)))]. With z = s·a this is (1/B) Σ softplus(z),
        # since −log σ(a) = softplus(−a) and −log(1 − σ(a)) = softplus(a); ∂/∂a = s·σ(z)/B.
        s = self._signs(B)
        z = a * s
        return torch.nn.functional.softplus(z).sum() / B, torch.sigmoid(z) * s / B

    def _g_loss_and_grad(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """L_G and ∂L_G/∂a for logits a: [B, 1] of generated points."""
        B = a.shape[0]
        kind = self.config.g_loss
        if kind == "minimax":
            # L_G = E[log(1 − D(G(z)))] = −E[softplus(a)];  ∂/∂a = −σ(a)/B → 0 when D wins
            return -torch.nn.functional.softplus(a).mean(), -torch.sigmoid(a) / B
        if kind == "least-squares":
            # L_G = ½ E[(D(G(z)) − 1)²];  ∂/∂a = (a − 1)/B
            r = a - 1
            return 0.5 * (r * r).mean(), r / B
        # non-saturating: L_G = −E[log D(G(z))] = E[softplus(−a)];  ∂/∂a = (σ(a) − 1)/B
        return torch.nn.functional.softplus(-a).mean(), (torch.sigmoid(a) - 1) / B

    # ---------------------------------------------------------------- steps
    def _d_update(self) -> None:
        """One ascent step of D on log D(x) + log(1 − D(G(z))) (descent on L_D)."""
        B = self.config.batch_size
        fake = self.G.forward(self._noise.next(B))
        real = self._real.next(B)
        a, cache = self.D.forward_cache(torch.cat([real, fake]))    # one pass for both: [2B, 1]
        loss, d_a = self._d_loss_and_grad(a, B)
        self.D.backward(cache, d_a)
        self.opt_d.step()
        self.d_steps += 1
        dv = self._d_value(a)
        self._last_d = (loss, dv[:B].mean(), dv[B:].mean())

    def _g_update(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One descent step of G on L_G through a frozen D (D's weights are not updated)."""
        B = self.config.batch_size
        x, g_cache = self.G.forward_cache(self._noise.next(B))
        a, d_cache = self.D.forward_cache(x)
        loss, d_a = self._g_loss_and_grad(a)
        d_x = self.D.backward(d_cache, d_a, param_grads=False, input_grad=True)
        self.G.backward(g_cache, d_x)
        self.opt_g.step()
        self.g_steps += 1
        # |∂L_G/∂a| per generated sample: what reaches G through D (the "vanishing gradient" plot)
        return loss, d_a.abs().mean() * B

    def step(self, n: int = 1) -> None:
        """n full iterations of Algorithm 1. Raises ``Diverged`` if anything became NaN/inf."""
        every = self.config.eval_every
        for _ in range(int(n)):
            for _ in range(self.config.k):
                self._d_update()
            g_loss, g_grad = self._g_update()
            d_loss, d_real, d_fake = self._last_d
            self._pending.append(torch.stack([d_loss, g_loss, d_real, d_fake, g_grad]))
            self.step_count += 1
            if self.step_count % every == 0:
                self._flush()
                self._record_metrics()
        self.last_phase = "iteration"
        self._flush()

    def step_d(self) -> None:
        """One discriminator update only (the inner loop body of Algorithm 1)."""
        self._d_update()
        self.last_phase = "d"
        self._check_finite(torch.stack(list(self._last_d)))

    def step_g(self) -> None:
        """One generator update only; completes an iteration for the counters."""
        g_loss, g_grad = self._g_update()
        d_loss, d_real, d_fake = self._last_d
        self._pending.append(torch.stack([d_loss, g_loss, d_real, d_fake, g_grad]))
        self.step_count += 1
        if self.step_count % self.config.eval_every == 0:
            self._flush()
            self._record_metrics()
        self.last_phase = "g"
        self._flush()

    def _check_finite(self, values: torch.Tensor) -> None:
        ok = torch.isfinite(values).all() & self.G.all_finite() & self.D.all_finite()
        if not bool(ok):
            raise Diverged(f"Training diverged at step {self.step_count}: a loss or weight became "
                           "NaN or infinite. Lower the learning rates and press Reset.")

    def _flush(self) -> None:
        """Move the pending per-iteration losses to the history (one device sync)."""
        if not self._pending:
            return
        vals = torch.stack(self._pending)           # [n, 5]
        self._pending = []
        self._check_finite(vals)
        arr = vals.cpu().numpy().astype(np.float64)
        n = arr.shape[0]
        steps = np.arange(self.step_count - n + 1, self.step_count + 1)
        self.history.add_many(steps, {k: arr[:, i] for i, k in enumerate(self.HISTORY_KEYS)})

    @torch.no_grad()
    def _generate(self, z: torch.Tensor) -> np.ndarray:
        return self.G(z).cpu().numpy().astype(np.float64)

    def _record_metrics(self) -> None:
        pts = self._generate(self._eval_z)
        with np.errstate(all="ignore"):
            err = np.abs(pts[:, 1] - self.f(pts[:, 0]))
        mae = float(np.nanmean(err)) if np.isfinite(err).any() else float("nan")
        sw = sliced_wasserstein(pts, self._eval_real) if np.isfinite(pts).all() else float("nan")
        self.metrics.add(self.step_count, mean_abs_err=mae, sliced_w1=sw)

    # ---------------------------------------------------------------- reading
    @torch.no_grad()
    def snapshot(self) -> dict[str, Any]:
        """Arrays for the charts.

        real, fake: [N_SHOW, 2]; grid_x: [GRID], grid_y: [GRID], d_grid: [GRID, GRID] (rows = y);
        curve: [200, 2] the target; history/metrics: dicts of [m] arrays.
        """
        cfg = self.config
        fake = self._generate(self._eval_z[: self.N_SHOW])
        real = self._eval_real[: self.N_SHOW]
        xs = np.linspace(cfg.x_min, cfg.x_max, 200)
        curve = np.stack([xs, self.f(xs)], axis=1)
        span_x = cfg.x_max - cfg.x_min
        y_lo, y_hi = float(curve[:, 1].min()), float(curve[:, 1].max())
        span_y = max(y_hi - y_lo, 0.1 * span_x, 1e-3)
        gx = np.linspace(cfg.x_min - 0.25 * span_x, cfg.x_max + 0.25 * span_x, self.GRID)
        gy = np.linspace(y_lo - 0.3 * span_y, y_hi + 0.3 * span_y, self.GRID)
        XX, YY = np.meshgrid(gx, gy)                                     # [GRID, GRID], rows = y
        pts = torch.from_numpy(np.stack([XX.ravel(), YY.ravel()], 1)).float().to(self.device)
        d_grid = self._d_value(self.D(pts)).cpu().numpy().reshape(self.GRID, self.GRID)
        return {
            "step": self.step_count, "d_steps": self.d_steps, "g_steps": self.g_steps,
            "last_phase": self.last_phase, "real": real, "fake": fake, "curve": curve,
            "grid_x": gx, "grid_y": gy, "d_grid": d_grid.astype(np.float64),
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "mean_abs_err": self.metrics.last("mean_abs_err"), "sliced_w1": self.metrics.last("sliced_w1"),
            "g_loss_kind": cfg.g_loss, "target": cfg.target,
        }

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        self._flush()
        return {
            "lesson": LESSON, "config": config_to_dict(self.config), "step": self.step_count,
            "model": {"G": self.G.state_dict(), "D": self.D.state_dict()},
            "optim": {"G": self.opt_g.state_dict(), "D": self.opt_d.state_dict()},
            "history": {"losses": self.history.state_dict(), "metrics": self.metrics.state_dict()},
            "extra": {"d_steps": self.d_steps, "g_steps": self.g_steps},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # Sizes first: FlatMLP/FlatAdam copy with broadcasting, so a damaged file with 1-element
        # tensors "loaded" (every weight 0) and the next step failed (tests/test_hostile.py).
        for name, net in (("G", self.G), ("D", self.D)):
            tensors = [state["model"][name]["flat"]] + [
                v for k, v in state["optim"][name].items() if k in ("m", "v", "buf") and v is not None]
            if any(not torch.is_tensor(t) or t.shape != net.flat.shape for t in tensors):
                raise ValueError("checkpoint network shape does not match the config")
        self.G.load_state_dict(state["model"]["G"])
        self.D.load_state_dict(state["model"]["D"])
        self.opt_g.load_state_dict(state["optim"]["G"])
        self.opt_d.load_state_dict(state["optim"]["D"])
        self.history.load_state_dict(state["history"]["losses"])
        self.metrics.load_state_dict(state["history"]["metrics"])
        self.step_count = int(state["step"])
        self.d_steps = int(state["extra"]["d_steps"])
        self.g_steps = int(state["extra"]["g_steps"])

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: torch.device | None = None) -> "Gan1DTrainer":
        """A new trainer (own copies of every tensor) continuing from a checkpoint."""
        t = cls(config_from_dict(Gan1DConfig, state["config"]), device)
        t.load_state_dict(state)
        return t


def pretrain(seed: int = 0, steps: int = 5000) -> dict[str, Any]:
    """The shipped x² run: the default config trained ``steps`` iterations on the CPU."""
    trainer = Gan1DTrainer(Gan1DConfig(seed=seed), torch.device("cpu"))
    trainer.step(steps)
    m = trainer.metrics.arrays()
    return {
        "checkpoints": {"gan1d_x2": trainer.state_dict()},
        "metrics": {"steps": trainer.step_count,
                    "mean_abs_err": round(float(m["mean_abs_err"][-1]), 5),
                    "best_mean_abs_err": round(float(np.nanmin(m["mean_abs_err"])), 5),
                    "sliced_w1": round(float(m["sliced_w1"][-1]), 5),
                    "d_real": round(trainer.history.last("d_real"), 4),
                    "d_fake": round(trainer.history.last("d_fake"), 4)},
    }
