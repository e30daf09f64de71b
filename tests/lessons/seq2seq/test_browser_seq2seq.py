"""Real browser: Home -> the seq2seq lesson -> Train; the counter and the charts move; one Pause stops it."""
import time
from urllib.parse import urlencode

import pytest

from conftest import ARTIFACTS, click_train, counter, pause_and_check_stopped, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser


def test_home_to_seq2seq_train_and_watch(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url)
    wait_connected(page)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Sequence to sequence").first.click()
    page.locator(".st-key-seq2seq_run").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert counter(page) == 0
    heat = page.get_by_test_id("stVegaLiteChart").nth(1)
    before = heat.screenshot()
    click_train(page, "seq2seq")
    wait_counter_moves(page, 15000)
    time.sleep(4)
    n = counter(page)
    assert n > 10, f"only {n} steps after 4 s of training"
    assert heat.screenshot() != before, "the attention map did not change while training"
    page.screenshot(path=str(ARTIFACTS / "seq2seq_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "seq2seq")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"


def test_url_opens_the_lesson_as_prepared(page):
    query = urlencode({"seq2seq_task": "Reverse a digit string", "seq2seq_attention": "dot product (Luong)",
                       "present": "true"})
    page.goto(f"{page.app_url}/seq2seq?{query}")
    wait_connected(page)
    page.locator(".st-key-seq2seq_run").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    # attention is a key setting: a menu above the live view, showing the link's choice
    assert "dot product (Luong)" in page.locator(".st-key-seq2seq_quick .st-key-seq2seq_attention").first.evaluate(
        "e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value + ' ' + (i.getAttribute('aria-label') || '')).join(' ')")
