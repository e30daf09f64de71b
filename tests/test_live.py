"""The shared live machinery: bounded history, live vs structural fields, the runner."""
import time
from dataclasses import dataclass

import numpy as np
import pytest

from core.live import (Diverged, History, LiveRunner, changed_fields, live_field, set_training_cap,
                       structural_field)


def test_history_is_bounded_and_keeps_exact_means():
    h = History(["a"], capacity=100)
    steps = np.arange(1, 10_001)
    h.add_many(steps, {"a": steps.astype(float)})
    arr = h.arrays()
    assert len(arr["step"]) <= 101
    assert h.stride == 128
    assert arr["count"].sum() == 10_000 and arr["step"][-1] == 10_000
    # each bin is exactly the mean of the records it covers: with value = step, the mean of
    # the steps (prev_end, end] is (prev_end + 1 + end) / 2
    ends = arr["step"]
    starts = np.concatenate([[1], ends[:-1] + 1])
    assert np.allclose(arr["a"], (starts + ends) / 2)
    assert np.array_equal(ends - starts + 1, arr["count"])


def test_history_state_round_trip():
    h = History(["a", "b"], capacity=8)
    for i in range(37):
        h.add(i, a=i, b=-i)
    g = History(["a", "b"])
    g.load_state_dict(h.state_dict())
    for k in ("step", "a", "b"):
        assert np.array_equal(h.arrays()[k], g.arrays()[k])


@dataclass
class Cfg:
    lr: float = live_field(0.1)
    width: int = structural_field(4)
    seed: int = structural_field(0)


def test_changed_fields_splits_live_and_structural():
    assert changed_fields(Cfg(), Cfg()) == ([], [])
    assert changed_fields(Cfg(), Cfg(lr=0.2)) == (["lr"], [])
    assert changed_fields(Cfg(), Cfg(lr=0.2, width=8)) == (["lr"], ["width"])


class Counter:
    """A stand-in trainer whose step takes ~0.1 ms and can be told to diverge."""

    def __init__(self, diverge_at=None):
        self.config, self.step_count, self.diverge_at, self.device = Cfg(), 0, diverge_at, "cpu"

    def step(self, n=1):
        for _ in range(n):
            time.sleep(0.0001)
            self.step_count += 1
            if self.diverge_at is not None and self.step_count >= self.diverge_at:
                raise Diverged("loss became NaN")

    def snapshot(self):
        return {"step": self.step_count}

    def apply_live(self, config):
        self.config = config


def test_runner_step_is_exact_and_train_for_is_time_bounded():
    r = LiveRunner(Counter())
    assert r.step(7) == 7 and r.trainer.step_count == 7
    t0 = time.perf_counter()
    done = r.train_for(0.05)
    assert done > 0 and time.perf_counter() - t0 < 1.0


def test_background_training_stops_at_its_deadline():
    """With no tick renewing it (a closed tab), training stops by itself."""
    r = LiveRunner(Counter())
    assert r.start_background(0.1)
    time.sleep(0.4)
    assert not r.training_in_background
    n = r.trainer.step_count
    time.sleep(0.1)
    assert r.trainer.step_count == n > 0


def test_snapshot_stops_background_first():
    r = LiveRunner(Counter())
    r.start_background(5.0)
    time.sleep(0.02)
    s1 = r.snapshot()
    time.sleep(0.05)
    assert r.snapshot() == s1          # nothing trained after the first snapshot
    assert not r.training_in_background


def test_divergence_stops_training_with_the_message():
    r = LiveRunner(Counter(diverge_at=5))
    r.step(100)
    assert r.trainer.step_count == 5 and "NaN" in r.error
    assert r.step(3) == 0 and not r.start_background(1.0)


def test_training_cap_makes_others_wait():
    set_training_cap(1)
    try:
        a, b = LiveRunner(Counter()), LiveRunner(Counter())
        assert a.start_background(2.0)
        assert not b.start_background(2.0) and b.waiting
        a.stop_background()
        assert b.start_background(0.05) and not b.waiting
        b.stop_background()
    finally:
        set_training_cap(0)


def test_device_for_without_gpu_is_cpu(monkeypatch):
    """Whatever the choice, a machine with no GPU (Community Cloud) trains on the CPU."""
    import core.device as d
    monkeypatch.setattr(d.torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("DASH_FORCE_CPU", raising=False)
    for lesson in ("gan1d", "fc", "lstm", "gan2d", "up"):
        for choice in d.DEVICE_CHOICES:
            assert d.device_for(lesson, choice).type in ("cpu", "mps")
    assert d.gpu_helps("up") and d.gpu_helps("upsampling") and not d.gpu_helps("gan1d")
    assert "faster" in d.device_reason("fc", d.torch.device("cpu"))
