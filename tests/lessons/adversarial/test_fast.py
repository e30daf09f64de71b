"""The trainer's hand-written convnet (``fast.py``) against torch.autograd on the nn.Module: the
sub-pixel input gradient of a stride-2 convolution, the loss, every weight gradient and the input
gradient, all to 1e-10 in float64; and a trainer step by that path equals one by autograd."""
import copy

import pytest
import torch
import torch.nn.functional as F

from core.lessons.adversarial import AdversarialConfig, AdversarialTrainer, input_gradient, make_model
from core.lessons.adversarial.fast import FastConvNet, conv_input_grad
from core.lessons.adversarial.trainer import heldout_interleaved

torch.set_num_threads(1)
aten = torch.ops.aten


@pytest.mark.parametrize("ci,co,size", [(1, 16, 16), (16, 32, 8), (3, 5, 6), (2, 1, 4)])
def test_subpixel_input_gradient_equals_the_convolutions(ci, co, size):
    """pixel_shuffle(conv₃ₓ₃(g, Wₜ)) is ∂L/∂x of conv(x, W, stride 2, padding 1), as torch computes it."""
    gen = torch.Generator().manual_seed(ci * 100 + co)
    x = torch.randn(7, ci, size, size, dtype=torch.float64, generator=gen)
    w = torch.randn(co, ci, 4, 4, dtype=torch.float64, generator=gen)
    g = torch.randn(7, co, size // 2, size // 2, dtype=torch.float64, generator=gen)
    want = aten.convolution_backward(g, x, w, None, [2, 2], [1, 1], [1, 1], False, [0, 0], 1,
                                     [True, False, False])[0]
    got = conv_input_grad(g, w)
    assert got.shape == x.shape
    torch.testing.assert_close(got, want, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("scale", [1.0, 1 / 40])
def test_forward_and_backward_equal_autograd(scale):
    torch.manual_seed(1)
    model = make_model("convnet", 8).double()
    x, y = heldout_interleaved(torch.device("cpu"))
    x, y = x[:40].double(), y[:40]
    xx = x.clone().requires_grad_(True)
    loss = scale * F.cross_entropy(model(xx), y, reduction="sum")
    want = torch.autograd.grad(loss, [xx, *model.parameters()])
    got_loss, grads, dx = FastConvNet(model).grads(x, y, scale, weights=True, inputs=True)
    torch.testing.assert_close(got_loss, loss.detach(), atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(dx, want[0], atol=1e-12, rtol=1e-10)
    assert len(grads) == len(want) - 1
    for g, w in zip(grads, want[1:]):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w, atol=1e-12, rtol=1e-10)
    # asking for less gives the same parts
    _, none, dx_only = FastConvNet(model).grads(x, y, scale, weights=False, inputs=True)
    assert none is None and torch.equal(dx_only, dx)


def test_the_trainers_fgsm_gradient_is_autograds():
    """The FGSM the trainer makes (and its curves) use ∇ₓ J equal to attacks.input_gradient."""
    t = AdversarialTrainer(AdversarialConfig(seed=3), torch.device("cpu"))
    model = copy.deepcopy(t.robust).double()
    x, y = t.x_held[:30].double(), t.y_held[:30]
    torch.testing.assert_close(t._input_gradient(model, x, y), input_gradient(model, x, y), atol=1e-12, rtol=1e-10)


def test_a_step_by_the_fast_path_equals_one_by_autograd():
    fast = AdversarialTrainer(AdversarialConfig(seed=5), torch.device("cpu"))
    slow = AdversarialTrainer(AdversarialConfig(seed=5), torch.device("cpu"))
    assert fast._fast is not None
    slow._fast = None                                  # the autograd update
    def params(t):
        return [*t.clean.parameters(), *t.robust.parameters()]
    torch.testing.assert_close(fast._step(), slow._step(), atol=1e-6, rtol=1e-6)
    for a, b in zip(params(fast), params(slow)):             # one Adam step: within float rounding
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    for _ in range(5):
        torch.testing.assert_close(fast._step(), slow._step(), atol=1e-5, rtol=1e-5)


def test_the_mlp_trains_by_autograd():
    assert AdversarialTrainer(AdversarialConfig(model="mlp"), torch.device("cpu"))._fast is None
