"""The explicit LSTM / GRU / RNN cells (core.lessons.lstm.cells) against torch.nn and autograd, float64.

Every hidden state, every cell state, every per-step gradient δh_t, δc_t, every gate gradient,
and the weight / input / initial-state gradients must match to 1e-6.
"""
import pytest
import torch

from core.lessons.lstm import cells as rc

torch.set_num_threads(1)
DT = torch.float64
TOL = dict(rtol=1e-6, atol=1e-8)
MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
CASES = [(1, 1, 1, 1), (3, 5, 2, 4), (2, 8, 4, 12), (1, 16, 3, 30)]   # I, H, B, T


def make(cell, I, H, seed):
    torch.manual_seed(seed)
    m = MODULES[cell](I, H).to(DT)
    with torch.no_grad():   # larger weights than the default init, so the gates leave ½
        for prm in m.parameters():
            prm.mul_(2.0)
    return m, rc.CellParams.from_module(cell, m)


def close(a, b, what):
    assert a.shape == b.shape, what
    assert torch.allclose(a, b, **TOL), f"{what}: max diff {(a - b).abs().max().item():.3g}"


def step_by_step(cell, m, x, h0, c0):
    """Run the torch module one step at a time, keeping every state with retain_grad."""
    hs, cs = [], []
    h, c = h0[None], c0[None] if c0 is not None else None
    for t in range(x.shape[0]):
        if cell == "lstm":
            _, (h, c) = m(x[t:t + 1], (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            _, h = m(x[t:t + 1], h)
        h.retain_grad()
        hs.append(h)
    return hs, cs


@pytest.mark.parametrize("cell", rc.CELLS)
@pytest.mark.parametrize("I,H,B,T", CASES)
@pytest.mark.parametrize("last_only", [False, True])
def test_forward_and_bptt_match_torch(cell, I, H, B, T, last_only):
    m, p = make(cell, I, H, seed=I * 100 + H * 10 + T)
    g = torch.Generator().manual_seed(T)
    x = torch.randn(T, B, I, generator=g, dtype=DT, requires_grad=True)
    h0 = (0.5 * torch.randn(B, H, generator=g, dtype=DT)).requires_grad_()
    c0 = (0.5 * torch.randn(B, H, generator=g, dtype=DT)).requires_grad_() if cell == "lstm" else None
    R = torch.randn(T, B, H, generator=g, dtype=DT)       # L = Σ_t <R_t, h_t>
    if last_only:
        R[:-1] = 0                                        # the loss at the last step only

    # ---- explicit code
    fwd = rc.forward(cell, x.detach(), p, h0.detach(), None if c0 is None else c0.detach())
    bwd = rc.backward(cell, x.detach(), p, fwd, R)

    # ---- torch, whole sequence: states and parameter / input gradients
    out, state = m(x, (h0[None], c0[None]) if cell == "lstm" else h0[None])
    close(fwd["h"], out.detach(), "h_t")
    (out * R).sum().backward()
    close(bwd["dx"], x.grad, "∂L/∂x")
    close(bwd["dh0"], h0.grad, "∂L/∂h0")
    if cell == "lstm":
        close(fwd["c"][-1], state[1][0].detach(), "c_T")
        close(bwd["dc0"], c0.grad, "∂L/∂c0")
    for name, mine in (("weight_ih", "dw_ih"), ("weight_hh", "dw_hh"), ("bias_ih", "db_ih"), ("bias_hh", "db_hh")):
        close(bwd[mine], getattr(m, f"{name}_l0").grad, f"∂L/∂{name}")

    # ---- torch, one step at a time: every state and its total gradient δh_t, δc_t
    hs, cs = step_by_step(cell, m, x.detach(), h0.detach(), None if c0 is None else c0.detach())
    sum((h[0] * R[t]).sum() for t, h in enumerate(hs)).backward()
    for t in range(T):
        close(fwd["h"][t], hs[t][0].detach(), f"h_{t}")
        close(bwd["dh"][t], hs[t].grad[0], f"δh_{t}")
        if cell == "lstm":
            close(fwd["c"][t], cs[t][0].detach(), f"c_{t}")
            # torch's fused cell returns c_t and h_t as separate outputs, so c_t.grad holds the
            # gradient through the future only: δc_{t+1} ⊙ f_{t+1} (the total δc_t is checked
            # against the op-by-op autograd reference below)
            if t < T - 1:
                close(bwd["dc"][t + 1] * fwd["f"][t + 1], cs[t].grad[0], f"δc_{t + 1}⊙f_{t + 1}")


def autograd_gates(cell, p, x, h0, c0, R):
    """An autograd reference written with torch ops, retaining every gate's gradient."""
    H = p.hidden_size
    p = rc.CellParams(cell, *(w.clone().requires_grad_() for w in (p.w_ih, p.w_hh, p.b_ih, p.b_hh)))
    h, c = h0, c0
    kept = {}
    hs = []
    for t in range(x.shape[0]):
        gi = x[t] @ p.w_ih.T + p.b_ih
        gh = h @ p.w_hh.T + p.b_hh
        if cell == "lstm":
            a = gi + gh
            parts = dict(zip(("a_i", "a_f", "a_g", "a_o"), [v.clone() for v in a.split(H, 1)]))
            vals = {"i": torch.sigmoid(parts["a_i"]), "f": torch.sigmoid(parts["a_f"]),
                    "g": torch.tanh(parts["a_g"]), "o": torch.sigmoid(parts["a_o"])}
            c = vals["f"] * c + vals["i"] * vals["g"]
            vals["c"] = c
            h = vals["o"] * torch.tanh(c)
        elif cell == "gru":
            ir, iz, i_n = gi.split(H, 1)
            hr, hz, h_n = gh.split(H, 1)
            parts = {"a_r": (ir + hr).clone(), "a_z": (iz + hz).clone()}
            vals = {"r": torch.sigmoid(parts["a_r"]), "z": torch.sigmoid(parts["a_z"])}
            parts["a_n"] = i_n + vals["r"] * h_n
            vals["n"] = torch.tanh(parts["a_n"])
            h = (1 - vals["z"]) * vals["n"] + vals["z"] * h
        else:
            parts = {"a": (gi + gh).clone()}
            vals = {}
            h = torch.tanh(parts["a"])
        for k, v in {**parts, **vals}.items():
            v.retain_grad()
            kept.setdefault(k, []).append(v)
        hs.append(h)
    (torch.stack(hs) * R).sum().backward()
    return kept, torch.stack(hs)


@pytest.mark.parametrize("cell", rc.CELLS)
@pytest.mark.parametrize("I,H,B,T", CASES[1:])
def test_gate_gradients_match_autograd(cell, I, H, B, T):
    m, p = make(cell, I, H, seed=7 + T)
    g = torch.Generator().manual_seed(3 * T)
    x = torch.randn(T, B, I, generator=g, dtype=DT)
    h0 = 0.5 * torch.randn(B, H, generator=g, dtype=DT)
    c0 = 0.5 * torch.randn(B, H, generator=g, dtype=DT) if cell == "lstm" else None
    R = torch.randn(T, B, H, generator=g, dtype=DT)
    kept, hs = autograd_gates(cell, p, x, h0, c0, R)
    fwd = rc.forward(cell, x, p, h0, c0)
    bwd = rc.backward(cell, x, p, fwd, R)
    close(fwd["h"], hs.detach(), "h")
    checked = set(kept)
    assert checked >= {"lstm": {"a_i", "a_f", "a_g", "a_o", "i", "f", "g", "o", "c"},
                       "gru": {"a_r", "a_z", "a_n", "r", "z", "n"}, "rnn": {"a"}}[cell]
    for name, vals in kept.items():
        close(fwd[name], torch.stack(vals).detach(), name)
        grad = torch.stack([v.grad for v in vals])
        key = "dc" if name == "c" else ("d" + name) if name.startswith("a") else f"d_{name}"
        close(bwd[key], grad, f"∂L/∂{name}")


def test_weights_round_trip_and_step_terms():
    m, p = make("lstm", 2, 4, seed=1)
    m2 = torch.nn.LSTM(2, 4).to(DT)
    p.copy_into(m2)
    for a, b in zip(m.parameters(), m2.parameters()):
        assert torch.equal(a, b)
    x = torch.randn(6, 1, 2, dtype=DT)
    fwd = rc.forward("lstm", x, p)
    t, u = 3, 2
    s = rc.step_terms("lstm", x, p, fwd, t, u)
    for name in "ifgo":
        assert abs(s[name]["wx"] + s[name]["wh"] + s[name]["bias"] - s[name]["a"]) < 1e-9
    # c_t = f c_{t−1} + i g and h_t = o tanh c_t with the numbers shown on screen
    assert abs(s["f"]["value"] * s["c_prev"] + s["i"]["value"] * s["g"]["value"] - s["c"]) < 1e-12
    assert abs(s["o"]["value"] * torch.tanh(torch.tensor(s["c"], dtype=DT)).item() - s["h"]) < 1e-12
    for cell in ("gru", "rnn"):
        m, p = make(cell, 2, 3, seed=2)
        fwd = rc.forward(cell, x, p)
        s = rc.step_terms(cell, x, p, fwd, 5, 1)
        if cell == "gru":
            z, n = s["z"]["value"], s["n"]["value"]
            assert abs((1 - z) * n + z * s["h_prev"] - s["h"]) < 1e-12
        else:
            assert abs(s["a"]["wx"] + s["a"]["wh"] + s["a"]["bias"] - s["a"]["a"]) < 1e-12
    sv = rc.largest_singular_values(p)
    assert set(sv) == {"a"} and abs(sv["a"] - torch.linalg.matrix_norm(p.w_hh, 2).item()) < 1e-12


def test_bad_input_is_a_readable_error():
    _, p = make("rnn", 1, 2, seed=0)
    with pytest.raises(ValueError, match="cell type"):
        rc.forward("transformer", torch.zeros(3, 1, 1, dtype=DT), p)
    with pytest.raises(ValueError, match=r"\[T, B, I\]"):
        rc.forward("rnn", torch.zeros(3, 1, dtype=DT), p)
