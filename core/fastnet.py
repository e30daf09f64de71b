"""Small MLPs with all weights in one flat tensor, a hand-written backward, and flat optimisers.

Why: the lesson models are tiny (a few hundred weights), so a training step costs what the
framework's per-call overhead costs, not arithmetic. Autograd's engine and ``torch.optim``'s
Python bookkeeping were over half the time of a 1D GAN step. Here every layer's forward and
backward is one or two ATen calls (the very kernels autograd would call), gradients land
directly in one flat buffer, and Adam/SGD update all weights with a handful of ops.
``tests/test_fastnet.py`` checks outputs, gradients and optimiser updates against autograd
and ``torch.optim`` to 1e-6 (float64).

The maths are TorchScript functions (``script``), so a caller can run many updates in one call
that holds no interpreter lock: a server shared by a class spends its lock on frames, and the
training chunks of all sessions run beside them on another core (issue 20). Called from Python
they compute exactly what the plain functions do (the same ATen kernels, tested bit for bit).

Layer l (1-based, L layers): pre_l = h_{l−1} W_lᵀ + b_l, h_l = act(pre_l) for l < L,
output = pre_L. Shapes: W_l: [n_l, n_{l−1}], b_l: [n_l], h_l: [B, n_l].
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable, List, Optional, Tuple

import torch
from torch import nn


ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu")
LEAKY_SLOPE = 0.2


def torch_activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(LEAKY_SLOPE), "tanh": nn.Tanh(), "elu": nn.ELU()}[name]


def mlp(sizes: list[int], act: str) -> nn.Sequential:
    """Linear layers n_0 -> n_1 -> … -> n_L with ``act`` between them (none after the last):
    x [B, n_0] -> [B, n_L]. The plain module whose weights a ``FlatMLP`` holds and trains by
    hand; the exported scripts build their nets with it (core.export.sources)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(torch_activation(act))
    return nn.Sequential(*layers)


def script(fn: Callable) -> Callable:
    """``fn`` compiled by TorchScript, whose calls release the interpreter lock; ``fn`` itself where
    TorchScript is gone (torch deprecates it; 2.13 still has it), the same maths
    holding the lock."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(fn)
    except Exception:       # no TorchScript in this torch: run the plain function
        return fn


@script
def _act(name: str, pre: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return torch.relu(pre)
    if name == "leaky_relu":
        return torch.nn.functional.leaky_relu(pre, 0.2)     # LEAKY_SLOPE (TorchScript takes no float globals)
    if name == "tanh":
        return torch.tanh(pre)
    return torch.nn.functional.elu(pre)


@script
def _act_backward(name: str, grad: torch.Tensor, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    """δpre = δh ⊙ act'(pre), with the same kernels autograd uses."""
    if name == "relu":
        return torch.ops.aten.threshold_backward(grad, post, 0)
    if name == "leaky_relu":
        return torch.ops.aten.leaky_relu_backward(grad, pre, 0.2, False)   # LEAKY_SLOPE
    if name == "tanh":
        return torch.ops.aten.tanh_backward(grad, post)
    # elu with alpha 1: δpre = δh ⊙ (1 if pre > 0 else h + 1)
    return torch.ops.aten.elu_backward(grad, 1.0, 1.0, 1.0, True, post)


@script
def mlp_forward(params: List[torch.Tensor], act: str, x: torch.Tensor) -> torch.Tensor:
    """x: [B, n_0] -> [B, n_L] through layers params = [W_1, b_1, …, W_L, b_L], no cache."""
    L = len(params) // 2
    h = x
    for l in range(L):
        # pre_l = h_{l−1} W_lᵀ + b_l
        h = torch.addmm(params[2 * l + 1], h, params[2 * l].t())
        if l < L - 1:
            h = _act(act, h)
    return h


@script
def mlp_forward_cache(params: List[torch.Tensor], act: str, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """Forward keeping [h_0, pre_1, h_1, …, pre_L] for ``mlp_backward``."""
    L = len(params) // 2
    cache = [x]
    h = x
    for l in range(L):
        pre = torch.addmm(params[2 * l + 1], h, params[2 * l].t())
        if l < L - 1:
            h = _act(act, pre)
            cache.append(pre)
            cache.append(h)
        else:
            cache.append(pre)
            h = pre
    return h, cache


@script
def mlp_backward(params: List[torch.Tensor], grads: List[torch.Tensor], act: str, cache: List[torch.Tensor],
                 d_out: torch.Tensor, param_grads: bool, input_grad: bool) -> Optional[torch.Tensor]:
    """Backpropagate δoutput: [B, n_L]; writes ∂L/∂θ into ``grads`` (views of one flat buffer,
    overwritten) when ``param_grads``; returns δx: [B, n_0] when ``input_grad``."""
    L = len(params) // 2
    d_pre = d_out
    for i in range(L):
        l = L - 1 - i
        if param_grads:
            # ∂L/∂W_l = δpre_lᵀ h_{l−1};  ∂L/∂b_l = Σ_batch δpre_l
            torch.mm(d_pre.t(), cache[2 * l], out=grads[2 * l])
            torch.sum(d_pre, 0, out=grads[2 * l + 1])
        if l == 0 and not input_grad:
            return None
        # δh_{l−1} = δpre_l W_l
        d_h = torch.mm(d_pre, params[2 * l])
        if l == 0:
            return d_h
        d_pre = _act_backward(act, d_h, cache[2 * l - 1], cache[2 * l])
    return None


# Whether the functions here were compiled (False: this torch has no TorchScript; same results).
SCRIPTED = type(mlp_forward).__name__ == "ScriptFunction"

# A net as the scripted code sees it (``FlatMLP.script_args``): (params, grads, flat, grad, activation).
NetArgs = Tuple[List[torch.Tensor], List[torch.Tensor], torch.Tensor, torch.Tensor, str]
# An optimiser as the scripted code sees it: (kind "adam" | "sgd", state₁ (Adam's m, SGD's
# momentum buffer), state₂ (Adam's v; SGD: unused), [lr, β₁, β₂, ε, momentum]).
OptArgs = Tuple[str, torch.Tensor, torch.Tensor, List[float]]


@script
def opt_update(opt: OptArgs, flat: torch.Tensor, grad: torch.Tensor, t: int) -> int:
    """One update of ``flat`` [P] from ``grad`` [P]; t: the optimiser's step count before it
    (Adam: its steps; SGD: its steps since the momentum buffer started). Returns the new count."""
    kind, s1, s2, h = opt
    lr, b1, b2, eps, momentum = h[0], h[1], h[2], h[3], h[4]
    if kind == "adam":
        t += 1
        # m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
        s1.mul_(b1).add_(grad, alpha=1 - b1)
        s2.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        denom = (s2.sqrt() / math.sqrt(1 - b2 ** t)).add_(eps)
        flat.addcdiv_(s1, denom, value=-lr / (1 - b1 ** t))
        return t
    if momentum != 0.0:
        # b ← μb + g (b = g at first);  θ ← θ − lr·b
        if t == 0:
            s1.copy_(grad)
        else:
            s1.mul_(momentum).add_(grad)
        flat.add_(s1, alpha=-lr)
        return t + 1
    # θ ← θ − lr·g
    flat.add_(grad, alpha=-lr)
    return t


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
        """The plain module of these sizes (``mlp``, fresh nn.Linear init); used for init and tests."""
        return mlp(self.sizes, self.act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, n_0] -> [B, n_L], no cache (evaluation)."""
        return mlp_forward(self.params, self.act, x)

    __call__ = forward

    def forward_cache(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Forward keeping [h_0, pre_1, h_1, …, pre_L] for ``backward``."""
        return mlp_forward_cache(self.params, self.act, x)

    def backward(self, cache: list[torch.Tensor], d_out: torch.Tensor, *,
                 param_grads: bool = True, input_grad: bool = False) -> torch.Tensor | None:
        """Backpropagate δoutput: [B, n_L]; writes ∂L/∂θ into ``grad`` (overwriting).

        Returns δx: [B, n_0] when ``input_grad``.
        """
        return mlp_backward(self.params, self.grads, self.act, cache, d_out, param_grads, input_grad)

    def script_args(self) -> NetArgs:
        """(params, grads, flat, grad, activation): the net as scripted code takes it."""
        return self.params, self.grads, self.flat, self.grad, self.act

    def state_dict(self) -> dict[str, Any]:
        return {"sizes": list(self.sizes), "act": self.act, "flat": self.flat.detach().cpu().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if list(state["sizes"]) != self.sizes or state["act"] != self.act:
            raise ValueError("checkpoint network shape does not match the config")
        self.flat.copy_(state["flat"].to(self.flat))

    def all_finite(self) -> torch.Tensor:
        return torch.isfinite(self.flat).all()


class FlatAdam:
    """Adam (Kingma & Ba) on one flat parameter vector; the same arithmetic as torch.optim.Adam
    (``opt_update``)."""

    def __init__(self, net: FlatMLP, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.net, self.lr, self.betas, self.eps = net, lr, betas, eps
        self.m = torch.zeros_like(net.flat)
        self.v = torch.zeros_like(net.flat)
        self.t = 0

    def script_args(self) -> OptArgs:
        return "adam", self.m, self.v, [float(self.lr), float(self.betas[0]), float(self.betas[1]), float(self.eps), 0.0]

    def step(self) -> None:
        self.t = opt_update(self.script_args(), self.net.flat, self.net.grad, self.t)

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "adam", "t": self.t, "m": self.m.cpu().clone(), "v": self.v.cpu().clone(),
                "betas": list(self.betas), "eps": self.eps}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.t, self.m, self.v = int(s["t"]), s["m"].to(self.m).clone(), s["v"].to(self.v).clone()


class FlatSGD:
    """SGD with (heavy-ball) momentum, as torch.optim.SGD: b ← μb + g (b = g at first);  θ ← θ − lr·b
    (``opt_update``). ``t`` counts the steps since the momentum buffer started (0: not yet)."""

    def __init__(self, net: FlatMLP, lr: float, momentum: float = 0.0) -> None:
        self.net, self.lr, self.momentum = net, lr, momentum
        self.buf = torch.zeros_like(net.flat)
        self.t = 0

    def script_args(self) -> OptArgs:
        return "sgd", self.buf, self.buf, [float(self.lr), 0.0, 0.0, 0.0, float(self.momentum)]

    def step(self) -> None:
        self.t = opt_update(self.script_args(), self.net.flat, self.net.grad, self.t)

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "sgd", "buf": self.buf.cpu().clone() if self.t else None}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        if s.get("buf") is None:
            self.buf.zero_()
            self.t = 0
        else:
            self.buf, self.t = s["buf"].to(self.net.flat).clone(), 1


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
