"""The hand-written MLP backward and flat optimisers against autograd and torch.optim (float64)."""
import pytest
import torch

from core.fastnet import ACTIVATIONS, FlatAdam, FlatMLP, FlatSGD


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [[2, 1], [5, 15, 2], [3, 8, 7, 4]])
def test_forward_and_backward_match_autograd(act, sizes):
    torch.manual_seed(0)
    net = FlatMLP(sizes, act, dtype=torch.float64)
    ref = net.torch_module().double()
    with torch.no_grad():
        for p, q in zip(ref.parameters(), net.params):
            p.copy_(q)
    x = torch.randn(11, sizes[0], dtype=torch.float64, requires_grad=True)
    d_out = torch.randn(11, sizes[-1], dtype=torch.float64)
    out_ref = ref(x)
    (out_ref * d_out).sum().backward()
    out, cache = net.forward_cache(x.detach())
    d_x = net.backward(cache, d_out, input_grad=True)
    assert torch.allclose(out, out_ref.detach(), atol=1e-12)
    assert torch.allclose(net.forward(x.detach()), out_ref.detach(), atol=1e-12)
    for g, p in zip(net.grads, ref.parameters()):
        assert torch.allclose(g, p.grad, atol=1e-10)
    assert torch.allclose(d_x, x.grad, atol=1e-10)


def test_input_grad_only_leaves_param_grads_untouched():
    net = FlatMLP([2, 6, 1], "leaky_relu", dtype=torch.float64)
    net.grad.fill_(7.0)
    x = torch.randn(4, 2, dtype=torch.float64)
    _, cache = net.forward_cache(x)
    net.backward(cache, torch.ones(4, 1, dtype=torch.float64), param_grads=False, input_grad=True)
    assert torch.all(net.grad == 7.0)


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_flat_optimisers_match_torch_optim(kind):
    torch.manual_seed(1)
    net = FlatMLP([3, 5, 2], "tanh", dtype=torch.float64)
    ref = net.torch_module().double()
    with torch.no_grad():
        for p, q in zip(ref.parameters(), net.params):
            p.copy_(q)
    if kind == "adam":
        opt, ref_opt = FlatAdam(net, 0.01, betas=(0.5, 0.999)), torch.optim.Adam(ref.parameters(), 0.01, betas=(0.5, 0.999))
    else:
        opt, ref_opt = FlatSGD(net, 0.05, momentum=0.9), torch.optim.SGD(ref.parameters(), 0.05, momentum=0.9)
    for step in range(5):
        _step_both(net, opt, ref, ref_opt, torch.randn(8, 3, dtype=torch.float64), (kind, step))


def _step_both(net, opt, ref, ref_opt, x, label) -> None:
    """One step of loss Σ output² on x for the flat net and its torch twin; weights still equal."""
    ref_opt.zero_grad()
    (ref(x) ** 2).sum().backward()
    ref_opt.step()
    out, cache = net.forward_cache(x)
    net.backward(cache, 2 * out)
    opt.step()
    for p, q in zip(ref.parameters(), net.params):
        assert torch.allclose(p, q, atol=1e-10), label


def test_sgd_momentum_switched_on_mid_run_starts_its_buffer_from_the_gradient():
    """b = g at the first step with momentum, also when momentum is turned on mid-run (the page's
    live setting), as torch.optim.SGD does; and the buffer survives a checkpoint round trip."""
    torch.manual_seed(2)
    net = FlatMLP([2, 4, 1], "relu", dtype=torch.float64)
    ref = net.torch_module().double()
    with torch.no_grad():
        for p, q in zip(ref.parameters(), net.params):
            p.copy_(q)
    opt = FlatSGD(net, 0.1, momentum=0.0)
    assert opt.state_dict()["buf"] is None
    for step, momentum in enumerate([0.0, 0.0, 0.9, 0.9, 0.5]):
        if step in (0, 2):       # torch.optim.SGD starts its buffer at its first momentum step
            ref_opt = torch.optim.SGD(ref.parameters(), 0.1, momentum=momentum)
        ref_opt.param_groups[0]["momentum"] = opt.momentum = momentum
        _step_both(net, opt, ref, ref_opt, torch.randn(5, 2, dtype=torch.float64), step)
    again = FlatSGD(net, 0.1, momentum=0.5)
    again.load_state_dict(opt.state_dict())
    assert again.t == 1 and torch.equal(again.buf, opt.buf)


def test_fast_dropout_is_inverted_dropout():
    """y = x ⊙ m / (1 − p) with m_i ∈ {0, 1} kept at rate 1 − p; identity in eval mode or at p = 0;
    zeros at p = 1; the gradient is m / (1 − p), as nn.Dropout's."""
    from core.fastnet import FastDropout
    torch.manual_seed(0)
    x = torch.randn(64, 32, 128, dtype=torch.float64, requires_grad=True)
    drop = FastDropout(0.3)
    y = drop(x)
    kept = y != 0
    assert torch.allclose(y[kept], x[kept] / 0.7, rtol=1e-12, atol=0)
    assert abs(kept.double().mean().item() - 0.7) < 0.01          # 262,144 draws: σ ≈ 0.001
    y.backward(torch.ones_like(y))
    assert torch.allclose(x.grad, kept.double() / 0.7, rtol=1e-12, atol=0)
    drop.eval()
    assert drop(x) is x
    drop.train()
    drop.p = 0.0
    assert drop(x) is x
    drop.p = 1.0
    assert torch.count_nonzero(drop(x)) == 0
    # the same seed gives the same mask; a fresh draw gives another
    torch.manual_seed(5)
    a = FastDropout(0.5)(x)
    torch.manual_seed(5)
    assert torch.equal(FastDropout(0.5)(x), a)
    assert not torch.equal(FastDropout(0.5)(x), a)
