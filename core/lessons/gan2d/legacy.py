"""Lesson: mode collapse on 2D mixtures (seed 000: mode collapse, GAN hacks; seed 001: minibatch
GANs, supervision with labels, WGAN; seed 003: non-convergence, mode collapse).

Several *methods* (a vanilla GAN and its remedies) train side by side on the same data, the same
noise and the same seed. Every method trains S seeds at once: each weight tensor carries a
leading seed axis (W: [S, n_in, n_out], b: [S, 1, n_out]) and every layer is one ``baddbmm``, so
S seeds cost about what one costs on these tiny networks. Seed i of a batched run draws its
initial weights, its noise and its real samples from its own generators, and its loss only
touches its own slice of the weights, so it computes exactly what a run with that seed alone
computes (``tests/test_gan2d.py`` checks it).

Shapes: latent z: [S, B, latent]; a point: [S, B, 2]; a discriminator logit/critic value:
[S, B, 1]. PacGAN's discriminator sees m points at once: [S, B, 2m]. The conditional GAN
appends a one-hot mode label (K values) to G's and D's inputs.

Metrics (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018), on 2,500 generated samples:
a sample is *high quality* if it lies within 3σ of its nearest mode; a mode is *covered* if some
high-quality sample is nearest to it; KL is that of the histogram of high-quality samples over
the modes from the uniform one (the real data's histogram).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from core.device import pick_device
from core.live import (Diverged, History, config_from_dict, config_to_dict, live_field, structural_field,
                       with_live_fields)

LESSON = "gan2d"

DATASETS: dict[str, str] = {
    "ring8": "ring of 8 Gaussians",
    "grid25": "5 × 5 grid of 25 Gaussians",
    "moons": "two moons",
    "spiral": "spiral",
}
METHODS: dict[str, str] = {
    "vanilla": "Vanilla GAN (non-saturating)",
    "minimax": "Minimax GAN (saturating)",
    "wgan-gp": "WGAN-GP",
    "mbstd": "Minibatch std feature",
    "unrolled": "Unrolled GAN",
    "pacgan": "PacGAN",
    "cgan": "Conditional GAN (labels)",
}
SHORT_LABELS: dict[str, str] = {
    "vanilla": "vanilla", "minimax": "minimax", "wgan-gp": "WGAN-GP", "mbstd": "minibatch std",
    "unrolled": "unrolled", "pacgan": "PacGAN", "cgan": "conditional",
}
MAX_SEEDS = 16
MAX_PANELS = 4
CURVE_SEGMENTS = 8        # the "modes" of a non-Gaussian shape: equal stretches of its curve


@dataclass
class Gan2DConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    dataset: str = structural_field("ring8")                   # one of DATASETS
    std: float = structural_field(0.05)                         # σ of each mode (noise off a curve)
    methods: tuple = structural_field(("vanilla", "pacgan"))   # the panels, 1–4 of METHODS
    seed: int = structural_field(0)
    n_seeds: int = structural_field(1)                          # seeds seed, seed+1, … trained at once
    latent_size: int = structural_field(4)
    g_width: int = structural_field(64)
    g_depth: int = structural_field(2)                          # hidden layers
    d_width: int = structural_field(64)
    d_depth: int = structural_field(2)
    pack: int = structural_field(4)                             # PacGAN's m (D's input is 2m wide)
    lr_d: float = live_field(3e-4)
    lr_g: float = live_field(1e-3)
    beta1: float = live_field(0.5)                              # Adam's β₁
    batch_size: int = live_field(128)
    k: int = live_field(1)                                      # D steps per G step (GAN methods)
    critic_steps: int = live_field(5)                           # WGAN-GP critic steps per G step
    gp_lambda: float = live_field(1.0)                          # WGAN-GP penalty weight λ
    unroll_steps: int = live_field(5)                           # unrolled GAN: D steps looked ahead
    eval_every: int = structural_field(100)                     # steps between metric measurements


def check_config(cfg: Gan2DConfig) -> None:
    """Raise ValueError with a student-readable message for an unusable config."""
    if cfg.dataset not in DATASETS:
        raise ValueError(f"unknown data set {cfg.dataset!r}")
    methods = tuple(cfg.methods)
    if not methods:
        raise ValueError("choose at least one method")
    if len(methods) > MAX_PANELS:
        raise ValueError(f"at most {MAX_PANELS} methods side by side")
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}")
    if len(set(methods)) != len(methods):
        raise ValueError("each method can appear only once")
    if not (math.isfinite(cfg.std) and 0.001 <= cfg.std <= 0.5):
        raise ValueError("the mode standard deviation must be between 0.001 and 0.5")
    if not 1 <= int(cfg.n_seeds) <= MAX_SEEDS:
        raise ValueError(f"the number of seeds must be between 1 and {MAX_SEEDS}")
    for name, lo in (("latent_size", 1), ("g_width", 1), ("d_width", 1), ("g_depth", 0), ("d_depth", 1),
                     ("pack", 1), ("batch_size", 2), ("k", 1), ("critic_steps", 1), ("unroll_steps", 0),
                     ("eval_every", 1)):
        if int(getattr(cfg, name)) < lo:
            raise ValueError(f"{name.replace('_', ' ')} must be at least {lo}")
    for name in ("lr_d", "lr_g"):
        v = getattr(cfg, name)
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name.replace('_', ' ')} must be a positive number")
    if not (math.isfinite(cfg.gp_lambda) and cfg.gp_lambda >= 0):
        raise ValueError("the gradient-penalty weight λ must be ≥ 0")
    if not 0 <= cfg.beta1 < 1:
        raise ValueError("Adam's β₁ must be in [0, 1)")


# =========================================================================== data


class Data2D:
    """A 2D target distribution with K labelled modes.

    centers/ref: [M, 2] reference points with ref_label: [M] their mode (for the Gaussian
    mixtures the M = K mode centres; for a curve, a dense sample of the curve). The metrics
    assign a generated point to the mode of its nearest reference point.
    """

    def __init__(self, name: str, std: float) -> None:
        self.name, self.std = name, float(std)
        if name == "ring8":
            ang = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
            self.ref = torch.stack([2 * torch.cos(ang), 2 * torch.sin(ang)], 1)     # radius 2
            self.n_modes, self.curve = 8, False
        elif name == "grid25":
            v = torch.arange(-2, 3, dtype=torch.float64)                            # spacing 1
            self.ref = torch.stack(torch.meshgrid(v, v, indexing="xy"), -1).reshape(-1, 2)
            self.n_modes, self.curve = 25, False
        elif name in ("moons", "spiral"):
            t = (torch.arange(800, dtype=torch.float64) + 0.5) / 800                # curve parameter in (0, 1)
            self.ref = self._curve(t)
            self.n_modes, self.curve = CURVE_SEGMENTS, True
        else:
            raise ValueError(f"unknown data set {name!r}")
        M = self.ref.shape[0]
        self.ref_label = (torch.arange(M) * self.n_modes // M) if self.curve else torch.arange(M)
        self.extent = 3.0 if name != "spiral" else 3.0

    def _curve(self, t: torch.Tensor) -> torch.Tensor:
        """Points on the curve for parameters t ∈ [0, 1): [n] -> [n, 2] (float64)."""
        if self.name == "moons":
            # first half of t: upper moon (cos θ, sin θ); second half: lower moon (1 − cos θ, ½ − sin θ)
            upper = t < 0.5
            th = torch.where(upper, t * 2, t * 2 - 1) * math.pi
            x = torch.where(upper, torch.cos(th), 1 - torch.cos(th))
            y = torch.where(upper, torch.sin(th), 0.5 - torch.sin(th))
            return torch.stack([(x - 0.5) * 1.6, (y - 0.25) * 1.6], 1)
        # spiral: r = 0.3 θ, θ ∈ [π/2, 3π]
        th = math.pi / 2 + t * 2.5 * math.pi
        r = 0.3 * th
        return torch.stack([r * torch.cos(th), r * torch.sin(th)], 1)

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """n real samples with their mode label: [n, 3] = (x, y, label) (float32)."""
        if self.curve:
            t = torch.rand(n, generator=gen, dtype=torch.float64)
            label = torch.clamp((t * self.n_modes).floor(), max=self.n_modes - 1)
            centre = self._curve(t)
        else:
            label = torch.randint(self.n_modes, (n,), generator=gen).double()
            centre = self.ref[label.long()]
        x = centre + self.std * torch.randn(n, 2, generator=gen, dtype=torch.float64)
        return torch.cat([x, label[:, None]], 1).float()


# =========================================================================== metrics


def mode_metrics(samples: torch.Tensor, ref: torch.Tensor, ref_label: torch.Tensor, n_modes: int,
                 std: float) -> dict[str, Any]:
    """VEEGAN/PacGAN mode metrics of one sample set.

    samples: [n, 2]; ref: [M, 2] reference points; ref_label: [M] their mode in 0..K−1.
    Returns counts: [K] high-quality samples nearest to each mode, covered (modes with ≥ 1),
    hq (share of high-quality samples), kl = Σ_k p_k log(p_k K) with p the histogram of the
    high-quality samples (KL(p ‖ uniform); log K when all sit on one mode, 0 when even; NaN
    when no sample is high quality), nearest: [n] every sample's mode.
    """
    s = samples.to(torch.float64)
    r = ref.to(s.device, torch.float64)
    dist = torch.cdist(s, r)                                 # [n, M]
    dmin, idx = dist.min(1)
    nearest = ref_label.to(s.device)[idx]
    good = (dmin <= 3 * std) & torch.isfinite(s).all(1)      # within 3σ of the nearest mode
    counts = torch.bincount(nearest[good], minlength=n_modes)[:n_modes]
    n_good = int(counts.sum())
    if n_good:
        p = counts.double() / n_good
        kl = float(torch.where(p > 0, p * torch.log(p * n_modes), torch.zeros_like(p)).sum())
    else:
        kl = float("nan")
    return {"counts": counts.cpu().numpy(), "covered": int((counts > 0).sum()),
            "hq": float(good.double().mean()), "kl": kl, "nearest": nearest.cpu().numpy()}


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


# =========================================================================== batched networks


def init_params(sizes: list[int], gens: list[torch.Generator], device: torch.device) -> list[torch.Tensor]:
    """Per-seed nn.Linear-style init: W, b ~ U(−1/√n_in, 1/√n_in). Returns [W1 [S,in,out], b1 [S,1,out], …]."""
    per_seed: list[list[torch.Tensor]] = []
    for g in gens:
        ps = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(n_in)
            ps.append((torch.rand(n_in, n_out, generator=g) * 2 - 1) * bound)
            ps.append((torch.rand(1, n_out, generator=g) * 2 - 1) * bound)
        per_seed.append(ps)
    return [torch.stack([ps[i] for ps in per_seed]).to(device).requires_grad_(True)
            for i in range(len(per_seed[0]))]


def mlp(params: list[torch.Tensor], x: torch.Tensor, act: str, mbstd_groups: int = 0) -> torch.Tensor:
    """S MLPs at once. x: [S, n, in] -> [S, n, out]; layer: h ← act(h W + b) (one baddbmm).

    mbstd_groups > 0 (minibatch std feature, Karras et al.): before the output layer, append
    σ̄ = mean over features of the std over each group's rows (the n rows are mbstd_groups
    contiguous groups, e.g. [real; fake]), so D sees how spread the whole batch is.
    """
    L = len(params) // 2
    h = x
    for l in range(L):
        if l == L - 1 and mbstd_groups:
            S, n, H = h.shape
            g = h.reshape(S, mbstd_groups, n // mbstd_groups, H)
            # σ̄ = mean_j sqrt(Var_rows(h_j) + 1e-8)
            sd = (g.var(dim=2, unbiased=False) + 1e-8).sqrt().mean(-1)        # [S, groups]
            feat = sd[:, :, None, None].expand(S, mbstd_groups, n // mbstd_groups, 1).reshape(S, n, 1)
            h = torch.cat([h, feat], -1)
        h = torch.baddbmm(params[2 * l + 1], h, params[2 * l])
        if l < L - 1:
            h = torch.relu(h) if act == "relu" else F.leaky_relu(h, 0.2)
    return h


class BatchedAdam:
    """Adam on a list of per-seed-stacked tensors; elementwise, so seeds never mix.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
    """

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple[float, float]) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, 1e-8
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        b1, b2 = self.betas
        self.t += 1
        torch._foreach_mul_(self.m, b1)
        torch._foreach_add_(self.m, grads, alpha=1 - b1)
        torch._foreach_mul_(self.v, b2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1 - b2)
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denom, math.sqrt(1 - b2 ** self.t))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denom, value=-self.lr / (1 - b1 ** self.t))

    def lookahead(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """One differentiable Adam step from the current moments (the unrolled GAN's D update)."""
        b1, b2 = self.betas
        t = self.t + 1
        out = []
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m2 = b1 * m + (1 - b1) * g
            v2 = b2 * v + (1 - b2) * g * g
            # +1e-20 inside the root keeps its derivative finite where v = g = 0
            out.append(p - (self.lr / (1 - b1 ** t)) * m2 / ((v2 + 1e-20).sqrt() / math.sqrt(1 - b2 ** t) + self.eps))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, "m": [x.detach().cpu().clone() for x in self.m],
                "v": [x.detach().cpu().clone() for x in self.v]}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.t = int(s["t"])
        self.m = [x.to(p) .clone() for x, p in zip(s["m"], self.params)]
        self.v = [x.to(p).clone() for x, p in zip(s["v"], self.params)]


class _SeedStream:
    """Per-seed random draws in blocks: next(rows) -> [S, rows, d].

    Seed i always draws from its own generator in the same order, whatever S is.
    """

    def __init__(self, draw: Callable[[int, torch.Generator], torch.Tensor], gens: list[torch.Generator],
                 device: torch.device, block_steps: int = 64) -> None:
        self._draw, self._gens, self._device, self._block = draw, gens, device, block_steps
        self._buf: torch.Tensor | None = None
        self._pos = self._rows = 0

    def next(self, rows: int) -> torch.Tensor:
        if self._buf is None or rows != self._rows or self._pos + rows > self._buf.shape[1]:
            self._buf = torch.stack([self._draw(rows * self._block, g) for g in self._gens]).to(self._device)
            self._pos, self._rows = 0, rows
        out = self._buf[:, self._pos:self._pos + rows]
        self._pos += rows
        return out


def _gens(seeds: list[int], salt: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(1_000_003 * salt + s) for s in seeds]


# =========================================================================== one method, S seeds


class MethodRun:
    """One method (a panel) trained on S seeds at once."""

    HISTORY_KEYS = ("d_loss", "g_loss")
    METRIC_KEYS = ("covered", "hq", "kl", "covered_mean", "hq_mean")
    N_EVAL = 2500
    N_FRAME = 250           # samples kept per recorded frame
    MAX_FRAMES = 48         # recorded frames (halved when full) for the replay
    TRAIL = 60              # mode histograms kept for the "where was the mass" chart

    def __init__(self, method: str, cfg: Gan2DConfig, data: Data2D, device: torch.device) -> None:
        self.method, self.cfg, self.data, self.device = method, cfg, data, device
        self.seeds = [cfg.seed + i for i in range(cfg.n_seeds)]
        S, K = len(self.seeds), data.n_modes
        self.S, self.K = S, K
        self.cond = method == "cgan"
        self.m = cfg.pack if method == "pacgan" else 1
        g_in = cfg.latent_size + (K if self.cond else 0)
        d_in = 2 * self.m + (K if self.cond else 0)
        self.g_sizes = [g_in] + [cfg.g_width] * cfg.g_depth + [2]
        d_sizes = [d_in] + [cfg.d_width] * cfg.d_depth + [1]
        self.d_sizes = d_sizes
        # The same seed gives every method the same initial G (where shapes agree), data and noise.
        self.G = init_params(self.g_sizes, _gens(self.seeds, 1), device)
        self.D = init_params(d_sizes, _gens(self.seeds, 2), device)
        if method == "mbstd":  # the std feature σ̄ is one more input to D's output layer
            self.D[-2:] = init_params([d_sizes[-2] + 1, 1], _gens(self.seeds, 7), device)
        self.opt_g = BatchedAdam(self.G, cfg.lr_g, (cfg.beta1, 0.999 if method != "wgan-gp" else 0.9))
        self.opt_d = BatchedAdam(self.D, cfg.lr_d, (cfg.beta1, 0.999 if method != "wgan-gp" else 0.9))
        self._z = _SeedStream(lambda n, g: torch.randn(n, cfg.latent_size, generator=g), _gens(self.seeds, 3), device)
        self._real = _SeedStream(data.sample, _gens(self.seeds, 4), device)
        self._eps = _SeedStream(lambda n, g: torch.rand(n, 1, generator=g), _gens(self.seeds, 5), device)
        self._lab = _SeedStream(lambda n, g: torch.randint(K, (n, 1), generator=g).float(), _gens(self.seeds, 6), device)
        # Fixed evaluation noise (the same for every seed and frame) and balanced labels for cGAN.
        ev = torch.Generator().manual_seed(12345)
        z = torch.randn(self.N_EVAL, cfg.latent_size, generator=ev)
        self._eval_z = z.to(device).expand(S, -1, -1)
        self._eval_lab = (torch.arange(self.N_EVAL) % K).float()[None, :, None].to(device).expand(S, -1, -1)
        self.history = History(self.HISTORY_KEYS, capacity=800)
        self.metrics = History(self.METRIC_KEYS, capacity=400)
        self.frames: list[tuple[int, np.ndarray, np.ndarray]] = []   # (step, samples [P,2] f16, counts [K])
        self.frame_stride = 1
        self._frame_tick = 0
        self.mode_trail: list[tuple[int, np.ndarray]] = []            # (step, counts [K]) of seed 0
        self.last: dict[str, np.ndarray] = {}                         # per-seed latest metrics
        self._onehot = torch.eye(K, device=device)

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
        B = cfg.batch_size // self.m if self.m > 1 else cfg.batch_size
        B = max(B, 1)
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
    def eval_samples(self, n: int | None = None) -> torch.Tensor:
        """The fixed evaluation samples of every seed: [S, n, 2]."""
        n = n or self.N_EVAL
        lab = self._eval_lab[:, :n] if self.cond else None
        return mlp(self.G, self._g_input(self._eval_z[:, :n], lab), "relu")

    def record(self, step: int) -> None:
        """Measure the mode metrics of every seed on 2,500 samples and keep frames of seed 0."""
        x = self.eval_samples()
        per = [mode_metrics(x[i], self.data.ref, self.data.ref_label, self.K, self.data.std) for i in range(self.S)]
        cov = np.array([p["covered"] for p in per], dtype=np.float64)
        hq = np.array([p["hq"] for p in per], dtype=np.float64)
        kl = np.array([p["kl"] for p in per], dtype=np.float64)
        self.last = {"covered": cov, "hq": hq, "kl": kl, "counts": np.stack([p["counts"] for p in per])}
        self.metrics.add(step, covered=cov[0], hq=hq[0], kl=kl[0], covered_mean=cov.mean(), hq_mean=hq.mean())
        self.mode_trail.append((step, per[0]["counts"].astype(np.float64)))
        del self.mode_trail[:-self.TRAIL]
        self._frame_tick += 1
        if self._frame_tick >= self.frame_stride:
            self._frame_tick = 0
            pts = x[0, :self.N_FRAME].cpu().numpy().astype(np.float16)
            self.frames.append((step, pts, per[0]["counts"].astype(np.int64)))
            if len(self.frames) > self.MAX_FRAMES:   # keep every other frame: bounded memory
                self.frames = self.frames[1::2]
                self.frame_stride *= 2

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
            inp = x.repeat(1, 1, self.m)
            out = mlp(D, inp, "leaky_relu")
        elif self.cond:
            d = torch.cdist(pts.double(), self.data.ref.to(pts.device))
            lab = self.data.ref_label.to(pts.device)[d.argmin(1)]
            out = mlp(D, torch.cat([x, self._onehot[lab][None]], -1), "leaky_relu")
        elif self.method == "mbstd":
            L = len(D) // 2
            fake = self.eval_samples(500)[seed_index:seed_index + 1]
            # hidden features of the fake batch and of the grid, then σ̄ of the fake batch
            def hidden(inp: torch.Tensor) -> torch.Tensor:
                h = inp
                for l in range(L - 1):
                    h = F.leaky_relu(torch.baddbmm(D[2 * l + 1], h, D[2 * l]), 0.2)
                return h
            hf = hidden(fake)
            sd = (hf.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(-1)        # [1]
            hg = hidden(x)
            hg = torch.cat([hg, sd[:, None, None].expand(1, hg.shape[1], 1)], -1)
            out = torch.baddbmm(D[-1], hg, D[-2])
        else:
            out = mlp(D, x, "leaky_relu")
        v = out[0, :, 0]
        if self.method != "wgan-gp":
            v = torch.sigmoid(v)
        return v.cpu().numpy().astype(np.float64).reshape(len(gy), len(gx))

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "G": [p.detach().cpu().clone() for p in self.G], "D": [p.detach().cpu().clone() for p in self.D],
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "history": self.history.state_dict(), "metrics": self.metrics.state_dict(),
            "frames": {"steps": [f[0] for f in self.frames],
                       "points": torch.from_numpy(np.stack([f[1] for f in self.frames])) if self.frames else torch.zeros(0),
                       "counts": torch.from_numpy(np.stack([f[2] for f in self.frames])) if self.frames else torch.zeros(0),
                       "stride": self.frame_stride, "tick": self._frame_tick},
            "mode_trail": {"steps": [s for s, _ in self.mode_trail],
                           "counts": torch.from_numpy(np.stack([c for _, c in self.mode_trail])) if self.mode_trail else torch.zeros(0)},
            "last": {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in self.last.items()},
        }

    def load_state_dict(self, s: dict[str, Any]) -> None:
        with torch.no_grad():
            for p, q in zip(self.G, s["G"]):
                if p.shape != q.shape:
                    raise ValueError("checkpoint network shape does not match the config")
                p.copy_(q)
            for p, q in zip(self.D, s["D"]):
                if p.shape != q.shape:
                    raise ValueError("checkpoint network shape does not match the config")
                p.copy_(q)
        self.opt_g.load_state_dict(s["opt_g"])
        self.opt_d.load_state_dict(s["opt_d"])
        self.history.load_state_dict(s["history"])
        self.metrics.load_state_dict(s["metrics"])
        fr = s["frames"]
        self.frames = [(int(st), fr["points"][i].numpy(), fr["counts"][i].numpy()) for i, st in enumerate(fr["steps"])]
        self.frame_stride, self._frame_tick = int(fr["stride"]), int(fr["tick"])
        mt = s["mode_trail"]
        self.mode_trail = [(int(st), mt["counts"][i].numpy()) for i, st in enumerate(mt["steps"])]
        self.last = {k: v.numpy() for k, v in s["last"].items()}


# =========================================================================== the trainer


class Gan2DTrainer:
    """All panels (methods) of the page, each on ``n_seeds`` seeds, stepped together.

    One ``step`` = one iteration of every method: k D steps (critic_steps for WGAN-GP) and one
    G step. Metrics are measured every ``eval_every`` steps.
    """

    N_SHOW = 500
    GRID = 32

    def __init__(self, config: Gan2DConfig, device: torch.device | None = None) -> None:
        config = dataclasses.replace(config, methods=tuple(config.methods))
        check_config(config)
        self.config = config
        self.device = device or pick_device()
        self.data = Data2D(config.dataset, config.std)
        self.runs = {m: MethodRun(m, config, self.data, self.device) for m in config.methods}
        self.step_count = 0
        self._pending: list[torch.Tensor] = []
        rs = torch.Generator().manual_seed(999)
        self._show_real = self.data.sample(self.N_SHOW, rs)[:, :2].numpy().astype(np.float64)
        self._record()

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.runs)

    def apply_live(self, config: Gan2DConfig) -> None:
        """Adopt learning rates, β₁, batch size, k, critic steps, λ and unroll steps."""
        new = with_live_fields(self.config, config)
        new = dataclasses.replace(new, methods=tuple(new.methods))
        check_config(new)
        self.config = new
        for run in self.runs.values():
            run.cfg = new
            run.opt_d.lr, run.opt_g.lr = new.lr_d, new.lr_g
            b2 = 0.9 if run.method == "wgan-gp" else 0.999
            run.opt_d.betas = run.opt_g.betas = (new.beta1, b2)

    def step(self, n: int = 1) -> None:
        """n iterations of every method. Raises ``Diverged`` when a loss or weight is NaN/inf."""
        every = self.config.eval_every
        for _ in range(int(n)):
            self._pending.append(torch.stack([run.iteration() for run in self.runs.values()]))  # [R, S, 2]
            self.step_count += 1
            if self.step_count % every == 0:
                self._flush()
                self._record()
        self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        vals = torch.stack(self._pending)            # [n, R, S, 2]
        self._pending = []
        ok = torch.isfinite(vals).all()
        for run in self.runs.values():
            ok = ok & torch.stack([torch.isfinite(p).all() for p in run.G + run.D]).all()
        if not bool(ok):
            bad = [SHORT_LABELS[m] for m, run in self.runs.items()
                   if not all(bool(torch.isfinite(p).all()) for p in run.G + run.D)]
            raise Diverged(f"Training diverged at step {self.step_count}"
                           + (f" ({', '.join(bad)})" if bad else "")
                           + ": a loss or weight became NaN or infinite. Lower the learning rates and press Reset.")
        arr = vals[:, :, 0].cpu().numpy().astype(np.float64)   # seed 0: [n, R, 2]
        steps = np.arange(self.step_count - arr.shape[0] + 1, self.step_count + 1)
        for r, run in enumerate(self.runs.values()):
            run.history.add_many(steps, {"d_loss": arr[:, r, 0], "g_loss": arr[:, r, 1]})

    def _record(self) -> None:
        for run in self.runs.values():
            run.record(self.step_count)

    # ------------------------------------------------------------------ reading
    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        e = self.data.extent
        g = np.linspace(-e, e, self.GRID)
        return g, g

    @torch.no_grad()
    def snapshot(self, seed_index: int = 0) -> dict[str, Any]:
        """Arrays for the charts, for the shown seed (index into seeds).

        panels[m]: fake [N_SHOW, 2], d_grid [GRID, GRID] (rows = y), counts [K], covered, hq,
        kl, history/metrics dicts of [t] arrays, trail_steps [T], trail [T, K] (mode histograms),
        frames (steps [F], points [F, 250, 2], counts [F, K]); per_seed[m]: covered/hq/kl [S].
        """
        seed_index = int(min(max(seed_index, 0), self.config.n_seeds - 1))
        gx, gy = self.grid()
        panels = {}
        for m, run in self.runs.items():
            x = run.eval_samples()[seed_index]
            met = mode_metrics(x, self.data.ref, self.data.ref_label, run.K, self.data.std)
            trail = run.mode_trail
            panels[m] = {
                "fake": x[: self.N_SHOW].cpu().numpy().astype(np.float64),
                "d_grid": run.d_field(gx, gy, seed_index), "critic": m == "wgan-gp",
                "counts": met["counts"].astype(np.float64), "covered": met["covered"], "hq": met["hq"], "kl": met["kl"],
                "history": run.history.arrays(), "metrics": run.metrics.arrays(),
                "trail_steps": np.array([s for s, _ in trail], dtype=np.float64),
                "trail": np.stack([c for _, c in trail]) if trail else np.zeros((0, run.K)),
                "frame_steps": np.array([f[0] for f in run.frames], dtype=np.float64),
                "frames": np.stack([f[1] for f in run.frames]).astype(np.float64) if run.frames else np.zeros((0, 0, 2)),
                "frame_counts": np.stack([f[2] for f in run.frames]).astype(np.float64) if run.frames else np.zeros((0, run.K)),
            }
        per_seed = {m: {k: np.asarray(run.last.get(k, []), dtype=np.float64) for k in ("covered", "hq", "kl")}
                    for m, run in self.runs.items()}
        return {
            "step": self.step_count, "dataset": self.config.dataset, "n_modes": self.data.n_modes,
            "methods": list(self.runs), "seeds": [self.config.seed + i for i in range(self.config.n_seeds)],
            "seed_index": seed_index, "real": self._show_real, "ref": self.data.ref.numpy(),
            "curve": self.data.curve, "grid_x": gx, "grid_y": gy, "std": self.data.std,
            "panels": panels, "per_seed": per_seed,
        }

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self, methods: tuple[str, ...] | None = None) -> dict[str, Any]:
        """One checkpoint dict; ``methods`` keeps only some panels (one file per method ships)."""
        self._flush()
        keep = [m for m in self.runs if methods is None or m in methods]
        cfg = config_to_dict(self.config)
        cfg["methods"] = list(cfg["methods"])
        return {
            "lesson": LESSON, "config": cfg, "step": self.step_count,
            # weights, optimiser moments, histories and recorded frames of each method: extra.runs
            "model": {"methods": keep},
            "optim": {}, "history": {},
            "extra": {"runs": {m: self.runs[m].state_dict() for m in keep}},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        runs = state["extra"]["runs"]
        missing = [m for m in self.runs if m not in runs]
        if missing:
            raise ValueError(f"the checkpoint has no run of {', '.join(missing)}")
        for m, run in self.runs.items():
            run.load_state_dict(runs[m])
        self.step_count = int(state["step"])

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: torch.device | None = None) -> "Gan2DTrainer":
        """A new trainer continuing from a checkpoint (its methods, its config)."""
        cfg = config_from_dict(Gan2DConfig, state["config"])
        cfg = dataclasses.replace(cfg, methods=tuple(state["extra"]["runs"]) if "methods" not in state["config"]
                                  else tuple(m for m in state["config"]["methods"] if m in state["extra"]["runs"]))
        t = cls(cfg, device)
        t.load_state_dict(state)
        return t


def merge_checkpoints(states: list[dict[str, Any]], methods: tuple[str, ...]) -> dict[str, Any]:
    """Combine one-method checkpoints (same config otherwise) into one for the given methods."""
    if not states:
        raise ValueError("no checkpoint to merge")
    runs: dict[str, Any] = {}
    for s in states:
        runs.update(s["extra"]["runs"])
    steps = {int(s["step"]) for s in states}
    if len(steps) != 1:
        raise ValueError("the recorded runs have different lengths")
    cfg = dict(states[0]["config"])
    cfg["methods"] = [m for m in methods if m in runs]
    return {"lesson": LESSON, "config": cfg, "step": steps.pop(), "model": {"methods": cfg["methods"]},
            "optim": {}, "history": {},
            "extra": {"runs": {m: runs[m] for m in cfg["methods"]}}}


# =========================================================================== pretraining

PRETRAIN_STEPS = 3000


def pretrain(seed: int = 0, steps: int | None = None) -> dict[str, Any]:
    """A recorded run of every method on the default ring (one small file per method)."""
    steps = steps or PRETRAIN_STEPS
    cfg = Gan2DConfig(seed=seed)
    ckpts, metrics = {}, {}
    for m in METHODS:
        t = Gan2DTrainer(dataclasses.replace(cfg, methods=(m,)), torch.device("cpu"))
        t.step(steps)
        ckpts[f"gan2d_{m.replace('-', '')}"] = t.state_dict()
        last = t.runs[m].last
        metrics[m] = {"covered": int(last["covered"][0]), "hq": round(float(last["hq"][0]), 3),
                      "kl": round(float(last["kl"][0]), 3)}
    metrics["steps"] = steps
    return {"checkpoints": ckpts, "metrics": metrics}


def pretrained_stem(method: str) -> str:
    return f"gan2d_{method.replace('-', '')}"
