"""Take it home in AppTest (issue 18), on every lesson: the box is there, and a lesson link that
pins settings (``?<lesson>_hide=…``) makes those widgets read-only while the rest stay free."""
import importlib

import pytest

from apptest_util import PAGES, press_train, run_page
from core import registry, settings

LESSONS = sorted(PAGES)


def _setting_widgets(at, lesson):
    """Every widget of the page whose key is one of the lesson's declared settings."""
    decls = settings.declarations(importlib.import_module(registry.lesson(lesson).package).Trainer.Config)
    keys = {f"{lesson}_{n}" for n, d in decls.items() if d.widget != "none"}
    kinds = ("slider", "select_slider", "selectbox", "radio", "number_input", "toggle", "multiselect", "text_input")
    return [w for kind in kinds for w in getattr(at, kind) if w.key in keys]


def _open_takehome(at, lesson):
    at.session_state[f"{lesson}_takehome_open"] = True      # what a click on the folded box sets
    return at.run()


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_page_has_the_takehome_box(lesson):
    at = run_page(PAGES[lesson], **registry.lesson(lesson).live_query)
    assert any(t.label.startswith("📦 Take it home") for t in at.toggle)
    assert not any(t.label == "PyTorch code" for t in at.tabs), "folded, the box builds nothing"
    _open_takehome(at, lesson)
    assert not at.exception
    assert [t.label for t in at.tabs][:4] == ["PyTorch code", "History and weights", "Charts for slides", "Lesson link"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_link_that_pins_everything_leaves_no_setting_editable(lesson):
    at = run_page(PAGES[lesson], **{**registry.lesson(lesson).live_query, f"{lesson}_hide": "*"})
    widgets = _setting_widgets(at, lesson)
    assert widgets, "the page draws its settings from the declarations"
    assert all(w.disabled and w.label.startswith("🔒") for w in widgets), \
        [w.key for w in widgets if not w.disabled]
    press_train(at, lesson)                     # and the page still trains
    assert not at.exception


def test_a_link_pins_only_what_it_names():
    at = run_page(PAGES["gan1d"], gan1d_hide="lr_d,k,nonsense", gan1d_lr_d="0.01")
    by_key = {w.key: w for w in _setting_widgets(at, "gan1d")}
    assert by_key["gan1d_lr_d"].disabled and by_key["gan1d_lr_d"].value == 0.01
    assert by_key["gan1d_k"].disabled
    assert not by_key["gan1d_lr_g"].disabled and not by_key["gan1d_seed"].disabled


def test_pretrained_start_keeps_pinned_settings():
    """⚡ Load pretrained sets the widgets to the checkpoint's settings, except pinned ones."""
    at = run_page(PAGES["gan1d"], gan1d_hide="lr_g", gan1d_lr_g="0.0001")
    at.button(key="gan1d_pretrained").click().run()
    assert not at.exception
    assert at.select_slider(key="gan1d_lr_g").value == 0.0001
    assert any("Loaded the pretrained run" in s.value for s in at.success)


def test_lesson_link_box_shows_the_link():
    at = _open_takehome(run_page(PAGES["gan1d"], gan1d_seed="5"), "gan1d")
    at.multiselect(key="gan1d_takehome_link_hide").set_value(["lr_d", "seed"]).run()
    link = at.code[-1].value
    assert "gan1d_seed=5" in link and "gan1d_hide=lr_d%2Cseed" in link
