"""Unit tests for core/forecast.py: data, windowing, scaling, models, trainer, uploads."""
import dataclasses

import numpy as np
import pytest
import torch

from core import forecast as fc
from core.checkpoints import load_checkpoint, save_checkpoint
from core.live import Diverged

CPU = torch.device("cpu")


def small(**kw) -> fc.ForecastConfig:
    """A quick config: 2 epochs on the airline series."""
    return fc.ForecastConfig(**{"epochs": 2, **kw})


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
    f = fc.frame(X, "features")
    ts = fc.frame(X, "timesteps")
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
                             look_back=3, epochs=2)
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


def test_hand_written_lstm_cell_matches_torch_float64():
    torch.manual_seed(0)
    cell = torch.nn.LSTM(3, 5, batch_first=True).double()
    x = torch.randn(4, 1, 3, dtype=torch.float64)
    h0, c0 = torch.randn(1, 4, 5, dtype=torch.float64), torch.randn(1, 4, 5, dtype=torch.float64)
    out, (h1, c1) = cell(x, (h0, c0))
    h, c = fc.lstm_cell_reference(x[:, 0], h0[0], c0[0], cell.weight_ih_l0, cell.weight_hh_l0,
                                  cell.bias_ih_l0, cell.bias_hh_l0)
    assert torch.allclose(h, h1[0], atol=1e-6, rtol=0) and torch.allclose(c, c1[0], atol=1e-6, rtol=0)
    assert torch.allclose(h, out[:, 0], atol=1e-6, rtol=0)


# ---------------------------------------------------------------- config checks

@pytest.mark.parametrize("kw, words", [
    ({"look_back": 100}, "too short"),
    ({"model": "mlp", "stateful": True}, "recurrent"),
    ({"lr": float("nan")}, "learning rate"),
    ({"source": "upload"}, "no CSV"),
    ({"source": "sine", "length": 5}, "between"),
    ({"dropout": 1.0}, "dropout"),
])
def test_invalid_configs_raise_readable_errors(kw, words):
    with pytest.raises(ValueError, match=words):
        fc.ForecastTrainer(small(**kw), CPU)


def test_min_length_is_tight():
    for L in (1, 3, 12):
        for frac in (0.5, 0.67, 0.9):
            n = fc.min_length(L, frac)
            v = tuple(float(i % 7) for i in range(n))
            fc.check_config(fc.ForecastConfig(source="upload", custom_values=v, look_back=L, train_frac=frac))
            with pytest.raises(ValueError, match="too short"):
                fc.check_config(fc.ForecastConfig(source="upload", custom_values=v[:-1], look_back=L,
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
    cfg = small(model=model, epochs=8, layers=2, dropout=0.1)
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
    cfg = small(model="lstm", stateful=True, look_back=3, framing=framing, epochs=2, batch_size=32)
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
    t.apply_live(dataclasses.replace(t.config, lr=0.001, batch_size=4, epochs=5))
    assert t.opt.param_groups[0]["lr"] == 0.001 and t.effective_batch == 4 and t.config.epochs == 5
    assert all(torch.equal(a, b) for a, b in zip(w, t.model.parameters()))
    t.apply_live(dataclasses.replace(t.config, optimizer="sgd"))
    assert isinstance(t.opt, torch.optim.SGD)
    t.step(10)
    assert t.step_count == 5


def test_divergence_raises_a_clear_message():
    t = fc.ForecastTrainer(small(scale=False, optimizer="sgd", lr=10.0, epochs=20, model="mlp"), CPU)
    with pytest.raises(Diverged, match="Lower the learning rate"):
        t.step(20)


def test_checkpoint_round_trip(tmp_path):
    t = fc.ForecastTrainer(small(epochs=6), CPU)
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
                                             epochs=2), CPU)
    t.step(1)
    save_checkpoint(tmp_path / "u.pt", t.state_dict())
    u = fc.ForecastTrainer.from_checkpoint(load_checkpoint(tmp_path / "u.pt"), CPU)
    assert u.config == t.config


def test_shipped_pretrained_checkpoint_loads():
    ck = load_checkpoint(fc.DATA_DIR.parent.parent / "pretrained" / "forecast_airline_lstm.pt", "forecast")
    t = fc.ForecastTrainer.from_checkpoint(ck, CPU)
    assert t.finished and t.config.model == "lstm"
    assert t.history.last("test_rmse") <= 50
    snap = t.snapshot()
    assert fc.rmse(snap["pred"][~snap["is_train"]], t.series.values[t.n_train:]) == pytest.approx(
        t.history.last("test_rmse"), rel=1e-4)


def test_leaderboard_row_and_csv():
    t = fc.ForecastTrainer(small(model="gru"), CPU)
    t.step(2)
    row = fc.leaderboard_row(t, "#1")
    assert row["model"] == "GRU" and row["epochs"] == 2 and row["run"] == "#1"
    csv = fc.leaderboard_csv([row])
    assert csv.splitlines()[0] == ",".join(fc.LEADERBOARD_COLUMNS) and "GRU" in csv
    assert fc.leaderboard_csv([]).strip() == ",".join(fc.LEADERBOARD_COLUMNS)


# ---------------------------------------------------------------- uploads

GOOD = b'"Month","Passengers"\n"1949-01",112\n"1949-02",118\n"1949-03",132\n"1949-04",129\n'


def test_good_upload_with_dates():
    up = fc.read_upload("air.csv", GOOD)
    assert up.numeric == ["Passengers"]
    v, years, note = fc.series_from_upload(up, "Passengers", "Month")
    assert v.tolist() == [112, 118, 132, 129] and note == ""
    assert years[0] == pytest.approx(1949.0) and np.all(np.diff(years) > 0)


def test_semicolon_upload():
    up = fc.read_upload("x.csv", b"t;value\n1;2,0\n2;3.5\n3;4\n4;5\n")
    assert "t" in up.numeric


@pytest.mark.parametrize("name, data, words", [
    ("big.csv", b"a\n" + b"1\n" * 600_000, "limit"),
    ("picture.png", b"\x89PNG\r\n", "not a CSV"),
    ("sheet.csv", b"PK\x03\x04\x00\x00binary", "binary"),
    ("empty.csv", b"   \n", "empty"),
    ("words.csv", b"name,city\nann,rome\nbob,oslo\n", "no column of numbers"),
])
def test_upload_errors(name, data, words):
    with pytest.raises(fc.UploadError, match=words):
        fc.read_upload(name, data)


def test_upload_with_nan_and_inf_offers_drop_or_interpolate():
    up = fc.read_upload("gaps.csv", b"v\n1\n2\n\n4\ninf\n6\nNaN\n8\n")
    assert fc.bad_cells(up, "v") == 3
    with pytest.raises(fc.UploadError, match="drop those rows or to interpolate"):
        fc.series_from_upload(up, "v")
    v, _, note = fc.series_from_upload(up, "v", fix="drop")
    assert v.tolist() == [1, 2, 4, 6, 8] and "dropped 3" in note
    v, _, note = fc.series_from_upload(up, "v", fix="interpolate")
    assert v.tolist() == [1, 2, 3, 4, 5, 6, 7, 8] and "interpolated 3" in note


def test_upload_too_short_for_the_window_is_a_config_error():
    up = fc.read_upload("short.csv", b"v\n1\n2\n3\n4\n5\n6\n")
    v, _, _ = fc.series_from_upload(up, "v")
    with pytest.raises(ValueError, match="too short"):
        fc.check_config(fc.ForecastConfig(source="upload", custom_values=tuple(v), look_back=3))


def test_upload_too_many_values():
    data = b"v\n" + b"1.5\n" * (fc.MAX_SERIES + 1)
    up = fc.read_upload("long.csv", data)
    with pytest.raises(fc.UploadError, match="limit"):
        fc.series_from_upload(up, "v")
