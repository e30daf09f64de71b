"""Real browser: the DCGAN page trains live — the step counter moves, the generated grid changes
and stays a loaded inline image, one click on Pause stops the counter."""
import pytest

from conftest import assert_images_loaded, pause_and_check_stopped, train_and_watch

pytestmark = pytest.mark.browser



def test_train_watch_the_digits_form_and_pause(page):
    got = train_and_watch(page, "dcgan", element="stImage", seconds=4, min_steps=20, pause=False)
    assert_images_loaded(page)
    _, latency = pause_and_check_stopped(page, "dcgan")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    page.get_by_text("A walk in z").first.wait_for()       # the latent explorer opens on Pause
    print(f"{got['steps']} steps after 4 s; Pause took {latency:.2f} s")
