"""The decoders' trainer on TrainerBase: the blow-up check (runaway loss, outputs off the targets'
scale), no false alarm at the defaults, chunking, live settings and the shipped checkpoint."""
import time

import numpy as np
import pytest
import torch

from core import settings
from core.checkpoints import load_checkpoint, pretrained_path
from core.lessons.upsampling import CHECKPOINT, UpsamplingConfig, UpsamplingTrainer, pretrain
from core.lessons.upsampling.trainer import OFF_SCALE
from core.live import Diverged
from core.settings import LEARNING_RATES

CPU = torch.device("cpu")
SMALL = dict(channels=8, n_targets=64, batch_size=16, eval_every=10)


def test_highest_learning_rate_stops_with_the_named_message():
    """Adam at lr 10 once reached a loss of 39,387,040 with black outputs and no message."""
    t = UpsamplingTrainer(UpsamplingConfig(lr=max(LEARNING_RATES)), CPU)
    t0 = time.perf_counter()
    with pytest.raises(Diverged) as info:
        for _ in range(50):
            t.step(2)
    assert time.perf_counter() - t0 < 2.0
    msg = str(info.value)
    assert msg.startswith("The run blew up at step ") and "ran away" in msg and "Reset" in msg
    assert any(name in msg for name in ("tconv k=3", "tconv k=4", "nearest + conv", "bilinear + conv")), msg
    assert "loss_" not in msg and "nan" not in msg.lower()
    # the history keeps the blow-up itself, for the charts
    h = t.history.arrays()
    assert len(h["step"]) == t.step_count and np.nanmax(h["loss_tconv3"]) > 100


@pytest.mark.parametrize("lr", [0.3, 1.0, 10.0])
def test_high_learning_rates_all_stop(lr):
    t = UpsamplingTrainer(UpsamplingConfig(lr=lr, **SMALL), CPU)
    with pytest.raises(Diverged, match="blew up"):
        for _ in range(100):
            t.step(5)


def test_defaults_run_without_a_false_alarm():
    t = UpsamplingTrainer(UpsamplingConfig(), CPU)
    for _ in range(20):
        t.step(10)                      # 200 steps in chunks, as the live loop runs them
    assert t.step_count == 200
    h = t.history.arrays()
    for v in t.models:
        assert np.isfinite(h[f"loss_{v}"]).all()


def test_outputs_far_off_the_targets_scale_stop_the_run():
    """A decoder whose outputs leave [0, 1] by more than OFF_SCALE is stopped even if its loss has
    not (yet) run away: here a last bias of 50 with a huge runaway limit."""
    t = UpsamplingTrainer(UpsamplingConfig(variants=("nearest",), **SMALL), CPU)
    t.RUNAWAY = {}                                  # switch the runaway check off for this test
    with torch.no_grad():
        t.models["nearest"].blocks[-1].bias.fill_(50.0)
    with pytest.raises(Diverged) as info:
        t.step(1)
    assert "nearest + conv decoder's outputs reached" in str(info.value)
    assert float(str(info.value).split("reached ")[1].split()[0]) > OFF_SCALE


def test_same_history_regardless_of_chunking():
    cfg = UpsamplingConfig(seed=2, **SMALL)
    a, b = UpsamplingTrainer(cfg, CPU), UpsamplingTrainer(cfg, CPU)
    a.step(30)
    for n in (1, 7, 22):
        b.step(n)
    for k in a.HISTORY_KEYS:
        np.testing.assert_array_equal(a.history.arrays()[k], b.history.arrays()[k])
    np.testing.assert_array_equal(a.metrics.arrays()["checker_nearest"], b.metrics.arrays()["checker_nearest"])


def test_history_keys_follow_the_chosen_decoders():
    t = UpsamplingTrainer(UpsamplingConfig(variants=("tconv4", "bilinear"), **SMALL), CPU)
    assert t.HISTORY_KEYS == ("loss_tconv4", "loss_bilinear")
    t.step(3)
    snap = t.snapshot()
    assert snap["variants"] == ["tconv4", "bilinear"] and set(snap["outputs"]) == {"tconv4", "bilinear"}


def test_step_zero_snapshot_has_no_loss_yet():
    snap = UpsamplingTrainer(UpsamplingConfig(**SMALL), CPU).snapshot()
    assert snap["step"] == 0 and all(np.isnan(x) for x in snap["loss"].values())
    assert all(np.isfinite(x) for x in snap["checker"].values())      # measured at initialisation


def test_declared_bounds_refuse_what_the_page_does_not_offer():
    for bad in (dict(batch_size=128), dict(channels=12), dict(resolution=20), dict(lr=11.0)):
        with pytest.raises(ValueError):
            settings.check(UpsamplingConfig(**bad))
    with pytest.raises(ValueError, match="at least one kind"):
        UpsamplingTrainer(UpsamplingConfig(kinds=()), CPU)


def test_shipped_checkpoint_loads_with_the_documented_figures():
    """docs/upsampling.md: after 2,000 steps tconv3 0.0213, tconv4 0.0188, nearest 0.0127,
    bilinear 0.0153; checkerboard tconv3 0.0306, tconv4 0.0288, nearest 0.0205, bilinear 0.0133."""
    state = load_checkpoint(pretrained_path(CHECKPOINT), "upsampling")
    t = UpsamplingTrainer.from_checkpoint(state, CPU)
    snap = t.snapshot()
    assert snap["step"] == 2000
    loss = {v: round(x, 4) for v, x in snap["loss"].items()}
    checker = {v: round(x, 4) for v, x in snap["checker"].items()}
    assert loss == {"tconv3": 0.0213, "tconv4": 0.0188, "nearest": 0.0127, "bilinear": 0.0153}
    assert checker == {"tconv3": 0.0306, "tconv4": 0.0288, "nearest": 0.0205, "bilinear": 0.0133}
    # it trains on without a false alarm (the runaway start comes from the run's own history) ...
    t.step(20)
    assert t.step_count == 2020
    # ... and the cached checkpoint was not written to
    again = UpsamplingTrainer.from_checkpoint(state, CPU).snapshot()
    for v in snap["outputs"]:
        np.testing.assert_array_equal(again["outputs"][v], snap["outputs"][v])


def test_pretrained_run_still_stops_at_a_blowup():
    state = load_checkpoint(pretrained_path(CHECKPOINT), "upsampling")
    t = UpsamplingTrainer.from_checkpoint(state, CPU)
    t.apply_live(UpsamplingConfig(lr=10.0))
    assert all(g["lr"] == 10.0 for o in t.opts.values() for g in o.param_groups)
    with pytest.raises(Diverged, match="blew up"):
        for _ in range(50):
            t.step(2)


def test_pretrain_is_the_default_run():
    out = pretrain(seed=0, steps=3)
    ck = out["checkpoints"][CHECKPOINT]
    assert ck["lesson"] == "upsampling" and ck["step"] == 3
    assert set(ck["history"]) == {"losses", "metrics"} and set(ck["extra"]) == {"initial", "gen"}
    assert out["metrics"]["steps"] == 3
