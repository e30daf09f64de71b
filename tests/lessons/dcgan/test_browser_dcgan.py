"""Real browser: the DCGAN page trains live — the step counter moves, the generated grid changes
and stays a loaded inline image, one click on Pause stops the counter."""
import pytest

from conftest import pause_and_check_stopped, train_and_watch

pytestmark = pytest.mark.browser

IMAGES_STATE = """() => Array.from(document.querySelectorAll('[data-testid=stMain] img')).map(
    im => ({complete: im.complete, w: im.naturalWidth, src: im.src.slice(0, 22)}))"""


def test_train_watch_the_digits_form_and_pause(page):
    got = train_and_watch(page, "dcgan", element="stImage", seconds=4, min_steps=20, pause=False)
    for im in page.evaluate(IMAGES_STATE):
        assert im["complete"] and im["w"] > 0 and im["src"].startswith("data:image/png"), im
    _, latency = pause_and_check_stopped(page, "dcgan")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    page.get_by_text("A walk in z").first.wait_for()       # the latent explorer opens on Pause
    print(f"{got['steps']} steps after 4 s; Pause took {latency:.2f} s")
