"""Real browser: open the conv1d lesson, Train; the counter and the accuracy chart move; one
click on Pause stops the counter."""
import pytest

from conftest import train_and_watch

pytestmark = pytest.mark.browser


def test_conv1d_trains_live_and_pauses(page):
    got = train_and_watch(page, "conv1d", seconds=3, min_steps=20)
    print(f"first move {got['first_move']:.2f} s; {got['steps']} steps after 3 s; Pause {got['pause']:.2f} s")
