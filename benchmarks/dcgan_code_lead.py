"""A lead for the DCGAN quality target, not a feature: does a 10-way categorical code in z lift
the share of digits the classifier accepts within a minute of one core?

    python benchmarks/dcgan_code_lead.py [--seconds 60] [--seeds 0 1 2] [--lam 1 4] [--set lr_g=2e-3 ...]

Runs, one after another on one torch thread, with the lesson's own networks and losses at the
page's defaults (width 32, z of 32, transposed convolutions, batch norm, batch 64, lr_D 2e-4,
lr_G 1e-3, real label 0.9, k 1; ``--set`` changes any of these for both):

* ``plain``: the unconditional DCGAN, z ~ N(0, I), as the trainer trains it;
* ``code λ``: InfoGAN's idea (Chen et al., 2016). G gets z and a random one-hot code c of 10
  values; D does not see c; a linear head Q on D's last features guesses c from a fake digit, and
  both G and D+Q add λ·CE(Q(features(G(z, c))), c), a lower bound on the mutual information
  between c and the digit. No labels are used: c is free to become the digit, and z then no longer
  has to stretch one connected cloud over ten separate digits.

Both are judged as the lesson judges: 1,000 fixed inputs through G in eval mode, the shipped
classifier, accepted = share labelled with confidence ≥ 0.9. The clock is the process's CPU time,
so each run gets what one idle core gives. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import digits  # noqa: E402
from core.lessons.dcgan import DcganConfig  # noqa: E402
from core.lessons.dcgan.losses import d_loss, g_loss  # noqa: E402
from core.lessons.dcgan.model import BASE, Discriminator, Generator, init_weights  # noqa: E402
from core.lessons.dcgan.trainer import BETAS  # noqa: E402

N_CODES = 10


def run(lam: float | None, seed: int, seconds: float, cfg: DcganConfig) -> dict:
    """lam None: the plain DCGAN; else the categorical code with weight lam."""
    torch.manual_seed(seed)
    coded = lam is not None
    G = Generator(cfg.latent_size, cfg.width, cfg.upsampling, cfg.batch_norm, conditional=coded)
    D = Discriminator(cfg.width, cfg.batch_norm, conditional=False, slope=cfg.slope)
    init_weights(G)
    init_weights(D)
    Q = nn.Linear(2 * cfg.width * BASE * BASE, N_CODES)    # D's [2C, 4, 4] features -> code logits
    feats: dict[str, torch.Tensor] = {}
    # the features D's last layer reads: LReLU(BN(conv2(·))); with groups=2 the hook's last call is
    # the fake half
    D.bn2.register_forward_hook(lambda m, i, o: feats.__setitem__("h", F.leaky_relu(o, cfg.slope).flatten(1)))
    opt_d = torch.optim.Adam([*D.parameters(), *Q.parameters()], lr=cfg.lr_d, betas=BETAS)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=BETAS)
    x_train, _ = digits.load("train").as_tensor()
    clf = digits.classifier()
    z_fixed, c_fixed = torch.randn(1000, cfg.latent_size), torch.arange(1000) % N_CODES
    B = cfg.batch_size

    def descend(opt: torch.optim.Optimizer, loss: torch.Tensor, c: torch.Tensor) -> None:
        """One Adam step on loss (+ λ·CE(Q(features), c) with the code)."""
        if coded:
            loss = loss + lam * F.cross_entropy(Q(feats["h"]), c)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        idx, z, c = torch.randint(len(x_train), (B,)), torch.randn(B, cfg.latent_size), torch.randint(N_CODES, (B,))
        fake = G(z, c if coded else None)
        a = D(torch.cat([x_train[idx], fake.detach()]), groups=2)
        descend(opt_d, d_loss(a[:B], a[B:], cfg.real_label), c)
        for p in D.parameters():
            p.requires_grad_(False)
        descend(opt_g, g_loss(D(fake)), c)
        for p in D.parameters():
            p.requires_grad_(True)
        step += 1
    G.eval()
    with torch.no_grad():
        q = digits.judge_quality(clf, G(z_fixed, c_fixed if coded else None))
    return {"steps": step, "accepted": round(q["accepted"], 3), "classes": q["classes"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--lam", type=float, nargs="*", default=[1.0, 4.0])
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="change a default, e.g. lr_g=2e-3")
    a = ap.parse_args()
    cfg = DcganConfig()
    for item in a.set:
        name, value = item.split("=", 1)
        setattr(cfg, name, type(getattr(cfg, name))(value))
    torch.set_num_threads(1)
    out: dict = {"benchmark": "dcgan_code_lead", "seconds_cpu": a.seconds, "changed": a.set, "runs": {}}
    for name, lam in [("plain", None)] + [(f"code λ={lam:g}", lam) for lam in a.lam]:
        out["runs"][name] = {str(s): run(lam, s, a.seconds, cfg) for s in a.seeds}
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
