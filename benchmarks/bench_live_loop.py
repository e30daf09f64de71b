"""Every lesson inside the real live loop: a Streamlit server, one Chromium tab, Train pressed.

    python benchmarks/bench_live_loop.py [--seconds 12] [--lessons gan1d lstm ...]

Starts ``streamlit run Home.py`` with DASH_TRACE_TICKS=1 (one line per frame on stdout) and, for
each lesson of the lesson table, at its defaults:
* ``headless_steps_per_s``: the lesson's default trainer alone in this process (no server);
* ``first_move_s``: from the Train click until the browser's step counter moves;
* ``live_steps_per_s``, ``live_over_headless``, ``frames_per_s``: from the server's frame trace,
  over the run after a 2 s warm-up;
* ``server_ms_per_frame``: median server time to snapshot and draw one frame (p90 too);
* ``browser_ms_per_frame``: Chromium's main-thread task time (CDP Performance.TaskDuration)
  while training, divided by the frames it received: what the browser pays to paint a frame;
* ``pause_s``: from the Pause click until the browser's counter last changed (one click);
* ``leave_s``: while training, from a click on the next lesson in the sidebar until that
  lesson's title shows.
Prints one JSON object. The browser shares the server's 2 cores here, so the figures are
pessimistic; on a real deployment it runs on the student's laptop.

    python benchmarks/bench_live_loop.py --ab DASH_DETAIL_EVERY=1 [--repeat 3] [--lessons ...]

A paired comparison: a second server runs with the given environment, and each lesson is measured
on A, then B, ``--repeat`` times, each window right after its own headless measurement. Runs of
the same code differ by up to 10 % here (the machine's speed drifts), so compare B with A in
the same run, never with an earlier one. Prints the median live/headless of each side per lesson.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("OMP_NUM_THREADS", "1")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
COUNTER_JS = ("() => { const m = document.querySelector('[data-testid=stMetricValue]');"
              " return m ? parseInt(m.innerText.replace(/[^0-9]/g, '')) || 0 : -1; }")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def headless(key: str, seconds: float = 3.0) -> float:
    """Steps/s of the lesson's default trainer alone, one torch thread, CPU."""
    import torch
    torch.set_num_threads(1)
    pkg = importlib.import_module(f"core.lessons.{key}")
    trainer = pkg.Trainer(pkg.Trainer.Config(), torch.device("cpu"))
    trainer.step(2)                                 # warm-up
    n, t0 = 0, time.perf_counter()
    k = 1
    while time.perf_counter() - t0 < seconds:
        trainer.step(k)
        n += k
        k = min(k * 2, 256)
        if getattr(trainer, "finished", False) is True:
            break
    return n / (time.perf_counter() - t0)


def counter(page) -> int:
    return page.evaluate(COUNTER_JS)


def wait_still(page, quiet: float = 1.0, limit: float = 15.0) -> float:
    """Seconds from now until the counter last changed (it must then stay still for ``quiet``)."""
    t0 = time.perf_counter()
    last, last_change = counter(page), t0
    while time.perf_counter() - last_change < quiet and time.perf_counter() - t0 < limit:
        time.sleep(0.03)
        now = counter(page)
        if now != last:
            last, last_change = now, time.perf_counter()
    return last_change - t0


def task_ms(cdp) -> float:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return 1000 * metrics["TaskDuration"]


def measure(page, cdp, url: str, key: str, next_title: str, seconds: float) -> dict:
    from urllib.parse import urlencode
    from core import registry
    page.goto(f"{url}/{key}?{urlencode(registry.lesson(key).live_query)}")
    run = page.locator(f".st-key-{key}_run")
    run.wait_for(timeout=60000)
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=60000)
    time.sleep(1.0)
    t_click = time.perf_counter()
    run.get_by_role("radio", name="Train").click()
    page.wait_for_function(COUNTER_JS.replace("return m ?", "const v = m ?").replace(": -1; }", ": -1; return v > 0; }"),
                           timeout=30000)
    first_move = time.perf_counter() - t_click
    t_start = time.perf_counter()
    busy0 = task_ms(cdp)
    time.sleep(seconds)
    busy = task_ms(cdp) - busy0
    window = (t_start, time.perf_counter())
    t_pause = time.perf_counter()
    run.get_by_role("radio", name="Pause").click()
    pause_s = (t_pause + wait_still(page)) - t_pause
    run.get_by_role("radio", name="Train").click()
    time.sleep(2.0)
    t_leave = time.perf_counter()
    old = page.locator("h1").first.inner_text()
    page.get_by_test_id("stSidebarNavLink").filter(has_text=next_title).first.click()
    # the new page shows: its title replaces this one's
    page.wait_for_function("(old) => { const h = document.querySelector('h1'); return h && h.innerText !== old; }",
                           arg=old, timeout=30000)
    return {"first_move_s": round(first_move, 2), "pause_s": round(pause_s, 2),
            "leave_s": round(time.perf_counter() - t_leave, 2), "window": window, "browser_busy_ms": busy}


def frames(log_path: str, key: str, window: tuple[float, float], t_offset: float) -> dict:
    """Frame statistics of lesson ``key`` from the server's trace inside the browser's window."""
    pat = re.compile(rf"TICK lesson={key} t=([\d.]+) steps=(\d+) frame_ms=([\d.]+)")
    ticks = [(float(t) - t_offset, int(s), float(ms)) for t, s, ms in
             (m.groups() for m in map(pat.match, open(log_path)) if m)]
    run = [t for t in ticks if window[0] + 2.0 <= t[0] <= window[1] and t[1] > 0]
    if len(run) < 3:
        return {"frames": len(run)}
    dt = run[-1][0] - run[0][0]
    ms = sorted(t[2] for t in run)
    return {"frames": len(run), "live_steps_per_s": round((run[-1][1] - run[0][1]) / dt, 1),
            "frames_per_s": round((len(run) - 1) / dt, 2), "server_ms_per_frame": ms[len(ms) // 2],
            "server_ms_p90": ms[int(len(ms) * 0.9)]}


def start_server(extra_env: dict[str, str], log_path: str) -> tuple[subprocess.Popen, str, str]:
    """(server, url, its frame-trace log) of ``streamlit run Home.py`` with ``extra_env``."""
    port = free_port()
    env = dict(os.environ, DASH_TRACE_TICKS="1", PYTHONUNBUFFERED="1", **extra_env)
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
                               "--server.headless", "true"], cwd=ROOT, env=env,
                              stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}", log_path


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    for _ in range(120):
        try:
            page.goto(url)
            break
        except Exception:
            time.sleep(0.5)
    return page, cdp


def one_lesson(page, cdp, url: str, log_path: str, lesson, headless_rate: float, seconds: float) -> dict:
    from core import registry
    nxt = registry.built()[(registry.built().index(lesson) + 1) % len(registry.built())]
    r = measure(page, cdp, url, lesson.key, nxt.title, seconds)
    # the trace's t= is the server's perf_counter: same clock (CLOCK_MONOTONIC) as ours on Linux
    f = frames(log_path, lesson.key, r.pop("window"), 0.0)
    busy = r.pop("browser_busy_ms")
    if f.get("frames_per_s"):
        f["live_over_headless"] = round(f["live_steps_per_s"] / headless_rate, 3)
        f["browser_ms_per_frame"] = round(busy / max(f["frames"], 1), 1)
    return {"headless_steps_per_s": round(headless_rate, 1), **f, **r}


def main() -> None:
    from core import registry
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--lessons", nargs="*", default=[l.key for l in registry.built()])
    ap.add_argument("--ab", nargs="*", default=None, metavar="NAME=VALUE",
                    help="environment of a second server to compare with, lesson by lesson")
    ap.add_argument("--repeat", type=int, default=3, help="A/B pairs per lesson (with --ab)")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    order = [l for l in registry.built() if l.key in a.lessons]
    sides = {"A": {}} if a.ab is None else {"A": {}, "B": dict(kv.split("=", 1) for kv in a.ab)}
    servers = {name: start_server(env, f"/tmp/bench_live_loop_{name}.log") for name, env in sides.items()}
    out: dict = {"benchmark": "live_loop_per_lesson", "seconds": a.seconds, "lessons": {}}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            pages = {name: open_page(browser, url) for name, (_, url, _) in servers.items()}
            time.sleep(3.0)      # let the servers and tabs settle before the first headless measurement
            for lesson in order:
                runs: dict[str, list] = {name: [] for name in servers}
                for _ in range(1 if a.ab is None else a.repeat):
                    for name, (_, url, log_path) in servers.items():
                        page, cdp = pages[name]
                        runs[name].append(one_lesson(page, cdp, url, log_path, lesson, headless(lesson.key), a.seconds))
                if a.ab is None:
                    out["lessons"][lesson.key] = runs["A"][0]
                    continue
                summary = {}
                for name, rs in runs.items():
                    ratios = [r["live_over_headless"] for r in rs if "live_over_headless" in r]
                    summary[name] = {"live_over_headless": ratios,
                                     "median": statistics.median(ratios) if ratios else None,
                                     "browser_ms_per_frame": [r.get("browser_ms_per_frame") for r in rs],
                                     "server_ms_per_frame": [r.get("server_ms_per_frame") for r in rs],
                                     "frames_per_s": [r.get("frames_per_s") for r in rs]}
                out["lessons"][lesson.key] = summary
                print(json.dumps({lesson.key: {k: v["median"] for k, v in summary.items()}}), file=sys.stderr, flush=True)
            browser.close()
    finally:
        for server, _, _ in servers.values():
            server.terminate()
            server.wait(10)
    if a.ab is not None:
        out["b_env"] = sides["B"]
    out["targets"] = {"live_over_headless": 0.75, "frames_per_s": 5, "first_move_s": 1.0, "pause_s": 0.5,
                      "leave_s": 1.0}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
