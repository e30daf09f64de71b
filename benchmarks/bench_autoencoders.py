"""The autoencoder lesson's figures: the issue's targets and the trainer against a plain PyTorch loop.

    python benchmarks/bench_autoencoders.py [--seconds 30] [--clock cpu|wall] [--skip-target]

* target (issue 15): from the defaults, train for ``--seconds`` on one thread (CPU seconds of
  that thread with ``--clock cpu``, steady on a shared machine; wall seconds with ``--clock wall``),
  then measure: 5-NN accuracy of the 1,000 held-out digits in the VAE's 2-D latent (target ≥ 0.8)
  and the share of the VAE's decoded 10×10 grid the classifier accepts (≥ 0.9 sure, target ≥ 0.7);
  the autoencoder's and the denoising autoencoder's figures alongside;
* speed: steps/s of the lesson's trainer at its defaults and of a plain PyTorch loop of the same
  three models (``ours`` / ``plain_loop``, also read by ``benchmarks/bench_throughput.py``), target
  ratio ≥ 1.5; and the longest step the widgets allow (Pause waits for one step).

Prints one JSON object. One torch thread, CPU, as the server runs it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from core.lessons.autoencoders import AutoencodersConfig, AutoencodersTrainer  # noqa: E402
from core.lessons.autoencoders.config import BATCH_SIZES, LATENT_SIZES, WIDTHS  # noqa: E402
from core.lessons.autoencoders.model import VAE, copy_into_plain, plain_models  # noqa: E402
from benchmarks import bench_throughput  # noqa: E402

CPU = torch.device("cpu")
STEP = ("one step of three MLP autoencoders on the same batch of 64 digits (16×16): a plain AE, a VAE "
        "(β·KL, z = μ + σ·ε) and a denoising AE; encoder 256→128→64→code, decoder mirrored, latent 2; Adam")


def ours(seconds: float) -> float:
    """The lesson's trainer at its defaults, its measurements every 200 steps included."""
    t = AutoencodersTrainer(AutoencodersConfig(), CPU)
    return bench_throughput.rate(t.step, seconds, warmup=3)


def plain_loop(seconds: float) -> float:
    """The same three models as PyTorch's VAE example writes one: nn.Sequential MLPs, one
    torch.optim.Adam each (its default implementation), sigmoid outputs with
    F.binary_cross_entropy(reduction="sum"), each model's own forward, backward and step, the
    losses read with .item() every step; the same measurements every 200 steps (through the
    lesson's trainer, whose stack is kept in sync only then, outside nothing else)."""
    cfg = AutoencodersConfig()
    judge = AutoencodersTrainer(cfg, CPU)
    torch.manual_seed(0)
    models = plain_models(cfg.latent_size, cfg.width)
    opts = [torch.optim.Adam([*e.parameters(), *d.parameters()], lr=cfg.lr) for e, d in models]
    x = judge.x_train
    B, L, log, count = cfg.batch_size, cfg.latent_size, [], [0]

    def steps(n: int) -> None:
        for _ in range(n):
            xb = x[torch.randint(len(x), (B,))]
            noisy = (xb + cfg.noise * torch.randn_like(xb)).clamp(0.0, 1.0)
            losses = []
            for m, ((enc, dec), opt) in enumerate(zip(models, opts)):
                opt.zero_grad()
                h = enc(noisy if m == 2 else xb)
                if m == VAE:
                    mu, logvar = h[:, :L], h[:, L:]
                    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
                    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
                else:
                    z, kld = h, 0.0
                loss = (F.binary_cross_entropy(torch.sigmoid(dec(z)), xb, reduction="sum") + cfg.beta * kld) / B
                loss.backward()
                opt.step()
                losses.append(loss.item())
            log.append(losses)
            count[0] += 1
            if count[0] % cfg.eval_every == 0:
                judge._record_metrics()

    return bench_throughput.rate(steps, seconds, warmup=3)


def target_run(seconds: float, clock) -> dict:
    """The defaults trained for ``seconds`` of ``clock``; the figures at the end (and on the way)."""
    t = AutoencodersTrainer(AutoencodersConfig(), CPU)
    t0, trail = clock(), []
    while clock() - t0 < seconds:
        t.step(50)
        if t.step_count % 1000 == 0:
            trail.append((t.step_count, round(clock() - t0, 1), round(t.metrics.last("knn_vae"), 3),
                          round(t.metrics.last("accepted_vae"), 3)))
    t._record_metrics()
    last = {k: round(t.metrics.last(k), 3) for k in t.METRIC_KEYS}
    return {"seconds": seconds, "steps": t.step_count, **last,
            "trail_step_seconds_knn_accepted": trail[-12:],
            "target": "knn_vae ≥ 0.8 and accepted_vae ≥ 0.7"}


def max_step() -> dict:
    """The slowest single step the widgets allow (Pause waits for it), with and without the
    measurement that runs every ``eval_every`` steps: wall time and the thread's CPU time."""
    cfg = AutoencodersConfig(width=max(WIDTHS), batch_size=max(BATCH_SIZES), latent_size=max(LATENT_SIZES))
    t = AutoencodersTrainer(cfg, CPU)
    t.step(2)
    wall, cpu = [], []
    for _ in range(7):
        w0, c0 = time.perf_counter(), time.thread_time()
        t.step(1)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.thread_time() - c0)
    w0 = time.perf_counter()
    t._record_metrics()
    measure = time.perf_counter() - w0
    return {"config": "width 256, batch 256, latent 16", "median_wall_s": round(statistics.median(wall), 4),
            "median_cpu_s": round(statistics.median(cpu), 4), "max_wall_s": round(max(wall), 4),
            "measurement_wall_s": round(measure, 4)}


def check_plain_is_the_same_model() -> bool:
    """The plain loop's models compute what the stack computes (weights copied across)."""
    t = AutoencodersTrainer(AutoencodersConfig(), CPU)
    plain = plain_models(t.config.latent_size, t.config.width)
    copy_into_plain(t.model, plain)
    x = t.x_held[:16]
    with torch.no_grad():
        h = t.model.encode(x.expand(3, -1, -1))
        return all(torch.allclose(h[m, :, :enc(x).shape[1]], enc(x), atol=1e-5) for m, (enc, _) in enumerate(plain))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0, help="training time of the target run")
    ap.add_argument("--speed-seconds", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    ap.add_argument("--skip-target", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    clock = time.thread_time if a.clock == "cpu" else time.perf_counter
    bench_throughput.CLOCK = clock
    load0 = os.getloadavg()[0]
    rows = []
    for i in range(a.repeats):                     # alternated, the order swapped each time
        pair = (ours, plain_loop) if i % 2 == 0 else (plain_loop, ours)
        r = {f.__name__: f(a.speed_seconds) for f in pair}
        rows.append(r)
    best_ours, best_plain = max(r["ours"] for r in rows), max(r["plain_loop"] for r in rows)
    out = {
        "clock": a.clock, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "load_average_at_start": round(load0, 2), "step": STEP,
        "speed": {"ours_steps_per_s": round(best_ours, 1), "plain_loop_steps_per_s": round(best_plain, 1),
                  "ratio_median": round(statistics.median(r["ours"] / r["plain_loop"] for r in rows), 2),
                  "target": "ratio ≥ 1.5", "same_model": check_plain_is_the_same_model()},
        "max_step": max_step(),
    }
    if not a.skip_target:
        out["target_run"] = target_run(a.seconds, clock)
    out["load_average_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
