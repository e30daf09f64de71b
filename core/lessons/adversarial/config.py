"""Every setting of the adversarial-examples lesson, declared once: what is trained (the two
classifiers and adversarial training) and what is attacked (one held-out digit). All attack
settings are live: the attack runs on the current models in every frame. No Streamlit.

Pixels are in [0, 1] here (the shared digits are stored in [−1, 1]; see ``models.to_unit``), so
ε = 0.2 lets every pixel move by a fifth of the way from black to white.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.lessons.adversarial.models import KINDS
from core.settings import live_field, lr_field, seed_field, structural_field

# One step at the widgets' maximum (convnet width 32, batch 256, share 1) stays well under
# 0.25 s on one thread of the shared 2-core machine, so Pause answers at once (bench_adversarial
# reports max_step); wider or bigger batches made the step, and so Pause, slow.
SIZES = {"small": {"mlp": 64, "convnet": 8}, "medium": {"mlp": 128, "convnet": 16},
         "large": {"mlp": 256, "convnet": 24}}
BATCH_SIZES = (32, 64, 128, 256)
METHODS = {"fgsm": "FGSM", "bim": "BIM", "pgd": "PGD"}
MODELS = {"clean": "clean model", "robust": "adversarially trained"}
N_HELDOUT = 1000


@dataclass
class AdversarialConfig:
    """Live fields apply at the next chunk (or frame); structural ones restart the run."""

    model: str = structural_field(
        "convnet", label="Classifier", options=tuple(KINDS), labels=KINDS, widget="radio",
        help="MLP: two hidden layers. Convnet: two strided 4×4 convolutions, then a linear layer. Both models (the clean one and the adversarially trained one) have this shape and start "
             "from the same weights.")
    size: str = structural_field(
        "medium", label="Size", options=tuple(SIZES), widget="radio",
        help="MLP: 64, 128 or 256 units per hidden layer. Convnet: 8, 16 or 24 channels in the first layer "
             "(a larger convnet makes one step, and so Pause, too slow).")
    seed: int = seed_field()
    lr: float = lr_field(1e-3, "Learning rate (Adam, both models)")
    batch_size: int = live_field(128, label="Batch size", options=BATCH_SIZES, widget="select_slider",
                                 help="Both models see the same batches. At most 256, so a step stays short.")
    adv_share: float = live_field(
        0.5, label="Share of FGSM examples", bounds=(0.0, 1.0), step=0.05,
        help="In each batch of the adversarially trained model this share of the digits is replaced by "
             "its FGSM version against that model itself. 0: it trains like the clean one.")
    train_eps: float = live_field(0.25, label="Training ε", bounds=(0.0, 0.5), step=0.01,
                                  help="The ε of the FGSM examples mixed into training (pixels in [0, 1]).")
    eval_every: int = live_field(100, label="Measure the curves every … steps", bounds=(20, 1000), step=20,
                                 help="Accuracy against ε on 500 held-out digits, both models, all ε in "
                                      "one batched pass. Not every frame: it costs about as much as a few steps.")
    # ---------------------------------------------------------------- the attack on one digit
    digit: int = live_field(9, label="Held-out digit #", bounds=(0, N_HELDOUT - 1), widget="number",
                            help="Digit # i is a held-out digit of class i mod 10.")
    eps: float = live_field(0.2, label="ε (L∞ budget)", bounds=(0.0, 0.5), step=0.01,
                            help="No pixel may move by more than ε (pixels in [0, 1]).")
    method: str = live_field("fgsm", label="Attack", options=tuple(METHODS), labels=METHODS, widget="radio",
                             help="FGSM: one step of size ε. BIM: several steps of size α, each projected back "
                                  "into the ε-ball. PGD: BIM from a random start inside the ball.")
    steps: int = live_field(10, label="Iterations (BIM/PGD)", bounds=(1, 40))
    alpha: float = live_field(0.02, label="Step size α (BIM/PGD)", bounds=(0.005, 0.1), step=0.005,
                              fmt="%.3f", help="Each iteration moves every pixel by α, then projects back "
                                               "into the ε-ball.")
    targeted: bool = live_field(False, label="Targeted", help="Off: any wrong answer will do. "
                                                              "On: make the model say the target digit.")
    target: int = live_field(3, label="Target digit", bounds=(0, 9), step=1)
    attacked: str = live_field("clean", label="Attacked model", options=tuple(MODELS), labels=MODELS, widget="radio")



def width_of(cfg: AdversarialConfig) -> int:
    """Units per hidden layer (MLP) or first-layer channels (convnet) for the chosen size."""
    return SIZES[cfg.size][cfg.model]
