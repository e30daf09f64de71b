"""Unit tests of the mode-collapse lesson's core: metrics, WGAN-GP penalty, batched seeds, the
trainer (staggered measuring, blow-ups, the step-time cap), checkpoints."""
from __future__ import annotations

import dataclasses
import math
import statistics
import time

import numpy as np
import pytest
import torch

from core.checkpoints import load_checkpoint, save_checkpoint
from core.lessons.gan2d import METHODS, Data2D, Gan2DConfig, Gan2DTrainer, merge_checkpoints, mode_metrics
from core.lessons.gan2d.batched import init_params, mlp
from core.lessons.gan2d.config import largest_config
from core.lessons.gan2d.methods import wgan_gradient_penalty
from core.lessons.gan2d.metrics import nearest_ref
from core.lessons.gan2d.record import Recording
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


@pytest.mark.parametrize("name", ["ring8", "moons", "spiral"])
def test_blocked_nearest_reference_is_the_plain_one(name):
    """Rows in blocks of 256 against a dense curve: the same distances and indices as one cdist."""
    d = Data2D(name, 0.05)
    x = torch.randn(2500, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 2
    dmin, idx = nearest_ref(x, d.ref)
    full = torch.cdist(x, d.ref).min(1)
    torch.testing.assert_close(dmin, full.values, atol=1e-12, rtol=0)
    assert (idx == full.indices).float().mean() > 0.999      # ties may break either way


def test_mode_markers_one_per_mode():
    for name in ("ring8", "grid25", "moons", "spiral"):
        d = Data2D(name, 0.05)
        marks = d.mode_markers()
        assert marks.shape == (d.n_modes, 2)
        m = mode_metrics(torch.from_numpy(marks), d.ref, d.ref_label, d.n_modes, 0.05)
        np.testing.assert_array_equal(m["nearest"], np.arange(d.n_modes))   # each marks its own mode


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
    base = dict(g_width=16, d_width=16, batch_size=32, eval_every=25, critic_steps=2, unroll_steps=2)
    base.update(kw)
    return Gan2DConfig(**base)


def test_batched_seeds_equal_single_seed_runs():
    methods = tuple(METHODS)
    groups = [methods[:4], methods[4:]]
    for ms in groups:
        batched = Gan2DTrainer(_small(methods=ms, seed=5, n_seeds=2), CPU)
        batched.step(30)
        for i in range(2):
            alone = Gan2DTrainer(_small(methods=ms, seed=5 + i, n_seeds=1), CPU)
            alone.step(30)
            for m in ms:
                for p, q in zip(batched.runs[m].G + batched.runs[m].D, alone.runs[m].G + alone.runs[m].D):
                    torch.testing.assert_close(p[i:i + 1], q, atol=1e-6, rtol=0, msg=f"{m} seed {5 + i}")
                assert batched.runs[m].rec.last["covered"][i] == alone.runs[m].rec.last["covered"][0]
                assert batched.runs[m].rec.last["hq"][i] == pytest.approx(alone.runs[m].rec.last["hq"][0], abs=1e-3)


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


def test_same_history_regardless_of_chunking():
    a, b = Gan2DTrainer(_small(methods=("vanilla", "wgan-gp")), CPU), Gan2DTrainer(_small(methods=("vanilla", "wgan-gp")), CPU)
    a.step(60)
    for n in (1, 7, 24, 28):
        b.step(n)
    for m in ("vanilla", "wgan-gp"):
        np.testing.assert_array_equal(a.runs[m].history.arrays()["d_loss"], b.runs[m].history.arrays()["d_loss"])
        np.testing.assert_array_equal(a.runs[m].rec.metrics.arrays()["hq"], b.runs[m].rec.metrics.arrays()["hq"])


def test_panels_are_measured_at_staggered_steps():
    """One step never measures more than one panel: panel i at i, every + i, 2·every + i…"""
    t = Gan2DTrainer(_small(methods=("vanilla", "minimax", "pacgan", "cgan"), g_width=4, d_width=4), CPU)
    t.step(80)
    for i, run in enumerate(t.runs.values()):
        steps = run.rec.metrics.arrays()["step"].astype(int).tolist()
        assert steps == [0] + [s for s in (25 + i, 50 + i, 75 + i) if s <= 80]


# ---------------------------------------------------------------- training, snapshot, checkpoints

def test_conditional_gan_covers_the_ring():
    t = Gan2DTrainer(Gan2DConfig(methods=("cgan",), eval_every=200), CPU)
    t.step(1000)
    snap = t.snapshot()
    assert snap["panels"]["cgan"]["covered"] == 8
    assert snap["panels"]["cgan"]["hq"] > 0.8


def test_snapshot_shapes_and_bounds():
    t = Gan2DTrainer(_small(methods=("vanilla", "wgan-gp", "mbstd", "cgan"), n_seeds=2, show_seed=1), CPU)
    t.step(20)
    s = t.snapshot()
    assert s["seed_index"] == 1 and s["seeds"] == [0, 1]
    assert s["modes"].shape == (8, 2) and s["show_real"] is True
    for m in s["methods"]:
        p = s["panels"][m]
        assert p["fake"].shape == (Gan2DTrainer.N_SHOW, 2)
        assert p["d_grid"].shape == (Gan2DTrainer.GRID, Gan2DTrainer.GRID) and np.isfinite(p["d_grid"]).all()
        assert p["counts"].shape == (8,)
        assert p["trail"].shape[1] == 8 and p["frames"].shape[1:] == (250, 2)
        assert s["per_seed"][m]["covered"].shape == (2,)
        if m != "wgan-gp":
            assert p["d_grid"].min() >= 0 and p["d_grid"].max() <= 1
    t.apply_live(dataclasses.replace(t.config, show_seed=7))       # more than there are: the last
    assert t.snapshot()["seed_index"] == 1


def test_frames_and_trail_stay_bounded():
    rec, d = Recording(), Data2D("ring8", 0.05)
    x = d.sample(2500, torch.Generator().manual_seed(0))[None, :, :2]
    for step in range(130):
        rec.add(step, x, d)
    assert len(rec.frames) <= rec.MAX_FRAMES and len(rec.trail) <= rec.TRAIL
    assert rec.frames[-1][0] <= 129 and rec.frame_stride > 1
    a = rec.arrays(8)
    assert a["frames"].shape[1:] == (250, 2) and a["trail"].shape == (rec.TRAIL, 8)


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
    u.step(5)   # it goes on training (with fresh noise streams: they are not in the checkpoint)
    assert u.step_count == 35 and len(u.runs["wgan-gp"].history.arrays()["step"]) == 35
    # one-method files merge back into a multi-panel run
    one = [t.state_dict((m,)) for m in ("wgan-gp", "vanilla")]
    v = Gan2DTrainer.from_checkpoint(merge_checkpoints(one, ("vanilla", "wgan-gp")), CPU)
    assert v.methods == ("vanilla", "wgan-gp")


def test_checkpoint_of_another_shape_is_refused():
    state = Gan2DTrainer(_small(methods=("vanilla",)), CPU).state_dict()
    state["config"]["g_width"] = 32
    with pytest.raises(ValueError, match="shape"):
        Gan2DTrainer.from_checkpoint(state, CPU)


def test_live_settings_apply_without_restart():
    t = Gan2DTrainer(_small(methods=("vanilla", "wgan-gp")), CPU)
    t.step(3)
    t.apply_live(dataclasses.replace(t.config, lr_g=5e-4, beta1=0.0, k=2, batch_size=16, seed=99))
    assert t.runs["vanilla"].opt_g.lr == 5e-4 and t.config.k == 2 and t.config.seed == 0
    assert t.runs["wgan-gp"].opt_d.betas == (0.0, 0.9) and t.runs["vanilla"].opt_d.betas == (0.0, 0.999)
    t.step(2)
    assert t.step_count == 5


@pytest.mark.parametrize("bad", [dict(methods=()), dict(methods=("vanilla",) * 2), dict(methods=("nope",)),
                                 dict(methods=("vanilla", "minimax", "cgan", "mbstd", "pacgan")),
                                 dict(dataset="circle"), dict(std=0.0), dict(n_seeds=16), dict(lr_d=-1.0),
                                 dict(lr_g=float("nan")), dict(batch_size=512), dict(d_depth=0),
                                 dict(g_width=128), dict(unroll_steps=10), dict(k=10), dict(critic_steps=10)])
def test_invalid_configs_raise_readable_errors(bad):
    with pytest.raises(ValueError):
        Gan2DTrainer(Gan2DConfig(**bad), CPU)


# ---------------------------------------------------------------- blow-ups

def test_nan_weights_are_reported_with_the_panel():
    t = Gan2DTrainer(_small(methods=("vanilla", "unrolled")), CPU)
    with torch.no_grad():
        t.runs["unrolled"].G[0].fill_(float("nan"))
    with pytest.raises(Diverged, match="blew up at step 1.*unrolled"):
        t.step(1)


@pytest.mark.parametrize("lrs", [(10.0, 10.0), (3e-4, 10.0), (10.0, 1e-3)])
def test_the_highest_learning_rate_stops_the_run_with_the_message(lrs):
    """The page's defaults with the largest learning rate(s): stopped within the first chunk."""
    t = Gan2DTrainer(Gan2DConfig(lr_d=lrs[0], lr_g=lrs[1]), CPU)
    t0 = time.perf_counter()
    with pytest.raises(Diverged, match="The run blew up at step .*ran away.*Lower the learning rate"):
        for _ in range(20):
            t.step(10)
    assert time.perf_counter() - t0 < 2.0 and t.step_count <= 20
    h = t.runs["vanilla"].history.arrays()
    assert len(h["step"]) == t.step_count          # the history keeps the steps up to the blow-up


def test_defaults_train_without_a_false_alarm():
    t = Gan2DTrainer(Gan2DConfig(methods=tuple(METHODS)[:4]), CPU)
    t.step(300)
    t2 = Gan2DTrainer(Gan2DConfig(methods=tuple(METHODS)[4:]), CPU)
    t2.step(300)
    assert t.step_count == t2.step_count == 300


def test_one_step_at_the_largest_settings_is_short():
    """Pause waits for the step in flight: at every size at its maximum (four panels, 8 seeds, the
    spiral, measuring every 25 steps) a step must take well under 0.25 s. Thread CPU time, so a
    busy shared machine does not fail it; typical: 0.09 s (0.15 s on a measuring step)."""
    t = Gan2DTrainer(largest_config("spiral"), CPU)
    t.step(2)
    cpu = []
    for _ in range(27):                     # includes a measuring step (step 25 + 0)
        c0 = time.thread_time()
        t.step(1)
        cpu.append(time.thread_time() - c0)
    assert statistics.median(cpu) < 0.15, cpu
    assert max(cpu) < 0.25, cpu


def test_pause_stops_background_training_at_once_at_the_largest_settings():
    """What Pause does on the server (LiveRunner.hold): stop the background training, which
    waits for the step in flight and no more (the runner's chunks are one step long here).
    Measured at the largest settings on the 2-core server: ≤ 0.12 s. Compared with the wall time
    of single steps measured alongside, so a machine other sessions load does not fail it."""
    from core.live import LiveRunner
    runner = LiveRunner(Gan2DTrainer(largest_config("spiral"), CPU))
    steps = []
    for _ in range(4):
        t0 = time.perf_counter()
        runner.step(1)
        steps.append(time.perf_counter() - t0)
    waits = []
    for i in range(5):
        runner.hold(False)
        runner.start_background(1.0)
        time.sleep(0.2 + 0.05 * i)
        t0 = time.perf_counter()
        runner.hold(True)
        waits.append(time.perf_counter() - t0)
        assert not runner.training_in_background
    assert statistics.median(waits) <= max(steps) + 0.05, (waits, steps)
