"""The default LSTM's hand-written gradients (``mse_grads``, on a Forecaster's weights) against autograd, and the
trainer's use of them: same runs as through autograd, only for the models they are written for."""
import dataclasses

import numpy as np
import pytest
import torch

import core.lessons.forecast as fc
from core.checkpoints import load_checkpoint, pretrained_path
from core.lessons.forecast.model import mse_grads

CPU = torch.device("cpu")


def autograd_grads(m: fc.Forecaster, x: torch.Tensor, y: torch.Tensor) -> tuple[float, list[torch.Tensor]]:
    m.zero_grad(set_to_none=True)
    pred, _ = m(x)
    loss = torch.mean((pred - y) ** 2)
    loss.backward()
    return loss.item(), [p.grad.clone() for p in m.parameters()]


@pytest.mark.parametrize("n_features, hidden, batch", [(12, 8, 8), (1, 4, 1), (5, 3, 17), (24, 64, 128)])
def test_hand_gradients_match_autograd_in_float64(n_features, hidden, batch):
    torch.manual_seed(n_features + hidden)
    m = fc.Forecaster("lstm", n_features, 1, hidden, 1, 0.0).double()
    with torch.no_grad():
        for p in m.parameters():          # weights of order 1, so every gate works off its midpoint
            p.normal_()
    x = torch.randn(batch, 1, n_features, dtype=torch.float64)
    y = torch.randn(batch, 1, dtype=torch.float64)
    loss, ref = autograd_grads(m, x, y)
    m.zero_grad(set_to_none=True)
    fast = mse_grads(m, x, y)
    assert fast.item() == pytest.approx(loss, rel=1e-12)
    for (name, p), g in zip(m.named_parameters(), ref):
        assert torch.allclose(p.grad, g, rtol=1e-10, atol=1e-12), name
    assert not fast.requires_grad


@pytest.mark.parametrize("kw, fast", [
    ({}, True), ({"look_back": 1, "hidden": 4}, True),
    ({"framing": "timesteps"}, False), ({"layers": 2}, False), ({"dropout": 0.1}, False),
    ({"model": "gru"}, False), ({"model": "mlp"}, False),
])
def test_the_fast_path_is_taken_only_where_it_is_exact(kw, fast):
    t = fc.ForecastTrainer(fc.ForecastConfig(epochs=10, **kw), CPU)
    assert t._fast is fast


@pytest.mark.parametrize("optimizer", list(fc.OPTIMIZERS))
def test_a_fast_run_is_the_autograd_run(optimizer):
    """Ten epochs with hand gradients and with autograd (same seed, same batches) agree to float32
    rounding, with every optimiser."""
    cfg = fc.ForecastConfig(epochs=10, seed=3, optimizer=optimizer)
    fast, slow = fc.ForecastTrainer(cfg, CPU), fc.ForecastTrainer(cfg, CPU)
    slow._fast = False
    fast.train_epochs(10)
    slow.train_epochs(10)
    hf, hs = fast.history.arrays(), slow.history.arrays()
    for k in fc.ForecastTrainer.HISTORY_KEYS:
        assert np.allclose(hf[k], hs[k], rtol=1e-3, atol=1e-5), k
    for a, b in zip(fast.model.parameters(), slow.model.parameters()):
        assert torch.allclose(a, b, atol=1e-4)


def test_the_shipped_run_continues_with_this_optimisers_kernels():
    """A checkpoint saved by another Adam implementation (the shipped one predates the fused
    kernel) is continued with the trainer's own, and carries on learning."""
    ck = load_checkpoint(pretrained_path(fc.CHECKPOINT), "forecast")
    t = fc.ForecastTrainer.from_checkpoint(ck, CPU)
    assert all(g.get("fused") == t.opt.defaults.get("fused") for g in t.opt.param_groups)
    before = t.history.last("test_rmse")
    t.apply_live(dataclasses.replace(t.config, epochs=t.config.epochs + 10))
    t.train_epochs(10)
    assert t.step_count == ck["step"] + 10 and np.isfinite(t.history.last("test_rmse"))
    assert t.history.last("test_rmse") <= 1.5 * before
