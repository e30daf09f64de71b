"""Sharing one server between a class: training slots and strictly fair gates (no Streamlit).

Measured with benchmarks/bench_load.py: 10–30 sessions training at once made ~60 threads
compete for the interpreter lock, and the thread that sends frames to the browsers starved. The
gates below let one frame be drawn and one training chunk run at a time, first come first
served, so every session progresses and clicks are answered.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from typing import Iterator

# --------------------------------------------------------------------------- global training slots

# One server hosts a whole class. Each session training at once takes a slot; past the cap the
# others wait (and say so) instead of slowing everybody down. 0 = no cap.
_slots_lock = threading.Lock()
_slots_cap = 0
_slots_used: set[int] = set()


def set_training_cap(cap: int) -> None:
    global _slots_cap
    with _slots_lock:
        _slots_cap = max(0, int(cap))


def _try_take_slot(owner: int) -> bool:
    with _slots_lock:
        if owner in _slots_used:
            return True
        if _slots_cap and len(_slots_used) >= _slots_cap:
            return False
        _slots_used.add(owner)
        return True


def _give_slot(owner: int) -> None:
    with _slots_lock:
        _slots_used.discard(owner)


def slots_in_use() -> int:
    with _slots_lock:
        return len(_slots_used)


# --------------------------------------------------------------------------- fair gates

class Gate:
    """A strictly first-come-first-served semaphore (a waiter is handed the permit directly).

    Why: the server is one Python process. Measured with benchmarks/bench_load.py, 10–30 sessions
    training at once made ~60 threads (one script thread and one trainer per session) compete
    for the GIL; the asyncio thread that sends the frames then got the GIL so rarely that almost
    nothing reached the browsers (Streamlit drops a run's unsent deltas when the next run starts)
    and clicks went unanswered for tens of seconds. Threads blocked on a Gate do not compete for
    the GIL, so gating the heavy work keeps the event loop responsive; handing the permit over
    (instead of ``threading.Semaphore``, where a thread that releases and re-acquires in a loop
    can barge ahead of the waiters) makes every session progress in turn.
    """

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._free = max(1, int(size))
        self._waiters: list[_Ticket] = []          # FIFO

    def acquire(self, ticket: "_Ticket | None" = None, stop: threading.Event | None = None,
                urgent: bool = False) -> bool:
        """Wait for a permit; False (no permit held) if ``stop`` is set before we queue or
        ``cancel(ticket)`` ends the wait. Set ``stop`` before calling ``cancel``.

        ``urgent`` waiters (a click's rerun) queue ahead of the ordinary ones (timer ticks),
        behind earlier urgent ones, so a click is answered after one frame, not a whole round.
        """
        with self._lock:
            if stop is not None and stop.is_set():
                return False
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return True
            ticket = ticket or _Ticket()
            ticket.reset()
            ticket.urgent = urgent
            if urgent:
                at = next((i for i, w in enumerate(self._waiters) if not w.urgent), len(self._waiters))
                self._waiters.insert(at, ticket)
            else:
                self._waiters.append(ticket)
        ticket.lock.acquire()     # released by ``release`` (granted) or ``cancel`` (not granted)
        return ticket.granted

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                t = self._waiters.pop(0)            # hand the permit over, no barging
                t.granted = True
                t.lock.release()
            else:
                self._free += 1

    def cancel(self, ticket: "_Ticket") -> None:
        """Stop ``ticket``'s wait, if it is waiting (its ``acquire`` returns False)."""
        with self._lock:
            if ticket in self._waiters:
                self._waiters.remove(ticket)
                ticket.lock.release()

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters)

    @contextlib.contextmanager
    def held(self, urgent: bool = False) -> Iterator[None]:
        """``with gate.held(urgent):`` — wait for a permit, give it back on the way out."""
        self.acquire(urgent=urgent)
        try:
            yield
        finally:
            self.release()


class _Ticket:
    """One waiter's place in a Gate's queue."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.granted = False
        self.urgent = False

    def reset(self) -> None:
        self.granted = False
        self.lock.acquire(blocking=False)      # held: the waiter blocks on it


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


# How many sessions may draw a frame (snapshot + charts, ~60 ms of GIL-holding Python) at once,
# and how many training chunks (~20 ms each) may run at once, server-wide. One each keeps the
# runnable threads at ~3 (frame, trainer, event loop) however many students are connected.
FRAME_GATE = Gate(_env_int("DASH_MAX_FRAMES", 1))
TRAIN_GATE = Gate(_env_int("DASH_MAX_CHUNKS", 1))


def frame_gate(urgent: bool = False) -> contextlib.AbstractContextManager[None]:
    """Wrap the drawing of one frame in ``with frame_gate(urgent):`` (see ``Gate``); urgent =
    the frame answers a click (a full-app run), not a ``run_every`` tick."""
    return FRAME_GATE.held(urgent)


# --------------------------------------------------------------------------- frame pacing

STALL_SECONDS = 0.5


class FramePacer:
    """How often each training session should get a frame, so frames never crowd out training.

    One server process is one interpreter lock: with 30 students training, 10 frames a second
    each (~25 ms of server time apiece) would need 7 s of work per second, and training got 3 %
    of its solo speed (issue 20). So the frames of all training sessions together may take at
    most ``share`` of the server's time, stretched to ``stretch × share`` where that keeps the
    promise of a frame every ``promise`` seconds (at least one a second, with a margin):

        wanted = sessions × seconds_per_frame / share
        kept   = max(promise, sessions × seconds_per_frame / (stretch × share))
        interval = clamp(min(wanted, kept), lo, hi)

    with seconds_per_frame a running average of what frames cost. One student alone keeps
    1 / lo frames a second (5.3). Thirty keep 1 / promise (1.1) while a frame costs 15–25 ms of
    server time, which is where 30 students' frames swing with the load; before the promise,
    those swings re-paced the sessions (a full run each) and intervals wandered between 0.8 and
    2 s. A hundred students get a frame every ``hi`` seconds, and the rest of the time trains.
    """

    def __init__(self, share: float = 0.5, lo: float = 0.19, hi: float = 2.0, tau: float = 3.0,
                 promise: float = 0.9, stretch: float = 1.4) -> None:
        self.share, self.lo, self.hi, self.tau = share, lo, hi, tau
        self.promise, self.stretch = promise, stretch
        self._lock = threading.Lock()
        self.seconds_per_frame = 0.03
        self._last: float | None = None

    def record(self, seconds: float, now: float | None = None) -> None:
        """One frame's server time (snapshot + draw), into an average over about the last ``tau``
        seconds of frames, whatever their number:

            w = min(0.1, 1 − exp(−Δt / tau)),   spf ← (1 − w)·spf + w·seconds

        with Δt the time since the last frame recorded. Per frame (w = 0.1), 30 students' ~30
        frames a second averaged only the last third of a second: a burst of clicks doubled the
        interval, the sessions re-paced (a full run each, itself a burst), and intervals swung
        between 0.8 and 2 s (0.7–0.9 frames a second where 1 was due). A stalled frame counts as
        at most ``STALL_SECONDS``, so one hiccup cannot stretch everyone's interval for seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            dt = None if self._last is None else max(0.0, now - self._last)
            self._last = now
            w = 0.1 if dt is None else min(0.1, 1.0 - math.exp(-dt / self.tau))
            self.seconds_per_frame = (1 - w) * self.seconds_per_frame + w * min(max(0.0, seconds), STALL_SECONDS)

    def interval(self, sessions: int | None = None) -> float:
        n = max(1, slots_in_use() if sessions is None else sessions)
        busy = n * self.seconds_per_frame
        kept = max(self.promise, busy / (self.stretch * self.share))
        return min(self.hi, max(self.lo, min(busy / self.share, kept)))


# Re-pace to fewer frames when the wanted interval is over (1 + REPACE_SLOWER) × the declared one,
# to more when under it / (1 + REPACE_FASTER). It was ½ both ways: a session declared at 1.4 s
# while 30 students pressed Train at once stayed there when 1.0 s became possible (0.7 frames a
# second where 1 was due); ¼ both ways made 30 sessions swing between 0.9 and 1.2 s, a full run
# per swing (benchmarks/README.md, «Thirty per worker»).
REPACE_SECONDS = 3.0         # at most one re-pacing rerun (a full run) per session this often
REPACE_SLOWER = 0.5
REPACE_FASTER = 0.2


def should_repace(declared: float, wanted: float) -> bool:
    """Whether a fragment declared at ``declared`` seconds is far enough from ``wanted`` to be
    declared again: fewer frames only past REPACE_SLOWER, more past REPACE_FASTER."""
    return wanted > (1 + REPACE_SLOWER) * declared or (1 + REPACE_FASTER) * wanted < declared


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; the machine's count elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# Frames may take this share of the machine's cores, summed over every worker on it.
FRAME_CORES_SHARE = 0.3


def frame_share() -> float:
    """The share of this process's time its frames may take (``FramePacer.share``).

    Frames are a budget of the machine, not of each process: W workers on C cores may together
    spend FRAME_CORES_SHARE · C cores on frames, so each may spend

        share = min(0.5, FRAME_CORES_SHARE · C / W)

    of its one drawing thread (never more than half: a process draws under one interpreter lock).
    One worker on this 2-core machine keeps 0.5, as before. Two workers each had 0.5 as well, so
    together they spent more of the machine on frames than one worker did: each student got
    1.7× the frames (median 2.13 against 1.28 a second) and the class only 1.63× the steps
    (benchmarks/bench_load.py, 30 sessions, issue 20). At 0.3 each, two workers give a student
    about the frames one worker gives (median 1.28–1.30) and train 2.0× as fast.
    ``scripts/serve.py`` tells each worker W in ``DASH_WORKERS``; ``DASH_FRAME_SHARE`` overrides.
    """
    if os.environ.get("DASH_FRAME_SHARE"):
        return float(os.environ["DASH_FRAME_SHARE"])
    return min(0.5, FRAME_CORES_SHARE * usable_cores() / _env_int("DASH_WORKERS", 1))


# At most 1 / 0.19 = 5.3 frames a second per session: the issue's ≥ 5, with the rest of the time for
# training. Paired against 0.16 s (6.3 frames/s; bench_live_loop.py --ab DASH_FRAME_SECONDS=0.19),
# live / headless rose on 9 of 10 pages, by 0.04 on average (benchmarks/README.md, «Fewer frames»).
PACER = FramePacer(share=frame_share(), lo=float(os.environ.get("DASH_FRAME_SECONDS", "0.19")))
