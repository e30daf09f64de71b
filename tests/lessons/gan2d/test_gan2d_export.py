"""The exported script (core/lessons/gan2d/export.py) trains every method like the page: the
framework test (tests/framework/test_export.py) covers the default panels, this one the others,
on a curve data set, a pack that does not divide the batch and k > 1."""
import dataclasses

import numpy as np
import pytest
import torch

from core import export
from core.lessons.gan2d import Gan2DConfig
from core.lessons.gan2d import export as gan2d_export

STEPS = 10


@pytest.mark.parametrize("changes", [
    {"methods": ("minimax", "mbstd", "unrolled", "pacgan")},
    {"methods": ("cgan", "pacgan"), "dataset": "spiral", "pack": 3, "batch_size": 64, "k": 2, "seed": 5},
], ids=["remedies", "cgan-spiral"])
def test_every_method_trains_like_the_app(changes, tmp_path):
    torch.set_num_threads(1)
    cfg = dataclasses.replace(Gan2DConfig(seed=0), **changes)
    got = export.run_script(gan2d_export.script(cfg), STEPS, tmp_path)
    want = gan2d_export.trainer_history(cfg, STEPS)
    assert set(want) == {f"{m}_{w}" for m in cfg.methods for w in ("d_loss", "g_loss")}
    for key, values in want.items():
        np.testing.assert_allclose(got[key], values, rtol=gan2d_export.PARITY_RTOL,
                                   atol=gan2d_export.PARITY_ATOL, err_msg=key)


def test_the_script_carries_the_settings():
    src = gan2d_export.script(Gan2DConfig(seed=7, methods=("unrolled",), unroll_steps=3), steps=12)
    assert "SEED = 7" in src and "METHODS = ['unrolled']" in src and "UNROLL_STEPS = 3" in src
    assert "STEPS = 12" in src and "import core" not in src and "from core" not in src
