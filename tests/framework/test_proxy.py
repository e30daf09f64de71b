"""The lecture-hall proxy (``scripts/serve.py``, issue 20): N Streamlit workers behind HAProxy.

* The HAProxy config the script writes passes HAProxy's own check (``haproxy -c``), for local
  workers and with workers on other machines (``--hosts``); malformed hosts are refused.
* A two-worker smoke test through the proxy, all on loopback ports: one browser keeps its worker
  across reruns and a reload (HAProxy's cookie, and the ``X-Dash-Worker`` header on every HTTP
  answer and on the websocket handshake), a second browser lands on the other worker, media
  (Home's pictures under /media/) and an upload (the forecasting page's CSV picker) go through
  the proxy to the session's own worker, and a killed worker is restarted and healthy again.

HAProxy comes from Debian's package (``scripts/test.sh`` installs it in CI); without it these
tests are skipped on a developer's machine and fail in CI.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import (ARTIFACTS, click_pause, click_train, counter, open_settings, wait_connected,
                      wait_counter_moves)

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVE = ROOT / "scripts" / "serve.py"
COOKIE = "DASH_WORKER"


sys.path.insert(0, os.path.join(ROOT, "scripts"))
from serve import die_with_parent as _die_with_parent  # noqa: E402  (SIGTERM when we die)
from serve import free_ports as _free_ports  # noqa: E402


def haproxy_exe() -> str:
    for cand in (shutil.which("haproxy"), "/usr/sbin/haproxy"):
        if cand and os.access(cand, os.X_OK):
            return cand
    if os.environ.get("CI"):
        pytest.fail("CI must have Debian's haproxy installed (scripts/test.sh installs it)")
    pytest.skip("no haproxy on this machine (apt-get install haproxy)")


def print_config(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SERVE), "--print-config", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def assert_valid(text: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    r = subprocess.run([haproxy_exe(), "-c", "-f", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"haproxy -c rejected the config:\n{r.stdout}{r.stderr}\n{text}"


def server_lines(text: str) -> list[str]:
    return [line.split() for line in text.splitlines() if line.strip().startswith("server ")]


# --------------------------------------------------------------------------- the config

def test_each_worker_is_told_how_many_share_its_machine(monkeypatch, tmp_path):
    """serve.py passes DASH_WORKERS to every worker it starts (core.gates.frame_share reads it)."""
    import serve
    seen = []

    class FakePopen:
        def __init__(self, cmd, env=None, **_):
            seen.append(env)
            self.pid = 1

    monkeypatch.setattr(serve.subprocess, "Popen", FakePopen)
    monkeypatch.delenv("DASH_WORKERS", raising=False)
    for w in [serve.Worker(f"w{i}", "127.0.0.1", 8601 + i, [], str(tmp_path), siblings=3) for i in range(3)]:
        w.start()
    assert [env["DASH_WORKERS"] for env in seen] == ["3", "3", "3"]


def test_config_for_local_workers_is_valid(tmp_path):
    r = print_config("--workers", "3")
    assert r.returncode == 0, r.stderr
    cfg = r.stdout
    assert_valid(cfg, tmp_path)
    assert [s[1:3] for s in server_lines(cfg)] == [["w1", "127.0.0.1:8601"], ["w2", "127.0.0.1:8602"],
                                                   ["w3", "127.0.0.1:8603"]]
    assert "bind 0.0.0.0:8501" in cfg
    # Sticky by an inserted cookie, never by the client's address (a class behind one NAT).
    assert f"cookie {COOKIE} insert indirect nocache" in cfg
    assert "balance source" not in cfg and "hash-type" not in cfg
    assert "http-check send meth GET uri /_stcore/health" in cfg
    assert "timeout tunnel 4h" in cfg
    assert "option redispatch" in cfg


def test_config_with_other_machines_is_valid(tmp_path):
    # Only printed and checked: nothing is started, no address outside this machine is contacted.
    r = print_config("--workers", "2", "--hosts", "10.0.0.2:8601-8603", "10.0.0.3:8601",
                     "--stats-port", "8404", "--port", "80")
    assert r.returncode == 0, r.stderr
    assert_valid(r.stdout, tmp_path)
    lines = server_lines(r.stdout)
    assert [s[1:3] for s in lines] == [["w1", "127.0.0.1:8601"], ["w2", "127.0.0.1:8602"],
                                       ["r1", "10.0.0.2:8601"], ["r2", "10.0.0.2:8602"],
                                       ["r3", "10.0.0.2:8603"], ["r4", "10.0.0.3:8601"]]
    assert all(s[3:5] == ["cookie", s[1]] for s in lines)
    assert "bind 127.0.0.1:8404" in r.stdout            # the status page stays on this machine
    # proxy only: every worker elsewhere
    r = print_config("--workers", "0", "--hosts", "10.0.0.2:8601", "10.0.0.3:8601")
    assert r.returncode == 0, r.stderr
    assert_valid(r.stdout, tmp_path)
    assert [s[1] for s in server_lines(r.stdout)] == ["r1", "r2"]


@pytest.mark.parametrize("hosts", ["10.0.0.2", "10.0.0.2:86x1", "10.0.0.2:9-", "x:0", "x:9000-8000",
                                   "a b:8601", "10.0.0.2:8601\n    server evil 10.6.6.6:80"])
def test_malformed_hosts_are_refused(hosts):
    r = print_config("--hosts", hosts)
    assert r.returncode == 2 and "--hosts" in r.stderr and "server" not in r.stdout


# --------------------------------------------------------------------------- two workers


def _read_state(path: pathlib.Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _get(url: str, timeout: float = 5.0, cookie: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}
    except Exception:
        return 0, {}


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10)


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """``scripts/serve.py --workers 2`` on free loopback ports, for this module."""
    haproxy_exe()
    first = _free_ports(2, consecutive=True)[0]
    proxy, stats = _free_ports(2, avoid=(first, first + 1))
    state = tmp_path_factory.mktemp("hall") / "state.json"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "proxy_serve.log", "w")
    proc = subprocess.Popen([sys.executable, str(SERVE), "--workers", "2", "--address", "127.0.0.1",
                             "--port", str(proxy), "--first-port", str(first), "--stats-port", str(stats),
                             "--state", str(state)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    try:
        deadline = time.time() + 150
        while time.time() < deadline:
            s = _read_state(state)
            if s.get("haproxy_pid") and all(w.get("warmed") for w in s.get("workers", {}).values()):
                break
            assert proc.poll() is None, "serve.py exited; see tests/artifacts/proxy_serve.log"
            time.sleep(0.3)
        else:
            pytest.fail("serve.py did not get ready in 150 s; see tests/artifacts/proxy_serve.log")
        yield {"url": f"http://127.0.0.1:{proxy}", "stats": f"http://127.0.0.1:{stats}/;csv",
               "state": state, "proc": proc}
    finally:
        _stop(proc)
        log.close()
    assert proc.returncode == 0, "serve.py did not stop cleanly; see tests/artifacts/proxy_serve.log"


def test_workers_on_another_machine(tmp_path):
    """The --hosts path end to end, "another machine" being this one: ``--workers-only`` runs a
    worker (on loopback here; 0.0.0.0 by default, for a real second machine) and a proxy-only
    front (``--workers 0 --hosts``) sends students to it."""
    haproxy_exe()
    port = _free_ports(1)[0]
    proxy, stats = _free_ports(2, avoid=(port,))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    logs = [open(ARTIFACTS / name, "w") for name in ("proxy_remote_worker.log", "proxy_remote_front.log")]
    remote = subprocess.Popen([sys.executable, str(SERVE), "--workers-only", "--workers", "1",
                               "--worker-address", "127.0.0.1", "--first-port", str(port)],
                              cwd=ROOT, stdout=logs[0], stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    front = subprocess.Popen([sys.executable, str(SERVE), "--workers", "0", "--hosts", f"127.0.0.1:{port}",
                              "--address", "127.0.0.1", "--port", str(proxy), "--stats-port", str(stats)],
                             cwd=ROOT, stdout=logs[1], stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    try:
        deadline, status, headers = time.time() + 90, 0, {}
        while time.time() < deadline:
            assert remote.poll() is None and front.poll() is None, \
                "serve.py exited; see tests/artifacts/proxy_remote_*.log"
            status, headers = _get(f"http://127.0.0.1:{proxy}/")
            if status == 200 and worker_status({"stats": f"http://127.0.0.1:{stats}/;csv"}).get("r1") == "UP":
                break
            time.sleep(0.5)
        assert status == 200, "the proxy never answered through the other machine's worker"
        assert headers.get("x-dash-worker") == "r1" and f"{COOKIE}=r1" in headers.get("set-cookie", "")
    finally:
        codes = [_stop(front), _stop(remote)]
        for f in logs:
            f.close()
    assert codes == [0, 0], f"serve.py did not stop cleanly: {codes}"


def worker_status(hall) -> dict[str, str]:
    """HAProxy's view of each worker, from its status page: UP, DOWN, or on the way ("UP 1/3":
    one failed check of the three that would take it down; "DOWN 1/2": one good check)."""
    try:
        with urllib.request.urlopen(hall["stats"], timeout=5) as r:
            rows = list(csv.reader(io.StringIO(r.read().decode().lstrip("# "))))
    except Exception:
        return {}
    head = rows[0]
    i_px, i_sv, i_st = head.index("pxname"), head.index("svname"), head.index("status")
    return {r[i_sv]: r[i_st] for r in rows[1:] if r and r[i_px] == "streamlit_workers"
            and r[i_sv] not in ("BACKEND", "FRONTEND")}


def _cookie(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == COOKIE), None)


def _open(chromium, url: str):
    """A fresh browser context on ``url`` that records which worker answered each request."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    page.served_by = []          # X-Dash-Worker of every HTTP answer through the proxy
    page.ws_served_by = []       # … and of every websocket handshake
    page.uploads = []            # (status, worker) of every upload request
    page.on("response", lambda r: page.served_by.append(r.headers.get("x-dash-worker")))

    def on_upload(r) -> None:
        if "/_stcore/upload_file/" in r.url and r.request.method in ("PUT", "POST"):
            page.uploads.append((r.status, r.headers.get("x-dash-worker")))

    page.on("response", on_upload)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: page.ws_served_by.append(
        {k.lower(): v for k, v in e["response"]["headers"].items()}.get("x-dash-worker")))
    page.goto(url)
    wait_connected(page)
    return context, page


@pytest.mark.browser
def test_one_browser_keeps_its_worker_another_gets_the_other(hall, chromium):
    assert all(s.startswith("UP") for s in worker_status(hall).values()), worker_status(hall)
    ctx1, page = _open(chromium, hall["url"] + "/gan1d")
    ctx2 = None
    try:
        mine = _cookie(ctx1)
        assert mine in ("w1", "w2"), f"HAProxy set no {COOKIE} cookie: {ctx1.cookies()}"
        # reruns: Train (the live fragment ticks several times a second), Pause, Train again
        click_train(page, "gan1d")
        wait_counter_moves(page)
        click_pause(page, "gan1d")
        page.wait_for_timeout(500)
        before = counter(page)
        click_train(page, "gan1d")
        page.wait_for_function(
            "n => { const m = document.querySelector('[data-testid=stMetricValue]');"
            " return m && parseInt(m.innerText.replace(/[^0-9]/g, '')) > n; }", arg=before, timeout=30000)
        click_pause(page, "gan1d")   # the session's run went on where it was: same worker, same session
        assert _cookie(ctx1) == mine
        # a reload: a new Streamlit session, still on the same worker
        page.reload()
        wait_connected(page)
        assert _cookie(ctx1) == mine
        served = {w for w in page.served_by if w}
        assert served == {mine}, f"HTTP answers came from {served}, the cookie says {mine}"
        assert len(page.ws_served_by) >= 2 and set(page.ws_served_by) == {mine}, \
            f"websockets went to {page.ws_served_by}, the cookie says {mine}"

        # A second browser (its own cookie jar) lands on the other worker: leastconn sees the
        # first one's websocket. Home's pictures come from the worker's /media/ through the proxy.
        ctx2, home = _open(chromium, hall["url"] + "/")
        other = _cookie(ctx2)
        assert other in ("w1", "w2") and other != mine, f"both browsers on {mine}"
        imgs = home.locator("[data-testid=stImage] img")
        imgs.first.wait_for()
        home.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stImage] img')]"
            ".every(i => i.complete && i.naturalWidth > 0)", timeout=30000)
        srcs = [imgs.nth(i).get_attribute("src") for i in range(imgs.count())]
        assert srcs and all("/media/" in s for s in srcs), srcs
        assert {w for w in home.served_by if w} == {other}
    finally:
        ctx1.close()
        if ctx2 is not None:
            ctx2.close()


@pytest.mark.browser
def test_upload_goes_through_the_proxy_to_the_sessions_worker(hall, chromium):
    ctx, page = _open(chromium, hall["url"] + "/forecast?forecast_source=Your+CSV")
    try:
        mine = _cookie(ctx)
        data = "month,passengers\n" + "".join(f"{1949 + i // 12}-{i % 12 + 1:02d},{100 + i * 3 + (i % 12) * 5}\n"
                                               for i in range(48))
        open_settings(page)                       # the uploader is among the settings
        uploader = page.locator("[data-testid=stFileUploader] input[type=file]").first
        uploader.wait_for(state="attached")
        uploader.set_input_files(files=[{"name": "hall.csv", "mimeType": "text/csv", "buffer": data.encode()}])
        page.get_by_test_id("stFileChipName").filter(has_text="hall.csv").wait_for()
        # the page read the file on the worker: its column choices appear
        page.get_by_text("Value column").first.wait_for(timeout=30000)
        assert page.get_by_test_id("stFileChipIconError").count() == 0
        assert page.uploads and all(200 <= s < 300 and w == mine for s, w in page.uploads), page.uploads
    finally:
        ctx.close()


@pytest.mark.browser
def test_a_killed_worker_is_restarted(hall, chromium):
    ctx, page = _open(chromium, hall["url"] + "/gan1d")
    try:
        victim = _cookie(ctx)
        state = _read_state(hall["state"])
        pid, port = state["workers"][victim]["pid"], state["workers"][victim]["port"]
        survivor = next(n for n in state["workers"] if n != victim)
        survivor_pid = state["workers"][survivor]["pid"]
        t0 = time.time()
        os.kill(pid, signal.SIGKILL)
        back = None
        while time.time() - t0 < 45:
            w = _read_state(hall["state"]).get("workers", {}).get(victim, {})
            if w.get("pid") not in (None, pid) and w.get("warmed") and \
                    _get(f"http://127.0.0.1:{port}/_stcore/health")[0] == 200 and \
                    worker_status(hall).get(victim) == "UP":
                back = time.time() - t0
                break
            time.sleep(0.5)
        assert back is not None, f"worker {victim} was not back within 45 s; see tests/artifacts/proxy_serve.log"
        assert back <= 30, f"worker {victim} took {back:.0f} s to come back (want ≤ 30 s)"
        s = _read_state(hall["state"])
        assert s["workers"][victim]["restarts"] == 1
        assert s["workers"][survivor]["pid"] == survivor_pid, "the other worker was restarted too"
        # its student opens the lesson's link again and is served (the run starts over; the URL keeps
        # the settings). Not page.reload(): the tab's own reconnect to the restarted worker may
        # have landed it on Home first (seen once in CI: the new worker's first run is Streamlit's
        # old pages mode, which does not know the lesson's page hash), and a reload keeps Home.
        page.goto(hall["url"] + "/gan1d")
        try:
            wait_connected(page)
            page.locator(".st-key-gan1d_run").wait_for(timeout=90000)
        except Exception as e:
            page.screenshot(path=str(ARTIFACTS / "proxy_after_restart.png"))
            raise AssertionError(f"the reloaded page did not come back ({type(e).__name__}); url {page.url}, "
                                 f"worker {_cookie(ctx)}, HAProxy {worker_status(hall)}; "
                                 "see tests/artifacts/proxy_after_restart.png") from e
        assert _cookie(ctx) in ("w1", "w2")
        status, headers = _get(hall["url"] + "/_stcore/health", cookie=f"{COOKIE}={victim}")
        assert status == 200 and headers.get("x-dash-worker") == victim
    finally:
        ctx.close()
