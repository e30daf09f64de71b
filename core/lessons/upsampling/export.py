"""The upsampling lesson's decoders as a standalone PyTorch script / notebook (core.export): the
targets generated with numpy exactly as the app does, each decoder an nn.Sequential trained with
torch.optim.Adam on the same batches in a visible loop, with the page's settings."""
from __future__ import annotations

from core.export import settings_cell
from core.lessons.upsampling.config import UpsamplingConfig
from core.lessons.upsampling.data import GLYPHS, KIND_NAMES
from core.lessons.upsampling.model import BASE, RESOLUTIONS, SHORT, VARIANTS
from core.lessons.upsampling.trainer import N_SHOW, PROBE_PIXELS

DEFAULT_STEPS = 2000
PARITY = {f"loss_{v}": f"loss_{v}" for v in VARIANTS}
PARITY_STEPS = 30
PARITY_RTOL, PARITY_ATOL = 1e-5, 1e-7
MISMATCH = ("up to float rounding: the page uses PyTorch's fused Adam kernel, the script plain "
            "torch.optim.Adam, which round differently in the last bits. Settings changed during "
            "the page's run (learning rate, batch size) apply from the script's first step.")

NAMES = {"variants": "DECODERS", "kinds": "KINDS", "resolution": "RESOLUTION", "channels": "CHANNELS",
         "n_targets": "N_TARGETS", "seed": "SEED", "lr": "LR", "batch_size": "BATCH"}

HEAD = '''# %% [markdown]
# # Upsampling or transposed convolution: where checkerboards come from
# Exported from the live deep-learning dashboard (lesson "Upsampling"). Four small decoders learn
# to draw the same pictures from a 14-number code; they differ only in how they enlarge their
# feature maps ×2: a transposed convolution with kernel 3 or 4 (stride 2), or a nearest or
# bilinear resize followed by an ordinary 3×3 convolution. Transposed convolutions whose kernel
# size is not a multiple of the stride overlap unevenly and tend to leave a checkerboard
# (Odena et al., "Deconvolution and checkerboard artifacts", 2016).

'''

BODY = '''
# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ALL_DECODERS = @ALL@   # fixed order: decoder i is seeded with SEED·1000 + i
NAMES = @SHORT@
N_UP = @N_UP@[RESOLUTION]     # ×2 upsampling layers from the @BASE@×@BASE@ map
N_SHOW = @N_SHOW@                 # examples drawn in the picture

# %% [markdown]
# ## The targets, generated in code
# Each target is a smooth gradient, a disc, a ring or a glyph (T, L, +, H, X), described by a code:
# [one-hot kind (4), one-hot glyph (5), cx, cy, size, cos θ, sin θ]. Pixel centres sit at
# ((i + ½)/R, (j + ½)/R) in the unit square; an edge is blurred over one pixel:
# value = clip(½ − signed distance / pixel, 0, 1).

# %%
KIND_NAMES = @KINDS@
# the glyphs as line segments (x0, y0, x1, y1) in the box [−1, 1]²
GLYPHS = @GLYPHS@
GLYPH_NAMES = tuple(GLYPHS)
CODE_DIM = len(KIND_NAMES) + len(GLYPH_NAMES) + 5


def segment_distance(px, py, seg):
    """Distance from the points (px, py) to the segment (x0, y0)–(x1, y1)."""
    x0, y0, x1, y1 = seg
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
    return np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))


def render(kind, res, cx, cy, size, theta, glyph):
    """One target image [res, res] with values in [0, 1]."""
    c = (np.arange(res) + 0.5) / res
    X, Y = np.meshgrid(c, c)                      # rows = y
    px = 1.0 / res
    if kind == "gradient":
        # a ramp along direction θ through (cx, cy): ½ + projection / (2·size), clipped
        proj = (X - cx) * math.cos(theta) + (Y - cy) * math.sin(theta)
        return np.clip(0.5 + proj / (2 * size), 0.0, 1.0)
    if kind == "disc":
        dist = np.hypot(X - cx, Y - cy) - size
        return np.clip(0.5 - dist / px, 0.0, 1.0)
    if kind == "ring":
        thick = max(0.35 * size, 1.5 * px)
        dist = np.abs(np.hypot(X - cx, Y - cy) - size) - thick / 2
        return np.clip(0.5 - dist / px, 0.0, 1.0)
    # glyph: rotate the pixel grid into the glyph's frame, scaled so that the glyph spans ±1
    u = ((X - cx) * math.cos(theta) + (Y - cy) * math.sin(theta)) / size
    v = (-(X - cx) * math.sin(theta) + (Y - cy) * math.cos(theta)) / size
    d = np.min([segment_distance(u, v, s) for s in GLYPHS[glyph]], axis=0) * size
    thick = max(0.22 * size, 1.6 * px)
    return np.clip(0.5 - (d - thick / 2) / px, 0.0, 1.0)


def make_targets(kinds, n, res, seed):
    """n random targets cycling through kinds: (codes [n, CODE_DIM], images [n, res, res])."""
    rng = np.random.default_rng(seed)
    codes = np.zeros((n, CODE_DIM), dtype=np.float32)
    images = np.zeros((n, res, res), dtype=np.float32)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        glyph = GLYPH_NAMES[rng.integers(len(GLYPH_NAMES))]
        cx, cy = rng.uniform(0.3, 0.7, 2)
        size = rng.uniform(0.15, 0.3) if kind != "gradient" else rng.uniform(0.25, 0.6)
        theta = rng.uniform(0, 2 * math.pi) if kind == "gradient" else rng.uniform(-0.5, 0.5)
        images[i] = render(kind, res, cx, cy, size, theta, glyph)
        codes[i, KIND_NAMES.index(kind)] = 1.0
        if kind == "glyph":
            codes[i, len(KIND_NAMES) + GLYPH_NAMES.index(glyph)] = 1.0
        codes[i, -5:] = [(cx - 0.5) * 4, (cy - 0.5) * 4, (size - 0.3) * 5, math.cos(theta), math.sin(theta)]
    return codes, images


codes, images = make_targets(KINDS, N_TARGETS, RESOLUTION, SEED)
codes, images = torch.from_numpy(codes), torch.from_numpy(images).unsqueeze(1)   # [n, 14], [n, 1, R, R]
# the examples in the picture: one of each kind, from another seed (not from the training pool)
show_kinds = [KINDS[i % len(KINDS)] for i in range(N_SHOW)]
show_codes, show_images = make_targets(show_kinds, N_SHOW, RESOLUTION, 10_000 + SEED)
show_codes = torch.from_numpy(show_codes)
print("targets:", tuple(images.shape))

# %% [markdown]
# ## The decoders
# code [B, 14] → Linear → ReLU → [B, C, @BASE@, @BASE@] → N_UP × (upsample ×2) → [B, 1, R, R]; ReLU between
# the layers, none after the last (a linear output, trained with the mean squared error).
#
# Output sizes: a transposed convolution gives (n − 1)·s − 2p + k + output_padding:
# k = 3, s = 2, p = 1, output_padding = 1: (n − 1)·2 − 2 + 3 + 1 = 2n;
# k = 4, s = 2, p = 1: (n − 1)·2 − 2 + 4 = 2n. A resize to 2n followed by a 3×3 convolution with
# padding 1 keeps 2n.

# %%
def upsample(kind, c_in, c_out):
    """One ×2 layer [B, c_in, n, n] -> [B, c_out, 2n, 2n] (a list of modules)."""
    if kind == "tconv3":
        return [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
    if kind == "tconv4":
        return [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)]
    if kind == "nearest":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)]
    return [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.Conv2d(c_in, c_out, 3, padding=1)]


def decoder(kind):
    layers = [nn.Linear(CODE_DIM, CHANNELS * @BASE@ * @BASE@), nn.ReLU(), nn.Unflatten(1, (CHANNELS, @BASE@, @BASE@))]
    for i in range(N_UP):
        last = i == N_UP - 1
        layers += upsample(kind, CHANNELS, 1 if last else CHANNELS)
        if not last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


decoders, optimizers = {}, {}
for kind in DECODERS:
    # each decoder's first weights come from its own seed, whichever others are trained
    torch.manual_seed(SEED * 1000 + ALL_DECODERS.index(kind))
    decoders[kind] = decoder(kind)
for kind, net in decoders.items():
    optimizers[kind] = torch.optim.Adam(net.parameters(), lr=LR)
print(decoders[DECODERS[0]])

# %% [markdown]
# ## Training: every decoder takes one Adam step on the same batch
# The batch: BATCH targets drawn at random from the pool (one random stream, seed SEED + 1).
#
# L = mean over pixels of (decoder(code) − target)².

# %%
gen = torch.Generator().manual_seed(SEED + 1)
history = {f"loss_{kind}": [] for kind in DECODERS}
for step in range(1, STEPS + 1):
    idx = torch.randint(N_TARGETS, (BATCH,), generator=gen)
    z, target = codes[idx], images[idx]
    for kind, net in decoders.items():
        loss = F.mse_loss(net(z), target)
        optimizers[kind].zero_grad()
        loss.backward()
        optimizers[kind].step()
        history[f"loss_{kind}"].append(loss.item())
    if step % 250 == 0 or step == STEPS:
        print(f"step {step}: " + "  ".join(f"{NAMES[k]} {history[f'loss_{k}'][-1]:.5f}" for k in DECODERS))

# %% [markdown]
# ## How much checkerboard?
# blur = the 3×3 binomial filter ([1, 2, 1] ⊗ [1, 2, 1]) / 16 where it fits;
# score = mean over images of √(mean over pixels of (y − blur(y))²). The blur leaves a linear ramp
# as it is and removes a ±1 pixel checkerboard completely, so on the smooth gradients among the
# targets a decoder's score is (nearly) all its own artefact.

# %%
def checkerboard_score(y):
    k1 = torch.tensor([1.0, 2.0, 1.0], dtype=y.dtype)
    k = (k1[:, None] * k1[None, :] / 16.0).view(1, 1, 3, 3)
    gap = y[..., 1:-1, 1:-1] - F.conv2d(y, k)
    return torch.sqrt((gap * gap).mean(dim=(-1, -2, -3))).mean().item()


is_gradient = codes[:, KIND_NAMES.index("gradient")] > 0
probe = torch.nonzero(is_gradient).flatten() if bool(is_gradient.any()) else torch.arange(len(codes))
probe = probe[:@PROBE_PIXELS@ // RESOLUTION ** 2]
print(f"the targets' own score: {checkerboard_score(images[probe].double()):.4f}")
with torch.no_grad():
    for kind, net in decoders.items():
        print(f"{NAMES[kind]:>16}: {checkerboard_score(net(codes[probe])):.4f}")

# %% [markdown]
# ## The picture: the targets and each decoder's drawings, and the losses

# %%
with torch.no_grad():
    outputs = {kind: net(show_codes)[:, 0].numpy() for kind, net in decoders.items()}
rows = [("targets", show_images)] + [(NAMES[k], outputs[k]) for k in DECODERS]
fig = plt.figure(figsize=(1.7 * N_SHOW + 5.5, 1.7 * len(rows)))
cells = fig.add_gridspec(len(rows), N_SHOW + 1, width_ratios=[1] * N_SHOW + [3.2])
for r, (name, imgs) in enumerate(rows):
    for c in range(N_SHOW):
        ax = fig.add_subplot(cells[r, c])
        ax.imshow(imgs[c], cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_ylabel(name)
losses = fig.add_subplot(cells[:, -1])
for kind in DECODERS:
    losses.plot(history[f"loss_{kind}"], label=NAMES[kind])
losses.set_yscale("log")
losses.set_xlabel("step")
losses.set_title("loss (mean squared error)")
losses.legend()
plt.tight_layout()
plt.show()
'''


def script(cfg: UpsamplingConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` steps."""
    body = BODY
    for token, value in {"@ALL@": repr(list(VARIANTS)), "@SHORT@": repr(SHORT), "@N_UP@": repr(RESOLUTIONS),
                         "@BASE@": str(BASE), "@KINDS@": repr(KIND_NAMES), "@N_SHOW@": str(N_SHOW), "@PROBE_PIXELS@": str(PROBE_PIXELS),
                         "@GLYPHS@": "{\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in GLYPHS.items()) + "}"}.items():
        body = body.replace(token, value)
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body
