"""The adversarial lesson as a standalone PyTorch script / notebook (core.export): the two
classifiers as the app's own nn.Sequential classes (their source, core.export.sources), the FGSM examples from torch.autograd, a visible training loop with
torch.optim.Adam, then the accuracy-against-ε curves and one attacked digit in matplotlib. It reads
the shipped digits (``digits.npz`` beside the script) with numpy."""
from __future__ import annotations

from core.digits.data import DATA_PATH, HOLDOUT_EVERY
from core.digits import SIZE
from core.export import settings_cell, sources
from core.lessons.adversarial.config import SIZES, AdversarialConfig
from core.lessons.adversarial.models import KINDS, MLP, ConvNet, make_model
from core.lessons.adversarial.trainer import BLOCK, EPS_GRID

DEFAULT_STEPS = 3000
DATA_FILE = "digits.npz"
PARITY = {"clean_loss": "clean_loss", "robust_loss": "robust_loss"}
# The app's own code the script carries (core.export.sources): its classifiers are these classes
# (the page trains the convnet through fast.py, a hand-written backward over the same weights).
MODEL_SOURCES = (MLP, ConvNet, make_model)
PARITY_STEPS = 20
PARITY_RTOL, PARITY_ATOL = 1e-4, 1e-5
MISMATCH = ("the same numbers as the page for the same seed, up to float rounding: the page updates "
            "both models with one fused Adam after one backward pass of the summed losses, the script "
            "uses one plain Adam per model and two backward passes. The page's curves are measured on "
            "500 held-out digits every few steps; the script measures all 1,000 once, at the end. "
            "Settings changed during the page's run apply from the script's first step.")

NAMES = {"model": "MODEL", "size": "MODEL_SIZE", "seed": "SEED", "lr": "LR", "batch_size": "BATCH",
         "adv_share": "ADV_SHARE", "train_eps": "TRAIN_EPS", "digit": "DIGIT", "eps": "EPS"}

HEAD = '''# %% [markdown]
# # Adversarial examples: fooling a digit classifier with a nudge no one can see
# Exported from the live deep-learning dashboard (lesson "Adversarial examples"). Two classifiers
# of the same shape start from the same weights and train on the same batches: a *clean* one, and
# one *trained adversarially* on FGSM examples made against itself (Goodfellow et al. 2015):
#
#     x̃ = clip_[0,1](x + ε · sign(∇ₓ J(θ, x, y)))
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
BLOCK = @BLOCK@            # batch indices are drawn BLOCK batches at a time, as the dashboard does
WIDTH = @SIZES@[MODEL_SIZE][MODEL]   # MLP: units per hidden layer; convnet: channels of the first layer
EPS_GRID = @EPS_GRID@

# %% [markdown]
# ## The digits, with pixels in [0, 1]
# The file stores pixels as 0…255. The dashboard's digits are in [−1, 1] (x = pixel / 127.5 − 1, the
# scale of the DCGAN lesson); this lesson converts them to [0, 1] with (x + 1) / 2, because ε is a
# budget on that scale: ε = 0.2 lets a pixel move by a fifth of the way from black to white.

# %%
with np.load("@DATA@") as f:
    images, labels = f["images"], f["labels"].astype(np.int64)
held_out = np.zeros(len(labels), dtype=bool)
for c in range(N_CLASSES):
    held_out[np.flatnonzero(labels == c)[HOLD_OUT_EVERY - 1::HOLD_OUT_EVERY]] = True


def unit_pixels(imgs):
    """uint8 [N, 16, 16] -> float [N, 1, 16, 16] in [0, 1], computed as the dashboard does."""
    x = torch.from_numpy(imgs.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)   # [−1, 1]
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)                                   # [0, 1]


x_train, y_train = unit_pixels(images[~held_out]), torch.from_numpy(labels[~held_out])   # 4,000
x_test, y_test = unit_pixels(images[held_out]), torch.from_numpy(labels[held_out])       # 1,000
print("training digits:", tuple(x_train.shape), " held-out digits:", tuple(x_test.shape))

# %% [markdown]
# ## The two classifiers
# MLP: 256 pixels → WIDTH → ReLU → WIDTH → ReLU → 10 logits.
# Convnet: conv 4×4 stride 2 (WIDTH channels, 16×16 → 8×8) → ReLU → conv 4×4 stride 2 (2·WIDTH,
# 8×8 → 4×4) → ReLU → linear → 10 logits. No dropout and no batch norm, so the attack sees exactly
# the function that is trained. The second model is built too (the random numbers stay in step
# with the dashboard's), then given the first one's weights: only the training differs.

# %%
@MODEL@

torch.manual_seed(SEED)
clean = make_model(MODEL, WIDTH)
robust = make_model(MODEL, WIDTH)
robust.load_state_dict(clean.state_dict())
opt_clean = torch.optim.Adam(clean.parameters(), lr=LR)
opt_robust = torch.optim.Adam(robust.parameters(), lr=LR)
print(clean)

# %% [markdown]
# ## FGSM
# J(θ, x, y) is the cross-entropy. Its gradient with respect to the *pixels* comes from the same
# backpropagation as training, only asked for x instead of θ. The summed loss keeps each digit's
# gradient independent of the batch size (the sign is what counts).

# %%
def input_gradient(model, x, y):
    """∇ₓ J(θ, x, y), J summed over the batch: [B, 1, 16, 16]."""
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    return torch.autograd.grad(loss, x)[0]


def fgsm(model, x, y, eps):
    # x̃ = clip_[0,1](x + ε · sign(∇ₓ J(θ, x, y)))
    return (x + eps * input_gradient(model, x, y).sign()).clamp(0.0, 1.0)


def pgd(model, x, y, eps, alpha=0.05, steps=10, seed=0):
    """PGD: from a random point of the ε-ball, steps of α · sign(∇ₓ J), each projected back into
    the ball around x and into [0, 1]."""
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))
    x_k = x + (2 * noise - 1) * eps
    for _ in range(steps):
        x_k = torch.minimum(torch.maximum(x_k, (x - eps).clamp(min=0)), (x + eps).clamp(max=1))
        # x_{k+1} = Π(x_k + α · sign(∇ₓ J(θ, x_k, y)))
        x_k = x_k + alpha * input_gradient(model, x_k, y).sign()
    return torch.minimum(torch.maximum(x_k, (x - eps).clamp(min=0)), (x + eps).clamp(max=1)).detach()

# %% [markdown]
# ## Training, side by side
# Each step draws one batch. The clean model trains on it as it is. For the robust model the first
# k = ADV_SHARE · BATCH digits are replaced by their FGSM versions at TRAIN_EPS, made against the
# robust model as it is at that moment.

# %%
gen = torch.Generator().manual_seed(SEED + 1)
history = {"clean_loss": [], "robust_loss": []}
order, pos = torch.empty(0, dtype=torch.long), 0
k = int(round(ADV_SHARE * BATCH))
for step in range(1, STEPS + 1):
    if pos + BATCH > len(order):
        order, pos = torch.randint(len(y_train), (BLOCK * BATCH,), generator=gen), 0
    idx = order[pos:pos + BATCH]
    pos += BATCH
    x, y = x_train[idx], y_train[idx]
    if k > 0 and TRAIN_EPS > 0:
        x_mix = torch.cat([fgsm(robust, x[:k], y[:k], TRAIN_EPS), x[k:]])
    else:
        x_mix = x
    loss_clean = F.cross_entropy(clean(x), y)
    opt_clean.zero_grad()
    loss_clean.backward()
    opt_clean.step()
    loss_robust = F.cross_entropy(robust(x_mix), y)
    opt_robust.zero_grad()
    loss_robust.backward()
    opt_robust.step()
    history["clean_loss"].append(loss_clean.item())
    history["robust_loss"].append(loss_robust.item())
    if step % 500 == 0 or step == STEPS:
        print(f"step {step}: clean loss {loss_clean.item():.4f}  robust loss {loss_robust.item():.4f}")

# %% [markdown]
# ## Accuracy against ε, and one digit attacked
# FGSM on all 1,000 held-out digits for every ε, both models; then PGD at ε = 0.2, which shows how
# much of the robust model's FGSM figure is real. Right: digit # DIGIT (class DIGIT mod 10 on the
# page) attacked with FGSM at EPS against the clean model.

# %%
def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


curves = {name: [accuracy(m, fgsm(m, x_test, y_test, e), y_test) for e in EPS_GRID]
          for name, m in (("clean", clean), ("adv. trained", robust))}
for name, m in (("clean", clean), ("adv. trained", robust)):
    print(f"{name}: clean {accuracy(m, x_test, y_test):.3f}, FGSM at 0.2 {curves[name][EPS_GRID.index(0.2)]:.3f}, "
          f"PGD at 0.2 {accuracy(m, pgd(m, x_test, y_test, 0.2), y_test):.3f}")

# the page numbers held-out digits so that digit # i is of class i mod 10
i = int(np.flatnonzero(y_test.numpy() == DIGIT % 10)[DIGIT // 10])
x0, y0 = x_test[i:i + 1], y_test[i:i + 1]
x_adv = fgsm(clean, x0, y0, EPS)
with torch.no_grad():
    p0, p1 = F.softmax(clean(x0), 1)[0], F.softmax(clean(x_adv), 1)[0]
fig, axes = plt.subplots(1, 4, figsize=(15, 4), gridspec_kw={"width_ratios": [2.2, 1, 1, 1]})
for name, acc in curves.items():
    axes[0].plot(EPS_GRID, acc, marker="o", label=name)
axes[0].set_xlabel("ε (pixels in [0, 1])")
axes[0].set_ylabel("held-out accuracy under FGSM")
axes[0].set_ylim(0, 1)
axes[0].legend()
for ax, img, title, lo in ((axes[1], x0, f"x: read {int(p0.argmax())} ({p0.max():.0%})", 0),
                           (axes[2], (x_adv - x0) / max(EPS, 1e-6), "sign(∇ₓJ) · ε, scaled", -1),
                           (axes[3], x_adv, f"x̃: read {int(p1.argmax())} ({p1.max():.0%})", 0)):
    ax.imshow(img[0, 0].numpy(), cmap="gray", vmin=lo, vmax=1)
    ax.set_title(title)
    ax.axis("off")
plt.tight_layout()
plt.show()
'''


def script(cfg: AdversarialConfig, steps: int | None = None) -> str:
    """The run of ``cfg`` as a percent-format script training ``steps`` steps."""
    body = BODY
    for token, value in {"@BLOCK@": BLOCK, "@EVERY@": HOLDOUT_EVERY, "@DATA@": DATA_FILE,
                         "@SIZES@": SIZES, "@EPS_GRID@": list(EPS_GRID)}.items():
        body = body.replace(token, repr(value) if not isinstance(value, (int, str)) else str(value))
    # last: nothing in the app's code is a token
    body = body.replace("@MODEL@", sources(*MODEL_SOURCES, SIZE=SIZE, KINDS=KINDS))
    return HEAD + settings_cell(cfg, NAMES, steps or DEFAULT_STEPS) + body


def files(cfg: AdversarialConfig) -> dict[str, bytes]:
    """The shipped digits the script reads from its own folder."""
    return {DATA_FILE: DATA_PATH.read_bytes()}
