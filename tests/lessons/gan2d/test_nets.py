"""One source per model (issue 36): the page's batched G and D are nets.py's one-seed modules,
stacked. A seed's slice of a trained panel's weights, copied back into a fresh module, computes
what the batched code computes, for every method (PacGAN packing, cGAN labels, minibatch std)."""
import dataclasses

import pytest
import torch

from core.lessons.gan2d import Data2D, Gan2DConfig
from core.lessons.gan2d.batched import load_seed, mlp, seed_generators, stack_params
from core.lessons.gan2d.config import METHODS
from core.lessons.gan2d.methods import MethodRun
from core.lessons.gan2d.nets import panel_nets

CPU = torch.device("cpu")
ATOL = 1e-6


def _run(method, dataset="ring8", steps=3):
    cfg = dataclasses.replace(Gan2DConfig(seed=4), n_seeds=3, pack=3, batch_size=48, g_depth=2, d_depth=3,
                              d_width=24, g_width=20)
    run = MethodRun(method, cfg, Data2D(dataset, 0.05), CPU)
    for _ in range(steps):       # trained a little: the slices are no longer the initial weights
        run.iteration()
    return run, cfg


def _plain(run, cfg, i):
    """Seed i's G and D as plain modules, holding the batched weights' slice i."""
    gen = lambda salt: seed_generators([run.seeds[i]], salt)[0]                      # noqa: E731
    G, D = panel_nets(run.method, gen, cfg.latent_size, cfg.g_width, cfg.g_depth, cfg.d_width,
                      cfg.d_depth, cfg.pack, run.K)
    return load_seed(G, run.G, i), load_seed(D, run.D, i)


@pytest.mark.parametrize("method", METHODS)
def test_a_seeds_slice_in_the_plain_modules_computes_the_batched_nets(method):
    torch.manual_seed(0)
    run, cfg = _run(method, "spiral" if method == "cgan" else "ring8")
    i, n = 1, 12                                                      # n: a multiple of the pack (3)
    G, D = _plain(run, cfg, i)
    z = torch.randn(n, cfg.latent_size)
    lab = torch.randint(run.K, (n, 1)).float()                        # the app's labels: [n, 1] floats
    x = torch.randn(2 * n, 2)                                         # [real; fake]
    two = torch.cat([lab, torch.randint(run.K, (n, 1)).float()])
    slice_g, slice_d = [p[i:i + 1] for p in run.G], [p[i:i + 1] for p in run.D]
    with torch.no_grad():
        want_g = mlp(slice_g, run._g_input(z[None], lab[None] if run.cond else None), "relu")[0]
        torch.testing.assert_close(G(z, lab[:, 0]), want_g, atol=ATOL, rtol=0)
        for groups, pts, labels in ((1, x[:n], lab), (2, x, two)):    # mbstd: one batch, or [real; fake]
            want = run.D_of(slice_d, pts[None], labels[None] if run.cond else None, groups=groups)[0]
            got = D(pts, labels[:, 0], groups=groups)
            assert got.shape == (len(pts) // run.m, 1)
            torch.testing.assert_close(got, want, atol=ATOL, rtol=0)


@pytest.mark.parametrize("method", METHODS)
def test_the_pages_picture_of_d_is_the_plain_modules(method):
    """d_field (the batched D over a grid, with its own packing, labels and σ̄) against the module."""
    run, cfg = _run(method, steps=2)
    i = 2
    G, D = _plain(run, cfg, i)
    g = torch.linspace(-2, 2, 7)
    field = torch.from_numpy(run.d_field(g.numpy(), g.numpy(), seed_index=i))        # [7, 7], rows = y
    gx, gy = torch.meshgrid(g, g, indexing="xy")
    pts = torch.stack([gx.ravel(), gy.ravel()], 1)
    with torch.no_grad():
        if method == "pacgan":
            out = D(pts.repeat_interleave(run.m, 0))
        elif method == "cgan":
            out = D(pts, run.data.ref_label[torch.cdist(pts.double(), run.data.ref).argmin(1)])
        elif method == "mbstd":
            out = D(pts, spread_of=run.eval_samples(500, i)[0])
        else:
            out = D(pts)
        v = out[:, 0] if method == "wgan-gp" else torch.sigmoid(out[:, 0])
    torch.testing.assert_close(v.double().reshape(7, 7), field, atol=ATOL, rtol=0)


def test_the_stacks_are_the_modules_weights_and_draw_nothing_global():
    """Building a panel draws only from the seeds' own generators; its stacks hold exactly the
    weights of one module per seed, in the batched layout (W: [S, in, out], b: [S, 1, out])."""
    cfg = dataclasses.replace(Gan2DConfig(seed=9), n_seeds=2)
    state = torch.random.get_rng_state()
    run = MethodRun("mbstd", cfg, Data2D("ring8", 0.05), CPU)
    assert torch.equal(torch.random.get_rng_state(), state)
    fresh = [panel_nets("mbstd", lambda salt, s=s: seed_generators([s], salt)[0], cfg.latent_size, cfg.g_width,
                        cfg.g_depth, cfg.d_width, cfg.d_depth, cfg.pack, run.K) for s in run.seeds]
    for i, (G, D) in enumerate(fresh):
        assert D.out.in_features == cfg.d_width + 1                  # σ̄: one more input
        for net, stack in ((G, run.G), (D, run.D)):
            params = list(net.parameters())
            assert [tuple(s.shape[1:]) for s in stack] == [tuple(p.T.shape) if p.dim() == 2 else (1, *p.shape)
                                                           for p in params]
            for p, s in zip(params, stack):
                assert torch.equal(p.T if p.dim() == 2 else p[None], s[i])
    # and back: each seed's slice loaded into a module, restacked, is the same stack
    restacked = stack_params([load_seed(D, run.D, i) for i, (_, D) in enumerate(fresh)], CPU)
    assert all(torch.equal(a, b) for a, b in zip(restacked, run.D))
