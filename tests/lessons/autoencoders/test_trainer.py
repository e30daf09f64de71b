"""The autoencoder trainer: learns on a fixed seed (5-NN accuracy, the classifier's verdict),
blow-ups are named, live settings apply, runs repeat step for step, checkpoints round-trip, the
shipped run is trained, the explorer works."""
import dataclasses

import numpy as np
import pytest
import torch

from core.checkpoints import load_checkpoint, pretrained_path, save_checkpoint
from core.lessons.autoencoders import CHECKPOINT, AutoencodersConfig, AutoencodersTrainer, slim
from core.lessons.autoencoders import explore
from core.lessons.autoencoders.explore import STEPS
from core.live import Diverged

CPU = torch.device("cpu")


def test_defaults_learn_on_a_fixed_seed_without_a_false_alarm():
    """Step 0: codes mix the digits (5-NN near chance); after 1,500 steps every model separates
    them and the VAE's grid holds several kinds of digit the classifier accepts."""
    t = AutoencodersTrainer(AutoencodersConfig(seed=0), CPU)
    assert t.metrics.last("knn_vae") < 0.35 and t.metrics.last("accepted_vae") == 0.0
    t.step(1500)                                    # raises Diverged on a false alarm
    m = {k: t.metrics.last(k) for k in t.METRIC_KEYS}
    assert m["knn_ae"] > 0.55 and m["knn_vae"] > 0.5 and m["knn_dae"] > 0.45, m
    assert m["accepted_vae"] > 0.4 and m["classes_vae"] >= 6, m
    h = t.history.arrays()
    assert h["ae_loss"][-20:].mean() < 0.6 * h["ae_loss"][0]
    assert h["vae_kl"][-20:].mean() > 1.0          # the code carries information: no collapse at β = 1


def test_same_seed_same_run_regardless_of_chunking():
    a = AutoencodersTrainer(AutoencodersConfig(seed=3, eval_every=20), CPU)
    b = AutoencodersTrainer(AutoencodersConfig(seed=3, eval_every=20), CPU)
    a.step(45)
    for n in (1, 7, 37):
        b.step(n)
    for k in AutoencodersTrainer.HISTORY_KEYS:
        assert np.allclose(a.history.arrays()[k], b.history.arrays()[k], atol=1e-5)
    assert np.allclose(a.snapshot()["manifolds"], b.snapshot()["manifolds"], atol=1e-5)


def test_top_learning_rate_blows_up_with_the_message():
    t = AutoencodersTrainer(AutoencodersConfig(lr=10.0), CPU)
    with pytest.raises(Diverged, match=r"blew up at step .*Lower the learning rate and press"):
        for _ in range(20):
            t.step(25)
    assert len(t.history.arrays()["step"]) > 0     # the history keeps the run up to the blow-up
    s = t.snapshot()                                # and a frame can still be drawn
    assert s["codes"].shape == (3, 300, 2)


def test_live_settings_apply_without_a_restart():
    t = AutoencodersTrainer(AutoencodersConfig(), CPU)
    t.step(3)
    w = t.model.decoder.layers[0].weight.detach().clone()
    t.apply_live(dataclasses.replace(t.config, lr=1e-2, beta=4.0, noise=0.9, batch_size=256))
    assert torch.equal(t.model.decoder.layers[0].weight, w) and t.opt.param_groups[0]["lr"] == 1e-2
    t.step(2)
    assert t.step_count == 5 and t.snapshot()["beta"] == 4.0
    h = t.history.arrays()
    assert np.isclose(h["vae_loss"][-1], h["vae_recon"][-1] + 4.0 * h["vae_kl"][-1], rtol=1e-5)


def test_beta_trades_kl_for_reconstruction():
    """A large β squeezes the codes onto the prior (small KL, worse reconstruction)."""
    out = {}
    for beta in (0.1, 8.0):
        t = AutoencodersTrainer(AutoencodersConfig(seed=1, beta=beta, eval_every=10_000), CPU)
        t.step(600)
        h = t.history.arrays()
        out[beta] = (h["vae_kl"][-50:].mean(), h["vae_recon"][-50:].mean())
    assert out[8.0][0] < 0.5 * out[0.1][0] and out[8.0][1] > out[0.1][1]


@pytest.mark.parametrize("latent", [2, 16])
def test_snapshot_shapes_and_ranges(latent):
    t = AutoencodersTrainer(AutoencodersConfig(latent_size=latent, width=256, batch_size=256), CPU)
    t.step(2)
    s = t.snapshot()
    assert s["codes"].shape == (3, 300, 2) and s["labels"].shape == (300,) and s["boxes"].shape == (3, 2, 2)
    assert s["manifolds"].shape == (3, 100, 16, 16) and 0 <= s["manifolds"].min() and s["manifolds"].max() <= 1
    assert s["recon"].shape == (50, 16, 16) and np.bincount(s["labels"]).tolist() == [30] * 10
    assert np.allclose(s["boxes"][1], [[-1.6449] * 2, [1.6449] * 2])
    assert s["reparam"]["mu"].shape == (latent,)


def test_checkpoint_round_trip_and_slim(tmp_path):
    t = AutoencodersTrainer(AutoencodersConfig(seed=5, latent_size=4), CPU)
    t.step(20)
    save_checkpoint(tmp_path / "a.pt", t.state_dict())
    u = AutoencodersTrainer.from_checkpoint(load_checkpoint(tmp_path / "a.pt", "autoencoders"), CPU)
    assert u.step_count == 20 and np.allclose(u.snapshot()["manifolds"], t.snapshot()["manifolds"])
    small = slim(t.state_dict())
    assert all(not o["state"] for o in small["optim"].values())
    v = AutoencodersTrainer.from_checkpoint(small, CPU)
    assert v.model.encoder.layers[0].weight.dtype == torch.float32
    assert np.allclose(v.snapshot()["manifolds"], t.snapshot()["manifolds"], atol=0.02)   # half precision
    v.step(2)                                            # Adam restarts its averages and trains on
    assert v.step_count == 22


def test_shipped_checkpoint_is_trained():
    assert pretrained_path(CHECKPOINT).stat().st_size < 1_000_000
    ckpt = load_checkpoint(pretrained_path(CHECKPOINT), "autoencoders")
    t = AutoencodersTrainer.from_checkpoint(ckpt, CPU)
    t._record_metrics()
    m = {k: t.metrics.last(k) for k in t.METRIC_KEYS}
    assert m["knn_vae"] >= 0.65 and m["accepted_vae"] >= 0.65 and m["classes_vae"] >= 8, m
    before = ckpt["model"]["stack"]["decoder.layers.0.weight"].clone()
    t.step(2)
    assert torch.equal(ckpt["model"]["stack"]["decoder.layers.0.weight"], before)   # it trains its own copy


def test_explorer_pick_and_walk():
    t = AutoencodersTrainer.from_checkpoint(load_checkpoint(pretrained_path(CHECKPOINT), "autoencoders"), CPU)
    w = explore.walk(t, 1, 7)
    assert w.images.shape == (3 * STEPS, 16, 16) and w.paths.shape == (3, STEPS, 2)
    assert w.read[1, 0] == 1 and w.read[1, -1] == 7                  # the VAE's ends are the two digits
    snap = t.snapshot()
    a, b = explore.example(t, 1), explore.example(t, 7)
    assert snap["labels"].tolist().count(1) == 30 and t.y_held[a] == 1 and t.y_held[b] == 7
    p = explore.pick(t, "vae", 0.5, -1.0)
    assert np.allclose(p["point"], [0.5, -1.0]) and np.allclose(p["z"], [0.5, -1.0])   # L = 2: z itself
    q = explore.pick(t, "ae", 0.0, 0.0)
    assert p["image"].shape == (16, 16) and np.isfinite(q["point"]).all()
    assert "frames read as digits" in explore.walk_caption(w) and "classifier" in explore.pick_caption(p)
