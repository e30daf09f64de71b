"""Detail views keep moving while a page trains (core.ui.page.DETAIL_EVERY): the loss charts below
gan1d's main field chart are redrawn on every 2nd frame only, so they must still change several
times while the class watches, in a real browser."""
import time

import pytest

from conftest import click_train, pause_and_check_stopped, wait_connected, wait_counter_moves

pytestmark = pytest.mark.browser


def test_detail_charts_still_move_while_training(page):
    page.goto(page.app_url + "/gan1d")
    wait_connected(page)
    page.locator(".st-key-gan1d_run").first.wait_for()
    click_train(page, "gan1d")
    wait_counter_moves(page, 20000)
    charts = page.locator("[data-testid=stMain] [data-testid=stVegaLiteChart]")
    main, detail = charts.nth(0), charts.nth(1)        # the D(x) field, then the losses below it
    detail.wait_for()
    shots = {"detail": [], "main": []}
    for _ in range(16):                      # 4 s: ~21 frames, ~10 of them redraw the detail views
        shots["detail"].append(detail.screenshot())
        shots["main"].append(main.screenshot())
        time.sleep(0.25)
    changes = {k: sum(a != b for a, b in zip(v, v[1:])) for k, v in shots.items()}
    pause_and_check_stopped(page, "gan1d")
    print(f"changes seen in 16 looks: {changes}")
    assert changes["detail"] >= 3, f"the loss chart hardly moved while training: {changes}"
    assert changes["main"] >= 3, f"the main chart hardly moved while training: {changes}"
