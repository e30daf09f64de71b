"""The 1D GAN trainer (Goodfellow et al.'s Algorithm 1: k discriminator steps, then one generator
step) on the flat fast nets, with hand-written backward passes (core.fastnet, tested to 1e-10).
The updates themselves are TorchScript functions (``algorithm``): ``train_steps`` runs each
chunk of iterations in one call that does not hold the interpreter lock.

Shapes: latent z: [B, latent_size]; a point (x, y): [B, 2]; a discriminator logit a: [B, 1].
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from core.fastnet import FlatAdam, FlatMLP, FlatSGD
from core.live import History
from core.trainer import TrainerBase
from core.vet import Rng, block_state, check_count, restore_block, rng_state
from core.lessons.gan1d.config import Gan1DConfig, check_config
from core.lessons.gan1d.algorithm import d_update, g_update, iterations
from core.lessons.gan1d.losses import d_value
from core.lessons.gan1d.metrics import mean_abs_error, sliced_wasserstein

D_ACTIVATION = "leaky_relu"      # the usual GAN advice for discriminators
OFF_SCALE = 100.0                # generated points this many data-scales away = a blow-up


def mlp_sizes(n_in: int, width: int, depth: int, n_out: int) -> list[int]:
    """n_in -> width (× depth hidden layers) -> n_out; depth 0 is a linear map."""
    return [n_in] + [width] * depth + [n_out]


class BlockStream:
    """Random numbers drawn in blocks (one RNG call per block of steps, not per step)."""

    def __init__(self, draw: Callable[[int], torch.Tensor], gen: Rng | None = None, block_steps: int = 256) -> None:
        self._draw = draw            # draw(n_rows) -> tensor [n_rows, d]
        self._gen = gen              # what draw() draws from: a checkpoint redraws the block from its state before it
                                     # (None: the block is not saved, a loaded run draws afresh)
        self._start: Any = None
        self._block_steps = block_steps
        self._buf: torch.Tensor | None = None
        self._pos = 0
        self._rows = 0

    def next(self, rows: int) -> torch.Tensor:
        return self.take(rows, 1)

    def take(self, rows: int, count: int) -> torch.Tensor:
        """What ``count`` calls of ``next(rows)`` return, stacked: [count · rows, d]."""
        parts = []
        while count > 0:
            if self._buf is None or rows != self._rows or self._pos + rows > self._buf.shape[0]:
                self._refill(rows)
            c = min(count, (self._buf.shape[0] - self._pos) // rows)
            parts.append(self._buf[self._pos:self._pos + c * rows])
            self._pos += c * rows
            count -= c
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def _refill(self, rows: int) -> None:
        self._start = rng_state(self._gen) if self._gen is not None else None
        self._buf, self._pos, self._rows = self._draw(rows * self._block_steps), 0, rows

    def state_dict(self) -> dict[str, Any]:
        return {} if self._buf is None or self._gen is None else block_state(self._start, self._pos, self._rows)

    def load_state_dict(self, saved: Any, rows: int, where: str) -> None:
        """The block under way, redrawn (only one drawn for ``rows``, the current batch size: a
        block of another size would be drawn afresh at the next step anyway)."""
        self._buf = None
        if self._gen is None:
            return
        block = restore_block(self._gen, saved, (rows,), lambda r: r * self._block_steps, where)
        if block is not None:
            self._refill(rows)
            self._pos = block[1]


class Gan1DTrainer(TrainerBase):
    """Trains the 1D GAN; one step = one iteration of Algorithm 1."""

    LESSON = "gan1d"
    Config = Gan1DConfig
    HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad")
    METRIC_KEYS = ("mean_abs_err", "sliced_w1")
    STEP_UNIT = "iteration"
    N_EVAL = 1000      # generated points used for the quality measures
    N_SHOW = 400       # points drawn on the chart
    GRID = 40          # heatmap resolution

    def check_config(self, config: Gan1DConfig) -> None:
        self.f = check_config(config)

    def build(self) -> None:
        cfg = self.config
        self.G = FlatMLP(mlp_sizes(cfg.latent_size, cfg.g_width, cfg.g_depth, 2), cfg.g_activation, self.device)
        self.D = FlatMLP(mlp_sizes(2, cfg.d_width, cfg.d_depth, 1), D_ACTIVATION, self.device)
        self._sign: torch.Tensor | None = None
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self._np_rng = np.random.default_rng(cfg.seed + 2)
        self._noise = BlockStream(lambda n: torch.randn(n, self.config.latent_size, generator=self._gen).to(self.device),
                                  self._gen)
        self._real = BlockStream(self._draw_real, self._np_rng)
        # Fixed evaluation inputs so successive frames are comparable.
        eval_rng = np.random.default_rng(12345)
        self._eval_z = torch.from_numpy(eval_rng.standard_normal((self.N_EVAL, cfg.latent_size))).float().to(self.device)
        xr = eval_rng.uniform(cfg.x_min, cfg.x_max, self.N_EVAL)
        self._eval_real = np.stack([xr, self.f(xr)], axis=1)
        self._scale = max(float(np.abs(self._eval_real).max()), cfg.x_max - cfg.x_min, 1.0)
        self._build_optimizers()
        self.d_steps = 0
        self.g_steps = 0
        self.last_phase = ""           # "d", "g" or "iteration": what the last call ran
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self._last_d = tuple(torch.zeros((), device=self.device) for _ in range(3))
        self._off_scale: str | None = None
        self._record_metrics()

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

    def on_live_change(self, old: Gan1DConfig, new: Gan1DConfig) -> None:
        """Adopt learning rates, k, batch size, losses and optimiser without touching weights."""
        if new.optimizer != old.optimizer:
            self._build_optimizers()   # fresh optimiser state for the other rule
            return
        self.opt_d.lr, self.opt_g.lr = new.lr_d, new.lr_g
        if new.optimizer == "sgd":
            self.opt_d.momentum = self.opt_g.momentum = new.momentum
        else:
            self.opt_d.betas = self.opt_g.betas = (new.beta1, 0.999)

    # ---------------------------------------------------------------- steps
    def _signs(self, B: int) -> torch.Tensor:
        """s: [2B, 1], −1 for the real rows and +1 for the fake rows of [real; fake]."""
        if self._sign is None or self._sign.shape[0] != 2 * B:
            self._sign = torch.cat([-torch.ones(B, 1), torch.ones(B, 1)]).to(self.device)
        return self._sign

    def _d_update(self) -> None:
        """One ascent step of D (``algorithm.d_update``)."""
        B = self.config.batch_size
        loss, d_real, d_fake, self.opt_d.t = d_update(
            self.D.script_args(), self.opt_d.script_args(), self.opt_d.t, self.G.script_args(),
            self._noise.next(B), self._real.next(B), self._signs(B), self.config.g_loss)
        self.d_steps += 1
        self._last_d = (loss, d_real, d_fake)

    def _g_update(self) -> None:
        """One descent step of G through a frozen D (``algorithm.g_update``); push the iteration's
        history row."""
        B = self.config.batch_size
        loss, g_grad, self.opt_g.t = g_update(self.G.script_args(), self.opt_g.script_args(), self.opt_g.t,
                                              self.D.script_args(), self._noise.next(B), self.config.g_loss)
        self.g_steps += 1
        d_loss, d_real, d_fake = self._last_d
        self.push(torch.stack([d_loss, loss, d_real, d_fake, g_grad]))
        self._measure_if_due()

    def _measure_if_due(self) -> None:
        if self.step_count % self.config.eval_every == 0:
            self.flush()
            self._record_metrics()

    def train_steps(self, n: int) -> None:
        """n full iterations of Algorithm 1, in chunks that end where quality is measured; each
        chunk is one scripted call (``algorithm.iterations``), equal to its updates one by one."""
        cfg = self.config
        B, k = cfg.batch_size, cfg.k
        while n > 0:
            m = min(n, cfg.eval_every - self.step_count % cfg.eval_every)
            rows = torch.empty(m, len(self.HISTORY_KEYS), device=self.device)
            self.opt_g.t, self.opt_d.t = iterations(
                m, k, self.G.script_args(), self.opt_g.script_args(), self.opt_g.t,
                self.D.script_args(), self.opt_d.script_args(), self.opt_d.t,
                self._noise.take(B, m * (k + 1)), self._real.take(B, m * k), self._signs(B), cfg.g_loss, rows)
            self.d_steps += m * k
            self.g_steps += m
            self._last_d = (rows[-1, 0], rows[-1, 2], rows[-1, 3])
            self.push_rows(rows)
            self._measure_if_due()
            n -= m
        self.last_phase = "iteration"

    def step_d(self) -> None:
        """One discriminator update only (the inner loop body of Algorithm 1)."""
        self._d_update()
        self.last_phase = "d"
        self.check_values({k: v.reshape(1).cpu().numpy() for k, v in zip(("d_loss", "d_real", "d_fake"), self._last_d)})

    def step_g(self) -> None:
        """One generator update only; completes an iteration for the counters."""
        self._g_update()
        self.last_phase = "g"
        self.flush()

    # ---------------------------------------------------------------- measuring
    def weights_finite(self) -> bool:
        return bool(self.G.all_finite() & self.D.all_finite())

    def outputs_off_scale(self) -> str | None:
        return self._off_scale

    @torch.no_grad()
    def _generate(self, z: torch.Tensor) -> np.ndarray:
        return self.G(z).cpu().numpy().astype(np.float64)

    def _record_metrics(self) -> None:
        pts = self._generate(self._eval_z)
        finite = np.isfinite(pts).all()
        far = float(np.abs(pts).max()) if finite else float("inf")
        self._off_scale = (f"the generated points reached |{far:.3g}|, more than {OFF_SCALE:g}× the "
                           f"data's scale ({self._scale:.3g})") if finite and far > OFF_SCALE * self._scale else None
        sw = sliced_wasserstein(pts, self._eval_real) if finite else float("nan")
        self.metrics.add(self.step_count, mean_abs_err=mean_abs_error(pts, self.f), sliced_w1=sw)

    @torch.no_grad()
    def snapshot(self) -> dict[str, Any]:
        """Arrays for the charts.

        real, fake: [N_SHOW, 2]; grid_x: [GRID], grid_y: [GRID], d_grid: [GRID, GRID] (rows = y);
        curve: [200, 2] the target; history/metrics: dicts of [m] arrays.
        """
        cfg = self.config
        xs = np.linspace(cfg.x_min, cfg.x_max, 200)
        curve = np.stack([xs, self.f(xs)], axis=1)
        span_x = cfg.x_max - cfg.x_min
        y_lo, y_hi = float(curve[:, 1].min()), float(curve[:, 1].max())
        span_y = max(y_hi - y_lo, 0.1 * span_x, 1e-3)
        gx = np.linspace(cfg.x_min - 0.25 * span_x, cfg.x_max + 0.25 * span_x, self.GRID)
        gy = np.linspace(y_lo - 0.3 * span_y, y_hi + 0.3 * span_y, self.GRID)
        XX, YY = np.meshgrid(gx, gy)                                     # [GRID, GRID], rows = y
        pts = torch.from_numpy(np.stack([XX.ravel(), YY.ravel()], 1)).float().to(self.device)
        d_grid = d_value(self.D(pts), cfg.g_loss).cpu().numpy().reshape(self.GRID, self.GRID)
        return {
            "step": self.step_count, "d_steps": self.d_steps, "g_steps": self.g_steps,
            "last_phase": self.last_phase, "real": self._eval_real[: self.N_SHOW],
            "fake": self._generate(self._eval_z[: self.N_SHOW]), "curve": curve,
            "grid_x": gx, "grid_y": gy, "d_grid": d_grid.astype(np.float64),
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "mean_abs_err": self.metrics.last("mean_abs_err"), "sliced_w1": self.metrics.last("sliced_w1"),
            "g_loss_kind": cfg.g_loss, "target": cfg.target,
        }

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return {"G": self.G, "D": self.D}

    def optimizers(self) -> dict[str, Any]:
        return {"G": self.opt_g, "D": self.opt_d}

    def histories(self) -> dict[str, Any]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        return {"d_steps": self.d_steps, "g_steps": self.g_steps,
                "noise_block": self._noise.state_dict(), "real_block": self._real.state_dict()}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        for k in ("d_steps", "g_steps"):
            check_count(extra.get(k, 0), f"extra.{k}")
        self.d_steps = int(extra.get("d_steps", 0))
        self.g_steps = int(extra.get("g_steps", 0))
        B = int(self.config.batch_size)
        self._noise.load_state_dict(extra.get("noise_block"), B, "extra.noise_block")
        self._real.load_state_dict(extra.get("real_block"), B, "extra.real_block")
