"""Load test: N concurrent sessions training on one Streamlit server (issue 7, "Load").

    python benchmarks/bench_load.py [--sessions 1 10 30] [--seconds 60] [--page 1D_GAN]
                                    [--browser-probe] [--out results.json]

For each N, a fresh server is started (``python -m streamlit run Home.py --server.headless true
--server.port P``; the environment is passed through, so DASH_MAX_TRAINERS etc. apply), N
sessions open the lesson page, press Train, and train for ``--seconds``. One JSON object is
printed at the end (and written to ``--out``), one entry per N, with:

* ``steps_per_s``: per-session training speed (min / median / max over sessions), read from the
  live panel's "… trained" counter as the server sends it, over the measuring window (from 3 s
  after the last session started training to the end), not counting the seconds a session was
  paused for the click probe. ``all_progress`` says whether every session trained in the window.
  ``frames_per_s``: how often each session received a new counter (what a student sees move).
* ``server``: RSS (MB) idle before any session, with the N sessions open but idle, peak while
  training (sampled every 0.5 s, plus VmHWM), after the sessions closed; CPU use in cores
  (1.0 = one core busy) idle before, while training, and after the sessions closed.
* ``clicks``: response times (s) from sending a click to the server's answer arriving, for
  Pause (until the button comes back labelled "Train"), Step (until the counter moved by the
  step) and Train (until the counter moves again). Each session does one Pause → Step → Train
  cycle at a staggered time inside the window, so the clicks happen under full load.
* ``browser_probe`` (``--browser-probe``): one real Chromium tab (640×480) also training on the
  same server, clicking Pause / Train every few seconds; the time until its DOM shows the new
  button label / a moved counter. This includes the browser's own rendering.

How sessions are emulated: not with browsers (30 Chromium tabs would take the 2 cores the server
needs) but with light websocket clients speaking Streamlit's own protocol (streamlit.proto
BackMsg / ForwardMsg over ws://127.0.0.1:P/_stcore/stream), doing what the frontend does:
* on connect, a ``rerun_script`` BackMsg with the page's URL name (``page_name``);
* the ids of the widgets come from the ForwardMsg deltas (the Train button is the element whose
  id ends with ``-<short>_train``); a click is a ``rerun_script`` whose ``widget_states`` holds
  ``trigger_value=True`` for that id. Other widgets are not sent: the server keeps their last
  values, which equals a browser that sends unchanged values.
* ``run_every`` fragments are scheduled by the browser: an ``auto_rerun`` ForwardMsg gives the
  fragment id and interval, and the client then sends a ``rerun_script`` with that
  ``fragment_id`` and ``is_auto_rerun`` every interval (a plain timer, like the frontend's
  ``setInterval``), until a ``stop_auto_rerun`` or a full-app run's ``new_session`` clears it.
The client does not cache ForwardMsgs, so the server sends every message in full (as to a
browser whose cache missed). The client's own CPU use is reported (``client_cpu_cores``): it
shares the machine, which makes the server figures slightly pessimistic.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGETS = {"click_s": 1.0, "server_rss_peak_mb": 1024, "one_idle_session_rss_mb": 450}
WARMUP_S = 3.0


# --------------------------------------------------------------------------- server & /proc

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def start_server(port: int, log_path: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc
        except Exception:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the server did not start; see {log_path}")


async def cpu_over(pid: int, seconds: float) -> float:
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


# --------------------------------------------------------------------------- protocol client

class Session:
    """One emulated browser tab (see the module docstring)."""

    def __init__(self, idx: int, port: int, page: str) -> None:
        self.idx, self.port, self.page = idx, port, page
        self.ws = None
        self.page_hash = ""
        self.widget_ids: dict[str, str] = {}     # user key -> widget id
        self.train_key = ""                      # e.g. "gan1d_train"
        self.train_label = ""
        self.steps = -1
        self.samples: list[tuple[float, int]] = []   # (time, counter) at each counter message
        self.finished_runs = 0
        self.timers: dict[str, asyncio.Task] = {}
        self.cond = asyncio.Condition()
        self.reader: asyncio.Task | None = None
        self.errors: list[str] = []
        self.paused_s = 0.0
        self.clicks: dict[str, float | None] = {}
        self.closing = False

    # -- sending
    async def _send(self, fragment_id: str = "", trigger: str | None = None, auto: bool = False,
                    first: bool = False) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        if first or not self.page_hash:
            cs.page_name = self.page
        else:
            cs.page_script_hash = self.page_hash
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = auto
        if trigger is not None:
            w = cs.widget_states.widgets.add()
            w.id = self.widget_ids[trigger]
            w.trigger_value = True
        try:
            await self.ws.send(msg.SerializeToString())
        except Exception as e:  # connection gone
            self.errors.append(f"send: {e}")

    async def click(self, key: str) -> None:
        await self._send(trigger=key)

    async def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        # the frontend: setInterval(() => sendUpdateWidgetsMessage(fragmentId, true), interval)
        while True:
            await asyncio.sleep(interval)
            await self._send(fragment_id=fragment_id, auto=True)

    def _clear_timers(self, ids: list[str] | None = None) -> None:
        for fid in list(self.timers) if ids is None else ids:
            t = self.timers.pop(fid, None)
            if t is not None:
                t.cancel()

    # -- receiving
    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        try:
            async for data in self.ws:
                m = ForwardMsg()
                m.ParseFromString(data)
                kind = m.WhichOneof("type")
                changed = False
                if kind == "navigation":
                    # the frontend's currentPageScriptHash: the page whose URL name we opened
                    for ap in m.navigation.app_pages:
                        if ap.url_pathname == self.page:
                            self.page_hash = ap.page_script_hash
                elif kind == "new_session":
                    if not list(m.metadata.run.fragment_ids):      # a full-app run
                        self._clear_timers()
                elif kind == "auto_rerun":
                    fid, interval = m.auto_rerun.fragment_id, m.auto_rerun.interval
                    if fid and fid not in self.timers:
                        self.timers[fid] = asyncio.ensure_future(self._auto_rerun(fid, interval))
                elif kind == "stop_auto_rerun":
                    self._clear_timers(list(m.stop_auto_rerun.fragment_ids))
                elif kind == "script_finished":
                    self.finished_runs += 1
                    changed = True
                elif kind == "delta" and m.delta.WhichOneof("type") == "new_element":
                    el = m.delta.new_element
                    et = el.WhichOneof("type")
                    if et == "metric":
                        if el.metric.label.endswith(" trained") and self.steps is not None:
                            digits = re.sub(r"[^0-9]", "", el.metric.body)
                            self.steps = int(digits or 0)
                            self.samples.append((time.perf_counter(), self.steps))
                            changed = True
                    elif et in ("button", "slider", "selectbox", "radio", "number_input", "checkbox"):
                        wid = getattr(el, et).id
                        key = wid.rsplit("-", 1)[-1] if "-" in wid else wid
                        self.widget_ids[key] = wid
                        if et == "button" and key.endswith("_train"):
                            self.train_key, self.train_label = key, el.button.label
                            changed = True
                if changed:
                    async with self.cond:
                        self.cond.notify_all()
        except Exception as e:
            if not self.closing:
                self.errors.append(f"read: {type(e).__name__}: {e}")
        finally:
            self._clear_timers()

    async def wait(self, predicate, timeout: float) -> bool:
        try:
            async with self.cond:
                await asyncio.wait_for(self.cond.wait_for(predicate), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    # -- life cycle
    async def open(self, timeout: float = 120) -> None:
        import websockets
        self.closing = False
        # no keep-alive pings: a busy server answers late and the client would drop the session
        self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=None,
                                           ping_interval=None, open_timeout=timeout)
        self.reader = asyncio.ensure_future(self._read())
        await self._send(first=True)
        if not await self.wait(lambda: self.finished_runs >= 1 and self.train_key and self.steps >= 0, timeout):
            raise RuntimeError(f"session {self.idx}: the page did not load in {timeout} s")

    async def close(self) -> None:
        self.closing = True
        self._clear_timers()
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait([self.reader], timeout=5)

    # -- actions with a measured answer
    async def press_train(self, timeout: float) -> float | None:
        """Train; seconds until the counter moved (None if it did not within ``timeout``)."""
        start, t0 = self.steps, time.perf_counter()
        await self.click(self.train_key)
        ok = await self.wait(lambda: self.steps > start, timeout)
        return time.perf_counter() - t0 if ok else None

    async def click_cycle(self, timeout: float = 20) -> None:
        """Pause → Step → Train, each timed from sending to the server's answer arriving."""
        if "Pause" not in self.train_label:    # not training (a lost Train click): say so
            self.errors.append("not training at the click probe")
            return
        t_pause = time.perf_counter()
        await self.click(self.train_key)
        ok = await self.wait(lambda: "Train" in self.train_label, timeout)
        self.clicks["pause_s"] = time.perf_counter() - t_pause if ok else None
        await asyncio.sleep(0.3)
        before = self.steps
        step_key = self.train_key[: -len("train")] + "step_0"
        if step_key in self.widget_ids:
            t0 = time.perf_counter()
            await self.click(step_key)
            ok = await self.wait(lambda: self.steps > before, timeout)
            self.clicks["step_s"] = time.perf_counter() - t0 if ok else None
            await asyncio.sleep(0.3)
        t0 = time.perf_counter()
        self.clicks["train_s"] = await self.press_train(timeout)
        self.paused_s = time.perf_counter() - t_pause

    def rate(self, t_a: float, t_b: float) -> tuple[float, float]:
        """(steps/s, counter updates/s) between t_a and t_b, paused time excluded."""
        inside = [s for s in self.samples if t_a <= s[0] <= t_b]
        if len(inside) < 2:
            return 0.0, len(inside) / (t_b - t_a)
        (ta, sa), (tb, sb) = inside[0], inside[-1]
        active = max(1e-3, tb - ta - self.paused_s)
        return max(0.0, sb - sa) / active, (len(inside) - 1) / (tb - ta)


# --------------------------------------------------------------------------- browser probe

async def browser_probe(url: str, stop: asyncio.Event, every: float = 6.0) -> dict:
    from playwright.async_api import async_playwright
    out: dict = {"pause_s": [], "train_s": [], "errors": []}
    js_counter = ("() => { const m = document.querySelector('[data-testid=stMetricValue]');"
                  " return m ? parseInt(m.innerText.replace(/[^0-9]/g, '') || '0') : -1; }")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 640, "height": 480})
        page.set_default_timeout(60000)
        try:
            await page.goto(url)
            button = page.locator(".st-key-gan1d_train button, [class*='st-key-'][class*='_train'] button").first
            await button.wait_for()
            t0 = time.perf_counter()
            await button.click()
            await page.wait_for_function(js_counter.replace("return m ?", "return m &&").replace(
                ": -1; }", "> 0; }"))
            out["first_move_s"] = round(time.perf_counter() - t0, 3)
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), every)
                    break
                except asyncio.TimeoutError:
                    pass
                try:
                    t0 = time.perf_counter()
                    await button.click()
                    await page.wait_for_function(
                        "() => [...document.querySelectorAll('[class*=_train] button')]"
                        ".some(b => b.innerText.includes('Train'))", timeout=20000)
                    out["pause_s"].append(round(time.perf_counter() - t0, 3))
                    await asyncio.sleep(0.5)
                    before = await page.evaluate(js_counter)
                    t0 = time.perf_counter()
                    await button.click()
                    await page.wait_for_function(f"() => ({js_counter})() > {before}", timeout=20000)
                    out["train_s"].append(round(time.perf_counter() - t0, 3))
                except Exception as e:
                    out["errors"].append(f"{type(e).__name__}: {str(e)[:120]}")
        finally:
            await browser.close()
    return out


# --------------------------------------------------------------------------- one N

def summary(values: list[float | None]) -> dict:
    got = [v for v in values if v is not None]
    if not got:
        return {"n": 0, "missed": len(values)}
    got.sort()
    return {"n": len(got), "missed": len(values) - len(got), "min": round(got[0], 3),
            "median": round(statistics.median(got), 3),
            "p90": round(got[min(len(got) - 1, int(0.9 * len(got)))], 3), "max": round(got[-1], 3)}


async def run_one(n: int, seconds: float, page: str, probe: bool) -> dict:
    port = free_port()
    log_path = f"/tmp/bench_load_server_{n}.log"
    server = start_server(port, log_path)
    pid = server.pid
    res: dict = {"sessions": n, "seconds": seconds, "page": page}
    sessions: list[Session] = []
    try:
        await asyncio.sleep(2.0)
        res_server: dict = {"rss_idle_before_mb": round(rss_mb(pid), 1),
                            "cpu_idle_before_cores": round(await cpu_over(pid, 3.0), 3)}
        # open the sessions (a few at a time, as a class arriving), all idle on the page
        t0 = time.perf_counter()
        sessions = [Session(i, port, page) for i in range(n)]
        for i in range(0, n, 5):
            await asyncio.gather(*(s.open() for s in sessions[i:i + 5]))
        res["open_all_s"] = round(time.perf_counter() - t0, 2)
        await asyncio.sleep(2.0)
        res_server["rss_sessions_open_idle_mb"] = round(rss_mb(pid), 1)

        # sample RSS and CPU while training
        samples: list[tuple[float, float, float]] = []
        stop_sampling = asyncio.Event()

        async def sampler() -> None:
            while not stop_sampling.is_set():
                samples.append((time.perf_counter(), rss_mb(pid), cpu_seconds(pid)))
                try:
                    await asyncio.wait_for(stop_sampling.wait(), 0.5)
                except asyncio.TimeoutError:
                    pass

        sampling = asyncio.ensure_future(sampler())
        probe_stop = asyncio.Event()
        probe_task = (asyncio.ensure_future(browser_probe(f"http://127.0.0.1:{port}/{page}", probe_stop))
                      if probe else None)
        client_cpu0 = own_cpu_seconds()

        # press Train everywhere (staggered by 50 ms, like students clicking)
        async def start(s: Session, delay: float) -> float | None:
            await asyncio.sleep(delay)
            return await s.press_train(timeout=60)

        first_moves = await asyncio.gather(*(start(s, 0.05 * i) for i, s in enumerate(sessions)))
        t_a = time.perf_counter() + WARMUP_S
        t_b = t_a + seconds

        # one Pause → Step → Train cycle per session, spread over 20 %–80 % of the window
        async def cycle(s: Session, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            await s.click_cycle()

        cycles = [cycle(s, t_a + seconds * (0.2 + 0.6 * i / max(1, n))) for i, s in enumerate(sessions)]
        await asyncio.gather(*cycles)
        await asyncio.sleep(max(0.0, t_b - time.perf_counter()))
        client_cpu = (own_cpu_seconds() - client_cpu0) / (time.perf_counter() - (t_a - WARMUP_S))
        if probe_task is not None:
            probe_stop.set()
            try:
                res["browser_probe"] = await probe_task
            except Exception as e:
                res["browser_probe"] = {"error": f"{type(e).__name__}: {e}"}
        stop_sampling.set()
        await sampling

        rates = [s.rate(t_a, t_b) for s in sessions]
        steps = [r[0] for r in rates]
        inside = [x for x in samples if t_a <= x[0] <= t_b]
        res["steps_per_s"] = {"min": round(min(steps), 1), "median": round(statistics.median(steps), 1),
                              "max": round(max(steps), 1), "total": round(sum(steps), 1),
                              "all_progress": all(v > 0 for v in steps)}
        res["frames_per_s"] = {"min": round(min(r[1] for r in rates), 2),
                               "median": round(statistics.median(r[1] for r in rates), 2),
                               "max": round(max(r[1] for r in rates), 2)}
        res["first_move_after_train_s"] = summary(first_moves)
        res["clicks"] = {k: summary([s.clicks.get(k) for s in sessions]) for k in ("pause_s", "step_s", "train_s")}
        res_server["rss_peak_mb"] = round(max(x[1] for x in samples), 1)
        res_server["vm_hwm_mb"] = round(rss_mb(pid, "VmHWM"), 1)
        res_server["cpu_training_cores"] = round((inside[-1][2] - inside[0][2]) / (inside[-1][0] - inside[0][0]), 3) \
            if len(inside) > 1 else None
        res["client_cpu_cores"] = round(client_cpu, 3)

        # close every session; CPU must fall back to idle
        await asyncio.gather(*(s.close() for s in sessions))
        errors = [f"{s.idx}: {e}" for s in sessions for e in s.errors]
        if errors:
            res["session_errors"] = errors[:10]
        await asyncio.sleep(3.0)
        res_server["cpu_after_close_cores"] = round(await cpu_over(pid, 5.0), 3)
        res_server["rss_after_close_mb"] = round(rss_mb(pid), 1)
        res["server"] = res_server
        clicks = [v for k in ("pause_s", "step_s", "train_s") for s in sessions
                  for v in [s.clicks.get(k)]]
        worst_click = max((c for c in clicks if c is not None), default=None)
        res["meets"] = {
            "all_progress": res["steps_per_s"]["all_progress"],
            "click_le_1s": worst_click is not None and None not in clicks and worst_click <= TARGETS["click_s"],
            "rss_peak_le_1gb": res_server["rss_peak_mb"] <= TARGETS["server_rss_peak_mb"],
            "cpu_idle_after_close": res_server["cpu_after_close_cores"] < 0.05,
        }
        if n == 1:
            res["meets"]["one_idle_session_le_450mb"] = \
                res_server["rss_sessions_open_idle_mb"] <= TARGETS["one_idle_session_rss_mb"]
    finally:
        for s in sessions:
            s._clear_timers()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--page", default="1D_GAN", help="the lesson's URL name (default 1D_GAN)")
    ap.add_argument("--browser-probe", action="store_true",
                    help="also keep one Chromium tab training and clicking on the server")
    ap.add_argument("--out", help="also write the JSON here")
    a = ap.parse_args()
    runs = []
    for n in a.sessions:
        r = asyncio.run(run_one(n, a.seconds, a.page, a.browser_probe))
        print(json.dumps(r), file=sys.stderr, flush=True)
        runs.append(r)
    out = {"benchmark": "load", "cpu_count": os.cpu_count(),
           "env": {k: os.environ[k] for k in ("DASH_MAX_TRAINERS", "DASH_TORCH_THREADS") if k in os.environ},
           "targets": TARGETS, "runs": runs}
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
