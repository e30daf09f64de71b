"""The four sequence models trained side by side on the same batches (``core.trainer.TrainerBase``).

One step: every chosen model takes one optimiser step on the same batch (cross-entropy); every
few steps each model's own time is measured around its forward, backward and update, so the page
can show steps/s per model. The convolutional models train through ``core.lessons.conv1d.fast``
(the same logits from the same weights, with less work).
On the CPU that time is the training thread's CPU time, not wall time: on a shared server the
wall clock also counts the moments the thread waited for a core, which fell on the models at
random (a 2-layer Conv1D once read slower than the LSTM). On a GPU it is the host's wall time. Every ``eval_every`` steps, accuracy on the fixed held-out set. No Streamlit.

Shapes: the pools x [N, T], y [N]; a batch x [B, T], y [B]; logits [B, C].
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.lessons.conv1d.config import N_EVAL, N_TRAIN, Conv1dConfig
from core.lessons.conv1d.data import make_set, n_classes
from core.lessons.conv1d.fast import logits
from core.lessons.conv1d.fields import stack_fits, stack_lengths, unit_anchors
from core.lessons.conv1d.flat import FlatModel, make_optimizer
from core.lessons.conv1d.model import MODELS, build_model, specs_for
from core.live import History
from core.trainer import TrainerBase

EVAL_SEED = 20_261_201       # the held-out sets are the same for every seed: runs compare
BLOCK = 256                  # batches of indices drawn at once (one RNG call per BLOCK steps)
TIME_EVERY = 8               # every 8th step times each model on its own (see ``train_steps``)
TIME_SAMPLES = 9             # each model's seconds per step: the median of its last 9 timed steps


class Conv1dTrainer(TrainerBase):
    """Trains the chosen models side by side: the same batches, each from its own seed stream."""

    LESSON = "conv1d"
    Config = Conv1dConfig

    def check_config(self, config: Conv1dConfig) -> None:
        if not config.models:
            raise ValueError("choose at least one model to train")
        if "conv" in config.models:
            T, specs = int(config.seq_len), specs_for("conv", config)
            if not stack_fits(T, specs):
                lengths = stack_lengths(T, specs)
                raise ValueError(f"the Conv1D + pooling stack leaves no time steps of T = {config.seq_len} "
                                 f"(lengths {' → '.join(str(max(n, 0)) for n in lengths)}): use fewer layers, "
                                 "a smaller kernel or a longer sequence")

    def build(self) -> None:
        cfg = self.config
        self.names = [m for m in MODELS if m in cfg.models]
        self.HISTORY_KEYS = tuple(f"loss_{m}" for m in self.names)
        self.history = History(self.HISTORY_KEYS, capacity=self.HISTORY_CAPACITY)
        self.metrics = History([f"acc_{m}" for m in self.names], capacity=500)
        self.n_classes = n_classes(cfg.task)
        self.nets: dict[str, FlatModel] = {}
        for i, m in enumerate(self.names):
            # each model's weights come from its own stream, whichever others are chosen
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(cfg.seed * 1000 + list(MODELS).index(m))
                self.nets[m] = FlatModel(build_model(m, cfg, self.n_classes).to(self.device))
        self.opts = {m: make_optimizer(fm, cfg.optimizer, cfg.lr) for m, fm in self.nets.items()}
        x, y = make_set(cfg.task, N_TRAIN, int(cfg.seq_len), cfg.seed)
        self.x, self.y = torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)
        xe, ye = make_set(cfg.task, N_EVAL, int(cfg.seq_len), EVAL_SEED)
        self.x_eval, self.y_eval = torch.from_numpy(xe).to(self.device), torch.from_numpy(ye).to(self.device)
        self.eval_np = xe[:64].astype(np.float64)            # the series the page can pick from
        self.eval_labels = ye[:64]
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self._block: torch.Tensor | None = None
        self._pos = 0
        self.sec_per_step = {m: float("nan") for m in self.names}
        self._times: dict[str, deque] = {}
        self._clock = time.thread_time if self.device.type == "cpu" else time.perf_counter
        self._record_metrics()

    # ---------------------------------------------------------------- training
    def _batch_indices(self, B: int) -> torch.Tensor:
        if self._block is None or self._block.shape[1] != B or self._pos >= BLOCK:
            self._block_state = self._gen.get_state()       # a checkpoint redraws this block from here
            self._block = torch.randint(self.x.shape[0], (BLOCK, B), generator=self._gen).to(self.device)
            self._pos = 0
        self._pos += 1
        return self._block[self._pos - 1]

    def train_steps(self, n: int) -> None:
        """n steps: every model takes one optimiser step on the same batch (cross-entropy).

        Every TIME_EVERY-th step trains the models one by one, each timed around its forward,
        backward and update (the page's steps/s per model); the others run one backward for all.
        Both give every model the same gradient, bit for bit, so which steps are timed changes
        nothing in the run."""
        every = int(self.config.eval_every)
        for _ in range(n):
            idx = self._batch_indices(int(self.config.batch_size))
            x, y = self.x[idx], self.y[idx]
            if self.step_count % TIME_EVERY == 0:
                losses = self._timed_step(x, y)
            else:
                # L_m = −(1/B) Σ_b log softmax(f_m(x_b))_{y_b} for each model m
                losses = torch.stack([F.cross_entropy(logits(fm.module, x), y) for fm in self.nets.values()])
                for fm in self.nets.values():
                    fm.zero_grad()
                # ∂(Σ_m L_m)/∂θ_m = ∂L_m/∂θ_m (the models share no weights): one pass of the
                # autograd engine instead of one per model (measured 4.9 → 4.3 ms a step)
                losses.sum().backward()
                for opt in self.opts.values():
                    opt.step()
            self.push(losses)
            if self.step_count % every == 0:
                self._record_metrics()

    def _timed_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One step, model by model, each one's seconds measured. x [B, T], y [B] -> losses [M]."""
        clock, losses = self._clock, []
        for m, fm in self.nets.items():
            t0 = clock()
            loss = F.cross_entropy(logits(fm.module, x), y)
            fm.zero_grad()
            loss.backward()
            self.opts[m].step()
            times = self._times.setdefault(m, deque(maxlen=TIME_SAMPLES))
            times.append(clock() - t0)
            # the median of the last few: one step slowed by the machine does not move the bar
            self.sec_per_step[m] = float(np.median(times))
            losses.append(loss.detach())
        return torch.stack(losses)

    def on_live_change(self, old: Conv1dConfig, new: Conv1dConfig) -> None:
        if new.optimizer != old.optimizer:          # fresh optimiser state for the other rule
            self.opts = {m: make_optimizer(fm, new.optimizer, new.lr) for m, fm in self.nets.items()}
            return
        for opt in self.opts.values():
            for g in opt.param_groups:
                g["lr"] = new.lr

    # ---------------------------------------------------------------- the blow-up check
    def check_values(self, cols: dict[str, np.ndarray]) -> None:
        """The base's check, each loss named by its model ("the Dilated causal stack loss")."""
        super().check_values({_loss_name(k): v for k, v in cols.items()})

    def weights_finite(self) -> bool:
        return bool(torch.stack([fm.all_finite() for fm in self.nets.values()]).all())

    # ---------------------------------------------------------------- reading
    @torch.no_grad()
    def accuracies(self) -> dict[str, float]:
        """Held-out accuracy of every model on the fixed set (N_EVAL sequences)."""
        accs = [(logits(fm.module, self.x_eval).argmax(1) == self.y_eval).float().mean() for fm in self.nets.values()]
        return dict(zip(self.names, torch.stack(accs).cpu().numpy().astype(float).tolist()))

    def _record_metrics(self) -> None:
        self.metrics.add(self.step_count, **{f"acc_{m}": a for m, a in self.accuracies().items()})

    @torch.no_grad()
    def activation(self, model: str, layer: int, channel: int, series: int) -> dict[str, Any] | None:
        """One filter's activation under one held-out series: {"values": [T_l], "layer", "channel"}
        (layer and channel clipped to the model's), or None when the model is not trained."""
        fm = self.nets.get(model)
        if fm is None:
            return None
        net = fm.module
        n_layers = len(net.convs) if hasattr(net, "convs") else 1
        layer = min(max(int(layer), 1), n_layers)
        i = min(max(int(series), 1), len(self.eval_np)) - 1
        x = torch.from_numpy(self.eval_np[i:i + 1]).float().to(self.device)
        a = net.features(x, upto=layer - 1)[0]                       # [C, T_l]
        channel = min(max(int(channel), 1), a.shape[0])
        return {"values": a[channel - 1].cpu().numpy().astype(np.float64), "model": model, "layer": layer,
                "layers": n_layers, "anchors": activation_anchors(self.config, model, layer),
                "channel": channel, "channels": a.shape[0], "series": i + 1}

    def snapshot(self, act_model: str = "wavenet", act_layer: int = 1, act_filter: int = 1,
                 act_series: int = 1, **_: Any) -> dict[str, Any]:
        """history/metrics: dicts of [m] arrays; acc/loss/steps_per_s: {model: number};
        series: [T] the chosen held-out series; act: ``activation(...)`` or None."""
        i = min(max(int(act_series), 1), len(self.eval_np)) - 1
        return {
            "step": self.step_count, "models": list(self.names), "task": self.config.task,
            "eval_every": int(self.config.eval_every),
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "acc": {m: self.metrics.last(f"acc_{m}") for m in self.names},
            "loss": {m: self.history.last(f"loss_{m}") for m in self.names},
            "steps_per_s": {m: (1.0 / s if s == s and s > 0 else float("nan")) for m, s in self.sec_per_step.items()},
            "series": self.eval_np[i], "label": int(self.eval_labels[i]), "n_classes": self.n_classes,
            "act": self.activation(act_model, act_layer, act_filter, act_series),
        }

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return dict(self.nets)

    def optimizers(self) -> dict[str, Any]:
        return dict(self.opts)

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        if self._block is None:
            return {"gen": self._gen.get_state()}
        return {"gen": self._block_state, "block_pos": self._pos, "block_batch": int(self._block.shape[1])}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        self._block = None
        if "gen" in extra:
            self._gen.set_state(extra["gen"])
        if "block_pos" in extra:            # the block under way, redrawn: the same batches follow
            self._batch_indices(int(extra["block_batch"]))
            self._pos = int(extra["block_pos"])
        self.on_live_change(self.config, self.config)     # the live learning rate wins over the saved one

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._loss_start = {_loss_name(k): v for k, v in self._loss_start.items()}


def activation_anchors(cfg: Conv1dConfig, model: str, layer: int) -> np.ndarray:
    """The input step under each unit of conv layer ``layer`` (1-based) of ``model``: its own step
    in the causal stack, the middle of the steps it reads otherwise (unpadded layers are shorter)."""
    T, specs = int(cfg.seq_len), specs_for(model, cfg)
    if model == "wavenet":
        return np.arange(T, dtype=np.float64)
    return unit_anchors(T, specs[: 2 * layer - 1] if model == "conv" else specs[:1], causal=False)[-1]


def _loss_name(key: str) -> str:
    """'loss_wavenet' -> 'Dilated causal stack loss' (the base says "the … loss ran away")."""
    m = key[len("loss_"):]
    return f"{MODELS[m]} loss" if key.startswith("loss_") and m in MODELS else key
