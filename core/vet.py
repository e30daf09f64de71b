"""What a checkpoint must satisfy before a trainer takes it (issue 33): tensor shapes against a
fresh run's, optimiser state entry by entry against its own parameter, settings and step counts
in range, finite values, usable random-number states, and blocks of random draws that a loaded run
redraws exactly. ``TrainerBase.vet_layout`` / ``vet_values`` and the lessons' loaders use these;
every refusal is a ValueError whose text finishes the sentence "<file> was refused: …".
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from core import settings

MAX_STEPS = 10**9             # no class runs a billion steps; a larger count is a forged file
# Optimiser settings (param_groups) that only pick an implementation: any bool (or None) will do.
IMPLEMENTATION_FLAGS = ("fused", "foreach", "capturable", "differentiable")
Rng = torch.Generator | np.random.Generator


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
