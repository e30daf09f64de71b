"""Real browser: the autoencoder page trains live — the step counter moves, the latent maps and
the reconstructions change and stay loaded inline images, one click on Pause stops the counter,
and the explorer opens on Pause."""
import pytest

from conftest import assert_images_loaded, pause_and_check_stopped, train_and_watch

pytestmark = pytest.mark.browser


def test_train_watch_the_latent_space_separate_and_pause(page):
    got = train_and_watch(page, "autoencoders", element="stImage", seconds=4, min_steps=50, pause=False)
    assert page.get_by_test_id("stVegaLiteChart").count() >= 7
    assert_images_loaded(page)
    _, latency = pause_and_check_stopped(page, "autoencoders")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    page.get_by_text("Pick a latent point").first.wait_for()      # the explorer opens on Pause
    print(f"{got['steps']} steps after 4 s; Pause took {latency:.2f} s")
