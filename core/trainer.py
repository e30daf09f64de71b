"""The trainer base: what every lesson's trainer shares, so a lesson writes only its maths.

A lesson subclasses ``TrainerBase`` and provides
  * ``LESSON`` (its registry key), ``Config`` (its config dataclass), ``HISTORY_KEYS``;
  * ``build()``: models, optimisers and data from ``self.config`` (seeded);
  * ``train_steps(n)``: n steps of its maths, pushing one ``[len(HISTORY_KEYS)]`` tensor per step
    with ``self.push(...)`` (no ``.item()`` per step: the base syncs once per chunk);
  * ``snapshot()``: plain numpy arrays for the charts;
  * ``modules()`` / ``optimizers()``: what a checkpoint holds;
  * optionally ``check_config`` (checks across fields), ``on_live_change`` (new learning rates…),
    ``weights_finite``, ``outputs_off_scale``, ``extra_state`` / ``load_extra_state``.

The base gives it: the seeded construction, ``apply_live`` with the declared checks, history
bookkeeping with one device sync per chunk, the blow-up check (NaN, inf, or a loss that runs away
from its start, one message for all lessons), checkpoints as one dict (loaded into the trainer's
own copies, so a cached shipped checkpoint is never written to) and ``from_checkpoint``.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import torch

from core import settings
from core.device import pick_device
from core.live import Diverged, History

# A loss whose size exceeds RUNAWAY_FACTOR × (its size at the start, at least RUNAWAY_FLOOR) has
# run away: Adam at a learning rate of 10 sends the decoders' loss from 0.1 to 4e7 without ever
# producing a NaN, and nothing else would stop that run.
RUNAWAY_FACTOR = 1e3
RUNAWAY_FLOOR = 1e-2


class TrainerBase:
    """See the module docstring. Attributes the UI relies on: ``config``, ``device``,
    ``step_count``, ``history`` and the methods ``step``, ``snapshot``, ``apply_live``,
    ``state_dict``, ``load_state_dict``."""

    LESSON: ClassVar[str] = ""
    Config: ClassVar[type] = object
    HISTORY_KEYS: ClassVar[tuple[str, ...]] = ()
    HISTORY_CAPACITY: ClassVar[int] = 1000
    # history keys watched for a runaway: key -> (factor, floor); None = every key with "loss"
    RUNAWAY: ClassVar[dict[str, tuple[float, float]] | None] = None
    STEP_UNIT: ClassVar[str] = "step"

    def __init__(self, config: Any, device: torch.device | None = None) -> None:
        self.config = dataclasses.replace(config)
        settings.check(self.config)
        self.check_config(self.config)
        self.device = device or pick_device()
        self.step_count = 0
        self.history = History(self.HISTORY_KEYS, capacity=self.HISTORY_CAPACITY)
        self._pending: list[torch.Tensor] = []
        self._loss_start: dict[str, float] = {}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(getattr(self.config, "seed", 0)))
            self.build()

    # ---------------------------------------------------------------- for the lesson to fill in
    def check_config(self, config: Any) -> None:
        """Checks across fields (the declared bounds are already checked). Raise ValueError."""

    def build(self) -> None:
        raise NotImplementedError

    def train_steps(self, n: int) -> None:
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def modules(self) -> dict[str, Any]:
        """name -> object with state_dict/load_state_dict (nn.Module, FlatMLP…)."""
        return {}

    def optimizers(self) -> dict[str, Any]:
        return {}

    def histories(self) -> dict[str, History]:
        return {"losses": self.history}

    def on_live_change(self, old: Any, new: Any) -> None:
        """Adopt new live settings (``self.config`` is already ``new``)."""

    def weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for m in self.modules().values()
                   for p in (m.parameters() if hasattr(m, "parameters") else []))

    def outputs_off_scale(self) -> str | None:
        """A sentence if the model's outputs are far off the data's scale, else None."""
        return None

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        pass

    # ---------------------------------------------------------------- the shared part
    def apply_live(self, config: Any) -> None:
        """Adopt the live fields of ``config``; structural fields are left as they are."""
        old = self.config
        new = settings.with_live_fields(old, config)
        settings.check(new)
        self.check_config(new)
        self.config = new
        self.on_live_change(old, new)

    def step(self, n: int = 1) -> None:
        """Train n steps and record them. Raises ``Diverged`` (after recording) on a blow-up."""
        # Subnormal floats (|x| < 1.2e-38) cost this CPU ~100× a normal multiply, and dead ReLUs
        # leave Adam's moment averages decaying geometrically into them (the autoencoders ran
        # 1.7× faster with them flushed). Flushing them to zero changes nothing above 1e-38.
        # The flag is per thread: set for these steps, then restored.
        flush = self.device.type == "cpu" and torch.set_flush_denormal(True)
        try:
            self.train_steps(int(n))
        finally:
            if flush:
                torch.set_flush_denormal(False)
            self.flush()

    def push(self, values: torch.Tensor) -> None:
        """One step's history values, [len(HISTORY_KEYS)], kept on the device until ``flush``."""
        self._pending.append(values.detach())
        self.step_count += 1

    def push_rows(self, rows: torch.Tensor) -> None:
        """m steps' history values at once, [m, len(HISTORY_KEYS)]."""
        self._pending.extend(rows.detach().unbind(0))
        self.step_count += rows.shape[0]

    def flush(self) -> None:
        """Move pending values to the history (one device sync), then check for a blow-up."""
        if not self._pending:
            return
        arr = torch.stack(self._pending).float().cpu().numpy().astype(np.float64)   # [n, k]
        self._pending = []
        n = arr.shape[0]
        steps = np.arange(self.step_count - n + 1, self.step_count + 1)
        cols = {k: arr[:, i] for i, k in enumerate(self.HISTORY_KEYS)}
        # Recorded first, so the charts show the blow-up itself, not a gap before it.
        self.history.add_many(steps, cols)
        self.check_values(cols)

    def check_values(self, cols: dict[str, np.ndarray]) -> None:
        """Raise ``Diverged`` with one readable message if a value is NaN/inf or has run away."""
        watch = self.RUNAWAY if self.RUNAWAY is not None else {
            k: (RUNAWAY_FACTOR, RUNAWAY_FLOOR) for k in cols if "loss" in k}
        for k, v in cols.items():
            v = np.asarray(v, dtype=np.float64)
            if v.size == 0:
                continue
            if not np.isfinite(v).all():
                what = "NaN" if np.isnan(v).any() else "infinite"
                raise Diverged(self.blowup_message(f"{label(k)} became {what}"))
            if k in watch:
                factor, floor = watch[k]
                start = self._loss_start.setdefault(k, abs(float(v[0])))
                limit = factor * max(start, floor)
                worst = float(np.abs(v).max())
                if worst > limit:
                    raise Diverged(self.blowup_message(
                        f"{label(k)} ran away from {start:.3g} at the start to {worst:.3g} "
                        f"(more than {factor:g}× its start)"))
        if not self.weights_finite():
            raise Diverged(self.blowup_message("a weight became NaN or infinite"))
        off = self.outputs_off_scale()
        if off:
            raise Diverged(self.blowup_message(off))

    def blowup_message(self, what: str) -> str:
        return (f"The run blew up at {self.STEP_UNIT} {self.step_count:,}: {what}. "
                "Lower the learning rate (or pick another optimiser) and press ↺ Reset.")

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The run as one dict of tensors, numbers, strings, lists and dicts (nanoGPT style)."""
        self.flush()
        return {
            "lesson": self.LESSON, "config": settings.config_to_dict(self.config), "step": self.step_count,
            "model": {k: m.state_dict() for k, m in self.modules().items()},
            "optim": {k: o.state_dict() for k, o in self.optimizers().items()},
            "history": {k: h.state_dict() for k, h in self.histories().items()},
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load a checkpoint made by ``state_dict``; ValueError if it does not fit this config."""
        for kind, parts in (("model", self.modules()), ("optim", self.optimizers())):
            for k, obj in parts.items():
                if k not in state[kind]:
                    raise ValueError(f"checkpoint has no {kind} {k!r}")
                check_shapes(obj.state_dict(), state[kind][k], f"{kind}.{k}")
        for k, m in self.modules().items():
            m.load_state_dict(state["model"][k])
        for k, o in self.optimizers().items():
            o.load_state_dict(state["optim"][k])
        for k, h in self.histories().items():
            h.load_state_dict(state["history"][k])
        self.step_count = int(state["step"])
        self.load_extra_state(state.get("extra") or {})
        self._loss_start = {}
        arrays = self.history.arrays()
        for k in self.HISTORY_KEYS:      # runaway is measured against the run's own start
            if len(arrays[k]) and math.isfinite(arrays[k][0]):
                self._loss_start[k] = abs(float(arrays[k][0]))

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: torch.device | None = None) -> "TrainerBase":
        """A new trainer continuing from ``state``. Everything is deep-copied first: torch's
        ``Optimizer.load_state_dict`` keeps the tensors it is given, and a shipped checkpoint is
        cached for every student (one student's run once wrote into everybody's start)."""
        state = copy.deepcopy(state)
        t = cls(settings.config_from_dict(cls.Config, state["config"]), device)
        t.load_state_dict(state)
        return t


def label(key: str) -> str:
    """A history key as a student reads it ("d_loss" -> "the d loss")."""
    return "the " + key.replace("_", " ")


def check_shapes(current: Any, loaded: Any, where: str) -> None:
    """Raise ValueError where ``loaded`` has a tensor of another shape than ``current`` (or a
    non-tensor where a tensor belongs). Walks dicts and lists in parallel."""
    if torch.is_tensor(current):
        if not torch.is_tensor(loaded) or loaded.shape != current.shape:
            got = tuple(loaded.shape) if torch.is_tensor(loaded) else type(loaded).__name__
            raise ValueError(f"checkpoint {where} has shape {got}, the model needs {tuple(current.shape)}")
        return
    if isinstance(current, dict):
        if not isinstance(loaded, dict):
            raise ValueError(f"checkpoint {where} is not a dict")
        for k, v in current.items():
            if k in loaded:
                check_shapes(v, loaded[k], f"{where}.{k}")
            elif torch.is_tensor(v):
                raise ValueError(f"checkpoint {where} lacks {k!r}")
    elif isinstance(current, (list, tuple)) and isinstance(loaded, (list, tuple)):
        if len(current) != len(loaded):
            raise ValueError(f"checkpoint {where} has {len(loaded)} entries, the model needs {len(current)}")
        for i, (a, b) in enumerate(zip(current, loaded)):
            check_shapes(a, b, f"{where}[{i}]")
