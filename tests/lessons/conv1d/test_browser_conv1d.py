"""Real browser: open the conv1d lesson, Train; the counter and the accuracy chart move; one
click on Pause stops the counter."""
import time

import pytest

from conftest import ARTIFACTS, click_train, counter, pause_and_check_stopped, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser


def test_conv1d_trains_live_and_pauses(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/conv1d")
    wait_connected(page)
    page.locator(".st-key-conv1d_run").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert counter(page) == 0
    chart = page.get_by_test_id("stVegaLiteChart").first
    before = chart.screenshot()
    click_train(page, "conv1d")
    wait_counter_moves(page, 20000)
    time.sleep(3)
    n = counter(page)
    assert n > 20, f"only {n} steps after 3 s of training"
    assert chart.screenshot() != before, "the accuracy chart did not change while training"
    page.screenshot(path=str(ARTIFACTS / "conv1d_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "conv1d")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
