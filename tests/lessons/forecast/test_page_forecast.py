"""AppTest: the forecasting page (pages/forecast.py) opens, steps, switches, uploads, stops."""
from apptest_util import is_training, metric, press_train, run_page

PAGE = "pages/forecast.py"


def open_page(**query) -> "AppTest":  # noqa: F821
    return run_page(PAGE, **query)


def runner(at):
    return at.session_state["forecast_runner"]


def test_opens_steps_switches_model_and_resets():
    at = open_page()
    assert not at.error
    assert metric(at, "Epochs trained") == "0"
    assert metric(at, "Test RMSE") == "–"                        # never "nan"
    assert len(at.get("vega_lite_chart")) >= 2                  # series and framing picture
    assert any("start with the first epoch" in c.value for c in at.caption)   # no empty chart without a word
    # both framings are shown with their shapes, the current one marked
    text = " ".join(m.value for m in at.markdown)
    assert "[84, 1, 12]" in text and "[84, 12, 1]" in text and "← *this run*" in text

    at.button(key="forecast_step_0").click().run()              # Step = one epoch
    assert metric(at, "Epochs trained") == "1"
    assert metric(at, "Test RMSE") != "–" and not at.exception
    assert len(at.get("vega_lite_chart")) >= 4                  # + loss and RMSE

    # a live setting applies without a restart
    at.select_slider(key="forecast_lr").set_value(0.003).run()
    assert metric(at, "Epochs trained") == "1" and not at.error
    assert runner(at).trainer.opt.param_groups[0]["lr"] == 0.003
    at.slider(key="forecast_horizon").set_value(60).run()       # so is the horizon
    assert metric(at, "Epochs trained") == "1" and runner(at).trainer.config.horizon == 60

    # switching the model rebuilds the run with a notice
    at.selectbox(key="forecast_model").set_value("mlp").run()
    assert metric(at, "Epochs trained") == "0"
    assert any("rebuilt" in i.value for i in at.info)
    assert runner(at).trainer.config.model == "mlp"
    assert at.toggle(key="forecast_stateful").disabled
    at.button(key="forecast_step_0").click().run()
    at.button(key="forecast_step_0").click().run()
    assert metric(at, "Epochs trained") == "2"

    at.slider(key="forecast_look_back").set_value(3).run()      # the framing picture follows the settings
    assert "[93, 3, 1]" in " ".join(m.value for m in at.markdown)

    at.button(key="forecast_reset_btn").click().run()
    assert metric(at, "Epochs trained") == "0" and not at.exception


def test_finished_run_lands_on_the_leaderboard_and_downloads():
    at = open_page()
    at.selectbox(key="forecast_model").set_value("gru").run()
    at.select_slider(key="forecast_epochs").set_value(10).run()
    runner(at).call(lambda t: t.train_epochs(10))
    at.run()
    board = at.session_state["forecast_leaderboard"]
    assert len(board) == 1 and board.rows[0]["model"] == "GRU" and board.rows[0]["epochs"] == 10
    assert any("Finished 10 epochs" in s.value for s in at.success)
    assert at.dataframe and not at.exception
    # the manual button adds an unfinished run; a second press at the same epoch does not
    at.selectbox(key="forecast_model").set_value("mlp").run()
    at.button(key="forecast_step_0").click().run()
    at.button(key="forecast_add_run").click().run()
    at.button(key="forecast_add_run").click().run()
    assert [r["model"] for r in board.rows] == ["GRU", "MLP on the window"]
    assert any("already" in i.value for i in at.info)
    assert at.get("download_button")
    at.button(key="forecast_clear_board").click().run()
    assert len(at.session_state["forecast_leaderboard"]) == 0


def test_training_stops_by_itself_at_the_epochs():
    at = open_page()
    at.select_slider(key="forecast_epochs").set_value(10).run()
    press_train(at, "forecast")
    runner(at).call(lambda t: t.train_epochs(10))
    at.run()                                                    # the next frame sees the end
    at.run()
    assert not is_training(at, "forecast") and metric(at, "Epochs trained") == "10"
    assert any("Finished 10 epochs: the run is on the leaderboard" in s.value for s in at.success)


def test_adam_at_the_highest_learning_rate_blows_up_in_red_and_stays_off_the_board():
    """Issue 11: this run used to say "Finished 150 epochs" in green and join the leaderboard."""
    at = open_page()
    at.select_slider(key="forecast_lr").set_value(10.0).run()
    press_train(at, "forecast")
    for _ in range(30):                                         # AppTest has no timer: drive frames
        if runner(at).error:
            break
        runner(at).train_for(0.1)
        at.run()
    at.run()
    assert runner(at).error and "blew up" in runner(at).error
    assert any("blew up" in e.value for e in at.error)
    assert not at.success and not is_training(at, "forecast")
    assert len(at.session_state["forecast_leaderboard"]) == 0
    at.button(key="forecast_add_run").click().run()             # not by hand either
    assert len(at.session_state["forecast_leaderboard"]) == 0
    assert any("blew up" in i.value for i in at.info)
    at.button(key="forecast_step_0").click().run()              # Step does nothing after a blow-up
    assert runner(at).error and not at.exception


def test_stateful_and_scaling_off():
    at = open_page()
    at.slider(key="forecast_look_back").set_value(2).run()
    at.toggle(key="forecast_stateful").set_value(True).run()
    at.button(key="forecast_step_0").click().run()
    assert metric(at, "Epochs trained") == "1" and not at.exception and not at.error
    assert runner(at).trainer.effective_batch == 1
    assert at.select_slider(key="forecast_batch_size").disabled
    assert any("Stateful run" in c.value for c in at.caption)
    at.toggle(key="forecast_scale").set_value(False).run()
    at.button(key="forecast_step_0").click().run()
    assert metric(at, "Epochs trained") == "1" and not at.exception


def test_upload_good_and_bad_files():
    at = open_page()
    at.selectbox(key="forecast_source").set_value("upload").run()
    assert not at.exception
    assert any("no CSV is loaded" in e.value for e in at.error)     # a message, the old run kept
    # a bad file: a clear message per case
    at.file_uploader(key="forecast_upload").set_value(("notes.pdf", b"%PDF-1.4", "application/pdf")).run()
    assert any("not a CSV" in e.value for e in at.error) and not at.exception
    at.file_uploader(key="forecast_upload").set_value(("w.csv", b"a,b\nx,y\nz,w\n", "text/csv")).run()
    assert any("no column of numbers" in e.value for e in at.error)
    # a good file with a gap: choose interpolate, then it trains
    rows = "\n".join(f"2000-{m:02d},{10 + (m % 5)}" for m in range(1, 13))
    data = ("date,sales\n" + rows + "\n2001-01,\n" + "\n".join(
        f"2001-{m:02d},{12 + (m % 4)}" for m in range(2, 13)) + "\n").encode()
    at.file_uploader(key="forecast_upload").set_value(("sales.csv", data, "text/csv")).run()
    assert any("1 empty" in w.value for w in at.warning)
    assert any("drop those rows or to interpolate" in i.value for i in at.info)
    at.radio(key="forecast_fix").set_value("interpolate").run()
    at.selectbox(key="forecast_date_col").set_value("date").run()
    at.slider(key="forecast_look_back").set_value(3).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    t = runner(at).trainer
    assert t.config.source == "upload" and len(t.series.values) == 24 and t.series.x_title == "year"
    assert any("24 values from “sales.csv” (interpolated 1 missing value)" in c.value for c in at.caption)
    at.button(key="forecast_step_0").click().run()
    assert metric(at, "Epochs trained") == "1"
    # too short for the window: a message, not a crash
    at.slider(key="forecast_look_back").set_value(20).run()
    assert any("too short" in e.value for e in at.error) and not at.exception


def test_pretrained_loads_instantly_and_old_links_still_work():
    at = open_page()
    at.button(key="forecast_pretrained").click().run()
    assert any("pretrained" in s.value for s in at.success)
    assert metric(at, "Epochs trained") == "150"
    assert float(metric(at, "Test RMSE")) <= 50
    assert runner(at).trainer.slice_seconds                     # sliced like a fresh live run
    # a link handed out before the rename (?fc_…) opens the lesson as prepared
    at2 = open_page(fc_model="Vanilla RNN", fc_look_back="4")   # menus keep their label in the URL
    cfg = runner(at2).trainer.config
    assert cfg.model == "rnn" and cfg.look_back == 4


def test_presentation_mode_folds_the_settings_and_keeps_the_chart_first():
    at = open_page(present="true")
    assert not at.exception
    assert any("Settings" in e.label for e in at.expander)
    assert "recursive forecast" in at.get("vega_lite_chart")[0].proto.spec     # the main chart comes first
