"""The character lesson's maths against torch and against the definitions: the explicit cells,
the sampling rules, the n-gram model, and held-out bits/char computed one way for both models."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.lessons.charrnn import data, ngram, probe
from core.lessons.charrnn.config import CharRnnConfig
from core.lessons.charrnn.model import CharModel
from core.lessons.charrnn.sampling import draw, sampling_probs
from core.lessons.charrnn.views import softmax_t

CPU = torch.device("cpu")


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers", [1, 2])
def test_explicit_cells_equal_torch_modules(cell, layers):
    """The step-by-step layers (one-hot as a column lookup) give torch's outputs, states and, for
    an LSTM, the cell state at every step, to 1e-6 in float64."""
    torch.manual_seed(0)
    m = CharModel(11, cell, 7, layers).double()
    x = torch.randint(0, 11, (9, 3))
    state = [tuple(torch.randn(3, 7, dtype=torch.float64) for _ in s) for s in m.zero_state(3)]
    logits, new, shown = m.explicit(x, state)
    ref_logits, ref_state = m(x, state)
    assert torch.allclose(logits, ref_logits, atol=1e-6)
    for a, b in zip(new, ref_state):
        for u, v in zip(a, b):
            assert torch.allclose(u, v, atol=1e-6)
    if cell == "lstm":   # the last shown cell state is torch's final c of the top layer
        assert torch.allclose(shown[-1], ref_state[-1][1], atol=1e-6)
    # one character at a time gives the same as the whole sequence
    W, s = m.step_weights(), state
    for t in range(x.shape[0]):
        z, s, sh = m.step(x[t], s, W)
        assert torch.allclose(z, logits[t], atol=1e-6) and torch.allclose(sh, shown[t], atol=1e-6)


def test_lstm_cell_state_by_hand():
    """c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t), written from the gates of torch's layout."""
    torch.manual_seed(1)
    m = CharModel(5, "lstm", 3, 1).double()
    x = torch.tensor([[2], [4]])
    _, _, shown = m.explicit(x)
    w_ih, w_hh, b_ih, b_hh = (getattr(m.rnn, n + "_l0") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    h = c = torch.zeros(3, dtype=torch.float64)
    for t in range(2):
        a = w_ih[:, x[t, 0]] + b_ih + w_hh @ h + b_hh
        i, f, g, o = a[:3].sigmoid(), a[3:6].sigmoid(), a[6:9].tanh(), a[9:].sigmoid()
        c = f * c + i * g
        h = o * torch.tanh(c)
        assert torch.allclose(shown[t, 0], c.detach(), atol=1e-12)


LOGITS = torch.tensor([[2.0, 1.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4, 3.0]], dtype=torch.float64)


@pytest.mark.parametrize("T", [0.2, 0.5, 1.0, 1.5])
def test_temperature_is_softmax_of_logits_over_t(T):
    p = sampling_probs(LOGITS, torch.full((2,), T, dtype=torch.float64), "temperature")
    ref = torch.exp(LOGITS / T) / torch.exp(LOGITS / T).sum(-1, keepdim=True)
    assert torch.allclose(p, ref, atol=1e-12)
    assert np.allclose(softmax_t(LOGITS[0].numpy(), T), ref[0].numpy(), atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_keeps_the_k_likeliest_renormalised(k):
    T = torch.tensor([1.0, 0.5], dtype=torch.float64)
    p = sampling_probs(LOGITS, T, "top-k", k=k)
    full = torch.softmax(LOGITS / T[:, None], -1)
    for r in range(2):
        keep = full[r].argsort(descending=True)[:k]
        ref = torch.zeros(5, dtype=torch.float64)
        ref[keep] = full[r, keep] / full[r, keep].sum()
        assert torch.allclose(p[r], ref, atol=1e-12)


@pytest.mark.parametrize("top_p", [0.05, 0.5, 0.7, 0.9, 1.0])
def test_top_p_keeps_the_smallest_set_reaching_p(top_p):
    T = torch.ones(2, dtype=torch.float64)
    p = sampling_probs(LOGITS, T, "top-p", p=top_p)
    full = torch.softmax(LOGITS, -1)
    for r in range(2):
        order = full[r].argsort(descending=True)
        mass, keep = 0.0, []
        for i in order.tolist():          # the definition: add the likeliest until the mass reaches p
            keep.append(i)
            mass += float(full[r, i])
            if mass >= top_p:
                break
        ref = torch.zeros(5, dtype=torch.float64)
        ref[keep] = full[r, keep] / full[r, keep].sum()
        assert torch.allclose(p[r], ref, atol=1e-12)


def test_greedy_and_the_draw():
    p = sampling_probs(LOGITS, torch.ones(2, dtype=torch.float64), "greedy")
    assert p.argmax(-1).tolist() == [0, 4] and torch.equal(p.sum(-1), torch.ones(2, dtype=torch.float64))
    probs = torch.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]], dtype=torch.float64)
    # inverse CDF: the first index whose cumulative probability exceeds u
    assert draw(probs, torch.tensor([0.05, 0.2], dtype=torch.float64)).tolist() == [0, 0]
    assert draw(probs, torch.tensor([0.15, 0.75], dtype=torch.float64)).tolist() == [1, 1]
    assert draw(probs, torch.tensor([0.999, 0.9999], dtype=torch.float64)).tolist() == [2, 1]
    # frequencies follow p
    u = torch.rand(20000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = draw(probs[:1].expand(20000, -1), u).bincount(minlength=3).double() / 20000
    assert torch.allclose(got, probs[0], atol=0.02)


def test_the_draw_never_picks_a_character_of_probability_zero():
    """A float32 cumulative sum can end below 1 (here 0.99999994); a uniform draw of 0.99999997
    then fell past the end and was clamped onto the last character, whose probability is 0."""
    probs = torch.tensor([[0.99999994, 0.0], [0.5, 0.0], [0.25, 0.25]], dtype=torch.float32)
    probs[1, 0] = 0.49999997
    assert probs.cumsum(-1)[:2, -1].lt(1).all()
    for u in (0.99999997, 0.9999999, 1.0 - 2.0 ** -30):
        got = draw(probs, torch.full((3,), u, dtype=torch.float64))
        assert got.tolist() == [0, 0, 1]
        assert (probs.gather(1, got[:, None]) > 0).all()
    # zeros in the middle and at the end, any u: the drawn character always has p > 0
    probs = torch.tensor([[0.3, 0.0, 0.69999999, 0.0, 0.0]], dtype=torch.float32).expand(7, -1)
    u = torch.tensor([0.0, 0.29999, 0.3, 0.5, 0.9999999, 0.99999997, 1 - 2.0 ** -40], dtype=torch.float64)
    got = draw(probs, u)
    assert got.tolist() == [0, 0, 2, 2, 2, 2, 2]


@pytest.mark.parametrize("key", ["names", "prose"])
def test_ngram_probabilities_sum_to_one(key):
    c = data.shipped(key)
    ng = ngram.for_corpus(c)
    rng = np.random.default_rng(0)
    for n in ngram.ORDERS:
        for k in (0.01, 1.0):
            for start in rng.integers(5, len(c.ids), 5):
                p = ng.distribution(c.ids[:start], n, k)
                assert p.shape == (c.V,) and abs(p.sum() - 1) < 1e-9 and (p > 0).all()


def test_ngram_counts_by_hand():
    ids = np.array([0, 1, 0, 1, 0, 2])
    ng = ngram.NGram(ids, 3)
    # after "0": 1 twice, 2 once -> P(1 | 0) = (2 + k) / (3 + 3k)
    k = 0.5
    assert math.isclose(ng.distribution(np.array([0]), 2, k)[1], (2 + k) / (3 + 3 * k))
    # "2" is never followed by anything: an unseen context gets the uniform distribution
    assert np.allclose(ng.distribution(np.array([2]), 2, k), 1 / 3)
    # unigram: counts 3, 2, 1 of 6
    assert np.allclose(ng.distribution(np.array([], dtype=int), 1, k), (np.array([3, 2, 1]) + k) / (6 + 3 * k))


def test_heldout_bits_are_computed_the_same_way_for_both_models():
    """Both score exactly ``Corpus.eval_positions`` and average −log₂ p with ``bits_per_char``;
    the network's number equals torch's cross-entropy / ln 2 on the held-out rows."""
    from core.lessons.charrnn import CharRnnConfig, CharRnnTrainer
    t = CharRnnTrainer(CharRnnConfig(corpus="names", hidden=32), CPU)
    c = t.corpus
    pos = c.eval_positions()
    lp = t.heldout_log_probs()
    assert lp.shape == pos.shape
    # the network's log-probabilities are those of the characters at exactly these positions
    rows = c.eval_rows()
    x = torch.from_numpy(c.ids[rows[None, :] + np.arange(data.EVAL_LEN)[:, None]].astype(np.int64))
    y = torch.from_numpy(c.ids[pos].astype(np.int64)).view(len(rows), data.EVAL_LEN).t()
    with torch.no_grad():
        t.model.eval()
        logits, _ = t.model(x)
    ce = F.cross_entropy(logits.reshape(-1, c.V), y.reshape(-1)).item()
    assert math.isclose(ngram.bits_per_char(lp), ce / math.log(2), rel_tol=1e-5)
    # the n-gram's held-out figure is bits_per_char of its log-probabilities at the same positions
    ng = t.ngram
    assert math.isclose(ng.heldout_bits(c, 0.1)[3], ngram.bits_per_char(ng.log_probs(c.ids, pos, 3, 0.1)))


def test_probe_finds_a_planted_unit():
    text = 'ab "cd" ef (gh) ij\nkl "mn op" q\n' * 20
    f = probe.features(text)
    acts = np.random.default_rng(0).normal(size=(len(text), 5))
    acts[:, 3] = f["inside quotes"] + 0.01 * acts[:, 3]
    r = probe.correlations(acts, f)
    rows = {row["feature"]: row for row in probe.top_units(r)}
    assert rows["inside quotes"]["units"][0] == 3 and rows["inside quotes"]["r"][0] > 0.99
    assert f["inside brackets"][text.index("g")] == 1 and f["inside brackets"][text.index("i")] == 0
    assert f["position in line"][text.index("\n") + 1] == 1


@pytest.mark.parametrize("key", ["names", "prose", "play"])
def test_the_default_add_k_is_tuned(key):
    """The default k is the grid search's answer on every shipped text, to 0.01 bits/char (measured ≤ 0.005)."""
    c = data.shipped(key)
    ng = ngram.for_corpus(c)
    best, n, k = ng.tuned(c)
    assert best == min(min(ng.heldout_bits(c, k).values()) for k in ngram.K_GRID)
    assert min(ng.heldout_bits(c, CharRnnConfig().add_k).values()) - best < 0.01
