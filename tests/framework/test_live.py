"""The shared live machinery: bounded history, live vs structural fields, the runner."""
import time
from dataclasses import dataclass

import numpy as np
import pytest

from core.gates import Gate, set_training_cap
from core.live import Diverged, History, LiveRunner
from core.settings import changed_fields, live_field, structural_field


def test_history_is_bounded_and_keeps_exact_means():
    h = History(["a"], capacity=100)
    steps = np.arange(1, 10_001)
    h.add_many(steps, {"a": steps.astype(float)})
    arr = h.arrays()
    assert len(arr["step"]) <= 101
    assert h.stride == 128
    assert arr["count"].sum() == 10_000 and arr["step"][-1] == 10_000
    # each bin is exactly the mean of the records it covers: with value = step, the mean of
    # the steps (prev_end, end] is (prev_end + 1 + end) / 2
    ends = arr["step"]
    starts = np.concatenate([[1], ends[:-1] + 1])
    assert np.allclose(arr["a"], (starts + ends) / 2)
    assert np.array_equal(ends - starts + 1, arr["count"])


def test_history_state_round_trip():
    h = History(["a", "b"], capacity=8)
    for i in range(37):
        h.add(i, a=i, b=-i)
    g = History(["a", "b"])
    g.load_state_dict(h.state_dict())
    for k in ("step", "a", "b"):
        assert np.array_equal(h.arrays()[k], g.arrays()[k])


@dataclass
class Cfg:
    lr: float = live_field(0.1)
    width: int = structural_field(4)
    seed: int = structural_field(0)


def test_changed_fields_splits_live_and_structural():
    assert changed_fields(Cfg(), Cfg()) == ([], [])
    assert changed_fields(Cfg(), Cfg(lr=0.2)) == (["lr"], [])
    assert changed_fields(Cfg(), Cfg(lr=0.2, width=8)) == (["lr"], ["width"])


class Counter:
    """A stand-in trainer whose step takes ~0.1 ms and can be told to diverge."""

    def __init__(self, diverge_at=None):
        self.config, self.step_count, self.diverge_at, self.device = Cfg(), 0, diverge_at, "cpu"

    def step(self, n=1):
        for _ in range(n):
            time.sleep(0.0001)
            self.step_count += 1
            if self.diverge_at is not None and self.step_count >= self.diverge_at:
                raise Diverged("loss became NaN")

    def snapshot(self):
        return {"step": self.step_count}

    def apply_live(self, config):
        self.config = config


def test_runner_step_is_exact_and_train_for_is_time_bounded():
    r = LiveRunner(Counter())
    assert r.step(7) == 7 and r.trainer.step_count == 7
    t0 = time.perf_counter()
    done = r.train_for(0.05)
    assert done > 0 and time.perf_counter() - t0 < 1.0


def test_a_guided_steps_end_stops_train_but_not_step():
    """``stop_at``: ▶ Train (train_for and the background) halts exactly there; Step goes past."""
    r = LiveRunner(Counter())
    r.stop_at = 30
    assert r.train_for(5.0) == 30 and r.trainer.step_count == 30 and r.at_stop
    assert r.start_background(5.0)
    time.sleep(0.3)
    assert r.trainer.step_count == 30 and not r.training_in_background
    assert r.step(3) == 3 and r.trainer.step_count == 33


def test_background_training_stops_at_its_deadline():
    """With no tick renewing it (a closed tab), training stops by itself."""
    r = LiveRunner(Counter())
    assert r.start_background(0.1)
    time.sleep(0.4)
    assert not r.training_in_background
    n = r.trainer.step_count
    time.sleep(0.1)
    assert r.trainer.step_count == n > 0


def test_a_tick_renews_running_training_without_restarting_it():
    """A frame's ``start_background`` while the continuation runs only moves its deadline on: no
    join (which would wait for the chunk under way) and the same thread trains on."""
    r = LiveRunner(Counter())
    assert r.start_background(0.3)
    first = r._thread
    for _ in range(5):                       # ticks every 0.1 s keep it alive past 0.3 s
        time.sleep(0.1)
        assert r.start_background(0.3)
        assert r._thread is first and r.training_in_background
    r.hold(True)                             # Pause still stops it at once
    assert not r.training_in_background and not r.start_background(0.3)


def test_snapshot_stops_background_first():
    r = LiveRunner(Counter())
    r.start_background(5.0)
    time.sleep(0.02)
    s1 = r.snapshot()
    time.sleep(0.05)
    assert r.snapshot() == s1          # nothing trained after the first snapshot
    assert not r.training_in_background


def test_divergence_stops_training_with_the_message():
    r = LiveRunner(Counter(diverge_at=5))
    r.step(100)
    assert r.trainer.step_count == 5 and "NaN" in r.error
    assert r.step(3) == 0 and not r.start_background(1.0)


def test_training_cap_makes_others_wait():
    set_training_cap(1)
    try:
        a, b = LiveRunner(Counter()), LiveRunner(Counter())
        assert a.start_background(2.0)
        assert not b.start_background(2.0) and b.waiting
        a.stop_background()
        assert b.start_background(0.05) and not b.waiting
        b.stop_background()
    finally:
        set_training_cap(0)


def test_gate_serves_waiters_in_order_without_barging():
    """A released permit goes to the longest waiter, even if the releaser asks again at once."""
    import threading
    g, order = Gate(1), []
    g.acquire()

    def waiter(name):
        g.acquire()
        order.append(name)
        g.release()

    threads = []
    for name in ("b", "c"):
        t = threading.Thread(target=waiter, args=(name,))
        t.start()
        threads.append(t)
        while g.waiting() < len(threads):
            time.sleep(0.001)
    g.release()
    g.acquire()            # the releaser comes straight back: it must queue behind b and c
    order.append("a")
    g.release()
    for t in threads:
        t.join(2)
    assert order == ["b", "c", "a"]


def test_urgent_waiters_go_before_ordinary_ones():
    """A click's frame (urgent) is served before the queued timer ticks, after earlier clicks."""
    import threading
    g, order = Gate(1), []
    g.acquire()

    def waiter(name, urgent):
        g.acquire(urgent=urgent)
        order.append(name)
        g.release()

    threads = []
    for name, urgent in (("tick1", False), ("tick2", False), ("click1", True), ("click2", True)):
        t = threading.Thread(target=waiter, args=(name, urgent))
        t.start()
        threads.append(t)
        while g.waiting() < len(threads):
            time.sleep(0.001)
    g.release()
    for t in threads:
        t.join(2)
    assert order == ["click1", "click2", "tick1", "tick2"]


def test_gate_wait_can_be_cancelled():
    import threading
    from core.gates import _Ticket
    g, ticket, stop, got = Gate(1), _Ticket(), threading.Event(), []
    g.acquire()
    t = threading.Thread(target=lambda: got.append(g.acquire(ticket, stop)))
    t.start()
    while g.waiting() == 0:
        time.sleep(0.001)
    stop.set()
    g.cancel(ticket)
    t.join(2)
    assert got == [False] and g.waiting() == 0
    assert g.acquire(ticket, stop) is False          # stop already set: never queues
    g.release()
    assert g.acquire() is True                       # the permit was never lost
    g.release()


def test_many_background_runners_all_progress():
    """Chunks are served in turn, so every session trains however many there are."""
    runners = [LiveRunner(Counter(), chunk_seconds=0.005) for _ in range(8)]
    for r in runners:
        assert r.start_background(0.5)
    time.sleep(0.6)
    for r in runners:
        r.stop_background()
    assert all(r.trainer.step_count > 0 for r in runners)


def test_start_and_stop_from_two_threads_do_not_race():
    """A click's rerun and the previous run's last tick may start/stop at the same time."""
    import threading
    r, errors = LiveRunner(Counter()), []

    def hammer(fn):
        try:
            for _ in range(200):
                fn()
        except Exception as e:  # e.g. "cannot join thread before it is started"
            errors.append(e)

    threads = [threading.Thread(target=hammer, args=(lambda: r.start_background(0.05),)),
               threading.Thread(target=hammer, args=(r.stop_background,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    r.stop_background()
    assert not errors and not r.training_in_background


def test_device_for_without_gpu_is_cpu(monkeypatch):
    """Whatever the choice, a machine with no GPU (Community Cloud) trains on the CPU."""
    import core.device as d
    monkeypatch.setattr(d.torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("DASH_FORCE_CPU", raising=False)
    for lesson in ("gan1d", "forecast", "lstm", "gan2d", "upsampling"):
        for choice in d.DEVICE_CHOICES:
            assert d.device_for(lesson, choice).type in ("cpu", "mps")
    assert d.gpu_helps("upsampling") and not d.gpu_helps("gan1d") and not d.gpu_helps("no such lesson")
    assert "faster" in d.device_reason("forecast")


def test_hold_refuses_a_late_background_restart():
    """Pause sets a hold: a stale frame's ``start_background`` afterwards must not train on."""
    import torch
    from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer
    from core.live import LiveRunner
    r = LiveRunner(Gan1DTrainer(Gan1DConfig(seed=0), torch.device("cpu")))
    assert r.start_background(0.2)
    r.hold(True)                                   # Pause
    assert not r.training_in_background
    before = r.trainer.step_count
    assert r.start_background(0.2) is False        # the late restart is refused
    time.sleep(0.05)
    assert r.trainer.step_count == before
    r.hold(False)                                  # Train again
    assert r.start_background(0.2)
    r.stop_background()


def test_with_live_fields_takes_only_the_live_ones():
    from core.lessons.gan1d import Gan1DConfig
    from core.settings import with_live_fields
    cur, req = Gan1DConfig(seed=0), Gan1DConfig(seed=7, lr_d=0.01)
    new = with_live_fields(cur, req)
    assert new.lr_d == 0.01 and new.seed == 0      # lr_d is live, the seed is structural


def test_frame_pacer_gives_training_its_share():
    from core.gates import FramePacer
    p = FramePacer(share=0.35, lo=0.1, hi=2.0)
    for i in range(100):
        p.record(0.02, now=0.5 * i)                   # 50 s of frames: the average has settled
    assert p.interval(1) == 0.1                       # alone: ten frames a second
    # 15 students: frames take 15 × 0.02 / interval ≤ 35 % of the server's time
    assert abs(p.interval(15) - 15 * 0.02 / 0.35) < 1e-3 and 15 * 0.02 / p.interval(15) <= 0.35 + 1e-3
    # 30: 35 % would mean a frame every 1.7 s; stretched to 1.4 × 35 %, every 1.2 s
    assert abs(p.interval(30) - 30 * 0.02 / (1.4 * 0.35)) < 1e-3
    # 20: the promise (a frame every 0.9 s) costs 20 × 0.02 / 0.9 = 44 % ≤ 1.4 × 35 %: kept
    assert p.interval(20) == 0.9 and 20 * 0.02 / 0.9 <= 1.4 * 0.35
    assert p.interval(1000) == 2.0                    # never slower than a frame every 2 s


def test_one_stalled_frame_does_not_stretch_the_frame_interval():
    """A frame that stalls (a new model's first frame took 1.75 s) counts as at most
    STALL_SECONDS: the interval of one student stays at its floor instead of 0.35 s."""
    from core.gates import STALL_SECONDS, FramePacer
    p = FramePacer(share=0.5, lo=0.19, hi=2.0)
    p.record(1.75)
    assert p.seconds_per_frame <= 0.9 * 0.03 + 0.1 * STALL_SECONDS + 1e-12
    assert p.interval(1) == 0.19


def test_sessions_re_pace_to_more_frames_readily_and_to_fewer_only_under_real_load():
    from core.gates import should_repace
    assert should_repace(0.4, 1.2) and should_repace(0.4, 0.19)     # the first frames: to the load
    assert should_repace(1.2, 0.9)            # 30 students at 1.2 s when 0.9 s is possible: 1.1 frames/s
    assert not should_repace(0.9, 1.2)        # a burst of clicks: no full run per session for it
    assert should_repace(0.9, 2.0)            # real overload (100 students): fewer frames
    assert not should_repace(0.19, 0.21) and not should_repace(1.0, 0.9)


def test_the_frame_cost_is_an_average_over_seconds_not_frames():
    """30 students draw ~30 frames a second: a burst of slow frames (everyone pressing Train at
    once) must move the average as much as the same seconds of one student's frames would, not
    as much as 30 times as many frames."""
    from core.gates import FramePacer
    alone, crowd = FramePacer(tau=3.0), FramePacer(tau=3.0)
    for i in range(100):                               # settled at 15 ms
        alone.record(0.015, now=0.2 * i)
        crowd.record(0.015, now=0.2 * i)
    for k in range(5):                                 # one second of 60 ms frames
        alone.record(0.06, now=20 + 0.2 * (k + 1))     # 5 frames a second
    for k in range(30):
        crowd.record(0.06, now=20 + (k + 1) / 30)      # 30 frames a second
    assert abs(crowd.seconds_per_frame - alone.seconds_per_frame) < 0.003
    # a second is a third of tau: about 1 − exp(−1/3) = 28 % of the way (per frame it was 96 %)
    assert crowd.seconds_per_frame < 0.015 + 0.35 * (0.06 - 0.015)


class _TickContext:
    """Streamlit's run context, claiming to be a ``run_every`` tick (AppTest never fires one)."""

    fragment_ids_this_run = ["tick"]

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_a_ticks_wait_for_the_chunk_under_way_is_not_counted_as_its_cost(monkeypatch):
    """The frame waits for the training chunk under way (an evaluation can take 0.3 s); that wait
    is training, not drawing, so the frame pacer must not count it (it stretched the interval and
    re-declared the fragment mid-run: 2.6–4.7 frames a second on autoencoders)."""
    import core.gates as gates
    from core.ui import loop
    from tests.apptest_util import press_train, run_page
    at = press_train(run_page("pages/gan1d.py"), "gan1d")
    real_stop = LiveRunner.stop_background

    def slow_stop(self):
        if self._thread is not None:
            time.sleep(1.0)                            # a chunk that takes a second to end
        real_stop(self)

    monkeypatch.setattr(LiveRunner, "stop_background", slow_stop)
    real_ctx = loop.get_script_run_ctx
    monkeypatch.setattr(loop, "get_script_run_ctx", lambda: _TickContext(real_ctx()))
    monkeypatch.setattr(gates, "STALL_SECONDS", 10.0)     # the clip must not hide the wait
    monkeypatch.setattr(loop.PACER, "seconds_per_frame", 0.03)
    for _ in range(2):
        at.run()
        assert not at.exception
    # counted, the two waits alone would make it ≥ 0.9 × (0.9 × 0.03 + 0.1) + 0.1 = 0.21
    assert loop.PACER.seconds_per_frame < 0.15


def _detail_app():
    import numpy as np
    import streamlit as st
    import torch

    from core import charts
    from core.ui.page import Page, begin_frame, chart, detail_view
    page = Page("toy", "Toy", False, torch.device("cpu"))
    ss = st.session_state
    i = ss["frame"] = ss.get("frame", -1) + 1
    begin_frame(page, redraw_all=ss["plan"][i])
    ss.setdefault("made", [])
    ss.setdefault("sent", []).append(detail_view(page, "v", lambda: ss["made"].append(i) or i))
    x = np.arange(10 + i, dtype=float)                  # the data grows every frame
    chart(page, charts.line_chart(x, {"loss": x ** 2}), "detail", detail=True)
    chart(page, charts.line_chart(x, {"loss": x ** 2}), "live")


def test_detail_views_are_redrawn_every_few_frames_and_resent_unchanged_between(monkeypatch):
    """While training, a detail view is made afresh on every DETAIL_EVERY-th frame and on any
    full run or paused frame; in between the kept one is sent again, so its chart's bytes are
    identical and Streamlit's frontend leaves it as it is. A main (live) chart is new each frame."""
    from streamlit.testing.v1 import AppTest

    from core.ui import page as page_mod
    monkeypatch.setattr(page_mod, "DETAIL_EVERY", 2)
    at = AppTest.from_function(_detail_app, default_timeout=30)
    at.session_state["plan"] = [True, False, False, False, False, True, False]
    sent = []
    for _ in range(7):
        at.run()
        assert not at.exception
        detail, live = (c.proto.SerializeToString() for c in at.get("vega_lite_chart"))
        sent.append((detail, live))
    # frames 1…7: 1 and 6 redraw everything, 2 and 4 are every 2nd; 3, 5 and 7 resend the kept view
    assert at.session_state["made"] == [0, 1, 3, 5]
    assert at.session_state["sent"] == [0, 1, 1, 3, 3, 5, 5]
    for i in range(1, 7):
        assert (sent[i][0] == sent[i - 1][0]) == (i in (2, 4, 6))    # frames 3, 5, 7: the same bytes
        assert sent[i][1] != sent[i - 1][1]


def test_frame_share_is_a_budget_of_the_machine(monkeypatch):
    """W workers on C cores: each may spend min(0.5, 0.3·C/W) of its drawing thread on frames, so
    adding workers does not add frames; DASH_FRAME_SHARE overrides."""
    import core.gates as gates
    monkeypatch.delenv("DASH_FRAME_SHARE", raising=False)
    monkeypatch.setattr(gates, "usable_cores", lambda: 2)
    monkeypatch.delenv("DASH_WORKERS", raising=False)
    assert gates.frame_share() == 0.5                          # one worker on 2 cores: as before
    monkeypatch.setenv("DASH_WORKERS", "2")
    assert abs(gates.frame_share() - 0.3) < 1e-12              # two share the machine's 0.6 cores
    monkeypatch.setattr(gates, "usable_cores", lambda: 32)
    monkeypatch.setenv("DASH_WORKERS", "24")
    assert abs(gates.frame_share() - 0.4) < 1e-12
    monkeypatch.setenv("DASH_WORKERS", "not a number")
    assert gates.frame_share() == 0.5                          # a bad value falls back to one worker
    monkeypatch.setenv("DASH_FRAME_SHARE", "0.2")
    assert gates.frame_share() == 0.2


class _FakeContext:
    """What ``_one_burst`` touches of Streamlit's ScriptRunContext: its ``_enqueue`` callable."""

    def __init__(self):
        self.sent: list = []
        self._enqueue = self.sent.append


def test_one_burst_holds_a_frame_and_sends_it_whole_and_in_order(monkeypatch):
    from core.ui import loop
    monkeypatch.setattr(loop, "BURST", True)
    ctx = _FakeContext()
    with loop._one_burst(ctx):
        for i in range(5):
            ctx._enqueue(i)
        assert ctx.sent == []                          # held while the frame is drawn
    assert ctx.sent == [0, 1, 2, 3, 4]
    ctx._enqueue(5)                                    # afterwards: straight through again
    assert ctx.sent == [0, 1, 2, 3, 4, 5]


def test_one_burst_sends_what_was_drawn_when_the_drawing_fails(monkeypatch):
    from core.ui import loop
    monkeypatch.setattr(loop, "BURST", True)
    ctx = _FakeContext()
    with pytest.raises(RuntimeError):
        with loop._one_burst(ctx):
            ctx._enqueue("a")
            raise RuntimeError("a rerun request or a drawing error")
    assert ctx.sent == ["a"] and ctx._enqueue == ctx.sent.append


def test_one_burst_passes_through_when_off_or_without_a_context(monkeypatch):
    from core.ui import loop
    ctx = _FakeContext()
    monkeypatch.setattr(loop, "BURST", False)
    with loop._one_burst(ctx):
        ctx._enqueue(1)
        assert ctx.sent == [1]
    monkeypatch.setattr(loop, "BURST", True)
    with loop._one_burst(None):
        pass


class _FakeRunner:
    """Streamlit's ScriptRunner as ``_one_burst`` sees it: ``_enqueue`` is its bound method, and
    its yield point raises once a rerun has been requested."""

    def __init__(self):
        self.sent: list = []
        self.rerun_requested = False

    def _maybe_handle_execution_control_request(self):
        if self.rerun_requested:
            self.rerun_requested = False
            raise RuntimeError("rerun")

    def _enqueue_forward_msg(self, msg):
        self._maybe_handle_execution_control_request()
        self.sent.append(msg)


def test_one_burst_keeps_streamlits_yield_point(monkeypatch):
    """A rerun request (Pause, a page change, st.rerun) still stops the drawing at the next
    message, not after the whole frame; what was drawn before it is sent."""
    from core.ui import loop
    monkeypatch.setattr(loop, "BURST", True)
    runner = _FakeRunner()
    ctx = _FakeContext()
    ctx._enqueue = runner._enqueue_forward_msg
    drawn = []
    with pytest.raises(RuntimeError, match="rerun"):
        with loop._one_burst(ctx):
            ctx._enqueue("a")
            assert runner.sent == []                   # held
            runner.rerun_requested = True
            ctx._enqueue("b")                          # the yield point raises here
            drawn.append("after")                      # never reached
    assert drawn == [] and runner.sent == ["a"]
