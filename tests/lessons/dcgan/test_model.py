"""The DCGAN's maths against torch: layer sizes against the convolution arithmetic, the losses
against binary cross-entropy, the batched discriminator against separate calls, InfoGAN's code
head and input."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.lessons.dcgan import (UPSAMPLING, Discriminator, Generator, conv_size, d_loss, g_loss, tconv_size)
from core.lessons.dcgan.model import Up, code_head, code_input, init_weights, one_hot

torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("n,k,s,p,op", [(4, 4, 2, 1, 0), (8, 4, 2, 1, 0), (4, 3, 2, 1, 1), (7, 5, 3, 2, 1),
                                        (2, 1, 2, 0, 0), (5, 2, 1, 0, 0)])
def test_transposed_conv_size_formula_matches_torch(n, k, s, p, op):
    layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)
    assert layer(torch.zeros(1, 1, n, n)).shape[-1] == tconv_size(n, k, s, p, op)


@pytest.mark.parametrize("n,k,s,p", [(16, 4, 2, 1), (8, 4, 2, 1), (4, 4, 1, 0), (16, 3, 1, 1), (9, 5, 3, 2)])
def test_conv_size_formula_matches_torch(n, k, s, p):
    layer = nn.Conv2d(1, 1, k, stride=s, padding=p)
    assert layer(torch.zeros(1, 1, n, n)).shape[-1] == conv_size(n, k, s, p)


@pytest.mark.parametrize("kind", list(UPSAMPLING))
def test_each_upsampling_doubles_the_size(kind):
    up = Up(kind, 6, 3, bias=True)
    for n in (4, 8):
        assert up(torch.zeros(2, 6, n, n)).shape == (2, 3, 2 * n, 2 * n)
    if kind.startswith("tconv"):
        k = up.conv.kernel_size[0]
        assert tconv_size(4, k, 2, 1, 1 if k == 3 else 0) == 8


@pytest.mark.parametrize("kind,bn,cond,width,latent",
                         list(itertools.product(UPSAMPLING, (True, False), (False, True), (8, 32), (2, 100)))[::3])
def test_generator_and_discriminator_shapes(kind, bn, cond, width, latent):
    """G: z [B, L] -> [B, 1, 16, 16] in [−1, 1] (tanh; float32 rounds its tails to ±1), sizes
    4 → 8 → 16 as the formulas say; D -> [B]."""
    torch.manual_seed(0)
    G, D = Generator(latent, width, kind, bn, cond), Discriminator(width, bn, cond)
    B = 5
    y = torch.arange(B) % 10
    x = G(torch.randn(B, latent), y if cond else None)
    assert x.shape == (B, 1, 16, 16) and float(x.detach().abs().max()) <= 1
    assert G.fc.out_features == 2 * width * 4 * 4
    assert D(x, y if cond else None).shape == (B,)
    # D's sizes: 16 → 8 → 4 → 1
    assert conv_size(conv_size(conv_size(16, 4, 2, 1), 4, 2, 1), 4, 1, 0) == 1


def test_discriminator_last_layer_is_the_4x4_convolution():
    D = Discriminator(8, False, False)
    h = torch.randn(3, 16, 4, 4)
    ref = D.out(h).flatten()
    ours = F.linear(h.flatten(1), D.out.weight.flatten(1), D.out.bias).flatten()
    assert torch.allclose(ours, ref, atol=1e-6)


@pytest.mark.parametrize("cond", [False, True])
def test_batched_discriminator_equals_two_calls(cond):
    """[real; fake] through D at once, batch norm per half, = D(real) then D(fake) (running stats too)."""
    torch.manual_seed(0)
    D1 = Discriminator(8, True, cond)
    init_weights(D1)
    D2 = Discriminator(8, True, cond)
    D2.load_state_dict(D1.state_dict())
    real, fake = torch.randn(6, 1, 16, 16), torch.randn(6, 1, 16, 16)
    yr, yf = torch.arange(6) % 10, (torch.arange(6) + 3) % 10
    a = D1(torch.cat([real, fake]), torch.cat([yr, yf]) if cond else None, groups=2)
    ref = torch.cat([D2(real, yr if cond else None), D2(fake, yf if cond else None)])
    assert torch.allclose(a, ref, atol=1e-6)
    assert torch.allclose(D1.bn2.running_mean, D2.bn2.running_mean, atol=1e-6)
    assert torch.allclose(D1.bn2.running_var, D2.bn2.running_var, atol=1e-6)


@pytest.mark.parametrize("s", [1.0, 0.9, 0.7])
def test_losses_equal_binary_cross_entropy(s):
    torch.manual_seed(1)
    a_real, a_fake = torch.randn(32, dtype=torch.float64) * 3, torch.randn(32, dtype=torch.float64) * 3
    ref_d = (F.binary_cross_entropy_with_logits(a_real, torch.full_like(a_real, s))
             + F.binary_cross_entropy_with_logits(a_fake, torch.zeros_like(a_fake)))
    assert torch.allclose(d_loss(a_real, a_fake, s), ref_d, atol=1e-10)
    ref_g = F.binary_cross_entropy_with_logits(a_fake, torch.ones_like(a_fake))
    assert torch.allclose(g_loss(a_fake), ref_g, atol=1e-10)
    # and their gradients
    a = a_fake.clone().requires_grad_(True)
    g_loss(a).backward()
    assert torch.allclose(a.grad, (torch.sigmoid(a_fake) - 1) / len(a_fake), atol=1e-10)


def test_losses_do_not_overflow_for_confident_logits():
    big = torch.tensor([200.0, -200.0])
    assert torch.isfinite(d_loss(big, -big, 0.9)) and torch.isfinite(g_loss(-big))


def test_one_hot_and_label_mixtures():
    y = torch.tensor([0, 9])
    assert one_hot(y, torch.float32).tolist()[1][9] == 1.0
    mix = 0.5 * torch.eye(10)[3] + 0.5 * torch.eye(10)[8]
    assert torch.equal(one_hot(mix[None], torch.float32), mix[None])
    G = Generator(4, 8, "tconv4", True, True).eval()
    assert G(torch.zeros(1, 4), mix[None]).shape == (1, 1, 16, 16)


def test_dcgan_initialisation():
    G = Generator(16, 32, "tconv4", True, False)
    init_weights(G)
    assert abs(float(G.up1.conv.weight.std()) - 0.02) < 0.005
    assert abs(float(G.bn1.weight.mean()) - 1.0) < 0.01 and float(G.bn1.bias.abs().max()) == 0.0


def test_code_head_reads_the_same_features_as_the_logit():
    """InfoGAN's Q: D's features h [B, 2C·16] -> the logit (= D's forward, = the 4×4 convolution
    on the unflattened map) and the code logits [B, K] (a linear layer on the same h)."""
    torch.manual_seed(0)
    D, Q = Discriminator(8, True, False), code_head(8, 30)
    init_weights(D)
    x = torch.randn(5, 1, 16, 16)
    h = D.features(x)
    assert h.shape == (5, 2 * 8 * 4 * 4)
    assert torch.allclose(D.logit(h), D(x), atol=1e-6)
    assert torch.allclose(D.logit(h), D.out(h.view(5, 16, 4, 4)).flatten(), atol=1e-6)
    assert torch.allclose(Q(h), h @ Q.weight.T + Q.bias, atol=1e-6) and Q(h).shape == (5, 30)


def test_code_input_is_z_then_the_one_hot_code():
    z, c = torch.randn(4, 3), torch.tensor([0, 29, 7, 7])
    x = code_input(z, c, 30)
    assert x.shape == (4, 33) and torch.equal(x[:, :3], z)
    assert torch.equal(x[:, 3:], F.one_hot(c, 30).float())
    assert code_input(z, c, 0) is z
    G = Generator(3 + 30, 8, "tconv4", True, False)
    assert G(x).shape == (4, 1, 16, 16)
