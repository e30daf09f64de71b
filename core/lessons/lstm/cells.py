"""LSTM, GRU and vanilla RNN cells written out: forward and backward through time (BPTT).

Every intermediate is returned, so the lesson can show the gates, the cell state and every
gradient at every time step. Weights use exactly the layout of ``torch.nn.LSTM`` / ``GRU`` /
``RNN`` (one layer, ``batch_first=False``), so they copy across unchanged:

* LSTM: ``w_ih`` [4H, I], ``w_hh`` [4H, H], ``b_ih`` [4H], ``b_hh`` [4H]; gate blocks in the
  order i, f, g, o.
* GRU:  ``w_ih`` [3H, I], ``w_hh`` [3H, H], ``b_ih`` [3H], ``b_hh`` [3H]; blocks r, z, n.
* RNN:  ``w_ih`` [H, I], ``w_hh`` [H, H], ``b_ih`` [H], ``b_hh`` [H]; tanh.

Shapes: inputs x: [T, B, I]; every per-step quantity: [T, B, H]; initial states: [B, H].
``tests/lessons/lstm/test_cells.py`` checks every state and every gradient against autograd on the torch
modules to 1e-6 in float64.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

CELLS = ("lstm", "gru", "rnn")
GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ("a",)}
# γ: the bound on the derivative of the non-linearity on the recurrent path (Pascanu et al.,
# 2013): |tanh'| ≤ 1, |σ'| ≤ 1/4. Gradients through an RNN vanish if λ₁(W_hh) < 1/γ.
GAMMA = {"tanh": 1.0, "sigmoid": 0.25}


@dataclass
class CellParams:
    """The four weight tensors of one recurrent layer, in torch's layout (see the module doc)."""

    cell: str
    w_ih: torch.Tensor
    w_hh: torch.Tensor
    b_ih: torch.Tensor
    b_hh: torch.Tensor

    @property
    def hidden_size(self) -> int:
        return int(self.w_hh.shape[1])

    @classmethod
    def from_module(cls, cell: str, module: torch.nn.Module, dtype: torch.dtype | None = None) -> "CellParams":
        """Copy (detached) the layer-0 weights of a torch.nn.LSTM / GRU / RNN."""
        def get(name: str) -> torch.Tensor:
            t = getattr(module, f"{name}_l0").detach().clone()
            return t if dtype is None else t.to(dtype)
        return cls(cell, get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"))

    def copy_into(self, module: torch.nn.Module) -> None:
        """Write these weights into a torch.nn.LSTM / GRU / RNN (layer 0)."""
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                src = getattr(self, {"weight_ih": "w_ih", "weight_hh": "w_hh",
                                     "bias_ih": "b_ih", "bias_hh": "b_hh"}[name])
                getattr(module, f"{name}_l0").copy_(src)


def _check(cell: str, x: torch.Tensor, p: CellParams) -> None:
    if cell not in CELLS:
        raise ValueError(f"unknown cell type {cell!r}; choose one of {', '.join(CELLS)}")
    if x.dim() != 3:
        raise ValueError(f"x must be [T, B, I], got shape {tuple(x.shape)}")


# =========================================================================== forward

Steps = dict[str, list[torch.Tensor]]


def _keeper(store: Steps) -> Callable[..., None]:
    """keep(name=tensor, …) appends each tensor to ``store[name]`` (one entry per time step)."""
    def keep(**kw: torch.Tensor) -> None:
        for k, v in kw.items():
            store.setdefault(k, []).append(v)
    return keep


def forward(cell: str, x: torch.Tensor, p: CellParams, h0: torch.Tensor | None = None,
            c0: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Run the cell over a whole sequence, keeping every intermediate.

    x: [T, B, I]; h0, c0: [B, H] (zeros when None).
    Returns a dict of [T, B, H] tensors (index t = time step t) plus ``h0`` / ``c0`` [B, H]:
      lstm: i, f, g, o (gate values), c (cell state), tanh_c, h, and a_i, a_f, a_g, a_o
            (pre-activations);
      gru:  r, z, n, hn (W_hn h + b_hn), h, and a_r, a_z, a_n;
      rnn:  a (pre-activation), h.
    """
    _check(cell, x, p)
    _, B, _ = x.shape
    H = p.hidden_size
    h = torch.zeros(B, H, dtype=x.dtype, device=x.device) if h0 is None else h0
    out: Steps = {}
    # the input half of every pre-activation, for all steps at once: W_ih x_t + b_ih
    gi_all = x @ p.w_ih.T + p.b_ih                                   # [T, B, nG·H]
    extra = {}
    if cell == "lstm":
        c = torch.zeros(B, H, dtype=x.dtype, device=x.device) if c0 is None else c0
        _forward_lstm(gi_all, p, h, c, _keeper(out))
        extra["c0"] = c
    elif cell == "gru":
        _forward_gru(gi_all, p, h, _keeper(out))
    else:
        _forward_rnn(gi_all, p, h, _keeper(out))
    res = {k: torch.stack(v) for k, v in out.items()}
    res.update(extra)
    res["h0"] = h
    return res


def _forward_lstm(gi_all: torch.Tensor, p: CellParams, h: torch.Tensor, c: torch.Tensor,
                  keep: Callable[..., None]) -> None:
    H = p.hidden_size
    for t in range(gi_all.shape[0]):
        # a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh, split into the i, f, g, o blocks
        a = gi_all[t] + h @ p.w_hh.T + p.b_hh
        a_i, a_f, a_g, a_o = a.split(H, dim=1)
        i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
        g = torch.tanh(a_g)
        # c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
        c = f * c + i * g
        tc = torch.tanh(c)
        # h_t = o_t ⊙ tanh(c_t)
        h = o * tc
        keep(i=i, f=f, g=g, o=o, c=c, tanh_c=tc, h=h, a_i=a_i, a_f=a_f, a_g=a_g, a_o=a_o)


def _forward_gru(gi_all: torch.Tensor, p: CellParams, h: torch.Tensor, keep: Callable[..., None]) -> None:
    H = p.hidden_size
    for t in range(gi_all.shape[0]):
        gi_r, gi_z, gi_n = gi_all[t].split(H, dim=1)
        gh_r, gh_z, gh_n = (h @ p.w_hh.T + p.b_hh).split(H, dim=1)
        # r_t = σ(W_ir x + b_ir + W_hr h + b_hr), z_t likewise
        a_r, a_z = gi_r + gh_r, gi_z + gh_z
        r, z = torch.sigmoid(a_r), torch.sigmoid(a_z)
        # n_t = tanh(W_in x + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))
        a_n = gi_n + r * gh_n
        n = torch.tanh(a_n)
        # h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
        h = (1 - z) * n + z * h
        keep(r=r, z=z, n=n, hn=gh_n, h=h, a_r=a_r, a_z=a_z, a_n=a_n)


def _forward_rnn(gi_all: torch.Tensor, p: CellParams, h: torch.Tensor, keep: Callable[..., None]) -> None:
    for t in range(gi_all.shape[0]):
        # h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
        a = gi_all[t] + h @ p.w_hh.T + p.b_hh
        h = torch.tanh(a)
        keep(a=a, h=h)


# =========================================================================== backward


def backward(cell: str, x: torch.Tensor, p: CellParams, fwd: dict[str, torch.Tensor],
             dh_out: torch.Tensor, dc_last: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Backpropagation through time for a loss L whose direct gradient w.r.t. h_t is ``dh_out``.

    x: [T, B, I]; fwd: the dict from ``forward``; dh_out: [T, B, H] = ∂L/∂h_t through the outputs
    only (zeros except the last row for a loss at the last step); dc_last: [B, H] = a direct
    ∂L/∂c_T (LSTM only, usually None).

    Returns [T, B, H] tensors of *total* gradients (through outputs and the future):
      dh (δh_t = ∂L/∂h_t), for LSTM also dc (δc_t = ∂L/∂c_t); gate-value gradients
      (lstm: d_i, d_f, d_g, d_o; gru: d_r, d_z, d_n) and pre-activation gradients
      (da_i … / da_r … / da), plus dx [T, B, I], dh0 [B, H] (dc0 for LSTM) and the weight
      gradients dw_ih, dw_hh, db_ih, db_hh in the layout of the weights.
    """
    _check(cell, x, p)
    _, B, _ = x.shape
    h_prev_all = torch.cat([fwd["h0"][None], fwd["h"][:-1]])          # h_{t−1}: [T, B, H]
    zeros = torch.zeros(B, p.hidden_size, dtype=x.dtype, device=x.device)
    res: Steps = {}
    # per step: the gradients of W_ih x + b_ih (d_gi) and of W_hh h + b_hh (d_gh), and what
    # reaches h_{−1} (dh0, and dc0 for the LSTM)
    if cell == "lstm":
        d_gi, d_gh, extra = _backward_lstm(p, fwd, dh_out, zeros if dc_last is None else dc_last, zeros,
                                           _keeper(res))
    elif cell == "gru":
        d_gi, d_gh, extra = _backward_gru(p, fwd, h_prev_all, dh_out, zeros, _keeper(res))
    else:
        d_gi, d_gh, extra = _backward_rnn(p, fwd, dh_out, zeros, _keeper(res))
    out = {k: torch.stack(v[::-1]) for k, v in res.items()}
    gi = torch.stack(d_gi[::-1])                                      # [T, B, nG·H]
    gh = torch.stack(d_gh[::-1])
    # shared weights: the gradient is the sum over the unrolled copies
    out["dx"] = gi @ p.w_ih
    out["dw_ih"] = torch.einsum("tbg,tbi->gi", gi, x)
    out["dw_hh"] = torch.einsum("tbg,tbh->gh", gh, h_prev_all)
    out["db_ih"] = gi.sum(dim=(0, 1))
    out["db_hh"] = gh.sum(dim=(0, 1))
    out.update(extra)
    return out


Grads = tuple[list[torch.Tensor], list[torch.Tensor], dict[str, torch.Tensor]]


def _backward_lstm(p: CellParams, fwd: dict[str, torch.Tensor], dh_out: torch.Tensor, dc_next: torch.Tensor,
                   dh_next: torch.Tensor, keep: Callable[..., None]) -> Grads:
    """dc_next starts as a direct ∂L/∂c_T; dh_next (the part of δh_t from step t+1) at zeros."""
    d_gi, d_gh = [], []
    for t in range(dh_out.shape[0] - 1, -1, -1):
        i, f, g, o = fwd["i"][t], fwd["f"][t], fwd["g"][t], fwd["o"][t]
        tc = fwd["tanh_c"][t]
        c_prev = fwd["c"][t - 1] if t > 0 else fwd["c0"]
        # δh_t = ∂L/∂h_t (direct) + W_hhᵀ δa_{t+1}
        dh = dh_out[t] + dh_next
        # δc_t = δh_t ⊙ o_t ⊙ (1 − tanh² c_t) + δc_{t+1} ⊙ f_{t+1}
        dc = dh * o * (1 - tc * tc) + dc_next
        # ∂L/∂o = δh ⊙ tanh c;  ∂L/∂i = δc ⊙ g;  ∂L/∂g = δc ⊙ i;  ∂L/∂f = δc ⊙ c_{t−1}
        d_o, d_i, d_g, d_f = dh * tc, dc * g, dc * i, dc * c_prev
        # through the non-linearities: σ' = σ(1 − σ), tanh' = 1 − tanh²
        da_i, da_f = d_i * i * (1 - i), d_f * f * (1 - f)
        da_g, da_o = d_g * (1 - g * g), d_o * o * (1 - o)
        da = torch.cat([da_i, da_f, da_g, da_o], dim=1)            # [B, 4H]
        d_gi.append(da)
        d_gh.append(da)
        dh_next = da @ p.w_hh
        dc_next = dc * f                       # the carousel: δc_{t−1} ∋ δc_t ⊙ f_t
        keep(dh=dh, dc=dc, d_i=d_i, d_f=d_f, d_g=d_g, d_o=d_o, da_i=da_i, da_f=da_f, da_g=da_g, da_o=da_o)
    return d_gi, d_gh, {"dh0": dh_next, "dc0": dc_next}


def _backward_gru(p: CellParams, fwd: dict[str, torch.Tensor], h_prev_all: torch.Tensor, dh_out: torch.Tensor,
                  dh_next: torch.Tensor, keep: Callable[..., None]) -> Grads:
    d_gi, d_gh = [], []
    for t in range(dh_out.shape[0] - 1, -1, -1):
        r, z, n, hn = fwd["r"][t], fwd["z"][t], fwd["n"][t], fwd["hn"][t]
        h_prev = h_prev_all[t]
        dh = dh_out[t] + dh_next
        # h_t = (1 − z) n + z h_{t−1}:  ∂/∂n = 1 − z, ∂/∂z = h_{t−1} − n, ∂/∂h_{t−1} = z
        d_n, d_z = dh * (1 - z), dh * (h_prev - n)
        da_n = d_n * (1 - n * n)
        # a_n = gi_n + r ⊙ hn:  ∂/∂r = hn, ∂/∂hn = r
        d_r, d_hn = da_n * hn, da_n * r
        da_r, da_z = d_r * r * (1 - r), d_z * z * (1 - z)
        d_gi.append(torch.cat([da_r, da_z, da_n], dim=1))
        gh = torch.cat([da_r, da_z, d_hn], dim=1)
        d_gh.append(gh)
        dh_next = dh * z + gh @ p.w_hh
        keep(dh=dh, d_r=d_r, d_z=d_z, d_n=d_n, da_r=da_r, da_z=da_z, da_n=da_n)
    return d_gi, d_gh, {"dh0": dh_next}


def _backward_rnn(p: CellParams, fwd: dict[str, torch.Tensor], dh_out: torch.Tensor, dh_next: torch.Tensor,
                  keep: Callable[..., None]) -> Grads:
    d_gi, d_gh = [], []
    for t in range(dh_out.shape[0] - 1, -1, -1):
        h = fwd["h"][t]
        dh = dh_out[t] + dh_next
        # h_t = tanh(a_t):  δa_t = δh_t ⊙ (1 − h_t²)
        da = dh * (1 - h * h)
        d_gi.append(da)
        d_gh.append(da)
        dh_next = da @ p.w_hh
        keep(dh=dh, da=da)
    return d_gi, d_gh, {"dh0": dh_next}


# =========================================================================== helpers


def largest_singular_values(p: CellParams) -> dict[str, float]:
    """λ₁ of each gate block of W_hh (the matrix the gradient is multiplied by at each step)."""
    H = p.hidden_size
    blocks = p.w_hh.detach().split(H, dim=0)
    return {name: float(torch.linalg.matrix_norm(b.double(), ord=2)) for name, b in zip(GATES[p.cell], blocks)}


def step_terms(cell: str, x: torch.Tensor, p: CellParams, fwd: dict[str, torch.Tensor], t: int,
               unit: int, b: int = 0) -> dict[str, Any]:
    """The numbers of one step's equations for one unit (for the on-screen worked equations).

    For every gate: the input part (W_ih x_t)_j, the recurrent part (W_hh h_{t−1})_j, the bias
    b_ih + b_hh and the pre-activation and value; plus the states. x: [T, B, I].
    """
    H = p.hidden_size
    h_prev = fwd["h"][t - 1, b] if t > 0 else fwd["h0"][b]
    wx = p.w_ih @ x[t, b]                                             # [nG·H]
    wh = p.w_hh @ h_prev
    bias = p.b_ih + p.b_hh
    terms: dict[str, Any] = {"t": t, "unit": unit, "h_prev": float(h_prev[unit]), "h": float(fwd["h"][t, b, unit])}
    for k, name in enumerate(GATES[cell]):
        j = k * H + unit
        terms[name] = {"wx": float(wx[j]), "wh": float(wh[j]), "bias": float(bias[j])}
    if cell == "lstm":
        c_prev = fwd["c"][t - 1, b] if t > 0 else fwd["c0"][b]
        terms["c_prev"] = float(c_prev[unit])
        terms["c"] = float(fwd["c"][t, b, unit])
        terms["tanh_c"] = float(fwd["tanh_c"][t, b, unit])
        for name in "ifgo":
            terms[name].update(a=float(fwd[f"a_{name}"][t, b, unit]), value=float(fwd[name][t, b, unit]))
    elif cell == "gru":
        for name in "rzn":
            terms[name].update(a=float(fwd[f"a_{name}"][t, b, unit]), value=float(fwd[name][t, b, unit]))
        # n's recurrent part is r ⊙ (W_hn h + b_hn), so its bias splits in two
        terms["n"]["hn"] = float(fwd["hn"][t, b, unit])
        terms["n"]["b_in"] = float(p.b_ih[2 * H + unit])
    else:
        terms["a"].update(a=float(fwd["a"][t, b, unit]), value=float(fwd["h"][t, b, unit]))
    return terms
