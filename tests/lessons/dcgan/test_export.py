"""The exported DCGAN script (core/lessons/dcgan/export.py) on the code paths the framework's
parity test (default settings) does not take: conditional, resize upsampling, no batch norm, k > 1,
small widths, InfoGAN's code over 10 steps. Batch norm runs drift apart from rounding after some steps, so they are compared
for a few steps only (see export.MISMATCH)."""
import numpy as np
import pytest
import torch

from core import export
from core.lessons.dcgan import DcganConfig, DcganTrainer
from core.lessons.dcgan import export as dcgan_export

CASES = {
    "conditional nearest, no BN, k=2": (dict(conditional=True, upsampling="nearest", batch_norm=False, k=2,
                                             real_label=1.0, slope=0.1), 10),
    "conditional bilinear, BN, small": (dict(conditional=True, upsampling="bilinear", width=16, latent_size=8,
                                             batch_size=16), 6),
    "code of 30, no BN, averaged": (dict(codes=30, batch_norm=False, k=2), 10),
    "code of 10, tconv3, small": (dict(codes=10, upsampling="tconv3", width=8, latent_size=2, batch_size=32,
                                       batch_norm=False, average=False), 10),
}


@pytest.mark.parametrize("case", list(CASES))
def test_script_trains_like_the_trainer(case, tmp_path):
    torch.set_num_threads(1)
    fields, n = CASES[case]
    cfg = DcganConfig(seed=1, **fields)
    got = export.run_script(dcgan_export.script(cfg), n, tmp_path, dcgan_export.files(cfg))
    trainer = DcganTrainer(cfg, torch.device("cpu"))
    trainer.step(n)
    want = trainer.history.arrays()
    for key in dcgan_export.PARITY:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_script_is_standalone_and_ships_the_digits():
    cfg = DcganConfig()
    src = dcgan_export.script(cfg)
    assert "import core" not in src and "from core" not in src
    assert "STEPS = " in src and "digits.npz" in src
    assert set(dcgan_export.files(cfg)) == {"digits.npz"}
