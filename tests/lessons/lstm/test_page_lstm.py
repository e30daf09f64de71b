"""AppTest: the LSTM page (pages/lstm.py) opens, steps, scrubs time, switches cell type; only the
chosen detail view is drawn, and only while paused (or on demand)."""
import torch
from apptest_util import is_training, metric, press_pause, press_train, run_page
from streamlit.testing.v1 import AppTest

PAGE = "pages/lstm.py"


def open_page(**query) -> AppTest:
    return run_page(PAGE, **query)


def latex(at: AppTest) -> str:
    return " ".join(e.value for e in at.latex)


def show(at: AppTest, view: str) -> AppTest:
    return at.radio(key="lstm_view").set_value(view).run()


def chart_keys(at: AppTest) -> set[str]:
    return {c.proto.id for c in at.get("vega_lite_chart")}


def test_opens_steps_scrubs_time_and_switches_cell():
    at = open_page(lstm_seq_len="30")
    assert not at.error
    assert metric(at, "Steps trained") == "0"
    # the live view (2 charts) and the forward view: input strip + 6 heatmaps
    assert len(at.get("vega_lite_chart")) == 9
    show(at, "equations")
    assert "c_{29}" in latex(at)                                  # the last step by default

    at.button(key="lstm_step_0").click().run()
    assert metric(at, "Steps trained") == "1" and not at.exception

    at.slider(key="lstm_t").set_value(4).run()                    # scrub time
    assert "c_{4}" in latex(at) and "i_{4}" in latex(at)
    assert metric(at, "Steps trained") == "1"                     # a view change keeps the run
    assert "t = 4" in " ".join(m.value for m in at.markdown)

    at.selectbox(key="lstm_unit").set_value(3).run()
    assert "j=3" in latex(at)

    at.selectbox(key="lstm_cell").set_value("gru").run()              # switch cell type: restart
    assert metric(at, "Steps trained") == "0"
    assert any("rebuilt" in i.value for i in at.info)
    assert "z_{4}" in latex(at) and "c_{4}" not in latex(at)
    at.selectbox(key="lstm_cell").set_value("rnn").run()
    assert r"\tanh" in latex(at) and not at.exception
    at.button(key="lstm_step_0").click().run()
    at.button(key="lstm_step_0").click().run()
    assert metric(at, "Steps trained") == "2"

    at.select_slider(key="lstm_lr").set_value(0.001).run()       # live: no restart
    assert metric(at, "Steps trained") == "2"
    assert at.session_state["lstm_runner"].trainer.opt.param_groups[0]["lr"] == 0.001
    at.button(key="lstm_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_only_the_chosen_view_is_drawn_and_only_when_paused():
    at = open_page(lstm_seq_len="30")
    show(at, "backward")
    n_back = len(at.get("vega_lite_chart"))
    assert n_back == 2 + 6 + 1 and not at.latex                  # live + 6 gradient heatmaps + profile
    press_train(at, "lstm")
    assert is_training(at, "lstm")
    # while training: the live view only, and a word on where the details went
    assert len(at.get("vega_lite_chart")) == 2
    assert any("paused" in i.value for i in at.info)
    at.button(key="lstm_show_now").click().run()                  # on demand
    assert len(at.get("vega_lite_chart")) == n_back
    press_pause(at, "lstm")
    assert not is_training(at, "lstm") and len(at.get("vega_lite_chart")) == n_back


def test_typed_sequence_and_bad_input():
    at = open_page(lstm_task="parity", lstm_seq_len="12")
    at.radio(key="lstm_source").set_value("type a sequence").run()
    at.text_input(key="lstm_bits").set_value("1000010101").run()
    assert not at.exception and not at.warning
    assert "of 10" in " ".join(m.value for m in at.markdown)
    # the key result is a metric: four 1s is even -> YES (1)
    assert metric(at, "Target (last step)") == "1"
    assert 0.0 <= float(metric(at, "Network's P(1)")) <= 1.0
    at.text_input(key="lstm_bits").set_value("10a2").run()
    assert not at.exception and any("only 0 and 1" in w.value for w in at.warning)
    # the adding task has no typed sequences: the choice falls back to samples
    at.selectbox(key="lstm_task").set_value("adding").run()
    assert not at.exception and at.radio(key="lstm_source").value == "evaluation sample"
    assert metric(at, "Target sum")


def test_a_link_opens_the_chosen_view():
    at = open_page(lstm_view="Equations", lstm_seq_len="20")     # a menu's value in the URL is its label
    assert "c_{19}" in latex(at) and len(at.get("vega_lite_chart")) == 3


def test_comparison_ratio_is_computed_on_the_page_and_pretrained_loads():
    at = show(open_page(), "compare")
    ratio = next(m for m in at.metric if m.label.startswith("LSTM ÷ vanilla RNN"))
    assert float(ratio.value.rstrip("×")) >= 100
    # the after-training chart explains why the trained LSTM's δh falls: what is plotted and why
    assert any("saturated" in c.value and "‖δc‖" in c.value for c in at.caption)
    at.button(key="lstm_pretrained").click().run()
    assert not at.exception
    assert any("pretrained" in s.value for s in at.success)
    assert metric(at, "Held-out accuracy") == "100.0%"


def test_invalid_settings_and_divergence_get_messages():
    at = open_page(lstm_seq_len="5", lstm_delay="8")
    assert not at.error                                   # the delay only matters for the echo task
    at.selectbox(key="lstm_task").set_value("echo").run()
    assert not at.exception and any("delay" in e.value for e in at.error)
    at.slider(key="lstm_delay").set_value(3).run()
    assert not at.error and not at.exception
    at = open_page(lstm_cell="rnn", lstm_set_sv="true", lstm_recurrent_sv="3.0", lstm_clip_norm="off")
    runner = at.session_state["lstm_runner"]
    assert abs(runner.trainer.config.recurrent_sv - 3.0) < 1e-9 and runner.trainer.config.clip_norm == 0.0
    with torch.no_grad():
        runner.trainer.rnn.weight_hh_l0.fill_(float("inf"))
    at.button(key="lstm_step_0").click().run()
    assert not at.exception and any("blew up" in e.value for e in at.error)
    assert any("no longer numbers" in i.value for i in at.info) and not at.latex     # no "nan" drawn
    at.button(key="lstm_reset_btn").click().run()
    assert not any("blew up" in e.value for e in at.error)


def test_highest_learning_rate_stops_with_the_message():
    at = open_page(lstm_lr="10")
    for _ in range(10):
        at.button(key="lstm_step_0").click().run()
        if at.error:
            break
    assert not at.exception
    assert any("blew up" in e.value and "ran away" in e.value for e in at.error)
