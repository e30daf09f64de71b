"""The only Streamlit code in core: page setup, widgets from declarations, THE live loop, live
images. A lesson page reads top-down::

    page = ui.page_setup("gan1d", intro="…")                 # config, sidebar, device, title
    form = ui.Form(page, Gan1DConfig)                         # controls from the declarations
    with ui.settings_box(page): form.controls("lr_d", "lr_g")
    ui.live_panel(page, form.config(), make_trainer=Gan1DTrainer, render=draw)   # the live loop
    st.markdown(explanation)
"""
from core.ui.loop import PAUSE, TRAIN, beside_guide, is_running, live_panel
from core.ui.media import image, image_grid
from core.ui.page import Page, chart, checkpoint, detail_view, page_setup, settings_box, view
from core.ui.widgets import Form, LEARNING_RATES, bound, url_int, widget

__all__ = ["PAUSE", "TRAIN", "beside_guide", "is_running", "live_panel", "image", "image_grid", "Page", "chart", "checkpoint", "detail_view",
           "page_setup", "settings_box", "view", "Form", "LEARNING_RATES", "bound", "url_int", "widget"]
