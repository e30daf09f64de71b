"""Publishing a joined session's run: its summary every SUMMARY_SECONDS, its checkpoint every
CHECKPOINT_SECONDS, and reading it back after a worker died.

A frame never waits for the store. The frame builds the summary (a few hundred numbers) and, every
CHECKPOINT_SECONDS, the checkpoint's bytes while the trainer is stopped anyway for the snapshot; it
hands them to the process's one ``Publisher``, whose background thread writes everything pending in
one transaction every FLUSH_SECONDS. The hand-over is a dict insert under a lock: a newer summary of
the same run replaces the older one, and when MAX_PENDING runs are pending (the store is slow) new
ones are dropped and counted. A failing store is retried with a growing pause and reported by
``status()``, which the page shows as "the class view is unavailable"; training goes on.

The thread also keeps its sessions' runs held (``hold``: core.classroom.access's lease), renewing
every RENEW_SECONDS while a session is connected and giving the run back once it is not, and reads
the classes it has seen (their sweep and the lecturer's message) every
INFO_SECONDS, so a page can show them from memory (``class_info``) without a query of its own.
"""
from __future__ import annotations

import json
import math
import os
import threading
import time
from typing import Any, Callable

import numpy as np

from core import settings
from core.classroom import access
from core.checkpoints import CheckpointError, MAX_UPLOAD_BYTES, checkpoint_bytes, read_checkpoint_bytes
from core.classroom.store import Store, StoreError, database_url, shared

SUMMARY_SECONDS = 2.0
CHECKPOINT_SECONDS = 10.0
FLUSH_SECONDS = 0.5
INFO_SECONDS = 2.0
MAX_PENDING = 2000            # runs waiting to be written (one worker holds ~30 sessions)
HISTORY_POINTS = 60           # per history key: enough for a small multiple or a final value
METRIC_TAIL = 20              # a metric is the mean of the history's last this many points
IDLE_SECONDS = 30.0           # a hold without a liveness test lapses when its session is this quiet
# benchmarks/bench_load.py --class-db: each worker's writes, one JSON line per flush, in
# ``$DASH_CLASS_STATS.<pid>.jsonl`` (unset: nothing is written)
STATS_PREFIX = os.environ.get("DASH_CLASS_STATS")


def _num(x: Any) -> float | None:
    """A JSON-safe number with 4 significant digits (PostgreSQL's JSON has no NaN or inf)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return float(f"{x:.4g}") if math.isfinite(x) else None


def _plain(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return str(v)


def thin(arrays: dict[str, np.ndarray], keys: tuple[str, ...], points: int = HISTORY_POINTS) -> dict[str, list]:
    """The history at ``points`` evenly spaced places (always the last one)."""
    steps = np.asarray(arrays.get("step", []))
    n = len(steps)
    idx = np.unique(np.linspace(0, n - 1, min(points, n)).round().astype(int)) if n else np.array([], int)
    out = {"step": [int(s) for s in steps[idx]]}
    for k in keys:
        out[k] = [_num(v) for v in np.asarray(arrays[k])[idx]]
    return out


def summarize(trainer: Any, token: str, class_code: str, now: float | None = None) -> dict[str, Any]:
    """What the lecturer sees of one run: settings, step, each history key's recent mean (the
    lesson's key metrics: its losses and scores) and the history thinned to HISTORY_POINTS."""
    keys = tuple(getattr(trainer, "HISTORY_KEYS", ()))
    arrays = trainer.history.arrays() if hasattr(trainer, "history") else {"step": np.array([])}
    metrics = {k: _num(np.mean(np.asarray(arrays[k])[-METRIC_TAIL:])) if len(arrays.get("step", [])) else None
               for k in keys}
    return {"token": token, "class_code": class_code, "lesson": trainer.LESSON,
            "settings": _plain(settings.config_to_dict(trainer.config)), "step": int(trainer.step_count),
            "metrics": metrics, "history": thin(arrays, keys), "updated": time.time() if now is None else now}


def checkpoint_of(trainer: Any) -> bytes | None:
    """The run as checkpoint bytes (the ⬇ Checkpoint button's format), None if too large to load
    back (``read_checkpoint_bytes`` accepts MAX_UPLOAD_BYTES)."""
    data = checkpoint_bytes(trainer.state_dict())
    return data if len(data) <= MAX_UPLOAD_BYTES else None


def resume_state(store: Store, token: str, lesson: str) -> dict[str, Any] | None:
    """The run's last saved checkpoint, read back through the uploads' path (``weights_only``,
    the layout and the lesson checked), or None; ``CheckpointError`` if it is unusable."""
    row = store.load_checkpoint(token, lesson)
    if row is None:
        return None
    state = read_checkpoint_bytes(bytes(row["data"]), "the saved run", lesson)
    state["_saved_at"] = float(row["updated"])
    return state


class Publisher:
    """One per process and store: the background writer (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._summaries: dict[tuple[str, str], dict[str, Any]] = {}
        self._checkpoints: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self._infos: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._watch: dict[str, float] = {}      # class code -> when a page last asked about it
        # run token -> (holder, is its session connected?, when the session last touched it)
        self._holds: dict[str, tuple[str, Callable[[], bool] | None, float]] = {}
        self._lost: set[tuple[str, str]] = set()  # (token, holder) taken up by another session
        self.dropped = 0
        self.written = 0
        self.last_ok: float | None = None
        self.last_error: tuple[float, str] | None = None
        self.write_seconds: list[float] = []    # recent flush durations (benchmarks)
        self._thread: threading.Thread | None = None
        self._stopping = False

    # ------------------------------------------------------------------ the session's side
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="dash-class-publisher", daemon=True)
            self._thread.start()

    def offer(self, summary: dict[str, Any], checkpoint: bytes | None = None) -> bool:
        """Queue a run's summary (and checkpoint); never blocks. False if dropped (queue full)."""
        key = (summary["token"], summary["lesson"])
        with self._lock:
            if key not in self._summaries and len(self._summaries) >= MAX_PENDING:
                self.dropped += 1
                return False
            self._summaries[key] = summary
            self._watch[summary["class_code"]] = time.monotonic()
            if checkpoint is not None:
                self._checkpoints[key] = (summary["class_code"], summary["step"], checkpoint)
        self._ensure_thread()
        return True

    def hold(self, token: str, holder: str, alive: Callable[[], bool] | None = None) -> None:
        """Keep run ``token`` held by session ``holder`` while ``alive()`` says the session is
        connected (None: while the session calls this at least every IDLE_SECONDS)."""
        with self._lock:
            self._holds[token] = (holder, alive, time.monotonic())
        self._ensure_thread()

    def unhold(self, token: str) -> None:
        with self._lock:
            self._holds.pop(token, None)

    def lost(self, token: str, holder: str) -> bool:
        """Whether another session took run ``token`` up from ``holder`` (its lease had run out)."""
        with self._lock:
            return (token, holder) in self._lost

    def class_info(self, code: str) -> dict[str, Any] | None:
        """The class as last read by the thread (None until then, or if it has gone)."""
        with self._lock:
            self._watch[code] = time.monotonic()
            hit = self._infos.get(code)
        self._ensure_thread()
        return hit[1] if hit else None

    def status(self) -> tuple[bool, str]:
        """(available, why not): unavailable while the last attempt failed."""
        err = self.last_error
        if err is not None and (self.last_ok is None or err[0] > self.last_ok):
            return False, err[1]
        return True, ""

    def flush_now(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far was attempted (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        self._ensure_thread()
        while time.monotonic() < deadline:
            with self._lock:
                if not self._summaries and not self._checkpoints and not self._busy:
                    return
            time.sleep(0.02)

    _busy = False

    # ------------------------------------------------------------------ the thread
    def _loop(self) -> None:
        pause = FLUSH_SECONDS
        last_info = last_renew = 0.0
        while not self._stopping:
            self._wake.wait(pause)
            self._wake.clear()
            with self._lock:
                summaries, self._summaries = list(self._summaries.values()), {}
                ckpts, self._checkpoints = dict(self._checkpoints), {}
                watched = [c for c, t in self._watch.items() if time.monotonic() - t < 30]
                info_due = bool(watched) and time.monotonic() - last_info >= INFO_SECONDS
                renew_due = bool(self._holds) and time.monotonic() - last_renew >= access.RENEW_SECONDS
                self._busy = bool(summaries or ckpts or info_due)
            try:
                t0 = time.perf_counter()
                if summaries or ckpts:       # one transaction for everything pending
                    self.written += self.store.publish(summaries, [(token, lesson, code, step, data) for
                                                                   (token, lesson), (code, step, data) in ckpts.items()])
                    took = time.perf_counter() - t0
                    self.write_seconds = (self.write_seconds + [took])[-500:]
                    if STATS_PREFIX:
                        self._log_stats(took, len(summaries), len(ckpts))
                if renew_due:
                    last_renew = time.monotonic()
                    self._renew()
                if info_due:
                    last_info = time.monotonic()
                    infos = {c: self.store.class_info(c) for c in watched}
                    with self._lock:
                        now = time.monotonic()
                        self._infos.update({c: (now, i) for c, i in infos.items()})
                self.last_ok = time.time()
                pause = FLUSH_SECONDS
            except StoreError as e:
                # dropped, not retried: the next summary (2 s) and checkpoint (10 s) replace them
                self.last_error = (time.time(), str(e))
                pause = min(10.0, max(1.0, pause * 2))
            except Exception as e:  # a bug must not kill the writer of the whole process
                self.last_error = (time.time(), f"{type(e).__name__}: {e}")
                pause = min(10.0, max(1.0, pause * 2))
            finally:
                with self._lock:
                    self._busy = False

    def _log_stats(self, seconds: float, summaries: int, checkpoints: int) -> None:
        with open(f"{STATS_PREFIX}.{os.getpid()}.jsonl", "a") as f:
            f.write(json.dumps({"t": time.time(), "flush_s": seconds, "summaries": summaries,
                                "checkpoints": checkpoints, "dropped": self.dropped}) + "\n")

    def _renew(self) -> None:
        """Renew the leases of connected sessions' runs; give back those of sessions gone."""
        with self._lock:
            holds = dict(self._holds)
        now = time.monotonic()
        gone = {t: h for t, (h, alive, touched) in holds.items()
                if not (alive() if alive is not None else now - touched < IDLE_SECONDS)}
        keep = {t: h for t, (h, _, _) in holds.items() if t not in gone}
        access.release(self.store, gone)
        lost = access.renew(self.store, keep)
        with self._lock:
            for t, h in [*gone.items(), *((t, keep[t]) for t in lost)]:
                if self._holds.get(t, ("",))[0] == h:     # unless the session held it anew meanwhile
                    del self._holds[t]
            self._lost.update((t, keep[t]) for t in lost)


_PUBLISHERS: dict[str, Publisher] = {}
_PUB_LOCK = threading.Lock()


def publisher() -> Publisher:
    """The process's publisher for the configured store (DASH_CLASS_DB)."""
    url = database_url()
    with _PUB_LOCK:
        pub = _PUBLISHERS.get(url)
        if pub is None:
            pub = _PUBLISHERS[url] = Publisher(shared())
        return pub


__all__ = ["CheckpointError", "Publisher", "publisher", "resume_state", "summarize", "checkpoint_of", "thin",
           "SUMMARY_SECONDS", "CHECKPOINT_SECONDS"]
