"""Real browser: the forecasting lesson trains, stops at its epochs, blows up in red at the highest
learning rate, and keeps its main chart on the first screen (projector and laptop)."""
import re
import time

import pytest

from conftest import (ARTIFACTS, click_train, counter, pause_and_check_stopped, wait_connected,
                      wait_counter_moves)

pytestmark = pytest.mark.browser


def open_lesson(page, query: str = ""):
    page.goto(page.app_url + "/forecast" + query)
    wait_connected(page)
    page.locator(".st-key-forecast_run").first.wait_for()
    chart = page.get_by_test_id("stVegaLiteChart").first         # the series + forecast chart
    chart.wait_for()
    time.sleep(1.0)                                                  # let the first drawing land
    return chart


def test_forecast_trains_pauses_and_stops_at_its_epochs(page):
    ARTIFACTS.mkdir(exist_ok=True)
    chart = open_lesson(page, "?forecast_epochs=300")
    assert counter(page) == 0
    before = chart.screenshot()
    click_train(page, "forecast")
    wait_counter_moves(page, 10000)
    time.sleep(2.5)
    n = counter(page)
    assert n >= 10, f"only {n} epochs after 2.5 s of training"
    assert chart.screenshot() != before, "the forecast chart did not change while training"
    page.screenshot(path=str(ARTIFACTS / "forecast_training.png"), full_page=True)
    stopped, latency = pause_and_check_stopped(page, "forecast")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause"
    # on again: the run stops by itself at its epoch count and lands on the leaderboard
    click_train(page, "forecast")
    page.get_by_text("Finished 300 epochs").first.wait_for(timeout=60000)
    assert counter(page) == 300
    page.screenshot(path=str(ARTIFACTS / "forecast_finished.png"), full_page=True)
    board = page.get_by_test_id("stDataFrame").first
    board.wait_for()
    board.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "forecast_leaderboard.png"))
    print(f"{n} epochs after 2.5 s; Pause took {latency:.2f} s (stopped at {stopped})")


def test_adam_at_the_highest_learning_rate_stops_with_the_blowup_message(page):
    """Issue 11: it used to say "Finished 150 epochs" in green and join the leaderboard."""
    open_lesson(page, "?forecast_lr=10")
    click_train(page, "forecast")
    t0 = time.time()
    page.get_by_text("The run blew up").first.wait_for(timeout=20000)
    print(f"blow-up message {time.time() - t0:.1f} s after Train, at epoch {counter(page)}")
    time.sleep(1.5)
    assert page.get_by_text(re.compile(r"Finished \d+ epochs")).count() == 0
    assert page.get_by_test_id("stDataFrame").count() == 0              # the leaderboard stays empty
    page.screenshot(path=str(ARTIFACTS / "forecast_blowup.png"), full_page=True)


@pytest.mark.parametrize("width, height, query", [(1280, 720, "?present=true"), (1440, 900, "?present=true"),
                                                  (1440, 900, "")])
def test_the_main_chart_is_whole_on_the_first_screen_after_train(page, width, height, query):
    page.set_viewport_size({"width": width, "height": height})
    chart = open_lesson(page, query)
    click_train(page, "forecast")
    wait_counter_moves(page, 10000)
    time.sleep(1.5)
    box = chart.bounding_box()
    scroll = page.evaluate("window.scrollY")
    page.screenshot(path=str(ARTIFACTS / f"forecast_first_screen_{width}x{height}{'_present' if query else ''}.png"))
    top, bottom = box["y"], box["y"] + box["height"]
    assert scroll == 0 and top >= 0 and bottom <= height, f"chart spans {top:.0f}–{bottom:.0f} px of {height}"
    assert "recursive forecast" in chart.inner_text() or chart.locator("canvas, svg").count()
