"""The "take it home" box under every lesson's live panel: the run as a PyTorch script and a
notebook, its history as CSV, its checkpoint (download and upload), each chart as PNG/SVG for
slides, and a lesson link that pins settings. Every file is made when its button is clicked
(a deferred download), never while drawing a frame. The maths of it is in ``core.export``."""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from core import export, settings
from core.checkpoints import MAX_UPLOAD_BYTES, checkpoint_bytes, read_checkpoint_bytes
from core.live import LiveRunner
from core.ui.page import Page, chart_specs

MIME_NOTEBOOK = "application/x-ipynb+json"


LoadRun = Callable[[Callable[[Any], Any], str, str], None]


def takehome_box(page: Page, runner: LiveRunner, config_cls: type, load_run: LoadRun,
                 from_checkpoint: Callable[[dict, Any], Any] | None) -> None:
    """The box, behind a switch that starts off. ``load_run(load, failure, success)`` installs the trainer ``load(device)``
    builds; ``from_checkpoint(state, device)`` rebuilds a run from a checkpoint dict (None: the
    lesson cannot, so no upload)."""
    key = page.key("takehome_open")
    # A toggle, not an expander: folded, nothing inside is built, so every full run of the page
    # (each click) stays cheaper for the server and the browser re-renders a smaller page on every
    # frame. (A keyed expander with on_change="rerun" here made a later upload's rerun read every
    # setting at its minimum, Streamlit 1.67.)
    if not st.toggle("📦 Take it home: code, data, weights, charts for slides, a lesson link", key=key):
        return
    with st.container(border=True):
        code, data, pics, link = st.tabs(["PyTorch code", "History and weights", "Charts for slides", "Lesson link"])
        with code:
            _code(page, runner)
        with data:
            _data(page, runner, load_run, from_checkpoint)
        with pics:
            _charts(page)
        with link:
            _link(page, config_cls)


def _code(page: Page, runner: LiveRunner) -> None:
    module = export.exporter(page.lesson)
    if module is None:
        st.caption("This lesson does not offer its code as a script yet.")
        return
    st.markdown("The current run's settings (seed included) as a plain PyTorch script, or as a "
                "notebook for Jupyter or Colab: the data, the model, the training loop and the main chart.")
    cfg = runner.trainer.config
    files = getattr(module, "files", lambda c: {})
    c1, c2, c3 = st.columns(3)
    c1.download_button("⬇ Script (.py)", lambda: module.script(cfg), f"{page.lesson}.py", "text/x-python",
                       key=page.key("takehome_dl_py"), on_click="ignore", width="stretch")
    c2.download_button("⬇ Notebook (.ipynb)", lambda: export.notebook(module.script(cfg)), f"{page.lesson}.ipynb",
                       MIME_NOTEBOOK, key=page.key("takehome_dl_ipynb"), on_click="ignore", width="stretch")
    needs = list(files(cfg))
    if needs:
        c3.download_button("⬇ Both + data (.zip)", lambda: export.bundle(page.lesson, module.script(cfg), files(cfg)),
                           f"{page.lesson}.zip", "application/zip", key=page.key("takehome_dl_zip"), on_click="ignore",
                           width="stretch")
        st.caption(f"The script reads {', '.join(needs)} from its own folder: take the .zip, or put "
                   "the file beside the script.")
    st.caption(f"How close it comes to this page: {module.MISMATCH}")


def _data(page: Page, runner: LiveRunner, load_run: LoadRun, from_checkpoint: Callable[..., Any] | None) -> None:
    c1, c2 = st.columns(2)
    c1.download_button("⬇ History (.csv)", lambda: runner.call(lambda t: export.history_csv(t.histories())),
                       f"{page.lesson}_history.csv", "text/csv", key=page.key("takehome_dl_csv"), on_click="ignore",
                       width="stretch", help="Every recorded value per step (long runs: the mean of each bin of steps).")
    c2.download_button("⬇ Checkpoint (.pt)", lambda: checkpoint_bytes(runner.call(lambda t: t.state_dict())),
                       f"{page.lesson}_step{runner.trainer.step_count}.pt", "application/octet-stream",
                       key=page.key("takehome_dl_pt"), on_click="ignore", width="stretch",
                       help="Weights, optimiser state, settings and history in one dict, the format of "
                            "pretrained/: torch.load(path, weights_only=True).")
    if from_checkpoint is None:
        return
    st.file_uploader(f"Continue from a checkpoint of this lesson (.pt, under {MAX_UPLOAD_BYTES // 2**20} MB)",
                     type=["pt"], key=page.key("takehome_upload"), on_change=_on_upload, args=(page, load_run, from_checkpoint),
                     help="Checked before it is read: its size unpacked, every tensor's shape against this "
                          "lesson's model, its settings against their bounds; then loaded with "
                          "torch.load(weights_only=True) (a file holding code is refused, never run) and "
                          "checked for NaN or infinite weights. The run continues exactly where it was saved.")


def _on_upload(page: Page, load_run: LoadRun, from_checkpoint: Callable[..., Any]) -> None:
    file = st.session_state.get(page.key("takehome_upload"))
    if file is None:
        return
    data, name = file.getvalue(), file.name

    def load(device: Any) -> Any:
        return from_checkpoint(read_checkpoint_bytes(data, name, page.lesson, device=device), device)

    load_run(load, f"{name} was not loaded", f"Loaded {name}")


def _charts(page: Page) -> None:
    specs = chart_specs(page)
    if not specs:
        st.caption("Press ▶ Train or Step first: the charts are drawn from the run.")
        return
    names = {key: (spec.get("title") if isinstance(spec.get("title"), str) else None) or key.replace("chart_", "").replace("_", " ")
             for key, spec in specs.items()}
    key = st.selectbox("Chart", list(names), format_func=names.get, key=page.key("takehome_slide_chart"))
    spec = specs.get(key)
    if spec is None:
        return
    c1, c2 = st.columns(2)
    c1.download_button("⬇ PNG", lambda: export.chart_image(spec, "png"), f"{page.lesson}_{key}.png", "image/png",
                       key=page.key("takehome_dl_png"), on_click="ignore", width="stretch")
    c2.download_button("⬇ SVG", lambda: export.chart_image(spec, "svg"), f"{page.lesson}_{key}.svg",
                       "image/svg+xml", key=page.key("takehome_dl_svg"), on_click="ignore", width="stretch")
    st.caption("As the chart was at the last frame, on a white background.")


def _link(page: Page, config_cls: type) -> None:
    decls = {n: d for n, d in settings.declarations(config_cls).items() if d.widget != "none"}
    st.markdown("Hand out this page as prepared: the link carries every setting. Settings you pin "
                "show to students read-only, with a 🔒.")
    hide = st.multiselect("Pin these settings", list(decls), format_func=lambda n: decls[n].label,
                          key=page.key("takehome_link_hide"), placeholder="none: students can change everything")
    every = st.toggle("Pin every setting", key=page.key("takehome_link_all"))
    present = st.toggle("Open in presentation mode", key=page.key("takehome_link_present"))
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    st.code(export.lesson_link(st.context.url or f"/{page.lesson}", params, page.lesson,
                               ["*"] if every else hide, present), language=None, wrap_lines=True)
