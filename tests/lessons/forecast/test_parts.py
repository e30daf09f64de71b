"""The logic that left the page: leaderboard, off-scale test, words, charts, the declarations."""
import dataclasses

import numpy as np
import pytest
import torch

import core.lessons.forecast as fc
from core import settings
from core.lessons.forecast import charts, leaderboard, metrics, text

CPU = torch.device("cpu")


def trained(model: str = "gru", epochs: int = 2) -> fc.ForecastTrainer:
    t = fc.ForecastTrainer(fc.ForecastConfig(model=model, epochs=10), CPU)
    t.train_epochs(epochs)
    return t


# ---------------------------------------------------------------- leaderboard

def test_leaderboard_adds_a_run_once_per_epoch_count_and_exports_csv():
    board = fc.Leaderboard()
    assert not board and board.csv().strip() == ",".join(leaderboard.COLUMNS)
    t = trained()
    assert board.add(t) is None and len(board) == 1
    row = board.rows[0]
    assert row["run"] == "#1" and row["model"] == "GRU" and row["epochs"] == 2
    assert "already" in board.add(t) and len(board) == 1
    t.train_epochs(1)
    assert board.add(t) is None and board.rows[1]["run"] == "#2"
    csv = board.csv()
    assert csv.splitlines()[0] == ",".join(leaderboard.COLUMNS) and "GRU" in csv
    labels, values, unit = board.bars()
    assert labels == ["#1 GRU", "#2 GRU"] and values == [r["test_rmse"] for r in board.rows]
    assert unit == "thousand passengers"
    board.clear()
    assert not board and board.add(t) is None          # a cleared board takes the run again


def test_leaderboard_refuses_untrained_and_blown_up_runs():
    board = fc.Leaderboard()
    t = fc.ForecastTrainer(fc.ForecastConfig(epochs=10), CPU)
    assert "not trained" in board.add(t)
    t.train_epochs(1)
    t.blowup = "The run blew up at epoch 1: …"
    assert "blew up" in board.add(t) and not board


def test_finished_text_says_whether_the_run_is_listed():
    board = fc.Leaderboard()
    t = trained(epochs=10)
    assert board.finished_text(t) == "Finished 10 epochs. Raise *Epochs* to train on."
    board.add(t)
    assert board.finished_text(t).startswith("Finished 10 epochs: the run is on the leaderboard")


# ---------------------------------------------------------------- the off-scale test

def test_target_size_is_the_values_own_size_or_their_range():
    assert metrics.target_size(np.array([0.0, 0.4, 1.0])) == 1.0          # scaled to [0, 1]
    assert metrics.target_size(np.array([280.0, 300.0])) == 300.0         # kelvins, unscaled
    assert metrics.target_size(np.array([-1.0, 1.0])) == 2.0
    assert metrics.target_size(np.array([])) == 1.0


def test_off_scale_names_the_factor_and_ignores_healthy_and_nan_values():
    assert metrics.off_scale(np.array([0.3, 1.2, 4.9]), 1.0) is None
    assert metrics.off_scale(np.array([np.nan]), 1.0) is None
    msg = metrics.off_scale(np.array([0.3, 18.0, 12.0]), 1.0)
    assert "18×" in msg and "more than 5×" in msg


def test_rmse_matches_torch():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    ref = torch.sqrt(torch.nn.functional.mse_loss(torch.from_numpy(a), torch.from_numpy(b))).item()
    assert fc.rmse(a, b) == pytest.approx(ref, abs=1e-12)


# ---------------------------------------------------------------- words

def test_numbers_never_show_nan():
    assert text.number(float("nan")) == "–" and text.number(float("inf")) == "–"
    assert text.number(None) == "–" and text.number(1234.56) == "1,234.6"


def test_metrics_come_from_the_history_even_after_a_blowup():
    t = trained("lstm", 2)
    labels = [m[0] for m in text.metrics(t.snapshot())]
    assert labels == ["Train RMSE", "Test RMSE", "Epoch", "Training time"]
    stale = {**t.snapshot(), "step": 0}                    # the last good snapshot, newer history
    values = {m[0]: m[1] for m in text.metrics(stale)}
    assert values["Epoch"] == "2 / 10" and values["Test RMSE"] == text.number(t.history.last("test_rmse"))
    empty = fc.ForecastTrainer(fc.ForecastConfig(), CPU).snapshot()
    assert [m[1] for m in text.metrics(empty)][:3] == ["–", "–", "0 / 150"]


def test_framing_text_marks_the_current_framing():
    t = trained("lstm", 0)
    ex = t.framing_example(2)
    md = text.framing_markdown(ex, 12, "lstm", "features")
    first, second = md.split("**Window as time steps**")
    assert "[84, 1, 12]" in first and "this run" in first and "[84, 12, 1]" in second
    assert "this run" not in second
    assert text.framing_markdown(ex, 12, "mlp", "timesteps").endswith("flattened ← *this run*")
    assert md.count("```") == 4
    assert "scaled to [0, 1]" in text.framing_caption(ex, "thousand passengers", True)


# ---------------------------------------------------------------- charts

def test_main_chart_names_every_line_in_one_legend():
    t = trained("lstm", 1)
    spec = charts.main(t.snapshot(horizon=12), 300)
    lines = spec["layer"][-1]["encoding"]
    names = list(charts.SERIES_COLORS)
    # colour and dash share field, domain and title: Vega-Lite draws them as one legend
    assert lines["color"]["scale"]["domain"] == lines["strokeDash"]["scale"]["domain"] == names
    assert lines["color"]["title"] is None and lines["strokeDash"]["title"] is None
    assert "legend" not in lines["strokeDash"] and "legend" not in lines["color"]
    assert charts.SERIES_DASH["recursive forecast"] != [1, 0]
    drawn = set(spec["datasets"]["lines"].column("series").to_pylist())
    assert drawn == set(names)
    assert spec["datasets"]["region"].column("short").to_pylist() == ["test", "forecast"]


def test_main_chart_spec_is_the_same_between_frames_apart_from_its_data():
    t = trained("lstm", 1)
    a = charts.main(t.snapshot(), 300)
    t.train_epochs(1)
    b = charts.main(t.snapshot(), 300)
    assert {k: v for k, v in a.items() if k != "datasets"} == {k: v for k, v in b.items() if k != "datasets"}


def test_history_and_board_charts():
    t = trained("lstm", 3)
    h = t.history.arrays()
    assert charts.loss(h)["datasets"]["lines"].num_rows == 3
    assert charts.errors(h, "units")["datasets"]["lines"].num_rows == 6
    assert charts.board(["#1 GRU"], [30.0], "units")["encoding"]["y"]["title"] == "units"


# ---------------------------------------------------------------- declarations

def test_every_widget_field_is_declared_and_the_defaults_pass_the_checks():
    decls = settings.declarations(fc.ForecastConfig)
    hidden = {"custom_values", "custom_x", "custom_name"}
    assert {n for n, d in decls.items() if d.widget == "none"} == hidden
    assert all(decls[n].label and decls[n].label != n for n in decls if n not in hidden)
    settings.check(fc.ForecastConfig())
    live = {n for n, d in decls.items() if d.live}
    assert live == {"optimizer", "lr", "batch_size", "epochs", "horizon"}
    assert decls["lr"].options[-1] == 10.0 and decls["horizon"].bounds == (0, fc.MAX_HORIZON)


def test_the_horizon_is_live_and_changes_only_the_forecast():
    t = trained("lstm", 1)
    t.apply_live(dataclasses.replace(t.config, horizon=60))
    snap = t.snapshot()
    assert snap["forecast"].shape == (60,) and t.step_count == 1
