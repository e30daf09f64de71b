"""The trainer: the defaults learn on a fixed seed, adversarial training makes the second model
robust to FGSM, the top learning rate blows up with the message, the defaults raise no false
alarm, the chunked curve measurement is exact, checkpoints round-trip, snapshots are bounded."""
import dataclasses

import numpy as np
import pytest
import torch

from core.lessons.adversarial import AdversarialConfig, AdversarialTrainer, fgsm_curve
from core.lessons.adversarial.trainer import EPS_GRID, EVAL_CHUNKS
from core.live import Diverged

torch.set_num_threads(1)
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def trained():
    t = AdversarialTrainer(AdversarialConfig(seed=0, eval_every=200), CPU)
    t.step(800)                           # no false alarm on the way
    return t


def test_defaults_learn_and_adversarial_training_helps(trained):
    eps = torch.tensor([0.0, 0.2])
    c = fgsm_curve(trained.clean, trained.x_held, trained.y_held, eps).tolist()
    r = fgsm_curve(trained.robust, trained.x_held, trained.y_held, eps).tolist()
    assert c[0] >= 0.9, c                  # reads held-out digits
    assert c[1] <= 0.4, c                  # … and FGSM at ε = 0.2 breaks it
    assert r[1] >= c[1] + 0.3, (c, r)      # the adversarially trained one resists
    m = trained.metrics.arrays()
    assert list(m["step"]) == [0, 200, 400, 600]   # 800's measurement is still under way
    assert np.all((m["clean_acc"] >= 0) & (m["clean_acc"] <= 1))


def test_chunked_measurement_is_exact_for_the_step_it_started(trained):
    t = AdversarialTrainer.from_checkpoint(trained.state_dict(), CPU)
    t.apply_live(dataclasses.replace(t.config, eval_every=20))
    t.step(20 - t.step_count % 20)        # a measurement starts now, on these weights
    expected = [fgsm_curve(m, t.x_eval, t.y_eval, t.eps_grid).numpy() for m in (t.clean, t.robust)]
    start = t.step_count
    t.step(EVAL_CHUNKS)                   # it ends EVAL_CHUNKS steps later, weights changed meanwhile
    assert t.metrics.arrays()["step"][-1] == start
    assert np.allclose(t.curves, np.stack(expected), atol=1e-6)


def test_without_fgsm_examples_both_models_stay_identical():
    t = AdversarialTrainer(AdversarialConfig(adv_share=0.0, model="mlp", size="small"), CPU)
    t.step(30)
    for a, b in zip(t.clean.parameters(), t.robust.parameters()):
        assert torch.equal(a, b)


def test_top_learning_rate_blows_up_with_the_message():
    t = AdversarialTrainer(AdversarialConfig(lr=10.0, model="mlp"), CPU)
    with pytest.raises(Diverged, match="blew up.*Lower the learning rate"):
        t.step(300)


def test_live_settings_apply_without_a_restart(trained):
    t = AdversarialTrainer.from_checkpoint(trained.state_dict(), CPU)
    steps = t.step_count
    t.apply_live(dataclasses.replace(t.config, lr=3e-4, adv_share=1.0, eps=0.3, method="pgd", targeted=True))
    assert t.opt.param_groups[0]["lr"] == 3e-4 and t.step_count == steps
    t.step(2)
    snap = t.snapshot()
    a = snap["attack"]
    assert a["method"] == "pgd" and a["targeted"] and len(a["path_linf"]) == t.config.steps + 1
    assert a["linf"] <= 0.3 + 1e-6 and 0 <= a["x_adv"].min() and a["x_adv"].max() <= 1


def test_checkpoint_round_trip(trained):
    state = trained.state_dict()
    t = AdversarialTrainer.from_checkpoint(state, CPU)
    assert t.step_count == trained.step_count
    assert np.array_equal(t.curves, trained.curves)
    for a, b in zip(t.robust.parameters(), trained.robust.parameters()):
        assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()


@pytest.mark.parametrize("method", ["fgsm", "bim", "pgd"])
def test_snapshot_is_small_and_bounded(trained, method):
    t = AdversarialTrainer.from_checkpoint(trained.state_dict(), CPU)
    t.apply_live(dataclasses.replace(t.config, method=method, steps=40, digit=999))
    snap = t.snapshot()
    a = snap["attack"]
    assert a["x"].shape == a["x_adv"].shape == a["delta"].shape == (16, 16)
    assert a["p_before"].shape == (10,) and abs(a["p_after"].sum() - 1) < 1e-5
    assert snap["curves"].shape == (2, len(EPS_GRID)) and a["label"] == 999 % 10
    assert set(np.unique(a["sign"])) <= {-1.0, 0.0, 1.0}
