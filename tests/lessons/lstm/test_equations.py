"""The equations the page writes out (core.lessons.lstm.equations): every number shown is the
cell's own computation, to 1e-6, checked against torch.nn.LSTM / GRU / RNN in float64."""
import math
import re

import numpy as np
import pytest
import torch

from core.lessons.lstm import cells as rc
from core.lessons.lstm import equations as eq

torch.set_num_threads(1)
MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
TOL = 1e-6


def setup(cell: str, T: int = 9, I: int = 2, H: int = 5, seed: int = 0):
    torch.manual_seed(seed)
    m = MODULES[cell](I, H).double()
    with torch.no_grad():   # larger weights than the default init, so the gates leave ½
        for p in m.parameters():
            p.mul_(2.0)
    x = torch.randn(T, 1, I, dtype=torch.float64)
    p = rc.CellParams.from_module(cell, m)
    fwd = rc.forward(cell, x, p)
    return m, x, p, fwd


def torch_states(cell, m, x):
    """h_t (and c_t) of torch's module, step by step: [T, H] each."""
    hs, cs, state = [], [], None
    with torch.no_grad():
        for t in range(x.shape[0]):
            out, state = m(x[t:t + 1], state)
            if cell == "lstm":
                hs.append(state[0][0, 0])
                cs.append(state[1][0, 0])
            else:
                hs.append(state[0, 0])
    return torch.stack(hs), (torch.stack(cs) if cs else None)


@pytest.mark.parametrize("cell", rc.CELLS)
@pytest.mark.parametrize("t", [0, 4, 8])
@pytest.mark.parametrize("unit", [0, 3])
def test_every_row_recomputes_the_value_the_cell_computed(cell, t, unit):
    m, x, p, fwd = setup(cell)
    terms = rc.step_terms(cell, x, p, fwd, t, unit)
    rows = eq.equations(cell, terms)
    assert len(rows) == {"lstm": 6, "gru": 4, "rnn": 1}[cell]
    for row in rows:
        # the formula as written, evaluated on the numbers as substituted, gives the value shown
        assert abs(row.recompute() - row.value) < TOL, (row.lhs, row.recompute(), row.value)
    h_torch, c_torch = torch_states(cell, m, x)
    values = {r.lhs.split("_")[0]: r.value for r in rows}
    # the last row is h_t: torch's own hidden state
    assert abs(values["h"] - float(h_torch[t, unit])) < TOL
    if cell == "lstm":
        assert abs(values["c"] - float(c_torch[t, unit])) < TOL
        for name in "ifgo":
            assert abs(values[name] - float(fwd[name][t, 0, unit])) < TOL
    if cell == "gru":
        for name in "rzn":
            assert abs(values[name] - float(fwd[name][t, 0, unit])) < TOL


@pytest.mark.parametrize("cell", rc.CELLS)
def test_the_sums_shown_are_the_pre_activations(cell):
    """W_x x_t + W_h h_{t−1} + b, as written, is the gate's pre-activation a (to 1e-6)."""
    m, x, p, fwd = setup(cell, seed=1)
    t, unit = 5, 2
    terms = rc.step_terms(cell, x, p, fwd, t, unit)
    H = p.hidden_size
    # a = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh, straight from the weights
    a_all = p.w_ih @ x[t, 0] + p.b_ih + p.w_hh @ fwd["h"][t - 1, 0] + p.b_hh
    for k, name in enumerate(rc.GATES[cell]):
        if cell == "gru" and name == "n":
            continue                      # n's recurrent part is gated by r (its own row)
        q = terms[name]
        assert abs(q["wx"] + q["wh"] + q["bias"] - float(a_all[k * H + unit])) < TOL


@pytest.mark.parametrize("cell", rc.CELLS)
def test_the_latex_shows_the_numbers_rounded_from_the_rows(cell):
    _, x, p, fwd = setup(cell, seed=2)
    terms = rc.step_terms(cell, x, p, fwd, 3, 1)
    text = eq.latex(cell, terms)
    assert text.startswith(r"\begin{aligned}") and r"(\text{unit } j=1)" in text
    for row in eq.equations(cell, terms):
        line = row.latex()
        assert line in text
        assert rf"\mathbf{{{eq.num(row.value)}}}" in line              # the result, in bold
        for v in row.args:
            assert eq.num(abs(v)) in line                              # every number substituted
    shown = [float(s) for s in re.findall(r"-?\d+\.\d{3}", text)]
    assert shown and all(math.isfinite(v) for v in shown)


def test_result_metrics():
    bit = eq.result_metrics({"classification": True, "target": np.array([1.0]), "pred": np.array([2.0])})
    assert bit[0][:2] == ("Target (last step)", "1")
    assert bit[1][0] == "Network's P(1)" and bit[1][1] == f"{1 / (1 + math.exp(-2.0)):.3f}"
    assert "right" in bit[1][2]
    wrong = eq.result_metrics({"classification": True, "target": np.array([0.0]), "pred": np.array([2.0])})
    assert "wrong" in wrong[1][2]
    add = eq.result_metrics({"classification": False, "target": np.array([0.75]), "pred": np.array([0.7])})
    assert add[0][:2] == ("Target sum", "0.750") and add[1][:2] == ("Network's answer", "0.700")
