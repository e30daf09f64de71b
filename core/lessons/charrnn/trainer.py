"""The character-level trainer: truncated BPTT over parallel streams of the text, held-out bits per
character against the n-gram baseline, and the views a frame needs (samples, distributions,
activations), all bounded in size.

Shapes: a batch x, y: [T, B] (time-major: column b is stream b, y is x shifted by one character);
logits: [T, B, V].
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.live import History
from core.trainer import TrainerBase
from core.vet import check_count
from core.lessons.charrnn import ngram, probe
from core.lessons.charrnn.config import CharRnnConfig, check_config
from core.lessons.charrnn.data import EVAL_LEN, corpus_for
from core.lessons.charrnn.model import CharModel, detach
from core.lessons.charrnn.sampling import generate, prompt_ids

DETAIL_EVERY = 250      # while training, the interpretable-cell search reruns this often (steps)
PROBE_ROWS = 8          # held-out rows (of data.EVAL_LEN characters) the search reads
NOVEL_ROWS, NOVEL_LEN, NOVEL_T = 64, 24, 0.8


class CharRnnTrainer(TrainerBase):
    """Trains the character model; one step = one batch of B streams × T characters."""

    LESSON = "charrnn"
    Config = CharRnnConfig
    HISTORY_KEYS = ("loss", "grad_norm")
    # the loss in nats per character starts near ln V ≈ 4.2 (a uniform guess) and only falls in a
    # healthy run; four times that means it has left the rails, whether or not a NaN ever appears
    # (at the defaults on the prose SGD at a learning rate of 10 gets there within ~50 steps, Adam and RMSprop in 5)
    RUNAWAY = {"loss": (4.0, 1.0)}

    def check_config(self, config: CharRnnConfig) -> None:
        check_config(config)

    def build(self) -> None:
        cfg = self.config
        self.corpus = corpus_for(cfg.corpus, cfg.custom_text)
        self.ngram = ngram.for_corpus(self.corpus)
        V = self.corpus.V
        self.model = CharModel(V, cfg.cell, cfg.hidden, cfg.layers, cfg.dropout).to(self.device)
        # this trainer's own copy of the training ids (the cached corpus is shared, read-only)
        self._train = torch.from_numpy(self.corpus.ids[: self.corpus.split].astype(np.int64)).to(self.device)
        rows = self.corpus.eval_rows()
        idx = rows[None, :] + np.arange(EVAL_LEN + 1)[:, None]                       # [L + 1, R]
        self._eval = torch.from_numpy(self.corpus.ids[idx].astype(np.int64)).to(self.device)
        self._rng = np.random.default_rng(cfg.seed + 1)
        # dropout draws from torch's global generator: keep this run's own state (same seed, same
        # run) in a generator of its own, so a checkpoint saves it like any other; on a GPU the
        # CUDA generator's state is kept too (extra_state)
        self._dropout_rng = torch.Generator()
        self._dropout_rng.set_state(self._rng_states(seed=cfg.seed + 2)[0])
        self._cuda_rng = self._rng_states(seed=cfg.seed + 2)[1:]
        self._build_optimizer()
        self._make_streams()
        self.metrics = History(("heldout_bits",), capacity=500)
        self._detail: dict[str, Any] | None = None
        self._record_heldout()

    # ---------------------------------------------------------------- training
    def _build_optimizer(self) -> None:
        cfg, params = self.config, list(self.model.parameters())
        fused = {"fused": True} if self.device.type in ("cpu", "cuda") else {}
        if cfg.optimizer == "adam":
            self.opt = torch.optim.Adam(params, cfg.lr, **fused)
        elif cfg.optimizer == "rmsprop":
            self.opt = torch.optim.RMSprop(params, cfg.lr, foreach=True)
        else:
            self.opt = torch.optim.SGD(params, cfg.lr, momentum=0.9, **fused)

    def _make_streams(self) -> None:
        """Cut the training text into B streams read side by side: data [n, B] (column b is the
        b-th slice of the text). A short text gets fewer or shorter streams."""
        cfg, N = self.config, int(self._train.numel())
        self.seq_len = min(cfg.seq_len, max(1, N // 2 - 1))
        self.batch = max(1, min(cfg.batch_size, N // (self.seq_len + 2)))
        n = N // self.batch
        self._data = self._train[: n * self.batch].view(self.batch, n).t().contiguous()
        self._pos, self._state = 0, None

    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        T, n = self.seq_len, self._data.shape[0]
        if self._pos + T + 1 > n:
            # a new pass: start at a random offset (chunk borders move) from a fresh state
            self._pos, self._state = int(self._rng.integers(0, min(T, n - T - 1))), None
        p = self._pos
        self._pos += T
        return self._data[p:p + T], self._data[p + 1:p + T + 1]

    def _rng_states(self, seed: int | None = None) -> list[torch.Tensor]:
        """The global generators' states that dropout uses (CPU, and this device's if CUDA)."""
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            if seed is not None:
                torch.manual_seed(seed)
            cuda = [torch.cuda.get_rng_state(self.device)] if self.device.type == "cuda" else []
            return [torch.get_rng_state(), *cuda]

    def train_steps(self, n: int) -> None:
        cuda = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.set_rng_state(self._dropout_rng.get_state())
            if cuda:
                torch.cuda.set_rng_state(self._cuda_rng[0], self.device)
            try:
                self._run_steps(n)
            finally:
                self._dropout_rng.set_state(torch.get_rng_state())
                self._cuda_rng = [torch.cuda.get_rng_state(self.device)] if cuda else []

    def _run_steps(self, n: int) -> None:
        cfg, params = self.config, [p for p in self.model.parameters()]
        clip = cfg.clip if cfg.clip > 0 else math.inf
        V = self.corpus.V
        for _ in range(n):
            x, y = self._next_batch()
            logits, state = self.model(x, self._state)
            self._state = detach(state)          # truncated BPTT: memory carries on, gradients stop
            # L = −(1/TB) Σ log softmax(z)_y   (nats per character)
            loss = F.cross_entropy(logits.view(-1, V), y.reshape(-1))
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
            self.opt.step()
            self.push(torch.stack([loss.detach(), norm]))
            if self.step_count % cfg.eval_every == 0:
                self.flush()
                self._record_heldout()

    def on_live_change(self, old: CharRnnConfig, new: CharRnnConfig) -> None:
        if new.optimizer != old.optimizer:
            self._build_optimizer()
        else:
            for g in self.opt.param_groups:
                g["lr"] = new.lr
        if (new.batch_size, new.seq_len) != (old.batch_size, old.seq_len):
            self._make_streams()
        self.model.set_dropout(new.dropout)

    # ---------------------------------------------------------------- measuring
    @torch.no_grad()
    def heldout_log_probs(self) -> np.ndarray:
        """ln p(next character) at every scored held-out position (``Corpus.eval_positions``
        order): [R · EVAL_LEN]. Each row starts from a zero state."""
        self.model.eval()
        logits, _ = self.model(self._eval[:-1])                              # [L, R, V]
        self.model.train()
        lp = torch.log_softmax(logits.float(), -1).gather(-1, self._eval[1:, :, None])[..., 0]
        return lp.t().reshape(-1).cpu().numpy().astype(np.float64)          # row by row

    def _record_heldout(self) -> None:
        self.metrics.add(self.step_count, heldout_bits=ngram.bits_per_char(self.heldout_log_probs()))

    # ---------------------------------------------------------------- views
    @torch.no_grad()
    def snapshot(self, running: bool = False) -> dict[str, Any]:
        """Everything a frame draws (bounded): samples [≤ 4 texts of ≤ 200 characters], the
        inspected row's distributions [L, 6], its activations [L], the temperature table, the
        histories, the n-gram lines; the cell search and novelty on Pause or every DETAIL_EVERY steps."""
        from core.lessons.charrnn import views
        cfg, c = self.config, self.corpus
        temps = list(cfg.temperatures) or [1.0]
        rows = temps + ([] if cfg.inspect_t in temps else [cfg.inspect_t])
        start, dropped = prompt_ids(c, cfg.prompt)
        s = generate(self.model, start, rows, cfg.sample_len, cfg.sampling, cfg.top_k, cfg.top_p,
                     cfg.sample_seed, rows.index(cfg.inspect_t))
        if self._detail is None or (self._detail["step"] != self.step_count and
                                    (not running or self.step_count - self._detail["step"] >= DETAIL_EVERY)):
            self._detail = self.detail()
        unit = min(cfg.unit, self.model.hidden - 1)
        out = views.frame(c, s, temps, cfg, unit, self.model.cell == "lstm")
        out.update(step=self.step_count, history=self.history.arrays(), metrics=self.metrics.arrays(),
                   ngram=self.ngram.heldout_bits(c, cfg.add_k), dropped=dropped, unit=unit,
                   heldout_bits=self.metrics.last("heldout_bits"), detail=views.detail_view(self._detail, unit),
                   streams=(self.batch, self.seq_len), vocab=c.V, corpus=c.name)
        return out

    @torch.no_grad()
    def detail(self) -> dict[str, Any]:
        """The interpretable-cell search on a held-out slice and, for a list of names, the novelty
        of names sampled at T = 0.8 and their 3-gram bits/char (against held-out names')."""
        x = self._eval[:-1, :PROBE_ROWS]
        _, _, shown = self.model.explicit(x)                                # [L, R, H]
        acts = shown.float().cpu().numpy()
        acts = np.tanh(acts) if self.model.cell == "lstm" else acts
        texts = [self.corpus.decode(x[:, r].cpu().numpy()) for r in range(x.shape[1])]
        feats = [probe.features(t) for t in texts]
        allf = {k: np.concatenate([f[k] for f in feats]) for k in probe.FEATURES}
        r = probe.correlations(acts.transpose(1, 0, 2).reshape(-1, acts.shape[-1]), allf)
        out = {"step": self.step_count, "table": probe.top_units(r), "excerpt": texts[0],
               "excerpt_acts": acts[:, 0, :]}
        if self.corpus.lines:
            out.update(self.novelty())
        return out

    @torch.no_grad()
    def novelty(self) -> dict[str, float]:
        start, _ = prompt_ids(self.corpus, "")
        s = generate(self.model, start, [NOVEL_T] * NOVEL_ROWS, NOVEL_LEN, "temperature", 0, 1.0,
                     self.config.seed + 7, 0, shared=False)
        names = [t.split("\n")[0] for t in (self.corpus.decode(r) for r in s.ids) if "\n" in t]
        names = [n for n in names if n]
        held = [n for n in self.corpus.decode(self.corpus.ids[self.corpus.split:]).split("\n")[1:-1] if n]
        k = self.config.add_k
        return {"novel": float(np.mean([n not in self.corpus.lines for n in names])) if names else float("nan"),
                "names": names[:12], "n_names": len(names),
                "sample_3gram_bits": self.ngram.text_bits(self.corpus, names, 3, k),
                "heldout_3gram_bits": self.ngram.text_bits(self.corpus, held, 3, k)}

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"opt": self.opt}

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        """Where the streams stand and the memory carried into the next batch (truncated BPTT)."""
        memory = {"memory": [list(layer) for layer in self._state]} if self._state else {}
        cuda = {"cuda_rng": self._cuda_rng[0]} if self._cuda_rng else {}
        return {"pos": self._pos, **memory, **cuda}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        self._detail = None
        if "pos" not in extra:          # older files: a new pass from a fresh state
            return
        check_count(extra["pos"], "extra.pos")
        memory = extra.get("memory", [])
        per_layer = 2 if self.config.cell == "lstm" else 1
        want = (self.batch, int(self.config.hidden))
        if not isinstance(memory, list) or (memory and (
                len(memory) != int(self.config.layers) or any(not isinstance(l, list) or len(l) != per_layer for l in memory)
                or any(not torch.is_tensor(s) or tuple(s.shape) != want or not bool(torch.isfinite(s).all())
                       for l in memory for s in l))):
            raise ValueError(f"extra.memory is not this network's memory ({per_layer} finite tensor(s) of shape "
                             f"{want} per layer)")
        saved_cuda = extra.get("cuda_rng")
        if (self._cuda_rng and torch.is_tensor(saved_cuda) and saved_cuda.dtype == torch.uint8
                and saved_cuda.shape == self._cuda_rng[0].shape):   # a CPU run's file on a GPU: a fresh stream
            self._cuda_rng = [saved_cuda.clone()]
        self._pos = min(int(extra["pos"]), self._data.shape[0])
        self._state = [tuple(s.to(self.device) for s in layer) for layer in memory] or None

    def checkpoint_growth(self) -> int:
        """The memory carried between batches, absent from a fresh run's checkpoint."""
        per_layer = 2 if self.config.cell == "lstm" else 1
        return int(self.config.layers) * per_layer * self.batch * int(self.config.hidden) * 4
