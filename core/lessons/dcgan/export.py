"""The DCGAN lesson as a standalone PyTorch script / notebook (core.export): the generator and the
discriminator as nn.Sequential, autograd and torch.optim.Adam in a visible loop, trained on the
shipped digits (``digits.npz`` beside the script, read with numpy) with the page's settings."""
from __future__ import annotations

from core.digits.data import DATA_PATH, HOLDOUT_EVERY
from core.export import settings_cell
from core.lessons.dcgan.config import DcganConfig
from core.lessons.dcgan.metrics import EVAL_SEED, N_EVAL
from core.lessons.dcgan.trainer import BETAS, BLOCK, GRID

DEFAULT_STEPS = 2000
DATA_FILE = "digits.npz"
PARITY = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "d_real", "d_fake": "d_fake"}
PARITY_STEPS = 10
PARITY_RTOL, PARITY_ATOL = 1e-4, 2e-4
MISMATCH = ("up to float rounding: the page sends real and fake digits through D as one batch "
            "(batch norm still normalises each half on its own) and uses fused Adam, the script "
            "calls D twice and uses plain Adam; with batch norm on, the GAN amplifies those "
            "last-bit differences about threefold a step from step 8 or so, so only the first 10 "
            "steps are compared. The classifier's quality figures are not in the script, and "
            "settings changed during the page's run apply from its first step.")

NAMES = {"conditional": "CONDITIONAL", "upsampling": "UPSAMPLING", "batch_norm": "BATCH_NORM",
         "width": "WIDTH", "latent_size": "LATENT", "seed": "SEED", "lr_d": "LR_D", "lr_g": "LR_G",
         "k": "K", "slope": "SLOPE", "real_label": "REAL_LABEL", "batch_size": "BATCH"}

HEAD = '''# %% [markdown]
# # A DCGAN draws handwritten digits
# Exported from the live deep-learning dashboard (lesson "DCGAN"). A generator G turns noise z
# into 16×16 digits; a discriminator D tells them from real ones. Both are convolutional networks
# built on the DCGAN guidelines (Radford et al. 2015): strided convolutions instead of pooling,
# batch norm, ReLU in G and LeakyReLU in D, tanh on G's output. With CONDITIONAL = True both are
# also given the digit's label (Mirza & Osindero), so you can ask G for a 7.
#
# Put `digits.npz` (5,000 MNIST digits at 16×16, shipped with the dashboard) beside this script.

'''

BODY = '''
# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_CLASSES = 10
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
# [B, 2C, 4, 4] → BN → LeakyReLU → a 4×4 convolution over the 4×4 map, which is one linear map
# of the flattened map → the logit a; D(x) = σ(a).
#
# A layer followed by batch norm needs no bias (BN subtracts the mean, the bias with it).
# Conditional: G gets [z, one-hot(y)], D gets the image with 10 extra planes, plane y all ones.

# %%
def upsample(c_in, c_out, bias):
    """×2 upsampling [B, c_in, n, n] -> [B, c_out, 2n, 2n] of the chosen kind (a list of layers)."""
    if UPSAMPLING == "tconv4":
        return [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)]
    if UPSAMPLING == "tconv3":
        return [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1, bias=bias)]
    if UPSAMPLING == "nearest":         # each pixel copied into a 2×2 block, then a 3×3 convolution
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias)]
    return [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias)]


def norm(channels):
    return nn.BatchNorm2d(channels) if BATCH_NORM else nn.Identity()


def g_input(z, y):
    """G's input: z, and in a conditional GAN the one-hot label after it: [B, LATENT (+ 10)]."""
    return torch.cat([z, F.one_hot(y, N_CLASSES).float()], dim=1) if CONDITIONAL else z


def d_input(x, y):
    """D's input: the image, and in a conditional GAN 10 label planes after it: [B, 1 (+ 10), 16, 16]."""
    if not CONDITIONAL:
        return x
    planes = F.one_hot(y, N_CLASSES).float()[:, :, None, None].expand(-1, -1, 16, 16)
    return torch.cat([x, planes], dim=1)


def init_weights(net):
    """The DCGAN paper's initialisation: weights from N(0, 0.02), biases 0; batch norm's scale
    from N(1, 0.02), its shift 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# %%
torch.manual_seed(SEED)
C = WIDTH
G = nn.Sequential(
    nn.Linear(LATENT + (N_CLASSES if CONDITIONAL else 0), 2 * C * 4 * 4, bias=not BATCH_NORM),
    nn.Unflatten(1, (2 * C, 4, 4)), norm(2 * C), nn.ReLU(),                   # [B, 2C, 4, 4]
    *upsample(2 * C, C, bias=not BATCH_NORM), norm(C), nn.ReLU(),              # [B, C, 8, 8]
    *upsample(C, 1, bias=True), nn.Tanh(),                                     # [B, 1, 16, 16]
)
D = nn.Sequential(
    nn.Conv2d(1 + (N_CLASSES if CONDITIONAL else 0), C, 4, stride=2, padding=1),   # [B, C, 8, 8]
    nn.LeakyReLU(SLOPE),
    nn.Conv2d(C, 2 * C, 4, stride=2, padding=1, bias=not BATCH_NORM),             # [B, 2C, 4, 4]
    norm(2 * C), nn.LeakyReLU(SLOPE),
    nn.Flatten(), nn.Linear(2 * C * 4 * 4, 1), nn.Flatten(0),                    # [B]: the logit a
)
init_weights(G)
init_weights(D)
opt_g = torch.optim.Adam(G.parameters(), lr=LR_G, betas=BETAS)
opt_d = torch.optim.Adam(D.parameters(), lr=LR_D, betas=BETAS)
print(G)
print(D)

# %% [markdown]
# ## Random numbers
# One random stream (seed SEED + 1) gives, for each D update, which real digits to show
# (B indices), the noise z [B, LATENT] and the labels asked of G [B] (used when conditional).
# They are drawn for BLOCK steps at a time in this order, exactly as the dashboard draws them,
# so the script sees the same numbers.

# %%
gen = torch.Generator().manual_seed(SEED + 1)


def random_inputs():
    """(real indices [B], z [B, LATENT], fake labels [B]) for each D update, forever."""
    while True:
        n = BATCH * BLOCK * K
        idx = torch.randint(len(y_train), (n,), generator=gen).view(-1, BATCH)
        z = torch.randn(n, LATENT, generator=gen).view(-1, BATCH, LATENT)
        y = torch.randint(N_CLASSES, (n,), generator=gen).view(-1, BATCH)
        for i in range(BLOCK * K):
            yield idx[i], z[i], y[i]


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
# Each step is K updates of D, then one of G on the fake digits of the last D update.
# D sees real and fake digits in separate calls, so batch norm never mixes them.

# %%
history = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
for step in range(1, STEPS + 1):
    for _ in range(K):
        idx, z, y_fake = next(draws)
        fake = G(g_input(z, y_fake))
        a_real = D(d_input(x_train[idx], y_train[idx]))
        a_fake = D(d_input(fake.detach(), y_fake))          # D's update must not change G
        # L_D = E[s·softplus(−a_real) + (1 − s)·softplus(a_real)] + E[softplus(a_fake)]
        loss_d = ((REAL_LABEL * F.softplus(-a_real) + (1 - REAL_LABEL) * F.softplus(a_real)).mean()
                  + F.softplus(a_fake).mean())
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
    # L_G = E[softplus(−D's logit on G(z))]; the gradient flows through D into G (only G steps)
    loss_g = F.softplus(-D(d_input(fake, y_fake))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
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
# asks for digit r, and each column keeps one z ("handwriting") across the ten digits.

# %%
n = @GRID@
z_fixed = torch.randn(@N_EVAL@, LATENT, generator=torch.Generator().manual_seed(@EVAL_SEED@))
if CONDITIONAL:
    z_grid, y_grid = z_fixed[:n].repeat(n, 1), torch.arange(n * n) // n % N_CLASSES
else:
    z_grid, y_grid = z_fixed[:n * n], torch.arange(n * n) % N_CLASSES
G.eval()
with torch.no_grad():
    digits = G(g_input(z_grid, y_grid))[:, 0].numpy()        # [n², 16, 16] in [−1, 1]
G.train()
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
                         "@DATA@": DATA_FILE, "@GRID@": GRID, "@N_EVAL@": N_EVAL,
                         "@EVAL_SEED@": EVAL_SEED}.items():
        body = body.replace(token, str(value))
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body


def files(cfg: DcganConfig) -> dict[str, bytes]:
    """The shipped digits the script reads from its own folder."""
    return {DATA_FILE: DATA_PATH.read_bytes()}
