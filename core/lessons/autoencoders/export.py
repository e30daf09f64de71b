"""The autoencoder lesson as a standalone PyTorch script / notebook (core.export): a plain
autoencoder, a VAE and a denoising autoencoder as nn.Sequential MLPs (the app's own code, its
source: core.export.sources), autograd and torch.optim.Adam
in a visible loop, trained side by side on the shipped digits (``digits.npz`` beside the script,
read with numpy) with the page's settings."""
from __future__ import annotations

from core.digits.data import DATA_PATH, HOLDOUT_EVERY
from core.digits.model import DigitClassifier
from core.export import settings_cell, sources
from core.lessons.autoencoders.config import AutoencodersConfig
from core.lessons.autoencoders.metrics import PRIOR_SPAN
from core.lessons.autoencoders.model import (AE, DAE, N_MODELS, PIXELS, VAE, AutoencoderStack, StackedLinear,
                                             StackedMLP, copy_into_plain, kl_to_prior, plain_models,
                                             reconstruction, reparameterize)
from core.lessons.autoencoders.trainer import BLOCK, GRID

DEFAULT_STEPS = 3000
DATA_FILE = "digits.npz"
PARITY = {k: k for k in ("ae_loss", "dae_loss", "vae_recon", "vae_kl", "vae_loss")}
# The app's own code the script carries (core.export.sources): the page's stack of the three
# models draws the weights, and the script trains the same models as plain MLPs (plain_models,
# which tests/lessons/autoencoders/test_maths.py checks the stack against).
MODEL_SOURCES = (StackedLinear, StackedMLP, AutoencoderStack, plain_models, copy_into_plain, reparameterize,
                 kl_to_prior, reconstruction)
APP_ONLY = {DigitClassifier: "the judge of the quality figures, not trained here"}
PARITY_STEPS = 20
PARITY_RTOL, PARITY_ATOL = 1e-5, 1e-4
MISMATCH = ("up to float rounding: the page runs the three models as one stack of batched matrix "
            "products with one fused Adam step, the script runs three nn.Sequential models with one "
            "plain Adam each; the same weights, random numbers and losses. The quality figures (5-NN, "
            "the classifier) are not in the script, and settings changed during the page's run apply "
            "from its first step.")

NAMES = {"latent_size": "LATENT", "width": "WIDTH", "seed": "SEED", "lr": "LR", "beta": "BETA",
         "noise": "NOISE", "batch_size": "BATCH"}

HEAD = '''# %% [markdown]
# # Autoencoders and a VAE: a latent space you can walk through
# Exported from the live deep-learning dashboard (lesson "Autoencoders and a VAE"). Three networks
# squeeze 16×16 handwritten digits through a small code (LATENT numbers) and rebuild them: a plain
# autoencoder, a variational autoencoder (VAE) and a denoising autoencoder, trained side by side
# on the same batches.
#
# Put `digits.npz` (5,000 MNIST digits at 16×16, shipped with the dashboard) beside this script.

'''

BODY = '''
# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_CLASSES = 10
HOLD_OUT_EVERY = @EVERY@   # the digits' fixed split: every HOLD_OUT_EVERY-th digit of a class is held out
BLOCK = @BLOCK@        # the random numbers are drawn BLOCK steps at a time, as the dashboard does

# %% [markdown]
# ## The digits
# Pixels are stored as 0…255. The networks see them in [0, 1] (the binary cross-entropy's scale),
# flattened to 256 numbers. Every @EVERY@th digit of each class is held out; 4,000 are for training.

# %%
with np.load("@DATA@") as f:
    images, labels = f["images"], f["labels"].astype(np.int64)
held_out = np.zeros(len(labels), dtype=bool)
for c in range(N_CLASSES):
    held_out[np.flatnonzero(labels == c)[HOLD_OUT_EVERY - 1::HOLD_OUT_EVERY]] = True   # the 5th, 10th, …


def to_pixels(imgs):
    """uint8 [N, 16, 16] -> float [N, 256] in [0, 1] (via [−1, 1], as the dashboard computes it)."""
    x = torch.from_numpy(imgs.astype(np.float32) / 127.5 - 1.0).flatten(1)
    return (x + 1.0) / 2.0


x_train, y_train = to_pixels(images[~held_out]), torch.from_numpy(labels[~held_out])   # [4000, 256], [4000]
x_held, y_held = to_pixels(images[held_out]), torch.from_numpy(labels[held_out])       # [1000, 256], [1000]
print("training digits:", tuple(x_train.shape))

# %% [markdown]
# ## The three models
# Each is an MLP: encoder 256 → W → W/2 → head, decoder LATENT → W/2 → W → 256 logits (ReLU between
# layers). The autoencoders' head is the code z (LATENT numbers); the VAE's head gives μ and log σ²
# (2·LATENT numbers).
#
# The weights are drawn as nn.Linear draws them (uniform in ±1/√fan_in), but the dashboard draws each
# layer of all three models at once, as one [3, fan_in, fan_out] tensor (the autoencoders use the
# first LATENT columns of the head). We draw them the same way, so this script trains the very same run.

# %%
@MODEL@


models = plain_models(LATENT, WIDTH)                  # (encoder, decoder) of the AE, the VAE, the denoising AE
torch.manual_seed(SEED)                               # then the weights, drawn as the dashboard draws them:
copy_into_plain(AutoencoderStack(LATENT, WIDTH), models)    # by the dashboard's own stack, copied in
opts = [torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=LR) for enc, dec in models]
ae, vae, dae = models
print(vae)

# %% [markdown]
# ## The losses
# Reconstruction: binary cross-entropy of the decoded pixels x̂ = σ(logits) against the clean digit,
# summed over the 256 pixels and averaged over the batch: −Σ_p [x_p log x̂_p + (1 − x_p) log(1 − x̂_p)].
#
# VAE: z = μ + σ·ε with σ = exp(½ log σ²) and ε ~ N(0, I) (the reparameterisation trick: the gradient
# reaches μ and σ), plus β times KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²).
#
# Denoising AE: its input is x̃ = clip(x + NOISE·ξ, 0, 1), ξ ~ N(0, I); its target the clean x.
#
# One random stream (seed SEED + 1) gives, BLOCK steps at a time, the batch indices, the VAE's ε and
# the noise ξ, in the dashboard's order.

# %%
gen = torch.Generator().manual_seed(SEED + 1)


def random_inputs():
    """(batch indices [B], ε [B, LATENT], ξ [B, 256]) for each step, forever."""
    while True:
        n = BATCH * BLOCK
        idx = torch.randint(len(y_train), (n,), generator=gen).view(BLOCK, BATCH)
        eps = torch.randn(n, LATENT, generator=gen).view(BLOCK, BATCH, LATENT)
        xi = torch.randn(n, 256, generator=gen).view(BLOCK, BATCH, 256)
        for i in range(BLOCK):
            yield idx[i], eps[i], xi[i]


draws = random_inputs()
history = {"ae_loss": [], "dae_loss": [], "vae_recon": [], "vae_kl": [], "vae_loss": []}
for step in range(1, STEPS + 1):
    idx, eps, xi = next(draws)
    x = x_train[idx]
    # the plain autoencoder: x -> z -> x̂
    loss_ae = reconstruction(ae[1](ae[0](x)), x)
    # the VAE: x -> (μ, log σ²), z = μ + σ·ε -> x̂; loss = reconstruction + β·KL
    h = vae[0](x)
    mu, logvar = h[:, :LATENT], h[:, LATENT:]
    z = reparameterize(mu, logvar, eps)                # z = μ + σ·ε
    recon_vae = reconstruction(vae[1](z), x)
    kl = kl_to_prior(mu, logvar).mean()                 # KL(N(μ, σ²) ‖ N(0, I)), averaged over the batch
    loss_vae = recon_vae + BETA * kl
    # the denoising autoencoder: x̃ = clip(x + NOISE·ξ, 0, 1) -> z -> x̂, compared with the clean x
    noisy = (x + NOISE * xi).clamp(0.0, 1.0)
    loss_dae = reconstruction(dae[1](dae[0](noisy)), x)
    for opt, loss in zip(opts, (loss_ae, loss_vae, loss_dae)):
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, v in (("ae_loss", loss_ae), ("dae_loss", loss_dae), ("vae_recon", recon_vae), ("vae_kl", kl),
                 ("vae_loss", loss_vae)):
        history[k].append(v.item())
    if step % 500 == 0 or step == STEPS:
        print(f"step {step}: AE {loss_ae.item():.2f}  VAE {recon_vae.item():.2f} + β·{kl.item():.2f}  "
              f"denoising AE {loss_dae.item():.2f}")

# %% [markdown]
# ## The picture: the VAE's latent space
# Held-out digits at their μ, coloured by digit, over the decoder's drawings at a @GRID@×@GRID@ grid
# of latent points spanning the prior's central 90 % (±@SPAN@ per axis); and the losses.
# With LATENT > 2 the grid varies the first two latent coordinates (the others at 0) and the
# scatter shows the first two coordinates of μ.

# %%
n, span = @GRID@, @SPAN@
with torch.no_grad():
    mu_held = vae[0](x_held)[:, :LATENT].numpy()
    u = np.linspace(-span, span, n)
    grid = torch.zeros(n * n, LATENT)
    grid[:, 0] = torch.tensor(np.tile(u, n), dtype=torch.float32)            # z₁ left to right
    grid[:, 1] = torch.tensor(np.repeat(u[::-1], n).copy(), dtype=torch.float32)   # z₂ top to bottom
    drawn = torch.sigmoid(vae[1](grid)).numpy().reshape(n, n, 16, 16)
sheet = drawn.transpose(0, 2, 1, 3).reshape(n * 16, n * 16)
half = span / (n - 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6))
left.imshow(1.0 - sheet, cmap="gray", vmin=0, vmax=1, alpha=0.7,
            extent=(-span - half, span + half, -span - half, span + half))
points = left.scatter(mu_held[:, 0], mu_held[:, 1], c=y_held.numpy(), cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
fig.colorbar(points, ax=left, ticks=range(10), label="digit")
left.set_xlabel("z₁")
left.set_ylabel("z₂")
left.set_title(f"the VAE's latent space after {STEPS} steps")
for k, label in (("ae_loss", "autoencoder"), ("vae_recon", "VAE reconstruction"), ("dae_loss", "denoising AE"),
                 ("vae_kl", "VAE KL")):
    right.plot(history[k], label=label)
right.set_yscale("log")
right.set_xlabel("step")
right.set_title("losses (nats per digit)")
right.legend()
plt.tight_layout()
plt.show()
'''


def script(cfg: AutoencodersConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` steps."""
    body = BODY
    for token, value in {"@BLOCK@": BLOCK, "@EVERY@": HOLDOUT_EVERY, "@DATA@": DATA_FILE, "@GRID@": GRID,
                         "@SPAN@": PRIOR_SPAN}.items():
        body = body.replace(token, str(value))
    # last: nothing in the app's code is a token
    body = body.replace("@MODEL@", sources(*MODEL_SOURCES, N_MODELS=N_MODELS, AE=AE, VAE=VAE, DAE=DAE,
                                           PIXELS=PIXELS))
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body


def files(cfg: AutoencodersConfig) -> dict[str, bytes]:
    """The shipped digits the script reads from its own folder."""
    return {DATA_FILE: DATA_PATH.read_bytes()}
