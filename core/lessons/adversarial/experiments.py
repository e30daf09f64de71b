"""The adversarial lesson's guided experiments (``core.experiments``): the FGSM nudge on the shipped
run, how small ε can be, a target FGSM cannot reach, iterated attacks, adversarial training live,
and the gradient-masking twist. Every claim is measured on the page's own numbers (the snapshot's
attack on the chosen digit and its accuracy-against-ε curves) or, for the whole held-out set, with
the page's attack settings on the 500 digits the curves use. No Streamlit.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from core.experiments import Claim, Experiment, Question, Run, shipped
from core.lessons.adversarial.attacks import attack
from core.lessons.adversarial.config import AdversarialConfig
from core.lessons.adversarial.trainer import EPS_GRID, AdversarialTrainer

CHECKPOINT = "adversarial_digits"
PGD_SEED = 12345            # the random start the page's probe uses


def pretrained(config: AdversarialConfig, device: torch.device,
               read: Callable[[str], dict[str, Any]] = shipped) -> AdversarialTrainer:
    """What ⚡ Load pretrained loads: the shipped run, with the page's live settings (the attack
    on screen) kept. ``read(stem)``: the checkpoint (the page passes its cached ``ui.checkpoint``)."""
    trainer = AdversarialTrainer.from_checkpoint(read(CHECKPOINT), device)
    trainer.apply_live(config)
    return trainer


# --------------------------------------------------------------------------- measures
def _attack(run: Run) -> dict[str, Any]:
    return run.trainer.snapshot()["attack"]


def p_label_before(run: Run) -> float:
    a = _attack(run)
    return float(a["p_before"][a["label"]])


def p_label_after(run: Run) -> float:
    a = _attack(run)
    return float(a["p_after"][a["label"]])


def p_after_of(digit: int) -> Callable[[Run], float]:
    def measure(run: Run) -> float:
        return float(_attack(run)["p_after"][digit])
    return measure


def p_target_after_with(**changes: Any) -> Callable[[Run], float]:
    """The target's probability after the attack, in a second run of the step with ``changes``."""
    def measure(run: Run) -> float:
        t = run.other(**changes)
        a = t.snapshot()["attack"]
        return float(a["p_after"][a["target"]])
    return measure


def p_label_after_with(**changes: Any) -> Callable[[Run], float]:
    def measure(run: Run) -> float:
        a = run.other(**changes).snapshot()["attack"]
        return float(a["p_after"][a["label"]])
    return measure


def path_overshoot(run: Run) -> float:
    """max_k ‖x_k − x‖∞ − ε along the drawn path: ≤ 0 when the projection holds."""
    a = _attack(run)
    return float(a["path_linf"].max() - a["eps"])


def curve_at(model: int, eps: float) -> Callable[[Run], float]:
    """The accuracy-against-ε chart's value: 0 the clean model, 1 the adversarially trained one."""
    def measure(run: Run) -> float:
        return float(run.trainer.snapshot()["curves"][model][EPS_GRID.index(eps)])
    return measure


def accuracy_under(method: str) -> Callable[[Run], float]:
    """Accuracy of the attacked model on the 500 held-out digits of the curves under ``method``
    with the page's ε, iterations and α (untargeted; PGD from the probe's random seed)."""
    def measure(run: Run) -> float:
        t = run.trainer
        cfg = t.config
        model = t.model_of(cfg.attacked)
        gen = torch.Generator().manual_seed(PGD_SEED)
        x_adv = attack(model, t.x_eval, t.y_eval, float(cfg.eps), method, int(cfg.steps), float(cfg.alpha),
                       False, gen)
        return float((model(x_adv).argmax(1) == t.y_eval).float().mean())
    return measure


def metric(key: str) -> Callable[[Run], float]:
    """A readout under the probe as the page shows it (the last measurement)."""
    def measure(run: Run) -> float:
        return float(run.trainer.snapshot()["metrics"][key][-1])
    return measure


def price(run: Run) -> float:
    """Clean accuracy of the clean model minus that of the adversarially trained one."""
    m = run.trainer.snapshot()["metrics"]
    return float(m["clean_acc"][-1] - m["robust_acc"][-1])


# --------------------------------------------------------------------------- the steps
EXPERIMENTS = (
    Experiment(
        title="The nudge: one FGSM step",
        start="pretrained",
        watch="chart_probs",
        do="Look at the row of four images and the bars: the grey bars are before the attack, the orange ones after.",
        predict=Question(
            "The trained model reads this 9 correctly. Every pixel moves by ε = 0.2 in the direction of the "
            "sign of the loss gradient. What does the model read afterwards?",
            ("Still a 9, a little less sure", "Another digit, and it is very sure of it",
             "It becomes unsure between all ten digits"), answer=1),
        claims=(
            Claim("Before the attack the model gives the 9 a probability of at least {value:.2f}.",
                  p_label_before, ">=", 0.99),
            Claim("After it, the 9 keeps less than {value:.2f} …", p_label_after, "<", 0.01),
            Claim("… and the model reads a 3 with probability above {value:.2f}.", p_after_of(3), ">", 0.95),
        ),
        why=r"""
Training moves the weights down the gradient of the loss $J(\theta, x, y)$. The attack freezes the
weights and moves the *pixels* up the gradient instead, computed by the same backpropagation. The
fast gradient sign method keeps only the sign, so every pixel moves by exactly ε:
$\tilde x = \mathrm{clip}_{[0,1]}\big(x + \varepsilon\,\operatorname{sign}(\nabla_x J)\big)$.
That is the lecture's panda turned gibbon, on a digit. The model is not unsure after the attack: it
is confidently wrong, because the nudge was aimed, not random.
""",
    ),
    Experiment(
        title="How small can ε be?",
        settings={"eps": 0.05},
        start="continue",
        watch="chart_curve",
        do="Look at the digit's bars, then at the orange curve of the first chart (the clean model under FGSM, "
           "500 held-out digits).",
        predict=Question("With a quarter of the budget (ε = 0.05), does the 9 still fall?",
                         ("Yes", "No: ε is too small to change anything"), answer=0),
        claims=(
            Claim("At ε = 0.05 the model already reads the 9 as a 3, with probability above {value:.2f}.",
                  p_after_of(3), ">", 0.7),
            Claim("The clean model still reads about {value:.0%} (± {tol:.0%}) of the 500 digits right at ε = 0.05 …",
                  curve_at(0, 0.05), "≈", 0.76, tol=0.03),
            Claim("… about {value:.0%} (± {tol:.0%}) at ε = 0.1 …", curve_at(0, 0.1), "≈", 0.44, tol=0.03),
            Claim("… and fewer than {value:.0%} at ε = 0.2.", curve_at(0, 0.2), "<", 0.15),
        ),
        why=r"""
For a linear score $w^\top x$ the sign step changes the score by $\varepsilon\,\|w\|_1$: each pixel
adds a tiny amount, and the amounts add up over all pixels. The more pixels, the smaller the ε that
suffices. Our digits have 256 pixels, so ε around 0.05–0.2 is needed and you can see the change; the
lecture's photo has about 150,000, and $\varepsilon = 1/255$ (invisible) is enough.
""",
    ),
    Experiment(
        title="Targeted: make it say 2",
        settings={"eps": 0.2, "targeted": True, "target": 2},
        start="continue",
        watch="chart_probs",
        do="Read the line under the equation (FGSM). Then switch the attack to BIM and read it again.",
        predict=Question("FGSM now *descends* the loss of the target 2. Will one step at ε = 0.2 make the 9 a 2?",
                         ("Yes, as easily as before", "No: one step overshoots to another digit; iterating gets there"),
                         answer=1),
        claims=(
            Claim("FGSM gives the target 2 less than {value:.2f} …", p_after_of(2), "<", 0.05),
            Claim("… while BIM (10 steps of α = 0.02 inside the same ε-ball) makes it a 2 with more than {value:.2f}.",
                  p_target_after_with(method="bim"), ">", 0.95),
        ),
        why=r"""
To make the model say $t$, step *down* the loss of the target:
$\tilde x = x - \varepsilon\,\operatorname{sign}(\nabla_x J(\theta, x, t))$. The gradient is only a
local guide: one long step in its direction lands wherever the model happens to be wrong (here an
8), not necessarily at the target. Several short steps re-read the gradient as they go, and reach a
2 within the same budget.
""",
    ),
    Experiment(
        title="Iterated attacks: BIM and PGD",
        settings={"eps": 0.1, "method": "bim"},
        start="continue",
        watch="chart_path",
        do="Watch the third chart, now *the attack, step by step*: ‖x_k − x‖∞ climbs to the dashed ε; the "
           "probability of the label falls.",
        predict=Question("At ε = 0.1 FGSM leaves the clean model about 44 % of the digits. What does BIM leave?",
                         ("About the same", "About half as many", "More: small steps are weaker"), answer=1),
        claims=(
            Claim("No iteration leaves the ε-ball: max ‖x_k − x‖∞ − ε stays below {value:g}.",
                  path_overshoot, "<=", 1e-6),
            Claim("The 9 keeps less than {value:.2f} of the probability.", p_label_after, "<", 0.01),
            Claim("On the 500 held-out digits BIM leaves the clean model about {value:.0%} (± {tol:.0%}).",
                  accuracy_under("bim"), "≈", 0.21, tol=0.03),
            Claim("PGD (BIM from a random point of the ball) leaves about {value:.0%} (± {tol:.0%}).",
                  accuracy_under("pgd"), "≈", 0.22, tol=0.03),
        ),
        why=r"""
The basic iterative method takes $K$ small steps,
$x_{k+1} = \Pi_{\|x'-x\|_\infty\le\varepsilon}\big(x_k + \alpha\,\operatorname{sign}(\nabla_x J(\theta, x_k, y))\big)$,
each followed by the projection $\Pi$ back into the ε-ball (and into [0, 1]). Same budget, but the
gradient is re-read after every step, so the attack follows the loss surface as it bends. PGD (Madry
et al.) starts at a random point of the ball; with a random start, repeated attacks find different
examples, which matters when a model's gradient at $x$ itself misleads.
""",
    ),
    Experiment(
        title="Adversarial training, live",
        start="reset",
        train=1000,
        watch="chart_time",
        predict=Question(
            "The second model trains on batches where half the digits are replaced by FGSM versions (ε = 0.25) "
            "made against itself. After 1,000 steps, what does FGSM at ε = 0.2 leave of it?",
            ("About what it leaves the clean model (a few %)", "Well over half the digits"), answer=1),
        claims=(
            Claim("The adversarially trained model reads more than {value:.0%} of the 500 digits right under FGSM "
                  "at ε = 0.2 …", metric("robust_acc_eps"), ">", 0.55, seeds=(0, 1)),
            Claim("… the clean model fewer than {value:.0%} …", metric("clean_acc_eps"), "<", 0.1, seeds=(0, 1)),
            Claim("… and on clean digits the two differ by less than {value:.0%} (the price is small here).",
                  lambda run: abs(price(run)), "<", 0.03, seeds=(0, 1)),
        ),
        why=r"""
Adversarial training (the lecture's loop: make adversarial examples, train on them, repeat) mixes
FGSM examples made against the model *as it is at that moment* into every batch:
$\min_\theta \mathbb E\,[J(\theta, \tilde x, y)]$ with $\tilde x$ recomputed each step. The blue
dashed line (the trained model under attack) rises while the orange one stays near the floor. Both start
from the same weights and see the same batches; only the FGSM share differs. The readouts are measured
every 100 steps on 500 held-out digits (spread over the next 20 steps), so they move in steps of
0.2 % and show the models as they were up to 120 steps ago.
""",
    ),
    Experiment(
        title="The twist: attack the robust model with PGD",
        settings={"attacked": "robust", "method": "pgd", "eps": 0.2},
        start="pretrained",
        watch="chart_curve",
        do="Look at the bars (PGD on the adversarially trained model), then switch the attack to FGSM and "
           "compare. On the first chart, compare the blue curve at ε = 0.05 and at ε = 0.2.",
        predict=Question("FGSM at ε = 0.2 leaves the adversarially trained model about 88 % of the digits. "
                         "What does PGD leave?", ("About the same", "Much less", "More"), answer=1),
        claims=(
            Claim("FGSM at ε = 0.2 leaves it about {value:.0%} (± {tol:.0%}) of the 500 digits (blue curve) …",
                  curve_at(1, 0.2), "≈", 0.88, tol=0.03),
            Claim("… PGD about {value:.0%} (± {tol:.0%}) …", accuracy_under("pgd"), "≈", 0.22, tol=0.04),
            Claim("… and BIM about {value:.0%} (± {tol:.0%}).", accuracy_under("bim"), "≈", 0.45, tol=0.04),
            Claim("PGD takes this 9 down to less than {value:.2f} …", p_label_after, "<", 0.05),
            Claim("… while FGSM leaves it a 9 at more than {value:.2f}.", p_label_after_with(method="fgsm"), ">", 0.9),
            Claim("The blue curve is higher at ε = 0.2 than at ε = 0.05, by more than {value:.2f}.",
                  lambda run: curve_at(1, 0.2)(run) - curve_at(1, 0.05)(run), ">", 0.05),
        ),
        why=r"""
Trained on its own FGSM examples, the model found a cheap way out: make its gradient at $x$ a bad
guide, so the one FGSM step goes nowhere useful (*gradient masking*). A larger ε then even hurts
the attack less than a small one, which no genuinely robust model would show. Iterated attacks
re-read the gradient along the way and walk around the mask. This is why robust models are trained
and judged with PGD (Madry et al.), not FGSM.
""",
    ),
)
