"""The upsampling lesson's maths against PyTorch (float64, 1e-6), the overlap claims, and the trainer."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core import checkpoints
from core.lessons.upsampling import (LECTURE_INPUT, TConvSettings, UpsamplingConfig, UpsamplingError,
                                     UpsamplingTrainer, checkerboard_score, contribution, interior, output_size,
                                     overlap_1d, overlap_is_even, transposed_conv, upsample_bilinear,
                                     upsample_nearest)
from core.lessons.upsampling.ops import (DILATION_RANGE, KERNEL_RANGE, OUTPUT_PADDING_RANGE, PADDING_RANGE,
                                         STRIDE_RANGE)

TOL = 1e-6


def torch_tconv(x: np.ndarray, st: TConvSettings) -> np.ndarray:
    out = F.conv_transpose2d(torch.tensor(x, dtype=torch.float64)[None, None],
                             torch.tensor(np.asarray(st.kernel), dtype=torch.float64)[None, None],
                             torch.tensor([st.bias], dtype=torch.float64), stride=st.stride,
                             padding=st.padding, output_padding=st.output_padding, dilation=st.dilation)
    return out[0, 0].numpy()


def _rng_kernel(rng, kh, kw):
    return rng.standard_normal((kh, kw))


def test_lecture_example_inserts_zeros():
    """The lecture's 1×1 kernel of weight 1, bias 0, stride 2: the inputs with zeros between them."""
    r = transposed_conv(LECTURE_INPUT, TConvSettings(stride=(2, 2)))
    np.testing.assert_array_equal(r.zero_inserted, [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    # torch gives 3×3; the lecture's 4×4 picture is the same with output padding 1
    np.testing.assert_array_equal(r.output, [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    r4 = transposed_conv(LECTURE_INPUT, TConvSettings(stride=(2, 2), output_padding=(1, 1)))
    np.testing.assert_array_equal(r4.output, [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(r4.output, torch_tconv(LECTURE_INPUT, r4.settings), atol=TOL)
    # stride 1: the identity
    np.testing.assert_array_equal(transposed_conv(LECTURE_INPUT, TConvSettings(stride=(1, 1))).output,
                                  LECTURE_INPUT)


def _sweep():
    for k, s, p, op, d in itertools.product(range(KERNEL_RANGE[0], KERNEL_RANGE[1] + 1),
                                            range(STRIDE_RANGE[0], STRIDE_RANGE[1] + 1),
                                            range(PADDING_RANGE[0], PADDING_RANGE[1] + 1),
                                            range(OUTPUT_PADDING_RANGE[0], OUTPUT_PADDING_RANGE[1] + 1),
                                            range(DILATION_RANGE[0], DILATION_RANGE[1] + 1)):
        yield k, s, p, op, d


def test_zero_insertion_plus_conv_equals_conv_transpose2d_over_the_page_ranges():
    """Every kernel size, stride, padding, output padding and dilation the page offers, on a 3×4 input:
    valid combinations match torch to 1e-6 (values, shape, the size formula); invalid ones are
    refused by both (ours with UpsamplingError, torch with RuntimeError)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    n_ok = n_bad = 0
    for k, s, p, op, d in _sweep():
        st = TConvSettings(kernel=_rng_kernel(rng, k, k), bias=float(rng.standard_normal()),
                           stride=(s, s), padding=(p, p), output_padding=(op, op), dilation=(d, d))
        try:
            ref = torch_tconv(x, st)
        except RuntimeError:
            with pytest.raises(UpsamplingError):
                transposed_conv(x, st)
            n_bad += 1
            continue
        r = transposed_conv(x, st)
        assert r.output.shape == ref.shape == (output_size(3, k, s, p, op, d), output_size(4, k, s, p, op, d))
        np.testing.assert_allclose(r.output, ref, atol=TOL, rtol=0, err_msg=str((k, s, p, op, d)))
        n_ok += 1
    assert n_ok > 500 and n_bad > 100


def test_rectangular_kernels_and_separate_strides():
    rng = np.random.default_rng(1)
    for (H, W), (kh, kw), (sh, sw), (ph, pw), (oph, opw) in [
            ((2, 2), (1, 3), (2, 3), (0, 1), (1, 2)), ((5, 3), (4, 2), (3, 1), (1, 0), (2, 0)),
            ((8, 8), (5, 5), (4, 4), (4, 2), (3, 1)), ((2, 7), (3, 1), (1, 2), (0, 0), (0, 1))]:
        x = rng.standard_normal((H, W))
        st = TConvSettings(kernel=_rng_kernel(rng, kh, kw), bias=0.3, stride=(sh, sw), padding=(ph, pw),
                           output_padding=(oph, opw))
        np.testing.assert_allclose(transposed_conv(x, st).output, torch_tconv(x, st), atol=TOL)


def test_contributions_sum_to_the_output_and_overlap_counts_taps():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    st = TConvSettings(kernel=rng.standard_normal((3, 3)), bias=-0.7, stride=(2, 2), padding=(1, 1),
                       output_padding=(1, 0))
    r = transposed_conv(x, st)
    total = np.full(r.output.shape, st.bias)
    count = np.zeros(r.output.shape)
    for i, j in itertools.product(range(4), range(3)):
        vals, mask = contribution(r, i, j)
        total += vals
        count += mask
    np.testing.assert_allclose(total, r.output, atol=TOL)
    np.testing.assert_array_equal(count, r.overlap)   # a 3×3 kernel touches each pixel at most once per input
    # the overlap map = conv_transpose2d of ones with a kernel of ones
    ones = TConvSettings(kernel=np.ones((3, 3)), stride=(2, 2), padding=(1, 1), output_padding=(1, 0))
    np.testing.assert_allclose(r.overlap, torch_tconv(np.ones((4, 3)), ones), atol=TOL)


def test_impossible_combinations_give_messages():
    x = np.ones((2, 2))
    with pytest.raises(UpsamplingError, match="output padding"):
        transposed_conv(x, TConvSettings(stride=(2, 2), output_padding=(2, 2)))
    with pytest.raises(UpsamplingError, match="output padding"):
        transposed_conv(x, TConvSettings(stride=(1, 1), output_padding=(1, 1)))
    # output padding ≥ stride is allowed when it is smaller than the dilation (torch's rule)
    st = TConvSettings(kernel=np.ones((2, 2)), stride=(1, 1), output_padding=(1, 1), dilation=(2, 2))
    np.testing.assert_allclose(transposed_conv(x, st).output, torch_tconv(x, st), atol=TOL)
    with pytest.raises(UpsamplingError, match="would be -2"):
        transposed_conv(x, TConvSettings(stride=(1, 1), padding=(2, 2)))
    with pytest.raises(UpsamplingError, match="would be 0"):
        transposed_conv(np.ones((1, 1)), TConvSettings(stride=(2, 2), padding=(1, 1), output_padding=(1, 1)))
    with pytest.raises(UpsamplingError, match="finite"):
        transposed_conv(np.array([[1.0, np.nan]]), TConvSettings())
    with pytest.raises(UpsamplingError):
        upsample_nearest(np.ones((2, 2)), 0, 2)


@pytest.mark.parametrize("H,W", [(2, 2), (3, 5), (8, 8), (1, 4)])
def test_upsampling_equals_interpolate(H, W):
    """Nearest = F.interpolate(mode='nearest'); bilinear = F.interpolate(mode='bilinear') with
    align_corners=False (the page's default: half-pixel centres, like Keras' UpSampling2D) and True."""
    x = np.random.default_rng(H * 10 + W).standard_normal((H, W))
    t = torch.tensor(x, dtype=torch.float64)[None, None]
    for fh, fw in itertools.product(range(1, 5), range(1, 5)):
        ref = F.interpolate(t, scale_factor=(fh, fw), mode="nearest")[0, 0].numpy()
        np.testing.assert_allclose(upsample_nearest(x, fh, fw), ref, atol=TOL)
        for ac in (False, True):
            ref = F.interpolate(t, scale_factor=(fh, fw), mode="bilinear", align_corners=ac)[0, 0].numpy()
            np.testing.assert_allclose(upsample_bilinear(x, fh, fw, align_corners=ac), ref, atol=TOL,
                                       err_msg=f"{fh}x{fw} align_corners={ac}")


def test_lecture_size_2_3_gives_4x6():
    out = upsample_nearest(LECTURE_INPUT, 2, 3)
    assert out.shape == (4, 6)
    np.testing.assert_array_equal(out[:, :3], [[1, 1, 1]] * 2 + [[3, 3, 3]] * 2)
    np.testing.assert_array_equal(upsample_nearest(LECTURE_INPUT, 2, 2),
                                  [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])


def test_overlap_claims():
    """k=3, s=2 overlaps unevenly (1, 2, 1, 2, …); k=4, s=2 evenly (2, 2, …); stacking compounds."""
    one = interior(overlap_1d(3, 2, 1, 12)[-1], 3, 2, 1)
    assert set(one.tolist()) == {1.0, 2.0}
    assert set(interior(overlap_1d(4, 2, 1, 12)[-1], 4, 2, 1).tolist()) == {2.0}
    two = interior(overlap_1d(3, 2, 2, 12)[-1], 3, 2, 2)
    assert set(two.tolist()) == {1.0, 2.0, 3.0}          # more distinct levels after two layers
    assert not overlap_is_even(3, 2) and overlap_is_even(4, 2)
    assert not overlap_is_even(3, 2, layers=3) and overlap_is_even(4, 2, layers=3)
    for k, s in itertools.product(range(1, 8), range(1, 5)):
        assert overlap_is_even(k, s) == (k % s == 0), (k, s)
    # the 2D overlap map in the middle of a k=3, s=2 layer: 1, 2, 4 taps
    ov = transposed_conv(np.ones((6, 6)), TConvSettings(kernel=np.ones((3, 3)), stride=(2, 2), padding=(1, 1),
                                                        output_padding=(1, 1))).overlap
    assert set(np.unique(ov[2:-2, 2:-2]).tolist()) == {1.0, 2.0, 4.0}
    ov4 = transposed_conv(np.ones((6, 6)), TConvSettings(kernel=np.ones((4, 4)), stride=(2, 2), padding=(1, 1))).overlap
    assert set(np.unique(ov4[2:-2, 2:-2]).tolist()) == {4.0}


def test_checkerboard_score():
    R = 16
    ramp = torch.linspace(0, 1, R, dtype=torch.float64).repeat(R, 1)[None, None]
    assert float(checkerboard_score(ramp)) < 1e-12
    idx = torch.arange(R)
    board = (0.5 + 0.1 * (-1.0) ** (idx[:, None] + idx[None, :]).double())[None, None]
    assert abs(float(checkerboard_score(board)) - 0.1) < 1e-12


# ------------------------------------------------------------------ the trainer

SMALL = dict(channels=8, n_targets=64, batch_size=16, eval_every=10)


def test_same_seed_same_history_and_checkpoint_round_trip(tmp_path):
    cfg = UpsamplingConfig(seed=3, **SMALL)
    a, b = UpsamplingTrainer(cfg, torch.device("cpu")), UpsamplingTrainer(cfg, torch.device("cpu"))
    a.step(20)
    b.step(20)
    np.testing.assert_array_equal(a.history.arrays()["loss_tconv3"], b.history.arrays()["loss_tconv3"])
    path = tmp_path / "up.pt"
    checkpoints.save_checkpoint(path, a.state_dict())
    c = UpsamplingTrainer.from_checkpoint(checkpoints.load_checkpoint(path, "upsampling"), torch.device("cpu"))
    assert c.step_count == 20
    a.step(5)
    c.step(5)
    for v in a.models:
        np.testing.assert_allclose(a.snapshot()["outputs"][v], c.snapshot()["outputs"][v], atol=1e-6)
        np.testing.assert_allclose(a.snapshot()["initial"][v], c.snapshot()["initial"][v], atol=1e-6)


def test_training_lowers_the_loss_of_every_decoder():
    t = UpsamplingTrainer(UpsamplingConfig(seed=0, **SMALL), torch.device("cpu"))
    t.step(150)
    h = t.history.arrays()
    for v in t.models:
        assert h[f"loss_{v}"][-10:].mean() < 0.7 * h[f"loss_{v}"][:5].mean(), v


def test_checkerboards_at_initialisation():
    """Before any training the transposed-conv decoders already draw grid patterns; resize + conv don't."""
    t = UpsamplingTrainer(UpsamplingConfig(seed=0), torch.device("cpu"))
    c = t.snapshot()["checker"]
    assert min(c["tconv3"], c["tconv4"]) > 2 * max(c["nearest"], c["bilinear"]), c


def test_bad_configs_and_live_settings():
    with pytest.raises(ValueError, match="at least one decoder"):
        UpsamplingTrainer(UpsamplingConfig(variants=()), torch.device("cpu"))
    with pytest.raises(ValueError, match="Image size"):
        UpsamplingTrainer(UpsamplingConfig(resolution=20), torch.device("cpu"))
    t = UpsamplingTrainer(UpsamplingConfig(variants=("bilinear",), **SMALL), torch.device("cpu"))
    t.apply_live(UpsamplingConfig(variants=("bilinear",), **{**SMALL, "batch_size": 8}, lr=1e-4))
    assert t.config.lr == 1e-4 and t.opts["bilinear"].param_groups[0]["lr"] == 1e-4
    t.step(2)
    assert t.step_count == 2
