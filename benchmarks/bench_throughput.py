"""Throughput per core: every lesson's trainer at its defaults against a plain PyTorch loop of the
same model, in the same run, one table for all lessons.

    python benchmarks/bench_throughput.py [--seconds 2] [--repeats 3] [--only gan1d forecast]

For each built lesson in the lesson table (``core.registry.built()``) this imports
``benchmarks/bench_<key>.py`` and calls its two functions, each ``(seconds: float) -> float``:

* ``ours(seconds)``: steps/s of the lesson's trainer at its default config (``Trainer.Config()``),
  stepped in chunks as the live page steps it, its own bookkeeping included (history, blow-up
  checks, the metrics it measures every so many steps);
* ``plain_loop(seconds)``: steps/s of the same model written as a tutorial would (nn.Module,
  autograd, torch.optim, a DataLoader-free loop over the same kind of batches).

and its ``STEP`` (what one step is). A lesson whose module lacks them is listed as such; a lesson
added later is included as soon as its bench module has them. One torch thread, CPU, as the server
runs it. The two are alternated ``--repeats`` times (the order swapped each time) so both see the
same load; the table keeps each one's best rate and the median of the per-repeat ratios.
``cpu_share`` is the thread CPU time ÷ wall time of the calls (1.0 = a core to itself): below
about 0.9 the machine was shared and the wall rates understate both sides. ``--clock cpu`` times
both in the thread's CPU seconds instead: steps per second of one core's work, what an idle core
would give, steady however busy the machine is. Prints one JSON object (each row also to stderr
as it is measured). ``rate`` below is the timing loop every bench module's two functions use.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import statistics
import sys
import time
import traceback
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from core import registry  # noqa: E402


# The clock the bench modules' timing loop (``rate``) reads: wall time by default; ``--clock cpu``
# makes it the thread's CPU time, so "per second" means per second of one core's work.
CLOCK: Callable[[], float] = time.perf_counter


def rate(run: Callable[[int], None], seconds: float, warmup: int = 3) -> float:
    """Steps per second of ``run(n)`` (n steps) over about ``seconds`` of ``CLOCK``, after
    ``warmup`` steps, in chunks that double while one takes under 0.05 s (as the live page steps)."""
    clock = CLOCK
    run(warmup)
    n, chunk, t0 = 0, 1, clock()
    while clock() - t0 < seconds:
        c0 = clock()
        run(chunk)
        n += chunk
        if clock() - c0 < 0.05:
            chunk *= 2
    return n / (clock() - t0)


def measured(fn: Callable[[float], float], seconds: float) -> tuple[float, float]:
    """(steps/s as ``fn`` reports it, thread CPU time ÷ wall time of the whole call)."""
    w0, c0 = time.perf_counter(), time.thread_time()
    r = float(fn(seconds))
    return r, (time.thread_time() - c0) / max(time.perf_counter() - w0, 1e-9)


def takes_seconds(fn: Any) -> bool:
    """Whether ``fn`` is a function of one argument, ``seconds`` (the table's contract)."""
    if not callable(fn):
        return False
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return params[:1] == ["seconds"]


def bench_module(key: str) -> Any:
    return importlib.import_module(f"benchmarks.bench_{key}")


def row(lesson: registry.Lesson, seconds: float, repeats: int) -> dict[str, Any]:
    """One lesson's line of the table (or why it has none)."""
    try:
        mod = bench_module(lesson.key)
    except ModuleNotFoundError as e:
        if e.name != f"benchmarks.bench_{lesson.key}":
            return {"lesson": lesson.key, "error": f"benchmarks/bench_{lesson.key}.py: {type(e).__name__}: {e}"}
        return {"lesson": lesson.key, "missing": f"no benchmarks/bench_{lesson.key}.py with ours / plain_loop"}
    except Exception as e:  # a lesson mid-refactor must not sink the table
        return {"lesson": lesson.key, "error": f"benchmarks/bench_{lesson.key}.py: {type(e).__name__}: {e}"}
    missing = [f"{f}(seconds)" for f in ("ours", "plain_loop") if not takes_seconds(getattr(mod, f, None))]
    if missing:
        return {"lesson": lesson.key, "missing": f"benchmarks/bench_{lesson.key}.py has no {' / '.join(missing)}"}
    ours, plain, ratios, shares = [], [], [], []
    try:
        for i in range(repeats):
            order = ((mod.ours, ours), (mod.plain_loop, plain))
            for fn, out in (order if i % 2 == 0 else order[::-1]):
                r, share = measured(fn, seconds)
                out.append(r)
                shares.append(share)
            ratios.append(ours[-1] / plain[-1])
    except Exception as e:
        return {"lesson": lesson.key, "error": f"{type(e).__name__}: {e}",
                "where": traceback.format_exc(limit=-2).strip().splitlines()[-3:]}
    step = getattr(mod, "STEP", None)
    if step is None:
        pkg = importlib.import_module(lesson.package)
        step = f"one {getattr(getattr(pkg, 'Trainer', None), 'STEP_UNIT', 'step')} (see {mod.__name__})"
    return {"lesson": lesson.key, "steps_per_s_ours": round(max(ours), 1),
            "steps_per_s_plain": round(max(plain), 1), "ratio": round(max(ours) / max(plain), 2),
            "ratio_median_of_repeats": round(statistics.median(ratios), 2),
            "cpu_share": round(statistics.median(shares), 2), "step": step}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per call")
    ap.add_argument("--repeats", type=int, default=3, help="alternations of ours and the plain loop")
    ap.add_argument("--only", nargs="*", help="lesson keys (default: every built lesson)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="seconds of wall time, or of the thread's CPU time (steady on a shared machine)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    # the bench modules import this file as benchmarks.bench_throughput, not as __main__
    importlib.import_module("benchmarks.bench_throughput").CLOCK = (
        time.thread_time if a.clock == "cpu" else time.perf_counter)
    lessons = [l for l in registry.built() if not a.only or l.key in a.only]
    load0, t0 = os.getloadavg(), time.perf_counter()
    rows = []
    for lesson in lessons:
        rows.append(row(lesson, a.seconds, a.repeats))
        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    print(json.dumps({
        "benchmark": "throughput_per_core", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "device": "cpu", "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "clock": a.clock, "seconds": a.seconds, "repeats": a.repeats,
        "load_average_1min": {"start": round(load0[0], 2), "end": round(os.getloadavg()[0], 2)},
        "wall_s": round(time.perf_counter() - t0, 1), "table": rows,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
