"""Unit tests of the mode-collapse lesson's core: metrics, WGAN-GP penalty, batched seeds, checkpoints."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from core.checkpoints import load_checkpoint, save_checkpoint
from core.gan2d import (METHODS, Data2D, Gan2DConfig, Gan2DTrainer, init_params, merge_checkpoints, mlp,
                        mode_metrics, wgan_gradient_penalty)
from core.live import Diverged

torch.set_num_threads(1)
CPU = torch.device("cpu")


def _ring_metrics(x: torch.Tensor, std: float = 0.05) -> dict:
    d = Data2D("ring8", std)
    return mode_metrics(x, d.ref, d.ref_label, d.n_modes, std)


# ---------------------------------------------------------------- metrics on hand-made sample sets

def test_all_samples_on_one_mode_cover_one():
    d = Data2D("ring8", 0.05)
    g = torch.Generator().manual_seed(0)
    x = d.ref[3] + 0.05 * torch.randn(2500, 2, generator=g, dtype=torch.float64)
    m = _ring_metrics(x)
    assert m["covered"] == 1
    assert m["counts"][3] == m["counts"].sum()
    # in 2D the distance to the centre is Rayleigh: P(r ≤ 3σ) = 1 − e^{−9/2}
    assert abs(m["hq"] - (1 - math.exp(-4.5))) < 0.01
    assert m["kl"] == pytest.approx(math.log(8), abs=1e-12)


def test_perfect_samples_cover_all_eight_at_about_full_quality():
    d = Data2D("ring8", 0.05)
    x = d.sample(2500, torch.Generator().manual_seed(1))[:, :2]
    m = _ring_metrics(x)
    assert m["covered"] == 8
    assert m["hq"] > 0.98
    assert 0 <= m["kl"] < 0.01


def test_exact_centres_are_all_high_quality_and_uniform():
    d = Data2D("ring8", 0.05)
    x = d.ref.repeat(10, 1)                          # 80 points, 10 on each centre
    m = _ring_metrics(x)
    assert (m["covered"], m["hq"]) == (8, 1.0)
    assert m["kl"] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(m["counts"], np.full(8, 10))


def test_far_samples_are_low_quality():
    x = torch.zeros(100, 2, dtype=torch.float64)       # the ring's centre: 2 from every mode
    m = _ring_metrics(x)
    assert m["covered"] == 0 and m["hq"] == 0.0 and math.isnan(m["kl"])


def test_three_sigma_boundary():
    d = Data2D("ring8", 0.1)
    inside = d.ref[0] + torch.tensor([0.299, 0.0], dtype=torch.float64)
    outside = d.ref[0] + torch.tensor([0.301, 0.0], dtype=torch.float64)
    m = mode_metrics(torch.stack([inside, outside]), d.ref, d.ref_label, 8, 0.1)
    assert m["hq"] == 0.5 and m["covered"] == 1


@pytest.mark.parametrize("name,k", [("grid25", 25), ("moons", 8), ("spiral", 8)])
def test_perfect_samples_other_shapes(name, k):
    d = Data2D(name, 0.03)
    x = d.sample(2500, torch.Generator().manual_seed(2))
    m = mode_metrics(x[:, :2], d.ref, d.ref_label, d.n_modes, d.std)
    assert d.n_modes == k
    assert m["covered"] == k
    assert m["hq"] > 0.97
    # the sampled labels agree with the metric's nearest mode for almost every point
    agree = (m["nearest"] == x[:, 2].long().numpy()).mean()
    assert agree > 0.9


# ---------------------------------------------------------------- WGAN-GP penalty

def test_gradient_penalty_matches_direct_computation():
    torch.manual_seed(0)
    S, B = 2, 7
    params = [p.detach().double().requires_grad_(True)
              for p in init_params([2, 16, 16, 1], [torch.Generator().manual_seed(i) for i in range(S)], CPU)]
    critic = lambda x: mlp(params, x, "leaky_relu")          # noqa: E731
    real, fake = torch.randn(S, B, 2, dtype=torch.float64), torch.randn(S, B, 2, dtype=torch.float64)
    eps = torch.rand(S, B, 1, dtype=torch.float64)
    gp = wgan_gradient_penalty(critic, real, fake, eps)
    # direct: one point at a time, its own gradient, then the mean of (‖∇f‖ − 1)²
    direct = torch.zeros(S, dtype=torch.float64)
    for s in range(S):
        for b in range(B):
            xh = (eps[s, b] * real[s, b] + (1 - eps[s, b]) * fake[s, b]).clone().requires_grad_(True)
            f = mlp([p[s:s + 1] for p in params], xh[None, None], "leaky_relu").sum()
            (g,) = torch.autograd.grad(f, xh)
            direct[s] += (g.norm() - 1) ** 2 / B
    torch.testing.assert_close(gp, direct, atol=1e-10, rtol=0)


def test_gradient_penalty_of_a_linear_critic():
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)                  # ‖∇f‖ = 5 everywhere
    critic = lambda x: (x * w).sum(-1, keepdim=True)                   # noqa: E731
    x = torch.randn(1, 5, 2, dtype=torch.float64)
    gp = wgan_gradient_penalty(critic, x, x.flip(1), torch.rand(1, 5, 1, dtype=torch.float64))
    assert float(gp) == pytest.approx(16.0, abs=1e-12)                 # (5 − 1)²


# ---------------------------------------------------------------- batched seeds

def _small(**kw) -> Gan2DConfig:
    base = dict(g_width=16, d_width=16, batch_size=32, eval_every=10, critic_steps=2, unroll_steps=2)
    base.update(kw)
    return Gan2DConfig(**base)


def test_batched_seeds_equal_single_seed_runs():
    methods = tuple(METHODS)
    groups = [methods[:4], methods[4:]]
    for ms in groups:
        batched = Gan2DTrainer(_small(methods=ms, seed=5, n_seeds=3), CPU)
        batched.step(25)
        for i in range(3):
            alone = Gan2DTrainer(_small(methods=ms, seed=5 + i, n_seeds=1), CPU)
            alone.step(25)
            for m in ms:
                for p, q in zip(batched.runs[m].G + batched.runs[m].D, alone.runs[m].G + alone.runs[m].D):
                    torch.testing.assert_close(p[i:i + 1], q, atol=1e-6, rtol=0, msg=f"{m} seed {5 + i}")
                assert batched.runs[m].last["covered"][i] == alone.runs[m].last["covered"][0]
                assert batched.runs[m].last["hq"][i] == pytest.approx(alone.runs[m].last["hq"][0], abs=1e-3)


def test_same_seed_same_history_and_panels_independent():
    a = Gan2DTrainer(_small(methods=("vanilla", "pacgan")), CPU)
    b = Gan2DTrainer(_small(methods=("vanilla", "pacgan")), CPU)
    c = Gan2DTrainer(_small(methods=("vanilla",)), CPU)       # another panel must not change vanilla
    for t in (a, b, c):
        t.step(30)
    ha, hb, hc = (t.runs["vanilla"].history.arrays() for t in (a, b, c))
    np.testing.assert_array_equal(ha["g_loss"], hb["g_loss"])
    np.testing.assert_array_equal(ha["g_loss"], hc["g_loss"])
    np.testing.assert_array_equal(a.runs["pacgan"].history.arrays()["d_loss"], b.runs["pacgan"].history.arrays()["d_loss"])


# ---------------------------------------------------------------- training, snapshot, checkpoints

def test_conditional_gan_covers_the_ring():
    t = Gan2DTrainer(Gan2DConfig(methods=("cgan",), eval_every=250), CPU)
    t.step(1000)
    snap = t.snapshot()
    assert snap["panels"]["cgan"]["covered"] == 8
    assert snap["panels"]["cgan"]["hq"] > 0.8


def test_snapshot_shapes_and_bounds():
    t = Gan2DTrainer(_small(methods=("vanilla", "wgan-gp", "mbstd", "cgan"), n_seeds=2), CPU)
    t.step(20)
    s = t.snapshot(seed_index=1)
    assert s["seed_index"] == 1 and s["seeds"] == [0, 1]
    for m in s["methods"]:
        p = s["panels"][m]
        assert p["fake"].shape == (Gan2DTrainer.N_SHOW, 2)
        assert p["d_grid"].shape == (Gan2DTrainer.GRID, Gan2DTrainer.GRID) and np.isfinite(p["d_grid"]).all()
        assert p["counts"].shape == (8,)
        assert p["trail"].shape[1] == 8 and p["frames"].shape[1:] == (250, 2)
        assert s["per_seed"][m]["covered"].shape == (2,)
        if m != "wgan-gp":
            assert p["d_grid"].min() >= 0 and p["d_grid"].max() <= 1


def test_frames_stay_bounded():
    t = Gan2DTrainer(_small(methods=("vanilla",), eval_every=1, g_width=4, d_width=4, batch_size=8), CPU)
    t.step(130)
    run = t.runs["vanilla"]
    assert len(run.frames) <= run.MAX_FRAMES and len(run.mode_trail) <= run.TRAIL
    assert run.frames[-1][0] <= 130


def test_checkpoint_round_trip(tmp_path):
    t = Gan2DTrainer(_small(methods=("vanilla", "wgan-gp")), CPU)
    t.step(30)
    path = tmp_path / "gan2d_test.pt"
    save_checkpoint(path, t.state_dict())
    state = load_checkpoint(path, "gan2d")
    u = Gan2DTrainer.from_checkpoint(state, CPU)
    assert u.step_count == 30 and u.methods == ("vanilla", "wgan-gp")
    np.testing.assert_array_equal(t.snapshot()["panels"]["vanilla"]["fake"], u.snapshot()["panels"]["vanilla"]["fake"])
    np.testing.assert_array_equal(t.runs["vanilla"].history.arrays()["g_loss"], u.runs["vanilla"].history.arrays()["g_loss"])
    u.step(5)   # it goes on training
    # one-method files merge back into a multi-panel run
    one = [load_checkpoint_dict(t, (m,)) for m in ("wgan-gp", "vanilla")]
    merged = merge_checkpoints(one, ("vanilla", "wgan-gp"))
    v = Gan2DTrainer.from_checkpoint(merged, CPU)
    assert v.methods == ("vanilla", "wgan-gp")


def load_checkpoint_dict(t: Gan2DTrainer, methods: tuple[str, ...]) -> dict:
    return t.state_dict(methods)


def test_live_settings_apply_without_restart():
    t = Gan2DTrainer(_small(methods=("vanilla",)), CPU)
    t.step(3)
    t.apply_live(dataclasses.replace(t.config, lr_g=5e-4, k=2, batch_size=16, seed=99))
    assert t.runs["vanilla"].opt_g.lr == 5e-4 and t.config.k == 2 and t.config.seed == 0
    t.step(2)
    assert t.step_count == 5


@pytest.mark.parametrize("bad", [dict(methods=()), dict(methods=("vanilla",) * 2), dict(methods=("nope",)),
                                 dict(methods=("vanilla", "minimax", "cgan", "mbstd", "pacgan")),
                                 dict(dataset="circle"), dict(std=0.0), dict(n_seeds=17), dict(lr_d=-1.0),
                                 dict(lr_g=float("nan")), dict(batch_size=1), dict(d_depth=0)])
def test_invalid_configs_raise_readable_errors(bad):
    with pytest.raises(ValueError):
        Gan2DTrainer(Gan2DConfig(**bad), CPU)


def test_divergence_is_reported():
    t = Gan2DTrainer(_small(methods=("vanilla",)), CPU)
    with torch.no_grad():
        t.runs["vanilla"].G[0].fill_(float("nan"))
    with pytest.raises(Diverged, match="diverged"):
        t.step(1)
