"""Links handed out before the lessons had one name keep working: old URL prefixes (``fc_``,
``up_``) are read as the lesson's key, and old page paths (``/LSTM_Forecast``) forward to it."""
import pytest
from apptest_util import run_page

from core import registry

RENAMED = [l for l in registry.built() if l.old_prefix]


@pytest.mark.parametrize("lesson", RENAMED, ids=lambda l: l.key)
def test_old_prefix_in_a_link_sets_the_setting(lesson):
    old_live = {f"{lesson.old_prefix}{k[len(lesson.key):]}": v for k, v in lesson.live_query.items()}
    at = run_page(lesson.page, **old_live, **{f"{lesson.old_prefix}_seed": "7"})
    assert not at.error, [e.value for e in at.error]
    assert at.session_state[f"{lesson.key}_runner"].trainer.config.seed == 7
    assert at.query_params.get(f"{lesson.key}_seed") in ("7", ["7"])
    assert f"{lesson.old_prefix}_seed" not in at.query_params


@pytest.mark.browser
@pytest.mark.parametrize("lesson", [l for l in registry.built() if l.old_path], ids=lambda l: l.key)
def test_old_path_forwards_with_its_settings(page, lesson):
    from conftest import wait_connected
    prefix = lesson.old_prefix or lesson.key
    live = "".join(f"&{prefix}{k[len(lesson.key):]}={v}" for k, v in lesson.live_query.items())
    page.goto(f"{page.app_url}/{lesson.old_path}?{prefix}_seed=7{live}")
    wait_connected(page)
    page.locator(f".st-key-{lesson.key}_run").first.wait_for()
    page.wait_for_url(f"**/{lesson.key}?*")
    assert f"{lesson.key}_seed=7" in page.url
    seed = page.locator(f".st-key-{lesson.key}_seed input").first
    # the widget may render once before the forwarded value lands: wait for it, briefly
    page.wait_for_function("(el) => el.value === '7'", arg=seed.element_handle(), timeout=10000)
