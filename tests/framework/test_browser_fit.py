"""The first screen. Presentation mode presents: at 1280×720 with ?present=true, after Train, every
lesson shows its main live view whole on the first screen, with the title clear of Streamlit's
header. On a 1440×900 and a 1280×800 laptop, as the page opens and after Train, the main view is
whole on the first screen with the guide beside it and the lesson's key settings above it. The
main view is the box the lesson table names (``registry.Lesson.main``). Also: one click on Pause
stops the counter (no re-click)."""
import time

import pytest

from conftest import ARTIFACTS, click_train, pause_and_check_stopped, wait_connected, wait_counter_moves
from urllib.parse import urlencode

from core import registry

pytestmark = pytest.mark.browser
LESSONS = [l.key for l in registry.built()]


def main_view(page, lesson: str):
    """The lesson's main live view, once drawn (a chart's box is a 40 px placeholder until then)."""
    sel = registry.lesson(lesson).main_selector
    box = page.locator(sel).first
    box.wait_for()
    page.wait_for_function(f"() => {{ const e = document.querySelector('{sel}');"
                           " return e && e.getBoundingClientRect().height > 100; }", timeout=30000)
    return box


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
        box = main_view(page, lesson).bounding_box()
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


def whole_on_screen(page, lesson: str, height: int, when: str) -> dict:
    box = main_view(page, lesson).bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= height + 1, \
        f"{lesson} {when}: the main view spans {box['y']:.0f}–{box['y'] + box['height']:.0f} px, the screen 0–{height}"
    return box


@pytest.mark.parametrize("size", [(1440, 900), (1280, 800)], ids=["1440x900", "1280x800"])
@pytest.mark.parametrize("lesson", LESSONS)
def test_laptop_first_screen(chromium, app_url, lesson, size):
    """As the page opens and after Train: the main view whole, the guide's Set-up beside it, the
    key settings above it; the full settings folded."""
    width, height = size
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60000)
    try:
        page.goto(f"{app_url}/{lesson}?{urlencode(registry.lesson(lesson).live_query)}")
        wait_connected(page)
        page.locator(f".st-key-{lesson}_run").first.wait_for()
        whole_on_screen(page, lesson, height, "as it opens")
        quick = page.locator(f".st-key-{lesson}_quick").first
        n_keys = len(registry.lesson(lesson).key_settings)
        assert 2 <= n_keys <= 4
        q = quick.bounding_box()
        assert q and q["y"] + q["height"] <= height, f"{lesson}: the key settings are below the first screen"
        for name in registry.lesson(lesson).key_settings:
            assert quick.locator(f".st-key-{lesson}_{name}").count() == 1, f"{lesson}: {name} is not beside the chart"
        assert not page.locator("[data-testid=stMain] [data-testid=stExpander] details[open] > summary").filter(
            has_text="⚙️ Settings").count(), f"{lesson}: the full settings are open as the page opens"
        click_train(page, lesson)
        wait_counter_moves(page, 20000)
        time.sleep(2.0)
        box = whole_on_screen(page, lesson, height, "after Train")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"first_screen_{lesson}_{width}x{height}.png"))
        # the guide shares the first screen: its step, its title and its Set-up button in view
        guide = page.locator(f".st-key-{lesson}_guide").first.bounding_box()
        setup = page.locator(f".st-key-{lesson}_guide_setup").first.bounding_box()
        assert guide and setup and guide["x"] > box["x"] and setup["y"] + setup["height"] <= height, \
            f"{lesson}: the guide is not beside the live view on the first screen ({guide}, {setup})"
        print(f"{lesson} {width}×{height}: main view {box['y']:.0f}–{box['y'] + box['height']:.0f} px")
    finally:
        context.close()


def test_home_cards_show_each_lessons_main_view(chromium, app_url):
    """Every card is its lesson's own main view (cut out by scripts/make_cards.py), drawn large
    enough to read: the card is at least half the view's width on the page it was cut from, whose
    type is presentation mode's (20 px; charts' ~16 px), so no text on a card under ~8 px (most
    cards 0.6–0.8 of the view)."""
    from PIL import Image
    from core.registry import ROOT
    made = {}
    for lesson in registry.built():
        info = Image.open(ROOT / lesson.picture).info
        assert info.get("made-by") == "scripts/make_cards.py" and info.get("main-view") == lesson.main, \
            f"{lesson.picture} is not {lesson.key}'s main view: run scripts/make_cards.py"
        made[lesson.key] = float(info["view-css-width"])
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60000)
    try:
        page.goto(app_url)
        wait_connected(page)
        cards = page.locator("[data-testid=stMain] [data-testid=stImage] img")
        cards.nth(len(made) - 1).wait_for()
        assert cards.count() == len(made)
        for i, lesson in enumerate(registry.built()):
            drawn = cards.nth(i).bounding_box()["width"]
            assert drawn >= 0.5 * made[lesson.key], \
                f"{lesson.key}'s card is {drawn:.0f} px wide for a view {made[lesson.key]:.0f} px wide"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "home_cards_1440x900.png"), full_page=True)
    finally:
        context.close()
