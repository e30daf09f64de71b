"""The guide panel in the app (AppTest, on the 1D GAN): the step from the URL, Set-up applying a
step as the widgets would (settings, Reset, the pretrained start, the automatic pause), a
prediction before the reveal, Back/Next keeping the URL, pinned settings left alone, and a guide
on every lesson's page."""
from __future__ import annotations

import pytest
from apptest_util import PAGES, run_page

from core import experiments, registry

LESSON = "gan1d"


def guide_of(at):
    return experiments.guide_of(LESSON)


def test_the_link_opens_a_step_and_set_up_applies_it():
    at = run_page(PAGES[LESSON], gan1d_step="2")
    assert at.selectbox(key="gan1d_guide_pick").value == 1
    exp = experiments.guide_of(LESSON).experiments[1]
    at.button(key="gan1d_guide_setup").click().run()
    assert not at.exception
    runner = at.session_state["gan1d_runner"]
    cfg = runner.trainer.config
    for k, v in exp.settings.items():
        assert getattr(cfg, k) == v and at.session_state[f"gan1d_{k}"] == v, k
    assert runner.trainer.step_count == 0 and runner.stop_at == exp.train
    assert any("Step 2 is set up" in m.value for m in at.info)


def test_predict_then_reveal_and_next_keeps_the_url():
    at = run_page(PAGES[LESSON])
    exp = experiments.guide_of(LESSON).experiments[0]
    text = lambda: " ".join(m.value for m in at.markdown)
    assert exp.claims[0].sentence() not in text()              # not before the prediction
    wrong = next(i for i in range(len(exp.predict.choices)) if i != exp.predict.answer)
    at.radio(key="gan1d_guide_q0").set_value(wrong).run()
    assert at.warning and exp.predict.choices[exp.predict.answer] in at.warning[0].value
    assert exp.claims[0].sentence() in text() and "Why." in text()
    at.button(key="gan1d_guide_next").click().run()
    assert at.query_params["gan1d_step"] == ["2"] or at.query_params["gan1d_step"] == "2"
    assert at.selectbox(key="gan1d_guide_pick").value == 1
    at.button(key="gan1d_guide_back").click().run()
    assert at.selectbox(key="gan1d_guide_pick").value == 0


def test_a_pretrained_step_loads_the_shipped_run_and_a_continued_one_keeps_it():
    guide = experiments.guide_of(LESSON)
    i = next(i for i, e in enumerate(guide.experiments) if e.start == "pretrained")
    at = run_page(PAGES[LESSON], gan1d_step=str(i + 1))
    at.button(key="gan1d_guide_setup").click().run()
    assert not at.exception
    assert at.session_state["gan1d_runner"].trainer.step_count == 5000
    j = next(i for i, e in enumerate(guide.experiments) if e.start == "continue")
    at.selectbox(key="gan1d_guide_pick").set_value(j).run()
    at.button(key="gan1d_guide_setup").click().run()
    runner = at.session_state["gan1d_runner"]
    assert runner.trainer.step_count == 5000 and runner.stop_at == 5000 + guide.experiments[j].train


def test_pinned_settings_stay_pinned():
    at = run_page(PAGES[LESSON], gan1d_step="2", gan1d_hide="k")
    at.button(key="gan1d_guide_setup").click().run()
    assert at.session_state["gan1d_runner"].trainer.config.k == 1      # the step asks 10; the link pins 1


def test_a_step_number_out_of_range_opens_the_nearest():
    for raw, want in (("99", len(experiments.guide_of(LESSON).experiments) - 1), ("-3", 0), ("x", 0)):
        at = run_page(PAGES[LESSON], gan1d_step=raw)
        assert at.selectbox(key="gan1d_guide_pick").value == want


@pytest.mark.parametrize("key", [l.key for l in registry.built()])
def test_every_lesson_page_shows_its_guide(key):
    if experiments.guide_of(key) is None:
        pytest.fail(f"{key} has no guided experiments")
    at = run_page(PAGES[key], **registry.lesson(key).live_query)
    assert at.selectbox(key=f"{key}_guide_pick").value == 0
    assert at.button(key=f"{key}_guide_setup")


@pytest.mark.parametrize("key", [l.key for l in registry.built()])
def test_every_step_sets_up_as_declared(key):
    """Set up each step in turn, as a student clicking through would: the run's config has the
    step's settings, a reset step starts at 0, a pretrained one at the shipped run's step, a
    continued one keeps its step count, ▶ Train will pause after the step's training, and the
    chart the step names is drawn (after one Step)."""
    guide = experiments.guide_of(key)
    at = run_page(PAGES[key], **registry.lesson(key).live_query)
    before = 0
    for i, exp in enumerate(guide.experiments):
        at.selectbox(key=f"{key}_guide_pick").set_value(i).run()
        at.button(key=f"{key}_guide_setup").click().run()
        assert not at.exception, f"{key} step {i + 1}: {at.exception}"
        for name, value in exp.page_widgets.items():
            assert at.session_state[f"{key}_{name}"] == value, f"{key} step {i + 1}: {name}"
        if not any(b.key == f"{key}_step_0" for b in at.button):
            # a view without a live panel (upsampling's viewers)
            assert exp.train == 0 and exp.start == "reset", f"{key} step {i + 1}: no run to start"
            assert not exp.watch or exp.watch in at.session_state[f"{key}_chart_specs"], f"{key} step {i + 1}"
            continue
        runner = at.session_state[f"{key}_runner"]
        cfg = runner.trainer.config
        for name, value in exp.settings.items():
            assert getattr(cfg, name) == value, f"{key} step {i + 1}: {name} is {getattr(cfg, name)!r}, not {value!r}"
        steps = runner.trainer.step_count
        if exp.start == "reset":
            assert steps == 0, f"{key} step {i + 1}"
        elif exp.start == "pretrained":
            assert steps > 0, f"{key} step {i + 1}: the pretrained start is at step 0"
        else:
            assert steps == before, f"{key} step {i + 1}: continuing changed the step count"
        assert runner.stop_at == (steps + exp.train if exp.train else None)
        if exp.watch:              # one step draws the charts: the watched one is among them
            at.button(key=f"{key}_step_0").click().run()
            ss = at.session_state
            drawn = {k for name in ("chart_specs", "kept_views") if f"{key}_{name}" in ss for k in ss[f"{key}_{name}"]}
            assert exp.watch in drawn, f"{key} step {i + 1}: {exp.watch!r} is not drawn ({sorted(drawn)})"
            steps = at.session_state[f"{key}_runner"].trainer.step_count
        before = steps


def test_a_step_about_a_viewer_leaves_the_training_run_alone():
    """upsampling: setting up a step of the step-by-step viewer opens that view and neither
    resets nor starts the decoders' run, which is still there on coming back."""
    at = run_page(PAGES["upsampling"], upsampling_view="decoders")
    at.button(key="upsampling_step_0").click().run()
    at.button(key="upsampling_step_0").click().run()
    assert at.session_state["upsampling_runner"].trainer.step_count == 2
    at.button(key="upsampling_guide_setup").click().run()          # step 1: the viewer
    assert not at.exception and at.session_state["upsampling_view"] == "viewer"
    assert any("Step 1 is set up" in m.value for m in at.info)
    at.session_state["upsampling_view"] = "decoders"
    at.run()
    assert at.session_state["upsampling_runner"].trainer.step_count == 2
