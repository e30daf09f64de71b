"""Mode collapse on 2D mixtures as a standalone PyTorch script / notebook (core.export): every
panel of the page (the vanilla GAN and its remedies) with the app's own nets (nets.py, their
source), autograd and torch.optim, written the way a tutorial would, with the page's settings and seed.

The page trains S seeds of a panel at once with batched weights (core/lessons/gan2d/batched.py,
stacked from those modules); the script trains the first seed's modules as they are, drawing every random number from the
same per-stream generators in the same blocks, so its losses follow the page's first seed.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.export import settings_cell, sources
from core.lessons.gan2d.config import METHODS, Gan2DConfig
from core.lessons.gan2d.nets import LEAKY_SLOPE, Discriminator, Generator, one_hot, panel_nets, seeded_linear

DEFAULT_STEPS = 3000          # the shipped runs' length (core.lessons.gan2d.pretrained.PRETRAIN_STEPS)
PARITY = {f"{m}_{w}": f"{m}_{w}" for m in ("vanilla", "wgan-gp") for w in ("d_loss", "g_loss")}
# The app's own code the script carries (core.export.sources): the page stacks one of these
# modules per seed into its batched weights (core/lessons/gan2d/batched.py, stack_params).
MODEL_SOURCES = (seeded_linear, one_hot, Generator, Discriminator, panel_nets)
PARITY_STEPS = 30
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-5
MISMATCH = ("Every method gives the page's first-seed losses up to float rounding (the page trains its "
            "seeds at once with batched matrix products, a hand-written Adam and real and fake points "
            "in one pass; the script uses nn.Linear, torch.optim.Adam and two passes), and GAN training "
            "amplifies that rounding: after a few hundred steps the curves drift apart (WGAN-GP by "
            "about 1 % at step 300). The script trains one seed (set SEED for the others) and applies "
            "settings changed during the page's run from its first step.")

NAMES = {"dataset": "DATASET", "std": "STD", "methods": "METHODS", "seed": "SEED",
         "latent_size": "LATENT", "g_width": "G_WIDTH", "g_depth": "G_DEPTH", "d_width": "D_WIDTH",
         "d_depth": "D_DEPTH", "pack": "PACK", "lr_d": "LR_D", "lr_g": "LR_G", "beta1": "BETA1",
         "batch_size": "BATCH", "k": "K", "critic_steps": "CRITIC_STEPS", "gp_lambda": "GP_LAMBDA",
         "unroll_steps": "UNROLL_STEPS"}

HEAD = '''# %% [markdown]
# # Mode collapse on 2D mixtures
# Exported from the live deep-learning dashboard (lesson "Mode collapse"). The
# real data has several **modes** (clusters). A GAN can fool its discriminator with only a few
# of them (**mode collapse**). Each method in `METHODS` is one panel of the page: the vanilla
# GAN, or a remedy, trained on the same data, noise and seed.
#
# Methods: `vanilla` (non-saturating GAN), `minimax` (saturating GAN), `wgan-gp` (Wasserstein
# GAN with gradient penalty), `mbstd` (minibatch std feature), `unrolled` (unrolled GAN),
# `pacgan` (PacGAN: D judges PACK points at once), `cgan` (conditional GAN, with the mode labels).

'''

BODY = '''
# %%
import math
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

LABELS = ''' + repr(METHODS) + '''

# %% [markdown]
# ## The real data: a distribution with labelled modes
# `ring8`: 8 Gaussians on a circle of radius 2; `grid25`: 5 × 5 Gaussians 1 apart; `moons` and
# `spiral`: a curve blurred by σ, cut into 8 equal stretches (its "modes"). A real sample is a
# mode (or a point of the curve) plus Gaussian noise: x = centre + σ ε, ε ~ N(0, I).

# %%
def curve(t):
    """Points on the curve for parameters t in [0, 1): [n] -> [n, 2] (float64)."""
    if DATASET == "moons":   # first half of t: the upper moon; second half: the lower one
        upper = t < 0.5
        th = torch.where(upper, t * 2, t * 2 - 1) * math.pi
        x = torch.where(upper, torch.cos(th), 1 - torch.cos(th))
        y = torch.where(upper, torch.sin(th), 0.5 - torch.sin(th))
        return torch.stack([(x - 0.5) * 1.6, (y - 0.25) * 1.6], 1)
    th = math.pi / 2 + t * 2.5 * math.pi          # the spiral r = 0.3 θ, θ in [π/2, 3π]
    return torch.stack([0.3 * th * torch.cos(th), 0.3 * th * torch.sin(th)], 1)


if DATASET == "ring8":
    angle = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    CENTRES = torch.stack([2 * torch.cos(angle), 2 * torch.sin(angle)], 1)
elif DATASET == "grid25":
    v = torch.arange(-2, 3, dtype=torch.float64)
    CENTRES = torch.stack(torch.meshgrid(v, v, indexing="xy"), -1).reshape(-1, 2)
else:
    CENTRES = None                                # a curve
N_MODES = 8 if CENTRES is None else len(CENTRES)
# For measuring: each mode's centre, or 800 points along the curve, each labelled with its stretch.
REF = CENTRES if CENTRES is not None else curve((torch.arange(800, dtype=torch.float64) + 0.5) / 800)
REF_LABEL = torch.arange(len(REF)) if CENTRES is not None else torch.arange(800) * N_MODES // 800


def sample_real(n, gen):
    """n real points with their mode label: [n, 3] = (x, y, label)."""
    if CENTRES is None:
        t = torch.rand(n, generator=gen, dtype=torch.float64)
        label = torch.clamp((t * N_MODES).floor(), max=N_MODES - 1)
        centre = curve(t)
    else:
        label = torch.randint(N_MODES, (n,), generator=gen).double()
        centre = CENTRES[label.long()]
    x = centre + STD * torch.randn(n, 2, generator=gen, dtype=torch.float64)
    return torch.cat([x, label[:, None]], 1).float()


# %% [markdown]
# ## Random numbers, reproducibly
# Every kind of random number (G's initial weights, D's, the noise z, the real points, WGAN-GP's
# ε, the conditional GAN's labels) has a generator of its own, seeded from SEED. So every panel
# starts from the same G and sees the same data and noise. The page draws 64 batches at a time and
# hands them out one by one; `Stream` does the same, so the script gets the page's numbers.

# %%
def generator(salt):
    return torch.Generator().manual_seed(1_000_003 * salt + SEED)


class Stream:
    """draw(n, generator) called for 64 batches at once; next(rows) hands out the next batch."""

    def __init__(self, draw, salt):
        self.draw, self.gen = draw, generator(salt)
        self.block, self.rows, self.pos = None, 0, 0

    def next(self, rows):
        if self.block is None or rows != self.rows or self.pos + rows > len(self.block):
            self.block, self.rows, self.pos = self.draw(64 * rows, self.gen), rows, 0
        out = self.block[self.pos:self.pos + rows]
        self.pos += rows
        return out


# %% [markdown]
# ## The networks
# G: z (plus a one-hot label for the conditional GAN) -> a point (x, y), ReLU between layers.
# D: a point (PacGAN: PACK points side by side; cGAN: plus the one-hot label) -> a score a, with
# LeakyReLU(0.2) between layers. D(x) = σ(a) for the GANs; WGAN-GP's critic f(x) = a is unbounded.
# The weights start like nn.Linear's default, W, b ~ U(−1/√n_in, 1/√n_in), drawn from our own
# generator (as an [n_in, n_out] matrix, the page's layout) so that a run reproduces. These are
# the page's own classes: it trains the same modules, one per seed, stacked.

# %%
@MODEL@


# %% [markdown]
# ## One panel: a method trained for STEPS iterations
# Each iteration is K steps of D (CRITIC_STEPS for WGAN-GP's critic), then one step of G. With
# a = D's score, D(x) = σ(a), and log σ(a) = −softplus(−a), log(1 − σ(a)) = −softplus(a):
#
# * the GANs' D: L_D = −E[log D(x)] − E[log(1 − D(G(z)))] = E[softplus(−a_real)] + E[softplus(a_fake)]
# * non-saturating G (vanilla, mbstd, unrolled, PacGAN, cGAN): L_G = −E[log D(G(z))] = E[softplus(−a)]
# * minimax G: L_G = E[log(1 − D(G(z)))] = −E[softplus(a)]
# * WGAN-GP's critic: L_C = E[f(G(z))] − E[f(x)] + λ E[(‖∇f(x̂)‖ − 1)²], x̂ = ε x + (1 − ε) G(z),
#   ε ~ U[0, 1]; its G: L_G = −E[f(G(z))]; Adam with β₂ = 0.9 (the others: 0.999)
# * the unrolled GAN: G's loss goes through D after UNROLL_STEPS more Adam steps of D
#   (θ_D^(j+1) = θ_D^j − lr·m̂/(√v̂ + ε), kept differentiable with respect to G's weights), so G
#   sees how D would answer its move; D itself only takes the usual K steps.

# %%
def train_panel(method):
    cond, m = method == "cgan", (PACK if method == "pacgan" else 1)
    G, D = panel_nets(method, generator, LATENT, G_WIDTH, G_DEPTH, D_WIDTH, D_DEPTH, PACK, N_MODES)
    betas = (BETA1, 0.9 if method == "wgan-gp" else 0.999)
    opt_g = torch.optim.Adam(G.parameters(), lr=LR_G, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR_D, betas=betas)
    z_stream = Stream(lambda n, g: torch.randn(n, LATENT, generator=g), 3)
    real_stream = Stream(sample_real, 4)
    eps_stream = Stream(lambda n, g: torch.rand(n, 1, generator=g), 5)
    label_stream = Stream(lambda n, g: torch.randint(N_MODES, (n, 1), generator=g).float(), 6)

    def generate(rows):
        """rows fake points [rows, 2] (and the labels [rows, 1] G was given, for the cGAN)."""
        z = z_stream.next(rows)
        if cond:
            label = label_stream.next(rows)
            return G(z, label[:, 0]), label
        return G(z), None

    def score(x, label, params=None):
        """D's score of points x [n, 2] with their labels [n, 1] (D packs them for PacGAN, reads
        the labels for the cGAN): [n / m, 1]. `params`: other weights for D (unrolling)."""
        args = (x, None if label is None else label[:, 0])
        return D(*args) if params is None else functional_call(D, params, args)

    def d_loss(rows, params=None, through_g=False):
        """D's (the critic's) loss on a fresh real batch and a fresh fake one."""
        real = real_stream.next(rows)
        x_real, l_real = real[:, :2], real[:, 2:]
        with torch.set_grad_enabled(through_g):      # D's own step must not reach G
            x_fake, l_fake = generate(rows)
        if method == "wgan-gp":
            f_real, f_fake = score(x_real, l_real), score(x_fake, l_fake)
            eps = eps_stream.next(rows)
            x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(score(x_hat, l_real).sum(), x_hat, create_graph=True)
            penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
            return f_fake.mean() - f_real.mean() + GP_LAMBDA * penalty
        a_real, a_fake = score(x_real, l_real, params), score(x_fake, l_fake, params)
        return F.softplus(-a_real).mean() + F.softplus(a_fake).mean()

    def g_loss(rows, params=None):
        x_fake, l_fake = generate(rows)
        a = score(x_fake, l_fake, params)
        if method == "wgan-gp":
            return -a.mean()
        if method == "minimax":
            return -F.softplus(a).mean()
        return F.softplus(-a).mean()

    def lookahead(params, grads):
        """One more Adam step of D from its current moments, as a differentiable function."""
        group = opt_d.param_groups[0]
        (b1, b2), lr = group["betas"], group["lr"]
        new = {}
        for (name, p), g, q in zip(params.items(), grads, D.parameters()):
            state = opt_d.state[q]
            t = int(state["step"]) + 1
            m1 = b1 * state["exp_avg"] + (1 - b1) * g
            v1 = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
            # + 1e-20 under the root keeps its derivative finite where v = g = 0
            new[name] = p - (lr / (1 - b1 ** t)) * m1 / ((v1 + 1e-20).sqrt() / math.sqrt(1 - b2 ** t) + 1e-8)
        return new

    B = max(BATCH // m, 1)                               # PacGAN: B packs of m points
    rows = B * m
    history = {"d_loss": [], "g_loss": []}
    for step in range(1, STEPS + 1):
        for _ in range(CRITIC_STEPS if method == "wgan-gp" else K):
            loss_d = d_loss(rows)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        params = None
        if method == "unrolled" and UNROLL_STEPS > 0:
            params = dict(D.named_parameters())
            for _ in range(UNROLL_STEPS):
                loss_u = d_loss(rows, params, through_g=True)
                grads = torch.autograd.grad(loss_u, list(params.values()), create_graph=True)
                params = lookahead(params, grads)
        loss_g = g_loss(rows, params)
        opt_g.zero_grad()
        loss_g.backward()                                # D gets gradients too; only G steps
        opt_g.step()
        history["d_loss"].append(loss_d.item())
        history["g_loss"].append(loss_g.item())
        if step % 500 == 0 or step == STEPS:
            print(f"{method}, step {step}: D loss {loss_d.item():.4f}  G loss {loss_g.item():.4f}")
    return G, D, history


# %% [markdown]
# ## Training every panel

# %%
history, nets = {}, {}
for method in METHODS:
    G, D, h = train_panel(method)
    nets[method] = (G, D)
    history[f"{method}_d_loss"], history[f"{method}_g_loss"] = h["d_loss"], h["g_loss"]

# %% [markdown]
# ## Modes covered, and the picture
# As in the VEEGAN and PacGAN papers, on 2,500 samples (fixed noise): a sample is *high quality*
# if it lies within 3σ of its nearest mode; a mode is *covered* if some high-quality sample is
# nearest to it. Read both together: a spray over the whole plane touches every mode too.
# The background is D(x) (blue: looks real), or WGAN-GP's critic scaled to [−1, 1].

# %%
N_EVAL = 2500
z_eval = torch.randn(N_EVAL, LATENT, generator=torch.Generator().manual_seed(12345))
label_eval = torch.arange(N_EVAL) % N_MODES                         # balanced labels for the cGAN
real_shown = sample_real(500, torch.Generator().manual_seed(999))[:, :2]
marks = CENTRES if CENTRES is not None else torch.stack(
    [REF[REF_LABEL == k][(REF_LABEL == k).sum() // 2] for k in range(N_MODES)])
grid = torch.linspace(-3, 3, 100)
gx, gy = torch.meshgrid(grid, grid, indexing="xy")
points = torch.stack([gx.ravel(), gy.ravel()], 1)

fig, axes = plt.subplots(2, len(METHODS), figsize=(4.5 * len(METHODS), 8.5), squeeze=False)
for col, method in enumerate(METHODS):
    G, D = nets[method]
    with torch.no_grad():
        fake = G(z_eval, label_eval).double()
        d_min, idx = torch.cdist(fake, REF).min(1)
        good = d_min <= 3 * STD
        counts = torch.bincount(REF_LABEL[idx][good], minlength=N_MODES)
        # what D says over the plane
        if method == "pacgan":
            field = D(points.repeat_interleave(PACK, 0))     # each grid point PACK times
        elif method == "cgan":
            field = D(points, REF_LABEL[torch.cdist(points.double(), REF).argmin(1)])   # its nearest mode
        elif method == "mbstd":
            field = D(points, spread_of=fake[:500].float())
        else:
            field = D(points)
        field = field.reshape(100, 100).numpy()
    if method == "wgan-gp":                              # the critic's level drifts: centre and scale it
        field = (field - np.median(field)) / (np.abs(field - np.median(field)).max() or 1.0)
        lo = -1
    else:
        field, lo = 1 / (1 + np.exp(-field)), 0
    ax = axes[0, col]
    ax.contourf(gx.numpy(), gy.numpy(), field, levels=20, cmap="RdBu", vmin=lo, vmax=1, alpha=0.8)
    ax.scatter(real_shown[:, 0], real_shown[:, 1], s=4, color="#555555", label="real")
    ax.scatter(fake[:500, 0], fake[:500, 1], s=6, color="#ff7f0e", label="generated")
    hit = (counts > 0).numpy()
    ax.scatter(marks[hit, 0], marks[hit, 1], marker="+", s=80, color="black", label="mode covered")
    ax.scatter(marks[~hit, 0], marks[~hit, 1], marker="o", s=200, facecolors="none", edgecolors="#d62728",
               linewidths=2, label="mode missing")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
    ax.set_title(f"{LABELS[method]}\\n{int(hit.sum())}/{N_MODES} modes, {100 * good.double().mean():.0f} % high quality")
    axes[1, col].plot(history[f"{method}_d_loss"], label="D loss")
    axes[1, col].plot(history[f"{method}_g_loss"], label="G loss")
    axes[1, col].set_xlabel("iteration")
axes[0, 0].legend(loc="lower left", fontsize=8)
axes[1, 0].legend()
plt.tight_layout()
plt.show()
'''


def script(cfg: Gan2DConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` iterations per panel."""
    body = BODY.replace("@MODEL@", sources(*MODEL_SOURCES, LEAKY_SLOPE=LEAKY_SLOPE).rstrip("\n"))
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body


def trainer_history(cfg: Gan2DConfig, steps: int) -> dict[str, Any]:
    """The app's losses of every panel (first seed) over ``steps`` steps, named as the script's."""
    from core.lessons.gan2d.trainer import Gan2DTrainer
    trainer = Gan2DTrainer(cfg, torch.device("cpu"))
    trainer.step(steps)
    return {f"{m}_{w}": np.asarray(run.history.arrays()[w], dtype=np.float64)
            for m, run in trainer.runs.items() for w in ("d_loss", "g_loss")}
