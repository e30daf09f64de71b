"""Lesson 5 — upsampling vs transposed convolution, and where checkerboards come from
(seed 000: "How to upsample with a CNN"; seed 002: a generator of UpSampling2D + Conv2D)."""
import numpy as np
import pandas as pd
import streamlit as st
import torch
import torch.nn.functional as F

from core import charts, ui
from core import upsampling_charts as uc
from core.upsampling import (DILATION_RANGE, KERNEL_RANGE, OUTPUT_PADDING_RANGE, PADDING_RANGE,
                             STRIDE_RANGE, TARGET_KINDS, VARIANTS, TConvSettings, UpsamplingConfig,
                             UpsamplingError, UpsamplingTrainer, contribution, format_grid,
                             interior, overlap_1d, overlap_is_even, parse_grid, resize_grid,
                             transposed_conv, upsample_bilinear, upsample_nearest)

OPS = ["nearest upsampling", "bilinear upsampling", "transposed convolution"]
KIND_LABELS = {2: "input pixel", 1: "inserted zero", 0: "padding"}

page = ui.page_setup(
    "up", "Upsampling vs transposed convolution", "🔍",
    "A generator has to turn a small feature map into a bigger picture. **Upsampling** repeats or "
    "interpolates pixels; a **transposed convolution** spreads every input pixel over the output with a "
    "learned kernel — and where those spreads overlap unevenly, **checkerboard** patterns appear.",
)
tab_view, tab_overlap, tab_train = st.tabs(["① Viewer: step by step", "② Overlap and checkerboards",
                                            "③ Four decoders trained live"])


# ---------------------------------------------------------------- editable grids (text is the truth)
def _apply_edits(editor_key: str, text_key: str, base: np.ndarray) -> None:
    """data_editor edits -> the grid's text (which the URL keeps)."""
    a = base.copy()
    for r, changes in (st.session_state[editor_key] or {}).get("edited_rows", {}).items():
        for c, v in changes.items():
            a[int(r), int(c)] = np.nan if v is None else float(v)
    st.session_state[text_key] = format_grid(a)


def _resize(text_key: str, base: np.ndarray, square: bool = False) -> None:
    if square:
        k = int(st.session_state[page.key("ksize")])
        # a new size gets the lecture's "weight 1" everywhere (the 1×1 case is the lecture's kernel)
        st.session_state[text_key] = format_grid(np.ones((k, k)))
    else:
        rows, cols = int(st.session_state[page.key("rows")]), int(st.session_state[page.key("cols")])
        st.session_state[text_key] = format_grid(resize_grid(base, rows, cols))


def grid_editor(text_key: str, label: str, default: str, lo: int, hi: int) -> np.ndarray | None:
    """A URL-bound text of the numbers plus a spreadsheet-like editor of the same numbers."""
    text = ui.text(page, text_key, f"{label} as text (rows separated by ';')", default,
                   help="Type numbers like 1, 2; 3, 4 — or edit the cells below. Nothing typed is run as code.")
    try:
        a = parse_grid(text, label.lower(), lo, hi)
    except UpsamplingError as e:
        st.error(f"{e}.", icon="⚠️")
        return None
    df = pd.DataFrame(a, columns=[str(j) for j in range(a.shape[1])])
    ek = page.key(f"{text_key}_editor_{abs(hash(text)) % 10**8}")
    st.data_editor(df, key=ek, hide_index=False, width="content", on_change=_apply_edits,
                   args=(ek, page.key(text_key), a))
    return a


# ---------------------------------------------------------------- ① the viewer
def viewer() -> None:
    c_in, c_set = st.columns([1, 2])
    with c_set:
        op = ui.radio(page, "op", "Operation", OPS, "transposed convolution", horizontal=True)
        if op != "transposed convolution":
            f1, f2, f3 = st.columns(3)
            fh = f1.slider("Height factor", 1, 4, 2, key=page.key("fh"), bind="query-params")
            fw = f2.slider("Width factor", 1, 4, 2, key=page.key("fw"), bind="query-params",
                           help="The lecture's UpSampling2D(size=(2, 3)): height × 2, width × 3 → 4×6.")
            ac = f3.toggle("align_corners", value=False, key=page.key("align_corners"), bind="query-params",
                           disabled=op != "bilinear upsampling",
                           help="Off (shown by default): pixel centres sit at (i + ½)/n, as in Keras' "
                                "UpSampling2D(interpolation='bilinear') and torch's default. On: the corner "
                                "pixels of input and output coincide.")
        else:
            t1, t2, t3, t4 = st.columns(4)
            try:   # keep the size slider in step with the kernel typed or edited (or given in the URL)
                kshape = parse_grid(st.session_state.get(page.key("kernel"), "1"), "kernel", 1, KERNEL_RANGE[1]).shape
                if kshape[0] == kshape[1]:
                    st.session_state[page.key("ksize")] = kshape[0]
            except UpsamplingError:
                pass
            t1.slider("Kernel size k", *KERNEL_RANGE, key=page.key("ksize"), on_change=_resize,
                      args=(page.key("kernel"), None, True))
            s = t2.slider("Stride s", *STRIDE_RANGE, 2, key=page.key("stride"), bind="query-params")
            p = t3.slider("Padding p", *PADDING_RANGE, 0, key=page.key("padding"), bind="query-params")
            op_ = t4.slider("Output padding", *OUTPUT_PADDING_RANGE, 0, key=page.key("output_padding"),
                            bind="query-params", help="Extra rows/columns at the bottom/right of the output.")
            with st.expander("Kernel weights, bias, dilation", expanded=not page.presenting):
                k1, k2 = st.columns([2, 1])
                with k1:
                    kernel = grid_editor("kernel", "Kernel", "1", 1, KERNEL_RANGE[1])
                with k2:
                    bias = st.number_input("Bias", value=0.0, step=0.5, key=page.key("bias"), bind="query-params")
                    d = st.slider("Dilation d", *DILATION_RANGE, 1, key=page.key("dilation"), bind="query-params")
    with c_in:
        st.markdown("**Input grid**")
        grid = grid_editor("grid", "Input", "1, 2; 3, 4", 2, 8)
        if grid is not None:
            st.session_state[page.key("rows")], st.session_state[page.key("cols")] = grid.shape
            r1, r2 = st.columns(2)
            r1.number_input("rows", 2, 8, key=page.key("rows"), on_change=_resize, args=(page.key("grid"), grid))
            r2.number_input("columns", 2, 8, key=page.key("cols"), on_change=_resize, args=(page.key("grid"), grid))
    if grid is None:
        return
    x_t = torch.tensor(grid, dtype=torch.float64)[None, None]

    if op != "transposed convolution":
        if op == "nearest upsampling":
            ours = upsample_nearest(grid, fh, fw)
            ref = F.interpolate(x_t, scale_factor=(fh, fw), mode="nearest")[0, 0].numpy()
            how = "each input value is copied into an fh × fw block"
        else:
            ours = upsample_bilinear(grid, fh, fw, align_corners=ac)
            ref = F.interpolate(x_t, scale_factor=(fh, fw), mode="bilinear", align_corners=ac)[0, 0].numpy()
            how = ("each output pixel is a weighted mean of its 4 nearest input pixels, "
                   + ("corners aligned" if ac else "pixel centres at (i + ½)/n, edges clamped"))
        st.markdown(f"**{grid.shape[0]}×{grid.shape[1]} → {ref.shape[0]}×{ref.shape[1]}**: {how}. "
                    "Nothing is learned: there are no weights.")
        st.vega_lite_chart(uc.grid_chart(ref, title=f"torch.nn.functional.interpolate(mode='{op.split()[0]}')"),
                           width="content", key=page.key("chart_up"))
        st.caption(f"The hand-written version agrees with PyTorch: max |difference| = {np.abs(ours - ref).max():.1e}.")
        return

    if kernel is None:
        return
    settings = TConvSettings(kernel=kernel, bias=float(bias), stride=(s, s), padding=(p, p),
                             output_padding=(op_, op_), dilation=(d, d))
    try:
        res = transposed_conv(grid, settings)
    except UpsamplingError as e:
        st.error(f"This combination is impossible: {e}.", icon="⚠️")
        st.caption("PyTorch refuses it as well. Change the setting named in the message to go on.")
        return
    ref = F.conv_transpose2d(x_t, torch.tensor(kernel, dtype=torch.float64)[None, None],
                             torch.tensor([float(bias)], dtype=torch.float64), stride=s, padding=p,
                             output_padding=op_, dilation=d)[0, 0].numpy()
    st.markdown("**Output size** = (n − 1)·s − 2p + d·(k − 1) + output padding + 1")
    st.code("\n".join(res.formula), language=None)
    if not np.isfinite(ref).all():
        st.warning("Some outputs overflowed to infinity: use smaller numbers.")
        return
    a1, a2, a3 = st.columns([3, 1, 3])
    with a1:
        pb = res.pad_before[0]
        crop = " (negative: cropped)" if pb < 0 else ""
        st.markdown(f"**1. Zero insertion + padding**: {s - 1} zero(s) between pixels, then {pb}{crop} "
                    f"before and {res.pad_after[0]} after.")
        st.vega_lite_chart(uc.grid_chart(res.padded, kind=res.padded_kind, kind_labels=KIND_LABELS, legend=True,
                                         max_width=420), width="content", key=page.key("chart_padded"))
    with a2:
        st.markdown("**2. Kernel, flipped 180°**")
        st.vega_lite_chart(uc.grid_chart(res.flipped, scheme="oranges", max_width=160), width="content",
                           key=page.key("chart_kernel"))
    with a3:
        st.markdown(f"**3. Ordinary convolution** (stride 1, dilation {d}) + bias {bias:g} = output "
                    f"{ref.shape[0]}×{ref.shape[1]}")
        st.vega_lite_chart(uc.grid_chart(ref, scheme="greens", max_width=420), width="content",
                           key=page.key("chart_out"))
        st.caption("Values from torch.nn.functional.conv_transpose2d; the explicit steps 1–3 agree: max "
                   f"|difference| = {np.abs(res.output - ref).max():.1e}.")

    st.markdown("**The same output, one input pixel at a time** — each input pixel lays the kernel, scaled by "
                "its value, onto the output, *s* pixels further along than its neighbour:")
    H, W = grid.shape
    pk = page.key("position")
    if st.session_state.get(pk, 0) > H * W - 1:
        st.session_state[pk] = H * W - 1
    pos = st.slider("Input position (row-major)", 0, H * W - 1, key=pk)
    i, j = divmod(int(pos), W)
    vals, mask = contribution(res, i, j)
    partial = np.full(res.output.shape, float(bias))
    for q in range(pos + 1):
        partial += contribution(res, *divmod(q, W))[0]
    b1, b2, b3 = st.columns(3)
    with b1:
        hi = np.zeros_like(grid, dtype=bool)
        hi[i, j] = True
        st.vega_lite_chart(uc.grid_chart(grid, highlight=hi, title=f"input ({i}, {j}) = {grid[i, j]:g}",
                                         max_width=300), width="content", key=page.key("chart_pos_in"))
    with b2:
        st.vega_lite_chart(uc.grid_chart(vals, highlight=mask, scheme="purples",
                                         title=f"its contribution: {grid[i, j]:g} × kernel", max_width=360),
                           width="content", key=page.key("chart_contrib"))
    with b3:
        st.vega_lite_chart(uc.grid_chart(partial, highlight=mask, scheme="greens",
                                         title=f"sum so far (+ bias), {pos + 1} of {H * W}", max_width=360),
                           width="content", key=page.key("chart_partial"))
    st.markdown("**Overlap map**: how many (input pixel × kernel weight) products land on each output pixel. "
                "Uneven counts mean some pixels get more of the signal than their neighbours.")
    st.vega_lite_chart(uc.grid_chart(res.overlap, scheme="viridis", max_width=420), width="content",
                       key=page.key("chart_overlap"))


with tab_view:
    viewer()


# ---------------------------------------------------------------- ② the 1D overlap picture
with tab_overlap:
    o1, o2, o3 = st.columns(3)
    ok = o1.slider("Kernel size", 1, 7, 3, key=page.key("ov_k"), bind="query-params")
    os_ = o2.slider("Stride", 1, 4, 2, key=page.key("ov_s"), bind="query-params")
    ol = o3.slider("Stacked layers", 1, 4, 2, key=page.key("ov_layers"), bind="query-params")
    counts = overlap_1d(ok, os_, ol, n_in=8 if ol < 3 else 4)
    even = overlap_is_even(ok, os_, ol)
    inner = interior(overlap_1d(ok, os_, ol, 12)[-1], ok, os_, ol)
    levels = sorted(set(inner.astype(int).tolist()))
    verdict = (f"**even**: {ok} is divisible by {os_}, so away from the edges every output pixel is reached "
               f"by the same number of paths ({levels[0] if levels else '–'})" if even else
               f"**uneven**: {ok} is not divisible by {os_}, so away from the edges output pixels are reached by "
               f"{', '.join(map(str, levels))} paths in a repeating pattern — a checkerboard waiting to happen"
               + (", and stacking layers multiplies the pattern" if ol > 1 else ""))
    st.markdown(f"Kernel {ok}, stride {os_}, {ol} layer{'s' if ol > 1 else ''}: {verdict}.")
    st.vega_lite_chart(uc.overlap_1d_chart(counts, ok, os_), width="stretch", key=page.key("chart_ov1d"))
    st.caption("Each layer is a 1D transposed convolution with a kernel of ones and no padding; the bar height "
               "counts the ways an input can reach that output. The edges always taper off; look at the middle.")


# ---------------------------------------------------------------- ③ decoders trained live
d = UpsamplingConfig()
with tab_train:
    with ui.settings_box(page):
        c1, c2, c3 = st.columns(3)
        with c1:
            variants = ui.multiselect(page, "variants", "Decoders side by side", list(VARIANTS), list(d.variants),
                                      format_func=VARIANTS.get)
            kinds = ui.multiselect(page, "kinds", "Target images", list(TARGET_KINDS), list(d.kinds),
                                   format_func=TARGET_KINDS.get)
        with c2:
            resolution = ui.select(page, "resolution", "Image size", [16, 32], d.resolution,
                                   format_func=lambda r: f"{r}×{r} ({'2' if r == 16 else '3'} upsampling layers)")
            channels = ui.select_slider(page, "channels", "Channels", [4, 8, 16, 32], d.channels)
            seed = ui.number(page, "seed", "Seed", d.seed, min_value=0, max_value=10_000, step=1)
        with c3:
            lr = ui.learning_rate(page, "lr", "Learning rate (Adam, live)", d.lr)
            batch = ui.select_slider(page, "batch_size", "Batch size (live)", [8, 16, 32, 64, 128], d.batch_size)

config = UpsamplingConfig(variants=tuple(variants or ()), kinds=tuple(kinds or ()), resolution=int(resolution),
                          channels=int(channels), seed=int(seed), lr=float(lr), batch_size=int(batch))


def to_widgets(cfg: UpsamplingConfig) -> dict:
    values = {page.key(f): getattr(cfg, f) for f in ("resolution", "channels", "seed", "lr", "batch_size")}
    values[page.key("variants")] = list(cfg.variants)
    values[page.key("kinds")] = list(cfg.kinds)
    return values


def load_pretrained(device):
    return UpsamplingTrainer.from_checkpoint(ui.checkpoint("upsampling_decoders", "upsampling"), device)


def render(snap: dict, runner) -> None:
    vs = snap["variants"]
    scale = 6 if snap["resolution"] == 16 else 3
    cols = st.columns(len(vs) + 1)
    cols[0].image(uc.mosaic(snap["targets"], scale=scale), caption="targets", width="stretch")
    for col, v in zip(cols[1:], vs):
        col.image(uc.mosaic(snap["outputs"][v], scale=scale), width="stretch",
                  caption=f"{VARIANTS[v]} · loss {snap['loss'][v]:.4f} · checkerboard {snap['checker'][v]:.4f}")
    if not page.presenting:
        st.markdown("**The same decoders at initialisation** (before any training; contrast stretched): the "
                    "transposed convolutions already draw a grid pattern, the resize + conv decoders do not.")
        cols = st.columns(len(vs) + 1)
        for col, v in zip(cols[1:], vs):
            col.image(uc.mosaic(snap["initial"][v], scale=scale, stretch=True), width="stretch", caption=VARIANTS[v])
    h, m = snap["history"], snap["metrics"]
    g1, g2 = st.columns(2)
    with g1:
        st.vega_lite_chart(charts.line_chart(h["step"], {VARIANTS[v]: h[f"loss_{v}"] for v in vs},
                                             title="Loss (mean squared error)", log_y=True, height=220),
                           width="stretch", key=page.key("chart_loss"))
    with g2:
        st.vega_lite_chart(charts.line_chart(m["step"], {VARIANTS[v]: m[f"checker_{v}"] for v in vs},
                                             title="Checkerboard score on smooth gradients (lower is smoother)",
                                             rules=[(snap["target_checker"], "the targets' own score")],
                                             height=220), width="stretch", key=page.key("chart_checker"))


with tab_train:
    runner = ui.live_panel(page, config, make_trainer=UpsamplingTrainer, render=render,
                           pretrained=load_pretrained, to_widgets=to_widgets)
    with st.expander("What is going on", expanded=not page.presenting):
        st.markdown(r"""
**Four decoders, one job.** Each turns a 14-number code (which shape, where, how big, which angle) into a
picture: a linear layer makes a 4×4 map of channels, then ×2 upsampling layers reach 16×16 (or 32×32).
They differ only in how they upsample: a **transposed convolution** with kernel 3 or 4 and stride 2 (the
DCGAN way), or **nearest / bilinear resizing followed by an ordinary 3×3 convolution** (the lecture's
UpSampling2D + Conv2D generator). All four see the same batches and start from the same seed.

**Why checkerboards.** With stride 2 and kernel 3, neighbouring output pixels receive 1, 2 or 4 kernel taps
(tab ②): the output is a sum of unevenly overlapping stamps, so a constant input already gives a
grid-shaped output. Kernel 4 overlaps evenly, but each output phase uses a different subset of the weights,
so the network must *learn* to make them agree. Resizing first spreads every value smoothly; the
convolution after it sees the same kind of neighbourhood everywhere.

**The checkerboard score** is the RMS gap between an output and its own slightly blurred self (a 3×3
binomial blur), on the smooth gradient targets: a smooth ramp scores 0, a ±a pixel checkerboard scores a.
""")
