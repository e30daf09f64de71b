"""The DCGAN trainer: learns on a fixed seed (judged by the classifier), blow-ups are named, live
settings apply, checkpoints round-trip, the shipped runs are trained, the latent explorer works."""
import dataclasses

import numpy as np
import pytest
import torch

from core.checkpoints import load_checkpoint, pretrained_path, save_checkpoint
from core.lessons.dcgan import CHECKPOINTS, DcganConfig, DcganTrainer, latent, slim
from core.live import Diverged

CPU = torch.device("cpu")


def test_defaults_learn_digits_on_a_fixed_seed():
    """Step 0: the classifier accepts nothing; after 600 steps it accepts a fifth or more of the
    generated digits, and most of the ten digits are among them (no false alarm on the way)."""
    t = DcganTrainer(DcganConfig(seed=0), CPU)
    assert t.metrics.last("accepted") < 0.05
    t.step(600)
    m = t.metrics.arrays()
    assert m["accepted"][-1] >= 0.2 and m["accepted"][-1] > m["accepted"][2], m["accepted"]
    assert m["classes"][-1] >= 8
    h = t.history.arrays()
    assert 0.2 < h["d_real"][-50:].mean() < 0.9 and 0.1 < h["d_fake"][-50:].mean() < 0.8


def test_same_seed_same_run_regardless_of_chunking():
    a, b = DcganTrainer(DcganConfig(seed=3, eval_every=50), CPU), DcganTrainer(DcganConfig(seed=3, eval_every=50), CPU)
    a.step(60)
    for n in (1, 7, 52):
        b.step(n)
    for k in ("d_loss", "g_loss", "d_real", "d_fake", "code_loss"):
        assert np.allclose(a.history.arrays()[k], b.history.arrays()[k], atol=1e-6)
    assert np.allclose(a.snapshot()["fake"], b.snapshot()["fake"], atol=1e-5)


@pytest.mark.parametrize("lrs", [{"lr_d": 10.0, "lr_g": 10.0}, {"lr_d": 10.0}])
def test_top_learning_rate_blows_up_with_the_message(lrs):
    t = DcganTrainer(DcganConfig(**lrs), CPU)
    with pytest.raises(Diverged, match=r"blew up at step .*Lower the learning rates"):
        for _ in range(20):
            t.step(25)
    assert len(t.history.arrays()["step"]) > 0     # the history keeps the run up to the blow-up


def test_live_settings_apply_without_a_restart():
    t = DcganTrainer(DcganConfig(), CPU)
    t.step(3)
    w = t.G.fc.weight.clone()
    t.apply_live(dataclasses.replace(t.config, lr_g=0.01, lr_d=3e-4, k=3, slope=0.1, batch_size=16, real_label=1.0))
    assert torch.equal(t.G.fc.weight, w)
    assert t.opt_g.param_groups[0]["lr"] == 0.01 and t.opt_d.param_groups[0]["lr"] == 3e-4 and t.D.slope == 0.1
    d_before = [p.clone() for p in t.D.parameters()]
    t.step(2)
    assert t.step_count == 5 and any(not torch.equal(a, b) for a, b in zip(d_before, t.D.parameters()))


def test_g_step_leaves_d_alone_and_d_gets_gradients_again():
    t = DcganTrainer(DcganConfig(), CPU)
    fake, y, c, *_ = t._d_update()
    d = [p.clone() for p in t.D.parameters()]
    t._g_update(fake, y, c)
    assert all(torch.equal(a, b) for a, b in zip(d, t.D.parameters()))
    assert all(p.requires_grad for p in t.D.parameters())


def test_snapshot_shapes_and_ranges():
    s = DcganTrainer(DcganConfig(conditional=True), CPU).snapshot()
    assert s["fake"].shape == (100, 16, 16) and s["real"].shape == (100, 16, 16)
    assert s["fake"].min() >= -1 and s["fake"].max() <= 1 and s["real"].min() >= -1
    assert s["counts"].shape == (10,) and 0.9 < s["ceiling"]["accepted"] <= 1.0
    assert np.isfinite(s["label_match"])


def test_checkpoint_round_trip_and_slim(tmp_path):
    t = DcganTrainer(DcganConfig(seed=5, conditional=True), CPU)
    t.step(20)
    save_checkpoint(tmp_path / "d.pt", t.state_dict())
    u = DcganTrainer.from_checkpoint(load_checkpoint(tmp_path / "d.pt", "dcgan"), CPU)
    assert u.step_count == 20 and np.allclose(u.snapshot()["fake"], t.snapshot()["fake"])
    small = slim(t.state_dict())
    assert all(not o["state"] for o in small["optim"].values())
    v = DcganTrainer.from_checkpoint(small, CPU)
    v.step(2)                                            # Adam restarts its averages and trains on
    assert v.step_count == 22


@pytest.mark.parametrize("conditional", [False, True])
def test_shipped_checkpoints_are_trained(conditional):
    stem = CHECKPOINTS[conditional]
    assert pretrained_path(stem).stat().st_size < 750_000
    ckpt = load_checkpoint(pretrained_path(stem), "dcgan")
    t = DcganTrainer.from_checkpoint(ckpt, CPU)
    s = t.snapshot()
    assert t.config.conditional == conditional and s["classes"] == 10
    assert s["accepted"] >= 0.85 and t.codes == (0 if conditional else 30)
    if conditional:
        assert s["label_match"] >= 0.9
    before = ckpt["model"]["G"]["fc.weight"].clone()
    t.step(2)
    assert torch.equal(ckpt["model"]["G"]["fc.weight"], before)     # the trainer trains its own copy


def test_latent_walks_and_arithmetic():
    t = DcganTrainer.from_checkpoint(load_checkpoint(pretrained_path(CHECKPOINTS[True]), "dcgan"), CPU)
    w = latent.walk_z(t, 0, 99)
    assert w.shape == (latent.STEPS, 16, 16)
    assert np.allclose(w[0], t.snapshot()["fake"][0], atol=1e-5) and np.allclose(w[-1], t.snapshot()["fake"][99], atol=1e-5)
    lw = latent.walk_label(t, 2, 3, 8)
    assert lw.shape == (latent.STEPS, 16, 16)
    ar = latent.arithmetic(t, "thickness", 3, 7)
    assert ar.found and ar.result.shape == (1 + latent.NEIGHBOURS, 16, 16)
    assert ar.result_label.startswith("7") and ar.attribute_gain > 0     # a bold 7 from a thin one
    sl = latent.arithmetic(t, "slant", 1, 4)
    assert len(sl.groups) == 3


def test_attributes_measure_what_they_say():
    img = -np.ones((2, 16, 16))
    img[0, 2:14, 7:9] = 1                    # upright bar
    for r in range(2, 14):                   # leaning right: the top is further right
        img[1, r, 12 - r // 2: 14 - r // 2] = 1
    s = latent.slant(img)
    assert abs(s[0]) < 1e-9 and s[1] > 0.2
    assert latent.thickness(np.ones((1, 16, 16)))[0] == 1.0


def test_the_averaged_generator_follows_its_formula():
    """After the step at t: Ḡ = β·Ḡ_before + (1 − β)·G, β = min(0.999, (1 + t)/(10 + t)), to 1e-6;
    batch norm's running statistics are G's."""
    t = DcganTrainer(DcganConfig(), CPU)
    t.step(40)
    before = [p.clone() for p in t.G_avg.parameters()]
    step = t.step_count
    t.step(1)
    beta = min(0.999, (1 + step) / (10 + step))
    for avg, old, g in zip(t.G_avg.parameters(), before, t.G.parameters()):
        assert torch.allclose(avg, beta * old + (1 - beta) * g, atol=1e-6)
    assert torch.equal(t.G_avg.bn1.running_mean, t.G.bn1.running_mean)
    assert not any(p.requires_grad for p in t.G_avg.parameters())


def test_the_page_shows_the_averaged_or_the_current_generator():
    t = DcganTrainer(DcganConfig(), CPU)
    t.step(30)
    want_avg = t.G_avg(t.grid_z)[:, 0].detach().numpy()
    assert np.allclose(t.snapshot()["fake"], want_avg, atol=1e-5)
    t.apply_live(dataclasses.replace(t.config, average=False))
    G = t.G.eval()
    want = G(t.grid_z)[:, 0].detach().numpy()
    G.train()
    assert np.allclose(t.snapshot()["fake"], want, atol=1e-5) and not np.allclose(want, want_avg, atol=1e-3)


def test_q_learns_which_code_made_a_digit():
    """InfoGAN's cross-entropy starts at about ln K (Q guesses) and falls as the codes become
    kinds of digit; without a code (or with labels) it is 0 and G's input is z alone."""
    t = DcganTrainer(DcganConfig(codes=30, seed=0), CPU)
    t.step(300)
    ce = t.history.arrays()["code_loss"]
    assert abs(ce[0] - np.log(30)) < 0.3 and ce[-20:].mean() < 0.5 * np.log(30), (ce[0], ce[-20:].mean())
    assert t.grid_z.shape == (100, 32 + 30) and t.G.fc.in_features == 62 and t.Q.out_features == 30
    for cfg in (DcganConfig(codes=0), DcganConfig(codes=30, conditional=True)):
        u = DcganTrainer(cfg, CPU)
        u.step(3)
        assert u.codes == 0 and u.Q is None and u.G.fc.in_features == 32 + 10 * cfg.conditional
        assert np.all(u.history.arrays()["code_loss"] == 0)


def test_a_checkpoint_from_before_the_code_loads_as_a_plain_dcgan():
    """Take-home files saved before the code and Ḡ existed: no ``codes`` in the config, no G_avg,
    no code loss in the history. They load as a plain DCGAN, Ḡ starting as G, and train on."""
    t = DcganTrainer(DcganConfig(codes=0, seed=2), CPU)
    t.step(5)
    old = t.state_dict()
    old["config"] = {k: v for k, v in old["config"].items() if k not in ("codes", "average")}
    del old["model"]["G_avg"]
    losses = old["history"]["losses"]
    losses["keys"] = [k for k in losses["keys"] if k != "code_loss"]
    del losses["vals"]["code_loss"], losses["acc"]["code_loss"]
    u = DcganTrainer.from_checkpoint(old, CPU)
    assert u.config.codes == 0 and u.step_count == 5
    assert all(torch.equal(a, b) for a, b in zip(u.G_avg.parameters(), t.G.parameters()))
    u.step(2)
    assert u.step_count == 7 and len(u.history.arrays()["code_loss"]) == 7


def test_latent_arithmetic_with_a_code():
    """With a code the arithmetic acts on G's whole input [z, one-hot(c)]. In the shipped run each
    code value draws one kind of digit, and slanted 1 − upright 1 + upright 4 is a slanted 4."""
    t = DcganTrainer.from_checkpoint(load_checkpoint(pretrained_path(CHECKPOINTS[False]), "dcgan"), CPU)
    assert t.grid_z.shape == (100, 32 + 30)
    ar = latent.arithmetic(t, "slant", 1, 4)
    assert ar.found and ar.result.shape == (1 + latent.NEIGHBOURS, 16, 16)
    assert ar.result_label.startswith("4") and ar.attribute_gain > 0
    assert latent.walk_z(t, 0, 99).shape == (latent.STEPS, 16, 16)
