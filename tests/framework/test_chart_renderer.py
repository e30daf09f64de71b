"""While training, live charts are drawn on a canvas (cheaper per frame in the browser than Vega's
SVG); paused, they are SVG, so their titles and labels are text in the page."""
import json

from apptest_util import PAGES, press_pause, press_train, run_page


def _renderers(at) -> list:
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert specs, "the page draws its charts"
    return [s.get("usermeta", {}).get("embedOptions", {}).get("renderer", "svg") for s in specs]


def test_live_charts_use_the_canvas_while_training_and_svg_when_paused():
    at = run_page(PAGES["gan1d"])
    at.button(key="gan1d_step_0").click().run()
    assert set(_renderers(at)) == {"svg"}
    press_train(at, "gan1d")
    assert set(_renderers(at)) == {"canvas"}
    press_pause(at, "gan1d")
    assert set(_renderers(at)) == {"svg"}


def test_linear_axes_label_hundreds_as_numbers_and_long_legends_wrap():
    """Vega gives a format without a precision the tick step's: "~g" labelled a loss axis
    60, 1e+2, 1.4e+2, 1.8e+2 (autoencoders' reconstruction loss). Rendered by Vega itself."""
    import re

    import numpy as np

    from core import charts
    from core.export import chart_image
    x = np.arange(200.0)
    y = 60.0 + 120.0 * np.exp(-x / 20.0)                          # a loss falling from 180 to 60
    spec = charts.line_chart(x, {"autoencoder": y, "VAE": y + 5, "denoising AE": y + 10})
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", chart_image(spec, "svg", width=260).decode())
    assert "180" in labels and "100" in labels and not any("e+" in t for t in labels), labels
    assert {"autoencoder", "VAE", "denoising AE"} <= set(labels)
    assert charts.legend_columns(["autoencoder", "VAE", "denoising AE"]) == 2   # too long for one row
    assert charts.legend_columns(["D loss", "G loss", "code CE"]) == 3
