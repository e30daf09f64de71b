"""AppTest: the mode-collapse page (pages/gan2d.py) opens on vanilla | WGAN-GP, steps, changes
method, runs seeds, replays the shipped runs, blows up with a message, folds in presentation mode."""
from apptest_util import is_training, metric, press_pause, press_train, run_page
from streamlit.testing.v1 import AppTest

PAGE = "pages/gan2d.py"


def open_page(**query) -> AppTest:
    return run_page(PAGE, **query)


def trainer(at: AppTest):
    return at.session_state["gan2d_runner"].trainer


def test_opens_steps_changes_method_and_resets():
    at = open_page()
    assert not at.error
    assert metric(at, "Steps trained") == "0"
    assert len(at.get("vega_lite_chart")) >= 6, "two panels of live charts"
    assert trainer(at).methods == ("vanilla", "wgan-gp")
    titles = [m.value for m in at.markdown if "modes covered" in m.value]
    assert any(t.startswith("**WGAN-GP**") and "high quality" in t for t in titles)
    assert at.multiselect(key="gan2d_methods").options == ["vanilla", "minimax", "WGAN-GP", "minibatch std",
                                                           "unrolled", "PacGAN", "conditional"]

    at.button(key="gan2d_step_0").click().run()
    assert metric(at, "Steps trained") == "1" and not at.exception

    # a live setting applies without a restart
    at.select_slider(key="gan2d_lr_g").set_value(0.002).run()
    assert metric(at, "Steps trained") == "1" and not at.error
    assert trainer(at).runs["vanilla"].opt_g.lr == 0.002

    # another method in the panels: a new run with a notice
    at.multiselect(key="gan2d_methods").select("unrolled").run()
    assert trainer(at).methods == ("vanilla", "wgan-gp", "unrolled")
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    at.button(key="gan2d_step_0").click().run()
    assert metric(at, "Steps trained") == "1" and not at.exception
    assert any(m.value.startswith("**Unrolled GAN**") for m in at.markdown)

    at.button(key="gan2d_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_run_seeds_gives_a_table_per_seed():
    at = open_page(gan2d_n_seeds="4", gan2d_eval_every="25")
    at.multiselect(key="gan2d_methods").set_value(["vanilla", "pacgan"]).run()
    assert trainer(at).config.n_seeds == 4 and trainer(at).methods == ("vanilla", "pacgan")
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
    assert trainer(at).config.show_seed == 2 and metric(at, "Steps trained") == "27"   # live: no restart


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
    assert metric(at, "Steps trained") == "3,000"
    titles = [m.value for m in at.markdown if "modes covered" in m.value]
    assert any(t.startswith("**WGAN-GP**") and "**8 / 8**" in t and "**85 %**" in t for t in titles), titles
    assert at.slider(key="gan2d_replay").value >= 2
    at.slider(key="gan2d_replay").set_value(1).run()
    assert not at.exception


def test_train_and_pause():
    at = open_page()
    press_train(at, "gan2d")
    assert is_training(at, "gan2d") and not at.session_state["gan2d_runner"].held
    assert any("On ⏸ Pause" in c.value for c in at.caption)     # detail views wait for Pause
    press_pause(at, "gan2d")
    assert not is_training(at, "gan2d") and at.session_state["gan2d_runner"].held


def test_highest_learning_rate_stops_with_the_message():
    at = open_page()
    at.select_slider(key="gan2d_lr_d").set_value(10.0).run()
    at.select_slider(key="gan2d_lr_g").set_value(10.0).run()
    assert trainer(at).config.lr_g == 10.0
    at.button(key="gan2d_step_0").click().run()
    at.session_state["gan2d_runner"].train_for(0.5)
    at.run()
    assert not at.exception
    assert any("The run blew up" in e.value and "Lower the learning rate" in e.value for e in at.error)
    assert not at.success
    assert at.get("vega_lite_chart"), "the charts keep the run up to the blow-up"


def test_presentation_mode_folds_the_settings():
    at = open_page(present="true")
    assert not at.exception
    assert any("Settings" in e.label for e in at.expander)
    assert not any("The real data has several" in m.value for m in at.markdown)   # no intro on a projector
