"""The DCGAN lesson's figures: the issue's targets and the trainer against a plain PyTorch loop.

    python benchmarks/bench_dcgan.py [--seconds 60] [--clock cpu|wall] [--skip-target] [--seeds 0 1 2]
    python benchmarks/bench_dcgan.py --target-only [--set codes=0 average=False]   # the plain DCGAN
    python benchmarks/bench_dcgan.py --target-only --steps 4000     # in steps: the same on any machine

* target (issue 12): from the defaults (each of ``--seeds``; ``--set`` changes settings), train
  for ``--seconds`` on one thread (CPU seconds of that thread with ``--clock cpu``, steady on a
  shared machine; wall seconds with ``--clock wall``) and judge 500 fresh digits (as the page does): the share
  the classifier accepts (≥ 0.9 sure, target ≥ 0.8) and how many of the ten digits occur among
  them (target 10);
* conditional (pretrained): ``pretrained/dcgan_conditional.pt`` asked for each digit 100 times
  with fresh z: the share the classifier reads as the digit asked for (target ≥ 0.9);
* speed: steps/s of the lesson's trainer at its defaults and of a plain PyTorch loop of the same
  networks (``ours`` / ``plain_loop``, also read by ``benchmarks/bench_throughput.py``), target
  ratio ≥ 1.5; and the longest step the widgets allow (Pause waits for one step).

Prints one JSON object. One torch thread, CPU, as the server runs it.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from core import digits  # noqa: E402
from core.checkpoints import load_checkpoint, pretrained_path  # noqa: E402
from core.lessons.dcgan import CHECKPOINTS, DcganConfig, DcganTrainer, Discriminator, Generator  # noqa: E402
from core.lessons.dcgan.config import BATCH_SIZES, WIDTHS  # noqa: E402
from core.lessons.dcgan.model import code_head, init_weights  # noqa: E402
from benchmarks import bench_throughput  # noqa: E402

CPU = torch.device("cpu")
STEP = ("one DCGAN iteration on 16×16 digits (k = 1: one D update on 64 real + 64 fake, one G update; "
        "G 32+30→128×4×4→64×8×8→1×16×16 with transposed convs k=4 and batch norm; D 1→32→64 strided convs "
        "with a 30-way code head Q; Adam; an averaged copy of G)")


def ours(seconds: float) -> float:
    """The lesson's trainer at its defaults, its quality measurement every 100 steps included."""
    t = DcganTrainer(DcganConfig(), CPU)
    return bench_throughput.rate(t.step, seconds, warmup=3)


def plain_loop(seconds: float) -> float:
    """The same networks trained as PyTorch's DCGAN example does: D on a real batch, then on the
    detached fake batch (two calls, two backward passes), BCELoss on sigmoid outputs, then G through
    D with D's gradients computed and thrown away, torch.optim.Adam (its default implementation),
    the losses read with .item() every step; the same code (InfoGAN's Q on D's features, its
    cross-entropy added to both losses), the same averaged generator (a loop over its weights) and
    the same quality measurement every 100 steps."""
    cfg = DcganConfig()
    K = cfg.codes
    torch.manual_seed(0)
    G = Generator(cfg.latent_size + K, cfg.width, cfg.upsampling, cfg.batch_norm, False)
    D = Discriminator(cfg.width, cfg.batch_norm, False, cfg.slope)
    init_weights(G)
    init_weights(D)
    Q = code_head(cfg.width, K)
    G_avg = copy.deepcopy(G)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*D.parameters(), *Q.parameters()], lr=cfg.lr_d, betas=(0.5, 0.999))
    bce, ce = nn.BCELoss(), nn.CrossEntropyLoss()
    x, _ = digits.load("train").as_tensor()
    judge = DcganTrainer(DcganConfig(), CPU).judge
    B, log = cfg.batch_size, []
    count = [0]

    def steps(n: int) -> None:
        for _ in range(n):
            real = x[torch.randint(len(x), (B,))]
            D.zero_grad()
            Q.zero_grad()
            err_real = bce(torch.sigmoid(D(real)), torch.full((B,), cfg.real_label))
            err_real.backward()
            c = torch.randint(K, (B,))
            fake = G(torch.cat([torch.randn(B, cfg.latent_size), F.one_hot(c, K).float()], 1))
            h = D.features(fake.detach())
            err_fake = bce(torch.sigmoid(D.logit(h)), torch.full((B,), 0.0)) + ce(Q(h), c)
            err_fake.backward()
            opt_d.step()
            G.zero_grad()
            h = D.features(fake)
            err_g = bce(torch.sigmoid(D.logit(h)), torch.full((B,), 1.0)) + ce(Q(h), c)
            err_g.backward()
            opt_g.step()
            with torch.no_grad():
                beta = min(0.999, (1 + count[0]) / (10 + count[0]))
                for p_avg, p in zip(G_avg.parameters(), G.parameters()):
                    p_avg.mul_(beta).add_(p, alpha=1 - beta)
                for b_avg, b in zip(G_avg.buffers(), G.buffers()):
                    b_avg.copy_(b)
            log.append((err_real.item() + err_fake.item(), err_g.item()))
            count[0] += 1
            if count[0] % cfg.eval_every == 0:
                judge.measure(G_avg)

    return bench_throughput.rate(steps, seconds, warmup=3)


def target_run(seconds: float, clock, seed: int = 0, steps: int | None = None, **changes) -> dict:
    """The defaults (seed ``seed``, ``changes`` applied) trained for ``seconds`` of ``clock``, or for
    ``steps`` steps when given (the same on every machine); the quality at the end (and on the way)."""
    t = DcganTrainer(DcganConfig(seed=seed, **changes), CPU)
    t0, trail = clock(), []
    while (t.step_count < steps) if steps else (clock() - t0 < seconds):
        t.step(25)
        if t.step_count % 500 == 0:
            trail.append((t.step_count, round(clock() - t0, 1), round(t.metrics.last("accepted"), 3)))
    t._record_metrics()
    s = t.snapshot()
    return {"seed": seed, **changes, "seconds": round(clock() - t0, 1), "steps": t.step_count, "accepted": round(s["accepted"], 3),
            "classes": int(s["classes"]), "counts": s["counts"].tolist(),
            "ceiling_real_heldout": round(s["ceiling"]["accepted"], 3),
            "trail_step_seconds_accepted": trail[-12:], "target": "accepted ≥ 0.8 and 10 classes"}


def conditional_check(n_per_digit: int = 100) -> dict:
    """The shipped conditional model asked for each digit with fresh z (not the grid's)."""
    t = DcganTrainer.from_checkpoint(load_checkpoint(pretrained_path(CHECKPOINTS[True]), "dcgan"), CPU)
    g = torch.Generator().manual_seed(2024)
    z = torch.randn(10 * n_per_digit, t.config.latent_size, generator=g)
    y = torch.arange(10).repeat_interleave(n_per_digit)
    x = torch.from_numpy(t.generate(z, y)).float().unsqueeze(1)
    label, conf = t.judge.clf.judge(x)
    per = [round(float((label[y == d] == d).float().mean()), 2) for d in range(10)]
    return {"steps": t.step_count, "asked_label_read": round(float((label == y).float().mean()), 3),
            "accepted": round(float((conf >= digits.CONFIDENT).float().mean()), 3), "per_digit": per,
            "target": "asked_label_read ≥ 0.9"}


def max_step() -> dict:
    """The slowest single step the widgets allow (Pause waits for it): wall time, and the thread's
    CPU time (what an idle core would take)."""
    cfg = DcganConfig(width=max(WIDTHS), batch_size=max(BATCH_SIZES), k=3, conditional=True,
                      upsampling="bilinear", latent_size=100)
    t = DcganTrainer(cfg, CPU)
    t.step(2)
    wall, cpu = [], []
    for _ in range(5):
        w0, c0 = time.perf_counter(), time.thread_time()
        t.step(1)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.thread_time() - c0)
    return {"config": "width 32, batch 128, k 3, conditional, bilinear, z 100",
            "median_wall_s": round(sorted(wall)[2], 3), "median_cpu_s": round(sorted(cpu)[2], 3),
            "max_wall_s": round(max(wall), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="training time of the target run")
    ap.add_argument("--steps", type=int, default=None,
                    help="train the target run this many steps instead (e.g. 4000: the same on every machine)")
    ap.add_argument("--speed-seconds", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    ap.add_argument("--skip-target", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="seeds of the target runs")
    ap.add_argument("--target-only", action="store_true", help="only the target runs")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="change a default in the target runs, e.g. codes=0 average=False")
    a = ap.parse_args()
    torch.set_num_threads(1)
    clock = time.thread_time if a.clock == "cpu" else time.perf_counter
    bench_throughput.CLOCK = clock
    load0 = os.getloadavg()[0]
    changes = {}
    for item in a.set:
        name, value = item.split("=", 1)
        kind = type(getattr(DcganConfig(), name))
        changes[name] = value == "True" if kind is bool else kind(value)
    targets = [target_run(a.seconds, clock, seed, a.steps, **changes) for seed in ([] if a.skip_target else a.seeds)]
    if a.target_only:
        print(json.dumps({"benchmark": "dcgan", "clock": a.clock, "target_60s": targets}, ensure_ascii=False, indent=1))
        return
    speed = []
    for i in range(a.repeats):
        pair = [("ours", ours), ("plain", plain_loop)]
        speed.append({name: round(fn(a.speed_seconds), 1) for name, fn in (pair if i % 2 == 0 else pair[::-1])})
    best_ours, best_plain = max(s["ours"] for s in speed), max(s["plain"] for s in speed)
    out = {"benchmark": "dcgan", "torch": torch.__version__, "clock": a.clock,
           "speed": {"steps_per_s_ours": best_ours, "steps_per_s_plain": best_plain,
                     "ratio": round(best_ours / best_plain, 2), "repeats": speed, "target": "ratio ≥ 1.5",
                     "step": STEP},
           "max_step": max_step(), "conditional_pretrained": conditional_check()}
    if targets:
        out["target_60s"] = targets
    out["load_average_1min"] = {"start": round(load0, 2), "end": round(os.getloadavg()[0], 2)}
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
