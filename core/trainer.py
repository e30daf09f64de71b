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
from typing import Any, Callable, ClassVar

import numpy as np
import torch

from core import settings
from core.checkpoints import OwnedCheckpoint
from core.device import pick_device
from core.live import Diverged, History

# A loss whose size exceeds RUNAWAY_FACTOR × (its size at the start, at least RUNAWAY_FLOOR) has
# run away: Adam at a learning rate of 10 sends the decoders' loss from 0.1 to 4e7 without ever
# producing a NaN, and nothing else would stop that run.
RUNAWAY_FACTOR = 1e3
RUNAWAY_FLOOR = 1e-2
# A checkpoint may hold what a run with its settings holds plus this margin (float rounding of
# the estimate, torch's bookkeeping), never a multiple of it.
BUDGET_MARGIN, BUDGET_SLACK = 1.1, 64 * 2**10
MAX_STEPS = 10**9             # no class runs a billion steps; a larger count is a forged file
# Optimiser settings (param_groups) that only pick an implementation: any bool (or None) will do.
IMPLEMENTATION_FLAGS = ("fused", "foreach", "capturable", "differentiable")
Rng = torch.Generator | np.random.Generator


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


# --------------------------------------------------------------------------- checkpoint checks

def tensor_bytes(obj: Any) -> int:
    """Bytes of tensor data in a nest of dicts, lists and tuples."""
    if torch.is_tensor(obj):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v) for v in obj)
    return 0


def check_count(v: Any, what: str) -> None:
    """A step count: a whole number from 0 to MAX_STEPS (a 0-d tensor too, as torch keeps Adam's)."""
    if torch.is_tensor(v) and v.dim() == 0 and v.device.type != "meta":
        v = v.item()
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_STEPS:
        raise ValueError(f"{what} is {v!r}; it must be a whole number from 0 to {MAX_STEPS:,}")


def check_finite(obj: Any, where: str) -> None:
    """ValueError naming the first floating-point tensor in ``obj`` holding NaN or infinity, and
    the first step count ('step', 't') out of range."""
    if torch.is_tensor(obj):
        if (obj.is_floating_point() or obj.is_complex()) and not bool(torch.isfinite(obj).all()):
            what = "NaN" if bool(torch.isnan(obj).any()) else "infinite"
            raise ValueError(f"{where} holds {what} values (a run that blew up cannot be continued: save "
                             "one from before the blow-up)")
        return
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for k, v in items:
        if k in ("step", "t"):
            check_count(v, f"{where}.{k}")
        elif isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{where}.{k} is {v!r}, not a finite number")
        else:
            check_finite(v, f"{where}.{k}" if isinstance(k, str) else f"{where}[{k}]")


def _check_group(saved: dict[str, Any], real: dict[str, Any], where: str) -> None:
    """An optimiser's settings: the learning rate within the app's range, implementation flags
    bools, everything else what this run's own optimiser was built with (a forged ``maximize``
    or momentum would otherwise ride in)."""
    for key, v in saved.items():
        if key == "params":
            continue
        if key in ("lr", "initial_lr"):
            top = settings.LEARNING_RATES[-1]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= top:
                raise ValueError(f"{where}: its learning rate {v!r} is outside 0 to {top:g}")
        elif key in IMPLEMENTATION_FLAGS:
            if v is not None and not isinstance(v, bool):
                raise ValueError(f"{where}: its setting {key!r} is {v!r}, not true or false")
        elif key in real:
            mine = real[key]
            same = (tuple(v) == tuple(mine)) if isinstance(v, (list, tuple)) and isinstance(mine, (list, tuple)) else v == mine
            if not same:
                raise ValueError(f"{where}: its setting {key!r} is {v!r}, and a run with these settings uses {mine!r}")
        elif not (v is None or isinstance(v, (bool, str)) or (isinstance(v, (int, float)) and math.isfinite(v))):
            raise ValueError(f"{where}: its setting {key!r} is {v!r}")


def check_optimizer(opt: Any, saved: Any, where: str) -> None:
    """A saved optimiser state against this run's optimiser: a torch optimiser's per-parameter
    entries are mapped through ``param_groups[i]['params']`` to the real parameters and must have
    their shapes (a fresh optimiser has no entries to compare with); its settings must be in
    range. Other optimisers (the app's flat ones) keep their state from the start: shape for shape."""
    if not isinstance(opt, torch.optim.Optimizer):
        check_shapes(opt.state_dict(), saved, where)
        return
    if not (isinstance(saved, dict) and isinstance(saved.get("state"), dict) and isinstance(saved.get("param_groups"), list)):
        raise ValueError(f"{where} is not an optimiser's state")
    groups, real = saved["param_groups"], opt.param_groups
    if len(groups) != len(real):
        raise ValueError(f"{where} has {len(groups)} parameter groups; this run's optimiser has {len(real)}")
    params: dict[int, torch.Tensor] = {}
    for i, (g, r) in enumerate(zip(groups, real)):
        ids = g.get("params") if isinstance(g, dict) else None
        if (not isinstance(ids, list) or len(ids) != len(r["params"])
                or not all(isinstance(j, int) and not isinstance(j, bool) and j not in params for j in ids)):
            raise ValueError(f"{where}.param_groups[{i}] does not list this run's {len(r['params'])} parameters")
        params.update(zip(ids, r["params"]))
        _check_group(g, r, f"{where}.param_groups[{i}]")
    for j, entry in saved["state"].items():
        if j not in params or not isinstance(entry, dict):
            raise ValueError(f"{where}.state has an entry {j!r} that belongs to no parameter")
        p = params[j]
        for name, v in entry.items():
            if torch.is_tensor(v) and v.dim() > 0 and tuple(v.shape) != tuple(p.shape):
                raise ValueError(f"{where}.state[{j}].{name} has shape {tuple(v.shape)}, and its parameter "
                                 f"has shape {tuple(p.shape)}")
            if torch.is_tensor(v) and v.dim() == 0 and name != "step":
                raise ValueError(f"{where}.state[{j}].{name} is a single number where the optimiser keeps a tensor")
            if not torch.is_tensor(v) and name != "step":
                raise ValueError(f"{where}.state[{j}].{name} is not a tensor")


# --------------------------------------------------------------------------- random-number state

def rng_state(gen: Rng) -> Any:
    """A generator's state as checkpoint data: a uint8 tensor (torch) or a dict of ints (numpy)."""
    return gen.get_state() if isinstance(gen, torch.Generator) else gen.bit_generator.state


def check_rng_layout(gen: Rng, saved: Any, where: str) -> None:
    """``saved`` has the form of ``gen``'s state (checked on the skeleton: no values needed)."""
    if isinstance(gen, torch.Generator):
        mine = gen.get_state()
        if not torch.is_tensor(saved) or saved.dtype != mine.dtype or tuple(saved.shape) != tuple(mine.shape):
            got = f"shape {tuple(saved.shape)}" if torch.is_tensor(saved) else type(saved).__name__
            raise ValueError(f"{where} is not a random-number state of this run ({got}, it needs "
                             f"{mine.numel()} bytes)")
        return
    kind = gen.bit_generator.state["bit_generator"]
    if not isinstance(saved, dict) or saved.get("bit_generator") != kind:
        raise ValueError(f"{where} is not a random-number state of this run (it needs a {kind} state)")


def check_rng_values(saved: Any, where: str) -> None:
    """A generator accepts ``saved`` (tried on a scratch generator, so nothing changes on failure)."""
    try:
        if torch.is_tensor(saved):
            torch.Generator().set_state(saved)
        else:
            bit = getattr(np.random, str(saved.get("bit_generator")))
            if not (isinstance(bit, type) and issubclass(bit, np.random.BitGenerator)):
                raise TypeError(bit)
            bit().state = saved
    except Exception as e:  # noqa: BLE001 - any refusal by torch or numpy means a garbled state
        raise ValueError(f"{where} is not a usable random-number state ({type(e).__name__})") from e


def set_rng_state(gen: Rng, saved: Any, where: str) -> None:
    """Restore ``gen`` from ``saved``; ValueError (nothing changed) if it is not ``gen``'s kind
    of state."""
    check_rng_layout(gen, saved, where)
    check_rng_values(saved, where)
    if isinstance(gen, torch.Generator):
        gen.set_state(saved.clone())
    else:
        gen.bit_generator.state = saved


def block_state(start: Any, pos: int, size: int) -> dict[str, Any]:
    """A block of random draws under way, as checkpoint data: the generator's state before the
    block was drawn, how far it has been read, and its size (what the lesson drew it for)."""
    return {"rng": start, "pos": int(pos), "size": int(size)}


def restore_block(gen: Rng, saved: Any, sizes: Any, max_pos: Callable[[int], int], where: str) -> tuple[int, int] | None:
    """(size, pos) of a saved block under way, with ``gen`` set to its state before that block,
    so the lesson redraws the very same block and reads on where the run stood; None when the
    file has none, or its size is not one this run draws (``sizes``): the saved run would draw
    afresh at its next step too. ValueError if the position is impossible or the state garbled."""
    if not isinstance(saved, dict):
        return None
    size, pos = saved.get("size"), saved.get("pos")
    if size not in sizes:
        return None
    if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= max_pos(size):
        raise ValueError(f"{where} says the run stood at {pos!r} in a block of {max_pos(size)}")
    set_rng_state(gen, saved.get("rng"), f"{where}.rng")
    return size, pos
