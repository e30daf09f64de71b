"""Real browser: the adversarial page trains live — the step counter moves, the attacked digit
changes and stays a loaded inline image, one click on Pause stops the counter."""
import time

import pytest

from conftest import (ARTIFACTS, assert_images_loaded, click_train, counter, pause_and_check_stopped,
                      wait_connected, wait_counter_moves)

pytestmark = pytest.mark.browser



def test_train_watch_the_attack_and_pause(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/adversarial")
    wait_connected(page)
    page.locator(".st-key-adversarial_run").first.wait_for()
    page.get_by_test_id("stImage").nth(3).wait_for()
    assert counter(page) == 0
    before = page.get_by_test_id("stImage").nth(1).screenshot()      # the gradient's sign
    click_train(page, "adversarial")
    wait_counter_moves(page, 20000)
    time.sleep(4)
    n = counter(page)
    assert n > 20, f"only {n} steps after 4 s of training"
    assert page.get_by_test_id("stImage").nth(1).screenshot() != before, "the gradient sign did not change"
    assert_images_loaded(page)
    page.screenshot(path=str(ARTIFACTS / "adversarial_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "adversarial")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    print(f"{n} steps after 4 s; Pause took {latency:.2f} s")
