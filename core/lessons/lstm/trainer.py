"""The LSTM lesson's trainer: Adam on fresh random batches of the chosen task, gradient-norm
clipping, a held-out evaluation every 50 steps, and the explicit views on demand.

``snapshot()`` is what the live view draws every frame (histories and a few numbers: cheap);
``inspect(...)`` is the detail views' data (explicit float64 forward + BPTT), computed only when
the page is paused or asks for it.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from core.lessons.lstm import cells as rc
from core.lessons.lstm import viewer
from core.lessons.lstm.config import N_EVAL, PROBE_BACK, LstmConfig, check_config
from core.lessons.lstm.data import eval_batch, is_classification, make_batch, out_steps
from core.lessons.lstm.model import build_rnn, cell_params, explicit_pass, gradient_profile, head_params
from core.live import History
from core.trainer import TrainerBase


class LstmTrainer(TrainerBase):
    """Trains the recurrent net on the chosen task; the views come from the explicit cell."""

    LESSON = "lstm"
    Config = LstmConfig
    HISTORY_KEYS = ("loss", "acc", "grad_norm", "grad_used")
    METRIC_KEYS = ("eval_loss", "eval_acc", "grad_back")
    # Every task's loss starts near chance (BCE ≈ 0.69, adding MSE ≈ 1) and a healthy run only goes
    # down from there; ten times the start means confidently wrong outputs. Measured: at the top
    # learning rate (10) every cell and task passes 10× within 2–9 steps; over 1,000 steps at the
    # default (1e-2) no cell, task or batch size (8, 64) went above 1.4×, over 400 at 0.1 none above 2.7×.
    RUNAWAY: ClassVar[dict[str, tuple[float, float]]] = {"loss": (10.0, 0.1)}
    N_EVAL = N_EVAL     # sequences of the fixed evaluation set
    N_PROFILE = 32      # of which the gradient-norm profile averages over
    EVAL_EVERY = 50

    # ---------------------------------------------------------------- building
    def check_config(self, config: LstmConfig) -> None:
        check_config(config)

    def build(self) -> None:
        cfg = self.config
        self.rnn, self.head = build_rnn(cfg)
        self.rnn.to(self.device)
        self.head.to(self.device)
        self.params = list(self.rnn.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.Adam(self.params, lr=cfg.lr)
        self._gen = torch.Generator().manual_seed(int(cfg.seed) + 1)
        self._out = out_steps(cfg.task, int(cfg.seq_len), int(cfg.delay))
        self._eval_x, self._eval_y = eval_batch(cfg, self.N_EVAL)
        self._eval_xd, self._eval_yd = self._eval_x.to(self.device), self._eval_y.to(self.device)
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self._record_metrics()

    def on_live_change(self, old: LstmConfig, new: LstmConfig) -> None:
        for g in self.opt.param_groups:
            g["lr"] = float(new.lr)

    # ---------------------------------------------------------------- training
    def _loss(self, pred: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean loss and accuracy. pred, y: [T_out, B]."""
        if is_classification(self.config.task):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(pred, y)
            acc = ((pred > 0).float() == y).float().mean()
        else:
            loss = ((pred - y) ** 2).mean()
            # the adding problem counts an answer within 0.1 of the sum as right
            acc = ((pred - y).abs() < 0.1).float().mean()
        return loss, acc

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [T, B, I] -> the outputs at the target steps [T_out, B]."""
        out, _ = self.rnn(x)                                         # [T, B, H]
        return self.head(out[self._out]).squeeze(-1)

    def train_steps(self, n: int) -> None:
        """n Adam steps on fresh random batches (the base flushes and checks for a blow-up)."""
        cfg = self.config
        for _ in range(int(n)):
            x, y = make_batch(cfg.task, int(cfg.seq_len), int(cfg.batch_size), int(cfg.delay), self._gen)
            x, y = x.to(self.device), y.to(self.device)
            loss, acc = self._loss(self._forward(x), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            clip = float(cfg.clip_norm)
            # ‖∇‖ before clipping; when ‖∇‖ > clip: g ← g · clip / ‖g‖
            norm = torch.nn.utils.clip_grad_norm_(self.params, clip if clip > 0 else float("inf"))
            used = torch.clamp(norm, max=clip) if clip > 0 else norm
            self.opt.step()
            self.push(torch.stack([loss.detach(), acc, norm, used]))
            if self.step_count % self.EVAL_EVERY == 0:
                self.flush()
                self._record_metrics()

    # ---------------------------------------------------------------- evaluation
    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """(loss, accuracy) on the fixed held-out set."""
        loss, acc = self._loss(self._forward(self._eval_xd), self._eval_yd)
        return float(loss), float(acc)

    def explicit(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        """The explicit forward/backward (float64) of the current weights on x [T, B, I], y."""
        p = cell_params(self.rnn, self.config.cell)
        w, b = head_params(self.head)
        with torch.no_grad():
            return explicit_pass(self.config.cell, self.config.task, int(self.config.delay), p, w, b,
                                 x.double().cpu(), y.cpu())

    def profile(self) -> dict[str, np.ndarray]:
        """‖δh‖ (and ‖δc‖) against steps back, mean over N_PROFILE evaluation sequences."""
        n = self.N_PROFILE
        return gradient_profile(self.explicit(self._eval_x[:, :n], self._eval_y[:, :n])["bwd"])

    def grad_back(self, k: int = PROBE_BACK) -> float:
        """Mean over N_PROFILE held-out sequences of ‖∂L/∂h‖ k steps before the last, for each
        sequence's own loss at the last step (NaN if T ≤ k): ``profile()["dh"][k]``, but on the
        fused module (autograd, float32: a few ms where the explicit float64 pass takes 20–60 ms
        at T = 100, and this runs inside a training step every 50 steps).

        The run is split after step t₀ = T−1−k: the state there is made a leaf, the rest of the
        sequence runs from it, and ∂L/∂h_{t₀} is that leaf's gradient (the total one, through
        every later step: δh_{t₀} of the explicit backward).
        """
        T, n = int(self.config.seq_len), self.N_PROFILE
        if T <= k:
            return float("nan")
        x, y = self._eval_xd[:, :n], self._eval_yd[-1, :n]
        t0 = T - 1 - k
        with torch.no_grad():
            _, state = self.rnn(x[:t0 + 1])                 # h_{t₀} (and c_{t₀}): [1, n, H]
        h = (state[0] if isinstance(state, tuple) else state).detach().requires_grad_(True)
        start = (h, state[1].detach()) if isinstance(state, tuple) else h
        out, _ = self.rnn(x[t0 + 1:], start)
        pred = self.head(out[-1]).squeeze(-1)               # ŷ at the last step: [n]
        if is_classification(self.config.task):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(pred, y, reduction="sum")
        else:
            loss = ((pred - y) ** 2).sum()
        # per-sequence losses summed: each sequence's gradient is its own
        (g,) = torch.autograd.grad(loss, [h])
        return float(g[0].norm(dim=-1).mean())

    def _record_metrics(self) -> None:
        loss, acc = self.evaluate()
        self.metrics.add(self.step_count, eval_loss=loss, eval_acc=acc, grad_back=self.grad_back())

    # ---------------------------------------------------------------- reading
    def snapshot(self) -> dict[str, Any]:
        """What the live view draws every frame: histories and a few numbers (cheap).

        history / metrics: dicts of [m] arrays; sv: λ₁ of each gate block of W_hh.
        """
        cfg = self.config
        return {
            "step": self.step_count, "cell": cfg.cell, "task": cfg.task, "T": int(cfg.seq_len),
            "classification": is_classification(cfg.task),
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "eval_loss": self.metrics.last("eval_loss"), "eval_acc": self.metrics.last("eval_acc"),
            "grad_back": self.metrics.last("grad_back"),
            "sv": rc.largest_singular_values(cell_params(self.rnn, cfg.cell)),
        }

    def inspect(self, bits: np.ndarray | None = None, sample: int = 0, t: int | None = None,
                unit: int = 0) -> dict[str, Any]:
        """The detail views' data for one sequence (see ``viewer.inspect``)."""
        return viewer.inspect(self, bits, sample, t, unit)

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return {"rnn": self.rnn, "head": self.head}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.opt}

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        return {"data_rng": self._gen.get_state()}     # so a resumed run sees the same batches

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        rng = extra.get("data_rng")
        if rng is not None:
            self._gen.set_state(rng)

    @classmethod
    def upgrade_checkpoint(cls, state: dict[str, Any]) -> dict[str, Any]:
        """Also reads the shipped files' layout, whose 'optim' is the Adam state itself."""
        optim = state.get("optim")
        if isinstance(optim, dict) and "param_groups" in optim:
            state = {**state, "optim": {"adam": optim}}
        return state
