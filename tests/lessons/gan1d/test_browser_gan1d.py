"""Real browser: Home -> the 1D GAN lesson -> Train; the counter and the chart change."""
import time

import pytest

from conftest import ARTIFACTS, click_train, counter, pause_and_check_stopped, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser


def test_home_to_gan_train_and_watch(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url)
    wait_connected(page)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="1D GAN").first.click()
    page.locator(".st-key-gan1d_run").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.get_by_test_id("stMetricValue").first.wait_for()
    assert counter(page) == 0
    chart = page.get_by_test_id("stVegaLiteChart").first
    before = chart.screenshot()
    t0 = time.time()
    click_train(page, "gan1d")
    # training visibly moves within a second or so of pressing Train
    wait_counter_moves(page, 10000)
    first_move = time.time() - t0
    time.sleep(3)
    n = counter(page)
    assert n > 500, f"only {n} iterations after 3 s of training"
    assert chart.screenshot() != before, "the chart did not change while training"
    page.screenshot(path=str(ARTIFACTS / "gan1d_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "gan1d")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    print(f"first visible step after {first_move:.2f} s; {n} iterations after 3 s; Pause took {latency:.2f} s")


def test_url_opens_the_lesson_as_prepared(page):
    page.goto(page.app_url + "/1D_GAN?gan1d_k=4&gan1d_g_loss=minimax&present=true")
    wait_connected(page)
    page.locator(".st-key-gan1d_run").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert page.locator(".st-key-gan1d_k input[type=range]").first.input_value() == "4"
    # presentation mode: settings folded into an expander, large type
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    # the loss is a key setting: a menu above the live view, showing the link's choice
    assert "minimax" in page.locator(".st-key-gan1d_quick .st-key-gan1d_g_loss").first.evaluate(
        "e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value + ' ' + (i.getAttribute('aria-label') || '')).join(' ')")
