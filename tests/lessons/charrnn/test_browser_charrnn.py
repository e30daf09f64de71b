"""Real browser: the character lesson trains live, its samples change, and one click on Pause stops it."""
import time

import pytest

from conftest import pause_and_check_stopped, train_and_watch

pytestmark = pytest.mark.browser


def samples_text(page) -> str:
    return page.locator("[data-testid=stMarkdownContainer]").filter(has_text="T = 0.2").first.inner_text()


def test_train_watch_the_samples_and_pause(page):
    got = train_and_watch(page, "charrnn", path="/charrnn?charrnn_corpus=First+names+%28US+Census+1990%29",
                          seconds=4, min_steps=20, pause=False)
    before = samples_text(page)
    time.sleep(1.5)
    assert samples_text(page) != before, "the samples did not change while training"
    _, latency = pause_and_check_stopped(page, "charrnn")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    print(f"first visible step after {got['first_move']:.2f} s; {got['steps']} steps after 4 s; Pause took {latency:.2f} s")
