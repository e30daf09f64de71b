"""The seq2seq lesson's maths against torch, its data, decoding and trainer."""
import dataclasses
import datetime as dt

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from core.checkpoints import load_checkpoint, save_checkpoint
from core.lessons.seq2seq import Seq2SeqConfig, Seq2SeqTrainer
from core.lessons.seq2seq import data as D
from core.lessons.seq2seq import decoding, explain
from core.lessons.seq2seq.model import Seq2Seq
from core.live import Diverged

CPU = torch.device("cpu")


def batch(n: int = 12, task: str = "dates", seed: int = 0):
    _, held = D.make_data(task, seed, 12, n_pool=10, n_held=n)
    return held


def model(attention, hidden: int = 16, seed: int = 0) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(8, hidden, attention).double()


# ------------------------------------------------------------------ attention against torch
@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_weights_sum_to_one_and_equal_a_torch_reference(attention):
    m, h = model(attention), batch()
    e = m.encode(h.src, h.src_len)
    s = torch.randn(len(h.inputs), 16, dtype=torch.float64)
    c, alpha = m.attend(s, e)
    assert torch.allclose(alpha.sum(-1), torch.ones(len(h.inputs), dtype=torch.float64), atol=1e-12)
    assert (alpha[~e.mask] == 0).all(), "padding gets no weight"
    if attention == "dot":
        ref_c = F.scaled_dot_product_attention(s[:, None, None], e.enc[:, None], e.enc[:, None],
                                               attn_mask=e.mask[:, None, None], scale=1.0)[:, 0, 0]
        ref_a = torch.softmax((e.enc @ s[:, :, None]).squeeze(-1).masked_fill(~e.mask, -torch.inf), -1)
    else:
        # e_{t,j} = v·tanh(W_s s + W_h h_j + b), written out element by element
        W_s, W_h, b, v = m.W_s.weight, m.W_h.weight, m.W_h.bias, m.v.weight[0]
        scores = torch.stack([torch.stack([v @ torch.tanh(W_s @ s[i] + W_h @ e.enc[i, j] + b)
                                           for j in range(e.enc.shape[1])]) for i in range(len(s))])
        ref_a = torch.softmax(scores.masked_fill(~e.mask, -torch.inf), -1)
        ref_c = (ref_a[:, :, None] * e.enc).sum(1)
    assert torch.allclose(alpha, ref_a, atol=1e-10) and torch.allclose(c, ref_c, atol=1e-10)


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_the_equation_numbers_equal_torch(attention):
    """What the page writes (explain.context_step) against a recomputation in float64 to 1e-6."""
    t = Seq2SeqTrainer(Seq2SeqConfig(attention=attention, hidden=16, embed=8), CPU)
    t.step(20)
    p = t.probe()
    c = p["step"]
    ref_alpha = torch.softmax(torch.from_numpy(c.scores), -1).numpy()
    assert np.abs(c.alpha - ref_alpha).max() < 1e-6 and abs(c.alpha.sum() - 1) < 1e-6
    assert np.abs(c.context - c.alpha @ c.enc).max() < 1e-6
    if attention == "dot":
        q = torch.from_numpy(c.query)[None, None, None]
        kv = torch.from_numpy(c.enc)[None, None]
        ref = F.scaled_dot_product_attention(q, kv, kv, scale=1.0)[0, 0, 0].numpy()
        assert np.abs(c.scores - c.enc @ c.query).max() < 1e-6
        assert np.abs(c.context - ref).max() < 1e-6
    # the map's row t is the same α
    assert np.abs(p["alpha"][c.t - 1] - c.alpha).max() < 1e-6
    lines = explain.latex(c)
    j = int(np.argmax(c.alpha))
    assert f"{c.alpha[j]:.3f}" in lines[1] and f"{c.context[0]:.3f}".replace("-", "−") in lines[2]


def test_gru_step_is_the_decoder_gru():
    m = model("dot")
    x, s = torch.randn(5, 8, dtype=torch.float64), torch.randn(5, 16, dtype=torch.float64)
    ref = m.decoder(x[:, None], s[None])[1][0]
    assert torch.allclose(m.gru_step(x, s), ref, atol=1e-12)


@pytest.mark.parametrize("attention", [None, "dot"])
def test_teacher_forced_in_one_call_equals_step_by_step(attention):
    m, h = model(attention), batch()
    e = m.encode(h.src, h.src_len)
    tgt_in = torch.cat([torch.full_like(h.tgt[:, :1], D.START), h.tgt[:, :-1]], 1)
    fast = m.teacher_forced(e, tgt_in)
    s, steps = e.last, []
    for t in range(tgt_in.shape[1]):
        logits, s, _ = m.step(tgt_in[:, t], s, e)
        steps.append(logits)
    assert torch.allclose(fast, torch.stack(steps, 1), atol=1e-10)


# ------------------------------------------------------------------ decoding
@pytest.mark.parametrize("attention", [None, "additive", "dot"])
def test_beam_width_one_is_greedy(attention):
    t = Seq2SeqTrainer(Seq2SeqConfig(attention=attention or "dot", hidden=32), CPU)
    t.step(60)
    m = t.models["plain" if attention is None else "attn"]
    h = t.held
    g = decoding.greedy(m, h.src, h.src_len, t.out_steps)[0]
    b = decoding.beam(m, h.src, h.src_len, t.out_steps, 1)
    assert torch.equal(g, b)


def test_beam_search_finds_outputs_at_least_as_likely_as_greedy():
    t = Seq2SeqTrainer(Seq2SeqConfig(hidden=32), CPU)
    t.step(60)
    m, h = t.models["plain"], t.held
    src, n = h.src[:200], h.src_len[:200]

    def logp(ids):
        e = m.encode(src, n)
        tgt_in = torch.cat([torch.full_like(ids[:, :1], D.START), ids[:, :-1]], 1)
        lp = torch.log_softmax(m.teacher_forced(e, tgt_in), -1).gather(2, ids.unsqueeze(-1)).squeeze(-1)
        keep = (torch.cumsum(ids == D.END, 1) - (ids == D.END).long()) == 0
        return (lp * keep).sum(1)

    with torch.no_grad():
        g = logp(decoding.greedy(m, src, n, t.out_steps)[0])
        b = logp(decoding.beam(m, src, n, t.out_steps, 4))
    assert (b >= g - 1e-4).all()


def test_exact_match_reads_up_to_the_end_token():
    tgt = D.encode(["12"], 4, end=True)
    assert decoding.exact_match(D.encode(["12"], 5, end=True), tgt).item()
    after = torch.tensor([[D.INDEX["1"], D.INDEX["2"], D.END, D.INDEX["3"]]])
    assert decoding.exact_match(after, tgt).item()          # anything after END is ignored
    assert not decoding.exact_match(D.encode(["123"], 5, end=True), tgt).item()
    assert not decoding.exact_match(D.encode(["1"], 5, end=True), tgt).item()


# ------------------------------------------------------------------ data
def test_every_format_parses_back_to_its_date():
    rng = np.random.default_rng(0)
    for k in rng.choice(D.N_DAYS, 300, replace=False):
        d = D.FIRST_DAY + dt.timedelta(days=int(k))
        for f in range(D.N_FORMATS):
            s = D.format_date(d, f)
            assert D.parse_date(s) == d.isoformat(), s
            assert len(s) <= D.DATE_INPUT_MAX and set(s) <= set(D.ALPHABET)


def test_held_out_days_never_occur_in_training_and_the_set_is_fixed_by_the_seed():
    pool, held = D.make_data("dates", 3, 16, n_pool=5000, n_held=500)
    assert not set(pool.answers) & set(held.answers)
    again = D.make_data("dates", 3, 16, n_pool=5000, n_held=500)[1]
    assert again.inputs == held.inputs and D.make_data("dates", 4, 16, n_pool=10, n_held=500)[1].inputs != held.inputs
    pool, held = D.make_data("reverse", 0, 9, n_pool=100, n_held=100)
    assert all(a == x[::-1] and 1 <= len(x) <= 9 for x, a in zip(held.inputs, held.answers))


def test_typed_input_is_checked_against_alphabet_and_length():
    assert D.check_input("dates", "  3rd of May 1999 ", 16) == "3rd of may 1999"
    with pytest.raises(ValueError, match="alphabet"):
        D.check_input("dates", "3rd of may 1999!", 16)
    with pytest.raises(ValueError, match="alphabet.*digits 0–9"):
        D.check_input("reverse", "12a", 16)
    with pytest.raises(ValueError, match="at most 16"):
        D.check_input("reverse", "1" * 17, 16)
    with pytest.raises(ValueError, match="at most 40"):
        D.check_input("dates", "1" * 41, 16)
    with pytest.raises(ValueError, match="empty"):
        D.check_input("dates", "   ", 16)
    assert D.reference("reverse", "123") == "321" and D.reference("dates", "05/03/99") == "1999-05-03"
    assert D.reference("dates", "hello") is None


# ------------------------------------------------------------------ the trainer
def test_defaults_learn_dates_with_attention_and_leave_the_plain_model_behind():
    t = Seq2SeqTrainer(Seq2SeqConfig(seed=0), CPU)
    t.step(600)                                  # ≈ 25 s on one core; no false alarm on the way
    acc = t.last_acc
    assert acc["attn"][0] >= 0.9, acc
    assert acc["attn"][0] - acc["plain"][0] >= 0.5 and acc["attn"][1] > acc["plain"][1]
    assert t.metrics.arrays()["acc_attn"][0] < 0.05          # it was not there at the start


def test_typed_input_is_shown_or_explained():
    t = Seq2SeqTrainer(Seq2SeqConfig(probe="5/3/1999", explain_step=25), CPU)
    p = t.probe()
    assert p["text"] == "5/3/1999" and p["message"] is None and p["reference"] == "1999-05-03"
    assert p["alpha"].shape[1] == 8 and 1 <= p["step"].t <= p["alpha"].shape[0]
    t.apply_live(dataclasses.replace(t.config, probe="<script>"))
    p = t.probe()
    assert "alphabet" in p["message"] and p["text"] == t.held.inputs[t.examples[-1]]


def test_same_seed_same_run_regardless_of_chunking():
    cfg = Seq2SeqConfig(seed=2, hidden=16, embed=8, teacher_forcing=0.5, eval_every=10)
    a, b = Seq2SeqTrainer(cfg, CPU), Seq2SeqTrainer(cfg, CPU)
    a.step(30)
    for n in (1, 9, 20):
        b.step(n)
    assert np.array_equal(a.history.arrays()["loss_attn"], b.history.arrays()["loss_attn"])
    assert np.array_equal(a.metrics.arrays()["acc_plain"], b.metrics.arrays()["acc_plain"])


def test_live_settings_apply_without_touching_weights():
    t = Seq2SeqTrainer(Seq2SeqConfig(hidden=16), CPU)
    t.step(3)
    w = t.models["attn"].out.weight.clone()
    t.apply_live(dataclasses.replace(t.config, lr=0.01, batch_size=16, decoding="beam", beam_width=2,
                                     teacher_forcing=0.0))
    assert torch.equal(t.models["attn"].out.weight, w) and t.opt.param_groups[0]["lr"] == 0.01
    t.step(2)
    assert t.step_count == 5


def test_the_top_learning_rate_blows_up_with_the_message():
    t = Seq2SeqTrainer(Seq2SeqConfig(lr=10.0, hidden=16), CPU)
    with pytest.raises(Diverged, match="blew up at step .*Lower the learning rate"):
        for _ in range(30):
            t.step(10)
    assert len(t.history.arrays()["step"]) > 0


def test_checkpoint_round_trip_is_small(tmp_path):
    t = Seq2SeqTrainer(Seq2SeqConfig(seed=1), CPU)
    t.step(5)
    path = tmp_path / "s.pt"
    t.opt.compact = True        # the shipped files' form (a student's download keeps float32 moments)
    save_checkpoint(path, t.state_dict())
    assert path.stat().st_size < 600_000
    u = Seq2SeqTrainer.from_checkpoint(load_checkpoint(path, "seq2seq"), CPU)
    assert u.step_count == 5
    for k in t.models:
        for p, q in zip(t.models[k].parameters(), u.models[k].parameters()):
            assert torch.equal(p, q)
    u.step(2)
    assert u.step_count == 7


def test_shipped_checkpoints_load_and_are_trained():
    t = Seq2SeqTrainer.from_checkpoint(load_checkpoint("pretrained/seq2seq_dates.pt", "seq2seq"), CPU)
    assert t.last_acc["attn"][0] >= 0.99 and t.last_acc["plain"][1] < t.last_acc["attn"][1]
    r = Seq2SeqTrainer.from_checkpoint(load_checkpoint("pretrained/seq2seq_reverse.pt", "seq2seq"), CPU)
    assert r.config.task == "reverse"
    # the bottleneck by length: the plain model is fine on short strings and lost on the longest
    assert r.by_length["plain"][0] > 0.9 and r.by_length["plain"][-1] < 0.2 < r.by_length["attn"][-1]
