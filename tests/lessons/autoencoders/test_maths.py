"""The autoencoder lesson's maths against torch: the KL term (closed form and
torch.distributions), the reparameterisation (value and gradients), the reconstruction loss, the
stack of three models against three plain nn.Linear MLPs, 5-NN accuracy, the latent planes, and
the numbers the page writes into z = μ + σ·ε."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from core.lessons.autoencoders import AutoencodersConfig, AutoencodersTrainer
from core.lessons.autoencoders.metrics import PRIOR_SPAN, knn_accuracy, plane
from core.lessons.autoencoders.model import (AutoencoderStack, copy_into_plain, kl_to_prior, plain_models,
                                             reconstruction, reparameterize)

MU = torch.tensor([[0.0, 0.0], [1.5, -0.5], [-2.0, 0.3]], dtype=torch.float64)
SIGMA = torch.tensor([[1.0, 1.0], [0.2, 3.0], [0.05, 0.7]], dtype=torch.float64)


def test_kl_equals_its_closed_form_and_torch_distributions():
    logvar = torch.log(SIGMA ** 2)
    ours = kl_to_prior(MU, logvar)
    # closed form, written independently: Σ_j log(1/σ_j) + (σ_j² + μ_j²)/2 − ½
    closed = (torch.log(1.0 / SIGMA) + (SIGMA ** 2 + MU ** 2) / 2 - 0.5).sum(-1)
    torch_kl = kl_divergence(Normal(MU, SIGMA), Normal(torch.zeros_like(MU), torch.ones_like(SIGMA))).sum(-1)
    assert torch.allclose(ours, closed, atol=1e-12, rtol=0)
    assert torch.allclose(ours, torch_kl, atol=1e-12, rtol=0)
    assert ours[0].item() == 0.0                     # N(0, I) is the prior: no divergence


def test_reparameterised_sample_matches_torch_and_its_gradient_reaches_mu_and_sigma():
    torch.manual_seed(0)
    mu = MU.clone().requires_grad_(True)
    sigma = SIGMA.clone().requires_grad_(True)
    z_torch = Normal(mu, sigma).rsample()
    eps = ((z_torch - mu) / sigma).detach()          # the ε torch drew
    # ours takes log σ²: the gradient must reach σ through it
    z = reparameterize(mu, torch.log(sigma ** 2), eps)
    assert torch.allclose(z, z_torch, atol=1e-12)
    w = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    g_mu, g_sigma = torch.autograd.grad((w * z).sum(), (mu, sigma))
    g_mu_t, g_sigma_t = torch.autograd.grad((w * z_torch).sum(), (mu, sigma))
    # ∂z/∂μ = 1, ∂z/∂σ = ε
    assert torch.allclose(g_mu, w.expand_as(mu), atol=1e-12) and torch.allclose(g_mu, g_mu_t, atol=1e-12)
    assert torch.allclose(g_sigma, w * eps, atol=1e-12) and torch.allclose(g_sigma, g_sigma_t, atol=1e-12)
    assert (g_sigma != 0).all()


def test_gradient_reaches_the_encoders_mu_and_logvar_outputs():
    torch.manual_seed(1)
    model = AutoencoderStack(2, 16).double()
    x = torch.rand(3, 5, 256, dtype=torch.float64)
    loc, logvar = model.split(model.encode(x))
    loc.retain_grad()
    logvar.retain_grad()
    eps = torch.randn(5, 2, dtype=torch.float64)
    z = reparameterize(loc[1], logvar, eps)
    reconstruction(model.decode(z.expand(3, 5, 2)), x[1])[1].backward()
    assert loc.grad[1].abs().sum() > 0 and logvar.grad.abs().sum() > 0
    # ∂z/∂ log σ² = ½ σ ε, so the chain rule gives ∂L/∂ log σ² = ½ σ ε ∂L/∂z
    assert torch.allclose(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps * loc.grad[1], atol=1e-12)


def test_reconstruction_is_bce_summed_over_pixels_and_averaged_over_the_batch():
    torch.manual_seed(2)
    logits = torch.randn(3, 4, 256, dtype=torch.float64)
    x = torch.rand(4, 256, dtype=torch.float64)
    want = torch.stack([F.binary_cross_entropy(torch.sigmoid(logits[m]), x, reduction="sum") / 4 for m in range(3)])
    assert torch.allclose(reconstruction(logits, x), want, atol=1e-9)


@pytest.mark.parametrize("latent", [2, 8])
def test_stack_computes_exactly_three_plain_models(latent):
    torch.manual_seed(3)
    stack = AutoencoderStack(latent, 32).double()
    plain = [(e.double(), d.double()) for e, d in plain_models(latent, 32)]
    copy_into_plain(stack, plain)
    x = torch.rand(3, 7, 256, dtype=torch.float64)
    z = torch.randn(3, 7, latent, dtype=torch.float64)
    h, logits = stack.encode(x), stack.decode(z)
    for m, (enc, dec) in enumerate(plain):
        out = enc(x[m])
        assert torch.allclose(h[m, :, :out.shape[1]], out, atol=1e-12)
        assert torch.allclose(logits[m], dec(z[m]), atol=1e-12)


def test_unused_head_columns_of_the_autoencoders_never_move():
    t = AutoencodersTrainer(AutoencodersConfig(latent_size=2), torch.device("cpu"))
    head = t.model.encoder.layers[-1].weight
    before = head.detach().clone()
    t.step(5)
    assert torch.equal(head[0, :, 2:], before[0, :, 2:]) and torch.equal(head[2, :, 2:], before[2, :, 2:])
    assert not torch.equal(head[1, :, 2:], before[1, :, 2:])          # the VAE's log σ² head learns


def test_knn_accuracy_against_a_brute_force_vote():
    g = torch.Generator().manual_seed(4)
    ref, ref_y = torch.randn(200, 2, generator=g), torch.randint(10, (200,), generator=g)
    q, q_y = torch.randn(50, 2, generator=g), torch.randint(10, (50,), generator=g)
    right = 0
    for i in range(50):
        order = np.argsort(((ref - q[i]) ** 2).sum(1).numpy(), kind="stable")[:5]
        counts = np.bincount(ref_y.numpy()[order], minlength=10)
        right += int(np.argmax(counts) == q_y[i])
    assert knn_accuracy(ref, ref_y, q, q_y) == pytest.approx(right / 50)
    assert knn_accuracy(ref, ref_y, ref, ref_y, k=1) == 1.0


def test_planes_project_and_lift_consistently():
    g = torch.Generator().manual_seed(5)
    codes = torch.randn(300, 6, generator=g) * torch.tensor([5.0, 3.0, 0.1, 0.1, 0.1, 0.1]) + 2.0
    ae, vae = plane(codes, prior=False), plane(codes, prior=True)
    assert torch.allclose(ae.basis.T @ ae.basis, torch.eye(2), atol=1e-5)
    assert abs(float(ae.basis[0, 0])) > 0.99                          # the main direction is the widest
    p = ae.project(codes)
    assert torch.allclose(ae.project(ae.lift(p)), p, atol=1e-4)
    assert np.allclose(vae.lo, -PRIOR_SPAN) and torch.equal(vae.centre, torch.zeros(6))
    grid = ae.grid(4)
    assert grid.shape == (16, 2) and grid[0, 1] > grid[-1, 1] and grid[0, 0] < grid[3, 0]   # top row first
    two = plane(codes[:, :2], prior=False)
    assert torch.equal(two.project(codes[:, :2]), codes[:, :2])        # L = 2: the codes themselves


@pytest.mark.parametrize("latent", [2, 4])
def test_the_pages_reparameterisation_numbers_are_the_encoders_to_1e_6(latent):
    t = AutoencodersTrainer(AutoencodersConfig(latent_size=latent, seed=3), torch.device("cpu"))
    t.step(20)
    r = t.snapshot()["reparam"]
    x = t.x_held[t.reparam_idx].double()
    with torch.no_grad():                                              # the VAE alone, in float64
        h = x @ t.model.encoder.layers[0].weight[1].double() + t.model.encoder.layers[0].bias[1, 0].double()
        for layer in t.model.encoder.layers[1:]:
            h = torch.relu(h) @ layer.weight[1].double() + layer.bias[1, 0].double()
    mu, logvar = h[:latent].numpy(), h[latent:].numpy()
    sigma = torch.exp(0.5 * torch.from_numpy(logvar)).numpy()
    assert np.allclose(r["mu"], mu, atol=1e-6) and np.allclose(r["logvar"], logvar, atol=1e-6)
    assert np.allclose(r["sigma"], sigma, atol=1e-6)
    assert np.allclose(r["z"], r["mu"] + r["sigma"] * r["eps"], atol=1e-6)
    kl = kl_divergence(Normal(torch.from_numpy(mu), torch.from_numpy(sigma)), Normal(0.0, 1.0)).sum()
    assert r["kl"] == pytest.approx(float(kl), abs=1e-5)
