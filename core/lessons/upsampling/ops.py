"""Upsampling and transposed convolution, by hand (numpy, float64), every intermediate kept so the
viewer can show it; ``tests/lessons/upsampling/test_ops.py`` checks them against
``torch.nn.functional`` to 1e-6. No Streamlit, no torch.

Shapes: an image is [H, W]; a kernel [kh, kw]. Pairs are (height, width).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.lessons.upsampling.grids import UpsamplingError, check_image

# The viewer's ranges (the tests sweep all of them).
KERNEL_RANGE = (1, 5)
STRIDE_RANGE = (1, 4)
PADDING_RANGE = (0, 4)
OUTPUT_PADDING_RANGE = (0, 3)
DILATION_RANGE = (1, 3)
FACTOR_RANGE = (1, 4)

LECTURE_INPUT = np.array([[1.0, 2.0], [3.0, 4.0]])
LECTURE_KERNEL = np.array([[1.0]])


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

    out[i, j] = Σ_{a,b} a[i + a·dh, j + b·dw] · w[a, b].
    a: [H, W], w: [kh, kw] -> [H − dh(kh−1), W − dw(kw−1)].
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


def partial_sum(res: TConvResult, upto: int) -> np.ndarray:
    """The output built from the input positions 0..upto (row-major) only, plus the bias:
    bias + Σ_{q ≤ upto} contribution(q). [OH, OW]; upto = H·W − 1 gives the whole output."""
    W = res.input.shape[1]
    out = np.full(res.output.shape, float(res.settings.bias))
    for q in range(int(upto) + 1):
        out += contribution(res, *divmod(q, W))[0]
    return out
