"""Presentation mode presents: at 1280×720 with ?present=true, after Train, every lesson shows its
main live chart whole on the first screen, with the title clear of Streamlit's header; on a
1440×900 laptop the main chart is in view after Train too, with the guide beside it. The main chart is the first chart or
live image after the controls. Also: one click on Pause stops the counter (no re-click)."""
import time

import pytest

from conftest import ARTIFACTS, click_train, pause_and_check_stopped, wait_connected, wait_counter_moves
from urllib.parse import urlencode

from core import registry

pytestmark = pytest.mark.browser
LESSONS = [l.key for l in registry.built()]
MAIN = "[data-testid=stMain] [data-testid=stVegaLiteChart], [data-testid=stMain] [data-testid=stImage]"


def open_and_train(page, url: str, lesson: str) -> None:
    page.goto(url)
    wait_connected(page)
    page.locator(f".st-key-{lesson}_run").first.wait_for()
    click_train(page, lesson)
    wait_counter_moves(page, 20000)
    time.sleep(2.0)


@pytest.mark.parametrize("lesson", LESSONS)
def test_presentation_fits_1280x720(chromium, app_url, lesson):
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60000)
    try:
        query = urlencode({**registry.lesson(lesson).live_query, "present": "true"})
        open_and_train(page, f"{app_url}/{lesson}?{query}", lesson)
        header = page.get_by_test_id("stHeader").bounding_box()
        title = page.locator("h1").first.bounding_box()
        assert title["y"] >= header["y"] + header["height"] - 1, "the title sits under the header"
        main = page.locator(MAIN).first
        box = main.bounding_box()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"present_{lesson}.png"))
        assert box and box["height"] > 100, f"no main chart on {lesson}"
        assert box["y"] >= 0 and box["y"] + box["height"] <= 720 + 1, \
            f"{lesson}: main chart spans {box['y']:.0f}–{box['y'] + box['height']:.0f} px, the screen 0–720"
        # settings are folded in presentation mode
        assert not page.locator("[data-testid=stMain] [data-testid=stExpander] details[open]").filter(has_text="Settings").count()
        _, latency = pause_and_check_stopped(page, lesson)
        print(f"{lesson}: main chart {box['y']:.0f}–{box['y'] + box['height']:.0f} px; Pause {latency:.2f} s")
    finally:
        context.close()


@pytest.mark.parametrize("lesson", LESSONS)
def test_laptop_shows_the_live_chart_after_train(chromium, app_url, lesson):
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60000)
    try:
        open_and_train(page, f"{app_url}/{lesson}?{urlencode(registry.lesson(lesson).live_query)}", lesson)
        box = page.locator(MAIN).first.bounding_box()
        assert box and box["y"] + min(box["height"], 200) <= 900, \
            f"{lesson}: the live chart starts at {box['y']:.0f} px on a 900 px screen"
        # the guide shares the first screen: its step, its title and its Set-up button in view
        guide = page.locator(f".st-key-{lesson}_guide").first.bounding_box()
        setup = page.locator(f".st-key-{lesson}_guide_setup").first.bounding_box()
        assert guide and setup and guide["x"] > box["x"] and setup["y"] + setup["height"] <= 900, \
            f"{lesson}: the guide is not beside the live view on the first screen ({guide}, {setup})"
    finally:
        context.close()
