"""AppTest: the conv1d page opens, steps, reacts to live and structural settings, draws the
receptive field and the output-length table, loads the pretrained run and resets."""
from apptest_util import is_training, metric, press_pause, press_train, run_page

PAGE = "pages/conv1d.py"


def test_page_opens_steps_reacts_and_resets():
    at = run_page(PAGE)
    assert not at.error
    assert metric(at, "Steps trained") == "0"
    assert len(at.get("vega_lite_chart")) >= 5          # accuracy, loss, speed, activation, field
    at.button(key="conv1d_step_0").click().run()
    assert metric(at, "Steps trained") == "1"
    assert any("Held-out accuracy" in m.value for m in at.markdown)

    at.select_slider(key="conv1d_lr").set_value(0.01).run()          # live: no restart
    assert metric(at, "Steps trained") == "1" and not at.error
    assert at.session_state["conv1d_runner"].trainer.opts["lstm"].param_groups[0]["lr"] == 0.01

    at.slider(key="conv1d_wave_layers").set_value(3).run()            # structural: rebuilt, with a notice
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    assert any("r = 8" in m.value for m in at.markdown)                # 1 + (2 − 1)(2³ − 1)

    at.button(key="conv1d_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_field_drawing_says_causal_or_not_and_the_calculator_counts():
    at = run_page(PAGE)
    assert any("r = 64" in m.value and "causal" in m.value for m in at.markdown)
    at.radio(key="conv1d_field_model").set_value("convlstm").run()
    assert any("not causal" in m.value for m in at.markdown)
    at.slider(key="conv1d_calc_kernel").set_value(15).run()
    at.slider(key="conv1d_calc_dilation").set_value(32).run()
    assert not at.exception and any("runs out of time steps" in m.value for m in at.markdown)


def test_too_many_conv_layers_get_a_message_not_an_exception():
    at = run_page(PAGE)
    at.slider(key="conv1d_conv_layers").set_value(4).run()
    assert not at.exception
    assert any("leaves no time steps" in e.value for e in at.error)


def test_train_pause_and_pretrained():
    at = run_page(PAGE)
    press_train(at, "conv1d")
    assert is_training(at, "conv1d")
    press_pause(at, "conv1d")
    assert not is_training(at, "conv1d")
    at.button(key="conv1d_pretrained").click().run()
    assert any("pretrained" in s.value for s in at.success), [w.value for w in at.warning]
    run = at.session_state["conv1d_runner"].trainer
    acc = run.accuracies()
    assert acc["wavenet"] > 0.95 and acc["lstm"] > 0.95 and acc["conv"] < 0.6


def test_settings_come_from_the_url():
    # a menu travels in the URL as the label shown
    at = run_page(PAGE, conv1d_task="Control charts: six patterns", conv1d_seed="7", conv1d_seq_len="32")
    cfg = at.session_state["conv1d_runner"].trainer.config
    assert (cfg.task, cfg.seed, cfg.seq_len) == ("control", 7, 32)
