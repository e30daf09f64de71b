"""Unit tests for core/lessons/forecast: data, windowing, scaling, models, the trainer, checkpoints."""
import dataclasses
import time

import numpy as np
import pytest
import torch

import core.lessons.forecast as fc
from core.checkpoints import load_checkpoint, pretrained_path, save_checkpoint
from core.live import Diverged

CPU = torch.device("cpu")


def small(**kw) -> fc.ForecastConfig:
    """A quick config on the airline series; the tests step it by hand (10 = the fewest epochs offered)."""
    return fc.ForecastConfig(**{"epochs": 10, **kw})


# ---------------------------------------------------------------- data

def test_airline_series_is_the_real_one():
    s = fc.load_airline()
    v = s.values
    assert len(v) == 144 and v.sum() == 40363
    assert list(v[:4]) == [112, 118, 132, 129] and list(v[-2:]) == [390, 432]
    assert s.x[0] == 1949 and s.x[-1] == pytest.approx(1960 + 11 / 12)


@pytest.mark.parametrize("kind", fc.SYNTHETIC)
def test_synthetic_series_are_finite_and_noise_is_reproducible(kind):
    a = fc.synthetic(kind, 200, 0.1)
    b = fc.synthetic(kind, 200, 0.1)
    clean = fc.synthetic(kind, 200, 0.0)
    assert a.shape == (200,) and np.isfinite(a).all() and np.array_equal(a, b)
    assert not np.array_equal(a, clean) and clean.std() > 0


# ---------------------------------------------------------------- windowing and scaling

def test_windows_on_a_tiny_series_by_hand():
    s = np.array([10.0, 11, 12, 13, 14, 15])
    X, y, t = fc.make_windows(s, 2)
    assert X.tolist() == [[10, 11], [11, 12], [12, 13], [13, 14]]
    assert y.tolist() == [12, 13, 14, 15]
    assert t.tolist() == [2, 3, 4, 5]
    # the two framings of [samples, time steps, features]
    f = fc.frame_windows(X, "features")
    ts = fc.frame_windows(X, "timesteps")
    assert f.shape == (4, 1, 2) and f[0].tolist() == [[10, 11]]
    assert ts.shape == (4, 2, 1) and ts[0].tolist() == [[10], [11]]
    X1, y1, _ = fc.make_windows(s, 1)
    assert X1[:, 0].tolist() == [10, 11, 12, 13, 14] and y1.tolist() == [11, 12, 13, 14, 15]


def test_split_keeps_test_values_out_of_training_pairs_and_scaling():
    cfg = small(look_back=3, scale=True)
    t = fc.ForecastTrainer(cfg, CPU)
    v = t.series.values
    assert t.n_train == int(np.floor(0.67 * 144)) == 96
    # every training pair's target (and so its whole window) lies before the split
    assert t.t[t.is_train].max() == t.n_train - 1 and t.t[~t.is_train].min() == t.n_train
    assert t.n_train_pairs == 96 - 3 and len(t.t) - t.n_train_pairs == 48
    # the scaler saw the training part only: the test part goes above 1
    assert t.scaler.lo == v[:96].min() and t.scaler.lo + t.scaler.span == v[:96].max()
    z = t.scaler.transform(v)
    assert z[:96].min() == 0 and z[:96].max() == 1 and z[96:].max() > 1.4
    # what the model is fitted on is exactly the training pairs
    X, y, _ = fc.make_windows(z, 3)
    assert torch.allclose(t.Xtr[:, 0].double(), torch.from_numpy(X[:93]), atol=1e-6)
    assert torch.allclose(t.ytr[:, 0].double(), torch.from_numpy(y[:93]), atol=1e-6)
    # changing the test values changes neither the scaling nor the training data
    cfg2 = fc.ForecastConfig(source="upload", custom_values=tuple(np.r_[v[:96], v[96:] * 3]),
                             look_back=3, epochs=10)
    t2 = fc.ForecastTrainer(cfg2, CPU)
    assert (t2.scaler.lo, t2.scaler.span) == (t.scaler.lo, t.scaler.span)
    assert torch.equal(t2.Xtr, t.Xtr) and torch.equal(t2.ytr, t.ytr)


def test_scaling_off_feeds_raw_values_and_inverse_round_trips():
    t = fc.ForecastTrainer(small(scale=False), CPU)
    assert t.Xtr.max().item() == pytest.approx(t.series.values[:96].max())
    sc = fc.Scaler.fit(np.array([2.0, 4.0, 6.0]))
    assert sc.transform(np.array([2.0, 6.0, 8.0])).tolist() == [0.0, 1.0, 1.5]
    assert sc.inverse(sc.transform(np.array([3.3]))).tolist() == pytest.approx([3.3])


def test_rmse_matches_torch():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    ref = torch.sqrt(torch.nn.functional.mse_loss(torch.from_numpy(a), torch.from_numpy(b))).item()
    assert fc.rmse(a, b) == pytest.approx(ref, abs=1e-12)


# ---------------------------------------------------------------- config checks

@pytest.mark.parametrize("kw, words", [
    ({"source": "sine", "length": 50, "look_back": 24, "train_frac": 0.5}, "too short"),
    ({"look_back": 100}, "between 1 and 24"),
    ({"model": "mlp", "stateful": True}, "recurrent"),
    ({"lr": float("nan")}, "(?i)learning rate"),
    ({"source": "upload"}, "no CSV"),
    ({"source": "sine", "length": 5}, "between"),
    ({"dropout": 1.0}, "(?i)dropout"),
    ({"epochs": 0}, "(?i)epochs"),
])
def test_invalid_configs_raise_readable_errors(kw, words):
    with pytest.raises(ValueError, match=words):
        fc.ForecastTrainer(small(**kw), CPU)


def test_min_length_is_tight():
    for L in (1, 3, 12):
        for frac in (0.5, 0.67, 0.9):
            n = fc.min_length(L, frac)
            v = tuple(float(i % 7) for i in range(n))
            fc.load_series(fc.ForecastConfig(source="upload", custom_values=v, look_back=L, train_frac=frac))
            with pytest.raises(ValueError, match="too short"):
                fc.load_series(fc.ForecastConfig(source="upload", custom_values=v[:-1], look_back=L,
                                                  train_frac=frac))


# ---------------------------------------------------------------- training

def test_default_airline_run_reaches_the_target():
    """The benchmark's default run, fixed seed: test RMSE ≤ 50 thousand passengers."""
    t = fc.ForecastTrainer(fc.ForecastConfig(seed=0), CPU)
    hit = None
    while not t.finished:
        t.step(10)
        if hit is None and t.history.last("test_rmse") <= 50:
            hit = t.step_count
    h = t.history.arrays()
    assert hit is not None and hit <= 60
    assert h["test_rmse"][-1] <= 50 and h["train_rmse"][-1] < 25
    assert t.step_count == t.config.epochs
    t.step(5)                                   # finished: no more epochs
    assert t.step_count == t.config.epochs


@pytest.mark.parametrize("model", list(fc.MODELS))
def test_every_model_learns_and_same_seed_same_history(model):
    cfg = small(model=model, layers=2, dropout=0.1)
    a, b = fc.ForecastTrainer(cfg, CPU), fc.ForecastTrainer(cfg, CPU)
    a.step(8)
    b.step(4)
    b.step(4)
    ha, hb = a.history.arrays(), b.history.arrays()
    assert np.array_equal(ha["loss"], hb["loss"]) and np.array_equal(ha["test_rmse"], hb["test_rmse"])
    assert ha["loss"][-1] < ha["loss"][0]
    snap = a.snapshot(horizon=12)
    assert snap["pred"].shape == (144 - 12,) and snap["forecast"].shape == (12,)
    assert np.isfinite(snap["forecast"]).all()


@pytest.mark.parametrize("framing", list(fc.FRAMINGS))
def test_stateful_path_carries_state_and_fast_eval_matches_loop(framing):
    cfg = small(model="lstm", stateful=True, look_back=3, framing=framing, batch_size=32)
    t = fc.ForecastTrainer(cfg, CPU)
    assert t.effective_batch == 1                 # stateful: batches of one pair in time order
    t.step(2)
    pred, state = t.predict_scaled()
    # reference: one pair at a time, state carried from each pair to the next
    loop_state, loop = None, []
    with torch.no_grad():
        t.model.eval()
        for i in range(t.X.shape[0]):
            p, loop_state = t.model(t.X[i:i + 1], loop_state)
            loop.append(p[0, 0])
    assert torch.allclose(pred, torch.stack(loop), atol=1e-5)
    assert torch.allclose(state[0], loop_state[0], atol=1e-5)
    # without the carried state the predictions differ: the memory matters
    stateless, _ = t.model(t.X)
    assert not torch.allclose(pred, stateless[:, 0], atol=1e-3)
    assert np.isfinite(t.forecast(6)).all()


def test_stateless_prediction_is_per_window():
    t = fc.ForecastTrainer(small(model="gru", look_back=4, framing="timesteps"), CPU)
    t.step(1)
    pred, _ = t.predict_scaled()
    with torch.no_grad():
        t.model.eval()
        one = t.model(t.X[10:11])[0][0, 0]
    assert pred[10].item() == pytest.approx(one.item(), abs=1e-6)


def test_recursive_forecast_feeds_predictions_back():
    t = fc.ForecastTrainer(small(model="mlp", look_back=2), CPU)
    t.step(2)
    f = t.forecast(3)
    z = t.scaler.transform(t.series.values)
    with torch.no_grad():
        t.model.eval()
        w = list(z[-2:])
        ref = []
        for _ in range(3):
            p = t.model(torch.tensor([[w]], dtype=torch.float32))[0].item()
            ref.append(p)
            w = [w[1], p]
    assert f == pytest.approx(t.scaler.inverse(np.array(ref)), rel=1e-5)


def test_live_changes_keep_weights_and_optimizer_switch():
    t = fc.ForecastTrainer(small(), CPU)
    t.step(1)
    w = [p.clone() for p in t.model.parameters()]
    t.apply_live(dataclasses.replace(t.config, lr=0.001, batch_size=4, epochs=25, model="mlp"))
    assert t.opt.param_groups[0]["lr"] == 0.001 and t.effective_batch == 4 and t.config.epochs == 25
    assert t.config.model == "lstm"                       # structural fields are not live
    assert all(torch.equal(a, b) for a, b in zip(w, t.model.parameters()))
    t.apply_live(dataclasses.replace(t.config, optimizer="sgd"))
    assert isinstance(t.opt, torch.optim.SGD)
    t.step(30)
    assert t.step_count == 25


def test_divergence_raises_a_clear_message():
    t = fc.ForecastTrainer(small(scale=False, optimizer="sgd", lr=10.0, epochs=25, model="mlp"), CPU)
    with pytest.raises(Diverged, match="Lower the learning rate"):
        t.step(25)
    assert t.blowup and "blew up" in t.blowup


def test_checkpoint_round_trip(tmp_path):
    t = fc.ForecastTrainer(small(), CPU)
    t.step(3)
    save_checkpoint(tmp_path / "c.pt", t.state_dict())
    ck = load_checkpoint(tmp_path / "c.pt", "forecast")
    u = fc.ForecastTrainer.from_checkpoint(ck, CPU)
    assert u.step_count == 3 and u.run_id == t.run_id
    assert np.array_equal(u.snapshot()["pred"], t.snapshot()["pred"])
    u.step(3)
    t.step(3)
    assert u.history.last("loss") == pytest.approx(t.history.last("loss"), rel=1e-6)


def test_upload_checkpoint_round_trip(tmp_path):
    v = tuple(float(x) for x in fc.synthetic("sine", 60, 0.0))
    t = fc.ForecastTrainer(fc.ForecastConfig(source="upload", custom_values=v, custom_name="y", look_back=3,
                                             epochs=10), CPU)
    t.step(1)
    save_checkpoint(tmp_path / "u.pt", t.state_dict())
    u = fc.ForecastTrainer.from_checkpoint(load_checkpoint(tmp_path / "u.pt"), CPU)
    assert u.config == t.config


def test_shipped_pretrained_checkpoint_loads():
    ck = load_checkpoint(pretrained_path(fc.CHECKPOINT), "forecast")
    t = fc.ForecastTrainer.from_checkpoint(ck, CPU)
    assert t.finished and t.config.model == "lstm"
    assert t.history.last("test_rmse") <= 50
    snap = t.snapshot()
    assert fc.rmse(snap["pred"][~snap["is_train"]], t.series.values[t.n_train:]) == pytest.approx(
        t.history.last("test_rmse"), rel=1e-4)


# ---------------------------------------------------------------- blow-ups (issue 11)

def train_live_for(t: fc.ForecastTrainer, seconds: float) -> None:
    """Step as the live loop does (sliced steps) until ``seconds`` pass or the run ends."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds and not t.finished:
        t.step(2)


@pytest.mark.parametrize("model", ["lstm", "mlp", "gru"])
def test_adam_at_the_highest_learning_rate_stops_with_the_blowup_message(model):
    """Adam at lr 10 never makes a NaN: the predictions leave the data's scale, then the network
    sits saturated on one flat line. The run must stop at once, say why, keep its history."""
    assert max(fc.ForecastConfig.__dataclass_fields__["lr"].metadata["decl"]["options"]) == 10.0
    t = fc.live_trainer(fc.ForecastConfig(model=model, lr=10.0, seed=0), CPU)
    t0 = time.perf_counter()
    with pytest.raises(Diverged, match="blew up") as e:
        train_live_for(t, 5.0)
    assert time.perf_counter() - t0 < 2.0
    assert "scale" in str(e.value) and "Lower the learning rate" in str(e.value)
    assert t.blowup == str(e.value) and not t.finished
    assert len(t.history.arrays()["loss"]) == t.step_count >= 1       # the history up to the blow-up
    board = fc.Leaderboard()
    assert "blew up" in board.add(t) and len(board) == 0


def test_sgd_at_the_highest_learning_rate_stops_on_nan_within_two_seconds():
    t = fc.live_trainer(fc.ForecastConfig(optimizer="sgd", lr=10.0, seed=0), CPU)
    t0 = time.perf_counter()
    with pytest.raises(Diverged, match="blew up"):
        train_live_for(t, 5.0)
    assert time.perf_counter() - t0 < 2.0 and t.blowup


@pytest.mark.parametrize("kw", [{}, {"model": "mlp"}, {"model": "rnn"}, {"optimizer": "rmsprop"},
                                {"scale": False}, {"lr": 0.1}])
def test_default_settings_train_to_the_end_without_a_false_alarm(kw):
    t = fc.ForecastTrainer(fc.ForecastConfig(seed=0, **kw), CPU)
    t.train_epochs(150)
    assert t.finished and t.blowup is None and np.isfinite(t.history.arrays()["test_rmse"]).all()


def test_an_offset_series_unscaled_is_not_taken_for_a_blowup():
    """Kelvins (≈ 290 ± 10) without scaling: an untrained model's RMSE is 290, thirty times the
    range, but not more than the values' own size."""
    v = tuple(290.0 + 10 * np.sin(np.arange(120) / 5.0))
    t = fc.ForecastTrainer(fc.ForecastConfig(source="upload", custom_values=v, scale=False, model="mlp",
                                             look_back=6, epochs=25), CPU)
    t.train_epochs(25)
    assert t.blowup is None


# ---------------------------------------------------------------- sliced steps (Pause at any setting)

MAX_SETTINGS = dict(source="sine", length=2000, noise=0.5, train_frac=0.9, look_back=24, framing="timesteps",
                    hidden=64, layers=3, dropout=0.5, batch_size=1, epochs=2000, horizon=120)


@pytest.mark.parametrize("kw", [{}, {"stateful": True, "look_back": 3, "framing": "timesteps"},
                                {"stateful": True, "look_back": 3}, {"model": "gru", "dropout": 0.2, "layers": 2}])
def test_a_run_is_the_same_however_its_epochs_are_sliced(kw):
    cfg = small(**kw)
    a = fc.ForecastTrainer(cfg, CPU)
    a.train_epochs(3)
    b = fc.ForecastTrainer(cfg, CPU, slice_seconds=1e-4)
    calls = 0
    while b.step_count < 3:
        b.step(1)
        calls += 1
    assert calls > 3                                  # it really was cut mid-epoch
    for k in fc.ForecastTrainer.HISTORY_KEYS:
        assert np.array_equal(a.history.arrays()[k], b.history.arrays()[k])
    assert np.array_equal(a.snapshot()["pred"], b.snapshot()["pred"])


def test_a_live_step_at_the_largest_settings_returns_mid_epoch():
    """One epoch here is ~1,800 batches of one (seconds); a live step must not wait for it, or
    Pause would. (Its time is measured in benchmarks/bench_forecast.py, not asserted.)"""
    t = fc.live_trainer(fc.ForecastConfig(**MAX_SETTINGS), CPU)
    t0 = time.perf_counter()
    t.step(1)
    assert t.step_count == 0 and t._epoch is not None and t._epoch.pos > 0
    assert time.perf_counter() - t0 < 1.0
    snap = t.snapshot()                                # the untrained predictions, not a crash
    assert snap["pred"].shape == (2000 - 24,) and snap["forecast"].shape == (120,)
    assert np.isnan(snap["best_test_rmse"])


def test_a_live_frame_computes_the_untrained_predictions_a_slice_at_a_time():
    """Stateful over 1,976 pairs one by one takes seconds: a frame while training does a slice."""
    t = fc.live_trainer(fc.ForecastConfig(**{**MAX_SETTINGS, "stateful": True}), CPU)
    snap = t.snapshot(budget=0.01)
    assert np.isnan(snap["pred"]).any() and len(snap["forecast"]) == 0     # drawn as far as it got
    full = t.snapshot()                                                     # paused: all of it
    assert np.isfinite(full["pred"]).all() and full["forecast"].shape == (120,)
