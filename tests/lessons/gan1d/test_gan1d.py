"""The 1D GAN trainer: convergence on the default seed, determinism, live settings, checkpoints."""
import dataclasses
import fractions

import numpy as np
import pytest
import torch

from core.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from core.formula import FormulaError
from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer, sliced_wasserstein
from core.live import Diverged
from core.lessons.gan1d.losses import d_loss_and_grad, g_loss_and_grad

CPU = torch.device("cpu")


def test_default_config_learns_x_squared_within_5000_steps():
    t = Gan1DTrainer(Gan1DConfig(seed=0), CPU)
    t.step(5000)
    m = t.metrics.arrays()
    assert np.nanmin(m["mean_abs_err"]) <= 0.03
    assert m["mean_abs_err"][-1] <= 0.03          # and it is still there at the end
    assert m["mean_abs_err"][0] > 0.05            # it was not there at the start
    h = t.history.arrays()
    assert abs(h["d_real"][-50:].mean() - 0.5) < 0.1 and abs(h["d_fake"][-50:].mean() - 0.5) < 0.1


def test_same_seed_same_history_regardless_of_chunking():
    a, b = Gan1DTrainer(Gan1DConfig(seed=3), CPU), Gan1DTrainer(Gan1DConfig(seed=3), CPU)
    a.step(300)
    for n in (1, 7, 92, 200):
        b.step(n)
    for k in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert np.array_equal(a.history.arrays()[k], b.history.arrays()[k])
    assert np.array_equal(a.metrics.arrays()["mean_abs_err"], b.metrics.arrays()["mean_abs_err"])
    c = Gan1DTrainer(Gan1DConfig(seed=4), CPU)
    c.step(300)
    assert not np.array_equal(a.history.arrays()["g_loss"], c.history.arrays()["g_loss"])


def test_d_and_g_steps_update_only_their_network():
    t = Gan1DTrainer(Gan1DConfig(), CPU)
    g0, d0 = t.G.flat.clone(), t.D.flat.clone()
    t.step_d()
    assert torch.equal(t.G.flat, g0) and not torch.equal(t.D.flat, d0)
    d1 = t.D.flat.clone()
    t.step_g()
    assert torch.equal(t.D.flat, d1) and not torch.equal(t.G.flat, g0)
    assert (t.d_steps, t.g_steps, t.step_count, t.last_phase) == (1, 1, 1, "g")


def test_k_discriminator_steps_per_iteration():
    t = Gan1DTrainer(Gan1DConfig(k=3), CPU)
    t.step(4)
    assert (t.d_steps, t.g_steps, t.step_count) == (12, 4, 4)


@pytest.mark.parametrize("loss", ["minimax", "non-saturating", "least-squares"])
def test_generator_gradient_matches_autograd(loss):
    """The hand-derived ∂L_G/∂a for each loss equals autograd's, through the whole G step."""
    t = Gan1DTrainer(Gan1DConfig(g_loss=loss), CPU)
    a = torch.randn(64, 1, dtype=torch.float64, requires_grad=True)
    value, grad = g_loss_and_grad(a.detach(), loss)
    ref = {"minimax": lambda a: torch.log1p(-torch.sigmoid(a)).mean(),
           "non-saturating": lambda a: -torch.log(torch.sigmoid(a)).mean(),
           "least-squares": lambda a: 0.5 * ((a - 1) ** 2).mean()}[loss](a)
    ref.backward()
    assert torch.allclose(value, ref.detach(), atol=1e-10)
    assert torch.allclose(grad, a.grad, atol=1e-10)


@pytest.mark.parametrize("loss", ["non-saturating", "least-squares"])
def test_discriminator_gradient_matches_autograd(loss):
    t = Gan1DTrainer(Gan1DConfig(g_loss=loss), CPU)
    B = 16
    a = torch.randn(2 * B, 1, dtype=torch.float64, requires_grad=True)
    sign = torch.cat([-torch.ones(B, 1), torch.ones(B, 1)]).double()
    value, grad = d_loss_and_grad(a.detach(), sign, loss)
    if loss == "least-squares":
        ref = 0.5 * ((a[:B] - 1) ** 2).mean() + 0.5 * (a[B:] ** 2).mean()
    else:
        ref = -torch.log(torch.sigmoid(a[:B])).mean() - torch.log1p(-torch.sigmoid(a[B:])).mean()
    ref.backward()
    assert torch.allclose(value, ref.detach(), atol=1e-10)
    assert torch.allclose(grad, a.grad, atol=1e-10)


def test_minimax_gradient_vanishes_when_d_is_confident():
    """The lecture's slide: ∂/∂a log(1 − σ(a)) = −D(G(z)) → 0 as D(G(z)) → 0."""
    a = torch.full((10, 1), -8.0)          # D(G(z)) = σ(−8) ≈ 3e-4: D rejects the fakes
    _, g_mm = g_loss_and_grad(a, "minimax")
    _, g_ns = g_loss_and_grad(a, "non-saturating")
    assert g_mm.abs().sum() < 1e-2 * g_ns.abs().sum()


def test_live_settings_apply_without_touching_weights():
    t = Gan1DTrainer(Gan1DConfig(), CPU)
    t.step(10)
    w = t.G.flat.clone()
    t.apply_live(dataclasses.replace(t.config, lr_g=0.05, k=2, batch_size=32))
    assert torch.equal(t.G.flat, w)
    assert t.opt_g.lr == 0.05 and t.config.k == 2 and t.config.batch_size == 32
    t.step(3)
    assert t.d_steps == 10 + 6
    t.apply_live(dataclasses.replace(t.config, optimizer="sgd"))
    t.step(2)
    assert type(t.opt_g).__name__ == "FlatSGD"


def test_divergence_raises_clear_message():
    t = Gan1DTrainer(Gan1DConfig(lr_d=10.0, lr_g=10.0, optimizer="sgd", momentum=0.9), CPU)
    with pytest.raises(Diverged, match="blew up at iteration .*Lower the learning rate"):
        t.step(2000)
    # the history keeps the run up to the blow-up, so the class sees it happen
    assert len(t.history.arrays()["step"]) > 0


def test_adam_at_the_top_learning_rate_is_stopped_and_named():
    t = Gan1DTrainer(Gan1DConfig(lr_d=10.0, lr_g=10.0), CPU)
    with pytest.raises(Diverged, match="blew up"):
        for _ in range(40):        # ~2 s of live training at most
            t.step(100)


def test_defaults_raise_no_false_alarm():
    t = Gan1DTrainer(Gan1DConfig(), CPU)
    t.step(3000)
    assert t.step_count == 3000


def test_bad_configs_are_value_errors_with_reasons():
    with pytest.raises(FormulaError):
        Gan1DTrainer(Gan1DConfig(target="import os"), CPU)
    with pytest.raises(ValueError, match="x range"):
        Gan1DTrainer(Gan1DConfig(x_min=1.0, x_max=0.0), CPU)
    with pytest.raises(ValueError, match="undefined"):
        Gan1DTrainer(Gan1DConfig(target="log(x)"), CPU)


def test_checkpoint_round_trip(tmp_path):
    t = Gan1DTrainer(Gan1DConfig(seed=5), CPU)
    t.step(120)
    path = tmp_path / "g.pt"
    save_checkpoint(path, t.state_dict())
    u = Gan1DTrainer.from_checkpoint(load_checkpoint(path, "gan1d"), CPU)
    assert u.step_count == 120 and torch.equal(u.G.flat, t.G.flat) and torch.equal(u.D.flat, t.D.flat)
    assert np.array_equal(u.history.arrays()["g_loss"], t.history.arrays()["g_loss"])
    # Training on continues identically to a model that never stopped (same data stream aside,
    # the weights and optimiser state are the same): one G update from identical inputs.
    z = torch.randn(8, t.config.latent_size)
    assert torch.equal(u.G.forward(z), t.G.forward(z))
    assert u.opt_g.t == t.opt_g.t and torch.equal(u.opt_g.m, t.opt_g.m)


def test_corrupt_or_foreign_checkpoints_are_refused(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path / "nope.pt")
    evil = tmp_path / "evil.pt"
    torch.save({"config": {}, "model": {}, "x": fractions.Fraction(1, 3)}, evil)  # not plain data
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)       # weights_only refuses arbitrary objects


def test_shipped_checkpoint_loads_and_is_trained():
    ckpt = load_checkpoint("pretrained/gan1d_x2.pt", "gan1d")
    t = Gan1DTrainer.from_checkpoint(ckpt, CPU)
    assert t.step_count == 5000
    assert t.snapshot()["mean_abs_err"] < 0.03
    # the trainer owns copies: training it leaves the loaded dict untouched
    before = ckpt["model"]["G"]["flat"].clone()
    t.step(5)
    assert torch.equal(ckpt["model"]["G"]["flat"], before)


def test_sliced_wasserstein_basics():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 2))
    assert sliced_wasserstein(a, a) == 0
    assert sliced_wasserstein(a, a + [1.0, 0]) > 0.5


def test_snapshot_shapes():
    s = Gan1DTrainer(Gan1DConfig(), CPU).snapshot()
    assert s["real"].shape == (400, 2) and s["fake"].shape == (400, 2)
    assert s["d_grid"].shape == (40, 40) and np.all((s["d_grid"] >= 0) & (s["d_grid"] <= 1))
