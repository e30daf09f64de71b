"""Real browser: the upsampling page — the viewer draws the lecture's example; the overlap view
opens from its radio; the decoders train live with every picture loaded (issue 19: no broken
images while training); in presentation mode at 1280×720 the live pictures and the loss chart are
whole on the first screen."""
import time

import pytest

from conftest import (ARTIFACTS, IMAGES_STATE, click_train, counter, pause_and_check_stopped, wait_connected,
                      wait_counter_moves)

pytestmark = pytest.mark.browser



def test_viewer_and_overlap_views(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(page.app_url + "/upsampling")
    wait_connected(page)
    page.get_by_text("(2 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 3").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "upsampling_viewer.png"), full_page=True)
    grid = page.locator(".st-key-upsampling_grid input").first
    grid.fill("1, 2, 3; 4, 5, 6")
    grid.press("Enter")
    page.get_by_text("(2 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 3").first.wait_for()   # height
    page.get_by_text("(3 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 5").first.wait_for()   # width

    page.get_by_text("② Overlap and checkerboards").first.click()
    page.get_by_text("uneven").first.wait_for()
    assert "upsampling_view=" in page.url            # the link now opens this view
    page.screenshot(path=str(ARTIFACTS / "upsampling_overlap.png"), full_page=True)
    assert not page.get_by_test_id("stException").count()


def test_live_images_stay_loaded_while_training(page):
    """Issue 19: while training, every decoder picture is a loaded image (no broken-image icons,
    no "Image source error", no 404 from the media endpoint), checked at several moments."""
    problems: list[str] = []

    def on_console(m) -> None:
        # (Streamlit's start probes /upsampling/_stcore/… and gets 404s by design: not images)
        where = (m.location or {}).get("url", "")
        if "Image source error" in m.text or ("404" in m.text and "_stcore" not in where):
            problems.append(f"console: {m.text} {where}")

    page.on("console", on_console)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/_stcore/" not in r.url else None)
    page.goto(page.app_url + "/upsampling?upsampling_view=decoders")
    wait_connected(page)
    page.locator(".st-key-upsampling_run").first.wait_for()
    page.get_by_test_id("stImage").first.wait_for()
    assert counter(page) == 0
    img = page.get_by_test_id("stImage").nth(1)
    before = img.screenshot()
    click_train(page, "upsampling")
    wait_counter_moves(page, 20000)
    checked = 0
    for _ in range(8):                                  # several moments during training
        time.sleep(0.7)
        state = page.evaluate(IMAGES_STATE)
        assert len(state) >= 5, state
        broken = [s for s in state if not (s["complete"] and s["w"] > 0)]
        # a frame's images arrive inside the frame: at most a picture being decoded right now
        assert len(broken) <= 1 and all(s["src"].startswith("data:image/png") for s in state), state
        checked += len(state) - len(broken)
    n = counter(page)
    assert n > 20, f"only {n} steps after ~6 s of training"
    assert img.screenshot() != before, "the decoder's output did not change while training"
    page.screenshot(path=str(ARTIFACTS / "upsampling_training.png"), full_page=True)
    _, latency = pause_and_check_stopped(page, "upsampling")
    assert latency < 5, f"the counter moved {latency:.1f} s after Pause (one click must do)"
    state = page.evaluate(IMAGES_STATE)
    assert all(s["complete"] and s["w"] > 0 for s in state), state
    assert not problems, problems
    assert not page.get_by_test_id("stException").count()
    print(f"{checked} loaded pictures seen over 8 moments; {n} steps; Pause took {latency:.2f} s")


def test_presentation_mode_shows_the_live_view_on_the_first_screen(page):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(page.app_url + "/upsampling?upsampling_view=decoders&present=true")
    wait_connected(page)
    page.locator(".st-key-upsampling_run").first.wait_for()
    page.get_by_test_id("stImage").first.wait_for()
    click_train(page, "upsampling")
    wait_counter_moves(page, 20000)
    time.sleep(2)
    boxes = [page.get_by_test_id("stImage").nth(i).bounding_box() for i in range(5)]
    loss = page.get_by_test_id("stVegaLiteChart").first.bounding_box()        # the loss chart comes first
    page.screenshot(path=str(ARTIFACTS / "upsampling_present_1280x720.png"))
    for name, b in [*(("picture", b) for b in boxes), ("loss chart", loss)]:
        assert b is not None and b["y"] >= 0 and b["y"] + b["height"] <= 720, (name, b)
    # the captions under the pictures are whole (not cut with an ellipsis)
    cut = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=stImageCaption] *'))
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""")
    assert not cut, cut
    pause_and_check_stopped(page, "upsampling")


def test_pause_is_prompt_at_the_largest_settings(page):
    """32×32 pictures, 32 channels, batch 32, all four decoders: the longest step the widgets allow."""
    from urllib.parse import quote
    page.goto(page.app_url + "/upsampling?upsampling_view=decoders&upsampling_channels=32&upsampling_batch_size=32"
              "&upsampling_resolution=" + quote("32×32 (3 upsampling layers)"))
    wait_connected(page)
    page.locator(".st-key-upsampling_run").first.wait_for()
    page.get_by_test_id("stImage").first.wait_for()
    click_train(page, "upsampling")
    wait_counter_moves(page, 20000)
    time.sleep(3)
    assert counter(page) > 5
    # the settings really are the largest ones: a 2×2 tile of 32×32 pictures is 65 pixels wide
    assert {s["w"] for s in page.evaluate(IMAGES_STATE)} == {65}
    _, latency = pause_and_check_stopped(page, "upsampling")
    # (0.23–0.87 s measured with 2 cores at a load of 11–13; a step itself takes ~0.1 s: the bound
    # is loose so that a busy CI machine does not fail it, the printed figure is the measurement)
    assert latency < 5, f"the counter moved {latency:.2f} s after Pause"
    print(f"largest settings: Pause took {latency:.2f} s")
