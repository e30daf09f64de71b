"""The measured table of the mode-collapse page: every method on the page's defaults, 8 seeds.

    python benchmarks/gan2d_modes_table.py            # writes core/data/gan2d_table.json, prints JSON

Each method trains seeds 0–7 in one batched run (the page's "run N seeds") for ``--steps``
iterations on the default ring of 8; then the VEEGAN/PacGAN metrics are measured on 2,500
samples per seed. One torch thread; a few minutes on a laptop core (the unrolled GAN is most
of it).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
import time

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.lessons.gan2d import METHODS, PRETRAIN_STEPS, Gan2DConfig, Gan2DTrainer  # noqa: E402
from core.lessons.gan2d.config import EVAL_EVERY  # noqa: E402

OUT = ROOT / "core" / "data" / "gan2d_table.json"


def measure(method: str, steps: int, n_seeds: int, base: Gan2DConfig) -> dict:
    # Measuring reads the fixed evaluation noise only, so how often it happens does not change the run.
    cfg = dataclasses.replace(base, methods=(method,), n_seeds=n_seeds, eval_every=max(EVAL_EVERY))
    t = Gan2DTrainer(cfg, torch.device("cpu"))
    t0 = time.perf_counter()
    t.step(steps)
    if steps % cfg.eval_every:
        t.runs[method].record(steps)
    last = t.runs[method].rec.last
    cov, hq, kl = last["covered"], last["hq"], last["kl"]
    return {"method": method, "n_seeds": n_seeds, "covered": [int(c) for c in cov],
            "covered_mean": round(float(cov.mean()), 2), "covered_sd": round(float(cov.std()), 2),
            "seeds_ge7": int((cov >= 7).sum()), "hq_mean": round(float(hq.mean()), 3),
            "kl_mean": round(float(np.nanmean(kl)), 3) if np.isfinite(kl).any() else None,
            "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=PRETRAIN_STEPS)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    base = Gan2DConfig()
    rows = []
    for m in a.methods.split(","):
        rows.append(measure(m, a.steps, a.seeds, base))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    cmd = "python benchmarks/gan2d_modes_table.py" + (f" --steps {a.steps}" if a.steps != PRETRAIN_STEPS else "")
    out = {"dataset": base.dataset, "std": base.std, "steps": a.steps, "seeds": list(range(base.seed, base.seed + a.seeds)),
           "config": {k: v for k, v in dataclasses.asdict(base).items()
                      if k not in ("methods", "n_seeds", "show_real", "show_seed")},
           "command": cmd, "rows": rows}
    if not a.no_write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
