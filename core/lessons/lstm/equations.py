"""One step's equations for one unit, with that step's numbers, and the key result as metrics.

``equations(cell, terms)`` turns the numbers of ``cells.step_terms`` into ``Equation`` rows: the
symbolic formula, the numbers substituted into it and the value the cell computed. Each row can
recompute its value from the numbers it shows (``Equation.recompute``), which is how
tests/lessons/lstm/test_equations.py checks that what the page writes is what the cell computed
(to 1e-6, against torch.nn.LSTM / GRU / RNN). ``latex(rows)`` is what the page draws.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

DIGITS = 3


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


# kind -> how the value follows from the numbers shown (in the order they are shown)
RECOMPUTE: dict[str, Callable[..., float]] = {
    # gate = σ(W_x x_t + W_h h_{t−1} + b)
    "sigmoid": lambda wx, wh, b: _sigmoid(wx + wh + b),
    # candidate / RNN state = tanh(W_x x_t + W_h h_{t−1} + b)
    "tanh": lambda wx, wh, b: math.tanh(wx + wh + b),
    # c_t = f ⊙ c_{t−1} + i ⊙ g
    "lstm_c": lambda f, c_prev, i, g: f * c_prev + i * g,
    # h_t = o ⊙ tanh c_t
    "lstm_h": lambda o, c: o * math.tanh(c),
    # n_t = tanh(W_nx x_t + b_in + r ⊙ (W_nh h_{t−1} + b_hn))
    "gru_n": lambda wx, b_in, r, hn: math.tanh(wx + b_in + r * hn),
    # h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
    "gru_h": lambda z, n, h_prev: (1 - z) * n + z * h_prev,
}


def num(v: float) -> str:
    """A number as the equations show it (3 decimals)."""
    return f"{v:.{DIGITS}f}"


def _signed(v: float) -> str:
    """' + 0.123' or ' - 0.123' (for sums written out)."""
    return f" {'+' if v >= 0 else '-'} {num(abs(v))}"


@dataclass(frozen=True)
class Equation:
    """One line: ``lhs = symbolic = substituted = **value**``."""

    lhs: str                     # LaTeX, e.g. "i_{4}"
    symbolic: str                # LaTeX of the formula
    kind: str                    # a key of RECOMPUTE
    args: tuple[float, ...]      # the numbers substituted, in RECOMPUTE's order
    value: float                 # what the cell computed

    def recompute(self) -> float:
        return RECOMPUTE[self.kind](*self.args)

    def substituted(self) -> str:
        a = self.args
        if self.kind in ("sigmoid", "tanh"):
            act = r"\sigma" if self.kind == "sigmoid" else r"\tanh"
            return rf"{act}({num(a[0])}{_signed(a[1])}{_signed(a[2])}) = {act}({num(a[0] + a[1] + a[2])})"
        if self.kind == "lstm_c":
            return rf"{num(a[0])}\cdot({num(a[1])}) + {num(a[2])}\cdot({num(a[3])})"
        if self.kind == "lstm_h":
            return rf"{num(a[0])}\cdot\tanh({num(a[1])})"
        if self.kind == "gru_n":
            return rf"\tanh({num(a[0])}{_signed(a[1])} + {num(a[2])}\cdot({num(a[3])}))"
        return rf"(1-{num(a[0])})\cdot({num(a[1])}) + {num(a[0])}\cdot({num(a[2])})"

    def latex(self) -> str:
        return rf"{self.lhs} &= {self.symbolic} = {self.substituted()} = \mathbf{{{num(self.value)}}}"


def _gate(name: str, t: int, q: dict[str, float], kind: str, act: str) -> Equation:
    return Equation(f"{name}_{{{t}}}", rf"{act}(W_{{{name}x}}x_t + W_{{{name}h}}h_{{t-1}} + b_{name})", kind,
                    (q["wx"], q["wh"], q["bias"]), q["value"])


def equations(cell: str, s: dict[str, Any]) -> list[Equation]:
    """The step's equations for one unit. s: ``cells.step_terms(...)`` (t, unit, per-gate numbers)."""
    t = s["t"]
    if cell == "lstm":
        rows = [_gate(n, t, s[n], k, act) for n, k, act in (("i", "sigmoid", r"\sigma"), ("f", "sigmoid", r"\sigma"),
                                                             ("g", "tanh", r"\tanh"), ("o", "sigmoid", r"\sigma"))]
        rows.append(Equation(f"c_{{{t}}}", r"f \odot c_{t-1} + i \odot g", "lstm_c",
                             (s["f"]["value"], s["c_prev"], s["i"]["value"], s["g"]["value"]), s["c"]))
        rows.append(Equation(f"h_{{{t}}}", r"o \odot \tanh c_t", "lstm_h", (s["o"]["value"], s["c"]), s["h"]))
        return rows
    if cell == "gru":
        rows = [_gate(n, t, s[n], "sigmoid", r"\sigma") for n in ("r", "z")]
        q = s["n"]
        rows.append(Equation(f"n_{{{t}}}", r"\tanh(W_{nx}x_t + b_{in} + r\odot(W_{nh}h_{t-1} + b_{hn}))", "gru_n",
                             (q["wx"], q["b_in"], s["r"]["value"], q["hn"]), q["value"]))
        rows.append(Equation(f"h_{{{t}}}", r"(1-z)\odot n + z\odot h_{t-1}", "gru_h",
                             (s["z"]["value"], q["value"], s["h_prev"]), s["h"]))
        return rows
    q = s["a"]
    return [Equation(f"h_{{{t}}}", r"\tanh(W_{hx}x_t + W_{hh}h_{t-1} + b)", "tanh", (q["wx"], q["wh"], q["bias"]),
                     s["h"])]


def latex(cell: str, s: dict[str, Any]) -> str:
    """The step's equations as one aligned LaTeX block, tagged with the unit."""
    lines = [e.latex() for e in equations(cell, s)]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}" + rf"\quad(\text{{unit }} j={s['unit']})"


def result_metrics(detail: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The key result for the inspected sequence, as (label, value, help) metrics.

    Bit tasks: the target at the last step and the network's P(1) = σ(ŷ); adding: the target sum
    and the network's answer. detail: ``viewer.inspect(...)``.
    """
    tgt, pred = float(detail["target"][-1]), float(detail["pred"][-1])
    if detail["classification"]:
        p = _sigmoid(pred)
        right = (p > 0.5) == (tgt > 0.5)
        return [("Target (last step)", f"{int(tgt)}", "What the task asks for at the last step."),
                ("Network's P(1)", f"{p:.3f}",
                 f"σ(ŷ) at the last step: {'right' if right else 'wrong'} (a P(1) above 0.5 means 1).")]
    return [("Target sum", f"{tgt:.3f}", "The sum of the two marked values."),
            ("Network's answer", f"{pred:.3f}", "Counted right when within 0.1 of the sum.")]
