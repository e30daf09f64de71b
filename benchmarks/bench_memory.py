"""Server memory as Community Cloud runs the app (issue 36): one ``streamlit run Home.py
--server.headless true`` process, CPU only, torch threads as the app sets them.

    python benchmarks/bench_memory.py [--students 1 5] [--seconds 10] [--port 8611]
                                      [--parking on|off|both] [--stagger 3] [--after 15] [--out f.json]

For each number of students N (and each parking setting) a fresh server is started, and its
resident memory (VmRSS of the server process plus any children, read from /proc every 0.5 s) is
recorded through these phases:

* ``idle_start``: 5 s after the server answers its health check, nobody connected;
* ``home``: one Chromium tab opens Home (the first script run imports the app), then closes;
* ``students``: N Chromium tabs (one browser, N contexts, i.e. N Streamlit sessions), started
  ``--stagger`` seconds apart; each opens every lesson of ``registry.built()`` in course order at
  ``/<key>`` (plus the lesson's ``live_query``), waits for its live panel, chooses ▶ Train, waits
  ``--seconds`` and goes on to the next lesson, as tests/conftest.py's helpers do;
* ``held``: every tab still open after its walk (each session keeps its runs), 5 s;
* ``closed``: ``--after`` seconds after the tabs closed (Streamlit keeps a disconnected session's
  state for server.disconnectedSessionTTL = 120 s, so this is normally still the ``held`` figure).

Prints one JSON object (also written to ``--out``) with, per run, each phase's start, peak and
end RSS in MB and the samples, then a small table. ``--parking off`` runs the server with
DASH_PARKING=0 and DASH_MALLOC_TRIM_SECONDS=0 (every visited lesson's trainer stays live and the
heap is never trimmed: the behaviour before issue 36); ``on`` is the app's default
(core.ui.parking, core.parking.trim). Nothing here is timed against a target.

``--breakdown`` starts no server: it measures, in this process, the RSS added by the imports and
by each lesson's default trainer (built, trained ``--seconds``, snapshotted) and the size of its
checkpoint (what a parked run holds).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --------------------------------------------------------------------------- /proc readings
def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                out.append(int(d))
    return out


def _field_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and its descendants, MB (2**20 bytes)."""
    todo, total = [pid], 0
    while todo:
        p = todo.pop()
        total += _field_kb(p, "VmRSS")
        todo.extend(_children(p))
    return total / 1024


class Sampler:
    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.phase = "start"
        self.samples: list[tuple[float, str, float]] = []
        self.t0 = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((round(time.time() - self.t0, 2), self.phase, round(tree_rss_mb(self.pid), 1)))
            self._stop.wait(self.every)

    def mark(self, phase: str) -> None:
        self.samples.append((round(time.time() - self.t0, 2), self.phase, round(tree_rss_mb(self.pid), 1)))
        self.phase = phase

    def stop(self) -> None:
        self.mark("end")
        self._stop.set()
        self._thread.join()

    def phases(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for _, ph, mb in self.samples:
            d = out.setdefault(ph, {"first": mb, "peak": mb, "last": mb, "n": 0})
            d["peak"] = max(d["peak"], mb)
            d["last"] = mb
            d["n"] += 1
        return out


# --------------------------------------------------------------------------- the server
def start_server(port: int, parking: bool, log: pathlib.Path) -> subprocess.Popen:
    env = dict(os.environ, DASH_FORCE_CPU="1", DASH_PARKING="1" if parking else "0")
    if not parking:                    # the behaviour before issue 36: no heap trim either
        env["DASH_MALLOC_TRIM_SECONDS"] = "0"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc
        except Exception:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"the server did not start on port {port}; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------- the students
CONNECTED = "[data-testid=stApp][data-test-connection-state=CONNECTED]"


def lesson_paths() -> list[tuple[str, str]]:
    from core import registry
    out = []
    for row in registry.built():
        q = ("?" + urllib.parse.urlencode(row.live_query)) if row.live_query else ""
        out.append((row.key, f"/{row.key}{q}"))
    return out


async def walk(browser, url: str, idx: int, delay: float, seconds: float, log: list[dict],
               done: asyncio.Event | None = None) -> object:
    """One student: every lesson in turn, ▶ Train, ``seconds`` of training. Returns the context
    (still open: the session keeps its runs)."""
    await asyncio.sleep(delay)
    ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
    pg = await ctx.new_page()
    pg.set_default_timeout(90000)
    for key, path in lesson_paths():
        t = time.time()
        entry = {"student": idx, "lesson": key}
        try:
            await pg.goto(url + path)
            await pg.locator(CONNECTED).wait_for(state="attached", timeout=60000)
            run = pg.locator(f".st-key-{key}_run").first
            await run.wait_for()
            await run.get_by_role("radio", name="Train").click()
            await asyncio.sleep(seconds)
            steps = await pg.get_by_test_id("stMetricValue").first.inner_text(timeout=10000)
            entry["steps"] = int("".join(c for c in steps if c.isdigit()) or 0)
        except Exception as e:  # noqa: BLE001 - report and go on: memory is what is measured
            entry["error"] = f"{type(e).__name__}: {str(e)[:200]}"
        entry["s"] = round(time.time() - t, 1)
        log.append(entry)
        print(f"  student {idx} {key}: {entry.get('steps', entry.get('error'))} ({entry['s']} s)",
              file=sys.stderr, flush=True)
    return ctx


async def run_one(n: int, parking: bool, args) -> dict:
    from playwright.async_api import async_playwright
    log_path = ROOT / "benchmarks" / f".memory_server_{args.port}.log"
    proc = start_server(args.port, parking, log_path)
    url = f"http://127.0.0.1:{args.port}"
    sampler = Sampler(proc.pid)
    walks: list[dict] = []
    try:
        sampler.mark("idle_start")
        await asyncio.sleep(5)
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
            sampler.mark("home")
            ctx = await browser.new_context(viewport={"width": 1440, "height": 900})
            pg = await ctx.new_page()
            pg.set_default_timeout(90000)
            await pg.goto(url + "/")
            await pg.locator(CONNECTED).wait_for(state="attached", timeout=90000)
            await asyncio.sleep(5)
            await ctx.close()
            sampler.mark("home_idle")
            await asyncio.sleep(5)
            sampler.mark("students")
            ctxs = await asyncio.gather(*(walk(browser, url, i, i * args.stagger, args.seconds, walks)
                                          for i in range(n)))
            sampler.mark("held")
            await asyncio.sleep(5)
            for c in ctxs:
                await c.close()
            sampler.mark("closed")
            await asyncio.sleep(args.after)
            await browser.close()
    finally:
        sampler.stop()
        hwm = _field_kb(proc.pid, "VmHWM") / 1024
        stop_server(proc)
    phases = sampler.phases()
    return {"students": n, "parking": parking, "seconds": args.seconds, "stagger": args.stagger,
            "phases": phases, "vm_hwm_mb": round(hwm, 1),
            "errors": [w for w in walks if "error" in w],
            "steps": {f"{w['student']}:{w['lesson']}": w.get("steps") for w in walks},
            "samples": sampler.samples}


# --------------------------------------------------------------------------- where it goes
def breakdown(seconds: float) -> dict:
    """RSS deltas in this (headless) process: the imports, then each lesson's package, its
    default trainer built, trained ``seconds``, snapshotted, and the size of its checkpoint (what
    a parked run holds). Run in a fresh interpreter (``--breakdown``)."""
    import gc
    me = os.getpid()
    rss = lambda: tree_rss_mb(me)        # noqa: E731
    out: dict = {"python": round(rss(), 1)}
    last = rss()

    def step(name: str) -> None:
        nonlocal last
        gc.collect()
        now = rss()
        out[name] = round(now - last, 1)
        last = now

    import numpy  # noqa: F401
    step("numpy")
    import torch
    torch.set_num_threads(int(os.environ.get("DASH_TORCH_THREADS", "1")))
    step("torch")
    import streamlit  # noqa: F401
    step("streamlit")
    import core.ui  # noqa: F401
    step("core.ui (app framework)")
    import importlib

    from core import registry
    from core.checkpoints import checkpoint_bytes
    lessons = {}
    for row in registry.built():
        gc.collect()
        a = rss()
        importlib.import_module(row.package)
        for sub in ("charts", "text", "experiments"):
            try:
                importlib.import_module(f"{row.package}.{sub}")
            except ImportError:
                pass
        lessons[row.key] = {"import": round(rss() - a, 1)}
    defaults = registry.default_trainers()
    step("all lesson packages")
    import torch._dynamo  # noqa: F401  (torch.optim's first optimiser imports it: torch._disable_dynamo)
    step("torch._dynamo")
    for row in registry.built():
        gc.collect()
        b = rss()
        cls, cfg = defaults[row.key]
        trainer = cls(cfg, torch.device("cpu"))
        gc.collect()
        c = rss()
        t_end, steps = time.perf_counter() + seconds, 0
        while time.perf_counter() < t_end:
            trainer.step(max(1, min(50, steps // 4 + 1)))
            steps = trainer.step_count
        trainer.snapshot()
        gc.collect()
        d = rss()
        ckpt = checkpoint_bytes(trainer.state_dict())
        lessons[row.key].update({"build": round(c - b, 1),
                            "train+snapshot": round(d - c, 1), "steps": trainer.step_count,
                            "checkpoint_mb": round(len(ckpt) / 2**20, 3)})
        print(f"  {row.key}: {lessons[row.key]}", file=sys.stderr, flush=True)
        trainers = lessons.setdefault("_kept", [])
        trainers.append(trainer)      # kept alive, as a session that visited every lesson keeps them
    lessons.pop("_kept")
    gc.collect()
    out["lessons"] = lessons
    out["total"] = round(rss(), 1)
    return out


def table(results: list[dict]) -> str:
    cols = ("idle_start", "home_idle", "students", "held", "closed")
    lines = ["students parking | " + " | ".join(f"{c} (peak)" for c in cols) + " | VmHWM",
             "-" * 110]
    for r in results:
        ph = r["phases"]
        cells = [f"{ph[c]['last']:.0f} ({ph[c]['peak']:.0f})" if c in ph else "–" for c in cols]
        lines.append(f"{r['students']:>8} {'on' if r['parking'] else 'off':>7} | " + " | ".join(f"{c:>16}" for c in cells)
                     + f" | {r['vm_hwm_mb']:.0f}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--seconds", type=float, default=10.0, help="training time per lesson")
    ap.add_argument("--port", type=int, default=8611)
    ap.add_argument("--parking", choices=("on", "off", "both"), default="on")
    ap.add_argument("--stagger", type=float, default=3.0, help="seconds between students' starts")
    ap.add_argument("--after", type=float, default=15.0, help="seconds measured after the tabs closed")
    ap.add_argument("--out", default=None)
    ap.add_argument("--breakdown", action="store_true",
                    help="no server: RSS deltas of the imports and of each lesson's trainer in this process")
    args = ap.parse_args()
    if args.breakdown:
        os.environ.setdefault("DASH_FORCE_CPU", "1")
        got = breakdown(args.seconds)
        text = json.dumps(got, indent=1)
        if args.out:
            pathlib.Path(args.out).write_text(text)
        print(text)
        return
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.parking]
    results = []
    for parking in modes:
        for n in args.students:
            print(f"== {n} student(s), parking {'on' if parking else 'off'}", file=sys.stderr, flush=True)
            results.append(asyncio.run(run_one(n, parking, args)))
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "runs": results}
    try:
        import streamlit
        import torch
        out["machine"].update(torch=torch.__version__, streamlit=streamlit.__version__)
    except ImportError:
        pass
    text = json.dumps(out, indent=1)
    if args.out:
        pathlib.Path(args.out).write_text(text)
    print(text)
    print(table(results))


if __name__ == "__main__":
    main()
