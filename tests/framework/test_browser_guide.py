"""Every lesson's guide walked in Chromium: for each step, Set up applies the step (its
non-default settings appear in the address, as moving the widgets puts them there; a pretrained
start shows the shipped run's step count), the chart the step names is on the page after one
Step, and Next moves on (the address keeps ?<key>_step=)."""
from __future__ import annotations

import pytest

from conftest import counter, page_problems, wait_connected
from core import experiments, registry, settings

pytestmark = pytest.mark.browser

LESSONS = [l.key for l in registry.built() if experiments.guide_of(l.key) is not None]


@pytest.mark.parametrize("key", LESSONS)
def test_walk_every_guided_step(page, key):
    guide = experiments.guide_of(key)
    decls = settings.declarations(guide.trainer_cls.Config)
    defaults = guide.trainer_cls.Config()
    query = "&".join(f"{k}={v}" for k, v in registry.lesson(key).live_query.items())
    page.goto(f"{page.app_url}/{key}" + (f"?{query}" if query else ""))
    wait_connected(page)
    box = page.locator(f".st-key-{key}_guide")
    box.wait_for()
    n = len(guide.experiments)
    for i, exp in enumerate(guide.experiments):
        where = f"{key} step {i + 1} ({exp.title})"
        box.get_by_text(f"{i + 1}. {exp.title}", exact=True).wait_for(timeout=30000)
        box.get_by_role("button", name="Set up this experiment").click()
        page.get_by_text(f"Step {i + 1} is set up").first.wait_for(timeout=60000)
        # The set-up moved the widgets: a changed setting reaches the address, as a student's
        # move would (every setting exactly: tests/framework/test_guide.py, on the trainer).
        changed = [n for n, v in exp.settings.items() if decls[n].widget != "none" and v != getattr(defaults, n)]
        if changed:
            # in the address (Streamlit does not always write a value set from code there), or
            # shown by the setting's own widget
            shown = {f"{key}_{n}": decls[n].show(exp.settings[n]) for n in changed}
            probe = ("(shown) => Object.entries(shown).some(([k, v]) => location.search.includes(k + '=') || "
                     "(document.querySelector('.st-key-' + k)?.innerText || '').includes(v) || "
                     "Array.from(document.querySelectorAll('.st-key-' + k + ' input')).some(i => "
                     "i.type === 'checkbox' ? String(i.checked) === v.toLowerCase() : i.value === v))")
            try:
                page.wait_for_function(probe, arg=shown, timeout=15000)
            except Exception:
                raise AssertionError(f"{where}: none of {shown} reached the address or the widgets: "
                                     f"{page.evaluate('location.search')}") from None
        if exp.start == "pretrained":
            page.wait_for_timeout(500)
            assert counter(page) > 0, f"{where}: the pretrained start shows step 0"
        step = page.locator(f".st-key-{key}_step_0 button")
        if exp.page_widgets and step.count() == 0:
            pass                                    # a view without a live panel (a viewer): drawn already
        else:
            step.first.click()                      # one step: the charts are drawn
        if exp.watch:
            chart = page.locator(f".st-key-{key}_{exp.watch}_view")
            try:
                chart.first.wait_for(state="visible", timeout=60000)
            except Exception:
                raise AssertionError(f"{where}: no chart {exp.watch!r} on the page: {page_problems(page)}") from None
        assert page.locator("[data-testid=stException]").count() == 0, f"{where}: {page_problems(page)}"
        if i < n - 1:
            page.locator(f".st-key-{key}_guide_next button").first.click()
            page.wait_for_function(f"() => location.search.includes('{key}_step={i + 2}')", timeout=15000)
