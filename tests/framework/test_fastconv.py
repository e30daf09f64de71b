"""core.fastconv: the switched layers give torch's outputs and gradients (1e-10 in float64, float
rounding in float32), keep their parameters and state dicts, and only eligible layers switch."""
import copy

import pytest
import torch
from torch import nn

from core import fastconv
from core.lessons.dcgan import DcganConfig
from core.lessons.dcgan.model import Discriminator, Generator

torch.set_num_threads(1)

LAYERS = [(lambda: nn.Conv2d(1, 8, 4, 2, 1), (7, 1, 16, 16)),
          (lambda: nn.Conv2d(1, 5, 4, 2, 1, bias=False), (3, 1, 6, 6)),
          (lambda: nn.ConvTranspose2d(16, 1, 4, 2, 1), (7, 16, 8, 8)),
          (lambda: nn.ConvTranspose2d(4, 1, 4, 2, 1, bias=False), (3, 4, 5, 5))]


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
@pytest.mark.parametrize("make,shape", LAYERS)
def test_outputs_and_gradients_equal_torch(make, shape, dtype, tol):
    torch.manual_seed(0)
    ref = make().to(dtype)
    fast = copy.deepcopy(ref)
    assert fastconv.speed_up(fast) == 1 and type(fast) is not type(ref)
    x = torch.randn(*shape, dtype=dtype, requires_grad=True)
    y_ref, y_fast = ref(x), fast(x)
    torch.testing.assert_close(y_fast, y_ref, atol=tol, rtol=tol)
    g = torch.randn_like(y_ref)
    want = torch.autograd.grad(y_ref, [x, *ref.parameters()], g)
    got = torch.autograd.grad(y_fast, [x, *fast.parameters()], g)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def test_only_the_input_gradient_or_only_the_weights():
    """needs_input_grad is respected: a frozen layer gives only dx, a data input only dw."""
    torch.manual_seed(1)
    ref = nn.Conv2d(1, 4, 4, 2, 1).double()
    fast = copy.deepcopy(ref)
    fastconv.speed_up(fast)
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    for p in fast.parameters():
        p.requires_grad_(False)
    xx = x.clone().requires_grad_(True)
    fast(xx).sum().backward()
    xr = x.clone().requires_grad_(True)
    ref(xr).sum().backward()
    torch.testing.assert_close(xx.grad, xr.grad, atol=1e-10, rtol=1e-10)
    for p in fast.parameters():
        p.requires_grad_(True)
    fast(x).sum().backward()
    assert all(p.grad is not None for p in fast.parameters())


def test_the_dcgans_networks_switch_their_one_channel_layers_and_keep_their_state():
    cfg = DcganConfig()
    for net, n in ((Generator(cfg.latent_size, cfg.width, "tconv4", True, False), 1),
                   (Discriminator(cfg.width, True, False), 1),
                   (Discriminator(cfg.width, True, True), 0),            # 11 input channels: left alone
                   (Generator(cfg.latent_size, cfg.width, "nearest", True, False), 0)):
        before = {k: v.clone() for k, v in net.state_dict().items()}
        assert fastconv.speed_up(net) == n
        after = net.state_dict()
        assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_layers_that_are_not_4x4_stride_2_stay_as_they_are():
    for m in (nn.Conv2d(1, 4, 3, 1, 1), nn.Conv2d(2, 4, 4, 2, 1), nn.ConvTranspose2d(4, 1, 3, 2, 1, 1),
              nn.ConvTranspose2d(4, 2, 4, 2, 1)):
        cls = type(m)
        assert fastconv.speed_up(m) == 0 and type(m) is cls
