"""The DCGAN trainer (``core.trainer.TrainerBase``): one step = k discriminator updates, then one
generator update (Algorithm 1 of Goodfellow et al. with the DCGAN's networks and Adam β₁ = ½).
Every ``eval_every`` steps the shipped digit classifier judges 500 digits from fixed z.
No Streamlit.

Two additions that lift the share of digits the classifier accepts after 4,000 steps (about a minute
of one core) from ~0.6 to ~0.8 (benchmarks/bench_dcgan.py, docs/dcgan.md), both switchable on the page:
* InfoGAN's code (Chen et al., 2016; ``config.codes`` = K): G gets [z, one-hot(c)] with c drawn
  uniformly from K values; a linear head Q on D's features guesses c from the fake digit, and both
  D (with Q) and G add λ·CE(Q(h(G(z, c))), c), a lower bound on the mutual information of c and
  the digit. No labels are used; the codes become kinds of digit.
* An averaged generator (``config.average``): the grid, the judge and the latent space read
  Ḡ, G's weights under an exponential moving average; training never reads it.

Why it is faster than a plain PyTorch loop of the same networks (benchmarks/bench_dcgan.py):
real and fake digits go through D's convolutions as one batch (batch norm still normalises each
half on its own, as two calls would); D's weights are frozen during the G step, so no gradient
is computed for them there; Adam is fused; noise, labels and batch indices are drawn in blocks;
there is no DataLoader and no ``.item()`` per step (one device sync per chunk); the strided
convolutions with one image channel (D's first, G's last) run on faster kernels (``core.fastconv``).

Shapes: z [B, L]; labels and codes [B]; G's input [B, L (+ 10 labels or + K codes)]; digits [B, 1, 16, 16]
in [−1, 1]; D's features h [B, 2C·16]; logits [B]; code logits [B, K].
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core import digits, fastconv, settings
from core.lessons.dcgan.config import DcganConfig
from core.lessons.dcgan.losses import d_loss, g_loss
from core.lessons.dcgan.metrics import Judge
from core.lessons.dcgan.model import Discriminator, Generator, code_head, code_input, init_weights
from core.live import History
from core.trainer import TrainerBase
from core.vet import block_state, restore_block, set_rng_state

BETAS = (0.5, 0.999)      # the DCGAN paper's Adam
GRID = 10                 # the live grid is GRID × GRID digits
BLOCK = 64                # steps of noise / indices drawn at once
CODE_WEIGHT = 1.0         # λ of the code's cross-entropy (InfoGAN's choice for a categorical code)
AVERAGE_DECAY = 0.999     # Ḡ averages over about 1 / (1 − 0.999) = 1,000 steps


def adam(params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam with β₁ = ½; the fused kernel where this torch has it."""
    try:
        return torch.optim.Adam(params, lr=lr, betas=BETAS, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=BETAS)


class DcganTrainer(TrainerBase):
    """Trains G and D on the shipped digits; ``config.conditional`` gives both the label."""

    LESSON = "dcgan"
    Config = DcganConfig
    HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "code_loss")
    METRIC_KEYS = ("accepted", "classes", "label_match", "confidence")

    # ---------------------------------------------------------------- construction
    def build(self) -> None:
        cfg = self.config
        self.codes = 0 if cfg.conditional else int(cfg.codes)     # the conditional GAN has labels instead
        self.G = Generator(cfg.latent_size + self.codes, cfg.width, cfg.upsampling, cfg.batch_norm,
                           cfg.conditional).to(self.device)
        self.D = Discriminator(cfg.width, cfg.batch_norm, cfg.conditional, cfg.slope).to(self.device)
        init_weights(self.G)
        init_weights(self.D)
        self.Q = code_head(cfg.width, self.codes).to(self.device) if self.codes else None
        # the one-channel strided convolutions (D's first, G's last) on faster CPU kernels
        fastconv.speed_up(self.G)
        fastconv.speed_up(self.D)
        self.G_avg = copy.deepcopy(self.G).eval()
        self.G_avg.requires_grad_(False)
        self._g_params, self._avg_params = list(self.G.parameters()), list(self.G_avg.parameters())
        # D's optimiser also trains Q; both are frozen during G's step
        self._d_params = list(self.D.parameters()) + (list(self.Q.parameters()) if self.Q is not None else [])
        self.opt_g, self.opt_d = adam(self._g_params, cfg.lr_g), adam(self._d_params, cfg.lr_d)
        self.x_train, self.y_train = digits.load("train").as_tensor(self.device)
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self._block: dict[str, torch.Tensor] = {}
        self._pos = self._slots = 0          # D updates served from / held by the current block
        self.judge = Judge(self.device, cfg.latent_size, cfg.conditional, self.codes)
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
    def _draw(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(real indices [B], z [B, L], fake labels [B], codes [B]) for one D update, drawn BLOCK
        at a time (the codes last, so a run without them draws the same numbers as before)."""
        B = int(self.config.batch_size)
        if self._pos >= self._slots or B != self._block["idx"].shape[0] // self._slots:
            self._new_block(B * BLOCK * int(self.config.k), B)
        s = slice(self._pos * B, (self._pos + 1) * B)
        self._pos += 1
        return self._block["idx"][s], self._block["z"][s], self._block["y"][s], self._block["c"][s]

    def _new_block(self, n: int, B: int) -> None:
        """n draws of each kind, for n // B D updates."""
        self._block_rng = self._gen.get_state()        # a checkpoint redraws this block from here
        self._slots = n // B
        self._block = {"idx": torch.randint(len(self.y_train), (n,), generator=self._gen).to(self.device),
                       "z": torch.randn(n, self.config.latent_size, generator=self._gen).to(self.device),
                       "y": torch.randint(digits.N_CLASSES, (n,), generator=self._gen).to(self.device)}
        self._block["c"] = (torch.randint(self.codes, (n,), generator=self._gen).to(self.device)
                            if self.codes else self._block["y"])
        self._pos = 0

    # ---------------------------------------------------------------- training
    def _code_loss(self, h_fake: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """InfoGAN's term CE(Q(h), c) on the fake digits' features h [B, 2C·16]; 0 without a code."""
        return F.cross_entropy(self.Q(h_fake), c) if self.codes else h_fake.new_zeros(())

    def _d_update(self) -> tuple[torch.Tensor, ...]:
        """One descent step of D (and Q) on L_D + λ·L_code; returns (fake digits, their labels,
        their codes, L_D, D(real), D(fake))."""
        idx, z, y_fake, c = self._draw()
        B = idx.shape[0]
        cond = self.config.conditional
        fake = self.G(code_input(z, c, self.codes), y_fake if cond else None)
        x = torch.cat([self.x_train[idx], fake.detach()])                   # [2B, 1, 16, 16]
        y = torch.cat([self.y_train[idx], y_fake]) if cond else None
        h = self.D.features(x, y, groups=2)                                  # [2B, 2C·16]
        a = self.D.logit(h)                                                  # [2B]: real, then fake
        loss = d_loss(a[:B], a[B:], self.config.real_label)
        code = self._code_loss(h[B:], c)
        self.opt_d.zero_grad(set_to_none=True)
        # L = L_D + λ·CE(Q(h(fake)), c)
        (loss + CODE_WEIGHT * code).backward()
        self.opt_d.step()
        p = torch.sigmoid(a.detach())
        return fake, y_fake, c, loss.detach(), p[:B].mean(), p[B:].mean()

    def _g_update(self, fake: torch.Tensor, y_fake: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One descent step of G on −E[log D(G(z))] + λ·L_code through a frozen D (the same fake
        digits the last D step saw, as PyTorch's DCGAN example does); returns (L_G, L_code)."""
        for p in self._d_params:
            p.requires_grad_(False)
        h = self.D.features(fake, y_fake if self.config.conditional else None)
        loss, code = g_loss(self.D.logit(h)), self._code_loss(h, c)
        self.opt_g.zero_grad(set_to_none=True)
        # L = L_G + λ·CE(Q(h(G(z, c))), c)
        (loss + CODE_WEIGHT * code).backward()
        self.opt_g.step()
        for p in self._d_params:
            p.requires_grad_(True)
        return loss.detach(), code.detach()

    @torch.no_grad()
    def _average(self) -> None:
        """Ḡ ← β·Ḡ + (1 − β)·G with β = min(0.999, (1 + t)/(10 + t)) at step t: short memory at the
        start, so Ḡ follows G's first fast progress. Batch norm's running statistics are copied."""
        t = self.step_count
        beta = min(AVERAGE_DECAY, (1 + t) / (10 + t))
        torch._foreach_lerp_(self._avg_params, self._g_params, 1.0 - beta)
        for b_avg, b in zip(self.G_avg.buffers(), self.G.buffers()):
            b_avg.copy_(b)

    def train_steps(self, n: int) -> None:
        every = int(self.config.eval_every)
        for _ in range(n):
            for _ in range(int(self.config.k)):
                fake, y_fake, c, ld, d_real, d_fake = self._d_update()
            lg, lc = self._g_update(fake, y_fake, c)
            self._average()
            self.push(torch.stack([ld, lg, d_real, d_fake, lc]))
            if self.step_count % every == 0:
                self.flush()
                self._record_metrics()

    # ---------------------------------------------------------------- measuring
    def blowup_message(self, what: str) -> str:
        return (f"The run blew up at step {self.step_count:,}: {what}. "
                "Lower the learning rates and press ↺ Reset.")

    def weights_finite(self) -> bool:
        """One device sync for all weights (the base asks once per parameter)."""
        flags = [torch.isfinite(p).all() for m in self.modules().values() for p in m.parameters()]
        return bool(torch.stack(flags).all())

    @property
    def shown(self) -> nn.Module:
        """The generator the page shows and judges: Ḡ (averaged) or G, per ``config.average``."""
        return self.G_avg if self.config.average else self.G

    def _record_metrics(self) -> None:
        q = self.judge.measure(self.shown)
        self.counts = q["counts"]
        self.metrics.add(self.step_count, accepted=q["accepted"], classes=q["classes"],
                         label_match=q["label_match"], confidence=q["confidence"])

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> np.ndarray:
        """Digits of the shown generator for given inputs z [n, L (+ K with a code)] (and labels
        [n] or label mixtures [n, 10]) in eval mode: [n, 16, 16] in [−1, 1]. Eval mode: batch norm
        uses its running statistics, so a digit does not depend on the others drawn with it."""
        G = self.shown
        was = G.training
        G.eval()
        out = G(z, y if self.config.conditional else None)[:, 0]
        G.train(was)
        return out.float().cpu().numpy().astype(np.float64)

    def snapshot(self) -> dict[str, Any]:
        """fake, real: [GRID², 16, 16] in [−1, 1] (fake from the fixed grid z; conditional: row r
        asks for digit r; with a code of K values cell i has code i mod K); history/metrics: dicts
        of [m] arrays; counts: [10] accepted per class at the last measurement; ceiling: the real
        held-out digits' figures."""
        return {
            "step": self.step_count, "conditional": self.config.conditional, "codes": self.codes,
            "fake": self.generate(self.grid_z, self.grid_y), "real": self.real_grid,
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "counts": self.counts.copy(), "ceiling": self.judge.ceiling(),
            "accepted": self.metrics.last("accepted"), "classes": self.metrics.last("classes"),
            "label_match": self.metrics.last("label_match"),
        }

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return {"G": self.G, "D": self.D, "G_avg": self.G_avg, **({"Q": self.Q} if self.Q is not None else {})}

    def optimizers(self) -> dict[str, Any]:
        return {"G": self.opt_g, "D": self.opt_d}

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def generators(self) -> dict[str, Any]:
        # the judge draws fresh digits from its own stream: saved too, so a resumed run's
        # "accepted" readings are the uninterrupted run's
        return {**super().generators(), "judge_fresh": self.judge.fresh}

    def extra_state(self) -> dict[str, Any]:
        block = {"block": block_state(self._block_rng, self._pos, self._block["idx"].shape[0])} if self._block else {}
        return {"counts": torch.from_numpy(self.counts.copy()), **block}

    @classmethod
    def upgrade_checkpoint(cls, state: dict[str, Any]) -> dict[str, Any]:
        """Checkpoints saved before the code and Ḡ existed (plain DCGAN runs) in today's layout."""
        if "codes" not in state["config"]:       # saved before the code existed: a plain DCGAN
            state = {**state, "config": {**state["config"], "codes": 0}}
        if "G_avg" not in state["model"] and "G" in state["model"]:        # Ḡ starts as G
            state = {**state, "model": {**state["model"], "G_avg": state["model"]["G"]}}
        losses = (state.get("history") or {}).get("losses")
        if isinstance(losses, dict) and "code_loss" not in losses.get("keys", ()):   # no code: its loss was 0
            n = len(losses["steps"])
            losses = {**losses, "keys": [*losses["keys"], "code_loss"], "vals": {**losses["vals"], "code_loss": [0.0] * n},
                      "acc": {**losses["acc"], "code_loss": 0.0}}
            state = {**state, "history": {**state["history"], "losses": losses}}
        return state

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        if torch.is_tensor(extra.get("counts")) and extra["counts"].numel() == digits.N_CLASSES:
            self.counts = extra["counts"].numpy().astype(np.int64)
        if torch.is_tensor(extra.get("gen")):  # older files: draw afresh from the restored generator
            set_rng_state(self._gen, extra["gen"], "extra.gen")
        self._pos = self._slots = 0
        # the block under way (for the current batch size, any k), redrawn: the same draws follow
        B = int(self.config.batch_size)
        sizes = [B * BLOCK * k for k in range(1, settings.declarations(type(self.config))["k"].bounds[1] + 1)]
        block = restore_block(self._gen, extra.get("block"), sizes, lambda n: n // B, "extra.block")
        if block is not None:
            self._new_block(block[0], B)
            self._pos = block[1]
        self.on_live_change(self.config, self.config)   # the live settings win over the saved ones
