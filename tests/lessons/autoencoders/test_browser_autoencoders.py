"""Real browser: the autoencoder page trains live — the step counter moves, the latent maps and
the reconstructions change and stay loaded inline images, one click on Pause stops the counter,
and the explorer opens on Pause."""
import time

import pytest

from conftest import ARTIFACTS, click_train, counter, pause_and_check_stopped, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser

IMAGES_STATE = """() => Array.from(document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')).map(
    im => ({complete: im.complete, w: im.naturalWidth, src: im.src.slice(0, 22)}))"""


def test_train_watch_the_latent_space_separate_and_pause(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/autoencoders")
    wait_connected(page)
    page.locator(".st-key-autoencoders_run").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.get_by_test_id("stImage").first.wait_for()
    assert counter(page) == 0
    recon = page.get_by_test_id("stImage").first
    before = recon.screenshot()
    click_train(page, "autoencoders")
    wait_counter_moves(page, 20000)
    time.sleep(4)
    n = counter(page)
    assert n > 50, f"only {n} steps after 4 s of training"
    assert recon.screenshot() != before, "the reconstructions did not change while training"
    assert page.get_by_test_id("stVegaLiteChart").count() >= 7
    for im in page.evaluate(IMAGES_STATE):
        assert im["complete"] and im["w"] > 0 and im["src"].startswith("data:image/png"), im
    page.screenshot(path=str(ARTIFACTS / "autoencoders_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "autoencoders")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    page.get_by_text("Pick a latent point").first.wait_for()      # the explorer opens on Pause
    print(f"{n} steps after 4 s; Pause took {latency:.2f} s")
