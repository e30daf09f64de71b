"""AppTest: the LSTM page (pages/3_Inside_LSTM.py) opens, steps, scrubs time, switches cell type."""
import pathlib

from apptest_util import metric, run_page
from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/3_Inside_LSTM.py")


def open_page(**query) -> AppTest:
    return run_page("pages/3_Inside_LSTM.py", **query)


def latex(at: AppTest) -> str:
    return " ".join(e.value for e in at.latex)


def test_opens_steps_scrubs_time_and_switches_cell():
    at = open_page(lstm_seq_len="30")
    assert not at.error
    assert metric(at, "Steps trained") == "0"
    assert len(at.get("vega_lite_chart")) >= 10
    assert "c_{29}" in latex(at)                                  # the last step by default

    at.button(key="lstm_step_0").click().run()
    assert metric(at, "Steps trained") == "1" and not at.exception

    at.slider(key="lstm_t").set_value(4).run()                    # scrub time
    assert "c_{4}" in latex(at) and "i_{4}" in latex(at)
    assert metric(at, "Steps trained") == "1"                     # a view change keeps the run
    assert "t = 4" in " ".join(m.value for m in at.markdown)

    at.selectbox(key="lstm_unit").set_value(3).run()
    assert "j=3" in latex(at)

    at.radio(key="lstm_cell").set_value("gru").run()              # switch cell type: restart
    assert metric(at, "Steps trained") == "0"
    assert any("rebuilt" in i.value for i in at.info)
    assert "z_{4}" in latex(at) and "c_{4}" not in latex(at)
    at.radio(key="lstm_cell").set_value("rnn").run()
    assert r"\tanh" in latex(at) and not at.exception
    at.button(key="lstm_step_0").click().run()
    at.button(key="lstm_step_0").click().run()
    assert metric(at, "Steps trained") == "2"

    at.select_slider(key="lstm_lr").set_value(0.001).run()       # live: no restart
    assert metric(at, "Steps trained") == "2"
    assert at.session_state["lstm_runner"].trainer.opt.param_groups[0]["lr"] == 0.001
    at.button(key="lstm_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_typed_sequence_and_bad_input():
    at = open_page(lstm_task="parity", lstm_seq_len="12")
    at.radio(key="lstm_source").set_value("type a sequence").run()
    at.text_input(key="lstm_bits").set_value("1000010101").run()
    assert not at.exception and not at.warning
    assert "of 10" in " ".join(m.value for m in at.markdown)
    assert any("target at the last step 1" in c.value for c in at.caption)     # four 1s: even -> YES
    at.text_input(key="lstm_bits").set_value("10a2").run()
    assert not at.exception and any("only 0 and 1" in w.value for w in at.warning)
    # the adding task has no typed sequences: the choice falls back to samples
    at.selectbox(key="lstm_task").set_value("adding").run()
    assert not at.exception and at.radio(key="lstm_source").value == "evaluation sample"


def test_comparison_ratio_is_computed_on_the_page_and_pretrained_loads():
    at = open_page()
    ratio = next(m for m in at.metric if m.label.startswith("LSTM ÷ vanilla RNN"))
    assert float(ratio.value.rstrip("×")) >= 100
    at.button(key="lstm_pretrained").click().run()
    assert not at.exception
    assert any("pretrained" in s.value for s in at.success)
    assert metric(at, "Accuracy (256 held-out sequences)") == "100.0%"


def test_invalid_settings_and_divergence_get_messages():
    at = open_page(lstm_seq_len="5", lstm_delay="8")
    assert not at.error                                   # the delay only matters for the echo task
    at.selectbox(key="lstm_task").set_value("echo").run()
    assert not at.exception and any("delay" in e.value for e in at.error)
    at.slider(key="lstm_delay").set_value(3).run()
    assert not at.error and not at.exception
    at = open_page(lstm_cell="rnn", lstm_set_sv="true", lstm_recurrent_sv="3.0", lstm_clip_norm="0.0")
    runner = at.session_state["lstm_runner"]
    import torch
    with torch.no_grad():
        runner.trainer.rnn.weight_hh_l0.fill_(float("inf"))
    at.button(key="lstm_step_0").click().run()
    assert not at.exception and any("diverged" in e.value for e in at.error)
    at.button(key="lstm_reset_btn").click().run()
    assert not any("diverged" in e.value for e in at.error)
