"""Real browser: the mode-collapse page -> Train; the step counter and the sample chart change."""
import time

import pytest

from tests.conftest import ARTIFACTS, counter, wait_connected, pause_and_check_stopped, wait_counter_moves

pytestmark = pytest.mark.browser


def test_mode_collapse_page_trains_and_draws(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/Mode_Collapse?gan2d_eval_every=25")
    wait_connected(page)
    page.locator(".st-key-gan2d_train button").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert counter(page) == 0
    chart = page.get_by_test_id("stVegaLiteChart").first
    before = chart.screenshot()
    page.locator(".st-key-gan2d_train button").first.click()
    wait_counter_moves(page, 15000)
    time.sleep(4)
    n = counter(page)
    assert n > 50, f"only {n} steps after 4 s of training"
    assert chart.screenshot() != before, "the sample chart did not change while training"
    page.screenshot(path=str(ARTIFACTS / "gan2d_training.png"), full_page=True)
    pause_and_check_stopped(page, "gan2d")
    assert not page.get_by_test_id("stException").count()
