"""The shared handwritten digits (core/data/digits.npz) and their classifier (core.digits,
pretrained/digits_classifier.pt), used by the DCGAN lesson and the lessons after it."""
import numpy as np
import pytest
import torch

from core import digits
from core.checkpoints import load_checkpoint, pretrained_path


def test_data_shapes_balance_and_scale():
    all_ = digits.load("all")
    assert all_.images.shape == (5000, 16, 16) and all_.images.dtype == np.uint8
    assert np.bincount(all_.labels).tolist() == [500] * 10
    x, y = all_.as_tensor()
    assert x.shape == (5000, 1, 16, 16) and float(x.min()) == -1.0 and float(x.max()) == 1.0
    assert not all_.images.flags.writeable          # shared by every session: read-only


def test_split_is_fixed_disjoint_and_balanced():
    train, held = digits.load("train"), digits.load("heldout")
    assert len(train) == 4000 and len(held) == 1000
    assert np.bincount(held.labels).tolist() == [100] * 10
    mask = digits.heldout_mask(digits.load("all").labels)
    assert mask.sum() == 1000 and np.array_equal(mask, digits.heldout_mask(digits.load("all").labels))
    a = {img.tobytes() for img in held.images}
    assert sum(img.tobytes() in a for img in train.images) <= 5      # (MNIST has a few duplicates)
    with pytest.raises(ValueError):
        digits.load("test")


def test_shipped_classifier_reaches_97_percent_on_held_out_digits():
    clf = digits.classifier()
    x, y = digits.load("heldout").as_tensor()
    assert digits.accuracy(clf, x, y) >= 0.97
    q = digits.judge_quality(clf, x)
    assert q["accepted"] >= 0.9 and q["classes"] == 10 and q["counts"].sum() == round(q["accepted"] * 1000)
    assert pretrained_path(digits.CHECKPOINT).stat().st_size < 300_000
    assert load_checkpoint(pretrained_path(digits.CHECKPOINT), "digits")["extra"]["metrics"]["heldout_accuracy"] >= 0.97


def test_the_judge_rejects_noise_and_blanks():
    clf = digits.classifier()
    g = torch.Generator().manual_seed(0)
    noise = torch.rand(500, 1, 16, 16, generator=g) * 2 - 1
    assert digits.judge_quality(clf, noise)["accepted"] < 0.1
    blank = -torch.ones(10, 1, 16, 16)
    assert digits.judge_quality(clf, blank)["accepted"] < 0.5


def test_classifier_copies_are_independent():
    a, b = digits.classifier(), digits.classifier()
    with torch.no_grad():
        a.fc.weight.add_(1.0)
    assert not torch.equal(a.fc.weight, b.fc.weight)
    assert not a.training


def test_shift_batch_moves_by_at_most_one_pixel():
    g = torch.Generator().manual_seed(0)
    x = -torch.ones(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    out = digits.shift_batch(x, g)
    pos = (out[:, 0] > 0).nonzero()[:, 1:]
    assert out.shape == x.shape and len(pos) == 64 and (pos - 8).abs().max() <= 1


def test_training_a_classifier_briefly_learns():
    model, m = digits.train_classifier(seed=1, epochs=1)
    assert m["heldout_accuracy"] > 0.6 and isinstance(model, digits.DigitClassifier)
