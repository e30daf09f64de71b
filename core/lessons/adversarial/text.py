"""The adversarial lesson's words: intro, captions, the live equation and the explanation.
No Streamlit."""
from __future__ import annotations

from typing import Any

INTRO = (
    "A classifier that reads held-out digits almost perfectly can be made to read them wrong by "
    "moving every pixel a little in the direction that hurts it most: the **fast gradient sign "
    "method** (FGSM). Two classifiers of the same shape train side by side on the same batches: "
    "the **clean** one, and one **trained adversarially** on FGSM examples of its own. Pixels are "
    "in [0, 1] here (the shared digits are stored in [−1, 1] and converted with x = (x_stored + 1) / 2), "
    "so ε = 0.2 lets each pixel move by a fifth of the way from black to white.")

X = "x: the held-out digit"
SIGN = "sign(∇ₓJ): black −1, white +1"
DELTA = "δ = x̃ − x: orange −ε … blue +ε"
X_ADV = "x̃ = x + δ, what the model sees"
PAUSED = "Untrained models: press ▶ Train, or ⚡ Load pretrained for a run trained for a minute."
ROBUST_HELP = ("Held-out accuracy of the adversarially trained model on clean digits, and under "
               "FGSM at ε = 0.2: measured on the same 500 held-out digits every 100 steps (by default), so it "
               "lags by up to that many steps; a sample of 500 reads to about ± 2 percentage points.")
CLEAN_HELP = ("The same for the clean model: high on clean digits, low under the attack (500 held-out digits, "
              "every 100 steps, about ± 2 points).")


def verdict(a: dict[str, Any]) -> str:
    """One line: what the model read before and after, and whether the attack worked."""
    before, after = a["pred_before"], a["pred_after"]
    p0, p1 = a["p_before"][before], a["p_after"][after]
    if a["targeted"]:
        ok = after == a["target"]
        goal = f"make it say {a['target']}: {'done' if ok else 'not yet'}"
    elif before != a["label"]:
        goal = "it was wrong before the attack (train it first)"
    else:
        goal = "any wrong answer: " + ("fooled" if after != a["label"] else "not fooled")
    return (f"A **{a['label']}**. The model reads **{before}** ({100 * p0:.0f} %) before and **{after}** "
            f"({100 * p1:.0f} %) after; {goal}. ‖x̃ − x‖∞ = {a['linf']:.3f} ≤ ε = {a['eps']:.2f}.")


def equation(a: dict[str, Any], alpha: float, steps: int) -> str:
    """The attack as LaTeX with the live numbers."""
    lab = a["target"] if a["targeted"] else a["label"]
    sgn = "-" if a["targeted"] else "+"
    J0, J1 = max(a["loss_before"], 0.0) + 0.0, max(a["loss_after"], 0.0) + 0.0      # + 0.0: no "−0"
    if a["method"] == "fgsm":
        core = (rf"\tilde x = \mathrm{{clip}}_{{[0,1]}}\big(x {sgn} {a['eps']:.2f}\cdot"
                rf"\operatorname{{sign}}(\nabla_x J(\theta, x, {lab}))\big)")
    else:
        core = (rf"x_{{k+1}} = \Pi_{{\|x' - x\|_\infty \le {a['eps']:.2f}}}\big(x_k {sgn} {alpha:.3f}\cdot"
                rf"\operatorname{{sign}}(\nabla_x J(\theta, x_k, {lab}))\big),\ k < {steps}")
    return core + rf"\qquad J(\theta, \cdot, {lab}):\ {_j(J0)} \to {_j(J1)}"


def _j(v: float) -> str:
    """A loss as LaTeX: three digits, or "< 0.001" (no "1.2e−07" in an equation)."""
    return f"{v:.3g}" if v >= 1e-3 else r"{<}\,0.001"


EXPLANATION = r"""
**The nudge.** The model's loss $J(\theta, x, y)$ says how wrong it is about digit $x$ with label
$y$. Training moves the weights $\theta$ *down* its gradient. The attack keeps $\theta$ fixed and
moves the *pixels* *up* the gradient $\nabla_x J$, computed by the same backpropagation. FGSM
(Goodfellow, Shlens and Szegedy, 2015) takes only its sign, one step:
$\tilde x = x + \varepsilon \cdot \operatorname{sign}(\nabla_x J(\theta, x, y))$, then clips to
[0, 1]. Every pixel moves by exactly ε (or 0 where the gradient is 0 or the clip bites), so the
change is as large as possible within the **L∞ budget** $\|\tilde x - x\|_\infty \le \varepsilon$:
no pixel moves by more than ε. For a linear score $w^\top x$ the sign step changes the score by
$\varepsilon \|w\|_1$, which grows with the number of pixels: many tiny changes add up. That is why
a photo (150,000 pixels) falls to ε = 1/255, invisible, while our 256-pixel digits need ε ≈ 0.1–0.2,
which you can see.

**Targeted.** To make the model say $t$, descend the loss *of the target*:
$\tilde x = x - \varepsilon \cdot \operatorname{sign}(\nabla_x J(\theta, x, t))$.

**Iterated: BIM and PGD.** Take several small steps of size α instead, each followed by a
projection back into the ε-ball around $x$ and into [0, 1]. BIM starts at $x$; PGD (Madry et al.,
2018) starts at a random point of the ball. With the same budget they find much stronger examples
than one FGSM step: the "step by step" chart shows $\|x_k - x\|_\infty$ never crossing ε.

**Accuracy against ε.** Every few steps both models are attacked on 500 held-out digits, every ε
at once (the gradient sign at $x$ does not depend on ε, so one backward pass and one big batch
serve the whole curve).

**Adversarial training.** The second model sees, in each batch, a share of its digits replaced by
FGSM versions made against itself at that moment. Its FGSM curve rises; its clean accuracy drops a
little: the price. But attack it with BIM or PGD: FGSM training buys much less robustness against
an iterated attack than its FGSM curve suggests. Part of what it learns is to make its own
gradient a bad guide (a model can even be *more* accurate at ε = 0.2 than at 0.1 under FGSM, a
sign of this), which is why robust models are trained and judged with PGD.
"""
