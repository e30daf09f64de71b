"""AppTest: the forecasting page (pages/2_LSTM_Forecast.py) opens, steps, switches, uploads."""
import pathlib

from apptest_util import metric, run_page
from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "2_LSTM_Forecast.py")


def open_page() -> AppTest:
    return run_page("pages/2_LSTM_Forecast.py")


def test_opens_steps_switches_model_and_resets():
    at = open_page()
    assert not at.error
    assert metric(at, "Epochs trained") == "0"
    assert len(at.get("vega_lite_chart")) >= 4          # series, loss, RMSE, framing picture
    # both framings are shown with their shapes, the current one marked
    text = " ".join(m.value for m in at.markdown)
    assert "[84, 1, 12]" in text and "[84, 12, 1]" in text and "← *this run*" in text

    at.button(key="fc_step_0").click().run()            # Step = one epoch
    assert metric(at, "Epochs trained") == "1"
    assert metric(at, "Test RMSE") != "–" and not at.exception

    # a live setting applies without a restart
    at.select_slider(key="fc_lr").set_value(0.003).run()
    assert metric(at, "Epochs trained") == "1" and not at.error
    assert at.session_state["fc_runner"].trainer.opt.param_groups[0]["lr"] == 0.003

    # switching the model rebuilds the run with a notice
    at.selectbox(key="fc_model").set_value("mlp").run()
    assert metric(at, "Epochs trained") == "0"
    assert any("rebuilt" in i.value for i in at.info)
    assert at.session_state["fc_runner"].trainer.config.model == "mlp"
    assert at.toggle(key="fc_stateful").disabled
    at.button(key="fc_step_0").click().run()
    at.button(key="fc_step_0").click().run()
    assert metric(at, "Epochs trained") == "2"

    at.slider(key="fc_look_back").set_value(3).run()    # the framing picture follows the settings
    assert "[93, 3, 1]" in " ".join(m.value for m in at.markdown)

    at.button(key="fc_reset_btn").click().run()
    assert metric(at, "Epochs trained") == "0" and not at.exception


def test_finished_run_lands_on_the_leaderboard_and_downloads():
    at = open_page()
    at.selectbox(key="fc_model").set_value("gru").run()
    at.select_slider(key="fc_epochs").set_value(10).run()
    at.session_state["fc_runner"].step(10)
    at.run()
    board = at.session_state["fc_leaderboard"]
    assert len(board) == 1 and board[0]["model"] == "GRU" and board[0]["epochs"] == 10
    assert at.dataframe and not at.exception
    # the manual button adds an unfinished run; a second press at the same epoch does not
    at.selectbox(key="fc_model").set_value("mlp").run()
    at.button(key="fc_step_0").click().run()
    at.button(key="fc_add_run").click().run()
    at.button(key="fc_add_run").click().run()
    assert [r["model"] for r in at.session_state["fc_leaderboard"]] == ["GRU", "MLP on the window"]
    assert any("already" in i.value for i in at.info)
    assert at.get("download_button")
    at.button(key="fc_clear_board").click().run()
    assert at.session_state["fc_leaderboard"] == []


def test_stateful_and_scaling_off():
    at = open_page()
    at.slider(key="fc_look_back").set_value(2).run()
    at.toggle(key="fc_stateful").set_value(True).run()
    at.button(key="fc_step_0").click().run()
    assert metric(at, "Epochs trained") == "1" and not at.exception and not at.error
    assert at.session_state["fc_runner"].trainer.effective_batch == 1
    assert any("Stateful run" in c.value for c in at.caption)
    at.toggle(key="fc_scale").set_value(False).run()
    at.button(key="fc_step_0").click().run()
    assert metric(at, "Epochs trained") == "1" and not at.exception


def test_upload_good_and_bad_files():
    at = open_page()
    at.selectbox(key="fc_source").set_value("upload").run()
    assert not at.exception
    assert any("no CSV is loaded" in e.value for e in at.error)     # a message, the old run kept
    # a bad file: a clear message per case
    at.file_uploader(key="fc_upload").set_value(("notes.pdf", b"%PDF-1.4", "application/pdf")).run()
    assert any("not a CSV" in e.value for e in at.error) and not at.exception
    at.file_uploader(key="fc_upload").set_value(("w.csv", b"a,b\nx,y\nz,w\n", "text/csv")).run()
    assert any("no column of numbers" in e.value for e in at.error)
    # a good file with a gap: choose interpolate, then it trains
    rows = "\n".join(f"2000-{m:02d},{10 + (m % 5)}" for m in range(1, 13))
    data = ("date,sales\n" + rows + "\n2001-01,\n" + "\n".join(
        f"2001-{m:02d},{12 + (m % 4)}" for m in range(2, 13)) + "\n").encode()
    at.file_uploader(key="fc_upload").set_value(("sales.csv", data, "text/csv")).run()
    assert any("1 empty" in w.value for w in at.warning)
    at.radio(key="fc_fix").set_value("interpolate").run()
    at.selectbox(key="fc_date_col").set_value("date").run()
    at.slider(key="fc_look_back").set_value(3).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    t = at.session_state["fc_runner"].trainer
    assert t.config.source == "upload" and len(t.series.values) == 24 and t.series.x_title == "year"
    at.button(key="fc_step_0").click().run()
    assert metric(at, "Epochs trained") == "1"
    # too short for the window: a message, not a crash
    at.slider(key="fc_look_back").set_value(20).run()
    assert any("too short" in e.value for e in at.error) and not at.exception


def test_pretrained_loads_instantly_and_url_settings():
    at = open_page()
    at.button(key="fc_pretrained").click().run()
    assert any("pretrained" in s.value for s in at.success)
    assert metric(at, "Epochs trained") == "150"
    assert float(metric(at, "Test RMSE")) <= 50
    at2 = AppTest.from_file(PAGE, default_timeout=60)
    at2.query_params["fc_model"] = "Vanilla RNN"   # selectboxes keep their label in the URL
    at2.query_params["fc_look_back"] = "4"
    at2.run()
    assert not at2.exception
    cfg = at2.session_state["fc_runner"].trainer.config
    assert cfg.model == "rnn" and cfg.look_back == 4
