"""Receptive fields and output lengths of a stack of 1D layers, by formula (the maths the page
shows; tests/lessons/conv1d check them against torch and autograd).

Output length of one layer (kernel k, stride s, dilation d, p_l and p_r zeros on each side):
    L_out = ⌊(L_in + p_l + p_r − d·(k − 1) − 1) / s⌋ + 1
Receptive field of a stack (r₀ = 1, j₀ = 1; layer l has k_l, s_l, d_l):
    r_l = r_{l−1} + (k_l − 1)·d_l·j_{l−1},   j_l = j_{l−1}·s_l
where j_l is the jump: how many input steps apart two neighbouring units of layer l are.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from core.lessons.conv1d.model import LayerSpec


def output_length(L: int, kernel: int, stride: int = 1, pad_left: int = 0, pad_right: int = 0,
                  dilation: int = 1) -> int:
    """L_out = ⌊(L_in + p_l + p_r − d(k − 1) − 1)/s⌋ + 1 (≤ 0 means the layer has no output)."""
    return (L + pad_left + pad_right - dilation * (kernel - 1) - 1) // stride + 1


def stack_lengths(T: int, specs: Sequence[LayerSpec]) -> list[int]:
    """[T, L₁, L₂, …]: the length after each layer (stops at the first that is ≤ 0)."""
    out = [T]
    for sp in specs:
        if out[-1] <= 0:
            break
        out.append(output_length(out[-1], sp.kernel, sp.stride, sp.pad_left, sp.pad_right, sp.dilation))
    return out


def stack_fits(T: int, specs: Sequence[LayerSpec]) -> bool:
    """Whether every layer of ``specs`` leaves at least one of T steps."""
    lengths = stack_lengths(T, specs)
    return len(lengths) > len(specs) and lengths[-1] >= 1


def receptive_field(specs: Sequence[LayerSpec]) -> int:
    """r after the whole stack: r_l = r_{l−1} + (k_l − 1)·d_l·j_{l−1}; j_l = j_{l−1}·s_l."""
    r, j = 1, 1
    for sp in specs:
        r += (sp.kernel - 1) * sp.dilation * j
        j *= sp.stride
    return r


def field_by_formula(T: int, specs: Sequence[LayerSpec], unit: int) -> tuple[int, int]:
    """The input steps [lo, hi] (inclusive, clipped to [0, T − 1]) that top-layer ``unit`` reads.

    Going down one layer, unit o starts at input position o·s − p_l of that layer, so the first
    input step is found by applying that map layer by layer from the top; the last is r − 1 later."""
    start = unit
    for sp in reversed(specs):
        start = start * sp.stride - sp.pad_left
    return max(start, 0), min(start + receptive_field(specs) - 1, T - 1)


def influence(T: int, specs: Sequence[LayerSpec], unit: int) -> list[np.ndarray]:
    """Which units of every level can influence top-layer ``unit``: bool arrays, input first.

    Unit o of a layer reads positions o·s − p_l + i·d (i = 0 … k − 1) of the layer below."""
    lengths = stack_lengths(T, specs)
    if len(lengths) <= len(specs) or lengths[-1] <= 0:
        raise ValueError("the stack has no output at this length")
    top = np.zeros(lengths[-1], dtype=bool)
    top[min(max(unit, 0), lengths[-1] - 1)] = True
    levels = [top]
    for sp, L_in in zip(reversed(specs), reversed(lengths[:-1])):
        below = np.zeros(L_in, dtype=bool)
        for o in np.flatnonzero(levels[-1]):
            pos = o * sp.stride - sp.pad_left + sp.dilation * np.arange(sp.kernel)
            below[pos[(pos >= 0) & (pos < L_in)]] = True
        levels.append(below)
    return levels[::-1]


def unit_anchors(T: int, specs: Sequence[LayerSpec], causal: bool) -> list[np.ndarray]:
    """Where each level's units sit on the input's time axis (for the drawing): the last input
    step a unit reads (causal stacks: its own time step) or the centre of what it reads."""
    out = [np.arange(T, dtype=np.float64)]
    r, j, start0 = 1, 1, 0
    for sp, L in zip(specs, stack_lengths(T, specs)[1:]):
        start0 = start0 - sp.pad_left * j          # input position of unit 0's first step
        r += (sp.kernel - 1) * sp.dilation * j
        j *= sp.stride
        first = start0 + j * np.arange(max(L, 0), dtype=np.float64)
        out.append(first + (r - 1) if causal else first + (r - 1) / 2)
    return out


def top_unit_at(T: int, specs: Sequence[LayerSpec], t: int, causal: bool) -> int:
    """The top-layer unit whose anchor is nearest input step t (t itself for a causal stack)."""
    anchors = unit_anchors(T, specs, causal)[-1]
    return int(np.argmin(np.abs(anchors - t))) if len(anchors) else 0


def conv_stack_lengths(L: int, kernel: int, stride: int, padding: int, dilation: int, layers: int,
                       pool: int = 1) -> list[dict]:
    """The output-length table of ``layers`` identical Conv1d layers (each followed by a max
    pooling of size ``pool`` when pool > 1): one row per layer with the formula's numbers."""
    rows, cur = [], L
    for i in range(layers):
        num = cur + 2 * padding - dilation * (kernel - 1) - 1
        out = num // stride + 1
        row = {"layer": i + 1, "L_in": cur, "numerator": num, "L_out": out}
        if pool > 1 and out > 0:
            row["after_pool"] = out // pool
            out = out // pool
        rows.append(row)
        cur = out
        if cur <= 0:
            break
    return rows
