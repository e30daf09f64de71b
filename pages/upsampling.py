"""Lesson upsampling — upsampling vs transposed convolution, and where checkerboards come from
(seed 000: "How to upsample with a CNN"; seed 002: a generator of UpSampling2D + Conv2D)."""
import streamlit as st

from core import ui
from core.lessons.upsampling import (VIEWS, UpsamplingConfig, UpsamplingError, UpsamplingTrainer, ViewerConfig,
                                     grids, text, viewer)
from core.lessons.upsampling import experiments as guide
from core.lessons.upsampling import charts as uc
from core.lessons.upsampling.ops import KERNEL_RANGE

page = ui.page_setup("upsampling", intro=text.INTRO)
vform, ss = ui.Form(page, ViewerConfig), st.session_state
if st.query_params.get(page.key("view")) in VIEWS and page.key("view") not in ss:
    ss[page.key("view")] = st.query_params[page.key("view")]    # short links: ?upsampling_view=decoders
view = vform.control("view", label_visibility="collapsed")


def draw(panels: list, widths: list | None = None) -> None:
    """Grids of numbers side by side, each at its own size (``ui.chart`` alone would stretch them)."""
    for col, p in zip(st.columns(widths or len(panels)), panels):
        with col:
            st.markdown(p.heading)
            ui.chart(page, p.spec, p.key, width="content")
            st.caption(p.note)


def controls(form, *groups) -> None:
    """Declared controls, one group per column."""
    for col, names in zip(st.columns(len(groups)), groups):
        with col:
            form.controls(*names)


def grid_editor(name: str, lo: int, hi: int):
    """The grid's URL-bound text plus a spreadsheet editor of the same numbers; None if unusable."""
    typed = vform.control(name)
    try:
        a = grids.parse_grid(typed, "input" if name == "grid" else "kernel", lo, hi)
    except UpsamplingError as e:
        st.error(f"{e}.", icon="⚠️")
        return None
    ek = page.key(f"{name}_editor_{abs(hash(typed)) % 10**8}")
    st.data_editor(grids.table(a), key=ek, width="content", on_change=lambda: ss.update(
        {page.key(name): grids.apply_edits(a, (ss[ek] or {}).get("edited_rows", {}))}))
    return a


def transposed_conv_controls():
    # the size slider follows a kernel typed or edited
    typed = ss.get(page.key("kernel"), st.query_params.get(page.key("kernel"), "1"))
    ss[page.key("ksize")] = grids.square_size(typed, KERNEL_RANGE[1]) or ss.get(page.key("ksize"), 1)
    t1, t2 = st.columns([1, 3])
    t1.slider("Kernel size k", *KERNEL_RANGE, key=page.key("ksize"), help="A new size starts as all ones.",
              on_change=lambda: ss.update({page.key("kernel"): grids.ones_text(ss[page.key("ksize")])}))
    with t2:
        controls(vform, ["stride"], ["padding"], ["output_padding"])
    with st.expander("Kernel weights, bias, dilation", expanded=not page.presenting):
        k1, k2 = st.columns([2, 1])
        with k2:
            vform.controls("bias", "dilation")
        with k1:
            return grid_editor("kernel", 1, KERNEL_RANGE[1])


def show_viewer() -> None:
    """① The viewer, step by step, on grids typed as text (the URL keeps the text)."""
    c_in, c_set = st.columns([1, 2])
    with c_set:
        op, kernel = vform.control("op", horizontal=True), None
        if op == "transposed convolution":
            kernel = transposed_conv_controls()
        else:
            controls(vform, ["fh"], ["fw"], ["align_corners"] if op == "bilinear upsampling" else [])
    with c_in:
        st.markdown("**Input grid**")
        grid = grid_editor("grid", 2, grids.MAX_INPUT)
        if grid is not None:
            ss[page.key("rows")], ss[page.key("cols")] = grid.shape
            for col, name, label in zip(st.columns(2), ("rows", "cols"), ("rows", "columns")):
                col.number_input(label, 2, grids.MAX_INPUT, key=page.key(name), on_change=lambda: ss.update({page.key(
                    "grid"): grids.resized_text(grid, ss[page.key("rows")], ss[page.key("cols")])}))
    cfg = vform.config()
    if grid is not None and op != "transposed convolution":
        draw([viewer.upsample_view(grid, cfg)], [1])
    if grid is None or kernel is None:
        return
    tv, problem = viewer.try_tconv(grid, kernel, cfg)
    if problem:
        st.error(problem, icon="⚠️")
        return
    st.markdown(viewer.SIZE_FORMULA)
    st.code(tv.formula, language=None)
    if not tv.finite:
        st.warning("Some outputs overflowed to infinity: use smaller numbers.")
        return
    draw(tv.steps, [3, 1, 3])
    st.markdown(text.POSITION)
    ss[page.key("position")] = min(ss.get(page.key("position"), 0), grid.size - 1)   # after a smaller grid
    pos = st.slider("Input position (row-major)", 0, grid.size - 1, key=page.key("position"))
    draw(viewer.position_charts(tv.result, pos))
    draw([tv.overlap], [1])


def show_overlap() -> None:
    """② The 1D overlap picture."""
    controls(vform, ["ov_k"], ["ov_s"], ["ov_layers"])
    verdict, spec = viewer.overlap_chart(*(getattr(vform.config(), n) for n in ("ov_k", "ov_s", "ov_layers")))
    st.markdown(verdict.text)
    ui.chart(page, spec, "chart_ov1d")
    st.caption(text.OVERLAP_NOTE)


def pictures(items: list, skip: int = 0) -> None:
    """One 2×2 tile of live images per item (inline PNGs: no broken images while training)."""
    for col, (name, images, note) in zip(st.columns(len(items) + skip)[skip:], items):
        with col:
            ui.image_grid(images, 2, caption=name)
            st.caption(note)


def render(snap: dict, runner) -> None:
    left, right = st.columns([3, 2]) if page.presenting else (st.container(), None)
    with left, ui.view(page, "decoders"):
        pictures(uc.live_pictures(snap))
    st.caption(text.NOT_TRAINED if snap["step"] == 0 else text.CHECKER_NOTE)
    if not page.presenting:
        st.markdown(text.INITIAL)
        pictures(uc.initial_pictures(snap), skip=1)
    g1, g2 = (right, st.container()) if page.presenting else st.columns(2)
    with g1:
        ui.chart(page, lambda: uc.loss_chart(snap["history"], snap["variants"], 190 if page.presenting else 220,
                                     compact=page.presenting), "chart_loss", detail=True)
    with g2:
        ui.chart(page, lambda: uc.checker_chart(snap["metrics"], snap["variants"], snap["target_checker"]), "chart_checker", detail=True)


def show_decoders() -> None:
    """③ The four decoders trained live."""
    form = ui.Form(page, UpsamplingConfig)
    with ui.settings_box(page):
        controls(form, ["variants", "kinds"], ["resolution", "channels", "seed"], ["lr", "batch_size"])
    ui.live_panel(page, config := form.config(), make_trainer=UpsamplingTrainer, render=render,  # ⚡: as the guide
                  pretrained=lambda device: guide.pretrained(config, device, read=ui.checkpoint), to_widgets=form.to_widgets)
    with st.expander("What is going on", expanded=not page.presenting):
        st.markdown(text.EXPLANATION)


with ui.beside_guide(page, enabled=view != "decoders"):     # the live panel has its own
    {"viewer": show_viewer, "overlap": show_overlap, "decoders": show_decoders}[view]()
