"""The trainer: the defaults learn (and the short Conv1D does not), the top learning rate blows up
with the message, checkpoints round-trip and stay small."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from core.live import Diverged
from core.lessons.conv1d import Conv1dConfig, Conv1dTrainer

CPU = torch.device("cpu")


def test_defaults_learn_the_long_range_task_and_the_short_conv_does_not():
    t = Conv1dTrainer(Conv1dConfig(), CPU)
    t.step(400)                                   # no false alarm on the way
    acc = t.accuracies()
    assert acc["wavenet"] > 0.9 and acc["convlstm"] > 0.9 and acc["lstm"] > 0.9, acc
    assert abs(acc["conv"] - 0.5) < 0.08, acc     # receptive field 16 < the 17-step shortest gap
    snap = t.snapshot()
    assert set(snap["steps_per_s"]) == set(t.names) and all(v > 0 for v in snap["steps_per_s"].values())
    assert len(snap["history"]["step"]) <= t.HISTORY_CAPACITY and snap["act"]["values"].shape == (64,)


def test_control_charts_are_learned_by_every_model():
    t = Conv1dTrainer(Conv1dConfig(task="control", batch_size=64), CPU)
    t.step(300)
    acc = t.accuracies()
    assert min(acc.values()) > 0.8, acc


def test_a_conv_receptive_field_longer_than_the_gap_learns():
    t = Conv1dTrainer(Conv1dConfig(models=("conv",), conv_layers=3), CPU)   # r = 36 > every gap (≤ 31)
    t.step(400)
    assert t.accuracies()["conv"] > 0.85


def test_top_learning_rate_blows_up_with_the_message():
    t = Conv1dTrainer(Conv1dConfig(optimizer="sgd", lr=10.0), CPU)
    with pytest.raises(Diverged, match="blew up"):
        t.step(200)


def test_a_stack_without_output_is_refused_with_a_message():
    with pytest.raises(ValueError, match="leaves no time steps"):
        Conv1dTrainer(Conv1dConfig(seq_len=32, conv_kernel=9, conv_layers=3), CPU)
    with pytest.raises(ValueError, match="at least one model"):
        Conv1dTrainer(Conv1dConfig(models=()), CPU)


def test_live_settings_apply_without_a_restart():
    t = Conv1dTrainer(Conv1dConfig(), CPU)
    t.step(3)
    t.apply_live(Conv1dConfig(lr=1e-3, batch_size=64))
    assert all(o.param_groups[0]["lr"] == 1e-3 for o in t.opts.values())
    t.apply_live(Conv1dConfig(lr=1e-3, optimizer="sgd"))
    assert all(isinstance(o, torch.optim.SGD) for o in t.opts.values())
    t.step(2)
    assert t.step_count == 5


def test_checkpoint_round_trip_is_small_and_exact():
    t = Conv1dTrainer(Conv1dConfig(), CPU)
    t.step(30)
    state = t.state_dict()
    buf = io.BytesIO()
    torch.save(state, buf)
    assert buf.tell() < 1_000_000
    u = Conv1dTrainer.from_checkpoint(state, CPU)
    assert u.step_count == 30 and u.accuracies() == t.accuracies()
    t.step(5)
    u.step(5)                                    # the same batches follow: the same run
    assert np.allclose(t.history.arrays()["loss_lstm"][-5:], u.history.arrays()["loss_lstm"][-5:], atol=1e-6)
