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
