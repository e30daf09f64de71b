"""AppTest: Home and the 1D GAN page (pages/gan1d.py) open, step, react and reset."""
import pathlib

import pytest
from apptest_util import is_training, metric, press_pause, press_train, run_page
from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def open_page(path: str) -> AppTest:
    return run_page(path)


def test_home_opens_and_links_the_built_lessons():
    at = open_page("Home.py")
    assert not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "Train" in text and "Presentation mode" in text


def test_gan_page_opens_steps_reacts_and_resets():
    at = open_page("pages/gan1d.py")
    assert not at.error
    assert metric(at, "Iterations trained") == "0"
    assert at.get("vega_lite_chart"), "the live charts are drawn"

    at.button(key="gan1d_step_0").click().run()          # Step: one full iteration
    assert metric(at, "Iterations trained") == "1"
    at.button(key="gan1d_step_1").click().run()          # D step only
    assert metric(at, "Iterations trained") == "1"
    box = next(m.value for m in at.markdown if "<b>Algorithm 1</b>" in m.value)
    # after a D step the D lines are marked and the G lines are not
    marked = [line for line in box.split("<div") if "▶" in line]
    assert marked and all("update G" not in line for line in marked)
    assert any("update D" in line for line in marked)

    # a live setting applies without a restart
    at.select_slider(key="gan1d_lr_g").set_value(0.01).run()
    assert metric(at, "Iterations trained") == "1" and not at.error
    assert at.session_state["gan1d_runner"].trainer.opt_g.lr == 0.01

    # a structural setting rebuilds the model with a notice
    at.slider(key="gan1d_g_width").set_value(20).run()
    assert metric(at, "Iterations trained") == "0"
    assert any("rebuilt" in i.value for i in at.info)
    at.button(key="gan1d_step_0").click().run()
    at.button(key="gan1d_step_0").click().run()
    assert metric(at, "Iterations trained") == "2"

    at.button(key="gan1d_reset_btn").click().run()
    assert metric(at, "Iterations trained") == "0" and not at.exception


def test_train_button_toggles_and_pretrained_loads():
    at = open_page("pages/gan1d.py")
    press_train(at, "gan1d")
    assert is_training(at, "gan1d") and not at.session_state["gan1d_runner"].held
    press_pause(at, "gan1d")
    assert not is_training(at, "gan1d") and at.session_state["gan1d_runner"].held
    at.button(key="gan1d_pretrained").click().run()
    assert metric(at, "Iterations trained") == "5,000"
    assert any("pretrained" in s.value for s in at.success)
    assert float(metric(at, "mean |y − f(x)|")) < 0.03


def test_bad_formula_and_divergence_get_messages_not_exceptions():
    at = open_page("pages/gan1d.py")
    at.selectbox(key="gan1d_target_preset").set_value("custom formula…").run()
    at.text_input(key="gan1d_formula").set_value("__import__('os').system('x')").run()
    assert not at.exception and any("double underscores" in e.value for e in at.error)
    at.text_input(key="gan1d_formula").set_value("x**3 - x").run()
    assert not at.error
    at.select_slider(key="gan1d_lr_d").set_value(10.0).run()
    at.select_slider(key="gan1d_lr_g").set_value(10.0).run()
    at.selectbox(key="gan1d_optimizer").set_value("sgd").run()
    for _ in range(3):
        at.button(key="gan1d_step_0").click().run()
    runner = at.session_state["gan1d_runner"]
    runner.step(3000)                                    # push it over the edge quickly
    at.run()
    assert not at.exception
    assert any("blew up" in e.value for e in at.error)
    # Train while blown up says why it won't start
    press_train(at, "gan1d")
    assert not is_training(at, "gan1d") and any("won't start" in w.value for w in at.warning)
    at.button(key="gan1d_reset_btn").click().run()
    assert not any("blew up" in e.value for e in at.error)


def test_settings_come_from_the_url():
    at = AppTest.from_file(str(ROOT / "pages/gan1d.py"), default_timeout=60)
    at.query_params["gan1d_seed"] = "7"
    at.query_params["gan1d_k"] = "3"
    at.run()
    assert not at.exception
    cfg = at.session_state["gan1d_runner"].trainer.config
    assert cfg.seed == 7 and cfg.k == 3


def test_full_x_range_survives_in_the_link():
    at = AppTest.from_file(str(ROOT / "pages/gan1d.py"), default_timeout=60)
    at.query_params["gan1d_x_range"] = ["-3.0", "3.0"]
    at.run()
    assert not at.exception
    cfg = at.session_state["gan1d_runner"].trainer.config
    assert (cfg.x_min, cfg.x_max) == (-3.0, 3.0)


def test_a_slow_step_is_explained():
    """When one step takes over a second (huge settings), the page says why it feels stuck."""
    at = open_page("pages/gan1d.py")
    at.button(key="gan1d_step_0").click().run()
    assert not any("takes about" in w.value for w in at.warning)
    at.session_state["gan1d_runner"]._sec_per_step = 2.5     # as measured on a huge configuration
    at.run()
    slow = [w.value for w in at.warning if "takes about" in w.value]
    assert slow and "2.5 s" in slow[0] and "Pause" in slow[0], slow


def test_the_run_that_starts_training_declares_a_longer_first_frame_interval(monkeypatch):
    """Train's own run declares the frame timer at least FIRST_INTERVAL_SECONDS (under load a timer
    due before that run ends made Streamlit drop its first frame); the next full run declares the
    pacer's interval again."""
    from core.gates import PACER
    from core.ui.loop import FIRST_INTERVAL_SECONDS
    monkeypatch.setattr(PACER, "interval", lambda sessions=None: 0.2)
    at = open_page("pages/gan1d.py")
    press_train(at, "gan1d")
    assert at.session_state["gan1d_tick"] == FIRST_INTERVAL_SECONDS > 0.2
    at.run()
    assert is_training(at, "gan1d") and at.session_state["gan1d_tick"] == 0.2


def test_a_notice_stays_for_the_full_runs_of_its_first_seconds(monkeypatch):
    """A callback's message is drawn again by a full run that follows at once (under load the
    first run's output can be dropped unsent), and is gone once NOTICE_SECONDS have passed."""
    import core.ui.notices as notices
    at = open_page("pages/gan1d.py")
    at.slider(key="gan1d_g_width").set_value(20).run()
    assert any("rebuilt" in i.value for i in at.info)
    at.run()                                              # a second run straight after
    assert any("rebuilt" in i.value for i in at.info)
    monkeypatch.setattr(notices, "NOTICE_SECONDS", 0.0)
    at.run()
    assert not any("rebuilt" in i.value for i in at.info) and "gan1d_notice" not in at.session_state
    at.run()
    assert not any("rebuilt" in i.value for i in at.info)
