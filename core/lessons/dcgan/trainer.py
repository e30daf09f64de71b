"""The DCGAN trainer (``core.trainer.TrainerBase``): one step = k discriminator updates, then one
generator update (Algorithm 1 of Goodfellow et al. with the DCGAN's networks and Adam β₁ = ½).
Every ``eval_every`` steps the shipped digit classifier judges 500 digits from fixed z.
No Streamlit.

Why it is faster than a plain PyTorch loop of the same networks (benchmarks/bench_dcgan.py):
real and fake digits go through D's convolutions as one batch (batch norm still normalises each
half on its own, as two calls would); D's weights are frozen during the G step, so no gradient
is computed for them there; Adam is fused; noise, labels and batch indices are drawn in blocks;
there is no DataLoader and no ``.item()`` per step (one device sync per chunk); the strided
convolutions with one image channel (D's first, G's last) run on faster kernels (``core.fastconv``).

Shapes: z [B, L]; labels [B]; digits [B, 1, 16, 16] in [−1, 1]; logits [B].
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from core import digits, fastconv
from core.lessons.dcgan.config import DcganConfig
from core.lessons.dcgan.losses import d_loss, g_loss
from core.lessons.dcgan.metrics import Judge
from core.lessons.dcgan.model import Discriminator, Generator, init_weights
from core.live import History
from core.trainer import TrainerBase

BETAS = (0.5, 0.999)      # the DCGAN paper's Adam
GRID = 10                 # the live grid is GRID × GRID digits
BLOCK = 64                # steps of noise / indices drawn at once


def adam(module: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam with β₁ = ½; the fused kernel where this torch has it."""
    try:
        return torch.optim.Adam(module.parameters(), lr=lr, betas=BETAS, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(module.parameters(), lr=lr, betas=BETAS)


class DcganTrainer(TrainerBase):
    """Trains G and D on the shipped digits; ``config.conditional`` gives both the label."""

    LESSON = "dcgan"
    Config = DcganConfig
    HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake")
    METRIC_KEYS = ("accepted", "classes", "label_match", "confidence")

    # ---------------------------------------------------------------- construction
    def build(self) -> None:
        cfg = self.config
        self.G = Generator(cfg.latent_size, cfg.width, cfg.upsampling, cfg.batch_norm, cfg.conditional).to(self.device)
        self.D = Discriminator(cfg.width, cfg.batch_norm, cfg.conditional, cfg.slope).to(self.device)
        init_weights(self.G)
        init_weights(self.D)
        # the one-channel strided convolutions (D's first, G's last) on faster CPU kernels
        fastconv.speed_up(self.G)
        fastconv.speed_up(self.D)
        self.opt_g, self.opt_d = adam(self.G, cfg.lr_g), adam(self.D, cfg.lr_d)
        self._d_params = list(self.D.parameters())
        self.x_train, self.y_train = digits.load("train").as_tensor(self.device)
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self._block: dict[str, torch.Tensor] = {}
        self._pos = self._slots = 0          # D updates served from / held by the current block
        self.judge = Judge(self.device, cfg.latent_size, cfg.conditional)
        self.grid_z, self.grid_y = self.judge.grid_inputs(GRID)
        self.real_grid = self.judge.real_grid(GRID)
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self.counts = np.zeros(digits.N_CLASSES, dtype=np.int64)
        self._record_metrics()

    def on_live_change(self, old: DcganConfig, new: DcganConfig) -> None:
        for opt, lr in ((self.opt_d, new.lr_d), (self.opt_g, new.lr_g)):
            for g in opt.param_groups:
                g["lr"] = lr
        self.D.slope = new.slope

    # ---------------------------------------------------------------- random inputs
    def _draw(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(real indices [B], z [B, L], fake labels [B]) for one D update, drawn BLOCK at a time."""
        B = int(self.config.batch_size)
        if self._pos >= self._slots or B != self._block["idx"].shape[0] // self._slots:
            self._slots = BLOCK * int(self.config.k)
            n = B * self._slots
            self._block = {"idx": torch.randint(len(self.y_train), (n,), generator=self._gen).to(self.device),
                           "z": torch.randn(n, self.config.latent_size, generator=self._gen).to(self.device),
                           "y": torch.randint(digits.N_CLASSES, (n,), generator=self._gen).to(self.device)}
            self._pos = 0
        s = slice(self._pos * B, (self._pos + 1) * B)
        self._pos += 1
        return self._block["idx"][s], self._block["z"][s], self._block["y"][s]

    # ---------------------------------------------------------------- training
    def _d_update(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One descent step of D on L_D; returns (fake digits, their labels, L_D, D(real), D(fake))."""
        idx, z, y_fake = self._draw()
        B = idx.shape[0]
        cond = self.config.conditional
        fake = self.G(z, y_fake if cond else None)
        x = torch.cat([self.x_train[idx], fake.detach()])                   # [2B, 1, 16, 16]
        y = torch.cat([self.y_train[idx], y_fake]) if cond else None
        a = self.D(x, y, groups=2)                                           # [2B]: real, then fake
        loss = d_loss(a[:B], a[B:], self.config.real_label)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        p = torch.sigmoid(a.detach())
        return fake, y_fake, loss.detach(), p[:B].mean(), p[B:].mean()

    def _g_update(self, fake: torch.Tensor, y_fake: torch.Tensor) -> torch.Tensor:
        """One descent step of G on −E[log D(G(z))] through a frozen D (the same fake digits the
        last D step saw, as PyTorch's DCGAN example does)."""
        for p in self._d_params:
            p.requires_grad_(False)
        loss = g_loss(self.D(fake, y_fake if self.config.conditional else None))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        for p in self._d_params:
            p.requires_grad_(True)
        return loss.detach()

    def train_steps(self, n: int) -> None:
        every = int(self.config.eval_every)
        for _ in range(n):
            for _ in range(int(self.config.k)):
                fake, y_fake, ld, d_real, d_fake = self._d_update()
            lg = self._g_update(fake, y_fake)
            self.push(torch.stack([ld, lg, d_real, d_fake]))
            if self.step_count % every == 0:
                self.flush()
                self._record_metrics()

    # ---------------------------------------------------------------- measuring
    def blowup_message(self, what: str) -> str:
        return (f"The run blew up at step {self.step_count:,}: {what}. "
                "Lower the learning rates and press ↺ Reset.")

    def weights_finite(self) -> bool:
        """One device sync for all weights (the base asks once per parameter)."""
        flags = [torch.isfinite(p).all() for m in (self.G, self.D) for p in m.parameters()]
        return bool(torch.stack(flags).all())

    def _record_metrics(self) -> None:
        q = self.judge.measure(self.G)
        self.counts = q["counts"]
        self.metrics.add(self.step_count, accepted=q["accepted"], classes=q["classes"],
                         label_match=q["label_match"], confidence=q["confidence"])

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> np.ndarray:
        """Digits for given z [n, L] (and labels [n] or label mixtures [n, 10]) in eval mode:
        [n, 16, 16] in [−1, 1]. Eval mode: batch norm uses its running statistics, so a digit
        does not depend on the others drawn with it."""
        was = self.G.training
        self.G.eval()
        out = self.G(z, y if self.config.conditional else None)[:, 0]
        self.G.train(was)
        return out.float().cpu().numpy().astype(np.float64)

    def snapshot(self) -> dict[str, Any]:
        """fake, real: [GRID², 16, 16] in [−1, 1] (fake from the fixed grid z; conditional: row r
        asks for digit r); history/metrics: dicts of [m] arrays; counts: [10] accepted per class
        at the last measurement; ceiling: the real held-out digits' figures."""
        return {
            "step": self.step_count, "conditional": self.config.conditional,
            "fake": self.generate(self.grid_z, self.grid_y), "real": self.real_grid,
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "counts": self.counts.copy(), "ceiling": self.judge.ceiling(),
            "accepted": self.metrics.last("accepted"), "classes": self.metrics.last("classes"),
            "label_match": self.metrics.last("label_match"),
        }

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return {"G": self.G, "D": self.D}

    def optimizers(self) -> dict[str, Any]:
        return {"G": self.opt_g, "D": self.opt_d}

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        return {"counts": torch.from_numpy(self.counts.copy()), "gen": self._gen.get_state()}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        if torch.is_tensor(extra.get("counts")) and extra["counts"].numel() == digits.N_CLASSES:
            self.counts = extra["counts"].numpy().astype(np.int64)
        if torch.is_tensor(extra.get("gen")):
            self._gen.set_state(extra["gen"])
        self._pos = self._slots = 0            # draw afresh from the restored generator
        self.on_live_change(self.config, self.config)   # the live settings win over the saved ones
