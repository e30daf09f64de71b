"""The DCGAN lesson as a standalone PyTorch script / notebook (core.export): the generator and the
discriminator as the app's own classes (their source, core.export.sources), autograd and torch.optim.Adam in a visible loop, trained on the
shipped digits (``digits.npz`` beside the script, read with numpy) with the page's settings."""
from __future__ import annotations

from core.digits.data import DATA_PATH, HOLDOUT_EVERY
from core.digits import N_CLASSES, SIZE
from core.digits.model import DigitClassifier
from core.export import settings_cell, sources
from core.fastconv import FastConv2d, FastConvTranspose2d
from core.lessons.dcgan.config import DcganConfig
from core.lessons.dcgan.metrics import EVAL_SEED, N_EVAL
from core.lessons.dcgan.model import (BASE, UPSAMPLING, Discriminator, Generator, Up, _norm, code_head, code_input,
                                      init_weights, one_hot)
from core.lessons.dcgan.trainer import AVERAGE_DECAY, BETAS, BLOCK, CODE_WEIGHT, GRID

DEFAULT_STEPS = 2000
DATA_FILE = "digits.npz"
PARITY = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "d_real", "d_fake": "d_fake", "code_loss": "code_loss"}
# The app's own code the script carries (core.export.sources): its networks are these classes.
MODEL_SOURCES = (Up, _norm, Generator, Discriminator, code_head, code_input, one_hot, init_weights)
# What the app runs that the script need not: the same layers' faster backward (core.fastconv,
# tested against torch's), and the shipped digit classifier that judges G's digits.
APP_ONLY = {FastConv2d: "the same convolution, a faster backward", FastConvTranspose2d: "likewise",
            DigitClassifier: "the judge of the quality figures, not trained here"}
PARITY_STEPS = 5
PARITY_RTOL, PARITY_ATOL = 1e-4, 2e-4
MISMATCH = ("up to float rounding: the page sends real and fake digits through D as one batch "
            "(batch norm still normalises each half on its own) and uses fused Adam, the script "
            "calls D twice and uses plain Adam. With batch norm on, the first fake digits are nearly "
            "alike, so batch norm divides by a tiny spread and the GAN amplifies those last-bit "
            "differences (with the code, about 100-fold at step 5), so only the first 5 steps are "
            "compared; without batch norm the script matches the page for 10 steps "
            "(tests/lessons/dcgan/test_export.py). The classifier's quality figures are not in the "
            "script, and settings changed during the page's run apply from its first step.")

NAMES = {"conditional": "CONDITIONAL", "upsampling": "UPSAMPLE", "batch_norm": "BATCH_NORM",
         "width": "WIDTH", "latent_size": "LATENT", "seed": "SEED", "lr_d": "LR_D", "lr_g": "LR_G",
         "k": "K", "slope": "SLOPE", "real_label": "REAL_LABEL", "batch_size": "BATCH", "codes": "CODES",
         "average": "AVERAGE"}

HEAD = '''# %% [markdown]
# # A DCGAN draws handwritten digits
# Exported from the live deep-learning dashboard (lesson "DCGAN"). A generator G turns noise z
# into 16×16 digits; a discriminator D tells them from real ones. Both are convolutional networks
# built on the DCGAN guidelines (Radford et al. 2015): strided convolutions instead of pooling,
# batch norm, ReLU in G and LeakyReLU in D, tanh on G's output. With CONDITIONAL = True both are
# also given the digit's label (Mirza & Osindero), so you can ask G for a 7. With CODES = K > 0 (and
# no labels) G also gets one of K code values, and a head Q on D's features must tell which one made
# a fake digit (InfoGAN, Chen et al. 2016): the codes turn into kinds of digit without any label.
# With AVERAGE = True the pictures use G's weights averaged over its last ~1,000 steps.
#
# Put `digits.npz` (5,000 MNIST digits at 16×16, shipped with the dashboard) beside this script.

'''

BODY = '''
# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_CLASSES = @N_CLASSES@
CODES = 0 if CONDITIONAL else CODES   # the conditional GAN uses the labels instead of a code
CODE_WEIGHT = @CODE_WEIGHT@   # λ of the code's cross-entropy
AVERAGE_DECAY = @AVERAGE_DECAY@   # the averaged G's memory: about 1 / (1 − decay) steps
HOLD_OUT_EVERY = @EVERY@   # the digits' fixed split: every HOLD_OUT_EVERY-th digit of a class is held out
BLOCK = @BLOCK@        # the random numbers are drawn BLOCK steps at a time, as the dashboard does
BETAS = @BETAS@    # Adam's (beta1, beta2): beta1 = 0.5 is the DCGAN paper's choice

# %% [markdown]
# ## The digits
# 500 digits of each class; within each class every @EVERY@th is held out (the dashboard's digit
# classifier is judged on those), the other 4,000 are for training. Pixels are stored as 0…255;
# the networks see them in [−1, 1], the range of G's tanh: x = pixel / 127.5 − 1.

# %%
with np.load("@DATA@") as f:
    images, labels = f["images"], f["labels"].astype(np.int64)
held_out = np.zeros(len(labels), dtype=bool)
for c in range(N_CLASSES):
    held_out[np.flatnonzero(labels == c)[HOLD_OUT_EVERY - 1::HOLD_OUT_EVERY]] = True   # the 5th, 10th, …
x_train = torch.from_numpy(images[~held_out].astype(np.float32) / 127.5 - 1.0).unsqueeze(1)  # [4000, 1, 16, 16]
y_train = torch.from_numpy(labels[~held_out])                                                 # [4000]
print("training digits:", tuple(x_train.shape))

# %% [markdown]
# ## The two networks
# G (width C = WIDTH): z [B, LATENT] → linear → [B, 2C, 4, 4] → BN → ReLU → upsample ×2 →
# [B, C, 8, 8] → BN → ReLU → upsample ×2 → [B, 1, 16, 16] → tanh.
#
# An "upsample ×2" is a transposed convolution (kernel 4, stride 2, padding 1: out = (n − 1)·2 − 2 + 4
# = 2n; or kernel 3 with output padding 1), or a resize (nearest, bilinear) followed by a 3×3
# convolution that keeps the size.
#
# D: x [B, 1, 16, 16] → conv 4×4 stride 2 → [B, C, 8, 8] → LeakyReLU → conv 4×4 stride 2 →
# [B, 2C, 4, 4] → BN → LeakyReLU → flattened: the features h [B, 2C·16] → one linear map (a 4×4
# convolution over the 4×4 map is exactly that) → the logit a; D(x) = σ(a). Q, with a code: h →
# linear → [B, CODES], the code logits.
#
# A layer followed by batch norm needs no bias (BN subtracts the mean, the bias with it).
# Conditional: G gets [z, one-hot(y)], D gets the image with 10 extra planes, plane y all ones.

# %%
@MODEL@


torch.manual_seed(SEED)
G = Generator(LATENT + CODES, WIDTH, UPSAMPLE, BATCH_NORM, CONDITIONAL)
disc = Discriminator(WIDTH, BATCH_NORM, CONDITIONAL, SLOPE)
init_weights(G)
init_weights(disc)
Q = code_head(WIDTH, CODES) if CODES else None     # h -> code logits [B, CODES]; PyTorch's own init
G_avg = copy.deepcopy(G)                  # the averaged generator Ḡ (only ever averaged, never trained)
opt_g = torch.optim.Adam(G.parameters(), lr=LR_G, betas=BETAS)
opt_d = torch.optim.Adam(list(disc.parameters()) + (list(Q.parameters()) if CODES else []), lr=LR_D, betas=BETAS)
print(G)
print(disc, Q)


def D(x, y):
    """The logit a [B] of D(x) = σ(a), and the features h [B, 2C·16] it was read from."""
    h = disc.features(x, y)
    return disc.logit(h), h

def code_loss(h, c):
    """InfoGAN: Q's cross-entropy on which code c [B] made the fake digits with features h (0 without a code)."""
    return F.cross_entropy(Q(h), c) if CODES else torch.zeros(())

# %% [markdown]
# ## Random numbers
# One random stream (seed SEED + 1) gives, for each D update, which real digits to show
# (B indices), the noise z [B, LATENT], the labels asked of G [B] (used when conditional) and,
# with a code, the code values [B]. They are drawn for BLOCK steps at a time in this order, exactly as the dashboard draws them,
# so the script sees the same numbers.

# %%
gen = torch.Generator().manual_seed(SEED + 1)


def random_inputs():
    """(real indices [B], z [B, LATENT], fake labels [B], codes [B]) for each D update, forever."""
    while True:
        n = BATCH * BLOCK * K
        idx = torch.randint(len(y_train), (n,), generator=gen).view(-1, BATCH)
        z = torch.randn(n, LATENT, generator=gen).view(-1, BATCH, LATENT)
        y = torch.randint(N_CLASSES, (n,), generator=gen).view(-1, BATCH)
        c = torch.randint(CODES, (n,), generator=gen).view(-1, BATCH) if CODES else y
        for i in range(BLOCK * K):
            yield idx[i], z[i], y[i], c[i]


draws = random_inputs()

# %% [markdown]
# ## The losses, on D's logits a (D = σ(a))
# With softplus(t) = log(1 + eᵗ): −log σ(a) = softplus(−a) and −log(1 − σ(a)) = softplus(a).
#
# D: L_D = −E[s·log D(x) + (1 − s)·log(1 − D(x))] − E[log(1 − D(G(z)))], where s = REAL_LABEL is the
# target for real digits (s < 1: one-sided label smoothing; fake digits keep the target 0).
#
# G (non-saturating): L_G = −E[log D(G(z))].
#
# With a code, both add λ·CE(Q(h(G(z, c))), c) (D's step trains D's features and Q, G's step G).
#
# Each step is K updates of D, then one of G on the fake digits of the last D update.
# D sees real and fake digits in separate calls, so batch norm never mixes them. After G's update
# the averaged generator moves towards G: Ḡ ← β·Ḡ + (1 − β)·G, β = min(AVERAGE_DECAY, (1 + t)/(10 + t)).

# %%
history = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": [], "code_loss": []}
for step in range(1, STEPS + 1):
    for _ in range(K):
        idx, z, y_fake, c = next(draws)
        fake = G(code_input(z, c, CODES), y_fake)
        a_real, _ = D(x_train[idx], y_train[idx])
        a_fake, h_fake = D(fake.detach(), y_fake)          # D's update must not change G
        # L_D = E[s·softplus(−a_real) + (1 − s)·softplus(a_real)] + E[softplus(a_fake)]
        loss_d = ((REAL_LABEL * F.softplus(-a_real) + (1 - REAL_LABEL) * F.softplus(a_real)).mean()
                  + F.softplus(a_fake).mean())
        opt_d.zero_grad()
        (loss_d + CODE_WEIGHT * code_loss(h_fake, c)).backward()
        opt_d.step()
    # L_G = E[softplus(−D's logit on G(z))] (+ λ·CE); the gradient flows through D into G (only G steps)
    a_g, h_g = D(fake, y_fake)
    loss_g, loss_code = F.softplus(-a_g).mean(), code_loss(h_g, c)
    opt_g.zero_grad()
    (loss_g + CODE_WEIGHT * loss_code).backward()
    opt_g.step()
    with torch.no_grad():
        beta = min(AVERAGE_DECAY, step / (step + 9))            # (1 + t)/(10 + t) with t = step − 1
        for p_avg, p in zip(G_avg.parameters(), G.parameters()):
            p_avg.lerp_(p, 1 - beta)
        for b_avg, b in zip(G_avg.buffers(), G.buffers()):
            b_avg.copy_(b)                                      # batch norm's running statistics
    history["code_loss"].append(loss_code.item())
    history["d_loss"].append(loss_d.item())
    history["g_loss"].append(loss_g.item())
    history["d_real"].append(torch.sigmoid(a_real).mean().item())
    history["d_fake"].append(torch.sigmoid(a_fake).mean().item())
    if step % 200 == 0 or step == STEPS:
        print(f"step {step}: D loss {loss_d.item():.4f}  G loss {loss_g.item():.4f}  "
              f"D(real) {history['d_real'][-1]:.3f}  D(fake) {history['d_fake'][-1]:.3f}")

# %% [markdown]
# ## The picture: a grid of generated digits, the losses and D's outputs
# The grid uses the dashboard's fixed noise (seed @EVAL_SEED@), in eval mode: batch norm then uses
# its running averages, so a digit does not depend on the others drawn with it. Conditional: row r
# asks for digit r, and each column keeps one z ("handwriting") across the ten digits. With a code,
# cell i has code i mod CODES. AVERAGE: the averaged generator Ḡ draws it.

# %%
n = @GRID@
z_fixed = torch.randn(@N_EVAL@, LATENT, generator=torch.Generator().manual_seed(@EVAL_SEED@))
if CONDITIONAL:
    z_grid, y_grid = z_fixed[:n].repeat(n, 1), torch.arange(n * n) // n % N_CLASSES
else:
    z_grid, y_grid = z_fixed[:n * n], torch.arange(n * n) % N_CLASSES
c_grid = torch.arange(n * n) % max(CODES, 1)
shown = G_avg if AVERAGE else G
shown.eval()
with torch.no_grad():
    digits = shown(code_input(z_grid, c_grid, CODES), y_grid)[:, 0].numpy()        # [n², 16, 16] in [−1, 1]
shown.train()
sheet = digits.reshape(n, n, 16, 16).transpose(0, 2, 1, 3).reshape(n * 16, n * 16)
fig, (left, mid, right) = plt.subplots(1, 3, figsize=(14, 5), gridspec_kw={"width_ratios": [1, 1.2, 1.2]})
left.imshow(sheet, cmap="gray", vmin=-1, vmax=1)
left.set_title(f"G's digits after {STEPS} steps")
left.axis("off")
mid.plot(history["d_loss"], label="D loss")
mid.plot(history["g_loss"], label="G loss")
mid.set_xlabel("step")
mid.set_title("losses")
mid.legend()
right.plot(history["d_real"], label="D(real)")
right.plot(history["d_fake"], label="D(fake)")
right.set_ylim(0, 1)
right.set_xlabel("step")
right.set_title("mean D output (last D update)")
right.legend()
plt.tight_layout()
plt.show()
'''


def script(cfg: DcganConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` steps."""
    body = BODY
    for token, value in {"@BLOCK@": BLOCK, "@BETAS@": tuple(BETAS), "@EVERY@": HOLDOUT_EVERY,
                         "@CODE_WEIGHT@": CODE_WEIGHT, "@AVERAGE_DECAY@": AVERAGE_DECAY,
                         "@DATA@": DATA_FILE, "@GRID@": GRID, "@N_EVAL@": N_EVAL,
                         "@EVAL_SEED@": EVAL_SEED, "@N_CLASSES@": N_CLASSES}.items():
        body = body.replace(token, str(value))
    # last: nothing in the app's code is a token
    body = body.replace("@MODEL@", sources(*MODEL_SOURCES, SIZE=SIZE, UPSAMPLING=UPSAMPLING, BASE=BASE))
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body


def files(cfg: DcganConfig) -> dict[str, bytes]:
    """The shipped digits the script reads from its own folder."""
    return {DATA_FILE: DATA_PATH.read_bytes()}
