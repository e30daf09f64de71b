"""Live charts are drawn on a canvas (cheaper per frame in the browser than Vega's SVG default)."""
import json

from apptest_util import PAGES, run_page


def test_every_live_chart_asks_for_the_canvas_renderer():
    at = run_page(PAGES["gan1d"])
    at.button(key="gan1d_step_0").click().run()
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert specs, "the page draws its charts"
    assert all(s["usermeta"]["embedOptions"]["renderer"] == "canvas" for s in specs)
