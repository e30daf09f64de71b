"""Real browser: the upsampling page — the viewer draws the lecture's example; the decoders train live."""
import time

import pytest

from tests.conftest import ARTIFACTS, counter, wait_connected, pause_and_check_stopped, wait_counter_moves

pytestmark = pytest.mark.browser


def test_upsampling_page_views_and_trains(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/Upsampling")
    wait_connected(page)
    page.get_by_text("(2 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 3").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    # change the stride: the formula follows
    page.screenshot(path=str(ARTIFACTS / "upsampling_viewer.png"), full_page=True)
    grid = page.locator(".st-key-up_grid input").first
    grid.fill("1, 2, 3; 4, 5, 6")
    grid.press("Enter")
    page.get_by_text("(2 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 3").first.wait_for()   # height
    page.get_by_text("(3 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 5").first.wait_for()   # width

    page.get_by_role("tab", name="② Overlap and checkerboards").click()
    page.get_by_text("uneven").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "upsampling_overlap.png"), full_page=True)

    page.get_by_role("tab", name="③ Four decoders trained live").click()
    train = page.locator(".st-key-up_train button").first
    train.wait_for()
    assert counter(page) == 0
    img = page.get_by_test_id("stImage").nth(1)
    img.wait_for()
    before = img.screenshot()
    train.click()
    wait_counter_moves(page, 20000)
    time.sleep(5)
    n = counter(page)
    assert n > 20, f"only {n} steps after 5 s of training"
    assert img.screenshot() != before, "the decoder's output did not change while training"
    page.screenshot(path=str(ARTIFACTS / "upsampling_training.png"), full_page=True)
    pause_and_check_stopped(page, "up", reclick=False)
    assert not page.get_by_test_id("stException").count()
