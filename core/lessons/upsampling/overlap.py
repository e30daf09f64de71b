"""The 1D overlap picture behind checkerboards: how many paths lead from the inputs to each output
of stacked 1D transposed convolutions, whether that count is even away from the edges, and the
sentence the page says about it. No Streamlit, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.lessons.upsampling.grids import UpsamplingError

# The overlap view's ranges.
OV_KERNEL_RANGE = (1, 7)
OV_STRIDE_RANGE = (1, 4)
OV_LAYERS_RANGE = (1, 4)


def overlap_1d(k: int, s: int, layers: int = 1, n_in: int = 8) -> list[np.ndarray]:
    """How many paths lead from the inputs to each output of ``layers`` stacked 1D transposed
    convolutions (kernel k of ones, stride s, no padding): the overlap pattern behind checkerboards.

    One layer: count[o] = #{(i, a): i·s + a = o}, i input position, a ∈ 0..k−1 a tap.
    Stacked: the same scatter applied to the previous layer's counts. Returns one array per layer.
    """
    k, s, layers, n_in = int(k), int(s), int(layers), int(n_in)
    if k < 1 or s < 1 or layers < 1 or n_in < 1:
        raise UpsamplingError("kernel size, stride, number of layers and input length must be at least 1")
    counts = np.ones(n_in)
    out = []
    for _ in range(layers):
        n = counts.shape[0]
        nxt = np.zeros((n - 1) * s + k)
        for a in range(k):
            nxt[a:a + (n - 1) * s + 1:s] += counts
        out.append(nxt)
        counts = nxt
    return out


def interior(counts: np.ndarray, k: int, s: int, layers: int) -> np.ndarray:
    """The part of the last layer's counts away from both ends (edges have fewer paths anyway).

    After layer l the edge effect reaches m_l = m_{l−1}·s + k positions in from each end.
    """
    m = 0
    for _ in range(int(layers)):
        m = m * s + k
    return counts[m:len(counts) - m]


def overlap_is_even(k: int, s: int, layers: int = 1, n_in: int = 12) -> bool:
    """True when every interior output pixel receives the same number of paths.

    For one layer this is exactly ``k % s == 0``; stacking layers keeps it even iff each is even.
    """
    n = max(n_in, 4 * k)
    c = interior(overlap_1d(k, s, layers, n)[-1], k, s, layers)
    return bool(len(c) == 0 or np.ptp(c) == 0)


@dataclass
class OverlapVerdict:
    """What the overlap view shows: the counts per layer and a sentence about the interior."""

    counts: list[np.ndarray]     # counts[l]: [n_l] paths to each output after layer l + 1
    even: bool
    levels: list[int]            # the distinct interior counts (a longer input, so edges don't hide them)
    text: str                    # markdown


def overlap_verdict(k: int, s: int, layers: int) -> OverlapVerdict:
    """The overlap view for kernel k, stride s and ``layers`` stacked layers (8 inputs, 4 from 3
    layers on, so the bars stay readable)."""
    counts = overlap_1d(k, s, layers, n_in=8 if layers < 3 else 4)
    even = overlap_is_even(k, s, layers)
    inner = interior(overlap_1d(k, s, layers, 12)[-1], k, s, layers)
    levels = sorted(set(inner.astype(int).tolist()))
    if even:
        verdict = (f"**even**: {k} is divisible by {s}, so away from the edges every output pixel is reached "
                   f"by the same number of paths ({levels[0] if levels else '–'})")
    else:
        verdict = (f"**uneven**: {k} is not divisible by {s}, so away from the edges output pixels are reached "
                   f"by {', '.join(map(str, levels))} paths in a repeating pattern — a checkerboard waiting to "
                   "happen" + (", and stacking layers multiplies the pattern" if layers > 1 else ""))
    text = f"Kernel {k}, stride {s}, {layers} layer{'s' if layers > 1 else ''}: {verdict}."
    return OverlapVerdict(counts=counts, even=even, levels=levels, text=text)
