"""The character trainer: it learns on a fixed seed, the top learning rates blow up with the message,
the defaults raise no false alarm, live settings, texts of one's own, checkpoints, bounded frames."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from core.checkpoints import load_checkpoint, save_checkpoint
from core.lessons.charrnn import CharRnnConfig, CharRnnTrainer, TextError, compact, read_upload
from core.lessons.charrnn import data
from core.lessons.charrnn.config import check_config
from core.live import Diverged

CPU = torch.device("cpu")


def small(**kw) -> CharRnnConfig:
    # batch 32 and dropout 0.3 (the defaults until 2026-12-07): SGD at lr 10 blows up within 15
    # steps there; at batch 16 and dropout 0.5 it can wander at a loss of ~6 for 200 steps
    return CharRnnConfig(**{"corpus": "names", "hidden": 64, "seq_len": 32, "batch_size": 32, "dropout": 0.3, **kw})


def test_defaults_learn_names_on_a_fixed_seed():
    """500 steps on the names at the defaults (64 units, batch 16: a fifth of the former step's
    work): held-out bits/char falls from ~log2 V (5.7) to below the 2-gram's (3.17 vs 3.29 measured),
    and the training history shows no false alarm."""
    t = CharRnnTrainer(CharRnnConfig(corpus="names", seed=0), CPU)
    start = t.metrics.last("heldout_bits")
    t.step(500)
    end = t.metrics.last("heldout_bits")
    two = t.ngram.heldout_bits(t.corpus, t.config.add_k)[2]
    assert start > 5.0 and end < two, (start, end, two)
    assert t.step_count == 500 and len(t.metrics) == 1 + 500 // t.config.eval_every


def test_same_seed_same_run_regardless_of_chunking():
    a, b = CharRnnTrainer(small(seed=3), CPU), CharRnnTrainer(small(seed=3), CPU)
    a.step(30)
    for n in (1, 7, 22):
        b.step(n)
    assert np.array_equal(a.history.arrays()["loss"], b.history.arrays()["loss"])
    c = CharRnnTrainer(small(seed=4), CPU)
    c.step(30)
    assert not np.array_equal(a.history.arrays()["loss"], c.history.arrays()["loss"])


@pytest.mark.parametrize("opt", ["sgd", "adam", "rmsprop"])
def test_top_learning_rate_blows_up_with_the_message(opt):
    t = CharRnnTrainer(small(lr=10.0, optimizer=opt), CPU)
    with pytest.raises(Diverged, match=r"blew up at step .*Lower the learning rate"):
        for _ in range(20):
            t.step(5)
    assert len(t.history.arrays()["step"]) > 0          # the blow-up itself is on the chart


def test_defaults_raise_no_false_alarm_on_prose():
    t = CharRnnTrainer(CharRnnConfig(hidden=64), CPU)
    t.step(100)
    assert t.step_count == 100 and np.isfinite(t.history.arrays()["loss"]).all()


def test_live_settings_apply_without_touching_weights():
    t = CharRnnTrainer(small(), CPU)
    t.step(3)
    w = t.model.out.weight.detach().clone()
    t.apply_live(dataclasses.replace(t.config, lr=0.01, batch_size=8, seq_len=16, dropout=0.3, clip=0.0))
    assert torch.equal(t.model.out.weight, w)
    assert t.opt.param_groups[0]["lr"] == 0.01 and (t.batch, t.seq_len) == (8, 16) and t.model.drop.p == 0.3
    t.step(2)
    t.apply_live(dataclasses.replace(t.config, optimizer="rmsprop"))
    t.step(1)
    assert type(t.opt).__name__ == "RMSprop" and t.step_count == 6


def test_too_slow_combinations_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="too slow to train live"):
        check_config(CharRnnConfig(layers=3, hidden=256, batch_size=64, seq_len=128))
    check_config(CharRnnConfig(layers=2, hidden=128))          # 2× the defaults' work is fine


def test_own_text_is_checked_and_never_run(tmp_path):
    ok = ("It was a bright cold day in April, and the clocks were striking thirteen. " * 40)
    t = CharRnnTrainer(CharRnnConfig(corpus="custom", custom_text=ok, hidden=32), CPU)
    t.step(2)
    assert t.corpus.V == len(set(ok)) and t.snapshot()["samples"]
    for bad, msg in [("", "paste a text"), ("short", "at least 2,000"), ("x" * 300_001, "the limit is 300,000"),
                     ("".join(chr(0x4E00 + i) for i in range(2500)), "at most 200")]:
        with pytest.raises(ValueError, match=msg):
            CharRnnTrainer(CharRnnConfig(corpus="custom", custom_text=bad), CPU)
    for name, blob, msg in [("a.txt", b"\x00\x01" * 3000, "binary"), ("b.txt", b"\xff\xfe" + b"a" * 3000, "not UTF-8"),
                            ("c.txt", b"a" * 1_000_001, "the limit is 1 MB")]:
        with pytest.raises(TextError, match=msg):
            read_upload(name, blob)
    assert read_upload("d.txt", ("\ufeff" + ok.replace(". ", ".\r\n")).encode()).startswith("It was")


def test_a_short_text_gets_fewer_streams():
    text = "abcdefghij klmnop.\n" * 120           # 2,280 characters
    t = CharRnnTrainer(CharRnnConfig(corpus="custom", custom_text=text, hidden=32, batch_size=64, seq_len=128), CPU)
    t.step(3)
    assert t.batch * (t.seq_len + 2) <= t.corpus.split and t.step_count == 3


def test_snapshot_is_bounded_and_follows_the_settings():
    t = CharRnnTrainer(small(temperatures=(0.2, 1.5), inspect_t=0.8, sample_len=200, unit=255, position=199,
                             prompt="Mar€"), CPU)
    t.step(5)
    s = t.snapshot()
    assert [T for T, _ in s["samples"]] == [0.2, 1.5] and all(len(x) == 200 for _, x in s["samples"])
    assert len(s["inspected"]) == 200 and s["inspect_t"] == 0.8 and s["acts"].shape == (200,)
    assert s["heat_prob"].shape == (48, 6) and np.allclose(s["heat_prob"].sum(1) <= 1 + 1e-9, True)
    assert s["unit"] == 63 and s["position"] == 199 and s["dropped"] == "€"
    assert set(s["ngram"]) == {1, 2, 3, 4, 5} and s["detail"]["table"]
    # greedy: every sample is the same whatever the temperature
    t.apply_live(dataclasses.replace(t.config, sampling="greedy"))
    a, b = t.snapshot()["samples"]
    assert a[1] == b[1]
    # same seed, same draws: a frame repeats itself until the model changes
    assert t.snapshot()["samples"] == t.snapshot()["samples"]


def test_names_novelty_is_measured():
    t = CharRnnTrainer(small(), CPU)
    t.step(60)
    d = t.novelty()
    assert d["n_names"] > 10 and 0 <= d["novel"] <= 1 and math.isfinite(d["sample_3gram_bits"])


def test_checkpoint_round_trip_and_compact_form(tmp_path):
    t = CharRnnTrainer(small(seed=5), CPU)
    t.step(20)
    path = tmp_path / "c.pt"
    save_checkpoint(path, compact(t.state_dict()))
    u = CharRnnTrainer.from_checkpoint(load_checkpoint(path, "charrnn"), CPU)
    assert u.step_count == 20 and np.array_equal(u.history.arrays()["loss"], t.history.arrays()["loss"])
    # float16 weights: the same network to ~1e-3
    assert torch.allclose(u.model.out.weight, t.model.out.weight, atol=2e-3)
    u.step(3)
    assert u.step_count == 23


@pytest.mark.parametrize("stem,corpus", [("charrnn_names", "names"), ("charrnn_prose", "prose")])
def test_shipped_checkpoints_load_and_beat_the_3gram(stem, corpus):
    ckpt = load_checkpoint(f"pretrained/{stem}.pt", "charrnn")
    t = CharRnnTrainer.from_checkpoint(ckpt, CPU)
    assert t.config.corpus == corpus and t.step_count >= 1000
    bits = float(np.mean(t.heldout_log_probs())) / -math.log(2)
    assert bits < t.ngram.heldout_bits(t.corpus, t.config.add_k)[3]
    before = {k: v.clone() for k, v in ckpt["model"]["model"].items()}
    t.step(2)
    assert all(torch.equal(ckpt["model"]["model"][k], v) for k, v in before.items())


def test_corpora_are_plain_and_small():
    total = 0
    for key, name in data.FILES.items():
        raw = (data.DATA / name).read_bytes()
        raw.decode("ascii")
        total += len(raw)
        c = data.shipped(key)
        assert c.V <= 100 and 0.85 < c.split / len(c.ids) < 0.95
    assert total < 1_000_000
    names = data.shipped("names")
    assert "Mary" in names.lines and len(names.lines) > 5000


def test_ngram_labels_close_in_value_go_to_different_columns():
    """The dashed n-gram lines' labels: neighbours by value are staggered, so the close ones
    (the prose's 3-gram 2.93 and 4-gram 2.78) do not print on top of each other."""
    from core.lessons.charrnn import charts
    ngram = {1: 4.36, 2: 3.50, 3: 2.93, 4: 2.78, 5: 3.20}
    h = {"step": np.arange(3), "loss": np.ones(3)}
    m = {"step": np.arange(0), "heldout_bits": np.zeros(0)}
    spec = charts.bits(h, m, ngram, 300)
    table = spec["datasets"]["ngram"]
    rows = sorted(zip(table["y"].to_pylist(), table["col"].to_pylist()), reverse=True)
    assert [y for y, _ in rows] == sorted(ngram.values(), reverse=True)
    cols = [c for _, c in rows]
    assert all(a != b for a, b in zip(cols, cols[1:])), cols
    texts = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "text"
             and layer["data"]["name"] == "ngram"]
    assert len(texts) == charts.LABEL_COLUMNS


def test_the_chart_marks_the_best_held_out_point_so_far():
    """The diamond and the 'best held-out so far' readout: the lowest measurement and its step;
    none before training."""
    from core.lessons.charrnn import charts, text
    h = {"step": np.arange(1, 101), "loss": np.ones(100)}
    m = {"step": np.array([0, 25, 50, 75, 100]), "heldout_bits": np.array([5.7, 3.4, 3.1, 3.2, 3.3])}
    best = charts.bits(h, m, {3: 3.0}, 300)["datasets"]["best"]
    assert best["x"].to_pylist() == [50] and best["y"].to_pylist() == [3.1]
    empty = charts.bits({"step": np.arange(0), "loss": np.zeros(0)}, {"step": np.array([0]),
                        "heldout_bits": np.array([5.7])}, {3: 3.0}, 300)["datasets"]["best"]
    assert empty.num_rows == 0
    snap = {"history": h, "ngram": {3: 3.0, 4: 3.2}, "heldout_bits": 3.3, "metrics": m}
    assert ("best held-out so far", "3.100 @ 50") == text.metrics(snap)[1][:2]
