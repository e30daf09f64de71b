"""The adversarial-examples lesson's figures: the issue's targets and the trainer against a plain
PyTorch loop of the same two models.

    python benchmarks/bench_adversarial.py [--seconds 60] [--clock cpu|wall] [--speed-seconds 3]

* targets (issue 16), from the defaults (convnet, medium), trained for ``--seconds`` on one
  thread (CPU seconds of that thread with ``--clock cpu``, steady on a shared machine), all on
  the 1,000 held-out digits with pixels in [0, 1]:
  - the clean model's accuracy (target ≥ 0.95);
  - its accuracy under FGSM at ε = 0.2 (target ≤ 0.30);
  - the adversarially trained model's accuracy under FGSM at ε = 0.2 (target ≥ 0.70 within 60 s),
    and the first time it reached 0.70 (checked every 250 steps);
  - for honesty, both models under PGD (10 steps, α = 0.05, random start) at ε = 0.2: FGSM
    training buys less robustness against an iterated attack than FGSM's own figure suggests;
* speed: steps/s of the lesson's trainer at its defaults (``ours``, its curve measurement
  included) and of a plain PyTorch loop of the same two models (``plain_loop``, its tutorial-style
  measurement included), target ratio ≥ 1.5; also both without any measurement, the trainer with
  its hand-written convnet path switched off (``ours_autograd``: what ``fast.py`` buys); and the longest
  step the widgets allow (convnet large, batch 256, every digit attacked, a measurement chunk).

Prints one JSON object. One torch thread, CPU, as the server runs it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks import bench_throughput  # noqa: E402
from core import digits  # noqa: E402
from core.lessons.adversarial import AdversarialConfig, AdversarialTrainer  # noqa: E402
from core.lessons.adversarial.attacks import fgsm_curve, pgd  # noqa: E402
from core.lessons.adversarial.config import width_of  # noqa: E402
from core.lessons.adversarial.models import make_model, to_unit  # noqa: E402
from core.lessons.adversarial.trainer import EPS_GRID, EVAL_N, heldout_interleaved  # noqa: E402

CPU = torch.device("cpu")
STEP = ("one update of two convnets (1→16→32 strided convs → 10) on the same batch of 128 digits: the "
        "clean one on the digits, the robust one with half of them replaced by FGSM examples (ε 0.25) "
        "against itself; Adam")


def ours(seconds: float, model: str = "convnet") -> float:
    """The lesson's trainer at its defaults, its curve measurement (every 100 steps) included."""
    t = AdversarialTrainer(AdversarialConfig(model=model), CPU)
    return bench_throughput.rate(t.step, seconds, warmup=3)


def ours_autograd(seconds: float, model: str = "convnet") -> float:
    """``ours`` with the convnet's hand-written forward and backward (``fast.py``) switched off:
    every gradient by autograd, as before that path; what the path itself buys, in the same run."""
    t = AdversarialTrainer(AdversarialConfig(model=model), CPU)
    t._fast = None
    return bench_throughput.rate(t.step, seconds, warmup=3)


def ours_training_only(seconds: float, model: str = "convnet") -> float:
    """The trainer's update alone (no curve measurement), for the like-for-like ratio."""
    t = AdversarialTrainer(AdversarialConfig(model=model), CPU)

    def run(n: int) -> None:
        for _ in range(n):
            t.push(t._step())
        t.flush()
    return bench_throughput.rate(run, seconds, warmup=3)


def _plain_setup(model: str) -> tuple:
    cfg = AdversarialConfig(model=model)
    torch.manual_seed(0)
    clean = make_model(cfg.model, width_of(cfg))
    robust = make_model(cfg.model, width_of(cfg))
    robust.load_state_dict(clean.state_dict())
    x, y = digits.load("train").as_tensor()
    return cfg, clean, robust, to_unit(x), y


def plain_loop(seconds: float, measure: bool = True, model: str = "convnet") -> float:
    """The same two models as a tutorial trains them: a shuffled pass over the data, for each model
    its own torch.optim.Adam (default implementation) and backward pass; FGSM made with
    ``x.requires_grad_()`` and ``loss.backward()`` (weight gradients computed and zeroed again);
    losses read with ``.item()`` every step. With ``measure``: every 100 steps FGSM accuracy on the
    same 500 held-out digits, one ε at a time, as a tutorial's loop over ε does."""
    cfg, clean, robust, xt, yt = _plain_setup(model)
    opt_c = torch.optim.Adam(clean.parameters(), lr=cfg.lr)
    opt_r = torch.optim.Adam(robust.parameters(), lr=cfg.lr)
    xe, ye = heldout_interleaved(CPU)
    xe, ye = xe[:EVAL_N], ye[:EVAL_N]
    B, k = cfg.batch_size, int(round(cfg.adv_share * cfg.batch_size))
    state = {"order": torch.randperm(len(yt)), "pos": 0, "step": 0, "log": []}

    def fgsm_plain(model, x, y, eps):
        x = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        return (x + eps * x.grad.sign()).clamp(0, 1).detach()

    def run(n: int) -> None:
        for _ in range(n):
            if state["pos"] + B > len(yt):
                state["order"], state["pos"] = torch.randperm(len(yt)), 0
            idx = state["order"][state["pos"]:state["pos"] + B]
            state["pos"] += B
            x, y = xt[idx], yt[idx]
            opt_c.zero_grad()
            loss_c = F.cross_entropy(clean(x), y)
            loss_c.backward()
            opt_c.step()
            x_mix = torch.cat([fgsm_plain(robust, x[:k], y[:k], cfg.train_eps), x[k:]])
            opt_r.zero_grad()
            loss_r = F.cross_entropy(robust(x_mix), y)
            loss_r.backward()
            opt_r.step()
            state["log"].append((loss_c.item(), loss_r.item()))
            state["step"] += 1
            if measure and state["step"] % cfg.eval_every == 0:
                for model in (clean, robust):
                    for eps in EPS_GRID:
                        x_adv = fgsm_plain(model, xe, ye, eps)
                        with torch.no_grad():
                            (model(x_adv).argmax(1) == ye).float().mean().item()
    return bench_throughput.rate(run, seconds, warmup=3)


def plain_training_only(seconds: float, model: str = "convnet") -> float:
    return plain_loop(seconds, measure=False, model=model)


def held_out_figures(t: AdversarialTrainer) -> dict[str, float]:
    """The issue's figures on all 1,000 held-out digits."""
    x, y = t.x_held, t.y_held
    eps = torch.tensor([0.0, 0.2])
    c, r = (fgsm_curve(m, x, y, eps).tolist() for m in (t.clean, t.robust))
    gen = torch.Generator().manual_seed(0)
    pgd_acc = [float((m(pgd(m, x, y, 0.2, 0.05, 10, random_start=True, gen=gen).x_adv).argmax(1) == y)
                     .float().mean()) for m in (t.clean, t.robust)]
    return {"clean_model_clean_acc": round(c[0], 3), "clean_model_fgsm_0.2": round(c[1], 3),
            "robust_model_clean_acc": round(r[0], 3), "robust_model_fgsm_0.2": round(r[1], 3),
            "clean_model_pgd10_0.2": round(pgd_acc[0], 3), "robust_model_pgd10_0.2": round(pgd_acc[1], 3)}


def targets(seconds: float) -> dict:
    """Train the defaults for ``seconds`` of the clock; figures at the end and the first time the
    robust model reached 0.70 under FGSM at ε = 0.2 (checked every 250 steps, not timed)."""
    clock = bench_throughput.CLOCK
    t = AdversarialTrainer(AdversarialConfig(), CPU)
    spent, reached = 0.0, None
    eps = torch.tensor([0.2])
    while spent < seconds:
        c0 = clock()
        t.step(250)
        spent += clock() - c0
        if reached is None and float(fgsm_curve(t.robust, t.x_held, t.y_held, eps)[0]) >= 0.70:
            reached = {"seconds": round(spent, 1), "step": t.step_count}
    return {"seconds": round(spent, 1), "steps": t.step_count, **held_out_figures(t), "robust_0.70_reached_at": reached,
            "targets": {"clean_model_clean_acc": ">= 0.95", "clean_model_fgsm_0.2": "<= 0.30",
                        "robust_model_fgsm_0.2": ">= 0.70 within 60 s on one core"}}


def max_step() -> dict[str, float]:
    """Seconds of the slowest step the widgets allow (the step with a measurement chunk), in wall
    time (what Pause waits for) and in the thread's CPU time (steady on a shared machine)."""
    cfg = AdversarialConfig(size="large", batch_size=256, adv_share=1.0, eval_every=20)
    t = AdversarialTrainer(cfg, CPU)
    t.step(25)
    wall = cpu = 0.0
    for _ in range(30):
        w0, c0 = time.perf_counter(), time.thread_time()
        t.step(1)
        wall, cpu = max(wall, time.perf_counter() - w0), max(cpu, time.thread_time() - c0)
    return {"wall": round(wall, 3), "cpu": round(cpu, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--speed-seconds", type=float, default=3.0)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(1)
    bench_throughput.CLOCK = time.thread_time if a.clock == "cpu" else time.perf_counter
    load0 = os.getloadavg()[0]
    speed = {}
    for model in ("convnet", "mlp"):       # the default first; the MLP for comparison
        for name, fn in (("ours", ours), ("plain_loop", plain_loop), ("ours_training_only", ours_training_only),
                         ("plain_training_only", plain_training_only),
                         *((("ours_autograd", ours_autograd),) if model == "convnet" else ())):
            key = name if model == "convnet" else f"{name}_mlp"
            speed[key] = round(max(fn(a.speed_seconds, model=model) for _ in range(2)), 1)
    out = {"benchmark": "adversarial", "torch": torch.__version__, "threads": 1, "clock": a.clock,
           "targets": targets(a.seconds),
           "steps_per_s": speed, "ratio": round(speed["ours"] / speed["plain_loop"], 2),
           "ratio_training_only": round(speed["ours_training_only"] / speed["plain_training_only"], 2),
           "ratio_autograd_path": round(speed["ours_autograd"] / speed["plain_loop"], 2),
           "ratio_mlp": round(speed["ours_mlp"] / speed["plain_loop_mlp"], 2),
           "ratio_mlp_training_only": round(speed["ours_training_only_mlp"] / speed["plain_training_only_mlp"], 2),
           "max_step_s": max_step(), "step": STEP,
           "load_average_1min": {"start": round(load0, 2), "end": round(os.getloadavg()[0], 2)}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
