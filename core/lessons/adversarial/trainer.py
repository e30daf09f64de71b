"""The trainer (``core.trainer.TrainerBase``): two classifiers of the same shape, started from the
same weights, trained side by side on the same batches. The *clean* model sees the digits as they
are; the *robust* one sees a share of each batch replaced by FGSM examples made against itself at
that moment (Goodfellow et al.'s adversarial training):

    clean:   θ_c ← Adam(∇ J(θ_c, x, y))
    robust:  x̃ = clip₀₁(x + ε_train · sign(∇ₓ J(θ_r, x, y)))  on a share s of the batch,
             θ_r ← Adam(∇ J(θ_r, [x̃ ; x], y))

Every ``eval_every`` steps both models' accuracy against ε is measured on 500 held-out digits.
Each step's snapshot attacks one held-out digit with the page's settings. No Streamlit.

Why it is faster than a plain PyTorch loop of the same two models (benchmarks/bench_adversarial.py):
the FGSM gradient is taken for the input only (no weight gradients that are thrown away); the
convnets' forward and backward are written out with the fastest kernels for their shapes
(``fast.py``: the input gradient of a stride-2 convolution in sub-pixel form, no autograd graph),
the MLP's go back in one autograd pass; both models are updated by one fused Adam (element-wise,
so the same as two); batch indices are drawn in blocks; no ``.item()`` per step (one device sync
per chunk).

Shapes: x [B, 1, 16, 16] in [0, 1]; y [B]; logits [B, 10].
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core import digits
from core.lessons.adversarial.attacks import fgsm_curve, input_gradient
from core.lessons.adversarial.config import BATCH_SIZES, AdversarialConfig, width_of
from core.lessons.adversarial.fast import FastConvNet
from core.lessons.adversarial.models import make_model, to_unit
from core.lessons.adversarial.probe import probe
from core.live import History
from core.trainer import TrainerBase
from core.vet import block_state, restore_block, set_rng_state

BLOCK = 64                                  # steps of batch indices drawn at once
EVAL_N = 500                                # held-out digits the curves are measured on
EVAL_CHUNKS = 20                            # … over this many consecutive steps
EPS_GRID = tuple(round(0.05 * i, 2) for i in range(9))     # 0, 0.05, …, 0.4
EPS_REPORT = 0.2                            # the ε: the accuracy-over-time chart uses it


def heldout_interleaved(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,000 held-out digits in [0, 1], reordered so that digit # i is of class i mod 10 (the
    stored order is by class). x [1000, 1, 16, 16], y [1000]."""
    x, y = digits.load("heldout").as_tensor()
    y_np = y.numpy()
    rank = np.zeros(len(y_np), dtype=np.int64)           # position of each digit within its class
    for c in range(digits.N_CLASSES):
        idx = np.flatnonzero(y_np == c)
        rank[idx] = np.arange(len(idx))
    order = torch.from_numpy(np.lexsort((y_np, rank)))   # by rank, then class
    return to_unit(x[order]).to(device), y[order].to(device)


def adam(params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """One Adam for both models (Adam is element-wise, so one optimiser is two); fused kernel
    where this torch has it."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


class AdversarialTrainer(TrainerBase):
    """The clean and the adversarially trained classifier, side by side."""

    LESSON = "adversarial"
    Config = AdversarialConfig
    HISTORY_KEYS = ("clean_loss", "robust_loss")
    METRIC_KEYS = ("clean_acc", "clean_acc_eps", "robust_acc", "robust_acc_eps")

    # ---------------------------------------------------------------- construction
    def build(self) -> None:
        cfg = self.config
        self.clean = make_model(cfg.model, width_of(cfg)).to(self.device)
        self.robust = make_model(cfg.model, width_of(cfg)).to(self.device)
        self.robust.load_state_dict(self.clean.state_dict())     # the same start: only training differs
        self.opt = adam([*self.clean.parameters(), *self.robust.parameters()], cfg.lr)
        x, self.y_train = digits.load("train").as_tensor(self.device)
        self.x_train = to_unit(x)
        self.x_held, self.y_held = heldout_interleaved(self.device)
        self.x_eval, self.y_eval = self.x_held[:EVAL_N], self.y_held[:EVAL_N]   # 50 of each class
        self.eps_grid = torch.tensor(EPS_GRID, device=self.device)
        self._gen = torch.Generator().manual_seed(cfg.seed + 1)
        self._idx = torch.empty(0, dtype=torch.long)
        self._pos = 0
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self.curves = np.full((2, len(EPS_GRID)), np.nan)
        self._frozen = [copy.deepcopy(m).requires_grad_(False) for m in (self.clean, self.robust)]
        self._chunk: int | None = None
        # the convnets' hand-written forward and backward (fast.py); the MLP trains by autograd
        # (measured on the CPU; on a GPU cuDNN's own kernels are left to do it)
        self._fast = ((FastConvNet(self.clean), FastConvNet(self.robust))
                      if FastConvNet.supports(self.clean) and self.device.type == "cpu" else None)
        self.measure_now()

    def on_live_change(self, old: AdversarialConfig, new: AdversarialConfig) -> None:
        for g in self.opt.param_groups:
            g["lr"] = new.lr

    def _batch(self) -> torch.Tensor:
        """Indices [B] of the next batch, drawn BLOCK batches at a time."""
        B = int(self.config.batch_size)
        if self._pos + B > len(self._idx):
            self._new_block(BLOCK * B)
        self._pos += B
        return self._idx[self._pos - B:self._pos]

    def _new_block(self, size: int) -> None:
        self._block_rng = self._gen.get_state()        # a checkpoint redraws this block from here
        self._idx = torch.randint(len(self.y_train), (size,), generator=self._gen).to(self.device)
        self._pos = 0

    # ---------------------------------------------------------------- training
    def _step(self) -> torch.Tensor:
        """One update of both models; returns [clean loss, robust loss] (on the device)."""
        cfg = self.config
        idx = self._batch()
        x, y = self.x_train[idx], self.y_train[idx]
        k = int(round(cfg.adv_share * len(idx)))
        if k > 0 and cfg.train_eps > 0:
            # x̃ = clip₀₁(x + ε · sign(∇ₓ J(θ_r, x, y))) for the first k digits of the batch
            g = self._input_gradient(self.robust, x[:k], y[:k])
            x_mix = torch.cat([(x[:k] + cfg.train_eps * g.sign()).clamp(0.0, 1.0), x[k:]])
        else:
            x_mix = x
        if self._fast is not None:
            return self._update_fast(x, x_mix, y)
        loss_c = F.cross_entropy(self.clean(x), y)
        loss_r = F.cross_entropy(self.robust(x_mix), y)
        self.opt.zero_grad(set_to_none=True)
        (loss_c + loss_r).backward()          # disjoint weights: each model gets its own gradient
        self.opt.step()
        return torch.stack([loss_c.detach(), loss_r.detach()])

    def _update_fast(self, x: torch.Tensor, x_mix: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The convnets' update with the hand-written backward (``fast.py``): the same gradients as
        ``(loss_c + loss_r).backward()``, put where Adam reads them."""
        scale = 1.0 / len(y)                  # cross-entropy's mean over the batch
        fast_c, fast_r = self._fast
        loss_c, grads_c, _ = fast_c.grads(x, y, scale)
        loss_r, grads_r, _ = fast_r.grads(x_mix, y, scale)
        for p, g in zip(fast_c.params + fast_r.params, grads_c + grads_r):
            p.grad = g
        self.opt.step()
        return torch.stack([loss_c, loss_r])

    def _input_gradient(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """∇ₓ J summed over the batch (``attacks.input_gradient``), by the fast path for a convnet."""
        if self._fast is not None:         # a convnet on the CPU (the frozen copies are convnets too)
            return FastConvNet(model).grads(x, y, 1.0, weights=False, inputs=True)[2]
        return input_gradient(model, x, y)

    def train_steps(self, n: int) -> None:
        for _ in range(n):
            self.push(self._step())
            if self._chunk is not None:
                self._measure_chunk()
            elif self.step_count % int(self.config.eval_every) == 0:
                self._start_measurement()

    # ---------------------------------------------------------------- measuring
    def _start_measurement(self) -> None:
        """Freeze copies of both models as they are now; the next EVAL_CHUNKS steps each measure
        EVAL_N / EVAL_CHUNKS of the held-out digits on them, so no step grows by the whole
        measurement (a convnet's curves cost ~0.3 s at once) and the curves are exact for this step."""
        for frozen, model in zip(self._frozen, (self.clean, self.robust)):
            frozen.load_state_dict(model.state_dict())
        self._chunk, self._measured_at = 0, self.step_count
        self._correct = torch.zeros(2, len(EPS_GRID), device=self.device)

    def _measure_chunk(self) -> None:
        """One chunk of the measurement under way; the last one records the curves."""
        n = EVAL_N // EVAL_CHUNKS
        s = slice(self._chunk * n, (self._chunk + 1) * n)
        for i, model in enumerate(self._frozen):
            # FGSM accuracy for every ε at once: n digits × E values of ε in one batch
            self._correct[i] += n * fgsm_curve(model, self.x_eval[s], self.y_eval[s], self.eps_grid,
                                               gradient=self._input_gradient)
        self._chunk += 1
        if self._chunk == EVAL_CHUNKS:
            self._chunk = None
            self.curves = (self._correct / EVAL_N).cpu().numpy().astype(np.float64)
            c, r = self.curves
            j = EPS_GRID.index(EPS_REPORT)
            self.metrics.add(self._measured_at, clean_acc=c[0], clean_acc_eps=c[j], robust_acc=r[0],
                             robust_acc_eps=r[j])

    def measure_now(self) -> None:
        """Measure the curves of the models as they are, all chunks at once (start, pretrain)."""
        self._start_measurement()
        while self._chunk is not None:
            self._measure_chunk()

    def blowup_message(self, what: str) -> str:
        return (f"The run blew up at step {self.step_count:,}: {what}. "
                "Lower the learning rate and press ↺ Reset.")

    def weights_finite(self) -> bool:
        """One device sync for all weights (the base asks once per parameter)."""
        flags = [torch.isfinite(p).all() for m in (self.clean, self.robust) for p in m.parameters()]
        return bool(torch.stack(flags).all())

    def model_of(self, which: str) -> nn.Module:
        return self.robust if which == "robust" else self.clean

    def snapshot(self) -> dict[str, Any]:
        """history/metrics: dicts of [m] arrays; curves [2, E] (clean, robust) at eps [E];
        attack: the page's attack on one held-out digit (``probe.probe``)."""
        cfg = self.config
        return {"step": self.step_count, "history": self.history.arrays(), "metrics": self.metrics.arrays(),
                "eps_grid": np.asarray(EPS_GRID), "curves": self.curves.copy(),
                "attack": probe(self.model_of(cfg.attacked), self.x_held[cfg.digit:cfg.digit + 1],
                                self.y_held[cfg.digit:cfg.digit + 1], cfg)}

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return {"clean": self.clean, "robust": self.robust}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.opt}

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        block = {"block": block_state(self._block_rng, self._pos, len(self._idx))} if len(self._idx) else {}
        return {"curves": torch.from_numpy(self.curves.copy()), **block}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        curves = extra.get("curves")
        if torch.is_tensor(curves) and tuple(curves.shape) == self.curves.shape:
            self.curves = curves.numpy().astype(np.float64)
        if torch.is_tensor(extra.get("gen")):       # older files: draw afresh from the restored generator
            set_rng_state(self._gen, extra["gen"], "extra.gen")
        self._idx, self._pos = torch.empty(0, dtype=torch.long), 0
        # the block under way (drawn for any batch size, read on at the current one), redrawn
        block = restore_block(self._gen, extra.get("block"), [BLOCK * b for b in BATCH_SIZES], lambda n: n,
                              "extra.block")
        if block is not None:
            self._new_block(block[0])
            self._pos = block[1]
        self.on_live_change(self.config, self.config)   # the live settings win over the saved ones
