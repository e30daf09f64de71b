"""Real browser: the DCGAN page trains live — the step counter moves, the generated grid changes
and stays a loaded inline image, one click on Pause stops the counter."""
import time

import pytest

from conftest import ARTIFACTS, click_train, counter, pause_and_check_stopped, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser

IMAGES_STATE = """() => Array.from(document.querySelectorAll('[data-testid=stMain] img')).map(
    im => ({complete: im.complete, w: im.naturalWidth, src: im.src.slice(0, 22)}))"""


def test_train_watch_the_digits_form_and_pause(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/dcgan")
    wait_connected(page)
    page.locator(".st-key-dcgan_run").first.wait_for()
    page.get_by_test_id("stImage").first.wait_for()
    assert counter(page) == 0
    grid = page.get_by_test_id("stImage").first
    before = grid.screenshot()
    click_train(page, "dcgan")
    wait_counter_moves(page, 20000)
    time.sleep(4)
    n = counter(page)
    assert n > 20, f"only {n} steps after 4 s of training"
    assert grid.screenshot() != before, "the generated digits did not change while training"
    for im in page.evaluate(IMAGES_STATE):
        assert im["complete"] and im["w"] > 0 and im["src"].startswith("data:image/png"), im
    page.screenshot(path=str(ARTIFACTS / "dcgan_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "dcgan")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    page.get_by_text("A walk in z").first.wait_for()       # the latent explorer opens on Pause
    print(f"{n} steps after 4 s; Pause took {latency:.2f} s")
