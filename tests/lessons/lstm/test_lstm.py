"""The LSTM lesson's core: tasks, trainer (on core.trainer.TrainerBase), explicit views, comparisons,
charts, blow-up detection."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from core.lessons.lstm import charts as lc
from core.lessons.lstm import cells as rc
from core.checkpoints import load_checkpoint, save_checkpoint
from core.live import Diverged
from core.lessons.lstm import (BACKWARD_VIEW, FORWARD_VIEW, PROBE_BACK, LstmConfig, LstmTrainer, bit_targets,
                               build_rnn, cell_params, compare_cells, make_batch, parse_bits, ratio_back)
from core.lessons.lstm.data import typed_sequence

torch.set_num_threads(1)
CPU = torch.device("cpu")


def test_tasks_targets():
    bits = torch.tensor([[1, 0], [0, 0], [1, 1], [1, 0]])           # [T=4, B=2]
    assert bit_targets("first_bit", bits, 0).tolist() == [[1.0, 0.0]]
    # parity: 1 when the number of 1s is even (3 ones -> 0, 1 one -> 0... second column has 1)
    assert bit_targets("parity", bits, 0).tolist() == [[0.0, 0.0]]
    assert bit_targets("parity", bits[:3], 0).tolist() == [[1.0, 0.0]]
    assert bit_targets("echo", bits, 2).tolist() == bits[:2].float().tolist()
    g = torch.Generator().manual_seed(0)
    x, y = make_batch("adding", 10, 5, 0, g)
    assert x.shape == (10, 5, 2) and y.shape == (1, 5)
    assert torch.all(x[..., 1].sum(0) == 2)
    assert torch.allclose((x[..., 0] * x[..., 1]).sum(0), y[0])
    assert parse_bits("10 01").tolist() == [1, 0, 0, 1]
    for bad in ("", "1", "10a1", "2"):
        with pytest.raises(ValueError):
            parse_bits(bad)


def test_init_controls_forget_bias_and_singular_value():
    rnn, _ = build_rnn(LstmConfig(hidden=4, forget_bias=2.5, recurrent_sv=1.3))
    H = 4
    assert torch.allclose(rnn.bias_ih_l0[H:2 * H] + rnn.bias_hh_l0[H:2 * H], torch.full((H,), 2.5))
    sv = rc.largest_singular_values(cell_params(rnn, "lstm"))
    assert all(abs(v - 1.3) < 1e-5 for v in sv.values())


def test_bad_configs_are_readable_errors():
    for kw, msg in [({"hidden": 0}, "Hidden size"), ({"task": "x"}, "Task"), ({"cell": "tcn"}, "Cell type"),
                    ({"seq_len": 1}, "Sequence length"), ({"task": "echo", "delay": 20, "seq_len": 20}, "delay"),
                    ({"lr": -1.0}, "learning rate"), ({"clip_norm": -1.0}, "Clip"),
                    ({"recurrent_sv": -0.5}, "λ₁"), ({"batch_size": 0}, "Batch size")]:
        with pytest.raises(ValueError, match=msg):
            LstmTrainer(LstmConfig(**kw), CPU)


def test_same_seed_same_history_and_checkpoint_round_trip(tmp_path):
    cfg = LstmConfig(seq_len=12, hidden=4, batch_size=16)
    a, b = LstmTrainer(cfg, CPU), LstmTrainer(cfg, CPU)
    a.step(30)
    b.step(30)
    assert np.array_equal(a.history.arrays()["loss"], b.history.arrays()["loss"])
    save_checkpoint(tmp_path / "x.pt", a.state_dict())
    c = LstmTrainer.from_checkpoint(load_checkpoint(tmp_path / "x.pt", "lstm"), CPU)
    assert c.step_count == 30
    a.step(5)
    c.step(5)
    assert np.allclose(a.history.arrays()["loss"], c.history.arrays()["loss"])


def test_live_settings_apply_and_clipping_bounds_the_gradient():
    t = LstmTrainer(LstmConfig(seq_len=10, hidden=4, clip_norm=0.0, recurrent_sv=3.0, cell="rnn"), CPU)
    t.step(10)
    h = t.history.arrays()
    assert np.allclose(h["grad_norm"], h["grad_used"])          # clipping off
    t.apply_live(dataclasses.replace(t.config, clip_norm=0.05, lr=1e-3))
    assert t.opt.param_groups[0]["lr"] == 1e-3
    t.step(20)
    h = t.history.arrays()
    assert h["grad_used"][-1] <= 0.05 + 1e-6 < h["grad_norm"][-1]
    with pytest.raises(ValueError):
        t.apply_live(dataclasses.replace(t.config, lr=float("nan")))


def test_divergence_raises():
    t = LstmTrainer(LstmConfig(seq_len=10, hidden=4, cell="rnn", clip_norm=0.0), CPU)
    with torch.no_grad():
        t.rnn.weight_hh_l0.fill_(float("nan"))
    with pytest.raises(Diverged, match=r"blew up at step \d+: the loss became NaN"):
        t.step(2)


@pytest.mark.parametrize("cell", rc.CELLS)
@pytest.mark.parametrize("task", ["first_bit", "adding"])
def test_the_highest_learning_rate_stops_with_the_message(cell, task):
    """lr 10 (the top of the slider): the loss runs away from chance within a few steps."""
    t = LstmTrainer(LstmConfig(cell=cell, task=task, lr=10.0, clip_norm=0.0), CPU)
    with pytest.raises(Diverged, match=r"blew up at step \d+: the loss ran away from .* \(more than 10× its start\)"):
        for _ in range(20):                    # one step per call, as a live chunk could be
            t.step(1)
    assert len(t.history.arrays()["loss"]) == t.step_count       # the history keeps the blow-up itself


@pytest.mark.parametrize("cell", rc.CELLS)
def test_the_defaults_train_without_a_false_alarm(cell):
    t = LstmTrainer(LstmConfig(cell=cell, seq_len=30, batch_size=8), CPU)
    t.step(200)                                                  # raises Diverged on a false alarm
    assert t.step_count == 200


@pytest.mark.parametrize("cell", rc.CELLS)
def test_snapshot_views_come_from_the_explicit_code(cell):
    cfg = LstmConfig(cell=cell, seq_len=15, hidden=3, task="echo", delay=3)
    t = LstmTrainer(cfg, CPU)
    t.step(3)
    s = t.inspect(bits=np.array([1, 0, 1, 1, 0, 0, 1]), t=4, unit=2)
    assert s["T"] == 7 and s["t"] == 4 and s["unit"] == 2
    assert set(s["fwd"]) == {k for k, _ in FORWARD_VIEW[cell]}
    assert set(s["bwd"]) == {k for k, _ in BACKWARD_VIEW[cell]}
    assert all(v.shape == (3, 7) for v in {**s["fwd"], **s["bwd"]}.values())
    # the hidden states shown are torch's (the explicit code reproduces nn.<cell>)
    x = torch.tensor([[1, 0, 1, 1, 0, 0, 1]]).T
    with torch.no_grad():
        out, _ = t.rnn((2.0 * x.float() - 1).unsqueeze(-1))
    assert np.allclose(s["fwd"]["h"], out[:, 0].numpy().T, atol=1e-6)
    # the last-step loss's gradient reaches back: δh at the last step is w_out · ∂L/∂ŷ
    assert np.abs(s["bwd"]["dh"][:, -1]).sum() > 0
    assert len(s["profile"]["dh"]) == 15
    assert s["terms"]["t"] == 4
    json.dumps(lc.cell_diagram(cell, s["terms"]), default=str)


def test_lstm_keeps_gradients_alive_where_the_rnn_loses_them():
    """The issue's check, on the default settings at initialisation (the same on the page)."""
    prof = compare_cells(LstmConfig())
    ratio = ratio_back(prof)
    assert ratio >= 100, ratio
    assert len(prof["rnn"]["dh"]) > PROBE_BACK
    # and with no forget-gate bias the advantage is gone: the carousel leaks through f ≈ ½
    assert ratio_back(compare_cells(LstmConfig(forget_bias=0.0))) < ratio / 1e3


def test_lstm_learns_the_default_task_quickly():
    t = LstmTrainer(LstmConfig(seq_len=20), CPU)
    t.step(300)
    loss, acc = t.evaluate()
    assert acc > 0.95, (loss, acc)


def test_charts_are_bounded_plain_dicts():
    v = np.random.default_rng(0).normal(size=(16, 100))
    spec = lc.heatmap(v, title="x", key="h", t_mark=3)
    assert len(spec["datasets"]["cells"]) == 1600
    spec = lc.heatmap(np.abs(v) * 1e-20, title="g", log_abs=True)
    assert np.nanmin(spec["datasets"]["cells"]["z"]) >= lc.LOG_FLOOR
    spec = lc.steps_back_chart({"LSTM": np.exp(-np.arange(60.0)), "RNN": np.exp(-np.arange(60.0) * 3)},
                               title="t")
    assert "mark_k" in spec["datasets"]
    for s in (spec, lc.input_strip(np.ones((10, 2)), bits=False, t_mark=2)):
        json.dumps({k: v for k, v in s.items() if k != "datasets"})


def test_input_strip_has_a_legend():
    bits = lc.input_strip(np.array([[1.0], [-1.0], [1.0]]), bits=True)
    color = bits["layer"][0]["encoding"]["color"]
    assert color["legend"] is not None and color["scale"]["domain"] == lc.BIT_NAMES
    adding = lc.input_strip(np.ones((10, 2)), bits=False)
    assert adding["layer"][0]["encoding"]["color"]["legend"] is not None


def test_live_snapshot_is_cheap_and_bounded():
    """The every-frame snapshot holds histories and numbers only (no [H, T] views)."""
    t = LstmTrainer(LstmConfig(seq_len=100, hidden=16, batch_size=256, cell="gru"), CPU)
    t.step(2)
    s = t.snapshot()
    assert "fwd" not in s and "bwd" not in s and "profile" not in s
    assert set(s["sv"]) == {"r", "z", "n"}
    assert len(lc.loss_chart(s["history"], s["metrics"])["datasets"]["lines"]) == 4


def test_typed_sequences():
    x, y = typed_sequence(LstmConfig(task="parity"), np.array([1, 0, 0, 0, 0, 1, 0, 1, 0, 1]))
    assert x.shape == (10, 1, 1) and y.tolist() == [[1.0]]
    with pytest.raises(ValueError, match="more than d = 5"):
        typed_sequence(LstmConfig(task="echo"), np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="adding"):
        typed_sequence(LstmConfig(task="adding"), np.array([1, 0, 1]))


def test_typed_bits_are_checked_for_the_task():
    from core.lessons.lstm import typed_bits
    assert typed_bits(LstmConfig(task="parity"), "10 01").tolist() == [1, 0, 0, 1]
    with pytest.raises(ValueError, match="more than d = 5"):
        typed_bits(LstmConfig(task="echo"), "10101")
    with pytest.raises(ValueError, match="only 0 and 1"):
        typed_bits(LstmConfig(), "10a1")


def test_sv_widgets_map_a_config_back_to_the_toggle_and_slider():
    from core.lessons.lstm import sv_widgets
    assert sv_widgets(LstmConfig()) == {"set_sv": False, "recurrent_sv": 1.0}
    assert sv_widgets(LstmConfig(recurrent_sv=2.5)) == {"set_sv": True, "recurrent_sv": 2.5}


@pytest.mark.parametrize("cell", rc.CELLS)
def test_grad_back_on_the_fused_module_equals_the_explicit_profile(cell):
    """The live metric (autograd on torch.nn.*, float32, cheap enough for a training step) is the
    explicit float64 backward's ‖δh‖ 50 steps back, to float32 precision."""
    t = LstmTrainer(LstmConfig(cell=cell, seq_len=70, hidden=5), CPU)
    t.step(20)
    fast, explicit = t.grad_back(), t.profile()["dh"][PROBE_BACK]
    assert abs(fast - explicit) <= 1e-4 * explicit, (fast, explicit)
    assert np.isnan(LstmTrainer(LstmConfig(cell=cell, seq_len=PROBE_BACK), CPU).grad_back())


@pytest.mark.parametrize("cell, acc, loss", [("lstm", 1.0, 0.00027), ("gru", 1.0, 0.0000873), ("rnn", 0.496, 0.6934)])
def test_shipped_checkpoints_load_and_give_their_figures(cell, acc, loss):
    """The shipped files (whose 'optim' is the Adam state itself, the layout before TrainerBase)
    load, give the documented figures, and save again in the base layout."""
    from core.checkpoints import pretrained_path
    state = load_checkpoint(pretrained_path(f"lstm_{cell}"), "lstm")
    t = LstmTrainer.from_checkpoint(state, CPU)
    got_loss, got_acc = t.evaluate()
    assert t.step_count == 1500 and got_acc == pytest.approx(acc, abs=1e-3)
    assert got_loss == pytest.approx(loss, rel=0.02)
    again = LstmTrainer.from_checkpoint(t.state_dict(), CPU)
    assert set(t.state_dict()["optim"]) == {"adam"} and again.evaluate() == (got_loss, got_acc)
    t.step(3)
    again.step(3)
    assert np.array_equal(t.history.arrays()["loss"], again.history.arrays()["loss"])
