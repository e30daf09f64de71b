"""The trainer's fast paths (core.lessons.conv1d.fast) against the nn.Modules they stand for:
the same logits and the same gradients to 1e-6 at every size the widgets allow, and the trainer's
one-backward steps against its model-by-model (timed) steps, bit for bit."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import core.lessons.conv1d.trainer as trainer_mod
from core.lessons.conv1d import Conv1dConfig, Conv1dTrainer
from core.lessons.conv1d.config import LENGTHS
from core.lessons.conv1d.fast import conv_as_linear, logits, pool2_relu
from core.lessons.conv1d.fields import stack_fits
from core.lessons.conv1d.model import MODELS, build_model, specs_for

CPU = torch.device("cpu")

CASES = [dict(seq_len=T, conv_kernel=k, conv_layers=L, wave_kernel=wk, wave_layers=wl, residual=res)
         for T, (k, L), (wk, wl), res in itertools.product(
             LENGTHS, ((2, 1), (5, 2), (9, 3), (3, 4)), ((2, 1), (2, 6), (3, 3), (3, 7)), (True, False))]


def _usable(cfg: Conv1dConfig, model: str) -> bool:
    return model != "conv" or stack_fits(int(cfg.seq_len), specs_for("conv", cfg))


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_fast_logits_and_gradients_equal_the_modules(case):
    cfg = Conv1dConfig(channels=8, hidden=16, **case)
    x = torch.randn(6, cfg.seq_len, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 1, 0, 1, 0])
    for m in MODELS:
        if not _usable(cfg, m):
            continue
        torch.manual_seed(3)
        net = build_model(m, cfg, 2)
        want = net(x)
        got = logits(net, x)
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6, msg=f"{m} logits")
        g_want = torch.autograd.grad(F.cross_entropy(want, y), list(net.parameters()))
        g_got = torch.autograd.grad(F.cross_entropy(got, y), list(net.parameters()))
        for (name, _), a, b in zip(net.named_parameters(), g_got, g_want):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=f"{m}.{name} gradient")


def test_the_dilated_stack_computes_only_the_outputs_the_last_step_reads(monkeypatch):
    """At the defaults (T = 64, k = 2, six layers) the fast path convolves 32 + 16 + 8 + 4 + 2 + 1
    positions, against 6 × 64 in the module."""
    net = build_model("wavenet", Conv1dConfig(), 2)
    positions, real = [], F.linear

    def counting_linear(inp, w, b=None):
        if inp.dim() == 3:                       # a convolution [B, positions, k·C]; the head is 2-D
            positions.append(inp.shape[1])
        return real(inp, w, b)

    monkeypatch.setattr(F, "linear", counting_linear)
    logits(net, torch.randn(2, 64))
    assert positions == [32, 16, 8, 4, 2, 1]


def test_conv_as_linear_and_pooling_equal_torch():
    g = torch.Generator().manual_seed(0)
    for k, stride, c_in in itertools.product((1, 2, 5), (1, 2), (1, 4)):
        conv = torch.nn.Conv1d(c_in, 3, k, stride=stride)
        h = torch.randn(2, 17, c_in, generator=g)
        torch.testing.assert_close(conv_as_linear(h, conv, stride), conv(h.transpose(1, 2)).transpose(1, 2),
                                   rtol=1e-6, atol=1e-6)
    a = torch.randn(3, 11, 4, generator=g)
    torch.testing.assert_close(pool2_relu(a), F.max_pool1d(F.relu(a.transpose(1, 2)), 2).transpose(1, 2))


def test_one_backward_steps_equal_model_by_model_steps_bit_for_bit(monkeypatch):
    """Which steps are timed (model by model) must change nothing: the run with every step timed
    and the run with one in TIME_EVERY timed end with the same weights, exactly."""
    cfg = Conv1dConfig(eval_every=7)
    runs = []
    for every in (1, trainer_mod.TIME_EVERY):
        monkeypatch.setattr(trainer_mod, "TIME_EVERY", every)
        t = Conv1dTrainer(cfg, CPU)
        t.step(20)
        runs.append((t, {m: fm.flat.detach().clone() for m, fm in t.nets.items()}))
    (a, wa), (b, wb) = runs
    for m in wa:
        assert torch.equal(wa[m], wb[m]), m
    assert np.array_equal(a.history.arrays()["loss_wavenet"], b.history.arrays()["loss_wavenet"])
    assert all(v > 0 for v in b.snapshot()["steps_per_s"].values())
