"""The exported upsampling script (core/lessons/upsampling/export.py) on settings the framework's
parity test (defaults) does not use: fewer decoders, 32×32 targets (three upsampling layers), no
smooth gradients among the targets, another seed."""
import numpy as np
import torch

from core import export
from core.lessons.upsampling import UpsamplingConfig, UpsamplingTrainer
from core.lessons.upsampling import export as up_export


def test_script_trains_like_the_trainer_at_32_pixels(tmp_path):
    torch.set_num_threads(1)
    cfg = UpsamplingConfig(seed=3, variants=("bilinear", "tconv4"), kinds=("ring", "glyph"), resolution=32,
                           channels=4, n_targets=50, lr=0.01, batch_size=8)
    n = 15
    got = export.run_script(up_export.script(cfg), n, tmp_path)
    trainer = UpsamplingTrainer(cfg, torch.device("cpu"))
    trainer.step(n)
    want = trainer.history.arrays()
    assert set(got) == {"loss_bilinear", "loss_tconv4"}
    for key in got:
        np.testing.assert_allclose(got[key], want[key], rtol=up_export.PARITY_RTOL, atol=up_export.PARITY_ATOL,
                                   err_msg=key)
    assert "import core" not in up_export.script(cfg) and "from core" not in up_export.script(cfg)
