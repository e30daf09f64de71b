"""Shared fixtures: one torch thread, a running app server, and a Chromium page on it."""
from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
torch.set_num_threads(1)
os.environ.setdefault("DASH_FORCE_CPU", "1")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """Start ``streamlit run Home.py`` on a free port for the whole test session."""
    port = _free_port()
    log = open(ROOT / "tests" / ".server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except Exception:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("the app server did not start; see tests/.server.log")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def chromium():
    exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium installed (apt-get install chromium)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(chromium, app_url):
    """A fresh browser tab (a fresh Streamlit session), 1280 × 1600."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1600})
    pg = context.new_page()
    pg.set_default_timeout(60000)   # a cold server on a busy 2-core CI machine
    pg.app_url = app_url
    yield pg
    context.close()


def wait_connected(pg) -> None:
    pg.locator("[data-testid=stApp][data-test-connection-state=CONNECTED]").wait_for(state="attached", timeout=30000)


ARTIFACTS = ROOT / "tests" / "artifacts"


# What a page shows when something went wrong: exceptions, alerts, the connection state.
PAGE_PROBLEMS = """() => ({state: document.querySelector('[data-testid=stApp]')?.dataset.testConnectionState,
    shown: Array.from(document.querySelectorAll('[data-testid=stException], [data-testid=stAlert]'))
        .map(e => e.innerText.slice(0, 400)),
    main: (document.querySelector('[data-testid=stMain]')?.innerText || '').slice(0, 600)})"""


def page_problems(pg) -> str:
    """A one-paragraph account of the page for a failure message (and a full-page screenshot)."""
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        return str(pg.evaluate(PAGE_PROBLEMS))
    except Exception as e:  # the page itself may be gone
        return f"(could not read the page: {e})"


def server_log_tail(lines: int = 30) -> str:
    log = ROOT / "tests" / ".server.log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def counter(pg, timeout_ms: float = 30000) -> int:
    """The live panel's first metric: the number of steps trained."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        value = pg.get_by_test_id("stMetricValue").first.inner_text(timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"no step counter on the page for {timeout_ms / 1000:.0f} s; the page: "
                             f"{page_problems(pg)}\nserver log:\n{server_log_tail()}") from None
    return int("".join(ch for ch in value if ch.isdigit()) or 0)


def wait_counter_moves(pg, timeout_ms: int = 15000) -> None:
    pg.wait_for_function(
        "() => { const m = document.querySelector('[data-testid=stMetricValue]');"
        " return m && parseInt(m.innerText.replace(/[^0-9]/g, '')) > 0; }", timeout=timeout_ms)


def open_settings(pg) -> None:
    """Unfold the page's ⚙️ Settings (folded when a page opens, so the live view and the guide
    share the first screen)."""
    box = pg.locator("[data-testid=stMain] [data-testid=stExpander] details").filter(has_text="Settings").first
    box.wait_for(state="attached")
    if box.get_attribute("open") is None:
        box.locator("summary").first.click()


def click_train(pg, lesson: str) -> None:
    """Choose ▶ Train on the lesson's Train/Pause control."""
    pg.locator(f".st-key-{lesson}_run").get_by_role("radio", name="Train").click()


def click_pause(pg, lesson: str) -> None:
    pg.locator(f".st-key-{lesson}_run").get_by_role("radio", name="Pause").click()


def wait_counter_settles(pg, quiet_s: float = 1.0, timeout_s: float = 10.0) -> int:
    """After Pause: wait until the step counter has not moved for ``quiet_s``; return it."""
    import time
    deadline = time.time() + timeout_s
    last, since = counter(pg), time.time()
    while time.time() < deadline:
        time.sleep(0.1)
        now = counter(pg)
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= quiet_s:
            return now
    raise AssertionError(f"training went on after Pause (counter still moving at {last})")


def pause_and_check_stopped(pg, lesson: str) -> tuple[int, float]:
    """Click Pause once on ``lesson``; check the counter stops and stays put.

    Returns (the settled count, seconds from the click until the counter's last change), so a
    test can check that one click stops training (no re-click) and log the latency.
    """
    import time
    t0 = time.time()
    click_pause(pg, lesson)
    last, last_change = counter(pg), time.time()
    while time.time() - last_change < 1.0 and time.time() - t0 < 15:
        time.sleep(0.05)
        now = counter(pg)
        if now != last:
            last, last_change = now, time.time()
    assert time.time() - t0 < 15, "training went on after Pause"
    time.sleep(0.5)
    assert counter(pg) == last, "training went on after Pause"
    return last, max(0.0, last_change - t0)


def train_and_watch(pg, lesson: str, *, path: str | None = None, element: str = "stVegaLiteChart",
                    seconds: float = 3.0, min_steps: int = 1, pause: bool = True) -> dict:
    """The walk every lesson's browser test starts with: open ``path`` (default ``/<lesson>``),
    wait for the live panel, press ▶ Train once, check the counter moves and the first
    ``element`` (a test id: stVegaLiteChart, stImage…) changes within ``seconds``, save a
    screenshot to tests/artifacts/<lesson>_training.png and (``pause``) check that one click on
    Pause stops the counter. Returns {"steps", "first_move", "pause"} for the test to print."""
    import time
    ARTIFACTS.mkdir(exist_ok=True)
    pg.goto(pg.app_url + (path or f"/{lesson}"))
    wait_connected(pg)
    pg.locator(f".st-key-{lesson}_run").first.wait_for()
    shown = pg.get_by_test_id(element).first
    shown.wait_for()
    assert counter(pg) == 0
    before = shown.screenshot()
    t0 = time.time()
    click_train(pg, lesson)
    wait_counter_moves(pg, 20000)
    first_move = time.time() - t0
    time.sleep(seconds)
    steps = counter(pg)
    assert steps >= min_steps, f"only {steps} steps after {seconds:g} s of training"
    assert shown.screenshot() != before, f"the first {element} did not change while training"
    pg.screenshot(path=str(ARTIFACTS / f"{lesson}_training.png"), full_page=True)
    latency = None
    if pause:
        _, latency = pause_and_check_stopped(pg, lesson)
        assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    return {"steps": steps, "first_move": first_move, "pause": latency}


# Every <img> in the main area: is it loaded, with a real size? (a broken image has naturalWidth 0)
IMAGES_STATE = """() => Array.from(document.querySelectorAll('[data-testid=stMain] img')).map(
    im => ({complete: im.complete, w: im.naturalWidth, src: im.src.slice(0, 22)}))"""


def assert_images_loaded(pg) -> None:
    """Every live image of the page is a loaded inline PNG (issue 19: no broken images)."""
    for im in pg.evaluate(IMAGES_STATE):
        assert im["complete"] and im["w"] > 0 and im["src"].startswith("data:image/png"), im
