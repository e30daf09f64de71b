"""The baseline the network has to beat: character n-gram models (n = 1…5) with add-k smoothing,
counted once per text on its training part and then read-only (shared by every session).

    P(c | context) = (count(context, c) + k) / (count(context) + k·V)

where the context is the n − 1 preceding characters; it sums to 1 over the V characters for any
context, seen or not. Held-out bits per character are measured on exactly the positions the
network is measured on (``Corpus.eval_positions``) with the same formula (``bits_per_char``).

The smoothing k is tuned, not guessed: ``tuned`` searches ``K_GRID`` for the k that gives each
text's lowest held-out bits/char (the strongest add-k baseline, fitted on the very positions the
network is scored on, so if anything flattering the n-gram). The page's default k = 0.03 is that
search's answer on the shipped texts, to within 0.01 bits/char (tests/lessons/charrnn/test_maths.py).
"""
from __future__ import annotations

import math
import threading

import numpy as np

from core.lessons.charrnn.data import Corpus

ORDERS = (1, 2, 3, 4, 5)
K_GRID = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0)


def bits_per_char(log_probs: np.ndarray) -> float:
    """Mean −log₂ p over predictions, from natural-log probabilities [n] (one formula for all models)."""
    return float(-np.mean(log_probs) / math.log(2.0))


class NGram:
    """Count tables of one text for n = 1…5. Shapes: ids [N] ints < V."""

    def __init__(self, ids: np.ndarray, V: int) -> None:
        self.V = V
        ids = np.asarray(ids, dtype=np.int64)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for n in ORDERS:
            ctx = self._context_codes(ids, np.arange(n - 1, len(ids)), n)
            joint = ctx * V + ids[n - 1:]
            jk, jc = np.unique(joint, return_counts=True)
            ck, cc = np.unique(ctx, return_counts=True)
            self._tables[n] = (jk, jc, ck, cc)
        self._heldout: dict[float, dict[int, float]] = {}
        self._lock = threading.Lock()

    def _context_codes(self, ids: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
        """The n − 1 characters before each position as one integer (base V): [len(positions)]."""
        code = np.zeros(len(positions), dtype=np.int64)
        for j in range(n - 1, 0, -1):
            code = code * self.V + ids[positions - j]
        return code

    @staticmethod
    def _lookup(keys: np.ndarray, counts: np.ndarray, q: np.ndarray) -> np.ndarray:
        i = np.searchsorted(keys, q)
        i = np.minimum(i, len(keys) - 1)
        return np.where(keys[i] == q, counts[i], 0).astype(np.float64)

    def log_probs(self, ids: np.ndarray, positions: np.ndarray, n: int, k: float) -> np.ndarray:
        """ln P(ids[p] | the n − 1 characters before p) for each p (p ≥ n − 1): [len(positions)]."""
        jk, jc, ck, cc = self._tables[n]
        ids = np.asarray(ids, dtype=np.int64)
        ctx = self._context_codes(ids, positions, n)
        joint = self._lookup(jk, jc, ctx * self.V + ids[positions])
        total = self._lookup(ck, cc, ctx)
        return np.log((joint + k) / (total + k * self.V))

    def distribution(self, context: np.ndarray, n: int, k: float) -> np.ndarray:
        """P(· | context) over all V characters: [V]; the last n − 1 ids of ``context`` count."""
        jk, jc, ck, cc = self._tables[n]
        ctx = 0
        for c in np.asarray(context, dtype=np.int64)[len(context) - (n - 1):] if n > 1 else ():
            ctx = ctx * self.V + int(c)
        joint = self._lookup(jk, jc, ctx * self.V + np.arange(self.V))
        total = self._lookup(ck, cc, np.array([ctx]))
        return (joint + k) / (total + k * self.V)

    def heldout_bits(self, corpus: Corpus, k: float) -> dict[int, float]:
        """Held-out bits/char for n = 1…5 at smoothing k (cached: computed once per k)."""
        with self._lock:
            if k not in self._heldout:
                pos = corpus.eval_positions()
                self._heldout[k] = {n: bits_per_char(self.log_probs(corpus.ids, pos, n, k)) for n in ORDERS}
            return self._heldout[k]

    def tuned(self, corpus: Corpus) -> tuple[float, int, float]:
        """The best add-k n-gram on the held-out text: (bits/char, n, k) minimised over n and
        ``K_GRID``: the line the network has to get below."""
        return min((bits, n, k) for k in K_GRID for n, bits in self.heldout_bits(corpus, k).items())

    def text_bits(self, corpus: Corpus, texts: list[str], n: int, k: float) -> float:
        """Mean bits/char of short texts (sampled names) laid out as the corpus is, one per line,
        every position after the first n − 1 scored: how plausible they look to the n-gram."""
        ids, _ = corpus.encode("\n".join(texts) + "\n")
        if len(ids) < n:
            return float("nan")
        return bits_per_char(self.log_probs(ids, np.arange(n - 1, len(ids)), n, k))


_CACHE: dict[str, NGram] = {}
_CACHE_LOCK = threading.Lock()


def for_corpus(corpus: Corpus) -> NGram:
    """The corpus's n-gram tables, counted on its training part once per server (read-only)."""
    with _CACHE_LOCK:
        ng = _CACHE.get(corpus.digest)
        if ng is None:
            if len(_CACHE) >= 8:                      # uploads come and go: keep the cache bounded
                _CACHE.pop(next(iter(_CACHE)))
            ng = _CACHE[corpus.digest] = NGram(corpus.ids[: corpus.split], corpus.V)
        return ng
