"""AppTest: the mode-collapse page (pages/4_Mode_Collapse.py) opens, steps, changes method, runs seeds."""
import pathlib

from apptest_util import metric, run_page
from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/4_Mode_Collapse.py")


def open_page(**query) -> AppTest:
    return run_page("pages/4_Mode_Collapse.py", **query)


def trainer(at: AppTest):
    return at.session_state["gan2d_runner"].trainer


def test_opens_steps_changes_method_and_resets():
    at = open_page()
    assert not at.error
    assert metric(at, "Steps trained") == "0"
    assert len(at.get("vega_lite_chart")) >= 6, "two panels of live charts"
    assert trainer(at).methods == ("vanilla", "pacgan")
    assert any("modes covered" in m.value for m in at.markdown)

    at.button(key="gan2d_step_0").click().run()
    assert metric(at, "Steps trained") == "1" and not at.exception

    # a live setting applies without a restart
    at.select_slider(key="gan2d_lr_g").set_value(0.002).run()
    assert metric(at, "Steps trained") == "1" and not at.error
    assert trainer(at).runs["vanilla"].opt_g.lr == 0.002

    # another method in the panels: a new run with a notice
    at.multiselect(key="gan2d_methods").select("wgan-gp").run()
    assert trainer(at).methods == ("vanilla", "pacgan", "wgan-gp")
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    at.button(key="gan2d_step_0").click().run()
    assert metric(at, "Steps trained") == "1" and not at.exception
    assert any("WGAN-GP" in m.value for m in at.markdown)

    at.button(key="gan2d_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_run_seeds_gives_a_table_per_seed():
    at = open_page(gan2d_n_seeds="4", gan2d_eval_every="25")
    assert trainer(at).config.n_seeds == 4
    for _ in range(2):
        at.button(key="gan2d_step_0").click().run()
    at.session_state["gan2d_runner"].step(25)        # reach a measurement quickly
    at.run()
    assert not at.exception and not at.error
    frames = [df.value for df in at.dataframe]
    per_seed = next(f for f in frames if "seed 3" in f.columns)
    assert len(per_seed) == 2 and set(per_seed["method"]) == {"Vanilla GAN (non-saturating)", "PacGAN"}
    # pick another seed to show
    at.select_slider(key="gan2d_shown_seed").set_value(2).run()
    assert not at.exception and any("seed 2 of 4" in c.value for c in at.caption)


def test_empty_method_list_and_bad_settings_give_messages():
    at = open_page()
    at.multiselect(key="gan2d_methods").set_value([]).run()
    assert not at.exception and any("at least one method" in e.value for e in at.error)
    at.multiselect(key="gan2d_methods").set_value(["cgan"]).run()
    assert not at.error and trainer(at).methods == ("cgan",)


def test_pretrained_replays_instantly():
    at = open_page()
    at.button(key="gan2d_pretrained").click().run()
    assert not at.exception
    assert any("pretrained" in s.value for s in at.success), [w.value for w in at.warning]
    assert int(metric(at, "Steps trained").replace(",", "")) > 1000
    assert at.slider(key="gan2d_replay").value >= 2
    at.slider(key="gan2d_replay").set_value(1).run()
    assert not at.exception
