"""The live-training machinery every lesson shares (no Streamlit here).

* ``History`` keeps a bounded record of scalars: when full, neighbouring points are averaged in
  pairs, so memory stays fixed however long a class leaves a page training.
* ``Trainer`` is the protocol every lesson's trainer follows.
* ``LiveRunner`` owns one session's trainer. It trains in time-budgeted chunks, either
  synchronously (``train_for``, what the Step button and tests use) or in a short background
  continuation (``start_background``) that keeps training while the page redraws. A
  continuation has a hard deadline, so when a browser tab closes and the ticks stop coming,
  compute stops within a second.
"""
from __future__ import annotations

import atexit
import threading
import time
import weakref
from typing import Any, Callable, Iterable, Protocol, TypeVar

import numpy as np

from core.gates import TRAIN_GATE, _give_slot, _Ticket, _try_take_slot

T = TypeVar("T")

# --------------------------------------------------------------------------- history


class History:
    """A bounded record of named scalars against the step at which they were taken.

    Every ``add`` appends one raw record per key. Raw records are grouped into bins of
    ``stride`` records; a bin stores the mean of its records, how many it holds, and the step of
    its last one. When more than ``capacity`` bins exist, neighbours are merged in pairs (a
    count-weighted mean, so every bin stays the exact mean of the records it covers) and
    ``stride`` doubles: memory is O(capacity) for any run length.
    """

    def __init__(self, keys: Iterable[str], capacity: int = 1000) -> None:
        self.keys: tuple[str, ...] = tuple(keys)
        self.capacity = int(capacity)
        self.stride = 1
        self._steps: list[float] = []
        self._counts: list[int] = []
        self._vals: dict[str, list[float]] = {k: [] for k in self.keys}
        # the bin being filled: sum of values and count of raw records
        self._acc = {k: 0.0 for k in self.keys}
        self._acc_n = 0
        self._acc_step = 0.0

    def __len__(self) -> int:
        return len(self._steps) + (1 if self._acc_n else 0)

    def add_many(self, steps: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Append raw records. steps: [n]; values[key]: [n] (every key must be given)."""
        steps = np.asarray(steps, dtype=np.float64).reshape(-1)
        cols = {k: np.asarray(values[k], dtype=np.float64).reshape(-1) for k in self.keys}
        for i in range(steps.shape[0]):
            for k in self.keys:
                self._acc[k] += float(cols[k][i])
            self._acc_n += 1
            self._acc_step = float(steps[i])
            if self._acc_n >= self.stride:
                self._close_bin()

    def add(self, step: float, **values: float) -> None:
        self.add_many(np.array([step]), {k: np.array([values[k]]) for k in self.keys})

    def _close_bin(self) -> None:
        self._steps.append(self._acc_step)
        self._counts.append(self._acc_n)
        for k in self.keys:
            self._vals[k].append(self._acc[k] / self._acc_n)
            self._acc[k] = 0.0
        self._acc_n = 0
        if len(self._steps) > self.capacity:
            self._halve()

    def _halve(self) -> None:
        n = len(self._steps) // 2 * 2
        c = self._counts
        merged = [c[i] + c[i + 1] for i in range(0, n, 2)]
        for k in self.keys:
            v = self._vals[k]
            # mean of a merged bin = (n₁·mean₁ + n₂·mean₂) / (n₁ + n₂)
            self._vals[k] = [(v[i] * c[i] + v[i + 1] * c[i + 1]) / m
                             for i, m in zip(range(0, n, 2), merged)] + v[n:]
        self._steps = self._steps[1:n:2] + self._steps[n:]
        self._counts = merged + c[n:]
        self.stride *= 2

    def arrays(self) -> dict[str, np.ndarray]:
        """{'step': [m], 'count': [m], key: [m], ...} including the partly filled last bin."""
        steps, counts = list(self._steps), list(self._counts)
        vals = {k: list(self._vals[k]) for k in self.keys}
        if self._acc_n:
            steps.append(self._acc_step)
            counts.append(self._acc_n)
            for k in self.keys:
                vals[k].append(self._acc[k] / self._acc_n)
        out = {"step": np.asarray(steps, dtype=np.float64), "count": np.asarray(counts, dtype=np.int64)}
        out.update({k: np.asarray(v, dtype=np.float64) for k, v in vals.items()})
        return out

    def last(self, key: str, default: float = float("nan")) -> float:
        if self._acc_n:
            return self._acc[key] / self._acc_n
        return self._vals[key][-1] if self._steps else default

    def state_dict(self) -> dict[str, Any]:
        """Plain lists and numbers only, so ``torch.load(weights_only=True)`` accepts it."""
        return {
            "keys": list(self.keys), "capacity": self.capacity, "stride": self.stride,
            "steps": list(self._steps), "counts": list(self._counts),
            "vals": {k: list(v) for k, v in self._vals.items()},
            "acc": dict(self._acc), "acc_n": self._acc_n, "acc_step": self._acc_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """ValueError (nothing changed) unless ``state`` is a history of these keys with a
        consistent layout: a checkpoint may come from an upload. The capacity stays this one's."""
        keys = tuple(state["keys"])
        if keys != self.keys:
            raise ValueError(f"its history records {', '.join(map(str, keys))}; this run records {', '.join(self.keys)}")
        stride, acc_n = int(state["stride"]), int(state["acc_n"])
        steps = [float(s) for s in state["steps"]]
        counts = [int(c) for c in state["counts"]]
        vals = {k: [float(x) for x in state["vals"][k]] for k in keys}
        if (not 1 <= stride <= 2**40 or stride & (stride - 1) or not 0 <= acc_n < stride
                or any(not 1 <= c <= 2**41 for c in counts)
                or any(len(v) != len(steps) for v in (counts, *vals.values()))):
            raise ValueError("its history is damaged (bins, counts and values do not fit together)")
        self.stride, self._steps, self._counts, self._vals = stride, steps, counts, vals
        self._acc = {k: float(state["acc"][k]) for k in keys}
        self._acc_n = acc_n
        self._acc_step = float(state["acc_step"])


# --------------------------------------------------------------------------- trainer protocol


class Diverged(RuntimeError):
    """Raised by a trainer's ``step`` when a loss or weight stops being finite."""


class Trainer(Protocol):
    """Everything the UI relies on in a trainer (``core.trainer.TrainerBase`` provides it)."""

    config: Any
    step_count: int
    device: Any            # torch.device it trains on
    history: "History"

    def step(self, n: int = 1) -> None:
        """Train n steps and record history. Raises ``Diverged`` on NaN/inf."""

    def snapshot(self) -> dict[str, Any]:
        """Plain numpy arrays and numbers for the charts, computed without gradients."""

    def apply_live(self, config: Any) -> None:
        """Adopt the live fields of ``config`` (learning rates, k, batch size…)."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


# --------------------------------------------------------------------------- the runner


_RUNNERS: "weakref.WeakSet[LiveRunner]" = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    """Stop every background continuation before the interpreter shuts down: a daemon thread
    still inside a torch kernel then aborts the process ("terminate called without an active
    exception", exit code 134) after every test passed."""
    for runner in list(_RUNNERS):
        runner.stop_background()


class LiveRunner:
    """One session's trainer plus the machinery to train it in time-budgeted chunks.

    Every method that touches the trainer first stops the background continuation, so the
    trainer is only ever used by one thread at a time.
    """

    def __init__(self, trainer: Trainer, chunk_seconds: float = 0.02) -> None:
        self.trainer = trainer
        self.chunk_seconds = chunk_seconds
        self.error: str | None = None      # set when training stopped itself (divergence, bug)
        self.waiting = False                # True when the server's training cap kept us out
        self._sec_per_step = 1e-3          # running estimate, sizes the chunks
        self._thread: threading.Thread | None = None
        self._deadline = 0.0                # when the background continuation stops by itself
        self._stop = threading.Event()
        self._ticket = _Ticket()
        # Under load, a click's full rerun can start while the previous (interrupted) run of the
        # same session is still in its last tick, so two script threads may start and stop the
        # continuation at once (seen as "cannot join thread before it is started").
        self._bg_lock = threading.RLock()
        self.held = False                  # set by Pause: refuse to start background training
        self.running = False               # set by the UI each frame: is the student training?
        self._last_snapshot: dict[str, Any] | None = None
        # A guided step's end: ▶ Train (train_for and the background) stops at this step count,
        # so the whole class pauses where the step asks; Step goes past it on purpose.
        self.stop_at: int | None = None
        self._rate_t = time.perf_counter()
        self._rate_steps = trainer.step_count
        self.steps_per_second = 0.0
        _RUNNERS.add(self)

    # -- training ---------------------------------------------------------------------
    def _chunk(self, max_steps: int | None, to_stop: bool = True) -> int:
        n = max(1, int(self.chunk_seconds / max(self._sec_per_step, 1e-7)))
        if max_steps is not None:
            n = min(n, max_steps)
        if to_stop and self.stop_at is not None:
            n = min(n, self.stop_at - self.trainer.step_count)
            if n <= 0:
                return 0
        t0 = time.perf_counter()
        try:
            self.trainer.step(n)
        except Diverged as e:
            self.error = str(e) or "Training diverged (a loss or weight became NaN or infinite)."
            return 0
        except Exception as e:  # a bug must stop training and be shown, not kill the page
            self.error = f"Training stopped: {type(e).__name__}: {e}"
            return 0
        dt = time.perf_counter() - t0
        # exponential moving average of seconds per step
        self._sec_per_step = 0.7 * self._sec_per_step + 0.3 * dt / n
        return n

    def train_for(self, seconds: float, max_steps: int | None = None) -> int:
        """Train synchronously for about ``seconds`` (at least one chunk) or ``max_steps``."""
        self.stop_background()
        if self.error:
            return 0
        done, t_end = 0, time.perf_counter() + seconds
        while True:
            n = self._chunk(None if max_steps is None else max_steps - done)
            done += n
            if n == 0 or (max_steps is not None and done >= max_steps) or time.perf_counter() >= t_end:
                return done

    def step(self, n: int) -> int:
        """Exactly ``n`` steps (the Step button)."""
        self.stop_background()
        if self.error:
            return 0
        done = 0
        while done < n:
            k = self._chunk(n - done, to_stop=False)
            if k == 0:
                break
            done += k
        return done

    def start_background(self, seconds: float) -> bool:
        """Keep training in a daemon thread for at most ``seconds`` (renewed by the next tick).

        Returns False (and sets ``waiting``) when the server's training cap is full.
        """
        with self._bg_lock:
            t = self._thread
            if t is not None and t.is_alive() and not self._stop.is_set() and not (self.error or self.held):
                self._deadline = time.perf_counter() + seconds     # still training: just renew it
                return True
            self.stop_background()
            if self.error or self.held:
                return False
            owner = id(self)
            if not _try_take_slot(owner):
                self.waiting = True
                return False
            self.waiting = False
            self._stop = threading.Event()
            stop, ticket = self._stop, self._ticket
            self._deadline = time.perf_counter() + seconds

            def work() -> None:
                try:
                    while not stop.is_set() and time.perf_counter() < self._deadline and not self.error:
                        # one chunk at a time server-wide, in turn (see Gate)
                        if not TRAIN_GATE.acquire(ticket, stop):
                            break                    # stop_background cancelled the wait
                        try:
                            if stop.is_set() or self._chunk(None) == 0:
                                break
                        finally:
                            TRAIN_GATE.release()
                finally:
                    _give_slot(owner)

            thread = threading.Thread(target=work, name="live-trainer", daemon=True)
            try:
                thread.start()
            except RuntimeError:        # no thread to be had (a server at its limits): train on ticks
                _give_slot(owner)
                return False
            self._thread = thread
            return True

    def hold(self, on: bool = True) -> None:
        """Pause (``on``) or allow background training. While held, ``start_background`` refuses.

        Why: under load a click's rerun can overlap the previous run's last frame, whose
        ``finally`` restarts the continuation *after* Pause stopped it. The hold is set by Pause
        (under the same lock), so that late restart is refused and Pause always sticks.
        """
        with self._bg_lock:
            self.held = on
            if on:
                self.stop_background()

    def stop_background(self) -> None:
        with self._bg_lock:
            t = self._thread
            if t is not None:
                self._stop.set()
                TRAIN_GATE.cancel(self._ticket)   # do not wait for our turn only to stop
                t.join()
                self._thread = None

    @property
    def seconds_per_step(self) -> float:
        """The running estimate of one step's wall time (what sizes the chunks)."""
        return self._sec_per_step

    @property
    def training_in_background(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def at_stop(self) -> bool:
        """Whether training reached the guided step's end (``stop_at``)."""
        return self.stop_at is not None and self.trainer.step_count >= self.stop_at

    # -- reading ----------------------------------------------------------------------
    def update_rate(self) -> float:
        """Steps per second since the last call (an average over the interval)."""
        now, steps = time.perf_counter(), self.trainer.step_count
        dt = now - self._rate_t
        if dt > 0.05:
            self.steps_per_second = max(0.0, (steps - self._rate_steps) / dt)
            self._rate_t, self._rate_steps = now, steps
        return self.steps_per_second

    def reset_rate(self) -> None:
        self._rate_t, self._rate_steps = time.perf_counter(), self.trainer.step_count
        self.steps_per_second = 0.0

    def snapshot(self, **kwargs: Any) -> dict[str, Any]:
        self.stop_background()
        return self.trainer.snapshot(**kwargs)

    def latest_snapshot(self, **kwargs: Any) -> dict[str, Any] | None:
        """A snapshot for the charts. After a blow-up, the last good one with the history up
        to the blow-up (NaN weights would draw empty charts); None if there is none."""
        self.stop_background()
        if not self.error:
            try:
                self._last_snapshot = self.trainer.snapshot(**kwargs)
                return self._last_snapshot
            except Exception as e:       # e.g. NaN weights: report, never crash
                self.error = f"Could not read the model: {type(e).__name__}: {e}"
        snap = self._last_snapshot
        if snap is None:
            try:
                snap = self.trainer.snapshot(**kwargs)
            except Exception:
                return None
        if snap is not None and "history" in snap and hasattr(self.trainer, "history"):
            snap = {**snap, "history": self.trainer.history.arrays()}
        return snap

    def call(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(trainer)`` with the background continuation stopped."""
        self.stop_background()
        return fn(self.trainer)

    def apply_live(self, config: Any) -> None:
        self.stop_background()
        self.trainer.apply_live(config)

    def close(self) -> None:
        self.stop_background()
