"""Real browser: the mode-collapse page trains and draws; in presentation mode at 1280×720 Train and
the live panels are whole on the first screen; at the largest settings Pause stops at once."""
import time

import pytest

from conftest import ARTIFACTS, click_pause, click_train, counter, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser

# Every size at its declared maximum, the four costliest panels, measuring every 25 steps, the spiral
# (core.lessons.gan2d.config.largest_config); multiselect values travel as their labels.
LARGEST = ("gan2d_methods=unrolled&gan2d_methods=WGAN-GP&gan2d_methods=minibatch+std&gan2d_methods=minimax"
           "&gan2d_dataset=spiral&gan2d_n_seeds=8&gan2d_batch_size=128&gan2d_k=5&gan2d_critic_steps=5"
           "&gan2d_unroll_steps=5&gan2d_latent_size=16&gan2d_eval_every=25")


def pause_latency(pg, quiet_s: float = 2.0) -> tuple[int, float]:
    """Click Pause once; wait until the counter has been still for ``quiet_s``; return (count,
    seconds from the click to the counter's last change on screen)."""
    t0 = time.time()
    click_pause(pg, "gan2d")
    last, last_change = counter(pg), time.time()
    while time.time() - last_change < quiet_s and time.time() - t0 < 20:
        time.sleep(0.05)
        now = counter(pg)
        if now != last:
            last, last_change = now, time.time()
    time.sleep(0.5)
    assert counter(pg) == last, "training went on after Pause"
    return last, max(0.0, last_change - t0)


def open_lesson(pg, query: str = "") -> None:
    pg.goto(pg.app_url + "/gan2d" + (f"?{query}" if query else ""))
    wait_connected(pg)
    pg.locator(".st-key-gan2d_run").first.wait_for()
    pg.get_by_test_id("stVegaLiteChart").first.wait_for()


def test_mode_collapse_page_trains_and_draws(page):
    ARTIFACTS.mkdir(exist_ok=True)
    open_lesson(page, "gan2d_eval_every=25")
    assert counter(page) == 0
    chart = page.get_by_test_id("stVegaLiteChart").first
    before = chart.screenshot()
    click_train(page, "gan2d")
    wait_counter_moves(page, 15000)
    deadline = time.time() + 15
    while counter(page) <= 50 and time.time() < deadline:
        time.sleep(0.25)
    n = counter(page)
    assert n > 50, f"only {n} steps after 15 s of training"
    assert chart.screenshot() != before, "the sample chart did not change while training"
    page.screenshot(path=str(ARTIFACTS / "gan2d_training.png"), full_page=True)
    _, latency = pause_latency(page)
    print(f"{n} steps; Pause took {latency:.2f} s")
    assert not page.get_by_test_id("stException").count()


def _on_first_screen(pg, locator, what: str) -> None:
    box = locator.bounding_box()
    assert box is not None, f"{what} is not drawn"
    assert box["y"] >= 0 and box["y"] + box["height"] <= 720 + 1, f"{what} is not whole on the first screen: {box}"


def test_presentation_mode_shows_train_and_the_panels_on_the_first_screen(chromium, app_url):
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    pg.set_default_timeout(60000)
    pg.app_url = app_url
    try:
        open_lesson(pg, "present=true")
        time.sleep(1)
        assert not pg.locator(".st-key-gan2d_lr_d").first.is_visible(), "the full settings are folded (the key settings stand above the view)"
        _on_first_screen(pg, pg.locator(".st-key-gan2d_run").first, "Train/Pause")
        # the first two charts in the page are the two panels' scatters (vanilla | WGAN-GP)
        for i in range(2):
            _on_first_screen(pg, pg.get_by_test_id("stVegaLiteChart").nth(i), f"panel {i + 1}'s scatter")
        click_train(pg, "gan2d")
        wait_counter_moves(pg, 15000)
        time.sleep(3)
        for i in range(2):
            _on_first_screen(pg, pg.get_by_test_id("stVegaLiteChart").nth(i), f"panel {i + 1}'s scatter, training")
        pg.screenshot(path=str(ARTIFACTS / "gan2d_present_1280x720.png"))
        pause_latency(pg)
    finally:
        context.close()


def test_pause_stops_at_once_at_the_largest_settings(page):
    open_lesson(page, LARGEST)
    assert page.get_by_text("Panels show seed 0 of 8").count(), "the largest settings were not applied"
    click_train(page, "gan2d")
    wait_counter_moves(page, 20000)
    time.sleep(4)
    n, latency = pause_latency(page)
    print(f"largest settings: {n} steps in ~4 s; Pause took {latency:.2f} s")
    # The server stops within the step in flight (≤ 0.15 s of CPU; test_gan2d measures it without a
    # browser). On screen add the Pause rerun's round trip: well under a second on an idle machine,
    # but seconds while other sessions load the 2 cores (the 1D GAN page measured 5.4 s then), so
    # the bound here only catches training that goes on and on.
    assert latency < 10.0, f"the counter moved {latency:.2f} s after Pause"
    assert not page.get_by_test_id("stException").count()
