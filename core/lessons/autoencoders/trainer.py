"""The autoencoder trainer (``core.trainer.TrainerBase``): one step trains the plain autoencoder,
the VAE and the denoising autoencoder side by side on the same batch of training digits.

    AE:   x → z = enc(x) → x̂ = dec(z)                        loss = BCE(x̂, x)
    VAE:  x → (μ, log σ²) = enc(x), z = μ + σ·ε → x̂ = dec(z)  loss = BCE(x̂, x) + β·KL(N(μ, σ²) ‖ N(0, I))
    DAE:  x̃ = clip(x + noise·ξ, 0, 1) → z = enc(x̃) → x̂        loss = BCE(x̂, x)   (the clean x)

Every ``eval_every`` steps the codes of all 5,000 digits are taken: 5-NN accuracy of the held-out
digits in each latent space, and the shipped classifier's verdict on each decoded manifold grid.

Why it is faster than a plain PyTorch loop of the same three models (benchmarks/bench_autoencoders.py):
the three run as one stack (``model.AutoencoderStack``: each layer one batched product for all
three), one backward pass and one fused Adam step for all, the losses from logits (no sigmoid
then log), batch indices and noise drawn in blocks, no ``.item()`` per step (one sync per chunk).

Shapes: pixels are flattened, [B, 256] in [0, 1]; inputs/logits [3, B, 256]; codes [3, B, L].
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core import digits
from core.lessons.autoencoders.config import AutoencodersConfig
from core.lessons.autoencoders.metrics import Plane, accepted, knn_accuracy, plane
from core.lessons.autoencoders.model import (AE, DAE, NAMES, VAE, AutoencoderStack, kl_to_prior, reconstruction,
                                             reparameterize)
from core.live import History
from core.trainer import TrainerBase
from core.vet import block_state, restore_block, set_rng_state

GRID = 10                 # the decoded manifold is GRID × GRID digits
N_SCATTER = 300           # held-out digits drawn in each scatter (30 of each digit)
RECON_DIGITS = 10         # fixed held-out digits reconstructed live (one of each)
REPARAM_DIGIT = 8         # the digit whose z = μ + σ·ε is written out with numbers
BLOCK = 16                # steps of indices and noise drawn at once


def adam(params: list[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam over all three models (elementwise, so one optimiser is three); fused where possible."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def pixels(x: torch.Tensor) -> torch.Tensor:
    """core.digits' [N, 1, 16, 16] in [−1, 1] → [N, 256] in [0, 1] (the BCE's scale)."""
    return (x.flatten(1) + 1.0) / 2.0


def first_of_each(labels: torch.Tensor, per: int) -> torch.Tensor:
    """Indices of the first ``per`` examples of each digit, digit by digit: [10·per]."""
    return torch.cat([torch.nonzero(labels == d).flatten()[:per] for d in range(digits.N_CLASSES)])


class AutoencodersTrainer(TrainerBase):
    """Trains the AE, the VAE and the denoising AE together; see the module docstring."""

    LESSON = "autoencoders"
    Config = AutoencodersConfig
    HISTORY_KEYS = ("ae_loss", "dae_loss", "vae_recon", "vae_kl", "vae_loss")
    METRIC_KEYS = tuple(f"{k}_{m}" for k in ("knn", "accepted", "classes") for m in NAMES)

    # ---------------------------------------------------------------- construction
    def build(self) -> None:
        cfg = self.config
        self.model = AutoencoderStack(cfg.latent_size, cfg.width).to(self.device)
        self.opt = adam(list(self.model.parameters()), cfg.lr)
        x, self.y_train = digits.load("train").as_tensor(self.device)
        self.x_train = pixels(x)
        x, self.y_held = digits.load("heldout").as_tensor(self.device)
        self.x_held = pixels(x)
        self.scatter_idx = first_of_each(self.y_held, N_SCATTER // digits.N_CLASSES)
        self.recon_idx = first_of_each(self.y_held, RECON_DIGITS // digits.N_CLASSES)
        self.reparam_idx = int(self.recon_idx[REPARAM_DIGIT])
        fixed = torch.Generator(device="cpu").manual_seed(cfg.seed + 2)
        self.reparam_eps = torch.randn(1, cfg.latent_size, generator=fixed).to(self.device)          # [1, L]
        self.recon_noise = torch.randn(len(self.recon_idx), 256, generator=fixed).to(self.device)    # [10, 256]
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self._block: dict[str, torch.Tensor] = {}
        self._pos = BLOCK
        self.clf = digits.classifier(self.device)
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self._record_metrics()

    def on_live_change(self, old: AutoencodersConfig, new: AutoencodersConfig) -> None:
        for g in self.opt.param_groups:
            g["lr"] = new.lr

    # ---------------------------------------------------------------- training
    def _draw(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(batch indices [B], ε for the VAE [B, L], ξ for the denoising AE [B, 256]), BLOCK at a time."""
        B, L = int(self.config.batch_size), self.config.latent_size
        if self._pos >= BLOCK or self._block["idx"].shape[0] != BLOCK * B:
            self._new_block(B)
        s = slice(self._pos * B, (self._pos + 1) * B)
        self._pos += 1
        return self._block["idx"][s], self._block["eps"][s], self._block["xi"][s]

    def _new_block(self, B: int) -> None:
        g, L = self._gen, self.config.latent_size
        self._block_rng = g.get_state()        # a checkpoint redraws this block from here
        self._block = {"idx": torch.randint(len(self.y_train), (BLOCK * B,), generator=g).to(self.device),
                       "eps": torch.randn(BLOCK * B, L, generator=g).to(self.device),
                       "xi": torch.randn(BLOCK * B, 256, generator=g).to(self.device)}
        self._pos = 0

    def losses(self, x: torch.Tensor, eps: torch.Tensor, xi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction losses [3]: AE, VAE, DAE; the VAE's mean KL []) for one batch x [B, 256]."""
        noisy = (x + self.config.noise * xi).clamp(0.0, 1.0)                   # x̃ = clip(x + noise·ξ, 0, 1)
        loc, logvar = self.model.split(self.model.encode(torch.stack([x, x, noisy])))
        z = torch.stack([loc[AE], reparameterize(loc[VAE], logvar, eps), loc[DAE]])     # [3, B, L]
        rec = reconstruction(self.model.decode(z), x)
        return rec, kl_to_prior(loc[VAE], logvar).mean()

    def train_steps(self, n: int) -> None:
        every, beta = int(self.config.eval_every), float(self.config.beta)
        for _ in range(n):
            idx, eps, xi = self._draw()
            rec, kl = self.losses(self.x_train[idx], eps, xi)
            vae = rec[VAE] + beta * kl
            # the three graphs are separate: one backward of the sum gives each model its own gradient
            total = rec[AE] + rec[DAE] + vae
            self.opt.zero_grad(set_to_none=True)
            total.backward()
            self.opt.step()
            self.push(torch.stack([rec[AE], rec[DAE], rec[VAE], kl, vae]).detach())
            if self.step_count % every == 0:
                self.flush()
                self._record_metrics()

    # ---------------------------------------------------------------- measuring
    def blowup_message(self, what: str) -> str:
        return (f"The run blew up at step {self.step_count:,}: {what}. "
                "Lower the learning rate and press ↺ Reset.")

    def weights_finite(self) -> bool:
        """One device sync for all weights (the base asks once per parameter)."""
        return bool(torch.stack([torch.isfinite(p).all() for p in self.model.parameters()]).all())

    @torch.no_grad()
    def planes(self, codes: torch.Tensor) -> list[Plane]:
        """Each model's 2-D view from its held-out codes [3, N, L]."""
        return [plane(codes[m], prior=(m == VAE)) for m in range(3)]

    @torch.no_grad()
    def manifolds(self, planes: list[Plane]) -> torch.Tensor:
        """Each model's decoded GRID × GRID manifold: [3, GRID², 256] in [0, 1]."""
        z = torch.stack([pl.lift(pl.grid(GRID)) for pl in planes])
        return self.model.images(z)

    @torch.no_grad()
    def _record_metrics(self) -> None:
        if not self.weights_finite():
            return
        train, held = self.model.codes(self.x_train), self.model.codes(self.x_held)
        grids = self.manifolds(self.planes(held))
        row: dict[str, float] = {}
        for m, name in enumerate(NAMES):
            row[f"knn_{name}"] = knn_accuracy(train[m], self.y_train, held[m], self.y_held)
            row[f"accepted_{name}"], row[f"classes_{name}"] = accepted(self.clf, grids[m])
        self.metrics.add(self.step_count, **row)

    @torch.no_grad()
    def reparam_numbers(self) -> dict[str, np.ndarray | float]:
        """z = μ + σ·ε for the fixed held-out digit with the fixed ε: μ, log σ², σ, ε, z [L];
        its KL term; the digit and the decoding of z ([16, 16] in [0, 1])."""
        x = self.x_held[self.reparam_idx:self.reparam_idx + 1]
        loc, logvar = self.model.split(self.model.encode(x.expand(3, 1, 256)))
        mu = loc[VAE]
        z = reparameterize(mu, logvar, self.reparam_eps)
        img = self.model.images(z.expand(3, 1, -1))[VAE, 0]
        f = lambda t: t[0].double().cpu().numpy()                           # noqa: E731
        return {"mu": f(mu), "logvar": f(logvar), "sigma": f(torch.exp(0.5 * logvar)), "eps": f(self.reparam_eps),
                "z": f(z), "kl": float(kl_to_prior(mu, logvar)[0]), "digit": x[0].reshape(16, 16).cpu().numpy(),
                "decoded": img.reshape(16, 16).cpu().numpy(), "label": int(self.y_held[self.reparam_idx])}

    @torch.no_grad()
    def reconstructions(self) -> np.ndarray:
        """Rows: the fixed digits, their noisy copies, the AE's, the denoising AE's (from the noisy
        copy) and the VAE's (from μ) reconstructions: [5 · 10, 16, 16] in [0, 1]."""
        x = self.x_held[self.recon_idx]
        noisy = (x + self.config.noise * self.recon_noise).clamp(0.0, 1.0)
        loc, _ = self.model.split(self.model.encode(torch.stack([x, x, noisy])))
        out = self.model.images(loc)
        rows = torch.cat([x, noisy, out[AE], out[DAE], out[VAE]])
        return rows.reshape(-1, 16, 16).cpu().numpy()

    @torch.no_grad()
    def snapshot(self) -> dict[str, Any]:
        """codes [3, N_SCATTER, 2] (each model's view), labels [N_SCATTER]; boxes [3, 2, 2] (lo, hi);
        manifolds [3, GRID², 16, 16] in [0, 1]; recon [50, 16, 16]; reparam (numbers for one digit);
        history/metrics: dicts of [m] arrays."""
        held = self.model.codes(self.x_held)
        planes = self.planes(held)
        grids = self.manifolds(planes).reshape(3, GRID * GRID, 16, 16)
        view = torch.stack([pl.project(held[m, self.scatter_idx]) for m, pl in enumerate(planes)])
        return {
            "step": self.step_count, "latent": self.config.latent_size, "beta": float(self.config.beta),
            "codes": view.double().cpu().numpy(), "labels": self.y_held[self.scatter_idx].cpu().numpy(),
            "boxes": np.stack([np.stack([pl.lo, pl.hi]) for pl in planes]),
            "manifolds": grids.cpu().numpy(), "recon": self.reconstructions(),
            "reparam": self.reparam_numbers(),
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "last": {k: self.metrics.last(k) for k in self.METRIC_KEYS},
        }

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return {"stack": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.opt}

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        if not self._block:
            return {}
        return {"block": block_state(self._block_rng, self._pos, self._block["idx"].shape[0] // BLOCK)}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        self._pos = BLOCK              # older files: draw afresh from the restored generator
        if torch.is_tensor(extra.get("gen")):
            set_rng_state(self._gen, extra["gen"], "extra.gen")
        block = restore_block(self._gen, extra.get("block"), (int(self.config.batch_size),), lambda _: BLOCK,
                              "extra.block")
        if block is not None:          # the block under way, redrawn: the same batches follow
            self._new_block(block[0])
            self._pos = block[1]
        self.on_live_change(self.config, self.config)   # the live settings win over the saved ones
