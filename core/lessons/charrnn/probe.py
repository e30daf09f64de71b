"""Karpathy's interpretable cells, found live: simple features of the text at every position, and
the hidden units whose activation correlates most with each (Pearson r over a held-out slice).

Runs on a bounded slice (``data.EVAL_CHARS`` characters) on Pause or every few hundred steps,
never every frame.
"""
from __future__ import annotations

import numpy as np

VOWELS = set("aeiouyAEIOUY")
OPEN, CLOSE = "([{", ")]}"
FEATURES = {
    "inside quotes": "between an opening \" and its closing \"",
    "inside brackets": "inside ( ), [ ] or { }, any depth",
    "position in line": "characters since the last new line",
    "position in word": "letters since the last non-letter",
    "vowel": "the character just read is a vowel",
    "capital letter": "the character just read is upper case",
}


def features(text: str) -> dict[str, np.ndarray]:
    """Each feature's value after reading each character of ``text``: name -> [len(text)]."""
    n = len(text)
    out = {k: np.zeros(n) for k in FEATURES}
    quote, depth, line, word = False, 0, 0, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        depth = depth + 1 if ch in OPEN else max(0, depth - 1) if ch in CLOSE else depth
        line = 0 if ch == "\n" else line + 1
        word = word + 1 if ch.isalpha() else 0
        out["inside quotes"][i] = quote
        out["inside brackets"][i] = depth > 0
        out["position in line"][i] = line
        out["position in word"][i] = word
        out["vowel"][i] = ch in VOWELS
        out["capital letter"][i] = ch.isupper()
    return out


def correlations(acts: np.ndarray, feats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pearson r of every unit with every feature. acts: [N, H]; feats[name]: [N] -> name -> [H]
    (features constant on the slice are left out: r is undefined)."""
    a = acts - acts.mean(0)
    a_norm = np.sqrt((a * a).sum(0))
    out = {}
    for name, f in feats.items():
        f = f - f.mean()
        f_norm = float(np.sqrt(f @ f))
        if f_norm < 1e-9:
            continue
        # r_u = Σ (a_u − ā_u)(f − f̄) / (‖a_u − ā_u‖ ‖f − f̄‖)
        out[name] = (a.T @ f) / np.maximum(a_norm * f_norm, 1e-12)
    return out


def top_units(r: dict[str, np.ndarray], k: int = 3) -> list[dict]:
    """Rows for the table: per feature the k units with the largest |r|."""
    rows = []
    for name, col in r.items():
        best = np.argsort(-np.abs(col))[:k]
        rows.append({"feature": name, "units": [int(u) for u in best], "r": [float(col[u]) for u in best]})
    return rows
