"""AppTest: the upsampling page (pages/upsampling.py) opens on the chosen view, edits the grid,
changes the stride, shows a message for an impossible combination, steps the decoders, stops a
blow-up with its message, and reads links of the old form (?up_…)."""
import numpy as np
from apptest_util import is_training, metric, press_pause, press_train, run_page
from streamlit.testing.v1 import AppTest

PAGE = "pages/upsampling.py"


def open_page(**query) -> AppTest:
    return run_page(PAGE, **query)


def codes(at: AppTest) -> str:
    return "\n".join(c.value for c in at.code)


def images(at: AppTest) -> list[str]:
    return [img.url for el in at.get("image") for img in el.proto.imgs]


def test_opens_with_the_lecture_example():
    at = open_page()
    assert not at.error
    assert at.radio(key="upsampling_view").value == "viewer"
    assert at.text_input(key="upsampling_grid").value == "1, 2; 3, 4"
    assert at.text_input(key="upsampling_kernel").value == "1"
    # 1×1 kernel, stride 2: (2 − 1)·2 − 0 + 0 + 0 + 1 = 3
    assert "= 3" in codes(at)
    assert len(at.get("vega_lite_chart")) >= 7
    # only the chosen view is computed and drawn: no training controls, no overlap bars
    assert not at.get("button_group") and not at.get("metric")
    assert not any("Paths to each output" in c.proto.spec for c in at.get("vega_lite_chart"))


def test_edit_grid_change_stride_and_impossible_combination():
    at = open_page()
    at.text_input(key="upsampling_grid").input("1, 2, 3; 4, 5, 6; 7, 8, 9").run()
    assert not at.exception and not at.error
    assert at.number_input(key="upsampling_rows").value == 3
    assert "height: (3 − 1)·2" in codes(at)
    at.slider(key="upsampling_stride").set_value(3).run()
    assert not at.exception and "(3 − 1)·3 − 2·0 + 1·(1 − 1) + 0 + 1 = 7" in codes(at)
    # step through the input positions
    at.slider(key="upsampling_position").set_value(4).run()
    assert not at.exception and any("5 of 9" in c.proto.spec for c in at.get("vega_lite_chart"))
    # output padding ≥ stride (and ≥ dilation): a message, not an exception
    at.slider(key="upsampling_stride").set_value(1).run()
    at.slider(key="upsampling_output_padding").set_value(2).run()
    assert not at.exception
    assert any("impossible" in e.value and "output padding" in e.value for e in at.error)
    # output size ≤ 0
    at.slider(key="upsampling_output_padding").set_value(0).run()
    at.slider(key="upsampling_padding").set_value(4).run()
    assert any("would be" in e.value for e in at.error)
    at.slider(key="upsampling_padding").set_value(0).run()
    assert not at.error
    # a bad cell: a message, and a way back
    at.text_input(key="upsampling_grid").input("1, x; 3, 4").run()
    assert not at.exception and any("not a number" in e.value for e in at.error)
    at.text_input(key="upsampling_grid").input("1, 2; 3, 4").run()
    assert not at.error
    # a smaller grid after the last position of a bigger one: the position follows
    at.text_input(key="upsampling_grid").input("1, 2, 3; 4, 5, 6; 7, 8, 9").run()
    at.slider(key="upsampling_position").set_value(8).run()
    at.text_input(key="upsampling_grid").input("1, 2; 3, 4").run()
    assert not at.exception and at.slider(key="upsampling_position").value == 3


def test_resize_kernel_and_upsampling_modes():
    at = open_page()
    at.number_input(key="upsampling_cols").set_value(4).run()
    assert at.text_input(key="upsampling_grid").value == "1, 2, 0, 0; 3, 4, 0, 0"
    at.slider(key="upsampling_ksize").set_value(3).run()
    assert at.text_input(key="upsampling_kernel").value == "1, 1, 1; 1, 1, 1; 1, 1, 1"
    assert not at.exception and not at.error
    at.text_input(key="upsampling_kernel").input("0, 1; 1, 0").run()
    assert at.slider(key="upsampling_ksize").value == 2           # the size follows a typed kernel
    at.radio(key="upsampling_op").set_value("nearest upsampling").run()
    at.slider(key="upsampling_fh").set_value(2).run()
    at.slider(key="upsampling_fw").set_value(3).run()
    assert not at.exception and any("2×4 → 4×12" in m.value for m in at.markdown)
    at.radio(key="upsampling_op").set_value("bilinear upsampling").run()
    at.toggle(key="upsampling_align_corners").set_value(True).run()
    assert not at.exception and not at.error and any("corners aligned" in m.value for m in at.markdown)


def test_overlap_view_from_a_link():
    at = open_page(upsampling_view="overlap")
    assert at.radio(key="upsampling_view").value == "overlap"
    assert any("**uneven**" in m.value for m in at.markdown)
    at.slider(key="upsampling_ov_k").set_value(4).run()
    assert any("**even**" in m.value for m in at.markdown) and not at.exception
    assert len(at.get("vega_lite_chart")) == 1


def test_step_training_reset_and_pretrained():
    at = open_page(upsampling_view="decoders")
    assert metric(at, "Steps trained") == "0"
    viewer_boxes = [t for t in at.text_input if t.key in ("upsampling_grid", "upsampling_kernel")]
    assert not viewer_boxes, "the viewer is not drawn on the decoders view"   # (the sidebar has the class box's)
    # step 0: the pictures are there (inline PNGs), the captions say "not trained yet", never nan
    assert len(images(at)) == 9 and all(u.startswith("data:image/png;base64,") for u in images(at))
    caps = [c.value for c in at.caption]
    assert sum(c.startswith("not trained yet") for c in caps) == 4 and not any("nan" in c.lower() for c in caps)
    at.button(key="upsampling_step_0").click().run()
    assert not at.exception and metric(at, "Steps trained") == "1"
    assert any(c.value.startswith("loss 0.") for c in at.caption)
    at.select_slider(key="upsampling_lr").set_value(0.001).run()
    assert metric(at, "Steps trained") == "1"
    assert at.session_state["upsampling_runner"].trainer.config.lr == 0.001
    at.multiselect(key="upsampling_variants").set_value(["tconv3", "bilinear"]).run()
    assert metric(at, "Steps trained") == "0"
    assert tuple(at.session_state["upsampling_runner"].trainer.models) == ("tconv3", "bilinear")
    at.multiselect(key="upsampling_variants").set_value([]).run()
    assert not at.exception and any("at least one decoder" in e.value for e in at.error)
    at.multiselect(key="upsampling_variants").set_value(["tconv3", "tconv4", "nearest", "bilinear"]).run()
    at.button(key="upsampling_pretrained").click().run()
    assert not at.exception
    assert any("pretrained" in s.value for s in at.success), [w.value for w in at.warning]
    assert int(metric(at, "Steps trained").replace(",", "")) >= 1000
    at.button(key="upsampling_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_train_and_pause():
    at = open_page(upsampling_view="decoders")
    press_train(at, "upsampling")
    assert is_training(at, "upsampling") and not at.exception
    assert int(metric(at, "Steps trained").replace(",", "")) > 0      # the first frame trains briefly
    press_pause(at, "upsampling")
    assert not is_training(at, "upsampling")


def test_highest_learning_rate_stops_with_the_message():
    at = open_page(upsampling_view="decoders", upsampling_lr="10")
    for _ in range(3):
        at.button(key="upsampling_step_0").click().run()
    assert not at.exception
    assert any("blew up" in e.value and "ran away" in e.value for e in at.error), [e.value for e in at.error]
    assert not any("Finished" in s.value for s in at.success)
    # the charts keep the history up to the blow-up
    assert any('"chart_loss"' in c.proto.id or "Loss" in c.proto.spec for c in at.get("vega_lite_chart"))


def test_largest_settings_draw():
    """8×8 input, k=5, s=4, output padding 3, dilation 3: the largest grids the page can ask for."""
    at = open_page(upsampling_grid="; ".join(", ".join(str(r * 8 + c) for c in range(8)) for r in range(8)),
                   upsampling_kernel="; ".join(["1, 2, 3, 2, 1"] * 5), upsampling_stride="4",
                   upsampling_output_padding="3", upsampling_dilation="3")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "= 44" in codes(at)
    assert at.slider(key="upsampling_ksize").value == 5               # read from the linked kernel
    at.slider(key="upsampling_position").set_value(63).run()
    assert not at.exception and not at.warning


def test_old_links_still_work():
    at = open_page(up_grid="1, 2, 3; 4, 5, 6", up_stride="3")
    assert at.text_input(key="upsampling_grid").value == "1, 2, 3; 4, 5, 6"
    assert at.slider(key="upsampling_stride").value == 3
    assert "(3 − 1)·3" in codes(at)


def test_presentation_mode_draws_the_live_view():
    at = open_page(upsampling_view="decoders", present="true")
    assert not at.exception and len(images(at)) == 5                 # no initial row on a projector
    np.testing.assert_equal(len(at.get("vega_lite_chart")), 2)
