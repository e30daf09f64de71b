"""Sequence to sequence (issue 14): the targets, measured, printed as one JSON object.

    python benchmarks/bench_seq2seq.py            # all (≈ 5–8 minutes on one core)
    python benchmarks/bench_seq2seq.py --quick    # speed only

* ``dates_*``: from the defaults on one CPU thread, train until the attention model's held-out
  exact match (1,000 unseen dates, greedy) reaches 99 %, at most 90 s of wall time; the plain
  model's accuracy on the longest inputs (31–37 characters) at that moment is the bottleneck gap.
* ``speed_*``: the lesson's trainer against a plain PyTorch loop of the same two models on the
  same batches (per-step decoder with nn.GRU-cell maths, attention keys recomputed at every
  step, one loss per step, two optimisers, two backward passes, ``loss.item()`` per step, as in
  the PyTorch seq2seq tutorial), same run, interleaved rounds, median.
* ``largest_step_ms``: one step at the widgets' largest settings (the live budget is 250 ms).
* ``reverse_*``: reversal of up to 16 digits, 1,500 steps: exact match by input length, both models.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_throughput  # noqa: E402
from core.lessons.seq2seq import Seq2SeqConfig, Seq2SeqTrainer  # noqa: E402
from core.lessons.seq2seq import data as D  # noqa: E402
from core.lessons.seq2seq.decoding import exact_match, greedy  # noqa: E402
from core.lessons.seq2seq.model import Seq2Seq  # noqa: E402

CPU = torch.device("cpu")


def plain_step(model: Seq2Seq, opt: torch.optim.Optimizer, src: torch.Tensor, src_len: torch.Tensor,
               tgt: torch.Tensor, feed_truth: bool) -> float:
    """One step of a textbook loop: the decoder one character at a time, everything recomputed."""
    opt.zero_grad()
    enc, _ = model.encoder(model.src_emb(src))
    s = enc[torch.arange(src.shape[0]), src_len - 1]
    mask = src != D.PAD
    y = torch.full((src.shape[0],), D.START, dtype=torch.long)
    loss = torch.zeros(())
    for t in range(tgt.shape[1]):
        x = model.tgt_emb(y)
        if model.attention == "additive":
            e = model.v(torch.tanh(model.W_s(s).unsqueeze(1) + model.W_h(enc))).squeeze(-1)
            a = torch.softmax(e.masked_fill(~mask, float("-inf")), -1)
            c = torch.bmm(a.unsqueeze(1), enc).squeeze(1)
            s = model.gru_step(torch.cat([x, c], -1), s)
            logits = model.out(torch.tanh(model.combine(torch.cat([c, s], -1))))
        elif model.attention == "dot":
            s = model.gru_step(x, s)
            a = torch.softmax(torch.bmm(enc, s.unsqueeze(-1)).squeeze(-1).masked_fill(~mask, float("-inf")), -1)
            c = torch.bmm(a.unsqueeze(1), enc).squeeze(1)
            logits = model.out(torch.tanh(model.combine(torch.cat([c, s], -1))))
        else:
            s = model.gru_step(x, s)
            logits = model.out(s)
        loss = loss + F.cross_entropy(logits, tgt[:, t], ignore_index=D.PAD, reduction="sum")
        y = tgt[:, t] if feed_truth else logits.argmax(-1)
    loss = loss / (tgt != D.PAD).sum()
    loss.backward()
    opt.step()
    return loss.item()


def textbook_batch(pool, B: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A textbook batch: B pairs of ``pool`` drawn at random, padded to the longest
    (src [B, S], src_len [B], tgt [B, T])."""
    i = torch.from_numpy(rng.integers(0, len(pool.inputs), B))
    S, T = int(pool.src_len[i].max()), int((pool.tgt[i] != D.PAD).sum(1).max())
    return pool.src[i, :S], pool.src_len[i], pool.tgt[i, :T]


def plain_models(trainer: Seq2SeqTrainer, cfg: Seq2SeqConfig) -> dict[str, tuple[Seq2Seq, torch.optim.Optimizer]]:
    """The textbook twin of each of the trainer's models, with an Adam of its own."""
    plain = {k: Seq2Seq(cfg.embed, cfg.hidden, m.attention) for k, m in trainer.models.items()}
    return {k: (m, torch.optim.Adam(m.parameters(), lr=cfg.lr)) for k, m in plain.items()}


def plain_steps(models: dict[str, tuple[Seq2Seq, torch.optim.Optimizer]], draw, n: int, rng: np.random.Generator,
                teacher_forcing: float) -> None:
    """n textbook steps: a batch from ``draw()``, teacher forcing drawn per step, ``plain_step``
    for each model."""
    for _ in range(n):
        src, src_len, tgt = draw()
        truth = bool(rng.random() < teacher_forcing)
        for model, opt in models.values():
            plain_step(model, opt, src, src_len, tgt, truth)


def speed(cfg: Seq2SeqConfig, rounds: int = 5, steps: int = 30) -> dict:
    """Steps/s of the trainer and of the plain loop (both models per step), same batches."""
    torch.manual_seed(0)
    trainer = Seq2SeqTrainer(cfg, CPU)
    trainer.config.eval_every = 10**9          # no evaluation inside the timed steps (set after the checks)
    plain = plain_models(trainer, cfg)
    rng = np.random.default_rng(1)

    def random_batch():
        return textbook_batch(trainer.pool, cfg.batch_size, rng)

    times: dict[str, list[float]] = {"trainer": [], "plain": [], "plain_bucketed": []}
    trainer.step(3)
    for _ in range(rounds):
        t0 = time.perf_counter()
        trainer.step(steps)
        times["trainer"].append((time.perf_counter() - t0) / steps)
        for name, draw in (("plain", random_batch), ("plain_bucketed", trainer._batch)):
            t0 = time.perf_counter()
            plain_steps(plain, draw, steps, rng, cfg.teacher_forcing)
            times[name].append((time.perf_counter() - t0) / steps)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"trainer_steps_per_s": round(1 / med["trainer"], 1),
            "plain_loop_steps_per_s": round(1 / med["plain"], 1),
            "speedup": round(med["plain"] / med["trainer"], 2),
            # the plain loop fed the trainer's length-bucketed batches: the gain of the fused maths alone
            "speedup_same_batches": round(med["plain_bucketed"] / med["trainer"], 2)}


STEP = ("one step of both default models (a GRU encoder–decoder with additive attention and the same "
        "without it, embedding 16, hidden 48) on the same batch of 64 date pairs")


def ours(seconds: float) -> float:
    """The lesson's trainer at its defaults, its held-out measurements included (for
    benchmarks/bench_throughput.py, the one table of all lessons)."""
    torch.manual_seed(0)
    return bench_throughput.rate(Seq2SeqTrainer(Seq2SeqConfig(), CPU).step, seconds, warmup=3)


def plain_loop(seconds: float) -> float:
    """The textbook loop of ``speed`` (``plain_step`` for each model, random padded batches from
    the same pool, teacher forcing drawn per step), in the table's timing loop."""
    cfg = Seq2SeqConfig()
    torch.manual_seed(0)
    trainer = Seq2SeqTrainer(cfg, CPU)             # its models' kinds and its data pool only
    plain = plain_models(trainer, cfg)
    rng = np.random.default_rng(1)

    def steps(n: int) -> None:
        plain_steps(plain, lambda: textbook_batch(trainer.pool, cfg.batch_size, rng), n, rng, cfg.teacher_forcing)

    return bench_throughput.rate(steps, seconds, warmup=3)


def largest_step_ms() -> float:
    cfg = Seq2SeqConfig(task="reverse", max_len=24, hidden=96, embed=32, batch_size=128,
                        teacher_forcing=0.0, attention="additive", eval_every=10_000)
    t = Seq2SeqTrainer(cfg, CPU)
    t.step(2)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        t.step(1)
        times.append(time.perf_counter() - t0)
    return round(1000 * statistics.median(times), 1)


def dates_target(budget_s: float = 90.0) -> dict:
    """Defaults, one thread: seconds until the attention model reaches 99 % on held-out dates."""
    t = Seq2SeqTrainer(Seq2SeqConfig(), CPU)     # eval every 200 steps, counted in the time
    t0 = time.perf_counter()
    reached = None
    while time.perf_counter() - t0 < budget_s:
        t.step(t.config.eval_every)
        if reached is None and t.last_acc["attn"][0] >= 0.99:
            reached = time.perf_counter() - t0
            break
    acc = t.last_acc
    h = t.held                      # the whole held-out set (the live measurement uses 600 of it)
    full = {k: float(exact_match(greedy(m, h.src, h.src_len, t.out_steps)[0], h.tgt).float().mean())
            for k, m in t.models.items()}
    return {"dates_seconds_to_99pct": None if reached is None else round(reached, 1),
            "dates_attention_exact_match_all_1000": round(full["attn"], 4),
            "dates_plain_exact_match_all_1000": round(full["plain"], 4),
            "dates_steps": t.step_count,
            "dates_attention_exact_match": round(float(acc["attn"][0]), 4),
            "dates_plain_exact_match": round(float(acc["plain"][0]), 4),
            "dates_longest_inputs_attention": round(float(acc["attn"][1]), 4),
            "dates_longest_inputs_plain": round(float(acc["plain"][1]), 4),
            "dates_by_length_plain": [round(float(v), 3) for v in t.by_length["plain"]],
            "dates_by_length_attention": [round(float(v), 3) for v in t.by_length["attn"]],
            "dates_buckets": [f"{lo}-{hi}" for lo, hi in t.buckets]}


def reverse_gap(steps: int = 1500) -> dict:
    """Reversal (16 digits), defaults otherwise: exact match by input length after ``steps``."""
    t = Seq2SeqTrainer(Seq2SeqConfig(task="reverse"), CPU)
    t.step(steps)
    return {"reverse_steps": steps, "reverse_buckets": [f"{lo}-{hi}" for lo, hi in t.buckets],
            "reverse_by_length_plain": [round(float(v), 3) for v in t.by_length["plain"]],
            "reverse_by_length_attention": [round(float(v), 3) for v in t.by_length["attn"]]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out: dict = {"torch": torch.__version__, "threads": 1}
    for name, cfg in (("dates_additive", Seq2SeqConfig()), ("dates_dot", Seq2SeqConfig(attention="dot")),
                      ("dates_additive_tf0.5", Seq2SeqConfig(teacher_forcing=0.5))):
        out.update({f"speed_{name}_{k}": v for k, v in speed(cfg).items()})
    out["largest_step_ms"] = largest_step_ms()
    if not a.quick:
        out.update(dates_target())
        out.update(reverse_gap())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
