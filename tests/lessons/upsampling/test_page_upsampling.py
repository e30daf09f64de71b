"""AppTest: the upsampling page (pages/5_Upsampling.py) opens, edits the grid, changes the stride,
shows a message for an impossible combination, and steps the decoders."""
import pathlib

import numpy as np
from apptest_util import metric, run_page
from streamlit.testing.v1 import AppTest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages/5_Upsampling.py")


def open_page(**query) -> AppTest:
    return run_page("pages/5_Upsampling.py", **query)


def codes(at: AppTest) -> str:
    return "\n".join(c.value for c in at.code)


def test_opens_with_the_lecture_example():
    at = open_page()
    assert not at.error
    assert at.text_input(key="up_grid").value == "1, 2; 3, 4"
    assert at.text_input(key="up_kernel").value == "1"
    # 1×1 kernel, stride 2: (2 − 1)·2 − 0 + 0 + 0 + 1 = 3
    assert "= 3" in codes(at)
    assert len(at.get("vega_lite_chart")) >= 8
    assert metric(at, "Steps trained") == "0"


def test_edit_grid_change_stride_and_impossible_combination():
    at = open_page()
    at.text_input(key="up_grid").input("1, 2, 3; 4, 5, 6; 7, 8, 9").run()
    assert not at.exception and not at.error
    assert at.number_input(key="up_rows").value == 3
    assert "height: (3 − 1)·2" in codes(at)
    at.slider(key="up_stride").set_value(3).run()
    assert not at.exception and "(3 − 1)·3 − 2·0 + 1·(1 − 1) + 0 + 1 = 7" in codes(at)
    # step through the input positions
    at.slider(key="up_position").set_value(4).run()
    assert not at.exception and any("5 of 9" in c.proto.spec for c in at.get("vega_lite_chart"))
    # output padding ≥ stride (and ≥ dilation): a message, not an exception
    at.slider(key="up_stride").set_value(1).run()
    at.slider(key="up_output_padding").set_value(2).run()
    assert not at.exception
    assert any("impossible" in e.value and "output padding" in e.value for e in at.error)
    # output size ≤ 0
    at.slider(key="up_output_padding").set_value(0).run()
    at.slider(key="up_padding").set_value(4).run()
    assert any("would be" in e.value for e in at.error)
    at.slider(key="up_padding").set_value(0).run()
    assert not at.error
    # a bad cell: a message, and a way back
    at.text_input(key="up_grid").input("1, x; 3, 4").run()
    assert not at.exception and any("not a number" in e.value for e in at.error)
    at.text_input(key="up_grid").input("1, 2; 3, 4").run()
    assert not at.error


def test_resize_kernel_and_upsampling_modes():
    at = open_page()
    at.number_input(key="up_cols").set_value(4).run()
    assert at.text_input(key="up_grid").value == "1, 2, 0, 0; 3, 4, 0, 0"
    at.slider(key="up_ksize").set_value(3).run()
    assert at.text_input(key="up_kernel").value == "1, 1, 1; 1, 1, 1; 1, 1, 1"
    assert not at.exception and not at.error
    at.radio(key="up_op").set_value("nearest upsampling").run()
    at.slider(key="up_fh").set_value(2).run()
    at.slider(key="up_fw").set_value(3).run()
    assert not at.exception and any("2×4 → 4×12" in m.value for m in at.markdown)
    at.radio(key="up_op").set_value("bilinear upsampling").run()
    assert not at.exception and not at.error


def test_step_training_reset_and_pretrained():
    at = open_page()
    at.button(key="up_step_0").click().run()
    assert not at.exception and metric(at, "Steps trained") == "1"
    at.select_slider(key="up_lr").set_value(0.001).run()
    assert metric(at, "Steps trained") == "1"
    assert at.session_state["up_runner"].trainer.config.lr == 0.001
    at.multiselect(key="up_variants").set_value(["tconv3", "bilinear"]).run()
    assert metric(at, "Steps trained") == "0" and tuple(at.session_state["up_runner"].trainer.models) == ("tconv3", "bilinear")
    at.multiselect(key="up_variants").set_value([]).run()
    assert not at.exception and any("at least one decoder" in e.value for e in at.error)
    at.multiselect(key="up_variants").set_value(["tconv3", "tconv4", "nearest", "bilinear"]).run()
    at.button(key="up_pretrained").click().run()
    assert not at.exception
    assert any("pretrained" in s.value for s in at.success), [w.value for w in at.warning]
    assert int(metric(at, "Steps trained").replace(",", "")) >= 1000
    at.button(key="up_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_largest_settings_draw():
    """8×8 input, k=5, s=4, output padding 3, dilation 3: the largest grids the page can ask for."""
    at = open_page(up_grid="; ".join(", ".join(str(r * 8 + c) for c in range(8)) for r in range(8)),
                   up_kernel="; ".join(["1, 2, 3, 2, 1"] * 5), up_stride="4", up_output_padding="3",
                   up_dilation="3")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "= 44" in codes(at)
    at.slider(key="up_position").set_value(63).run()
    assert not at.exception and not at.warning
