"""Parking (issue 36): a session keeps only the visible lesson's run live; the others are parked
as bounded checkpoints and rebuilt on return. A parked and restored run must continue bit for bit
like one that was never parked (same next losses, same weights), with the same step count and
history, for every lesson; and a page shows the same step and history after a round trip."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import parking, registry
from core.live import LiveRunner
from core.ui import parking as ui_parking
from core.ui.parking import PARKED, RUNNER

from apptest_util import ROOT

LESSONS = registry.default_trainers()
STEPS = {"dcgan": 2, "forecast": 2, "seq2seq": 2}     # slow steps: fewer of them


def _histories(t) -> dict[str, dict[str, np.ndarray]]:
    return {name: h.arrays() for name, h in t.histories().items()}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].keys() == b[name].keys(), name
        for k in a[name]:
            np.testing.assert_array_equal(a[name][k], b[name][k], err_msg=f"{name}.{k}")


def _weights(t) -> dict[str, torch.Tensor]:
    return {f"{m}.{k}": v.detach().clone() for m, mod in t.modules().items()
            for k, v in mod.state_dict().items() if isinstance(v, torch.Tensor)}


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_parked_run_continues_bit_for_bit(lesson):
    cls, cfg = LESSONS[lesson]
    n = STEPS.get(lesson, 5)
    runner = LiveRunner(cls(cfg, torch.device("cpu")))
    runner.step(n)
    before = _histories(runner.trainer)
    step = runner.trainer.step_count
    runner.stop_at = step + 50
    parked = parking.park(runner)
    assert parked is not None and parked.step == step
    assert parked.nbytes < 8 * 2**20          # bounded: a run's tensors and fixed-size histories

    torch.manual_seed(7)                      # lessons drawing from the global generator
    runner.step(n)                            # the run as it would have gone on unparked
    expected_h, expected_w = _histories(runner.trainer), _weights(runner.trainer)

    back = parking.unpark(parked)
    assert back.held and back.stop_at == step + 50
    assert back.trainer.step_count == step
    _same(_histories(back.trainer), before)
    torch.manual_seed(7)
    back.step(n)
    assert back.trainer.step_count == runner.trainer.step_count
    _same(_histories(back.trainer), expected_h)
    got_w = _weights(back.trainer)
    assert got_w.keys() == expected_w.keys()
    for k in expected_w:
        assert torch.equal(got_w[k], expected_w[k]), k
    runner.close()
    back.close()


def test_blown_up_run_is_not_parked():
    cls, cfg = LESSONS["gan1d"]
    runner = LiveRunner(cls(cfg, torch.device("cpu")))
    runner.error = "blew up"
    assert not parking.parkable(runner) and parking.park(runner) is None


def test_forecast_mid_epoch_stays_live():
    cls, cfg = LESSONS["forecast"]
    t = cls(cfg, torch.device("cpu"))
    t.slice_seconds = 1e-9            # out of time in the first batch: the epoch stays open
    t.step(1)
    assert t._epoch is not None or t._first is not None
    assert not parking.parkable(LiveRunner(t))


def _page(at: AppTest, lesson: str) -> AppTest:
    at.switch_page(registry.lesson(lesson).page)
    for k, v in registry.lesson(lesson).live_query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _shown_steps(at: AppTest) -> int:
    value = next(m.value for m in at.metric if m.label.endswith("s trained"))
    return int(value.replace(",", ""))


def _visit(parking_on: bool, monkeypatch) -> tuple[AppTest, list]:
    """One session: gan1d trained 3 steps, lstm opened, gan1d again; (the session, what was seen
    at the return: [step shown, history, live runner before leaving])."""
    monkeypatch.setattr(ui_parking, "ENABLED", parking_on)
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
    at.run()
    _page(at, "gan1d")
    for _ in range(3):
        at.button(key="gan1d_step_0").click().run()
    assert _shown_steps(at) == 3
    live = at.session_state["gan1d" + RUNNER]
    hist = live.trainer.history.arrays()
    _page(at, "lstm")
    if parking_on:
        assert "gan1d" + RUNNER not in at.session_state
        assert at.session_state["gan1d" + PARKED].step == 3
    _page(at, "gan1d")
    return at, [_shown_steps(at), hist, live]


def test_page_round_trip_shows_same_step_and_history(monkeypatch):
    """gan1d trained 3 steps, then the student opens lstm (gan1d is parked: no live runner, a
    checkpoint) and comes back: the same step count and history, and the next steps' losses and
    weights equal those of the same visits with parking off."""
    ref, (ref_shown, _, ref_live) = _visit(False, monkeypatch)
    assert ref.session_state["gan1d" + RUNNER] is ref_live and "gan1d" + PARKED not in ref.session_state
    at, (shown, hist, live) = _visit(True, monkeypatch)
    assert shown == ref_shown == 3
    assert "gan1d" + PARKED not in at.session_state and "lstm" + PARKED in at.session_state
    back = at.session_state["gan1d" + RUNNER]
    assert back is not live
    _same({"h": back.trainer.history.arrays()}, {"h": hist})
    for app in (ref, at):
        for _ in range(2):
            app.button(key="gan1d_step_0").click().run()
    assert _shown_steps(at) == _shown_steps(ref) == 5
    _same({"h": back.trainer.history.arrays()}, {"h": ref_live.trainer.history.arrays()})
    got, want = _weights(back.trainer), _weights(ref_live.trainer)
    for k, v in want.items():
        assert torch.equal(got[k], v), k


def test_trim_is_harmless():
    assert parking.trim() in (True, False)
