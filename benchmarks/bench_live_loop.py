"""The 1D GAN inside the real live loop: a Streamlit server, a Chromium tab, Train pressed.

    python benchmarks/bench_live_loop.py [--seconds 20]

Starts ``streamlit run Home.py`` with DASH_TRACE_TICKS=1 (one line per frame on stdout), opens
the 1D GAN page in Debian's Chromium, measures the time from the Train click to the first
moved counter in the browser, lets it train, and prints one JSON object: training steps/s in
the loop, frames per second, server time per frame (snapshot + draw), the ratio to headless
speed (benchmarks/bench_gan1d.py's number, measured here too), the server's RSS with one
session (peak, from /proc) and whether the CPU went idle after the tab closed.
Note: the browser runs on the same machine and takes CPU the server would have on a real
deployment, so these figures are pessimistic.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from benchmarks.bench_gan1d import ours
    import torch
    torch.set_num_threads(1)
    headless = max(ours(2000) for _ in range(2))

    port = free_port()
    env = dict(os.environ, DASH_TRACE_TICKS="1", PYTHONUNBUFFERED="1")
    log_path = "/tmp/bench_live_loop.log"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
                               "--server.headless", "true"], cwd=ROOT, env=env,
                              stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            for _ in range(60):
                try:
                    page.goto(url + "/1D_GAN")
                    break
                except Exception:
                    time.sleep(0.5)
            page.locator(".st-key-gan1d_train button").first.wait_for(timeout=60000)
            page.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=60000)
            time.sleep(1)
            rss_idle = proc_status(server.pid, "VmRSS")
            t_click = time.perf_counter()
            page.locator(".st-key-gan1d_train button").first.click()
            page.wait_for_function(
                "() => { const m = document.querySelector('[data-testid=stMetricValue]');"
                " return m && parseInt(m.innerText.replace(/[^0-9]/g, '')) > 0; }", timeout=20000)
            first_chart = time.perf_counter() - t_click
            time.sleep(a.seconds)
            browser.close()
        t_closed = time.perf_counter()
        time.sleep(2.0)
        c0 = cpu_seconds(server.pid)
        time.sleep(3.0)
        idle_cpu = (cpu_seconds(server.pid) - c0) / 3.0
        peak_rss = proc_status(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(10)
    ticks = [tuple(float(v) for v in re.findall(r"t=([\d.]+) steps=(\d+) frame_ms=([\d.]+)", line)[0])
             for line in open(log_path) if line.startswith("TICK") and "frame_ms" in line]
    ticks = [t for t in ticks if t[1] > 0 and t[0] < t_closed + 1e9]
    # skip the first 2 s (warm-up), measure over the rest of the run
    t_start = ticks[0][0] + 2.0
    run = [t for t in ticks if t[0] >= t_start]
    dt = run[-1][0] - run[0][0]
    steps_per_s = (run[-1][1] - run[0][1]) / dt
    frames_per_s = (len(run) - 1) / dt
    frame_ms = sorted(t[2] for t in run)
    print(json.dumps({
        "benchmark": "gan1d_live_loop", "seconds": a.seconds, "headless_steps_per_s": round(headless, 1),
        "live_steps_per_s": round(steps_per_s, 1), "live_over_headless": round(steps_per_s / headless, 3),
        "frames_per_s": round(frames_per_s, 2), "frame_ms_median": frame_ms[len(frame_ms) // 2],
        "frame_ms_p90": frame_ms[int(len(frame_ms) * 0.9)], "first_chart_after_train_s": round(first_chart, 3),
        "server_rss_idle_mb": round(rss_idle / 1024, 1), "server_rss_peak_mb": round(peak_rss / 1024, 1),
        "server_cpu_after_tab_closed": round(idle_cpu, 3),
        "targets": {"live_over_headless": 0.75, "frames_per_s": 5, "first_chart_after_train_s": 1.0,
                    "server_rss_peak_mb": 450},
    }))


if __name__ == "__main__":
    main()
