"""The forecasting trainer: one trainer *step* is one epoch over the training pairs.

Shapes (see ``data``): X: [N, T, F] (T, F = 1, L or L, 1), y: [N, 1], the first
``n_train_pairs`` rows are the training pairs. After every epoch the one-step predictions of all
N pairs are evaluated (train and test RMSE in the series' units) and kept for the charts.

An epoch can be long (batch 1 over 3,000 pairs of a 3-layer LSTM takes seconds), and a step is
never interrupted, so Pause would wait for it. With ``slice_seconds`` set (the live page sets
it), ``step`` returns after about that long, in the middle of an epoch if need be; the next call
carries on where it stopped (same batches, same random numbers, so the run is the same however
it is sliced). ``train_epochs(n)`` trains exactly n whole epochs whatever the slicing.
"""
from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core import settings
from core.lessons.forecast import metrics
from core.lessons.forecast.config import MAX_HORIZON, ForecastConfig, cross_check
from core.lessons.forecast.data import (Scaler, framing_example, frame_windows, load_series, make_windows,
                                        split_point)
from core.lessons.forecast.model import Forecaster, detach_state, fast_path, make_optimizer, mse_grads
from core.live import Diverged
from core.trainer import TrainerBase
from core.vet import check_optimizer, check_rng_layout, check_shapes, set_rng_state

LIVE_SLICE_SECONDS = 0.05     # the live page's steps last about this (+ one batch or block)
# Pairs predicted at once. One block of the largest recurrent net (3 × 64, 24 time steps) takes
# ~35 ms; the airline series (132 pairs) and the default generated ones fit in one block.
EVAL_BLOCK = 512


@dataclass
class _Sweep:
    """One-step predictions in progress: pairs 0 … pos−1 are done (blocks in ``out``)."""

    pos: int = 0
    out: list[torch.Tensor] = field(default_factory=list)
    state: Any = None                   # stateful: the state after pair pos−1


@dataclass
class _Epoch:
    """Where an unfinished epoch stands: the batch order, the next pair, the summed loss, and
    the evaluation that follows the last batch."""

    order: torch.Tensor | None          # [n_train_pairs] shuffled indices (None when stateful)
    total: torch.Tensor                 # Σ batch loss × batch size so far
    pos: int = 0
    state: Any = None                   # stateful: the state carried from the previous pair
    sweep: _Sweep = field(default_factory=_Sweep)


class ForecastTrainer(TrainerBase):
    """Trains one forecaster; ``step(n)`` runs up to n epochs (see the module docstring)."""

    LESSON = "forecast"
    Config = ForecastConfig
    HISTORY_KEYS = ("loss", "train_rmse", "test_rmse")
    STEP_UNIT = "epoch"
    PARK_KEEP = ("slice_seconds",)     # set by the live page's factory, not part of a checkpoint

    def __init__(self, config: ForecastConfig, device: torch.device | None = None,
                 slice_seconds: float | None = None) -> None:
        self.slice_seconds = slice_seconds
        self.blowup: str | None = None          # the blow-up message, once the run has blown up
        super().__init__(config, device)

    def parkable(self) -> bool:
        """Whether a checkpoint holds the whole run (core.parking): not while an epoch, or the
        first sweep, is in progress (a checkpoint starts the next epoch afresh)."""
        return self._epoch is None and self._first is None

    # ---------------------------------------------------------------- setup
    def check_config(self, config: ForecastConfig) -> None:
        cross_check(config)

    def build(self) -> None:
        cfg = self.config
        self.series = load_series(cfg)
        v = self.series.values
        self.n_train = split_point(len(v), cfg.train_frac)
        self.scaler = Scaler.fit(v[: self.n_train], cfg.scale)      # training part only
        Xw, yw, t = make_windows(self.scaler.transform(v), cfg.look_back)
        self.t = t                                                   # [N] target indices
        self.is_train = t < self.n_train                            # [N]
        self.n_train_pairs = int(self.is_train.sum())
        self._target_size = metrics.target_size(yw[: self.n_train_pairs])
        dev = self.device
        self.X = torch.from_numpy(frame_windows(Xw, cfg.framing)).float().to(dev)   # [N, T, F]
        self.y = torch.from_numpy(yw[:, None]).float().to(dev)                       # [N, 1]
        self.Xtr, self.ytr = self.X[: self.n_train_pairs], self.y[: self.n_train_pairs]
        self.actual = torch.from_numpy(v[t]).float().to(dev)                # [N] in the series' units
        T, F = self.X.shape[1], self.X.shape[2]
        # the base seeded torch with cfg.seed just before build: the weights follow from the seed
        self.model = Forecaster(cfg.model, F, T, cfg.hidden, cfg.layers, cfg.dropout).to(dev)
        self._fast = fast_path(self.model, T)       # hand-written gradients for the default LSTM
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        # dropout draws from torch's global RNG: keep a private copy of it so a run is reproducible
        self._rng_state = torch.Generator().manual_seed(cfg.seed + 2).get_state()
        self._cuda_rng_state: torch.Tensor | None = None
        self.opt = make_optimizer(cfg.optimizer, self.model.parameters(), cfg.lr)
        self.train_seconds = 0.0
        self.run_id = uuid.uuid4().hex[:8]
        self._epoch: _Epoch | None = None
        self._pred: torch.Tensor | None = None       # [N] scaled one-step predictions, last evaluation
        self._final_state: Any = None                # stateful: the state after all N pairs
        self._first: _Sweep | None = None            # the untrained predictions, while being computed

    def modules(self) -> dict[str, Any]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"opt": self.opt}

    def on_live_change(self, old: ForecastConfig, new: ForecastConfig) -> None:
        """A new optimiser starts fresh; a new learning rate keeps the optimiser's moments."""
        if new.optimizer != old.optimizer:
            self.opt = make_optimizer(new.optimizer, self.model.parameters(), new.lr)
            return
        for g in self.opt.param_groups:
            g["lr"] = new.lr

    @property
    def finished(self) -> bool:
        return self.step_count >= self.config.epochs

    @property
    def effective_batch(self) -> int:
        return 1 if self.config.stateful else min(int(self.config.batch_size), self.n_train_pairs)

    # ---------------------------------------------------------------- training
    def train_steps(self, n: int) -> None:
        """Up to n epochs, never past ``config.epochs``; stops early after ``slice_seconds``."""
        n = min(int(n), self.config.epochs - self.step_count)
        if n <= 0:
            return
        t0 = time.perf_counter()
        deadline = t0 + self.slice_seconds if self.slice_seconds else math.inf
        self.model.train()
        cuda = self.device.type == "cuda"
        with torch.random.fork_rng(devices=[self.device] if cuda else []):
            torch.set_rng_state(self._rng_state)
            if cuda and self._cuda_rng_state is not None:
                torch.cuda.set_rng_state(self._cuda_rng_state, self.device)
            try:
                for _ in range(n):
                    if not self._train_epoch(deadline):
                        break                              # out of time mid-epoch: carry on next call
                    if time.perf_counter() > deadline:
                        break
            finally:
                self._rng_state = torch.get_rng_state()
                if cuda:
                    self._cuda_rng_state = torch.cuda.get_rng_state(self.device)
                self.train_seconds += time.perf_counter() - t0

    def _train_epoch(self, deadline: float) -> bool:
        """Train the current epoch's remaining batches; True (and push) when the epoch is done."""
        if self._epoch is None:
            order = None if self.config.stateful else torch.randperm(self.n_train_pairs, generator=self._gen)
            self._epoch = _Epoch(order=None if order is None else order.to(self.device),
                                 total=torch.zeros((), device=self.device))
        ep = self._epoch
        if ep.pos < self.n_train_pairs:
            done = self._stateful_batches(ep, deadline) if self.config.stateful else self._batches(ep, deadline)
            if not done or time.perf_counter() > deadline:
                return False
        if not self._sweep(ep.sweep, deadline):
            return False
        self._epoch = None
        # loss of the epoch = (1/n) Σ_batches loss_b · |b|   (MSE on the scaled values)
        loss = ep.total / self.n_train_pairs
        self._pred, self._final_state, self._first = torch.cat(ep.sweep.out), ep.sweep.state, None
        tr, te = self._errors()
        self.push(torch.stack([loss, tr, te]))
        return True

    def _batches(self, ep: _Epoch, deadline: float) -> bool:
        """Shuffled mini-batches from ``ep.pos`` on; True when the pass over the pairs is complete."""
        n, B = self.n_train_pairs, self.effective_batch
        while ep.pos < n:
            idx = ep.order[ep.pos:ep.pos + B]
            if self._fast:                         # the default LSTM: gradients by hand (model.py)
                loss = mse_grads(self.model, self.Xtr[idx], self.ytr[idx])
            else:
                pred, _ = self.model(self.Xtr[idx])
                # MSE = (1/|b|) Σ_i (ŷ_i − y_i)²
                loss = torch.mean((pred - self.ytr[idx]) ** 2)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
            self.opt.step()
            ep.total = ep.total + loss.detach() * idx.shape[0]
            ep.pos += idx.shape[0]
            if time.perf_counter() > deadline:
                break
        return ep.pos >= n

    def _stateful_batches(self, ep: _Epoch, deadline: float) -> bool:
        """The lecture's "LSTM with memory between batches": batches of one pair, in time order,
        the state after pair i is the starting state of pair i+1 (values kept, gradients cut),
        and the state is reset to zero at the start of every epoch."""
        while ep.pos < self.n_train_pairs:
            i = ep.pos
            pred, state = self.model(self.Xtr[i:i + 1], ep.state)
            loss = torch.mean((pred - self.ytr[i:i + 1]) ** 2)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            ep.state = detach_state(state)
            ep.total = ep.total + loss.detach()
            ep.pos += 1
            if time.perf_counter() > deadline:
                break
        return ep.pos >= self.n_train_pairs

    def train_epochs(self, n: int) -> None:
        """Exactly n more whole epochs (fewer if ``config.epochs`` comes first), however sliced."""
        target = min(self.step_count + int(n), self.config.epochs)
        while self.step_count < target:
            self.step(target - self.step_count)

    @torch.no_grad()
    def _sweep(self, sw: _Sweep, deadline: float = math.inf) -> bool:
        """Advance the one-step predictions of all N pairs (scaled units); True when complete.

        Stateless: each window on its own. Stateful: all pairs in time order from a zero state,
        as in training, so test pairs continue from the state the training pairs built up.
        """
        N, stateful = self.X.shape[0], self.config.stateful
        was_training = self.model.training
        self.model.eval()
        try:
            while sw.pos < N:
                a = sw.pos
                if not stateful:
                    b = min(N, a + EVAL_BLOCK)
                    sw.out.append(self.model(self.X[a:b])[0][:, 0])
                elif self.X.shape[1] == 1:
                    # window as features: pair i is time step i of one long sequence [1, N, L]
                    b = min(N, a + EVAL_BLOCK)
                    p, sw.state = self.model.forward_sequence(self.X[a:b, 0][None], sw.state)
                    sw.out.append(p)
                else:
                    b = a + 1
                    p, sw.state = self.model(self.X[a:b], sw.state)
                    sw.out.append(p[0])
                sw.pos = b
                if time.perf_counter() > deadline:
                    break
        finally:
            self.model.train(was_training)
        return sw.pos >= N

    def predict_scaled(self) -> tuple[torch.Tensor, Any]:
        """One-step predictions for every pair with the current weights (scaled units): ŷ [N],
        and the final state (stateful runs; else None)."""
        sw = _Sweep()
        self._sweep(sw)
        return torch.cat(sw.out), sw.state

    def _errors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Train and test RMSE of the kept predictions, in the series' units (tensors; no sync)."""
        pred = self.scaler.inverse(self._pred)                      # [N]
        err2 = (pred - self.actual) ** 2
        k = self.n_train_pairs
        # RMSE = √( (1/N) Σ (ŷ − y)² ) over the training pairs, then over the test pairs
        return torch.sqrt(err2[:k].mean()), torch.sqrt(err2[k:].mean())

    def check_values(self, cols: dict[str, np.ndarray]) -> None:
        """The base's NaN/inf/runaway checks, then predictions off the data's scale; the message
        is kept in ``blowup`` (a blown-up run never reaches the leaderboard)."""
        try:
            super().check_values(cols)
            off = metrics.off_scale(np.asarray(cols["train_rmse"]) / self.scaler.span, self._target_size)
            if off:
                raise Diverged(self.blowup_message(off))
        except Diverged as e:
            self.blowup = str(e)
            raise

    # ---------------------------------------------------------------- reading
    def _predictions(self, budget: float | None = None) -> tuple[torch.Tensor, Any, bool]:
        """The kept one-step predictions (scaled) [N], the final state, and whether complete.

        Before the first epoch they are computed here, at most ``budget`` seconds per call when
        given (a live frame: a stateful run over thousands of pairs takes seconds), the pairs not
        yet reached being NaN until a later call completes them.
        """
        if self._pred is None:
            self._first = self._first or _Sweep()
            if not self._sweep(self._first, math.inf if budget is None else time.perf_counter() + budget):
                done = torch.cat(self._first.out) if self._first.out else self.y[:0, 0]
                return torch.cat([done, torch.full_like(self.y[len(done):, 0], math.nan)]), None, False
            self._pred, self._final_state, self._first = torch.cat(self._first.out), self._first.state, None
        return self._pred, self._final_state, True

    @torch.no_grad()
    def forecast(self, horizon: int) -> np.ndarray:
        """Recursive forecast beyond the data: each prediction becomes the newest input. [horizon]

        ŷ_n = f(s_{n−L}, …, s_{n−1}), ŷ_{n+1} = f(s_{n−L+1}, …, s_{n−1}, ŷ_n), …  in the series' units.
        """
        horizon = max(0, min(int(horizon), MAX_HORIZON))
        if horizon == 0:
            return np.zeros(0)
        cfg = self.config
        state = self._predictions()[1] if cfg.stateful else None     # the state after all N pairs
        was_training = self.model.training
        self.model.eval()
        try:
            z = self.scaler.transform(self.series.values)
            window = torch.from_numpy(z[-cfg.look_back:]).float().to(self.device)   # [L]
            out = []
            for _ in range(horizon):
                x = window.view(1, 1, -1) if cfg.framing == "features" else window.view(1, -1, 1)
                p, new_state = self.model(x, state)
                if cfg.stateful:
                    state = new_state
                out.append(p[0])
                window = torch.cat([window[1:], p[0]])
            return self.scaler.inverse(torch.cat(out).cpu().numpy().astype(np.float64))
        finally:
            self.model.train(was_training)

    def framing_example(self, rows: int = 3) -> dict[str, Any]:
        """The first training windows as the model receives them (scaled), in both framings."""
        return framing_example(self.series.values, self.scaler, self.config.look_back, self.n_train_pairs, rows)

    @torch.no_grad()
    def snapshot(self, horizon: int | None = None, budget: float | None = None) -> dict[str, Any]:
        """Arrays for the charts, all in the series' units (predictions of the last whole epoch).

        x, values: [n]; pred_x, pred: [N] one-step predictions (target index t = L … n−1), with
        is_train: [N]; forecast_x, forecast: [horizon] (default: the config's); history: [m] arrays.
        ``budget``: see ``_predictions`` (a stateful forecast waits for complete predictions).
        """
        cfg, s = self.config, self.series
        pred_z, _, complete = self._predictions(budget)
        pred = self.scaler.inverse(pred_z).cpu().numpy().astype(np.float64)
        fc = self.forecast(cfg.horizon if horizon is None else horizon) if complete or not cfg.stateful else np.zeros(0)
        dx = float(np.median(np.diff(s.x))) if len(s.x) > 1 else 1.0
        h = self.history.arrays()
        finite = h["test_rmse"][np.isfinite(h["test_rmse"])]
        return {
            "step": self.step_count, "epochs": cfg.epochs, "finished": self.finished,
            "x": s.x, "values": s.values, "unit": s.unit, "x_title": s.x_title, "name": s.name,
            "pred_x": s.x[self.t], "pred": pred, "is_train": self.is_train,
            "split_x": float((s.x[self.n_train - 1] + s.x[self.n_train]) / 2),
            "forecast_x": s.x[-1] + dx * np.arange(1, len(fc) + 1), "forecast": fc,
            "history": h, "train_rmse": self.history.last("train_rmse"),
            "test_rmse": self.history.last("test_rmse"), "loss": self.history.last("loss"),
            "best_test_rmse": float(finite.min()) if len(finite) else float("nan"),
            "train_seconds": self.train_seconds, "n_train_pairs": self.n_train_pairs,
            "n_test_pairs": int(len(self.t) - self.n_train_pairs), "batch": self.effective_batch,
            "scaler": (self.scaler.lo, self.scaler.span), "run_id": self.run_id,
        }

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The shipped layout (``model`` and ``optim`` are the state dicts themselves). An epoch in
        progress is not saved: a run loaded from it starts the next epoch afresh."""
        self.flush()
        return {
            "lesson": self.LESSON, "config": settings.config_to_dict(self.config), "step": self.step_count,
            "model": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "optim": self.opt.state_dict(),
            "history": self.history.state_dict(),
            "extra": {"train_seconds": float(self.train_seconds), "run_id": self.run_id,
                      "rng": self._rng_state.clone(), "shuffle_rng": self._gen.get_state()},
        }

    def check_layout(self, state: dict[str, Any]) -> None:
        """``state_dict``'s layout (model and optim are the state dicts themselves)."""
        check_shapes(self.model.state_dict(), state["model"], "model")
        if state["config"].get("optimizer", self.config.optimizer) == self.config.optimizer:
            check_optimizer(self.opt, state["optim"], "optim")
        extra = state.get("extra") or {}
        for k in ("rng", "shuffle_rng"):
            if k in extra:
                check_rng_layout(self._gen, extra[k], f"extra.{k}")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load ``state_dict``'s layout; ValueError if it does not fit this config."""
        check_shapes(self.model.state_dict(), state["model"], "model")
        self.model.load_state_dict(state["model"])
        if state["config"].get("optimizer", self.config.optimizer) == self.config.optimizer:
            check_shapes(self.opt.state_dict(), state["optim"], "optim")
            self.opt.load_state_dict(state["optim"])      # from_checkpoint hands us a deep copy
            for g in self.opt.param_groups:                # this optimiser's kernels, not the saver's
                g.update({k: self.opt.defaults[k] for k in ("fused", "foreach") if k in self.opt.defaults})
        self.history.load_state_dict(state["history"])
        self.step_count = int(state["step"])
        extra = state.get("extra") or {}
        self.train_seconds = float(extra.get("train_seconds", 0.0))
        self.run_id = str(extra.get("run_id", self.run_id))
        if "rng" in extra:
            spare = torch.Generator()      # checks the dropout state as a generator would
            set_rng_state(spare, extra["rng"], "extra.rng")
            self._rng_state = spare.get_state()
            set_rng_state(self._gen, extra["shuffle_rng"], "extra.shuffle_rng")
        self._epoch, self._pred, self._final_state, self._first = None, None, None, None
        arrays = self.history.arrays()
        self._loss_start = {k: abs(float(arrays[k][0])) for k in self.HISTORY_KEYS
                            if len(arrays[k]) and math.isfinite(arrays[k][0])}
