"""Two encoder–decoders, without and with attention, trained side by side on the same batches.

One step = one batch of pairs; both models take one Adam step on it (one optimiser over both
parameter sets and one backward of the summed losses: the models share nothing, so each gets
exactly its own gradient). Held-out exact-match accuracy, overall and by input length, is measured
every ``eval_every`` steps on the fixed held-out set with the chosen decoding, never per frame.

What makes it faster than a plain loop of the same models (benchmarks/bench_seq2seq.py): batches
drawn from a pre-encoded pool and cut to their own longest input; teacher-forced batches of the
plain and dot models decoded in one GRU call (the additive model's GRU input needs the attention,
so it steps); the additive keys W_h h_j computed once per batch, not per output step; one read-out
and one loss over all steps; one backward and one optimiser step for both models; no ``.item()``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from core.live import History
from core.trainer import TrainerBase
from core.lessons.seq2seq import data as D
from core.lessons.seq2seq import decoding, explain, fused
from core.lessons.seq2seq.config import N_EXAMPLES, Seq2SeqConfig
from core.lessons.seq2seq.model import Seq2Seq
from core.lessons.seq2seq.optim import CompactAdam

MODELS = ("plain", "attn")
EVAL_ROWS = 600         # held-out decodings per measurement (examples × beam width): bounded cost
BUCKET = 2048           # batches come from this many pairs of neighbouring input lengths (of 30,000)


class Seq2SeqTrainer(TrainerBase):
    """Trains the plain and the attention model; one step = one batch for both."""

    LESSON = "seq2seq"
    Config = Seq2SeqConfig
    HISTORY_KEYS = ("loss_plain", "loss_attn")
    METRIC_KEYS = ("acc_plain", "acc_attn", "long_plain", "long_attn")
    # Cross-entropy starts near ln V ≈ 3.8, a uniform guess; ten times worse than guessing is a
    # blow-up (Adam at lr 10 reaches 50–170 within two steps; lr 3 peaks at 35, the default never rises).
    RUNAWAY = {"loss_plain": (10.0, 1.0), "loss_attn": (10.0, 1.0)}

    def check_config(self, config: Seq2SeqConfig) -> None:
        if not (np.isfinite(config.lr) and config.lr > 0):
            raise ValueError("the learning rate must be a positive number")

    def build(self) -> None:
        cfg = self.config
        self.pool, self.held = D.make_data(cfg.task, cfg.seed, cfg.max_len)
        self._pool_len = self.pool.src_len.numpy()
        self._pool_tlen = (self.pool.tgt != D.PAD).sum(1).numpy()
        self._by_len = np.argsort(self._pool_len, kind="stable")          # pool indices, short to long
        self.out_steps = self.held.tgt.shape[1] + 1       # room for one character too many
        self.models = {"plain": Seq2Seq(cfg.embed, cfg.hidden, None),
                       "attn": Seq2Seq(cfg.embed, cfg.hidden, cfg.attention)}
        for m in self.models.values():
            m.to(self.device)
        params = [p for m in self.models.values() for p in m.parameters()]
        self.opt = CompactAdam(params, lr=cfg.lr)
        self._rng = np.random.default_rng([cfg.seed, 7])
        self.buckets = D.length_buckets(cfg.task, cfg.max_len)
        lens = self.held.src_len.numpy()
        self._bucket_of = [(lens >= lo) & (lens <= hi) for lo, hi in self.buckets]
        self._long = self._bucket_of[max(i for i, b in enumerate(self._bucket_of) if b.any())]
        order = np.argsort(lens, kind="stable")
        self.examples = [int(order[round(i * (len(order) - 1) / (N_EXAMPLES - 1))]) for i in range(N_EXAMPLES)]
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self.by_length = {k: np.full(len(self.buckets), np.nan) for k in MODELS}
        self.evaluate()

    def on_live_change(self, old: Seq2SeqConfig, new: Seq2SeqConfig) -> None:
        for g in self.opt.param_groups:
            g["lr"] = new.lr
        if new.decoding != old.decoding or (new.decoding == "beam" and new.beam_width != old.beam_width):
            self.evaluate(record=False)     # the accuracy shown follows the decoding chosen

    # ------------------------------------------------------------------ training
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(src [B, S], src_len [B], tgt [B, T]) cut to the batch's own longest input and answer.

        Length bucketing: the B pairs are drawn at random from a random window of BUCKET pairs of
        similar input length, so a batch of short dates is not padded to the longest one (the
        encoder and the attention then work on about half the positions)."""
        start = int(self._rng.integers(0, len(self._by_len) - BUCKET + 1))
        idx = self._by_len[start + self._rng.integers(0, BUCKET, self.config.batch_size)]
        S, T = int(self._pool_len[idx].max()), int(self._pool_tlen[idx].max())
        i = torch.from_numpy(idx)
        put = lambda x: x.to(self.device)  # noqa: E731
        return put(self.pool.src[i, :S]), put(self.pool.src_len[i]), put(self.pool.tgt[i, :T])

    def train_steps(self, n: int) -> None:
        for _ in range(n):
            src, src_len, tgt = self._batch()
            # decoder input: START, then the answer shifted right by one
            tgt_in = torch.cat([torch.full_like(tgt[:, :1], D.START), tgt[:, :-1]], 1)
            feed_truth = bool(self._rng.random() < self.config.teacher_forcing)
            # L = mean over the answer's characters of −log p(true character), per model
            losses = [F.cross_entropy(logits.reshape(-1, D.V), tgt.reshape(-1), ignore_index=D.PAD)
                      for logits in fused.forward_all(list(self.models.values()), src, src_len, tgt_in, feed_truth)]
            self.opt.zero_grad(set_to_none=True)
            (losses[0] + losses[1]).backward()
            self.opt.step()
            self.push(torch.stack(losses).detach())
            if self.step_count % self.config.eval_every == 0:
                self.flush()
                self.evaluate()

    # ------------------------------------------------------------------ measuring
    def evaluate(self, record: bool = True) -> None:
        """Held-out exact match (overall, longest inputs, by length) for both models, on the first
        EVAL_ROWS ÷ width held-out pairs (a random subset: the set is in random order)."""
        cfg, h = self.config, self.held
        width = cfg.beam_width if cfg.decoding == "beam" else 1
        n = min(len(h.inputs), EVAL_ROWS // width)
        src, src_len, tgt = h.src[:n].to(self.device), h.src_len[:n].to(self.device), h.tgt[:n]
        acc = {}
        for k, m in self.models.items():
            m.eval()
            ids = decoding.decode_ids(m, src, src_len, self.out_steps, cfg.decoding, width).cpu()
            m.train()
            ok = decoding.exact_match(ids, tgt).numpy()
            acc[k] = (ok.mean(), ok[self._long[:n]].mean() if self._long[:n].any() else float("nan"))
            self.by_length[k] = np.array([ok[b[:n]].mean() if b[:n].any() else np.nan for b in self._bucket_of])
        if record:
            self.metrics.add(self.step_count, acc_plain=acc["plain"][0], acc_attn=acc["attn"][0],
                             long_plain=acc["plain"][1], long_attn=acc["attn"][1])
        self.last_acc = acc
        self.eval_size = n

    def probe_text(self) -> tuple[str, str | None]:
        """(the input the attention view shows, a message if the typed one can't be used)."""
        cfg = self.config
        fallback = self.held.inputs[self.examples[min(max(cfg.example, 0), N_EXAMPLES - 1)]]
        if not cfg.probe.strip():
            return fallback, None
        try:
            return D.check_input(cfg.task, cfg.probe, cfg.max_len), None
        except ValueError as e:
            return fallback, f"Can't use the typed input: {e}. Showing a held-out example instead."

    @torch.no_grad()
    def probe(self) -> dict[str, Any]:
        """Both models' outputs for the probe input, the attention map and one step's equation."""
        text, message = self.probe_text()
        src, n = D.encode([text], len(text)).to(self.device), torch.tensor([len(text)], device=self.device)
        out = {}
        for k, m in self.models.items():
            ids, alpha = decoding.greedy(m, src, n, self.out_steps, keep_alpha=(k == "attn"))
            out[k] = ids[0].cpu().tolist()
            if k == "attn":
                shown = len(D.decode(out[k])) + 1                      # the answer and its END
                out["alpha"] = alpha[0, :shown].cpu().numpy().astype(np.float64)   # [T_out, S]
        steps = out["alpha"].shape[0]
        t = min(max(self.config.explain_step, 1), steps)
        step = explain.context_step(self.models["attn"], text, out["attn"], t)
        return {"text": text, "message": message, "plain": D.decode(out["plain"]), "attn": D.decode(out["attn"]),
                "out_chars": [D.VOCAB[i] for i in out["attn"][:steps]], "alpha": out["alpha"],
                "reference": D.reference(self.config.task, text), "step": step}

    def snapshot(self) -> dict[str, Any]:
        """Arrays for the charts: histories [m], by-length [n_buckets], the probe (alpha [T_out, S])."""
        return {"step": self.step_count, "history": self.history.arrays(), "metrics": self.metrics.arrays(),
                "buckets": self.buckets, "by_length": {k: v.copy() for k, v in self.by_length.items()},
                "acc": dict(self.last_acc), "probe": self.probe(), "task": self.config.task,
                "attention": self.config.attention, "decoding": self.config.decoding,
                "beam_width": self.config.beam_width}

    # ------------------------------------------------------------------ checkpoints
    def modules(self) -> dict[str, Any]:
        return dict(self.models)

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.opt}

    def histories(self) -> dict[str, Any]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        return {"by_length": {k: v.tolist() for k, v in self.by_length.items()}}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        for k, v in (extra.get("by_length") or {}).items():
            if k in self.by_length and len(v) == len(self.buckets):
                self.by_length[k] = np.asarray(v, dtype=np.float64)
        self.evaluate(record=False)
