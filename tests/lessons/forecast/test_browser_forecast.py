"""Real browser: the forecasting lesson trains and the forecast chart changes."""
import time

import pytest

from tests.conftest import ARTIFACTS, counter, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser


def test_forecast_trains_and_the_chart_changes(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/LSTM_Forecast?fc_epochs=300")
    wait_connected(page)
    page.locator(".st-key-fc_train button").first.wait_for()
    chart = page.get_by_test_id("stVegaLiteChart").first         # the series + forecast chart
    chart.wait_for()
    time.sleep(1.0)                                                  # let the first drawing land
    assert counter(page) == 0
    before = chart.screenshot()
    page.locator(".st-key-fc_train button").first.click()
    wait_counter_moves(page, 10000)
    time.sleep(2.5)
    n = counter(page)
    assert n >= 10, f"only {n} epochs after 2.5 s of training"
    assert chart.screenshot() != before, "the forecast chart did not change while training"
    page.screenshot(path=str(ARTIFACTS / "forecast_training.png"), full_page=True)
    # the run stops by itself at its epoch count and lands on the leaderboard
    page.get_by_text("Finished 300 epochs").first.wait_for(timeout=30000)
    assert counter(page) == 300
    page.screenshot(path=str(ARTIFACTS / "forecast_finished.png"), full_page=True)
    board = page.get_by_test_id("stDataFrame").first
    board.wait_for()
    board.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "forecast_leaderboard.png"))
