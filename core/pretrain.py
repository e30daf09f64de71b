"""Regenerate the shipped checkpoints in ``pretrained/`` reproducibly.

    python -m core.pretrain                 # every lesson
    python -m core.pretrain gan1d --seed 0  # one lesson

Each lesson package in the lesson table (``core.registry``) provides ``pretrain(seed: int) -> dict`` returning
``{"checkpoints": {file_stem: checkpoint_dict}, "metrics": {name: number}}``. The checkpoints
are written to ``pretrained/<file_stem>.pt`` and the metrics are printed as one JSON object per
lesson, so a regenerated file can be compared with the figures in its guide (docs/<key>.md).
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

import torch

from core import registry
from core.checkpoints import pretrained_path, save_checkpoint

# name -> package that defines ``pretrain(seed)``: the shared digit classifier first (the DCGAN's
# checkpoints hold quality measured by it), then every lesson of the one lesson table
LESSONS: dict[str, str] = {"digits": "core.digits", **{l.key: l.package for l in registry.LESSONS}}


def run(lesson: str, seed: int) -> dict:
    module = importlib.import_module(LESSONS[lesson])
    torch.set_num_threads(1)  # the same arithmetic order on every machine
    t0 = time.perf_counter()
    out = module.pretrain(seed)
    for stem, ckpt in out["checkpoints"].items():
        save_checkpoint(pretrained_path(stem), ckpt)
    return {"lesson": lesson, "seed": seed, "seconds": round(time.perf_counter() - t0, 2),
            "files": [f"pretrained/{s}.pt" for s in out["checkpoints"]], "metrics": out["metrics"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lessons", nargs="*", help=f"any of {', '.join(LESSONS)} (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    todo = a.lessons or list(LESSONS)
    unknown = [l for l in todo if l not in LESSONS]
    if unknown:
        ap.error(f"unknown lesson(s) {', '.join(unknown)}; choose from {', '.join(LESSONS)}")
    status = 0
    for lesson in todo:
        try:
            print(json.dumps(run(lesson, a.seed)), flush=True)
        except ModuleNotFoundError as e:
            print(json.dumps({"lesson": lesson, "skipped": f"module not present ({e.name})"}), flush=True)
        except Exception as e:  # keep going: one broken lesson must not block the others
            print(json.dumps({"lesson": lesson, "error": f"{type(e).__name__}: {e}"}), flush=True)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
