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
own copies, so a cached shipped checkpoint is never written to) and ``from_checkpoint``, the
random-number state of every generator the run draws from (``generators()``: found by type among
the trainer's attributes), so a checkpoint continues bit for bit, and the checks a file must pass
before and after its tensors are read (``vet_layout`` / ``vet_values``, called by
``core.checkpoints.read_checked`` for shipped files and uploads alike).
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import torch

from core import settings
from core.checkpoints import OwnedCheckpoint
from core.device import pick_device
from core.live import Diverged, History
# (check_shapes moved to core.vet with the other checks; lessons still import it from here)
from core.vet import (Rng, check_count, check_finite, check_optimizer, check_rng_layout, check_rng_values, check_shapes,
                      rng_state, set_rng_state, tensor_bytes)

# A loss whose size exceeds RUNAWAY_FACTOR × (its size at the start, at least RUNAWAY_FLOOR) has
# run away: Adam at a learning rate of 10 sends the decoders' loss from 0.1 to 4e7 without ever
# producing a NaN, and nothing else would stop that run.
RUNAWAY_FACTOR = 1e3
RUNAWAY_FLOOR = 1e-2
# A checkpoint may hold what a run with its settings holds plus this margin (float rounding of
# the estimate, torch's bookkeeping), never a multiple of it.
BUDGET_MARGIN, BUDGET_SLACK = 1.1, 64 * 2**10


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
            "rng": {k: rng_state(g) for k, g in self.generators().items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load a checkpoint made by ``state_dict``; ValueError if it does not fit this config."""
        state = self.upgrade_checkpoint(state)
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
        self.load_rng_state(state.get("rng") or {})       # older files have none: the seed's state stays
        self._loss_start = {}
        arrays = self.history.arrays()
        for k in self.HISTORY_KEYS:      # runaway is measured against the run's own start
            if len(arrays[k]) and math.isfinite(arrays[k][0]):
                self._loss_start[k] = abs(float(arrays[k][0]))

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: torch.device | None = None) -> "TrainerBase":
        """A new trainer continuing from ``state``. A shared dict is deep-copied first: torch's
        ``Optimizer.load_state_dict`` keeps the tensors it is given, and a shipped checkpoint is
        cached for every student (one student's run once wrote into everybody's start). An
        upload (``OwnedCheckpoint``) belongs to this caller alone: no copy, so its tensors are
        held once."""
        fresh = state.take_fresh() if isinstance(state, OwnedCheckpoint) else None
        state = cls.upgrade_checkpoint(state if isinstance(state, OwnedCheckpoint) else copy.deepcopy(state))
        config = settings.config_from_dict(cls.Config, state["config"])
        # the run the file was vetted against is this one, unused: no second build
        reuse = (type(fresh) is cls and fresh.config == config and fresh.step_count == 0
                 and fresh.device == (device or pick_device()))
        t = fresh if reuse else cls(config, device)
        t.load_state_dict(state)
        return t

    @classmethod
    def upgrade_checkpoint(cls, state: dict[str, Any]) -> dict[str, Any]:
        """An older layout of this lesson's files in today's (a shallow rewrite, never in place);
        also applied to the tensor-less skeleton that ``vet_layout`` sees."""
        return state

    # ---------------------------------------------------------------- random-number state
    def generators(self) -> dict[str, Rng]:
        """Every generator the run draws from, by attribute name: each torch.Generator and numpy
        Generator the trainer holds (the fixed-seed ones made afresh for each evaluation are not
        attributes). A checkpoint saves their states; a lesson drawing from one held elsewhere
        overrides this."""
        return {k: v for k, v in sorted(vars(self).items()) if isinstance(v, (torch.Generator, np.random.Generator))}

    def load_rng_state(self, saved: dict[str, Any]) -> None:
        self.check_rng_layout(saved)
        gens = self.generators()
        for k, st in saved.items():
            set_rng_state(gens[k], st, f"rng.{k}")

    # ---------------------------------------------------------------- vetting a file before loading it
    @classmethod
    def vet_layout(cls, skeleton: dict[str, Any], nbytes: int, device: torch.device | None = None) -> "TrainerBase":
        """Raise ValueError (a sentence) unless ``skeleton`` (a checkpoint whose tensors are on
        the meta device: shapes, no data) is what a run of this lesson with its settings holds,
        and its tensor data (``nbytes``) no more than such a run's plus a small margin. The
        settings are checked against their declarations by the constructor before anything is
        built, so a forged size cannot make the fresh run itself large. Returns that fresh run
        (built on ``device``, default the CPU), which a loader may use instead of building it again."""
        state = cls.upgrade_checkpoint(skeleton)
        fresh = cls(settings.config_from_dict(cls.Config, state["config"]), device or torch.device("cpu"))
        fresh.check_layout(state)
        fresh.check_rng_layout(state.get("rng") or {})
        budget = fresh.checkpoint_budget()
        if nbytes > budget:
            raise ValueError(f"it holds {nbytes / 2**20:.2f} MB of tensors, and a run of this lesson with "
                             f"its settings holds at most {budget / 2**20:.2f} MB")
        return fresh

    def check_layout(self, state: dict[str, Any]) -> None:
        """The shapes of ``state``'s tensors against this (fresh) run's: weights, optimiser state
        (each entry against its own parameter), extra state, generator states."""
        for k, m in self.modules().items():
            if k not in state["model"]:
                raise ValueError(f"it has no weights for the model part {k!r}")
            check_shapes(m.state_dict(), state["model"][k], f"model.{k}")
        for k, (opt, saved) in self.optimizer_states(state).items():
            check_optimizer(opt, saved, f"optim.{k}")
        check_shapes(self.extra_state(), state.get("extra") or {}, "extra")

    def check_rng_layout(self, saved: dict[str, Any]) -> None:
        """Each saved generator state against this run's generator of that name."""
        gens = self.generators()
        for k, st in saved.items():
            if k not in gens:
                raise ValueError(f"it holds the state of a random-number generator {k!r} this run does not have")
            check_rng_layout(gens[k], st, f"rng.{k}")

    def optimizer_states(self, state: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """name -> (this run's optimiser, its saved state in ``state``)."""
        out = {}
        for k, o in self.optimizers().items():
            if k not in state["optim"]:
                raise ValueError(f"it has no optimiser state for {k!r}")
            out[k] = (o, state["optim"][k])
        return out

    def checkpoint_budget(self) -> int:
        """The most tensor bytes a checkpoint of this run can hold: this fresh run's checkpoint,
        the optimisers' per-parameter state (at most three tensors a parameter: Adam's two
        moments and AMSGrad's maximum, or SGD's momentum), what grows with the run
        (``checkpoint_growth``), plus the margin."""
        fresh = tensor_bytes(self.state_dict())
        moments = sum(3 * p.numel() * p.element_size() for o in self.optimizers().values()
                      if isinstance(o, torch.optim.Optimizer) for g in o.param_groups for p in g["params"])
        return int((fresh + moments + self.checkpoint_growth()) * BUDGET_MARGIN) + BUDGET_SLACK

    def checkpoint_growth(self) -> int:
        """Tensor bytes a run's checkpoint gains over a fresh one's besides optimiser state."""
        return 0

    @classmethod
    def vet_values(cls, state: dict[str, Any]) -> None:
        """Raise ValueError (a sentence) unless the loaded ``state``'s weights and optimiser state
        are finite, its step counts in range, and its generator states usable."""
        state = cls.upgrade_checkpoint(state)
        check_count(state.get("step", 0), "the step count")
        for where, part in cls.weight_parts(state).items():
            check_finite(part, where)
        for k, st in (state.get("rng") or {}).items():
            check_rng_values(st, f"rng.{k}")

    @classmethod
    def weight_parts(cls, state: dict[str, Any]) -> dict[str, Any]:
        """Where ``state`` keeps its weights and optimiser state (all must be finite)."""
        return {"model": state["model"], "optim": state.get("optim") or {}}


def label(key: str) -> str:
    """A history key as a student reads it ("d_loss" -> "the d loss")."""
    return "the " + key.replace("_", " ")
