"""Parking (issue 36): a session holds only the visible lesson's run live; every other lesson's
run it has trained is kept as a bounded checkpoint (the app's own format, core.checkpoints:
weights, optimiser state, bounded histories, random-number states, the step count) and rebuilt
from it when the student comes back, so it continues bit for bit with its history and step count.
No Streamlit here (``core.ui.parking`` does the session bookkeeping).

Also ``trim()``: hand the C heap's freed pages back to the operating system. A lesson's first
build and its measurements (DCGAN judges 500 generated digits with the classifier) allocate tens
of MB for a moment; glibc keeps freed memory in each thread's arena, so without a trim a server's
resident memory only ever grows (README, "Memory: students who visit every lesson").
"""
from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from core.checkpoints import OwnedCheckpoint
from core.live import LiveRunner

# Runner fields a parked run keeps besides its checkpoint (what the page shows and steers by).
_RUNNER_FIELDS = ("stop_at", "_sec_per_step")


@dataclass
class ParkedRun:
    """One lesson's run, parked: its checkpoint as ``torch.save`` bytes (bounded: a run's weights,
    optimiser state and histories of fixed capacity), the trainer class that rebuilds it, and the
    few runner and trainer fields that are not part of a checkpoint."""

    data: bytes
    cls: type
    device: torch.device
    step: int
    runner: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return len(self.data)


def parkable(runner: Any) -> bool:
    """Whether ``runner``'s run can be parked and rebuilt exactly: a LiveRunner whose trainer makes
    checkpoints (``state_dict`` and ``from_checkpoint``), that has not blown up (its state may
    hold NaN), and whose trainer does not say otherwise (``parkable()``: e.g. forecasting in the
    middle of an epoch, which a checkpoint does not hold)."""
    if not isinstance(runner, LiveRunner) or runner.error:
        return False
    t = runner.trainer
    if not (callable(getattr(t, "state_dict", None)) and callable(getattr(type(t), "from_checkpoint", None))):
        return False
    ok = getattr(t, "parkable", None)
    return bool(ok()) if callable(ok) else True


def park(runner: LiveRunner) -> ParkedRun | None:
    """The run as a ParkedRun (its background training stopped first), or None if it cannot be
    parked (``parkable``); the runner itself is left as it is (the caller drops it)."""
    if not parkable(runner):
        return None
    runner.hold(True)

    def save(t: Any) -> ParkedRun:
        buf = io.BytesIO()
        torch.save(t.state_dict(), buf)
        keep = ("_loss_start",) + tuple(getattr(t, "PARK_KEEP", ()))
        return ParkedRun(data=buf.getvalue(), cls=type(t), device=t.device, step=int(t.step_count),
                         runner={k: getattr(runner, k) for k in _RUNNER_FIELDS},
                         trainer={k: _copy(getattr(t, k)) for k in keep if hasattr(t, k)})

    return runner.call(save)


def unpark(parked: ParkedRun) -> LiveRunner:
    """A held LiveRunner continuing the parked run exactly where it stood."""
    state = OwnedCheckpoint(torch.load(io.BytesIO(parked.data), map_location="cpu", weights_only=True))
    trainer = parked.cls.from_checkpoint(state, parked.device)
    for k, v in parked.trainer.items():
        setattr(trainer, k, v)
    runner = LiveRunner(trainer)
    for k, v in parked.runner.items():
        setattr(runner, k, v)
    runner.hold(True)
    return runner


def _copy(v: Any) -> Any:
    return dict(v) if isinstance(v, dict) else v


# --------------------------------------------------------------------------- the C heap
_LIBC: Any = None
if os.name == "posix":
    try:
        _lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _LIBC = _lib if hasattr(_lib, "malloc_trim") else None     # glibc only (not musl, macOS)
    except OSError:
        _LIBC = None
TRIM_SECONDS = float(os.environ.get("DASH_MALLOC_TRIM_SECONDS", "5"))   # 0: never trim
_trimmer: threading.Thread | None = None
_trim_lock = threading.Lock()


def trim() -> bool:
    """Return the freed parts of every malloc arena to the OS (glibc's ``malloc_trim(0)``).
    False where there is no glibc. It runs outside the interpreter lock (ctypes releases it)."""
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True


def start_trimmer(every: float = TRIM_SECONDS) -> bool:
    """Trim every ``every`` seconds in a daemon thread, once per process; False if off or no glibc."""
    global _trimmer
    if every <= 0 or _LIBC is None:
        return False
    with _trim_lock:
        if _trimmer is None or not _trimmer.is_alive():
            def loop() -> None:
                while True:
                    time.sleep(every)
                    trim()
            _trimmer = threading.Thread(target=loop, name="malloc-trim", daemon=True)
            _trimmer.start()
    return True
