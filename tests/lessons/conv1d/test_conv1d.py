"""The lesson's maths against torch and autograd: output lengths, receptive fields, causality,
the flat-parameter optimiser and the generated data."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.lessons.conv1d.config import Conv1dConfig
from core.lessons.conv1d.data import CONTROL_CLASSES, event_positions, gap_range, make_set
from core.lessons.conv1d.fields import (conv_stack_lengths, field_by_formula, influence, output_length,
                                        receptive_field, stack_lengths)
from core.lessons.conv1d.flat import FlatModel, make_optimizer
from core.lessons.conv1d.model import (CausalConv1d, ConvLSTMNet, ConvPoolNet, WaveNetStack, build_model,
                                       conv_specs, convlstm_specs)


# ---------------------------------------------------------------- output lengths
@pytest.mark.parametrize("L,k,s,p,d", [(L, k, s, p, d) for L, k, s, p, d in itertools.product(
    (1, 7, 32, 64, 97), (1, 2, 3, 5, 9), (1, 2, 3), (0, 1, 4), (1, 2, 8))])
def test_output_length_equals_torch(L, k, s, p, d):
    conv = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
    want = output_length(L, k, s, p, p, d)
    if want <= 0:
        with pytest.raises(RuntimeError):
            conv(torch.zeros(1, 1, L))
    else:
        assert conv(torch.zeros(1, 1, L)).shape[-1] == want


@pytest.mark.parametrize("L,k,s,p,d,layers,pool", [(64, 3, 1, 0, 1, 3, 2), (100, 5, 2, 2, 1, 4, 1),
                                                    (512, 15, 8, 16, 32, 8, 4), (64, 2, 1, 1, 4, 5, 1),
                                                    (37, 4, 3, 0, 2, 2, 3)])
def test_calculator_table_equals_a_torch_stack(L, k, s, p, d, layers, pool):
    rows = conv_stack_lengths(L, k, s, p, d, layers, pool)
    x = torch.zeros(1, 1, L)
    for r in rows:
        if r["L_out"] <= 0:
            with pytest.raises(RuntimeError):
                nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)(x)
            return
        x = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)(x)
        assert x.shape[-1] == r["L_out"]
        if pool > 1:
            x = F.max_pool1d(x, pool)
            assert x.shape[-1] == r["after_pool"]
            if r["after_pool"] == 0:
                return


@pytest.mark.parametrize("T,k,layers", [(32, 3, 2), (64, 5, 2), (64, 5, 3), (96, 9, 2), (96, 2, 4)])
def test_model_lengths_equal_the_formula(T, k, layers):
    net = ConvPoolNet(4, k, layers, 2)
    lengths = stack_lengths(T, net.specs())
    assert net.features(torch.zeros(2, T)).shape[-1] == lengths[-1]
    for i in range(layers):                                  # each conv's own output (before its pool)
        assert net.features(torch.zeros(2, T), upto=i).shape[-1] == lengths[2 * i + 1]
    front = ConvLSTMNet(4, k, 8, 2)
    assert F.max_pool1d(front.features(torch.zeros(2, T)), 2).shape[-1] == stack_lengths(T, front.specs())[-1]
    wn = WaveNetStack(4, 2, 5, True, 2)
    assert wn.features(torch.zeros(2, T)).shape[-1] == stack_lengths(T, wn.specs())[-1] == T


# ---------------------------------------------------------------- receptive fields vs autograd
def _positive(net: nn.Module) -> nn.Module:
    """Weights in [0.1, 1]: every ReLU is active on a positive input and no paths cancel, so an
    input reaches the output exactly when the gradient there is non-zero."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.1 + 0.9 * torch.rand(p.shape, generator=g, dtype=p.dtype))
    return net.double()


def _grad_support(top: callable, T: int, unit: int, trials: int = 1) -> set[int]:
    """Input steps with a non-zero gradient of top-layer ``unit`` (summed over channels), united
    over ``trials`` random positive inputs (max pooling passes the gradient to one input only)."""
    g = torch.Generator().manual_seed(1)
    out: set[int] = set()
    for _ in range(trials):
        x = (0.5 + torch.rand(1, T, generator=g, dtype=torch.float64)).requires_grad_(True)
        top(x)[0, :, unit].sum().backward()
        out |= set(np.flatnonzero(x.grad[0].numpy() != 0).tolist())
    return out


def _formula_set(T: int, specs, unit: int) -> set[int]:
    lo, hi = field_by_formula(T, specs, unit)
    assert set(np.flatnonzero(influence(T, specs, unit)[0]).tolist()) == set(range(lo, hi + 1))
    return set(range(lo, hi + 1))


@pytest.mark.parametrize("k,layers,residual", [(2, 1, False), (2, 4, True), (2, 6, False), (3, 3, True), (3, 5, False)])
def test_dilated_stack_field_equals_autograd(k, layers, residual):
    T = 64
    net = _positive(WaveNetStack(3, k, layers, residual, 2))
    assert receptive_field(net.specs()) == 1 + (k - 1) * (2 ** layers - 1)
    for t in (0, 5, 31, 63):
        assert _grad_support(net.features, T, t) == _formula_set(T, net.specs(), t)


@pytest.mark.parametrize("k,layers,T", [(5, 2, 64), (3, 3, 64), (2, 1, 32), (9, 2, 96)])
def test_conv_pool_field_equals_autograd(k, layers, T):
    net = _positive(ConvPoolNet(3, k, layers, 2))
    L_top = stack_lengths(T, net.specs())[-1]
    for unit in sorted({0, L_top // 2, L_top - 1}):
        assert _grad_support(net.features, T, unit, trials=40) == _formula_set(T, net.specs(), unit)
    assert receptive_field(conv_specs(5, 2)) == 16       # the default: shorter than the 17-step gap


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_conv_front_end_field_equals_autograd(k):
    T = 32
    net = _positive(ConvLSTMNet(3, k, 4, 2))
    top = lambda x: F.max_pool1d(net.features(x), 2)     # noqa: E731
    for unit in (0, 7, 15):
        assert _grad_support(top, T, unit, trials=40) == _formula_set(T, convlstm_specs(k), unit)


# ---------------------------------------------------------------- causality
@pytest.mark.parametrize("k,layers,residual", [(2, 6, True), (3, 4, False)])
def test_causal_padding_lets_no_future_step_influence_an_output(k, layers, residual):
    torch.manual_seed(0)
    net = WaveNetStack(4, k, layers, residual, 2).double()
    T = 48
    x = torch.randn(3, T, dtype=torch.float64)
    base = net.features(x)
    for t in (0, 10, 47):
        y = x.clone()
        y[:, t + 1:] = torch.randn(3, T - t - 1, dtype=torch.float64) * 100   # rewrite the future
        assert torch.equal(net.features(y)[:, :, :t + 1], base[:, :, :t + 1])
        xg = x.clone().requires_grad_(True)
        net.features(xg)[:, :, t].sum().backward()
        assert (xg.grad[:, t + 1:] == 0).all()
    # the same check fails for torch's "same" padding: it looks ahead
    front = ConvLSTMNet(4, 5, 4, 2).double()
    y = x.clone()
    y[:, 11:] += 1.0
    assert not torch.equal(front.features(y)[:, :, :11], front.features(x)[:, :, :11])


def test_causal_conv_is_a_left_padded_conv():
    torch.manual_seed(0)
    c = CausalConv1d(3, 5, 3, 4).double()
    x = torch.randn(2, 3, 30, dtype=torch.float64)
    want = F.conv1d(torch.cat([torch.zeros(2, 3, 8, dtype=torch.float64), x], -1), c.conv.weight, c.conv.bias, dilation=4)
    assert torch.allclose(c(x), want, atol=1e-12) and c(x).shape[-1] == 30


# ---------------------------------------------------------------- the flat parameters
@pytest.mark.parametrize("name", ["lstm", "conv", "convlstm", "wavenet"])
@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_flat_optimiser_equals_torch_per_parameter(name, kind):
    cfg = Conv1dConfig(channels=8, hidden=16)
    torch.manual_seed(0)
    ref = build_model(name, cfg, 3).double()
    flat_net = build_model(name, cfg, 3).double()
    flat_net.load_state_dict(ref.state_dict())
    fm = FlatModel(flat_net)
    opt = make_optimizer(fm, kind, 1e-2)
    ref_opt = (torch.optim.SGD(ref.parameters(), lr=1e-2, momentum=0.9) if kind == "sgd"
               else torch.optim.Adam(ref.parameters(), lr=1e-2))
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        x = torch.randn(8, 32, generator=g, dtype=torch.float64)
        y = torch.randint(0, 3, (8,), generator=g)
        fm.zero_grad()
        F.cross_entropy(fm.module(x), y).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    for (k, a), b in zip(fm.state_dict().items(), ref.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
    # the module's parameters are views of the one flat vector (and saved as copies)
    p = next(fm.module.parameters())
    assert p.data_ptr() >= fm.flat.data_ptr() and p.grad.data_ptr() >= fm.flat.grad.data_ptr()
    assert next(iter(fm.state_dict().values())).untyped_storage().nbytes() < fm.flat.untyped_storage().nbytes()


# ---------------------------------------------------------------- data
@pytest.mark.parametrize("T", [32, 64, 96])
def test_long_range_spikes_are_far_apart_and_balanced(T):
    x, y = make_set("longrange", 400, T, seed=5)
    assert x.shape == (400, T) and abs(y.mean() - 0.5) < 0.01
    up, down = x.argmax(1), x.argmin(1)
    first_is_up = up < down
    assert (first_is_up == (y == 1)).all()
    gap = np.abs(up - down)
    lo, hi = gap_range(T)
    assert gap.min() >= lo and gap.max() <= hi
    p1, p2 = event_positions(1000, T, np.random.default_rng(0))
    assert p1.min() >= T // 4 and p2.max() < T - T // 4       # away from the ends
    assert np.array_equal(make_set("longrange", 50, T, 7)[0], make_set("longrange", 50, T, 7)[0])


def test_control_charts_have_six_balanced_classes():
    x, y = make_set("control", 600, 60, seed=1)
    assert x.shape == (600, 60) and np.bincount(y).tolist() == [100] * len(CONTROL_CLASSES)
    rise = x[:, -10:].mean(1) - x[:, :10].mean(1)
    assert rise[y == 2].min() > 0 and rise[y == 3].max() < 0           # trends go their way
    assert np.abs(x[y == 0]).max() <= 0.6 + 1e-6                       # normal: m ± 3s, scaled


def test_model_names_fit_on_the_charts():
    """The bars' axis shows short names (whole at presentation size), the full name in the
    tooltip; the accuracy legend is wide enough for the longest full name."""
    from core.lessons.conv1d import charts as cc
    from core.lessons.conv1d.model import MODELS
    spec = cc.speed_chart({m: 100.0 for m in MODELS})
    bars = spec["datasets"]["bars"]
    assert all(len(name) <= 12 for name in bars["model"].to_pylist())
    assert bars["full"].to_pylist() == list(MODELS.values())
    assert len(set(bars["model"].to_pylist())) == len(MODELS)
    acc = cc.accuracy_chart({"step": np.arange(2), **{f"acc_{m}": np.ones(2) for m in MODELS}}, list(MODELS), 2)
    # ~11 px a character at the page's largest font: "Dilated causal stack" needs ~220 px
    assert acc["config"]["legend"]["labelLimit"] >= 11 * max(map(len, MODELS.values()))
    # two columns filled row by row: the first (positions 0, 2) holds the two longest names
    order = acc["layer"][0]["encoding"]["color"]["legend"]["values"]
    assert sorted(order) == sorted(MODELS.values())
    assert sorted(map(len, order[0::2]), reverse=True) == sorted(map(len, order), reverse=True)[:2]
    three = cc.accuracy_chart({"step": np.arange(2), **{f"acc_{m}": np.ones(2) for m in MODELS}},
                              ["lstm", "conv", "wavenet"], 2)
    assert sorted(three["layer"][0]["encoding"]["color"]["legend"]["values"]) == sorted(
        [MODELS["lstm"], MODELS["conv"], MODELS["wavenet"]])


# ---------------------------------------------------------------- "same" padding looks ahead
@pytest.mark.parametrize("k", range(1, 8))
def test_same_padding_look_ahead_is_the_formula_shown(k):
    """The page says the "same"-padded front end looks ⌈(k − 1)/2⌉ steps ahead (k = 2: one step,
    not zero): measured with autograd on the front end's own convolution and on its layer specs."""
    import math

    from core.lessons.conv1d import text
    torch.manual_seed(0)
    conv = nn.Conv1d(1, 4, k, padding="same").double()
    with torch.no_grad():
        conv.weight.abs_().add_(0.1)                   # no tap is zero: every reached input shows
    T, t = 24, 11
    x = torch.randn(2, 1, T, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(conv(x)[:, :, t].sum(), x)
    reached = torch.nonzero(grad.abs().sum((0, 1)) > 0).flatten()
    ahead = int(reached.max()) - t
    assert ahead == math.ceil((k - 1) / 2)
    assert t - int(reached.min()) == (k - 1) // 2
    if k >= 2:                                          # the lesson's kernels (conv_kernel ≥ 2)
        assert convlstm_specs(k)[0].pad_right == ahead
    assert r"looks $\lceil (k-1)/2 \rceil$ steps ahead" in text.EXPLANATION
    assert r"\lfloor (k-1)/2 \rfloor$ steps ahead" not in text.EXPLANATION
