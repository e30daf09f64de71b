"""The 1D GAN as a standalone PyTorch script / notebook (core.export): the app's own nets
(core.fastnet.mlp, its source), autograd and torch.optim, written the way a tutorial would, with the page's settings."""
from __future__ import annotations

from core.export import settings_cell, sources
from core.fastnet import LEAKY_SLOPE, mlp, torch_activation
from core.formula import numpy_source
from core.lessons.gan1d.config import Gan1DConfig
from core.lessons.gan1d.trainer import D_ACTIVATION

DEFAULT_STEPS = 3000
PARITY = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "d_real", "d_fake": "d_fake"}
# The app's own code the script carries (core.export.sources): its nets are what ``mlp`` builds
# (the page holds the same weights in core.fastnet.FlatMLP and trains them by hand).
MODEL_SOURCES = (torch_activation, mlp)
PARITY_STEPS = 30
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-5
MISMATCH = ("the same numbers as the page for the same seed, up to float rounding: the page's "
            "nets have hand-written backward passes (core/fastnet.py) and score real and fake "
            "points in one batch, the script uses autograd on two; with a batch × latent size "
            "under 16 the noise is drawn in another order. Settings changed during the page's "
            "run apply from the script's first step.")

NAMES = {"target": "FORMULA", "x_min": "X_MIN", "x_max": "X_MAX", "latent_size": "LATENT",
         "g_width": "G_WIDTH", "g_depth": "G_DEPTH", "g_activation": "G_ACTIVATION",
         "d_width": "D_WIDTH", "d_depth": "D_DEPTH", "seed": "SEED", "g_loss": "G_LOSS",
         "optimizer": "OPTIMIZER", "lr_d": "LR_D", "lr_g": "LR_G", "beta1": "BETA1",
         "momentum": "MOMENTUM", "k": "K", "batch_size": "BATCH"}

HEAD = '''# %% [markdown]
# # A GAN learns the points of a curve
# Exported from the live deep-learning dashboard (lesson "1D GAN"). A generator G turns noise z
# into points (x, y); a discriminator D scores points as real (on the curve y = f(x)) or fake.
# Each iteration is Goodfellow et al.'s Algorithm 1: K steps of D, then one step of G.

'''

BODY = '''
# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def f(x):
    """The target curve, on numpy arrays."""
    return {expr}


@MODEL@


# %% [markdown]
# ## The two networks and their optimisers
# G: z (LATENT numbers) -> a point (x, y). D: a point -> a score a (a logit; D = sigmoid(a)).

# %%
torch.manual_seed(SEED)
G = mlp([LATENT] + [G_WIDTH] * G_DEPTH + [2], G_ACTIVATION)
D = mlp([2] + [D_WIDTH] * D_DEPTH + [1], "{d_activation}")
if OPTIMIZER == "adam":
    opt_g = torch.optim.Adam(G.parameters(), lr=LR_G, betas=(BETA1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=LR_D, betas=(BETA1, 0.999))
else:
    opt_g = torch.optim.SGD(G.parameters(), lr=LR_G, momentum=MOMENTUM)
    opt_d = torch.optim.SGD(D.parameters(), lr=LR_D, momentum=MOMENTUM)
noise = torch.Generator().manual_seed(SEED + 1)     # z for G
rng = np.random.default_rng(SEED + 2)               # x for the real points


def real_points(n):
    """n points (x, f(x)) with x uniform on [X_MIN, X_MAX]: [n, 2]."""
    x = rng.uniform(X_MIN, X_MAX, n)
    return torch.tensor(np.stack([x, f(x)], axis=1), dtype=torch.float32)


def d_loss_fn(a_real, a_fake):
    if G_LOSS == "least-squares":
        # L_D = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2], with D = a
        return 0.5 * ((a_real - 1) ** 2).mean() + 0.5 * (a_fake ** 2).mean()
    # L_D = -E[log D(x)] - E[log(1 - D(G(z)))]
    return (F.binary_cross_entropy_with_logits(a_real, torch.ones_like(a_real))
            + F.binary_cross_entropy_with_logits(a_fake, torch.zeros_like(a_fake)))


def g_loss_fn(a):
    if G_LOSS == "least-squares":
        return 0.5 * ((a - 1) ** 2).mean()            # L_G = 1/2 E[(D(G(z)) - 1)^2]
    if G_LOSS == "minimax":
        return -F.softplus(a).mean()                  # L_G = E[log(1 - D(G(z)))]
    return F.softplus(-a).mean()                      # L_G = -E[log D(G(z))], non-saturating


def d_value(a):
    """What the page calls D(x, y): a probability, or the raw score for least squares."""
    return a if G_LOSS == "least-squares" else torch.sigmoid(a)


# %% [markdown]
# ## Training: Algorithm 1

# %%
history = {{"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}}
for step in range(1, STEPS + 1):
    for _ in range(K):                                # K steps of D on real and fake points
        z = torch.randn(BATCH, LATENT, generator=noise)
        fake = G(z).detach()                          # D's step must not change G
        real = real_points(BATCH)
        a_real, a_fake = D(real), D(fake)
        loss_d = d_loss_fn(a_real, a_fake)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
    z = torch.randn(BATCH, LATENT, generator=noise)   # one step of G through D
    loss_g = g_loss_fn(D(G(z)))
    opt_g.zero_grad()
    loss_g.backward()                                 # D gets gradients too; only G steps
    opt_g.step()
    history["d_loss"].append(loss_d.item())
    history["g_loss"].append(loss_g.item())
    history["d_real"].append(d_value(a_real).mean().item())
    history["d_fake"].append(d_value(a_fake).mean().item())
    if step % 500 == 0 or step == STEPS:
        print(f"step {{step}}: D loss {{loss_d.item():.4f}}  G loss {{loss_g.item():.4f}}")

# %% [markdown]
# ## The picture: generated points against the curve, and the losses

# %%
with torch.no_grad():
    points = G(torch.randn(400, LATENT)).numpy()
xs = np.linspace(X_MIN, X_MAX, 200)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(xs, f(xs), color="black", label="y = f(x)")
left.scatter(points[:, 0], points[:, 1], s=8, color="tab:red", label="G(z)")
left.set_xlabel("x")
left.set_ylabel("y")
left.legend()
right.plot(history["d_loss"], label="D loss")
right.plot(history["g_loss"], label="G loss")
right.set_xlabel("iteration")
right.legend()
plt.show()
'''


def script(cfg: Gan1DConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` iterations."""
    body = BODY.format(expr=numpy_source(cfg.target), d_activation=D_ACTIVATION)
    body = body.replace("@MODEL@", sources(*MODEL_SOURCES, LEAKY_SLOPE=LEAKY_SLOPE))  # after format: braces stay
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body
