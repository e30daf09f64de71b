"""One panel: a method (the vanilla GAN or a remedy) trained on S seeds at once.

Shapes: latent z: [S, B, latent]; a point: [S, B, 2]; a discriminator logit/critic value:
[S, B, 1]. PacGAN's discriminator sees m points at once: [S, B, 2m]. The conditional GAN
appends a one-hot mode label (K values) to G's and D's inputs.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from core.live import History
from core.trainer import check_shapes
from core.lessons.gan2d.batched import BatchedAdam, SeedStream, hidden, mlp, seed_generators, stack_params
from core.lessons.gan2d.config import Gan2DConfig
from core.lessons.gan2d.data import Data2D
from core.lessons.gan2d.nets import panel_nets
from core.lessons.gan2d.record import Recording


def wgan_gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                          fake: torch.Tensor, eps: torch.Tensor, create_graph: bool = True) -> torch.Tensor:
    """Gulrajani et al.'s penalty per seed: [S].

    x̂ = ε x + (1 − ε) G(z) with ε ~ U[0, 1] per sample (eps: [S, B, 1]);
    GP = E_x̂[(‖∇_x̂ f(x̂)‖₂ − 1)²].
    """
    xhat = (eps * real + (1 - eps) * fake)
    if not xhat.requires_grad:
        xhat.requires_grad_(True)
    out = critic(xhat)
    (g,) = torch.autograd.grad(out.sum(), xhat, create_graph=create_graph)
    # each x̂ only influences its own output, so ∂Σf/∂x̂_i = ∇f(x̂_i)
    return ((g.norm(dim=-1) - 1) ** 2).mean(-1)


def adam_betas(method: str, beta1: float) -> tuple[float, float]:
    """WGAN-GP uses β₂ = 0.9 (Gulrajani et al.); the GANs Adam's usual 0.999."""
    return (beta1, 0.9 if method == "wgan-gp" else 0.999)


class MethodRun:
    """One method (a panel) trained on S seeds at once."""

    HISTORY_KEYS = ("d_loss", "g_loss")
    N_EVAL = 2500

    def __init__(self, method: str, cfg: Gan2DConfig, data: Data2D, device: torch.device) -> None:
        self.method, self.cfg, self.data, self.device = method, cfg, data, device
        self.seeds = [cfg.seed + i for i in range(cfg.n_seeds)]
        S, K = len(self.seeds), data.n_modes
        self.S, self.K = S, K
        self.cond = method == "cgan"
        self.m = cfg.pack if method == "pacgan" else 1
        # The same seed gives every method the same initial G (where shapes agree), data and noise;
        # the stacked weights are those of nets.py's one-seed modules, one per seed.
        nets = [panel_nets(method, lambda salt, s=s: seed_generators([s], salt)[0], cfg.latent_size,
                           cfg.g_width, cfg.g_depth, cfg.d_width, cfg.d_depth, cfg.pack, K) for s in self.seeds]
        self.G = stack_params([G for G, _ in nets], device)
        self.D = stack_params([D for _, D in nets], device)
        self.opt_g = BatchedAdam(self.G, cfg.lr_g, adam_betas(method, cfg.beta1))
        self.opt_d = BatchedAdam(self.D, cfg.lr_d, adam_betas(method, cfg.beta1))
        self._z = SeedStream(lambda n, g: torch.randn(n, cfg.latent_size, generator=g),
                             seed_generators(self.seeds, 3), device)
        self._real = SeedStream(data.sample, seed_generators(self.seeds, 4), device)
        self._eps = SeedStream(lambda n, g: torch.rand(n, 1, generator=g), seed_generators(self.seeds, 5), device)
        self._lab = SeedStream(lambda n, g: torch.randint(K, (n, 1), generator=g).float(),
                               seed_generators(self.seeds, 6), device)
        # Fixed evaluation noise (the same for every seed and frame) and balanced labels for cGAN.
        ev = torch.Generator().manual_seed(12345)
        z = torch.randn(self.N_EVAL, cfg.latent_size, generator=ev)
        self._eval_z = z.to(device).expand(S, -1, -1)
        self._eval_lab = (torch.arange(self.N_EVAL) % K).float()[None, :, None].to(device).expand(S, -1, -1)
        self.history = History(self.HISTORY_KEYS, capacity=800)
        self.rec = Recording()
        self.farthest = 0.0                                           # max |coordinate| at the last record
        self._onehot = torch.eye(K, device=device)

    def apply_live(self, cfg: Gan2DConfig) -> None:
        """Adopt learning rates and β₁ (the other live settings are read at every iteration)."""
        self.cfg = cfg
        self.opt_d.lr, self.opt_g.lr = cfg.lr_d, cfg.lr_g
        self.opt_d.betas = self.opt_g.betas = adam_betas(self.method, cfg.beta1)

    # ------------------------------------------------------------------ pieces
    def _g_input(self, z: torch.Tensor, lab: torch.Tensor | None) -> torch.Tensor:
        if self.cond:
            return torch.cat([z, self._onehot[lab[..., 0].long()]], -1)
        return z

    def generate(self, params: list[torch.Tensor] | None, rows: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """rows fresh fake points [S, rows, 2] (and their labels [S, rows, 1] for cGAN)."""
        z = self._z.next(rows)
        lab = self._lab.next(rows) if self.cond else None
        return mlp(self.G if params is None else params, self._g_input(z, lab), "relu"), lab

    def _d_input(self, x: torch.Tensor, lab: torch.Tensor | None) -> torch.Tensor:
        """[S, n, 2] points -> D's input: packed [S, n/m, 2m] for PacGAN, + one-hot label for cGAN."""
        if self.m > 1:
            S, n, _ = x.shape
            return x.reshape(S, n // self.m, 2 * self.m)
        if self.cond:
            return torch.cat([x, self._onehot[lab[..., 0].long()]], -1)
        return x

    def D_of(self, params: list[torch.Tensor], x: torch.Tensor, lab: torch.Tensor | None = None,
             groups: int = 1) -> torch.Tensor:
        return mlp(params, self._d_input(x, lab), "leaky_relu", groups if self.method == "mbstd" else 0)

    def _real_batch(self, rows: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        r = self._real.next(rows)
        return r[..., :2], (r[..., 2:] if self.cond else None)

    # ------------------------------------------------------------------ losses (per seed, [S])
    def d_loss(self, D: list[torch.Tensor], G: list[torch.Tensor] | None, B: int, fake_graph: bool = False) -> torch.Tensor:
        """The discriminator's (critic's) loss per seed, [S], on a fresh real and fake batch."""
        rows = B * self.m
        real, rl = self._real_batch(rows)
        if fake_graph:
            fake, fl = self.generate(G, rows)
        else:
            with torch.no_grad():
                fake, fl = self.generate(G, rows)
        if self.method == "wgan-gp":
            # L_C = E[f(G(z))] − E[f(x)] + λ·GP
            f_real, f_fake = self.D_of(D, real, rl), self.D_of(D, fake, fl)
            gp = wgan_gradient_penalty(lambda xh: self.D_of(D, xh, rl), real, fake, self._eps.next(rows))
            return f_fake.mean((1, 2)) - f_real.mean((1, 2)) + self.cfg.gp_lambda * gp
        lab = torch.cat([rl, fl], 1) if self.cond else None
        a = self.D_of(D, torch.cat([real, fake], 1), lab, groups=2)       # [S, 2n, 1]: [real; fake]
        n = a.shape[1] // 2
        # L_D = −E[log D(x)] − E[log(1 − D(G(z)))],  D = σ(a):  = E[softplus(−a_real)] + E[softplus(a_fake)]
        return F.softplus(-a[:, :n]).mean((1, 2)) + F.softplus(a[:, n:]).mean((1, 2))

    def g_loss(self, D: list[torch.Tensor], B: int) -> torch.Tensor:
        """The generator's loss per seed, [S] (through D's current or unrolled weights)."""
        fake, fl = self.generate(self.G, B * self.m)
        a = self.D_of(D, fake, fl, groups=1)
        if self.method == "wgan-gp":
            return -a.mean((1, 2))                               # L_G = −E[f(G(z))]
        if self.method == "minimax":
            return -F.softplus(a).mean((1, 2))                   # L_G = E[log(1 − D(G(z)))] = −E[softplus(a)]
        return F.softplus(-a).mean((1, 2))                       # L_G = −E[log D(G(z))]

    # ------------------------------------------------------------------ one iteration
    def iteration(self) -> torch.Tensor:
        """k (or critic_steps) D updates, then one G update. Returns [S, 2] (d_loss, g_loss)."""
        cfg = self.cfg
        B = max(cfg.batch_size // self.m if self.m > 1 else cfg.batch_size, 1)
        steps = cfg.critic_steps if self.method == "wgan-gp" else cfg.k
        for _ in range(steps):
            ld = self.d_loss(self.D, None, B)
            # Σ over seeds: seed i's gradient only comes from its own loss term
            grads = torch.autograd.grad(ld.sum(), self.D)
            self.opt_d.step(list(grads))
        if self.method == "unrolled" and cfg.unroll_steps > 0:
            D = list(self.D)
            for _ in range(cfg.unroll_steps):
                # θ_D^{j+1} = Adam step of θ_D^j on L_D, kept differentiable w.r.t. G's weights
                ld_u = self.d_loss(D, self.G, B, fake_graph=True)
                gd = torch.autograd.grad(ld_u.sum(), D, create_graph=True)
                D = self.opt_d.lookahead(D, list(gd))
            lg = self.g_loss(D, B)
        else:
            lg = self.g_loss(self.D, B)
        grads = torch.autograd.grad(lg.sum(), self.G)
        self.opt_g.step(list(grads))
        return torch.stack([ld.detach(), lg.detach()], 1)

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def eval_samples(self, n: int | None = None, seed_index: int | None = None) -> torch.Tensor:
        """The fixed evaluation samples of every seed, [S, n, 2], or of one seed, [1, n, 2] (a frame
        shows one seed: no need to run the other seven)."""
        n = n or self.N_EVAL
        G = self.G if seed_index is None else [p[seed_index:seed_index + 1] for p in self.G]
        S = G[0].shape[0]
        lab = self._eval_lab[:S, :n] if self.cond else None
        return mlp(G, self._g_input(self._eval_z[:S, :n], lab), "relu")

    def record(self, step: int) -> None:
        """Measure the mode metrics of every seed on 2,500 samples (and how far out they lie)."""
        x = self.eval_samples()
        self.farthest = float(x.abs().max()) if bool(torch.isfinite(x).all()) else float("inf")
        self.rec.add(step, x, self.data)

    @torch.no_grad()
    def d_field(self, gx: np.ndarray, gy: np.ndarray, seed_index: int = 0) -> np.ndarray:
        """What D (or the critic) says over a grid, seed ``seed_index``: [ny, nx].

        σ(a) for the GAN methods; the critic value f(x) for WGAN-GP. PacGAN's D sees the grid
        point m times; the conditional D is given the label of the point's nearest mode; the
        minibatch-std D gets σ̄ of the current evaluation samples.
        """
        XX, YY = np.meshgrid(gx, gy)
        pts = torch.from_numpy(np.stack([XX.ravel(), YY.ravel()], 1)).float().to(self.device)  # [P, 2]
        D = [p[seed_index:seed_index + 1] for p in self.D]
        x = pts[None]
        if self.m > 1:
            out = mlp(D, x.repeat(1, 1, self.m), "leaky_relu")
        elif self.cond:
            d = torch.cdist(pts.double(), self.data.ref.to(pts.device))
            lab = self.data.ref_label.to(pts.device)[d.argmin(1)]
            out = mlp(D, torch.cat([x, self._onehot[lab][None]], -1), "leaky_relu")
        elif self.method == "mbstd":
            # hidden features of the fake batch and of the grid, then σ̄ of the fake batch
            hf = hidden(D, self.eval_samples(500, seed_index))
            sd = (hf.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(-1)        # [1]
            hg = hidden(D, x)
            hg = torch.cat([hg, sd[:, None, None].expand(1, hg.shape[1], 1)], -1)
            out = torch.baddbmm(D[-1], hg, D[-2])
        else:
            out = mlp(D, x, "leaky_relu")
        v = out[0, :, 0]
        if self.method != "wgan-gp":
            v = torch.sigmoid(v)
        return v.cpu().numpy().astype(np.float64).reshape(len(gy), len(gx))

    def weights_finite(self) -> bool:
        return bool(torch.stack([torch.isfinite(p).all() for p in self.G + self.D]).all())

    # ------------------------------------------------------------------ checkpoints (the shipped layout)
    def state_dict(self) -> dict[str, Any]:
        return {"G": [p.detach().cpu().clone() for p in self.G], "D": [p.detach().cpu().clone() for p in self.D],
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "history": self.history.state_dict(), **self.rec.state_dict()}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        """Load a run; ValueError (before anything changes) if a tensor does not fit the config."""
        check_shapes(self.G, s["G"], f"{self.method}.G")
        check_shapes(self.D, s["D"], f"{self.method}.D")
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            check_shapes(opt.m, s[name]["m"], f"{self.method}.{name}.m")
            check_shapes(opt.v, s[name]["v"], f"{self.method}.{name}.v")
        with torch.no_grad():
            for p, q in zip(self.G + self.D, s["G"] + s["D"]):
                p.copy_(q)
        self.opt_g.load_state_dict(s["opt_g"])
        self.opt_d.load_state_dict(s["opt_d"])
        self.history.load_state_dict(s["history"])
        self.rec.load_state_dict(s)
