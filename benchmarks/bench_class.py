"""The class store's figures (issue 35): write latency with a hall of students publishing, the
lecturer view's refresh time, the training cost of publishing, and the store's size after a class.

    python benchmarks/bench_class.py [--students 300] [--workers 4] [--seconds 30]
                                     [--backends sqlite postgresql] [--pg-url URL]

* ``write``: W worker processes (as ``scripts/serve.py`` runs them), each with the app's own
  ``Publisher`` (one background thread, one transaction per flush), publish S/W students' summaries
  every 2 s and their checkpoints every 10 s, as joined sessions do. Summaries and checkpoints are
  real ones: a 1D GAN trained 2,000 steps. Reported: each flush transaction's latency p50/p99 and
  the students' summaries per second actually written. This drives the store directly, not through
  HAProxy and Streamlit (bench_load.py --class-db does that, for one worker's 30 students).
* ``lecturer``: the lecturer's refresh with S runs of one lesson in the store: the read, and the
  table and small-multiples data built from it (Python side; the browser's drawing not included).
* ``size``: the store after a simulated 90-minute class: every student's row and checkpoint
  rewritten 90·60/10 = 540 times (the checkpoint period), measured on disk (PostgreSQL: with a
  VACUUM every 6 rounds, as autovacuum's pass a minute would run in real time).
* ``training_cost`` (once): the 1D GAN's steps/s headless, with and without publishing as a
  frame does (summary every 2 s, checkpoint every 10 s) at 5 frames/s.
PostgreSQL: ``--pg-url``, or a throwaway server (tests/classroom/pg.py) when Debian's
``postgresql`` is installed. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _trained():
    import torch
    torch.set_num_threads(1)
    from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer
    t = Gan1DTrainer(Gan1DConfig())
    t.step(2000)
    return t


def _worker(url: str, code: str, tokens: list[str], seconds: float, out: mp.Queue) -> None:
    from core.classroom import publish
    from core.classroom.store import Store
    t = _trained()
    summary, ckpt = publish.summarize(t, "x", code), publish.checkpoint_of(t)
    pub = publish.Publisher(Store(url))
    start = time.monotonic()
    last_ck = {tok: start - (i % 10) for i, tok in enumerate(tokens)}
    offset = {tok: (i % 20) / 10 for i, tok in enumerate(tokens)}       # students out of phase
    next_at = {tok: start + offset[tok] for tok in tokens}
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        for tok in tokens:
            if now >= next_at[tok]:
                next_at[tok] += publish.SUMMARY_SECONDS
                due = now - last_ck[tok] >= publish.CHECKPOINT_SECONDS
                if due:
                    last_ck[tok] = now
                pub.offer({**summary, "token": tok, "updated": time.time()}, ckpt if due else None)
        time.sleep(0.05)
    pub.flush_now(30)
    out.put({"flush_s": pub.write_seconds, "written": pub.written, "dropped": pub.dropped,
             "ok": pub.status()[0], "ckpt_bytes": len(ckpt), "summary_bytes": len(json.dumps(summary))})


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def write_and_read(url: str, students: int, workers: int, seconds: float) -> dict:
    from core.classroom import view
    from core.classroom.store import Store
    store = Store(url)
    code = store.create_class()
    tokens = [store.join(code, f"student {i}") for i in range(students)]
    q: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_worker, args=(url, code, tokens[k::workers], seconds, q)) for k in range(workers)]
    for p in procs:
        p.start()
    results = [q.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join()
    flushes = [s for r in results for s in r["flush_s"]]
    written = sum(r["written"] for r in results)
    # the lecturer's refresh: read, table and small-multiples rows (as core/ui/lecturer.py)
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        runs = store.class_runs(code, "gan1d")
        view.table(runs, "gan1d", time.time())
        view.curves(runs[:120], view.loss_keys("gan1d"))
        times.append(time.perf_counter() - t0)
    out = {"flush_transaction_ms": {"p50": round(1000 * pct(flushes, 0.5), 1), "p99": round(1000 * pct(flushes, 0.99), 1),
                                    "n": len(flushes)},
           "summaries_written_per_s": round(written / seconds, 1), "expected_per_s": round(students / 2.0, 1),
           "dropped": sum(r["dropped"] for r in results), "store_ok": all(r["ok"] for r in results),
           "summary_json_bytes": results[0]["summary_bytes"], "checkpoint_bytes": results[0]["ckpt_bytes"],
           "lecturer_refresh_ms": {"p50": round(1000 * statistics.median(times), 1), "max": round(1000 * max(times), 1),
                                   "runs": len(runs)}}
    out["size_after_90_min_mb"] = simulated_class_size(store, code, tokens)
    store.close()
    return out


def simulated_class_size(store, code: str, tokens: list[str]) -> float:
    """540 rounds (90 min / 10 s) of every student's summary and checkpoint rewritten. The rounds
    come minutes apart instead of 10 s, so PostgreSQL's autovacuum (a pass a minute) would see 90
    minutes' dead row versions in a few passes: a VACUUM every 6 rounds stands in for it."""
    import sqlalchemy as sa

    from core.classroom import publish
    t = _trained()
    summary, ckpt = publish.summarize(t, "x", code), publish.checkpoint_of(t)
    for rnd in range(540):
        if store.backend == "postgresql" and rnd % 6 == 5:
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM dash_runs, dash_checkpoints"))
        store.publish([{**summary, "token": tok, "step": rnd, "updated": time.time()} for tok in tokens])
        if rnd % 5 == 0:           # checkpoints of all students every 5th round keep this run short;
            for tok in tokens:     # the rows are rewritten in place either way
                store.save_checkpoint(tok, "gan1d", code, rnd, ckpt)
    return round(store.size_bytes() / 2**20, 2)


def training_cost(seconds: float = 8.0) -> dict:
    from core.classroom import publish
    from core.classroom.store import Store
    t = _trained()
    pub = publish.Publisher(Store(f"sqlite:///{tempfile.mkdtemp()}/c.db"))

    spent = [0.0]          # the frame's own publishing work (summary, checkpoint bytes, hand-over)

    def run(publishing: bool) -> float:
        start = time.perf_counter()
        n0, last_s, last_c = t.step_count, -1e9, -1e9
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 0.2:            # one frame interval of training
                t.step(50)
            if publishing:                                   # what after_frame does at a frame
                now = time.perf_counter()
                spent[0] -= now
                if now - last_s >= publish.SUMMARY_SECONDS:
                    last_s = now
                    ck = None
                    if now - last_c >= publish.CHECKPOINT_SECONDS:
                        last_c, ck = now, publish.checkpoint_of(t)
                    pub.offer(publish.summarize(t, "tok" * 8, "AAAAAA"), ck)
                spent[0] += time.perf_counter()
        return (t.step_count - n0) / (time.perf_counter() - start)

    rates = {"without": [], "with": []}
    for _ in range(2):
        rates["without"].append(run(False))
        rates["with"].append(run(True))
    a, b = statistics.mean(rates["without"]), statistics.mean(rates["with"])
    pub.flush_now()
    # A/B on a shared machine is noisy; the direct account is the frame's publishing time plus the
    # writer thread's flushes (wall time, an upper bound on its CPU), over the seconds trained with it.
    direct = (spent[0] + sum(pub.write_seconds)) / (2 * seconds)
    return {"steps_per_s_without": round(a), "steps_per_s_with": round(b), "ab_cost_pct": round(100 * (a - b) / a, 2),
            "direct_cost_pct": round(100 * direct, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--pg-url", default=os.environ.get("DASH_TEST_PG_URL"))
    ap.add_argument("--only-cost", action="store_true", help="only the training cost of publishing")
    a = ap.parse_args()
    out = {"students": a.students, "workers": a.workers, "seconds": a.seconds, "cpus": os.cpu_count(),
           "loadavg": os.getloadavg()[0], "training_cost": training_cost()}
    if a.only_cost:
        print(json.dumps(out, indent=1))
        return
    scratch = None
    for backend in a.backends:
        if backend == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp(prefix='bench_class_')}/class.db"
        else:
            url = a.pg_url
            if not url:
                sys.path.insert(0, os.path.join(ROOT, "tests"))
                from classroom import pg
                scratch = pg.Scratch()
                url = scratch.start()
                pg.wait_ready(url)
        try:
            out[backend] = write_and_read(url, a.students, a.workers, a.seconds)
        finally:
            if scratch is not None and backend != "sqlite":
                scratch.stop()
                scratch = None
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
