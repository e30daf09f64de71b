"""Small MLPs with all weights in one flat tensor, a hand-written backward, and flat optimisers.

Why: the lesson models are tiny (a few hundred weights), so a training step costs what the
framework's per-call overhead costs, not arithmetic. Autograd's engine and ``torch.optim``'s
Python bookkeeping were over half the time of a 1D GAN step. Here every layer's forward and
backward is one or two ATen calls (the very kernels autograd would call), gradients land
directly in one flat buffer, and Adam/SGD update all weights with a handful of ops.
``tests/test_fastnet.py`` checks outputs, gradients and optimiser updates against autograd
and ``torch.optim`` to 1e-6 (float64).

Layer l (1-based, L layers): pre_l = h_{l−1} W_lᵀ + b_l, h_l = act(pre_l) for l < L,
output = pre_L. Shapes: W_l: [n_l, n_{l−1}], b_l: [n_l], h_l: [B, n_l].
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

aten = torch.ops.aten

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu")
LEAKY_SLOPE = 0.2


def torch_activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(LEAKY_SLOPE), "tanh": nn.Tanh(), "elu": nn.ELU()}[name]


def _act(name: str, pre: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return torch.relu(pre)
    if name == "leaky_relu":
        return torch.nn.functional.leaky_relu(pre, LEAKY_SLOPE)
    if name == "tanh":
        return torch.tanh(pre)
    return torch.nn.functional.elu(pre)


def _act_backward(name: str, grad: torch.Tensor, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    """δpre = δh ⊙ act'(pre), with the same kernels autograd uses."""
    if name == "relu":
        return aten.threshold_backward(grad, post, 0)
    if name == "leaky_relu":
        return aten.leaky_relu_backward(grad, pre, LEAKY_SLOPE, False)
    if name == "tanh":
        return aten.tanh_backward(grad, post)
    # elu with alpha 1: δpre = δh ⊙ (1 if pre > 0 else h + 1)
    return aten.elu_backward(grad, 1.0, 1.0, 1.0, True, post)


class FlatMLP:
    """An MLP whose parameters are views into one flat tensor ``flat`` ([P]); grads in ``grad``."""

    def __init__(self, sizes: list[int], act: str, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32, init: nn.Sequential | None = None) -> None:
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}")
        self.sizes, self.act = list(sizes), act
        shapes = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            shapes += [(n_out, n_in), (n_out,)]
        total = sum(math.prod(s) for s in shapes)
        self.flat = torch.zeros(total, device=device, dtype=dtype)
        self.grad = torch.zeros_like(self.flat)
        self.params: list[torch.Tensor] = []
        self.grads: list[torch.Tensor] = []
        off = 0
        for s in shapes:
            n = math.prod(s)
            self.params.append(self.flat[off:off + n].view(s))
            self.grads.append(self.grad[off:off + n].view(s))
            off += n
        # Initialise exactly as nn.Linear does (so seeds mean the same as in plain PyTorch).
        ref = init if init is not None else self.torch_module()
        with torch.no_grad():
            for p, q in zip(self.params, ref.parameters()):
                p.copy_(q.detach().to(p.dtype))

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def torch_module(self) -> nn.Sequential:
        """An equivalent ``nn.Sequential`` (fresh nn.Linear init); used for init and tests."""
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < self.n_layers - 1:
                layers.append(torch_activation(self.act))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, n_0] -> [B, n_L], no cache (evaluation)."""
        h = x
        for l in range(self.n_layers):
            W, b = self.params[2 * l], self.params[2 * l + 1]
            h = torch.addmm(b, h, W.t())
            if l < self.n_layers - 1:
                h = _act(self.act, h)
        return h

    __call__ = forward

    def forward_cache(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Forward keeping [h_0, pre_1, h_1, …, pre_L] for ``backward``."""
        cache = [x]
        h = x
        for l in range(self.n_layers):
            W, b = self.params[2 * l], self.params[2 * l + 1]
            pre = torch.addmm(b, h, W.t())
            if l < self.n_layers - 1:
                h = _act(self.act, pre)
                cache += [pre, h]
            else:
                cache.append(pre)
                h = pre
        return h, cache

    def backward(self, cache: list[torch.Tensor], d_out: torch.Tensor, *,
                 param_grads: bool = True, input_grad: bool = False) -> torch.Tensor | None:
        """Backpropagate δoutput: [B, n_L]; writes ∂L/∂θ into ``grad`` (overwriting).

        Returns δx: [B, n_0] when ``input_grad``.
        """
        d_pre = d_out
        for l in reversed(range(self.n_layers)):
            W = self.params[2 * l]
            h_in = cache[2 * l]
            if param_grads:
                # ∂L/∂W_l = δpre_lᵀ h_{l−1};  ∂L/∂b_l = Σ_batch δpre_l
                torch.mm(d_pre.t(), h_in, out=self.grads[2 * l])
                torch.sum(d_pre, 0, out=self.grads[2 * l + 1])
            if l == 0 and not input_grad:
                return None
            # δh_{l−1} = δpre_l W_l
            d_h = torch.mm(d_pre, W)
            if l == 0:
                return d_h
            d_pre = _act_backward(self.act, d_h, cache[2 * l - 1], cache[2 * l])
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"sizes": list(self.sizes), "act": self.act, "flat": self.flat.detach().cpu().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if list(state["sizes"]) != self.sizes or state["act"] != self.act:
            raise ValueError("checkpoint network shape does not match the config")
        self.flat.copy_(state["flat"].to(self.flat))

    def all_finite(self) -> torch.Tensor:
        return torch.isfinite(self.flat).all()


class FlatAdam:
    """Adam (Kingma & Ba) on one flat parameter vector; the same arithmetic as torch.optim.Adam.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
    """

    def __init__(self, net: FlatMLP, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.net, self.lr, self.betas, self.eps = net, lr, betas, eps
        self.m = torch.zeros_like(net.flat)
        self.v = torch.zeros_like(net.flat)
        self.t = 0

    def step(self) -> None:
        b1, b2 = self.betas
        g, p = self.net.grad, self.net.flat
        self.t += 1
        self.m.mul_(b1).add_(g, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (self.v.sqrt() / math.sqrt(1 - b2 ** self.t)).add_(self.eps)
        p.addcdiv_(self.m, denom, value=-self.lr / (1 - b1 ** self.t))

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "adam", "t": self.t, "m": self.m.cpu().clone(), "v": self.v.cpu().clone(),
                "betas": list(self.betas), "eps": self.eps}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.t, self.m, self.v = int(s["t"]), s["m"].to(self.m).clone(), s["v"].to(self.v).clone()


class FlatSGD:
    """SGD with (heavy-ball) momentum, as torch.optim.SGD: b ← μb + g (b = g at first);  θ ← θ − lr·b."""

    def __init__(self, net: FlatMLP, lr: float, momentum: float = 0.0) -> None:
        self.net, self.lr, self.momentum = net, lr, momentum
        self.buf: torch.Tensor | None = None

    def step(self) -> None:
        g = self.net.grad
        if self.momentum:
            if self.buf is None:
                self.buf = g.clone()
            else:
                self.buf.mul_(self.momentum).add_(g)
            g = self.buf
        self.net.flat.add_(g, alpha=-self.lr)

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "sgd", "buf": None if self.buf is None else self.buf.cpu().clone()}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.buf = None if s.get("buf") is None else s["buf"].to(self.net.flat).clone()


class FastDropout(nn.Dropout):
    """``nn.Dropout`` (inverted dropout, training mode only) with its mask drawn as uniform numbers
    and a comparison instead of ``bernoulli_``, which on this CPU takes 2.8 ms for a [64, 32, 128]
    activation against 1.0 ms (``F.dropout``'s whole cost; the char-RNN step is ~16 ms). The same
    distribution, another random stream:

        y = x ⊙ m / (1 − p),   m_i = [u_i ≥ p],  u_i ~ U[0, 1)   (each unit kept with probability 1 − p)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p >= 1.0:
            return x * 0.0
        return x * (torch.rand_like(x) >= self.p).to(x.dtype).mul_(1.0 / (1.0 - self.p))
