"""From one batched generation to what a frame draws: plain, bounded numpy and strings."""
from __future__ import annotations

from typing import Any

import numpy as np

from core.lessons.charrnn.data import Corpus
from core.lessons.charrnn.sampling import TOP, Samples

HEAT_POSITIONS = 48     # positions of the inspected sample in the distribution heatmap
DEMO_CHARS = 8          # characters in the temperature table


def softmax_t(z: np.ndarray, T: float) -> np.ndarray:
    """p_i = exp(z_i / T) / Σ_j exp(z_j / T) (float64, shifted by max z for stability). z: [V]."""
    a = z.astype(np.float64) / T
    e = np.exp(a - a.max())
    return e / e.sum()


def frame(c: Corpus, s: Samples, temps: list[float], cfg: Any, unit: int, lstm: bool) -> dict[str, Any]:
    """samples [(T, text)], heat (chars [P], cand [P, TOP], prob [P, TOP]), the temperature
    table at one position, and the inspected text with the unit's activation per character."""
    inspected = c.decode(s.ids[list(temps).index(cfg.inspect_t) if cfg.inspect_t in temps else -1])
    P = min(HEAT_POSITIONS, len(inspected))
    order = np.argsort(-s.probs[:P], axis=1)[:, :TOP]                           # [P, TOP]
    pos = min(int(cfg.position), len(inspected) - 1)
    z = s.logits[pos].astype(np.float64)
    top = np.argsort(-z)[:DEMO_CHARS]
    act = s.shown[:, unit].astype(np.float64)
    return {
        "samples": [(float(T), c.decode(r)) for T, r in zip(temps, s.ids)],
        "inspected": inspected, "inspect_t": float(cfg.inspect_t),
        "heat_chars": list(inspected[:P]),
        "heat_cand": [[c.vocab[j] for j in row] for row in order],
        "heat_prob": np.take_along_axis(s.probs[:P], order, axis=1).astype(np.float64),
        "position": pos, "demo_chars": [c.vocab[j] for j in top], "demo_logits": z[top],
        "demo_probs": {float(T): softmax_t(z, T)[top] for T in temps},
        "demo_drawn": inspected[pos],
        "acts": np.tanh(act) if lstm else act,
    }


def detail_view(d: dict[str, Any] | None, unit: int) -> dict[str, Any] | None:
    """The cell search's table and its excerpt coloured by ``unit`` (None before the first)."""
    if d is None:
        return None
    out = {k: v for k, v in d.items() if k != "excerpt_acts"}
    acts = d["excerpt_acts"]
    out["excerpt_unit"] = acts[:, min(unit, acts.shape[1] - 1)].astype(np.float64)
    return out
