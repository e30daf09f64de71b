"""A run survives its worker's death (issue 35), end to end behind HAProxy: two workers
(``scripts/serve.py``) share one SQLite class store; a joined student trains in Chromium, the worker
is killed by its PID mid-run, and the student's reconnect (the same address, which carries the class
and the run token) continues from the last checkpoint the store kept, once the dead page's hold on
the run has run out: same step, and the history from step 1, not a run at step 0. HAProxy and Chromium are Debian packages (scripts/test.sh); without
them the test is skipped on a developer's machine and fails in CI."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from conftest import ARTIFACTS, click_train, counter, wait_connected, wait_counter_moves

from core.classroom.store import Store

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from serve import die_with_parent, free_ports  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "framework"))
from test_proxy import _stop, haproxy_exe  # noqa: E402


def _state(path: pathlib.Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


@pytest.mark.browser
def test_a_killed_workers_student_continues_from_the_store(chromium, tmp_path):
    haproxy_exe()
    db = f"sqlite:///{tmp_path / 'class.db'}"
    first = free_ports(2, consecutive=True)[0]
    proxy = free_ports(1, avoid=(first, first + 1))[0]
    state = tmp_path / "state.json"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "class_resume_serve.log", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "serve.py"), "--workers", "2", "--address",
                             "127.0.0.1", "--port", str(proxy), "--first-port", str(first), "--state", str(state)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
                            env=dict(os.environ, DASH_CLASS_DB=db))
    store = Store(db)
    context = None
    try:
        deadline = time.time() + 150
        while not (_state(state).get("haproxy_pid") and all(w.get("warmed") for w in _state(state).get("workers", {}).values())):
            assert proc.poll() is None and time.time() < deadline, "serve.py did not get ready; see tests/artifacts"
            time.sleep(0.3)
        code = store.create_class()
        token = store.join(code, "ada")
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60000)
        page.goto(f"http://127.0.0.1:{proxy}/gan1d?class={code}&run={token}")
        wait_connected(page)
        page.get_by_text("Sharing").first.wait_for()
        click_train(page, "gan1d")
        wait_counter_moves(page)
        deadline = time.time() + 40          # a checkpoint every ~10 s while training
        while (store.load_checkpoint(token, "gan1d") or {}).get("step", 0) < 100:
            assert time.time() < deadline, "no checkpoint reached the store in 40 s"
            time.sleep(0.5)
        worker = next(c["value"] for c in context.cookies() if c["name"] == "DASH_WORKER")
        pid = _state(state)["workers"][worker]["pid"]
        os.kill(pid, signal.SIGKILL)          # mid-run: the student is training
        t_kill = time.time()
        saved = store.load_checkpoint(token, "gan1d")["step"]     # the dead worker writes no more
        # the student reconnects (their page's address keeps ?class=…&run=…), on a live worker. Until
        # HAProxy's health check has seen the worker die, a request sent to it fails: open again.
        address = page.url
        assert f"run={token}" in address
        deadline = time.time() + 60
        while True:
            page.goto(address)
            try:
                page.locator("[data-testid=stApp][data-test-connection-state=CONNECTED]").wait_for(
                    state="attached", timeout=10000)
                break
            except Exception:
                assert time.time() < deadline, "no live worker answered the reconnect in 60 s"
        # the dead page's hold on the run runs out (access.LEASE_SECONDS), then the run continues
        page.get_by_text("continues from step").first.wait_for(timeout=90000)
        deadline = time.time() + 15           # the step-0 page shown while waiting is redrawn
        while counter(page) != saved and time.time() < deadline:
            time.sleep(0.3)
        assert counter(page) == saved, "the run did not continue from the saved step"
        deadline = time.time() + 30           # the resumed run's first frame publishes its summary
        while True:
            run = store.own_run(token, "gan1d")
            if run and run["updated"] > t_kill:
                break
            assert time.time() < deadline, "the resumed run published nothing"
            time.sleep(0.3)
        assert run["step"] == saved
        steps = run["history"]["step"]
        assert steps[0] <= 50 and steps[-1] == saved and len(steps) > 10, steps   # the whole history
    finally:
        if context is not None:
            context.close()
        code_ = _stop(proc)
        log.close()
        store.close()
    assert code_ == 0
