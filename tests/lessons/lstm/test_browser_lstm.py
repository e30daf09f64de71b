"""Real browser: the LSTM lesson trains live; the counter and the charts change; time scrubs."""
import time

import pytest

from tests.conftest import ARTIFACTS, counter, wait_connected, wait_counter_moves, wait_counter_settles

pytestmark = pytest.mark.browser


def test_lstm_train_watch_and_scrub(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/Inside_LSTM?lstm_seq_len=30")
    wait_connected(page)
    train = page.locator(".st-key-lstm_train button").first
    train.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert counter(page) == 0
    # charts in page order: loss, clipping, input strip, then i, f, o, g, c, h
    chart = page.get_by_test_id("stVegaLiteChart").nth(7)      # the cell-state heatmap
    chart.wait_for()
    before = chart.screenshot()
    train.click()
    wait_counter_moves(page, 15000)
    # the machine may be shared: poll (up to 20 s) instead of asserting a speed
    deadline = time.time() + 20
    while counter(page) <= 20 and time.time() < deadline:
        time.sleep(0.5)
    n = counter(page)
    assert n > 20, f"only {n} steps after 20 s of training"
    changed = False
    while not changed and time.time() < deadline + 10:
        changed = chart.screenshot() != before
        time.sleep(0.5)
    assert changed, "the cell-state heatmap did not change while training"
    page.screenshot(path=str(ARTIFACTS / "lstm_training.png"), full_page=True)
    train.click()                                               # Pause
    wait_counter_settles(page, train)
    # scrub time with the keyboard: the equations follow the selected step
    handle = page.locator(".st-key-lstm_t input[type=range]").first
    handle.focus()
    handle.press("Home")
    page.wait_for_function("() => document.body.innerText.includes('time step t = 0 of')", timeout=15000)
    page.screenshot(path=str(ARTIFACTS / "lstm_scrubbed.png"), full_page=True)
