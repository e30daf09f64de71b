"""Keys a presentation clicker or a keyboard sends (core/ui/keys.py), pressed in Chromium: S steps,
T trains and pauses, X resets, Page Down/Up move through the guided steps; none fires while a
text box has the focus."""
from __future__ import annotations

import pytest

from conftest import counter, wait_connected, wait_counter_settles

pytestmark = pytest.mark.browser


def _focus_page(pg) -> None:
    """The focus on the page itself (the title), not on a widget; the first run has settled."""
    pg.get_by_test_id("stMetricValue").first.wait_for()
    pg.wait_for_timeout(1500)
    pg.locator("h1").first.click()


def _wait_count(pg, test: str) -> None:
    pg.wait_for_function("() => { const m = document.querySelector('[data-testid=stMetricValue]');"
                         f" return m && parseInt(m.innerText.replace(/[^0-9]/g, '')) {test}; }}", timeout=30000)


def _guide_step(pg) -> str:
    return pg.evaluate("new URLSearchParams(location.search).get('gan1d_step') || '1'")


def test_clicker_and_keyboard_keys(page):
    page.goto(page.app_url + "/gan1d")
    wait_connected(page)
    page.locator(".st-key-gan1d_guide").wait_for()
    _focus_page(page)
    page.keyboard.press("s")
    _wait_count(page, "=== 1")
    page.keyboard.press("t")
    _wait_count(page, "> 50")
    page.keyboard.press("t")
    stopped = wait_counter_settles(page)
    page.wait_for_timeout(1000)
    assert counter(page) == stopped, "T did not pause"
    page.keyboard.press("PageDown")
    page.wait_for_function("() => new URLSearchParams(location.search).get('gan1d_step') === '2'")
    page.keyboard.press("PageDown")
    page.wait_for_function("() => new URLSearchParams(location.search).get('gan1d_step') === '3'")
    page.keyboard.press("PageUp")
    page.wait_for_function("() => new URLSearchParams(location.search).get('gan1d_step') === '2'")
    page.keyboard.press("x")
    _wait_count(page, "=== 0")


def test_no_key_fires_while_typing(page):
    """charrnn's prompt box: typing 'sxt' there neither steps, resets nor trains."""
    page.goto(page.app_url + "/charrnn")
    wait_connected(page)
    page.locator(".st-key-charrnn_guide").wait_for()
    _focus_page(page)
    page.keyboard.press("s")
    _wait_count(page, "=== 1")
    page.locator(".st-key-charrnn_settings_open summary, .st-key-charrnn_settings_open [data-testid=stExpanderToggleIcon]").first.click()
    box = page.locator(".st-key-charrnn_prompt input")
    box.click()
    box.type("sxt", delay=80)
    page.wait_for_timeout(2000)
    assert box.input_value() == "sxt"
    assert counter(page) == 1, "a key fired while typing in a text box"
    assert _guide_step(page) == "1"
