"""The CUDA path: every lesson's trainer trains on a GPU, and checkpoints move between devices.

These tests need a CUDA device and skip without one (CI has none; they were run on the lent H100
with ``python -m pytest -q tests/test_cuda.py``). They check what the CPU tests cannot: that no
tensor is left on the wrong device, that snapshots come back as plain numpy arrays, and that a
checkpoint written on the GPU loads on a CPU-only server (Community Cloud) and back.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CUDA = torch.device("cuda")
CPU = torch.device("cpu")


def _lessons():
    """lesson key -> (Trainer class, default config, seed 0), from the lesson table."""
    from core import registry
    return registry.default_trainers(seed=0)


def _arrays(obj, path="snap"):
    """Every leaf of a snapshot; torch tensors must not leak out to the drawing code."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _arrays(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _arrays(v, f"{path}[{i}]")
    else:
        yield path, obj


def test_device_choice(monkeypatch):
    from core.device import describe_device, device_for, pick_device
    monkeypatch.delenv("DASH_FORCE_CPU", raising=False)
    assert pick_device().type == "cuda"
    assert pick_device(force_cpu=True).type == "cpu"
    assert describe_device(pick_device()).startswith("GPU")
    # Auto: the GPU only where it was measured faster (upsampling), the CPU for the tiny MLPs.
    assert device_for("up", "Auto").type == "cuda"
    assert device_for("gan1d", "Auto").type == "cpu"
    assert device_for("gan1d", "GPU").type == "cuda"
    assert device_for("up", "CPU").type == "cpu"


@pytest.mark.parametrize("lesson", ["gan1d", "gan2d", "forecast", "lstm", "upsampling"])
def test_trains_on_cuda_and_checkpoint_moves_to_cpu(lesson):
    cls, cfg = _lessons()[lesson]
    tr = cls(cfg, CUDA)
    tr.step(20)
    snap = tr.snapshot()
    for path, leaf in _arrays(snap):
        assert not isinstance(leaf, torch.Tensor), f"{lesson}: {path} is a torch tensor"
        if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
            # NaN is a documented "undefined" in two places: the forecast's curves are NaN-padded
            # outside their region, and gan2d's KL is NaN while no sample is near a mode.
            if lesson != "forecast" and not path.endswith(".kl"):
                assert np.isfinite(leaf).all(), f"{lesson}: {path} not finite"
    state = tr.state_dict()
    # A checkpoint written on the GPU loads on a CPU-only machine and keeps training there.
    cpu = cls.from_checkpoint(state, CPU)
    cpu.step(5)
    cpu.snapshot()
    # ...and a CPU checkpoint loads onto the GPU.
    back = cls.from_checkpoint(cpu.state_dict(), CUDA)
    back.step(5)
    back.snapshot()


@pytest.mark.parametrize("lesson", ["gan1d", "forecast", "lstm", "upsampling"])
def test_shipped_checkpoints_load_on_cuda(lesson):
    from core.checkpoints import load_checkpoint, pretrained_path
    stems = {"gan1d": "gan1d_x2", "forecast": "forecast_airline_lstm", "lstm": "lstm_lstm",
             "upsampling": "upsampling_decoders"}
    cls, _ = _lessons()[lesson]
    tr = cls.from_checkpoint(load_checkpoint(pretrained_path(stems[lesson])), CUDA)
    tr.step(3)
    tr.snapshot()
