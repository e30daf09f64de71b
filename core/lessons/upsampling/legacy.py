"""Lesson: upsampling vs transposed convolution, and where checkerboards come from
(seed 000: "How to upsample with a CNN" — UpSampling2D, Conv2DTranspose, the 1×1 stride-2 example;
DCGAN's fractionally-strided convolutions; seed 002: a generator of UpSampling2D + Conv2D).

Two parts:

* **The viewer** (plain numpy, float64): nearest and bilinear upsampling with separate height and
  width factors, and the transposed convolution computed *explicitly* — insert ``s − 1`` zeros
  between input pixels, pad by ``d(k − 1) − p`` (plus the output padding on the far side), then run
  an ordinary convolution with the kernel flipped. Every intermediate is returned so the page can
  show it; ``tests/test_upsampling.py`` checks the result against ``torch.nn.functional`` to 1e-6.
* **The trained part**: a tiny decoder (a code vector → a 16×16 or 32×32 image) built four ways —
  transposed conv k=3 s=2, transposed conv k=4 s=2, nearest resize + conv, bilinear resize + conv —
  trained side by side on the same batches of targets generated in code (gradients, discs, rings,
  glyphs), with a checkerboard score over time.

Shapes: a viewer image is a numpy array [H, W]; a kernel [kh, kw]. A decoder code is [B, CODE_DIM];
an image batch [B, 1, R, R].
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.device import pick_device
from core.live import (Diverged, History, config_from_dict, config_to_dict, live_field, structural_field,
                       with_live_fields)

LESSON = "upsampling"

# The page's ranges (the tests sweep all of them).
MAX_INPUT = 8
KERNEL_RANGE = (1, 5)
STRIDE_RANGE = (1, 4)
PADDING_RANGE = (0, 4)
OUTPUT_PADDING_RANGE = (0, 3)
DILATION_RANGE = (1, 3)
FACTOR_RANGE = (1, 4)

LECTURE_INPUT = np.array([[1.0, 2.0], [3.0, 4.0]])
LECTURE_KERNEL = np.array([[1.0]])


class UpsamplingError(ValueError):
    """An impossible combination of settings; the message is meant for a student."""


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def check_image(x: np.ndarray, name: str = "input") -> np.ndarray:
    """A finite 2D float64 array of 1..MAX_INPUT rows and columns, or UpsamplingError."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise UpsamplingError(f"the {name} must contain numbers only") from e
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise UpsamplingError(f"the {name} must be a 2D grid of numbers")
    if not np.isfinite(a).all():
        raise UpsamplingError(f"every cell of the {name} needs a finite number (found an empty or invalid cell)")
    return a


def parse_grid(text: str, name: str = "grid", lo: int = 2, hi: int = MAX_INPUT) -> np.ndarray:
    """Numbers typed as rows separated by ';' or new lines, values by ',' or spaces -> [H, W].

    Only ``float()`` reads the text (nothing typed is executed). Raises UpsamplingError with a
    message naming the problem (a non-number, ragged rows, a size outside lo..hi).
    """
    rows = [r for r in str(text).replace("\n", ";").split(";") if r.strip()]
    if not rows:
        raise UpsamplingError(f"the {name} is empty: type rows like 1, 2; 3, 4")
    out = []
    for r in rows:
        cells = [c for c in r.replace(",", " ").split() if c]
        try:
            out.append([float(c) for c in cells])
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise UpsamplingError(f"the {name} has {bad!r}, which is not a number") from None
    if len({len(r) for r in out}) != 1:
        raise UpsamplingError(f"every row of the {name} needs the same number of values")
    a = np.array(out, dtype=np.float64)
    if not (lo <= a.shape[0] <= hi and lo <= a.shape[1] <= hi):
        raise UpsamplingError(f"the {name} must have {lo} to {hi} rows and columns (it has "
                              f"{a.shape[0]} × {a.shape[1]})")
    a = check_image(a, name)
    if np.abs(a).max() > 1e6:
        raise UpsamplingError(f"the {name}'s values must lie between −1,000,000 and 1,000,000")
    return a


def _is_number(c: str) -> bool:
    try:
        float(c)
        return True
    except ValueError:
        return False


def format_grid(a: np.ndarray) -> str:
    """The inverse of ``parse_grid``: '1, 2; 3, 4'."""
    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"
    return "; ".join(", ".join(num(v) for v in row) for row in np.asarray(a, dtype=np.float64))


def resize_grid(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Keep the top-left values, fill new cells with 0."""
    out = np.zeros((rows, cols))
    h, w = min(rows, a.shape[0]), min(cols, a.shape[1])
    out[:h, :w] = a[:h, :w]
    return out


# =========================================================================== upsampling


def upsample_nearest(x: np.ndarray, fh: int, fw: int) -> np.ndarray:
    """Nearest-neighbour upsampling (Keras ``UpSampling2D(size=(fh, fw))``).

    out[i, j] = x[⌊i / fh⌋, ⌊j / fw⌋].  x: [H, W] -> [H·fh, W·fw].
    """
    x = check_image(x)
    fh, fw = _check_factors(fh, fw)
    return np.repeat(np.repeat(x, fh, axis=0), fw, axis=1)


def _check_factors(fh: int, fw: int) -> tuple[int, int]:
    fh, fw = int(fh), int(fw)
    if fh < 1 or fw < 1:
        raise UpsamplingError("the upsampling factors must be whole numbers of at least 1")
    return fh, fw


def _bilinear_weights(n_in: int, f: int, align_corners: bool) -> np.ndarray:
    """The [n_in·f, n_in] matrix M with (M @ column) = the 1D linear interpolation.

    align_corners=False (half-pixel centres, torch's default and Keras' ``bilinear``):
        src = (dst + ½) / f − ½, clamped below at 0.
    align_corners=True (corner pixels line up):
        src = dst · (n_in − 1) / (n_out − 1).
    Then out = (1 − λ)·x[i₀] + λ·x[i₁] with i₀ = ⌊src⌋, i₁ = min(i₀ + 1, n_in − 1), λ = src − i₀.
    """
    n_out = n_in * f
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros_like(dst)
    else:
        src = np.maximum((dst + 0.5) / f - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), i0), 1.0 - lam)
    np.add.at(m, (np.arange(n_out), i1), lam)
    return m


def upsample_bilinear(x: np.ndarray, fh: int, fw: int, align_corners: bool = False) -> np.ndarray:
    """Bilinear upsampling: linear interpolation along the rows, then along the columns.

    out = M_h · x · M_wᵀ with the 1D interpolation matrices of ``_bilinear_weights``.
    x: [H, W] -> [H·fh, W·fw]. Equals ``F.interpolate(mode="bilinear", scale_factor=(fh, fw),
    align_corners=align_corners)``.
    """
    x = check_image(x)
    fh, fw = _check_factors(fh, fw)
    mh = _bilinear_weights(x.shape[0], fh, align_corners)
    mw = _bilinear_weights(x.shape[1], fw, align_corners)
    return mh @ x @ mw.T


# =========================================================================== transposed convolution


@dataclass
class TConvSettings:
    """One transposed convolution (single channel). Pairs are (height, width)."""

    kernel: np.ndarray = field(default_factory=lambda: LECTURE_KERNEL.copy())   # [kh, kw]
    bias: float = 0.0
    stride: tuple[int, int] = (2, 2)
    padding: tuple[int, int] = (0, 0)
    output_padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)


def output_size(n_in: int, k: int, s: int, p: int, op: int, d: int) -> int:
    """out = (n_in − 1)·s − 2p + d·(k − 1) + op + 1 (PyTorch's ConvTranspose2d formula)."""
    return (n_in - 1) * s - 2 * p + d * (k - 1) + op + 1


def size_formula_text(n_in: int, k: int, s: int, p: int, op: int, d: int, axis: str = "height") -> str:
    """The output-size formula with the numbers filled in, e.g. '(2 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 3'."""
    out = output_size(n_in, k, s, p, op, d)
    return (f"{axis}: ({n_in} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1 = {out}")


def check_tconv(shape: tuple[int, int], st: TConvSettings) -> None:
    """Raise UpsamplingError (a readable message) for every combination torch would refuse."""
    kernel = np.asarray(st.kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] < 1 or kernel.shape[1] < 1:
        raise UpsamplingError("the kernel must be a 2D grid of numbers")
    if not np.isfinite(kernel).all():
        raise UpsamplingError("every kernel cell needs a finite number")
    if not math.isfinite(float(st.bias)):
        raise UpsamplingError("the bias must be a finite number")
    for axis, i in (("height", 0), ("width", 1)):
        k, s, p = kernel.shape[i], st.stride[i], st.padding[i]
        op, d = st.output_padding[i], st.dilation[i]
        if s < 1:
            raise UpsamplingError(f"the stride must be at least 1 (got {s} for the {axis})")
        if d < 1:
            raise UpsamplingError(f"the dilation must be at least 1 (got {d} for the {axis})")
        if p < 0 or op < 0:
            raise UpsamplingError("padding and output padding cannot be negative")
        # torch: "output padding must be smaller than either stride or dilation"
        if op >= s and op >= d:
            raise UpsamplingError(
                f"output padding {op} is not smaller than the stride {s} or the dilation {d} ({axis}). "
                "Output padding only chooses among the sizes a stride (or dilation) makes ambiguous, so "
                "it must be smaller than one of them — lower it or raise the stride")
        out = output_size(shape[i], k, s, p, op, d)
        if out <= 0:
            raise UpsamplingError(
                f"the output {axis} would be {out}: " + size_formula_text(shape[i], k, s, p, op, d, axis)
                + ". The padding crops more than the transposed convolution produces — lower the padding")


@dataclass
class TConvResult:
    """Every intermediate of a transposed convolution done by zero insertion + convolution.

    zero_inserted: [(H−1)·sh + 1, (W−1)·sw + 1] the input with s − 1 zeros between pixels;
    padded: the zero-inserted input after padding d(k−1) − p (+ output padding at the bottom/right;
        a negative amount crops) — what the ordinary convolution slides over;
    padded_kind: same shape, 2 = an input pixel, 1 = an inserted zero, 0 = padding;
    flipped: [kh, kw] the kernel rotated by 180°, what the ordinary convolution uses;
    output: [OH, OW];
    overlap: [OH, OW] how many kernel taps (input pixel × kernel weight products) land on each pixel;
    pad_before, pad_after: per axis (height, width) the padding used (negative = cropped);
    formula: per axis, the size formula with numbers.
    """

    zero_inserted: np.ndarray
    padded: np.ndarray
    padded_kind: np.ndarray
    flipped: np.ndarray
    output: np.ndarray
    overlap: np.ndarray
    pad_before: tuple[int, int]
    pad_after: tuple[int, int]
    formula: tuple[str, str]
    settings: TConvSettings
    input: np.ndarray


def zero_insert(x: np.ndarray, sh: int, sw: int) -> np.ndarray:
    """z[i·sh, j·sw] = x[i, j], zeros elsewhere. x: [H, W] -> [(H−1)·sh + 1, (W−1)·sw + 1]."""
    H, W = x.shape
    z = np.zeros(((H - 1) * sh + 1, (W - 1) * sw + 1), dtype=np.float64)
    z[::sh, ::sw] = x
    return z


def _pad_or_crop(a: np.ndarray, before: tuple[int, int], after: tuple[int, int]) -> np.ndarray:
    """Pad with zeros by a positive amount, crop by a negative one, per side."""
    pad = [(max(b, 0), max(e, 0)) for b, e in zip(before, after)]
    a = np.pad(a, pad)
    sl = tuple(slice(max(-b, 0), a.shape[i] - max(-e, 0)) for i, (b, e) in enumerate(zip(before, after)))
    return a[sl]


def correlate2d(a: np.ndarray, w: np.ndarray, dh: int = 1, dw: int = 1) -> np.ndarray:
    """An ordinary (valid, stride 1) convolution as deep-learning libraries define it:

    out[i, j] = Σ_{a,b} a[i + a·dh, j + b·dw] · w[a, b].   a: [H, W], w: [kh, kw] -> [H − dh(kh−1), W − dw(kw−1)].
    """
    kh, kw = w.shape
    oh, ow = a.shape[0] - dh * (kh - 1), a.shape[1] - dw * (kw - 1)
    out = np.zeros((max(oh, 0), max(ow, 0)), dtype=np.float64)
    if oh <= 0 or ow <= 0:
        return out
    for u in range(kh):
        for v in range(kw):
            out += w[u, v] * a[u * dh:u * dh + oh, v * dw:v * dw + ow]
    return out


def transposed_conv(x: np.ndarray, st: TConvSettings) -> TConvResult:
    """Transposed convolution = zero insertion + padding + ordinary convolution with the flipped kernel.

    With per-axis kernel k, stride s, padding p, output padding op and dilation d:
        z = x with s − 1 zeros inserted between neighbours,
        z' = z padded by d(k − 1) − p before and d(k − 1) − p + op after,
        y = correlate(z', flip(w), dilation d) + bias.
    Equals ``F.conv_transpose2d(x, w, bias, stride, padding, output_padding, dilation=d)``.
    """
    x = check_image(x)
    w = np.asarray(st.kernel, dtype=np.float64)
    check_tconv(x.shape, st)
    (sh, sw), (dh, dw) = st.stride, st.dilation
    z = zero_insert(x, sh, sw)
    kind = np.ones_like(z)
    kind[::sh, ::sw] = 2
    before = tuple(st.dilation[i] * (w.shape[i] - 1) - st.padding[i] for i in range(2))
    after = tuple(before[i] + st.output_padding[i] for i in range(2))
    padded = _pad_or_crop(z, before, after)
    padded_kind = _pad_or_crop(kind, before, after)
    flipped = w[::-1, ::-1].copy()
    y = correlate2d(padded, flipped, dh, dw) + float(st.bias)
    ov = correlate2d((padded_kind == 2).astype(np.float64), np.ones_like(w), dh, dw)
    formula = tuple(size_formula_text(x.shape[i], w.shape[i], st.stride[i], st.padding[i],
                                      st.output_padding[i], st.dilation[i], axis)
                    for i, axis in enumerate(("height", "width")))
    return TConvResult(zero_inserted=z, padded=padded, padded_kind=padded_kind.astype(np.int64),
                       flipped=flipped, output=y, overlap=ov, pad_before=before, pad_after=after,
                       formula=formula, settings=st, input=x)


def contribution(res: TConvResult, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """What input pixel (i, j) adds to the output: the kernel scaled by x[i, j], laid down at
    output row i·sh − ph + u·dh, column j·sw − pw + v·dw for each tap (u, v) (taps falling
    outside the output are cropped away by the padding).

    Returns (values [OH, OW], mask [OH, OW] of the pixels this input position touches).
    Σ over all (i, j) of values, plus the bias, is the output.
    """
    st, w, x = res.settings, np.asarray(res.settings.kernel, dtype=np.float64), res.input
    OH, OW = res.output.shape
    vals = np.zeros((OH, OW))
    mask = np.zeros((OH, OW), dtype=bool)
    for u in range(w.shape[0]):
        r = i * st.stride[0] - st.padding[0] + u * st.dilation[0]
        if not 0 <= r < OH:
            continue
        for v in range(w.shape[1]):
            c = j * st.stride[1] - st.padding[1] + v * st.dilation[1]
            if 0 <= c < OW:
                vals[r, c] += x[i, j] * w[u, v]
                mask[r, c] = True
    return vals, mask


# =========================================================================== 1D overlap picture


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


# =========================================================================== the decoders

VARIANTS: dict[str, str] = {
    "tconv3": "transposed conv k=3, s=2",
    "tconv4": "transposed conv k=4, s=2",
    "nearest": "nearest resize + conv 3×3",
    "bilinear": "bilinear resize + conv 3×3",
}
TARGET_KINDS: dict[str, str] = {
    "gradient": "smooth gradients",
    "disc": "discs",
    "ring": "rings",
    "glyph": "glyphs (T, L, +, H, X)",
}
# Glyphs as line segments in a unit box: (x0, y0, x1, y1).
GLYPHS: dict[str, list[tuple[float, float, float, float]]] = {
    "T": [(-1, -1, 1, -1), (0, -1, 0, 1)],
    "L": [(-1, -1, -1, 1), (-1, 1, 1, 1)],
    "+": [(-1, 0, 1, 0), (0, -1, 0, 1)],
    "H": [(-1, -1, -1, 1), (1, -1, 1, 1), (-1, 0, 1, 0)],
    "X": [(-1, -1, 1, 1), (-1, 1, 1, -1)],
}
KIND_NAMES = tuple(TARGET_KINDS)
GLYPH_NAMES = tuple(GLYPHS)
# code = [one-hot kind (4), one-hot glyph (5), cx, cy, size, cos θ, sin θ]
CODE_DIM = len(KIND_NAMES) + len(GLYPH_NAMES) + 5
BASE = 4          # the decoders start from a BASE × BASE feature map


def _segment_distance(px: np.ndarray, py: np.ndarray, seg: tuple[float, float, float, float]) -> np.ndarray:
    """Distance from points (px, py) to the segment (x0, y0)–(x1, y1)."""
    x0, y0, x1, y1 = seg
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
    return np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))


def render_target(kind: str, res: int, cx: float, cy: float, size: float, theta: float,
                  glyph: str = "T") -> np.ndarray:
    """One anti-aliased target image [res, res] with values in [0, 1].

    Coordinates are pixel centres in [0, 1]²; an edge is blurred over one pixel:
    value = clip(½ − signed distance / pixel, 0, 1).
    """
    c = (np.arange(res) + 0.5) / res
    X, Y = np.meshgrid(c, c)                      # rows = y
    px = 1.0 / res
    if kind == "gradient":
        # a ramp along direction θ through (cx, cy): ½ + (projection) / (2·size), clipped
        proj = (X - cx) * math.cos(theta) + (Y - cy) * math.sin(theta)
        return np.clip(0.5 + proj / (2 * size), 0.0, 1.0)
    if kind == "disc":
        dist = np.hypot(X - cx, Y - cy) - size
        return np.clip(0.5 - dist / px, 0.0, 1.0)
    if kind == "ring":
        thick = max(0.35 * size, 1.5 * px)
        dist = np.abs(np.hypot(X - cx, Y - cy) - size) - thick / 2
        return np.clip(0.5 - dist / px, 0.0, 1.0)
    if kind == "glyph":
        # rotate the pixel grid into the glyph's frame, scaled so the glyph spans ±1
        u = ((X - cx) * math.cos(theta) + (Y - cy) * math.sin(theta)) / size
        v = (-(X - cx) * math.sin(theta) + (Y - cy) * math.cos(theta)) / size
        d = np.min([_segment_distance(u, v, s) for s in GLYPHS[glyph]], axis=0) * size
        thick = max(0.22 * size, 1.6 * px)
        return np.clip(0.5 - (d - thick / 2) / px, 0.0, 1.0)
    raise UpsamplingError(f"unknown target kind {kind!r}")


def make_targets(kinds: tuple[str, ...], n: int, res: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n random targets cycling through ``kinds``: (codes [n, CODE_DIM], images [n, res, res])."""
    rng = np.random.default_rng(seed)
    codes = np.zeros((n, CODE_DIM), dtype=np.float32)
    imgs = np.zeros((n, res, res), dtype=np.float32)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        glyph = GLYPH_NAMES[rng.integers(len(GLYPH_NAMES))]
        cx, cy = rng.uniform(0.3, 0.7, 2)
        size = rng.uniform(0.15, 0.3) if kind != "gradient" else rng.uniform(0.25, 0.6)
        theta = rng.uniform(0, 2 * math.pi) if kind in ("gradient",) else rng.uniform(-0.5, 0.5)
        imgs[i] = render_target(kind, res, cx, cy, size, theta, glyph)
        codes[i, KIND_NAMES.index(kind)] = 1.0
        if kind == "glyph":
            codes[i, len(KIND_NAMES) + GLYPH_NAMES.index(glyph)] = 1.0
        codes[i, -5:] = [(cx - 0.5) * 4, (cy - 0.5) * 4, (size - 0.3) * 5, math.cos(theta), math.sin(theta)]
    return codes, imgs


def checkerboard_score(y: torch.Tensor) -> torch.Tensor:
    """High-frequency energy: how far an image is from its own slightly blurred self.

    blur = the 3×3 binomial filter ([1, 2, 1] ⊗ [1, 2, 1]) / 16, applied where it fits (valid);
    score = mean over images of √(mean over pixels of (y − blur(y))²).
    The binomial blur leaves a linear ramp unchanged (score 0 for a smooth gradient) and removes a
    (+1, −1) pixel checkerboard completely (score = its amplitude). y: [B, 1, R, R] -> a scalar.
    """
    k1 = torch.tensor([1.0, 2.0, 1.0], dtype=y.dtype, device=y.device)
    k = (k1[:, None] * k1[None, :] / 16.0).view(1, 1, 3, 3)
    gap = y[..., 1:-1, 1:-1] - F.conv2d(y, k)
    return torch.sqrt((gap * gap).mean(dim=(-1, -2, -3))).mean()


class Decoder(nn.Module):
    """code [B, CODE_DIM] -> Linear -> [B, C, 4, 4] -> n_up × (upsample ×2 + conv) -> [B, 1, R, R].

    'tconv3': ConvTranspose2d(k=3, s=2, p=1, output_padding=1): out = (n−1)·2 − 2 + 2 + 1 + 1 = 2n.
    'tconv4': ConvTranspose2d(k=4, s=2, p=1):                     out = (n−1)·2 − 2 + 3 + 0 + 1 = 2n.
    'nearest' / 'bilinear': Upsample(×2) then Conv2d(k=3, p=1) (size kept).
    The last block maps to 1 channel and has no activation (a linear output, trained with MSE).
    """

    def __init__(self, variant: str, channels: int, n_up: int) -> None:
        super().__init__()
        self.variant = variant
        self.channels = channels
        self.fc = nn.Linear(CODE_DIM, channels * BASE * BASE)
        blocks = []
        for i in range(n_up):
            c_out = 1 if i == n_up - 1 else channels
            if variant == "tconv3":
                blocks.append(nn.ConvTranspose2d(channels, c_out, 3, stride=2, padding=1, output_padding=1))
            elif variant == "tconv4":
                blocks.append(nn.ConvTranspose2d(channels, c_out, 4, stride=2, padding=1))
            elif variant in ("nearest", "bilinear"):
                blocks.append(nn.Conv2d(channels, c_out, 3, padding=1))
            else:
                raise UpsamplingError(f"unknown decoder {variant!r}")
        self.blocks = nn.ModuleList(blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc(z)).view(z.shape[0], self.channels, BASE, BASE)
        for i, block in enumerate(self.blocks):
            if self.variant == "nearest":
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            elif self.variant == "bilinear":
                h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
            h = block(h)
            if i < len(self.blocks) - 1:
                h = F.relu(h)
        return h


@dataclass
class UpsamplingConfig:
    """Every tunable of the trained part. Live fields apply at the next chunk; structural ones restart."""

    variants: tuple[str, ...] = structural_field(tuple(VARIANTS))
    kinds: tuple[str, ...] = structural_field(tuple(TARGET_KINDS))
    resolution: int = structural_field(16)          # 16 (2 upsampling layers) or 32 (3)
    channels: int = structural_field(16)
    n_targets: int = structural_field(512)          # the pool the batches are drawn from
    seed: int = structural_field(0)
    lr: float = live_field(2e-3)                    # Adam
    batch_size: int = live_field(32)
    eval_every: int = structural_field(25)          # steps between checkerboard measurements


RESOLUTIONS = {16: 2, 32: 3}        # resolution -> number of ×2 upsampling layers from 4×4
N_SHOW = 4                          # examples drawn per decoder


def check_config(cfg: UpsamplingConfig) -> None:
    """Raise ValueError with a readable message for an unusable config."""
    if not cfg.variants:
        raise ValueError("choose at least one decoder to train")
    for v in cfg.variants:
        if v not in VARIANTS:
            raise ValueError(f"unknown decoder {v!r}")
    if not cfg.kinds:
        raise ValueError("choose at least one kind of target image")
    for k in cfg.kinds:
        if k not in TARGET_KINDS:
            raise ValueError(f"unknown target kind {k!r}")
    if int(cfg.resolution) not in RESOLUTIONS:
        raise ValueError("the image size must be 16 or 32 pixels")
    if not 1 <= int(cfg.channels) <= 128:
        raise ValueError("channels must be between 1 and 128")
    for name in ("n_targets", "batch_size", "eval_every"):
        if int(getattr(cfg, name)) < 1:
            raise ValueError(f"{name.replace('_', ' ')} must be at least 1")
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ValueError("the learning rate must be a positive number")


def _adam(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam; the fused kernel when this torch has it (3× faster per step on these tiny models)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(model.parameters(), lr=lr)


class UpsamplingTrainer:
    """Trains the chosen decoders side by side: the same initial seed, the same batches."""

    def __init__(self, config: UpsamplingConfig, device: torch.device | None = None) -> None:
        self.config = dataclasses.replace(config, variants=tuple(config.variants), kinds=tuple(config.kinds))
        check_config(self.config)
        cfg = self.config
        self.device = device or pick_device()
        n_up = RESOLUTIONS[int(cfg.resolution)]
        self.models: dict[str, Decoder] = {}
        for i, v in enumerate(cfg.variants):
            # each decoder's initial weights come from its own seed stream (independent of the others chosen)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(cfg.seed * 1000 + list(VARIANTS).index(v))
                self.models[v] = Decoder(v, int(cfg.channels), n_up).to(self.device)
        self.opts = {v: _adam(m, cfg.lr) for v, m in self.models.items()}
        codes, imgs = make_targets(cfg.kinds, int(cfg.n_targets), int(cfg.resolution), cfg.seed)
        self.codes = torch.from_numpy(codes).to(self.device)
        self.images = torch.from_numpy(imgs).unsqueeze(1).to(self.device)       # [n, 1, R, R]
        # the shown examples: one per kind, fixed (not from the training pool's randomness)
        show_kinds = tuple(cfg.kinds[i % len(cfg.kinds)] for i in range(N_SHOW))
        sc, si = make_targets(show_kinds, N_SHOW, int(cfg.resolution), 10_000 + cfg.seed)
        self.show_codes = torch.from_numpy(sc).to(self.device)
        self.show_images = si.astype(np.float64)
        # The checkerboard probe: the smooth gradients of the pool (a smooth target has no energy at
        # the highest frequency, so whatever a decoder puts there is its own artefact); without
        # gradients among the targets, the first 128 targets (their own score is the reference).
        grad = torch.from_numpy(codes[:, KIND_NAMES.index("gradient")] > 0)
        probe = torch.nonzero(grad).flatten() if bool(grad.any()) else torch.arange(codes.shape[0])
        self._probe = probe[:128].to(self.device)
        self.target_score = float(checkerboard_score(self.images[self._probe].double()))
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self.step_count = 0
        self.history = History([f"loss_{v}" for v in cfg.variants], capacity=1000)
        self.metrics = History([f"checker_{v}" for v in cfg.variants], capacity=500)
        self._pending: list[torch.Tensor] = []
        self.initial_outputs = self._outputs()          # {variant: [N_SHOW, R, R]}
        self._record_metrics()

    # ---------------------------------------------------------------- training
    def apply_live(self, config: UpsamplingConfig) -> None:
        new = with_live_fields(self.config, config)
        check_config(new)
        self.config = new
        for opt in self.opts.values():
            for g in opt.param_groups:
                g["lr"] = new.lr

    def step(self, n: int = 1) -> None:
        """n steps: every decoder takes one Adam step on the same batch (MSE to the targets)."""
        every = int(self.config.eval_every)
        n_pool = self.codes.shape[0]
        for _ in range(int(n)):
            idx = torch.randint(n_pool, (int(self.config.batch_size),), generator=self._gen).to(self.device)
            z, target = self.codes[idx], self.images[idx]
            losses = []
            for v, m in self.models.items():
                # L = mean over pixels of (decoder(z) − target)²
                loss = F.mse_loss(m(z), target)
                opt = self.opts[v]
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                losses.append(loss.detach())
            self._pending.append(torch.stack(losses))
            self.step_count += 1
            if self.step_count % every == 0:
                self._flush()
                self._record_metrics()
        self._flush()

    def _check_finite(self, values: torch.Tensor) -> None:
        ok = bool(torch.isfinite(values).all())
        if ok:
            ok = all(bool(torch.isfinite(p).all()) for m in self.models.values() for p in m.parameters())
        if not ok:
            raise Diverged(f"Training diverged at step {self.step_count}: a loss or weight became NaN or "
                           "infinite. Lower the learning rate and press Reset.")

    def _flush(self) -> None:
        """Move pending losses to the history (one device sync per chunk)."""
        if not self._pending:
            return
        vals = torch.stack(self._pending)
        self._pending = []
        self._check_finite(vals)
        arr = vals.cpu().numpy().astype(np.float64)
        steps = np.arange(self.step_count - arr.shape[0] + 1, self.step_count + 1)
        self.history.add_many(steps, {f"loss_{v}": arr[:, i] for i, v in enumerate(self.models)})

    @torch.no_grad()
    def _outputs(self) -> dict[str, np.ndarray]:
        return {v: m(self.show_codes)[:, 0].cpu().numpy().astype(np.float64) for v, m in self.models.items()}

    @torch.no_grad()
    def _record_metrics(self) -> None:
        z = self.codes[self._probe]
        vals = {f"checker_{v}": float(checkerboard_score(m(z))) for v, m in self.models.items()}
        self.metrics.add(self.step_count, **vals)

    # ---------------------------------------------------------------- reading
    @torch.no_grad()
    def snapshot(self) -> dict[str, Any]:
        """targets: [N_SHOW, R, R]; outputs/initial: {variant: [N_SHOW, R, R]};
        history/metrics: dicts of [m] arrays; loss/checker: {variant: latest value}."""
        h, m = self.history.arrays(), self.metrics.arrays()
        return {
            "step": self.step_count, "variants": list(self.models), "targets": self.show_images,
            "outputs": self._outputs(), "initial": self.initial_outputs, "history": h, "metrics": m,
            "loss": {v: self.history.last(f"loss_{v}") for v in self.models},
            "checker": {v: self.metrics.last(f"checker_{v}") for v in self.models},
            "target_checker": self.target_score, "resolution": int(self.config.resolution),
        }

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        self._flush()
        cfg = config_to_dict(self.config)
        cfg["variants"], cfg["kinds"] = list(self.config.variants), list(self.config.kinds)
        return {
            "lesson": LESSON, "config": cfg, "step": self.step_count,
            "model": {v: m.state_dict() for v, m in self.models.items()},
            "optim": {v: o.state_dict() for v, o in self.opts.items()},
            "history": {"losses": self.history.state_dict(), "metrics": self.metrics.state_dict()},
            "extra": {"initial": {v: torch.from_numpy(a.astype(np.float32)) for v, a in self.initial_outputs.items()},
                      "gen": self._gen.get_state()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for v, m in self.models.items():
            m.load_state_dict(state["model"][v])
            # deep copy: torch's Optimizer.load_state_dict keeps the given moment tensors (no copy when
            # dtype/device match) and steps update them in place, which wrote into the checkpoint
            # cached for every session by ui.checkpoint (tests/test_isolation.py)
            self.opts[v].load_state_dict(copy.deepcopy(state["optim"][v]))
            for g in self.opts[v].param_groups:      # the live setting wins over the saved one
                g["lr"] = self.config.lr
        self.history.load_state_dict(state["history"]["losses"])
        self.metrics.load_state_dict(state["history"]["metrics"])
        self.step_count = int(state["step"])
        extra = state.get("extra", {})
        if "initial" in extra:
            self.initial_outputs = {v: extra["initial"][v].numpy().astype(np.float64) for v in self.models}
        if "gen" in extra:
            self._gen.set_state(extra["gen"])

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: torch.device | None = None) -> "UpsamplingTrainer":
        """A new trainer (own copies of every tensor) continuing from a checkpoint."""
        data = dict(state["config"])
        data["variants"], data["kinds"] = tuple(data["variants"]), tuple(data["kinds"])
        t = cls(config_from_dict(UpsamplingConfig, data), device)
        t.load_state_dict(state)
        return t


def pretrain(seed: int = 0, steps: int = 2000) -> dict[str, Any]:
    """The shipped run: all four decoders, every target kind, 16×16, trained ``steps`` steps on the CPU."""
    trainer = UpsamplingTrainer(UpsamplingConfig(seed=seed), torch.device("cpu"))
    trainer.step(steps)
    snap = trainer.snapshot()
    init = {v: float(checkerboard_score(torch.from_numpy(a)[:, None])) for v, a in snap["initial"].items()}
    return {
        "checkpoints": {"upsampling_decoders": trainer.state_dict()},
        "metrics": {"steps": trainer.step_count,
                    **{f"loss_{v}": round(x, 5) for v, x in snap["loss"].items()},
                    **{f"checker_{v}": round(x, 5) for v, x in snap["checker"].items()},
                    **{f"checker_init_shown_{v}": round(x, 5) for v, x in init.items()},
                    "checker_targets": round(snap["target_checker"], 5)},
    }
