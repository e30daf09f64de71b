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
from torch import nn
from torch.nn import functional as F

from core.device import pick_device
from core.formula import Formula, FormulaError, check_on_range, parse_formula
from core.live import (Diverged, History, config_from_dict, config_to_dict, live_field,
                       structural_field)

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
ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}
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


def mlp(n_in: int, width: int, depth: int, n_out: int, act: str) -> nn.Sequential:
    """n_in -> [width, act] x depth -> n_out (depth 0 = a linear map)."""
    layers: list[nn.Module] = []
    d = n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), ACTIVATIONS[act]()]
        d = width
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


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

    HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake")
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
            self.G = mlp(cfg.latent_size, cfg.g_width, cfg.g_depth, 2, cfg.g_activation).to(self.device)
            self.D = mlp(2, cfg.d_width, cfg.d_depth, 1, "leaky_relu" if cfg.d_depth else "relu").to(self.device)
        self.g_params = list(self.G.parameters())
        self.d_params = list(self.D.parameters())
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
        self._last_d = (torch.zeros(()), torch.zeros(()), torch.zeros(()))
        self._record_metrics()

    # ---------------------------------------------------------------- setup
    def _draw_real(self, n: int) -> torch.Tensor:
        """n samples (x, f(x)) with x ~ U[x_min, x_max]: [n, 2]."""
        x = self._np_rng.uniform(self.config.x_min, self.config.x_max, n)
        return torch.from_numpy(np.stack([x, self.f(x)], axis=1)).float().to(self.device)

    def _build_optimizers(self) -> None:
        cfg = self.config
        if cfg.optimizer == "adam":
            self.opt_d = torch.optim.Adam(self.d_params, lr=cfg.lr_d, foreach=True)
            self.opt_g = torch.optim.Adam(self.g_params, lr=cfg.lr_g, foreach=True)
        else:
            self.opt_d = torch.optim.SGD(self.d_params, lr=cfg.lr_d, momentum=cfg.momentum, foreach=True)
            self.opt_g = torch.optim.SGD(self.g_params, lr=cfg.lr_g, momentum=cfg.momentum, foreach=True)

    def apply_live(self, config: Gan1DConfig) -> None:
        """Adopt learning rates, k, batch size, losses and optimiser without touching weights."""
        old = self.config
        new = dataclasses.replace(old, **{f.name: getattr(config, f.name)
                                          for f in dataclasses.fields(config) if f.metadata.get("live")})
        check_config(new)
        self.config = new
        if new.optimizer != old.optimizer:
            self._build_optimizers()   # fresh optimiser state for the other rule
            return
        for opt, lr in ((self.opt_d, new.lr_d), (self.opt_g, new.lr_g)):
            for group in opt.param_groups:
                group["lr"] = lr
                if "momentum" in group:
                    group["momentum"] = new.momentum

    # ---------------------------------------------------------------- losses
    def _d_value(self, logits: torch.Tensor) -> torch.Tensor:
        """What the charts call D(x, y): a probability for BCE losses, the raw score for LS."""
        return logits if self.config.g_loss == "least-squares" else torch.sigmoid(logits)

    def _d_loss(self, a_real: torch.Tensor, a_fake: torch.Tensor) -> torch.Tensor:
        if self.config.g_loss == "least-squares":
            # L_D = ½ E[(D(x) − 1)²] + ½ E[D(G(z))²]
            return 0.5 * ((a_real - 1) ** 2).mean() + 0.5 * (a_fake ** 2).mean()
        # L_D = −E[log D(x)] − E[log(1 − D(G(z)))], with log σ(a) = −softplus(−a),
        # log(1 − σ(a)) = −softplus(a): the negated objective Algorithm 1 ascends.
        return F.softplus(-a_real).mean() + F.softplus(a_fake).mean()

    def _g_loss(self, a_fake: torch.Tensor) -> torch.Tensor:
        kind = self.config.g_loss
        if kind == "minimax":
            # L_G = E[log(1 − D(G(z)))] = −E[softplus(a)]: saturates (gradient → 0) when D wins
            return -F.softplus(a_fake).mean()
        if kind == "least-squares":
            # L_G = ½ E[(D(G(z)) − 1)²]
            return 0.5 * ((a_fake - 1) ** 2).mean()
        # non-saturating: L_G = −E[log D(G(z))] = E[softplus(−a)]
        return F.softplus(-a_fake).mean()

    # ---------------------------------------------------------------- steps
    def _d_update(self) -> None:
        B = self.config.batch_size
        with torch.no_grad():
            fake = self.G(self._noise.next(B))
        real = self._real.next(B)
        a = self.D(torch.cat([real, fake]))          # one forward for both halves: [2B, 1]
        a_real, a_fake = a[:B], a[B:]
        loss = self._d_loss(a_real, a_fake)
        grads = torch.autograd.grad(loss, self.d_params)
        for p, g in zip(self.d_params, grads):
            p.grad = g
        self.opt_d.step()
        self.d_steps += 1
        with torch.no_grad():
            dv = self._d_value(a.detach())
            self._last_d = (loss.detach(), dv[:B].mean(), dv[B:].mean())

    def _g_update(self) -> torch.Tensor:
        B = self.config.batch_size
        a_fake = self.D(self.G(self._noise.next(B)))
        loss = self._g_loss(a_fake)
        # Gradients for G's weights only: D's weights stay as they are (Algorithm 1).
        grads = torch.autograd.grad(loss, self.g_params)
        for p, g in zip(self.g_params, grads):
            p.grad = g
        self.opt_g.step()
        self.g_steps += 1
        return loss.detach()

    def step(self, n: int = 1) -> None:
        """n full iterations of Algorithm 1. Raises ``Diverged`` if anything became NaN/inf."""
        every = self.config.eval_every
        for _ in range(int(n)):
            for _ in range(self.config.k):
                self._d_update()
            g_loss = self._g_update()
            d_loss, d_real, d_fake = self._last_d
            self._pending.append(torch.stack([d_loss, g_loss, d_real, d_fake]))
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
        g_loss = self._g_update()
        d_loss, d_real, d_fake = self._last_d
        self._pending.append(torch.stack([d_loss, g_loss, d_real, d_fake]))
        self.step_count += 1
        if self.step_count % self.config.eval_every == 0:
            self._flush()
            self._record_metrics()
        self.last_phase = "g"
        self._flush()

    def _check_finite(self, values: torch.Tensor) -> None:
        ok = bool(torch.isfinite(values).all()) and all(bool(torch.isfinite(p).all()) for p in self.g_params + self.d_params)
        if not ok:
            raise Diverged(f"Training diverged at step {self.step_count}: a loss or weight became "
                           "NaN or infinite. Lower the learning rates and press Reset.")

    def _flush(self) -> None:
        """Move the pending per-iteration losses to the history (one device sync)."""
        if not self._pending:
            return
        vals = torch.stack(self._pending)           # [n, 4]
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
            "model": {"G": {k: v.cpu() for k, v in self.G.state_dict().items()},
                      "D": {k: v.cpu() for k, v in self.D.state_dict().items()}},
            "optim": {"G": self.opt_g.state_dict(), "D": self.opt_d.state_dict()},
            "history": {"losses": self.history.state_dict(), "metrics": self.metrics.state_dict()},
            "extra": {"d_steps": self.d_steps, "g_steps": self.g_steps},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
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
