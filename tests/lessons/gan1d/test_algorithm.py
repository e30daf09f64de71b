"""The 1D GAN's scripted Algorithm 1 (core/lessons/gan1d/algorithm.py): a chunk of iterations in
one TorchScript call equals the same updates made one by one, bit for bit, for every loss,
optimiser and activation; and the scripted path is really compiled (not silently the Python
fallback, which holds the interpreter lock)."""
import pytest
import torch

from core import fastnet
from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer
from core.lessons.gan1d import algorithm
from core.lessons.gan1d.trainer import BlockStream

CPU = torch.device("cpu")
CONFIGS = [
    {},
    {"k": 3, "batch_size": 16, "g_loss": "minimax", "g_activation": "tanh"},
    {"optimizer": "sgd", "momentum": 0.9, "g_loss": "least-squares", "g_activation": "elu", "eval_every": 7},
    {"optimizer": "sgd", "momentum": 0.0, "g_depth": 0, "d_depth": 3, "eval_every": 1},
    {"g_depth": 4, "d_depth": 0, "latent_size": 1, "batch_size": 8, "k": 2},
]


def test_the_updates_are_compiled():
    assert fastnet.SCRIPTED, "TorchScript compile failed: the fast nets run as Python, holding the lock"
    for fn in (algorithm.d_update, algorithm.g_update, algorithm.iterations, fastnet.mlp_backward, fastnet.opt_update):
        assert isinstance(fn, torch.jit.ScriptFunction), fn


@pytest.mark.parametrize("overrides", CONFIGS)
def test_a_chunk_equals_its_updates_one_by_one(overrides):
    """train_steps (one scripted call per chunk) against step_d × k + step_g per iteration (one
    scripted update per call): weights, optimiser state, history and quality measures equal."""
    cfg = Gan1DConfig(**overrides)
    chunked, single = Gan1DTrainer(cfg, CPU), Gan1DTrainer(cfg, CPU)
    chunked.step(23)
    chunked.step(40)
    for _ in range(63):
        for _ in range(cfg.k):
            single.step_d()
        single.step_g()
    assert chunked.step_count == single.step_count == 63
    assert (chunked.d_steps, chunked.g_steps) == (single.d_steps, single.g_steps) == (63 * cfg.k, 63)
    assert torch.equal(chunked.G.flat, single.G.flat) and torch.equal(chunked.D.flat, single.D.flat)
    for a, b in ((chunked.opt_g, single.opt_g), (chunked.opt_d, single.opt_d)):
        assert a.t == b.t
        for x, y in zip(a.state_dict().values(), b.state_dict().values()):
            assert torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y
    h1, h2 = chunked.history.arrays(), single.history.arrays()
    for key in Gan1DTrainer.HISTORY_KEYS:
        assert (h1[key] == h2[key]).all(), key
    assert (chunked.metrics.arrays()["sliced_w1"] == single.metrics.arrays()["sliced_w1"]).all()


def test_block_stream_take_is_consecutive_nexts():
    draws = iter(range(1000))

    def draw(n):
        return torch.tensor([[float(next(draws))] for _ in range(n)])

    a, b = BlockStream(draw, block_steps=4), BlockStream(lambda n: draw(n), block_steps=4)
    taken = torch.cat([a.take(3, 5), a.take(3, 1), a.take(2, 9)])
    draws = iter(range(1000))
    one_by_one = torch.cat([b.next(3) for _ in range(6)] + [b.next(2) for _ in range(9)])
    assert torch.equal(taken, one_by_one)

