"""Real browser: the character lesson trains live, its samples change, and one click on Pause stops it."""
import time

import pytest

from conftest import ARTIFACTS, click_train, counter, pause_and_check_stopped, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser


def samples_text(page) -> str:
    return page.locator("[data-testid=stMarkdownContainer]").filter(has_text="T = 0.2").first.inner_text()


def test_train_watch_the_samples_and_pause(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/charrnn?charrnn_corpus=First+names+%28US+Census+1990%29")
    wait_connected(page)
    page.locator(".st-key-charrnn_run").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert counter(page) == 0
    before = samples_text(page)
    t0 = time.time()
    click_train(page, "charrnn")
    wait_counter_moves(page, 20000)
    first_move = time.time() - t0
    time.sleep(4)
    n = counter(page)
    assert n > 20, f"only {n} steps after 4 s of training"
    assert samples_text(page) != before, "the samples did not change while training"
    page.screenshot(path=str(ARTIFACTS / "charrnn_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "charrnn")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    print(f"first visible step after {first_move:.2f} s; {n} steps after 4 s; Pause took {latency:.2f} s")
