"""The exported script (core/lessons/lstm/export.py) trains like the page for the other cells,
tasks and initialisations (tests/framework/test_export.py covers the defaults)."""
import dataclasses

import numpy as np
import pytest
import torch

from core import export
from core.lessons.lstm import LstmConfig, LstmTrainer
from core.lessons.lstm import export as lstm_export

STEPS = 10


@pytest.mark.parametrize("changes", [
    {"cell": "gru", "task": "adding", "seq_len": 30},
    {"cell": "rnn", "task": "echo", "seq_len": 25, "recurrent_sv": 1.2, "clip_norm": 0.1, "batch_size": 16},
    {"cell": "lstm", "task": "parity", "seq_len": 20, "clip_norm": 0.0, "forget_bias": 1.0, "seed": 3},
], ids=["gru-adding", "rnn-echo", "lstm-parity"])
def test_other_cells_and_tasks_train_like_the_app(changes, tmp_path):
    torch.set_num_threads(1)
    cfg = dataclasses.replace(LstmConfig(seed=0), **changes)
    got = export.run_script(lstm_export.script(cfg), STEPS, tmp_path)
    trainer = LstmTrainer(cfg, torch.device("cpu"))
    trainer.step(STEPS)
    want = trainer.history.arrays()
    for ours, theirs in lstm_export.PARITY.items():
        np.testing.assert_allclose(got[ours], want[theirs], rtol=lstm_export.PARITY_RTOL,
                                   atol=lstm_export.PARITY_ATOL, err_msg=ours)
