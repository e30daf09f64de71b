"""The context vector of one output step, with the model's own numbers, for the page's equation.

``context_step`` replays the attention model on an input and its output and returns, for output
step t, the query, the states h_j, the scores e_{t,j}, the weights α_{t,j} and the context c_t
exactly as the model computed them. tests/lessons/seq2seq checks these numbers against a torch
reference (``F.scaled_dot_product_attention`` for dot, the formula written out for additive) to
1e-6, and that the weights sum to 1. ``latex`` writes the equations with the numbers filled in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.lessons.seq2seq.data import START, encode
from core.lessons.seq2seq.model import Seq2Seq

TOP = 3            # terms written out in the sum; the rest are "…"
COMPONENTS = 3     # components of c_t written out


@dataclass
class ContextStep:
    t: int                  # output step, 1-based
    chars: str              # the input characters (position j = index + 1)
    query: np.ndarray       # [H] s_{t−1} (additive) or s_t (dot)
    enc: np.ndarray         # [S, H] the encoder states h_j
    scores: np.ndarray      # [S] e_{t,j}
    alpha: np.ndarray       # [S] α_{t,j}
    context: np.ndarray     # [H] c_t
    attention: str


@torch.no_grad()
def context_step(model: Seq2Seq, text: str, out_ids: list[int], t: int) -> ContextStep:
    """Step t (1 … len(out_ids)) of decoding ``text`` with previous outputs ``out_ids`` fed back."""
    dev = next(model.parameters()).device
    e = model.encode(encode([text], len(text)).to(dev), torch.tensor([len(text)], device=dev))
    s, y = e.last, torch.tensor([START], device=dev)
    for k in range(t):
        query = s                                   # s_{t−1}: the additive model's query
        logits, s, _ = model.step(y, s, e)
        y = torch.tensor([out_ids[k]], device=dev)
    if model.attention == "dot":
        query = s                                   # s_t: the dot model's query
    scores = model.scores(query, e)
    alpha = torch.softmax(scores, -1)
    context = torch.bmm(alpha.unsqueeze(1), e.enc).squeeze(1)
    f = lambda x: x[0].double().cpu().numpy()  # noqa: E731
    return ContextStep(t, text, f(query), f(e.enc), f(scores), f(alpha), f(context), model.attention or "")


def _n(v: float) -> str:
    return f"{v:.3f}".replace("-", "−")


def _char(c: str) -> str:
    return r"\text{␣}" if c == " " else r"\text{" + {",": ",", ".": ".", "/": "/", "-": "-"}.get(c, c) + "}"


def latex(c: ContextStep) -> list[str]:
    """Three LaTeX lines: the score, the weights (top terms), the context's first components."""
    order = np.argsort(-c.alpha)[:TOP]
    more = r" + \dots" if len(c.alpha) > TOP else ""
    t = c.t
    score = (r"e_{%d,j} = \mathbf{v}^\top\tanh(W_s\,\mathbf{s}_{%d} + W_h\,\mathbf{h}_j)" % (t, t - 1)
             if c.attention == "additive" else r"e_{%d,j} = \mathbf{s}_{%d}^\top\,\mathbf{h}_j" % (t, t))
    score += r"\quad:\quad " + ",\\; ".join(
        r"e_{%d,%d}\,(%s) = %s" % (t, j + 1, _char(c.chars[j]), _n(c.scores[j])) for j in order) + more
    weights = (r"\alpha_{%d,j} = \frac{e^{e_{%d,j}}}{\sum_{k=1}^{%d} e^{e_{%d,k}}}\quad:\quad " % (t, t, len(c.alpha), t)
               + ",\\; ".join(r"\alpha_{%d,%d} = %s" % (t, j + 1, _n(c.alpha[j])) for j in order)
               + (r",\; \dots" if more else "") + r"\quad(\textstyle\sum_j \alpha_{%d,j} = %s)" % (t, _n(c.alpha.sum())))
    lines = [score, weights]
    for i in range(min(COMPONENTS, len(c.context))):
        terms = " + ".join(r"%s\cdot(%s)" % (_n(c.alpha[j]), _n(c.enc[j, i])) for j in order)
        lines.append(r"c_{%d}[%d] = \sum_j \alpha_{%d,j}\,h_j[%d] = %s%s = \mathbf{%s}"
                     % (t, i + 1, t, i + 1, terms, more, _n(c.context[i])))
    return lines
