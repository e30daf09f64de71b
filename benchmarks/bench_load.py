"""Load test: N concurrent sessions training on one Streamlit server, or on W workers behind the
lecture-hall proxy (issues 7 and 20).

    python benchmarks/bench_load.py [--sessions 1 10 30] [--seconds 60] [--page gan1d]
                                    [--workers 1 2] [--browser-probe] [--no-headless] [--out results.json]

Without ``--workers`` a plain server is started for each N (``python -m streamlit run Home.py
--server.headless true --server.port P``). With ``--workers W …`` the lecture hall is started
instead, once per (W, N): ``scripts/serve.py --workers W`` (HAProxy in front of W Streamlit
processes, all on loopback ports), and every session goes through the proxy. The environment is
passed through either way, so DASH_MAX_TRAINERS etc. apply. N sessions open the lesson page, choose
▶ Train and train for ``--seconds``. One JSON object is printed at the end (and written to
``--out``), one entry per run, with:

* ``steps_per_s``: per-session training speed (min / median / max over sessions) and ``total``
  (all sessions together), read from the live panel's "… trained" counter as the server sends
  it, over the measuring window (from 3 s after the last session started training to the end),
  not counting the seconds a session was paused for the click probe. ``all_progress`` says
  whether every session trained in the window. ``frames_per_s``: how often each session received
  a new counter (what a student sees move). ``headless_steps_per_s`` (gan1d only): the same
  trainer alone, no server, one thread, measured in the same invocation, and
  ``total_vs_headless`` = total / headless.
* ``first_move_after_train_s``: from choosing Train to the first counter that moved.
* ``clicks``: response times (s) from sending a click to the server's answer arriving, for
  Pause (until the live panel reads "paused"), Step (until the counter moved by the step) and
  Train (until the counter moves again). Each session does one Pause → Step → Train cycle at a
  staggered time inside the window, so the clicks happen under full load.
* ``workers_detail``: per worker process (one entry, ``server``, without ``--workers``):
  sessions it served (from HAProxy's cookie), their total steps/s, RSS (MB) idle before any
  session, with the sessions open but idle, peak while training (sampled every 0.5 s, plus
  VmHWM), after the sessions closed; CPU in cores (1.0 = one core busy) idle before, while
  training, and 3–8 s and 15–20 s after the sessions closed. ``server`` sums them (RSS summed
  over each worker's peak). With the proxy, ``haproxy``: its CPU and RSS, and from its status
  page each worker's failed health checks and DOWN transitions during the run (a busy worker
  must not be taken for a dead one).
* ``machine``: the machine is shared, so how busy all its cores were in the window and how much
  of that was other processes (``others_cores``), with the 1-minute load average.
  ``steps_per_s.per_busy_core`` = total steps/s ÷ the cores the workers actually got: the figure
  to scale up from when the workers did not get whole cores.
* ``scaling`` (several ``--workers``): total steps/s with the most workers ÷ with the fewest,
  per N (issue 20's target: ≥ 1.8 from 1 to 2 workers on 2 cores).
* ``browser_probe`` (``--browser-probe``): one real Chromium tab (640×480) also training on the
  same address, choosing Pause / Train every few seconds; the time until its DOM shows the
  panel paused / a moved counter. This includes the browser's own rendering.

How sessions are emulated: not with browsers (30 Chromium tabs would take the 2 cores the server
needs) but with light websocket clients speaking Streamlit's own protocol (streamlit.proto
BackMsg / ForwardMsg over ws://127.0.0.1:P/_stcore/stream), doing what the frontend does:
* with the proxy, an HTTP GET of the page first, as a browser loads it: HAProxy answers with its
  stickiness cookie (``DASH_WORKER=w2``), which the client sends on the websocket upgrade, so the
  session lives on the worker HAProxy picked (and the client knows which one);
* on connect, a ``rerun_script`` BackMsg with the page's URL name (``page_name``);
* the ids of the widgets come from the ForwardMsg deltas. Train/Pause is a segmented control
  (``st.segmented_control`` keyed ``<lesson>_run``, options "▶ Train" / "⏸ Pause", see
  core/ui/loop.py): its value travels in ``WidgetState.string_array_value`` as the chosen option's
  label (``["▶ Train"]``; ``[]`` = nothing chosen), and like the browser the client re-sends its
  current value with every rerun, fragment ticks included. When the server sets the value itself
  (Step pauses), the ``button_group`` delta carries ``set_value`` and ``raw_values``, which the
  client adopts, as the browser does. Buttons (Step) are one-shot ``trigger_value=True``. Other
  widgets are not sent: the server keeps their last values, which equals a browser that sends
  unchanged values.
* ``run_every`` fragments are scheduled by the browser: an ``auto_rerun`` ForwardMsg gives the
  fragment id and interval, and the client then sends a ``rerun_script`` with that
  ``fragment_id`` and ``is_auto_rerun`` every interval (a plain timer, like the frontend's
  ``setInterval``), until a ``stop_auto_rerun`` or a full-app run's ``new_session`` clears it.
The client does not cache ForwardMsgs, so the server sends every message in full (as to a
browser whose cache missed). The client's own CPU use is reported (``client_cpu_cores``): it
shares the machine, which makes the server figures slightly pessimistic.

Everything runs on loopback addresses; every server started here is stopped at the end of its run.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import glob
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGETS = {"click_s": 1.0, "server_rss_peak_mb": 1024, "one_idle_session_rss_mb": 450,
           "first_move_s": 1.0, "scaling_1_to_2_workers": 1.8}
WARMUP_S = 3.0
TRAIN, PAUSE = "▶ Train", "⏸ Pause"      # core/ui/loop.py
COOKIE = "DASH_WORKER"                    # scripts/serve.py


# --------------------------------------------------------------------------- servers & /proc

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


sys.path.insert(0, os.path.join(ROOT, "scripts"))
from serve import die_with_parent as _die_with_parent  # noqa: E402  (SIGTERM when we die)
from serve import free_ports  # noqa: E402


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, all processes), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)   # user nice system irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def health_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except Exception:
        return False


class Target:
    """What the sessions connect to: a plain server, or the lecture hall (HAProxy + workers)."""

    def __init__(self) -> None:
        self.port = 0                           # where sessions connect
        self.procs: dict[str, int] = {}         # worker name -> pid
        self.haproxy_pid: int | None = None
        self.stats_url: str | None = None
        self.proxied = False
        self._popen: subprocess.Popen | None = None
        self._state: str | None = None

    @classmethod
    def plain(cls, log_path: str) -> "Target":
        t = cls()
        t.port = free_port()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        t._popen = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
             "--server.port", str(t.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        t.procs = {"server": t._popen.pid}
        try:
            deadline = time.time() + 90
            while not health_ok(t.port):
                if time.time() > deadline or t._popen.poll() is not None:
                    raise RuntimeError(f"the server did not start; see {log_path}")
                time.sleep(0.3)
            # as scripts/serve.py does for its workers: run Home once, so imports are not measured
            sys.path.insert(0, os.path.join(ROOT, "scripts"))
            import serve  # noqa: E402
            serve.warm_up([("127.0.0.1", t.port)])
        except BaseException:
            t.stop()
            raise
        return t

    @classmethod
    def hall(cls, workers: int, log_path: str) -> "Target":
        t = cls()
        t.proxied = True
        t.port, stats = free_port(), free_port()
        first = free_ports(workers, consecutive=True)[0]
        t._state = os.path.join(tempfile.mkdtemp(prefix="bench-load-"), "state.json")
        t.stats_url = f"http://127.0.0.1:{stats}/;csv"
        t._popen = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "scripts", "serve.py"), "--workers", str(workers),
             "--address", "127.0.0.1", "--port", str(t.port), "--first-port", str(first),
             "--stats-port", str(stats), "--state", t._state],
            cwd=ROOT, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            deadline = time.time() + 180
            while True:
                try:
                    with open(t._state) as f:
                        st = json.load(f)
                except (OSError, ValueError):
                    st = {}
                if st.get("haproxy_pid") and all(w.get("warmed") for w in st.get("workers", {}).values()):
                    break
                if time.time() > deadline or t._popen.poll() is not None:
                    raise RuntimeError(f"scripts/serve.py did not get ready; see {log_path}")
                time.sleep(0.3)
        except BaseException:
            t.stop()
            raise
        t.procs = {name: w["pid"] for name, w in st["workers"].items()}
        t.haproxy_pid = st["haproxy_pid"]
        return t

    def stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's status page, one row per worker."""
        if not self.stats_url:
            return {}
        try:
            with urllib.request.urlopen(self.stats_url, timeout=5) as r:
                rows = list(csv.reader(io.StringIO(r.read().decode().lstrip("# "))))
        except Exception:
            return {}
        head = rows[0]
        return {r[head.index("svname")]: dict(zip(head, r)) for r in rows[1:]
                if r and r[head.index("pxname")] == "streamlit_workers" and r[1] not in ("BACKEND", "FRONTEND")}

    def stop(self) -> None:
        p = self._popen
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


async def cpu_over(pids: dict[str, int], seconds: float) -> dict[str, float]:
    c0, t0 = {n: cpu_seconds(p) for n, p in pids.items()}, time.perf_counter()
    await asyncio.sleep(seconds)
    dt = time.perf_counter() - t0
    return {n: (cpu_seconds(p) - c0[n]) / dt for n, p in pids.items()}


def headless_rate(seconds: float = 3.0) -> float | None:
    """The 1D GAN's default trainer alone (one thread, CPU), in a fresh process."""
    code = ("import os,time,torch; torch.set_num_threads(1)\n"
            "from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer\n"
            "t = Gan1DTrainer(Gan1DConfig(), torch.device('cpu')); t.step(200)\n"
            f"n, t0 = 0, time.perf_counter()\n"
            f"while time.perf_counter() - t0 < {seconds}:\n    t.step(100); n += 100\n"
            "print(n / (time.perf_counter() - t0))\n")
    try:
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
        return float(r.stdout.strip().splitlines()[-1])
    except Exception:
        return None


# --------------------------------------------------------------------------- protocol client

def _get_cookie(port: int, path: str) -> str:
    """GET the page as a browser does; HAProxy's stickiness cookie, e.g. 'DASH_WORKER=w2'."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=60) as r:
        for value in r.headers.get_all("Set-Cookie") or []:
            if value.startswith(COOKIE + "="):
                return value.split(";", 1)[0]
    return ""


class Session:
    """One emulated browser tab (see the module docstring)."""

    def __init__(self, idx: int, port: int, page: str, proxied: bool) -> None:
        self.idx, self.port, self.page, self.proxied = idx, port, page, proxied
        self.ws = None
        self.cookie = ""
        self.worker = "server"
        self.page_hash = ""
        self.widget_ids: dict[str, str] = {}     # user key -> widget id
        self.run_key = ""                        # e.g. "gan1d_run"
        self.run_value: str | None = None        # what the browser shows chosen: TRAIN / PAUSE / None
        self.rate_text = ""                      # the "… / second" metric: a number, or "paused"
        self.steps = -1
        self.samples: list[tuple[float, int]] = []   # (time, counter) at each counter message
        self.finished_runs = 0
        self.timers: dict[str, asyncio.Task] = {}
        self.cond = asyncio.Condition()
        self.reader: asyncio.Task | None = None
        self.errors: list[str] = []
        self.paused: tuple[float, float] | None = None   # (Pause sent, Train answered) of the click probe
        self.clicks: dict[str, float | None] = {}
        self.closing = False
        self.query = ""                          # the page address's query (--class-db: class and run)

    # -- sending
    async def _send(self, fragment_id: str = "", trigger: str | None = None, auto: bool = False,
                    first: bool = False) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        if first or not self.page_hash:
            cs.page_name = self.page
        else:
            cs.page_script_hash = self.page_hash
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = auto
        if self.run_key and not first:
            # the segmented control's value goes with every rerun, as the browser sends it
            w = cs.widget_states.widgets.add()
            w.id = self.widget_ids[self.run_key]
            w.string_array_value.data.extend([self.run_value] if self.run_value else [])
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

    async def choose(self, value: str) -> None:
        """Click an option of the Train/Pause control: a full rerun with the new value."""
        self.run_value = value
        await self._send()

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
                        elif el.metric.label.endswith(" / second"):
                            self.rate_text = el.metric.body
                            changed = True
                    elif et in ("button", "button_group", "slider", "selectbox", "radio", "number_input",
                                "checkbox", "toggle"):
                        wid = getattr(el, et).id
                        key = wid.rsplit("-", 1)[-1] if "-" in wid else wid
                        self.widget_ids[key] = wid
                        if et == "button_group" and key.endswith("_run"):
                            bg = el.button_group
                            if not self.run_key:          # first render: the default (or session value)
                                self.run_key = key
                                opts = [o.content for o in bg.options]
                                self.run_value = opts[bg.default[0]] if bg.default else PAUSE
                            if bg.set_value:              # the server chose (e.g. Step pauses)
                                self.run_value = bg.raw_values[0] if bg.raw_values else None
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
        headers = {}
        if self.proxied:
            self.cookie = await asyncio.to_thread(_get_cookie, self.port, self.page)
            if not self.cookie:
                raise RuntimeError(f"session {self.idx}: HAProxy set no {COOKIE} cookie")
            self.worker = self.cookie.split("=", 1)[1]
            headers["Cookie"] = self.cookie
        # no keep-alive pings: a busy server answers late and the client would drop the session
        self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=None, ping_interval=None,
                                           open_timeout=timeout, additional_headers=headers)
        if self.proxied:
            served = self.ws.response.headers.get("X-Dash-Worker")
            if served != self.worker:
                self.errors.append(f"websocket went to {served}, the cookie says {self.worker}")
        self.reader = asyncio.ensure_future(self._read())
        await self._send(first=True)
        if not await self.wait(lambda: self.finished_runs >= 1 and self.run_key and self.steps >= 0, timeout):
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
        await self.choose(TRAIN)
        ok = await self.wait(lambda: self.steps > start, timeout)
        return time.perf_counter() - t0 if ok else None

    async def click_cycle(self, timeout: float = 20) -> None:
        """Pause → Step → Train, each timed from sending to the server's answer arriving."""
        if self.run_value != TRAIN:    # not training (the server paused it, or a lost click): say so
            self.errors.append(f"not training at the click probe (control shows {self.run_value!r})")
            return
        t_pause = time.perf_counter()
        self.rate_text = ""
        await self.choose(PAUSE)
        ok = await self.wait(lambda: self.rate_text == "paused", timeout)
        self.clicks["pause_s"] = time.perf_counter() - t_pause if ok else None
        await asyncio.sleep(0.3)
        before = self.steps
        step_key = self.run_key[: -len("run")] + "step_0"
        if step_key in self.widget_ids:
            t0 = time.perf_counter()
            await self.click(step_key)
            ok = await self.wait(lambda: self.steps > before, timeout)
            self.clicks["step_s"] = time.perf_counter() - t0 if ok else None
            await asyncio.sleep(0.3)
        self.clicks["train_s"] = await self.press_train(timeout)
        self.paused = (t_pause, time.perf_counter())

    def rate(self, t_a: float, t_b: float) -> tuple[float, float]:
        """(steps/s, counter updates/s) between t_a and t_b, the click probe's paused time excluded
        (only its overlap with the samples' span; at least half the span always counts, so a
        session paused most of the window is not credited with a huge rate)."""
        inside = [s for s in self.samples if t_a <= s[0] <= t_b]
        if len(inside) < 2:
            return 0.0, len(inside) / (t_b - t_a)
        (ta, sa), (tb, sb) = inside[0], inside[-1]
        paused = 0.0
        if self.paused is not None:
            paused = max(0.0, min(tb, self.paused[1]) - max(ta, self.paused[0]))
        active = max(0.5 * (tb - ta), tb - ta - paused, 1e-3)
        return max(0.0, sb - sa) / active, (len(inside) - 1) / (tb - ta)


# --------------------------------------------------------------------------- browser probe

async def browser_probe(url: str, lesson: str, stop: asyncio.Event, every: float = 6.0) -> dict:
    from playwright.async_api import async_playwright
    out: dict = {"pause_s": [], "train_s": [], "errors": []}
    js_counter = ("() => { const m = document.querySelector('[data-testid=stMetricValue]');"
                  " return m ? parseInt(m.innerText.replace(/[^0-9]/g, '') || '0') : -1; }")
    js_paused = ("() => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                 ".some(m => m.innerText.trim() === 'paused')")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 640, "height": 480})
        page.set_default_timeout(60000)
        try:
            await page.goto(url)
            control = page.locator(f".st-key-{lesson}_run")
            train, pause = control.get_by_role("radio", name="Train"), control.get_by_role("radio", name="Pause")
            await train.wait_for()
            t0 = time.perf_counter()
            await train.click()
            await page.wait_for_function(f"() => ({js_counter})() > 0")
            out["first_move_s"] = round(time.perf_counter() - t0, 3)
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), every)
                    break
                except asyncio.TimeoutError:
                    pass
                try:
                    t0 = time.perf_counter()
                    await pause.click()
                    await page.wait_for_function(js_paused, timeout=20000)
                    out["pause_s"].append(round(time.perf_counter() - t0, 3))
                    await asyncio.sleep(0.5)
                    before = await page.evaluate(js_counter)
                    t0 = time.perf_counter()
                    await train.click()
                    await page.wait_for_function(f"() => ({js_counter})() > {before}", timeout=20000)
                    out["train_s"].append(round(time.perf_counter() - t0, 3))
                except Exception as e:
                    out["errors"].append(f"{type(e).__name__}: {str(e)[:120]}")
        finally:
            await browser.close()
    return out


# --------------------------------------------------------------------------- one run

def summary(values: list[float | None]) -> dict:
    got = [v for v in values if v is not None]
    if not got:
        return {"n": 0, "missed": len(values)}
    got.sort()
    return {"n": len(got), "missed": len(values) - len(got), "min": round(got[0], 3),
            "median": round(statistics.median(got), 3),
            "p90": round(got[min(len(got) - 1, int(0.9 * len(got)))], 3),
            "p99": round(got[min(len(got) - 1, int(0.99 * len(got)))], 3), "max": round(got[-1], 3)}


async def lecturer_view(code: str, lesson: str, stop: asyncio.Event, every: float = 1.0) -> dict:
    """The lecturer's page's work, once a second while the class trains: read the class's runs
    from the store and build the table and the small multiples (core.classroom.view), timed;
    and how old each run's summary is when read (publishing every 2 s, flushing every 0.5 s)."""
    from core.classroom import view
    from core.classroom.store import Store
    store = Store(os.environ["DASH_CLASS_DB"])
    times, ages, seen = [], [], []

    def refresh() -> None:
        t0 = time.perf_counter()
        runs = store.class_runs(code, lesson)
        now = time.time()
        view.table(runs, lesson, now)
        view.small_multiples_spec(view.curves(runs, view.loss_keys(lesson)))
        times.append(time.perf_counter() - t0)
        ages.extend(now - float(r["updated"]) for r in runs)
        seen.append(len(runs))

    while not stop.is_set():
        await asyncio.to_thread(refresh)
        try:
            await asyncio.wait_for(stop.wait(), every)
        except asyncio.TimeoutError:
            pass
    times = times[1:]            # the first read imports the lesson's package
    out = {"lecturer_refresh_ms": summary([1000 * t for t in times]),
           "runs_seen": {"min": min(seen, default=0), "max": max(seen, default=0)},
           "summary_age_s": summary(ages),
           "store_mb": round(store.size_bytes() / 2**20, 2), "db": store.backend}
    store.close()
    return out


def class_writes(t_a: float, t_b: float) -> dict:
    """The workers' publisher threads' flushes (core.classroom.publish.STATS_PREFIX) in the
    measured window: one transaction each, all of a worker's pending summaries and checkpoints."""
    prefix = os.environ.get("DASH_CLASS_STATS")
    rows = []
    for path in glob.glob(f"{prefix}.*.jsonl") if prefix else []:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    # the window in wall-clock time (the flushes carry time.time())
    lo, hi = time.time() - (time.perf_counter() - t_a), time.time() - (time.perf_counter() - t_b)
    inside = [r for r in rows if lo <= r["t"] <= hi]
    span = max(1e-9, hi - lo)
    return {"write_transaction_ms": summary([1000 * r["flush_s"] for r in inside]),
            "summaries_written_per_s": round(sum(r["summaries"] for r in inside) / span, 1),
            "checkpoints_written_per_s": round(sum(r["checkpoints"] for r in inside) / span, 1),
            "dropped": max((r["dropped"] for r in rows), default=0)}


async def run_one(n: int, seconds: float, page: str, probe: bool, workers: int | None,
                  headless: float | None) -> dict:
    log_path = f"/tmp/bench_load_{'w' + str(workers) if workers else 'server'}_{n}.log"
    # (in a thread: the plain server's warm-up runs its own event loop)
    target = await asyncio.to_thread(Target.hall, workers, log_path) if workers else \
        await asyncio.to_thread(Target.plain, log_path)
    pids = dict(target.procs)
    res: dict = {"sessions": n, "workers": workers or 0, "proxy": target.proxied, "seconds": seconds, "page": page}
    sessions: list[Session] = []
    per: dict[str, dict] = {name: {} for name in pids}
    try:
        await asyncio.sleep(2.0)
        for name, c in (await cpu_over(pids, 3.0)).items():
            per[name]["rss_idle_before_mb"] = round(rss_mb(pids[name]), 1)
            per[name]["cpu_idle_before_cores"] = round(c, 3)
        stats0 = target.stats()
        # open the sessions (a few at a time, as a class arriving), all idle on the page
        t0 = time.perf_counter()
        sessions = [Session(i, target.port, page, target.proxied) for i in range(n)]
        if os.environ.get("DASH_CLASS_DB"):      # --class-db: every session joined to one class
            from core.classroom.store import Store
            store = Store(os.environ["DASH_CLASS_DB"])
            code = store.create_class()
            for s in sessions:
                s.query = f"class={code}&run={store.join(code, f'student {s.idx}')}"
            store.close()
            res["class"] = {"db": store.backend, "code": code}
        batch = 5 * max(1, workers or 1)
        for i in range(0, n, batch):
            await asyncio.gather(*(s.open() for s in sessions[i:i + batch]))
        res["open_all_s"] = round(time.perf_counter() - t0, 2)
        await asyncio.sleep(2.0)
        for name in pids:
            per[name]["rss_sessions_open_idle_mb"] = round(rss_mb(pids[name]), 1)
            per[name]["sessions"] = sum(1 for s in sessions if s.worker == name)

        # sample RSS and CPU while training
        samples: list[tuple[float, dict[str, float], dict[str, float]]] = []
        stop_sampling = asyncio.Event()
        watch = dict(pids, **({"haproxy": target.haproxy_pid} if target.haproxy_pid else {}))

        async def sampler() -> None:
            while not stop_sampling.is_set():
                cpu = {k: cpu_seconds(p) for k, p in watch.items()}
                cpu["machine"], cpu["client"] = machine_busy_seconds(), own_cpu_seconds()
                samples.append((time.perf_counter(), {k: rss_mb(p) for k, p in watch.items()}, cpu))
                try:
                    await asyncio.wait_for(stop_sampling.wait(), 0.5)
                except asyncio.TimeoutError:
                    pass

        sampling = asyncio.ensure_future(sampler())
        lesson = page.strip("/")
        lecturer = asyncio.ensure_future(lecturer_view(res["class"]["code"], lesson, stop_sampling)) \
            if "class" in res else None
        probe_stop = asyncio.Event()
        probe_task = (asyncio.ensure_future(browser_probe(f"http://127.0.0.1:{target.port}/{page}", lesson, probe_stop))
                      if probe else None)
        client_cpu0 = own_cpu_seconds()
        load_before = os.getloadavg()[0]

        # choose Train everywhere (staggered by 50 ms, like students clicking)
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
        if lecturer is not None:
            res["class"].update(await lecturer)
            res["class"].update(class_writes(t_a, t_b))

        rates = [s.rate(t_a, t_b) for s in sessions]
        steps = [r[0] for r in rates]
        inside = [x for x in samples if t_a <= x[0] <= t_b]
        res["steps_per_s"] = {"min": round(min(steps), 1), "median": round(statistics.median(steps), 1),
                              "max": round(max(steps), 1), "total": round(sum(steps), 1),
                              "all_progress": all(v > 0 for v in steps)}
        if headless:
            res["headless_steps_per_s"] = round(headless, 1)
            res["total_vs_headless"] = round(sum(steps) / headless, 3)
        res["frames_per_s"] = {"min": round(min(r[1] for r in rates), 2),
                               "median": round(statistics.median(r[1] for r in rates), 2),
                               "max": round(max(r[1] for r in rates), 2)}
        res["first_move_after_train_s"] = summary(first_moves)
        res["clicks"] = {k: summary([s.clicks.get(k) for s in sessions]) for k in ("pause_s", "step_s", "train_s")}
        span = (inside[-1][0] - inside[0][0]) if len(inside) > 1 else 0.0
        for name, pid in pids.items():
            per[name]["steps_per_s_total"] = round(sum(r for r, s in zip(steps, sessions) if s.worker == name), 1)
            per[name]["rss_peak_mb"] = round(max(x[1][name] for x in samples), 1)
            per[name]["vm_hwm_mb"] = round(rss_mb(pid, "VmHWM"), 1)
            per[name]["cpu_training_cores"] = round((inside[-1][2][name] - inside[0][2][name]) / span, 3) if span else None
        res["client_cpu_cores"] = round(client_cpu, 3)
        server_cores = sum(per[n]["cpu_training_cores"] or 0 for n in pids)
        # per core the workers actually got: the figure to scale up from on a shared machine
        res["steps_per_s"]["per_busy_core"] = round(sum(steps) / server_cores, 1) if server_cores else None
        if span:
            # The machine is shared: how busy it was in the window, and how much of that was not us.
            busy = {k: (inside[-1][2][k] - inside[0][2][k]) / span for k in inside[0][2]}
            ours = sum(v for k, v in busy.items() if k != "machine")
            res["machine"] = {"cores": os.cpu_count(), "busy_cores": round(busy["machine"], 2),
                              "others_cores": round(max(0.0, busy["machine"] - ours), 2),
                              "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}

        # close every session; CPU must fall back to idle
        await asyncio.gather(*(s.close() for s in sessions))
        errors = [f"{s.idx}: {e}" for s in sessions for e in s.errors]
        if errors:
            res["session_errors"] = errors[:10]
            res["session_error_count"] = len(errors)
        await asyncio.sleep(3.0)
        for name, c in (await cpu_over(pids, 5.0)).items():
            per[name]["cpu_after_close_cores"] = round(c, 3)       # 3–8 s after the close
            per[name]["rss_after_close_mb"] = round(rss_mb(pids[name]), 1)
        await asyncio.sleep(7.0)
        for name, c in (await cpu_over(pids, 5.0)).items():
            per[name]["cpu_after_close_late_cores"] = round(c, 3)  # 15–20 s after the close
        res["workers_detail"] = per
        res["server"] = {
            "rss_idle_before_mb": round(sum(p["rss_idle_before_mb"] for p in per.values()), 1),
            "rss_sessions_open_idle_mb": round(sum(p["rss_sessions_open_idle_mb"] for p in per.values()), 1),
            "rss_peak_mb": round(sum(p["rss_peak_mb"] for p in per.values()), 1),
            "rss_peak_per_worker_mb": round(max(p["rss_peak_mb"] for p in per.values()), 1),
            "cpu_training_cores": round(sum(p["cpu_training_cores"] or 0 for p in per.values()), 3),
            "cpu_after_close_cores": round(sum(p["cpu_after_close_cores"] for p in per.values()), 3),
            "cpu_after_close_late_cores": round(sum(p["cpu_after_close_late_cores"] for p in per.values()), 3),
            "rss_after_close_mb": round(sum(p["rss_after_close_mb"] for p in per.values()), 1),
        }
        if target.haproxy_pid:
            stats1 = target.stats()
            res["haproxy"] = {
                "cpu_training_cores": round((inside[-1][2]["haproxy"] - inside[0][2]["haproxy"]) / span, 3) if span else None,
                "rss_mb": round(rss_mb(target.haproxy_pid), 1),
                "health_check_failures": {k: int(v.get("chkfail") or 0) - int(stats0.get(k, {}).get("chkfail") or 0)
                                          for k, v in stats1.items()},
                "went_down": {k: int(v.get("chkdown") or 0) - int(stats0.get(k, {}).get("chkdown") or 0)
                              for k, v in stats1.items()},
                "status_after": {k: v.get("status") for k, v in stats1.items()},
            }
        clicks = [v for k in ("pause_s", "step_s", "train_s") for s in sessions for v in [s.clicks.get(k)]]
        worst_click = max((c for c in clicks if c is not None), default=None)
        res["meets"] = {
            "all_progress": res["steps_per_s"]["all_progress"],
            "click_le_1s": worst_click is not None and None not in clicks and worst_click <= TARGETS["click_s"],
            "first_move_le_1s": res["first_move_after_train_s"].get("max", 1e9) <= TARGETS["first_move_s"]
                                and not res["first_move_after_train_s"].get("missed"),
            "rss_peak_per_worker_le_1gb": res["server"]["rss_peak_per_worker_mb"] <= TARGETS["server_rss_peak_mb"],
            "cpu_idle_after_close": res["server"]["cpu_after_close_late_cores"] < 0.05 * len(pids),
        }
        if n == 1:
            res["meets"]["one_idle_session_le_450mb"] = \
                res["server"]["rss_sessions_open_idle_mb"] <= TARGETS["one_idle_session_rss_mb"] * len(pids)
    finally:
        for s in sessions:
            s._clear_timers()
        target.stop()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--page", default="gan1d", help="the lesson's URL path (default gan1d)")
    ap.add_argument("--workers", type=int, nargs="+", default=None,
                    help="run through scripts/serve.py (HAProxy) with this many workers (several: one run each)")
    ap.add_argument("--browser-probe", action="store_true",
                    help="also keep one Chromium tab training and clicking on the same address")
    ap.add_argument("--no-headless", action="store_true", help="skip the headless reference (gan1d)")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--class-db", help="every session joins one class on this store (DASH_CLASS_DB, e.g. "
                                       "sqlite:////tmp/class.db, or postgresql: a throwaway server) and "
                                       "publishes as a joined student does; a lecturer's view reads it")
    a = ap.parse_args()
    scratch = None
    if a.class_db:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        sys.path.insert(0, root)
        if a.class_db == "postgresql":                # a throwaway server (Debian's postgresql)
            sys.path.insert(0, os.path.join(root, "tests"))
            from classroom import pg
            scratch = pg.Scratch()
            a.class_db = scratch.start()
            pg.wait_ready(a.class_db)
        os.environ["DASH_CLASS_DB"] = a.class_db       # the servers started here inherit it
        os.environ["DASH_CLASS_STATS"] = f"/tmp/bench_load_class_{os.getpid()}"
    try:
        _main(a)
    finally:
        if scratch is not None:
            scratch.stop()


def _main(a: argparse.Namespace) -> None:
    headless = None
    if a.page.strip("/") == "gan1d" and not a.no_headless:
        headless = headless_rate()
        print(json.dumps({"headless_steps_per_s": headless}), file=sys.stderr, flush=True)
    runs = []
    for w in (a.workers or [None]):
        for n in a.sessions:
            r = asyncio.run(run_one(n, a.seconds, a.page, a.browser_probe, w, headless))
            print(json.dumps(r), file=sys.stderr, flush=True)
            runs.append(r)
    out = {"benchmark": "load", "cpu_count": os.cpu_count(),
           "env": {k: os.environ[k] for k in ("DASH_MAX_TRAINERS", "DASH_TORCH_THREADS") if k in os.environ},
           "headless_steps_per_s": headless, "targets": TARGETS, "runs": runs}
    if a.workers and len(set(a.workers)) > 1:
        lo, hi = min(a.workers), max(a.workers)
        out["scaling"] = {}
        for n in a.sessions:
            r_lo = next(r for r in runs if r["workers"] == lo and r["sessions"] == n)
            r_hi = next(r for r in runs if r["workers"] == hi and r["sessions"] == n)
            if r_lo["steps_per_s"]["total"] > 0:
                out["scaling"][f"{n} sessions, {lo} -> {hi} workers"] = round(
                    r_hi["steps_per_s"]["total"] / r_lo["steps_per_s"]["total"], 2)
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
