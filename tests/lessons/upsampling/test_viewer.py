"""What the page draws, computed in the package: grids typed as text, the viewer's panels and
their check against PyTorch, the overlap verdict, the live charts' legends and captions."""
import base64

import numpy as np
import pytest

from core.images import grid_data_uri
from core.lessons.upsampling import (LECTURE_INPUT, TConvSettings, UpsamplingError, ViewerConfig, charts, grids,
                                     transposed_conv, viewer)
from core.lessons.upsampling.ops import partial_sum


# ---------------------------------------------------------------- grids
def test_grid_text_round_trip_and_edits():
    a = grids.parse_grid("1, 2; 3, 4.5")
    assert grids.format_grid(a) == "1, 2; 3, 4.5"
    assert grids.apply_edits(a, {0: {"1": 7}, "1": {0: 0.25}}) == "1, 7; 0.25, 4.5"
    cleared = grids.apply_edits(a, {1: {1: None}})            # a cleared cell: refused with a message
    with pytest.raises(UpsamplingError, match="finite"):
        grids.parse_grid(cleared)
    assert grids.resized_text(a, 3, 1) == "1; 3; 0"
    assert grids.ones_text(2) == "1, 1; 1, 1"
    assert grids.square_size("1, 2; 3, 4", 5) == 2 and grids.square_size("1, 2", 5) is None
    assert grids.square_size("x", 5) is None
    assert list(grids.table(a).columns) == ["0", "1"]


@pytest.mark.parametrize("text,match", [("", "empty"), ("1, x; 3, 4", "not a number"), ("1, 2; 3", "same number"),
                                        ("1", "2 to 8"), ("1e7, 1; 1, 1", "between")])
def test_bad_grids_give_messages(text, match):
    with pytest.raises(UpsamplingError, match=match):
        grids.parse_grid(text, "input")


# ---------------------------------------------------------------- the viewer
def test_upsample_view_matches_torch_and_says_the_sizes():
    p = viewer.upsample_view(LECTURE_INPUT, ViewerConfig(op="nearest upsampling", fh=2, fw=3))
    assert "2×2 → 4×6" in p.heading and p.key == "chart_up"
    assert "max |difference| = 0.0e+00" in p.note
    p = viewer.upsample_view(LECTURE_INPUT, ViewerConfig(op="bilinear upsampling", fh=3, fw=2, align_corners=True))
    assert "corners aligned" in p.heading and float(p.note.split("= ")[1].rstrip(".")) < 1e-12


def test_tconv_view_of_the_lecture_example():
    tv, problem = viewer.try_tconv(LECTURE_INPUT, np.ones((1, 1)), ViewerConfig())
    assert problem is None and tv.finite
    assert tv.formula.splitlines()[0] == "height: (2 − 1)·2 − 2·0 + 1·(1 − 1) + 0 + 1 = 3"
    assert [p.key for p in tv.steps] == ["chart_padded", "chart_kernel", "chart_out"]
    assert "agree" in tv.steps[2].note and tv.overlap.key == "chart_overlap"
    np.testing.assert_array_equal(tv.result.output, [[1, 0, 2], [0, 0, 0], [3, 0, 4]])


def test_impossible_combination_is_a_message():
    tv, problem = viewer.try_tconv(LECTURE_INPUT, np.ones((1, 1)), ViewerConfig(stride=1, output_padding=1))
    assert tv is None and "impossible" in problem and "output padding" in problem


def test_overflow_is_reported_not_drawn():
    with np.errstate(over="ignore"):
        tv, _ = viewer.try_tconv(np.full((2, 2), 1e300), np.full((2, 2), 1e300), ViewerConfig())
    assert not tv.finite and tv.steps[2].note == ""
    tv, _ = viewer.try_tconv(np.full((8, 8), 1e6), np.full((5, 5), 1e6), ViewerConfig(bias=-1e308))
    assert tv.finite                  # the largest values the page accepts stay finite


def test_position_charts_build_the_output():
    x = np.arange(6.0).reshape(2, 3)
    tv, _ = viewer.try_tconv(x, np.ones((3, 3)), ViewerConfig(stride=2, padding=1))
    panels = viewer.position_charts(tv.result, 99)               # clamped to the last position
    assert [p.key for p in panels] == ["chart_pos_in", "chart_contrib", "chart_partial"]
    assert "6 of 6" in panels[2].spec["title"]
    np.testing.assert_allclose(partial_sum(tv.result, 5), tv.result.output)


def test_overlap_verdicts():
    v, spec = viewer.overlap_chart(3, 2, 2)
    assert not v.even and "**uneven**" in v.text and v.levels == [1, 2, 3]
    assert len(spec["title"]) <= 60
    v, _ = viewer.overlap_chart(4, 2, 3)
    assert v.even and "**even**" in v.text


def test_kernel_4_stride_2_padding_1_is_even_only_inside():
    """docs/upsampling.md: inside every pixel gets 4 taps; the border rows and columns 2, the corners 1."""
    ov = transposed_conv(np.ones((4, 4)), TConvSettings(kernel=np.ones((4, 4)), stride=(2, 2), padding=(1, 1))).overlap
    assert set(np.unique(ov[1:-1, 1:-1]).tolist()) == {4.0}
    assert set(np.unique(ov[0, 1:-1]).tolist()) == {2.0} and ov[0, 0] == ov[-1, -1] == 1.0


# ---------------------------------------------------------------- the live charts and pictures
def _snap(step: int) -> dict:
    r = np.random.default_rng(0)
    vs = ["tconv3", "tconv4", "nearest", "bilinear"]
    n = step
    return {"step": step, "variants": vs, "targets": r.random((4, 16, 16)),
            "outputs": {v: r.normal(0.5, 2, (4, 16, 16)) for v in vs},
            "initial": {v: r.normal(0, 0.01, (4, 16, 16)) for v in vs},
            "history": {"step": np.arange(1, n + 1.0), **{f"loss_{v}": r.random(n) for v in vs}},
            "metrics": {"step": np.arange(0, n + 1.0, 25), **{f"checker_{v}": r.random(len(range(0, n + 1, 25)))
                                                               for v in vs}},
            "loss": {v: float("nan") if step == 0 else 0.02 for v in vs},
            "checker": {v: 0.03 for v in vs}, "target_checker": 0.004, "resolution": 16}


def test_every_line_has_a_legend_entry_and_titles_are_short():
    snap = _snap(100)
    loss = charts.loss_chart(snap["history"], snap["variants"])
    enc = loss["layer"][0]["encoding"]["color"]
    assert enc["scale"]["domain"] == ["tconv k=3", "tconv k=4", "nearest + conv", "bilinear + conv"]
    assert enc.get("legend", {}) is not None and loss["config"]["legend"]["columns"] == 2
    checker = charts.checker_chart(snap["metrics"], snap["variants"], snap["target_checker"])
    names = checker["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert names[-1] == charts.TARGETS_LINE
    assert checker["layer"][0]["encoding"]["strokeDash"]["scale"]["domain"] == names
    # no rule layers without a legend
    assert not [layer for layer in checker["layer"] if layer.get("mark", {}).get("type") == "rule"]
    for spec in (loss, checker):
        assert len(spec["title"]) <= 40


def test_captions_are_short_and_never_say_nan():
    for step in (0, 100):
        caps = charts.captions(_snap(step))
        for text in caps.values():
            assert "nan" not in text.lower() and len(text) <= 32
        assert all(t.startswith("not trained yet" if step == 0 else "loss 0.0200") for t in caps.values())
    pics = charts.live_pictures(_snap(0))
    assert [p[0] for p in pics] == ["targets", "tconv k=3", "tconv k=4", "nearest + conv", "bilinear + conv"]
    assert all(len(p[0]) <= 16 for p in pics)


def test_live_pictures_are_inline_pngs():
    for name, images, _ in charts.live_pictures(_snap(10)) + charts.initial_pictures(_snap(10)):
        uri = grid_data_uri(images, 2)
        assert uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    stretched = charts.stretch(_snap(0)["initial"]["tconv3"])
    assert stretched.min() == 0.0 and stretched.max() == 1.0
    assert charts.stretch(np.full((2, 3, 3), np.nan)).max() == 0.0
