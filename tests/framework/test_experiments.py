"""The guided experiments' declarations: every lesson has 4–8 steps whose settings are declared
fields within their bounds and whose questions are well formed (that the watched chart is drawn:
tests/framework/test_guide.py); and the shared machinery (claims, chains) behaves."""
from __future__ import annotations

import pytest

from core import experiments, registry
from core.experiments import Claim, Experiment, Guide, Question

LESSONS = [l.key for l in registry.built()]


@pytest.mark.parametrize("key", LESSONS)
def test_every_lesson_has_a_sound_guide(key: str) -> None:
    guide = experiments.guide_of(key)
    assert guide is not None, f"{key} declares no guided experiments (core/lessons/{key}/experiments.py)"
    assert experiments.problems(guide) == []


def test_claim_ops_and_sentences() -> None:
    c = Claim("below {value:.2f} (±{tol})", measure=lambda r: 0.0, op="<", value=1.5, tol=0.1)
    assert c.sentence() == "below 1.50 (±0.1)"
    assert c.holds(1.4) and not c.holds(1.5) and not c.holds(float("nan"))
    near = Claim("about {value}", measure=lambda r: 0.0, op="≈", value=2.0, tol=0.5)
    assert near.holds(2.4) and not near.holds(2.6)


def test_problems_are_named() -> None:
    from core.lessons.gan1d import Gan1DTrainer
    q = Question("?", ("a", "b"), 1)
    ok = Experiment("fine", {"lr_d": 0.01}, why="because", predict=q)
    bad = (Experiment("structural", {"g_width": 8}, start="continue", why="x", predict=q),
           Experiment("unknown", {"no_such_setting": 1}, why="x", predict=q),
           Experiment("out of range", {"k": 10_000}, why="x", predict=Question("?", ("a",), 3)),
           Experiment("no why", start="continue"))
    found = experiments.problems(Guide("gan1d", (ok, *bad), Gan1DTrainer))
    text = " | ".join(found)
    for expect in ("unknown settings", "changes structural", "question needs", "no why"):
        assert expect in text, text
    assert not any("step 1 " in p for p in found)


def test_chains_and_measuring_do_not_disturb_the_run() -> None:
    """A chain continues one run; measuring a claim draws no random numbers from it."""
    import torch
    from core.lessons.gan1d import Gan1DTrainer

    draws = []

    def noisy(run) -> float:
        draws.append(torch.rand(1).item())        # random numbers inside a measure…
        return float(run.trainer.step_count)

    steps = (Experiment("a", train=5, claims=(Claim("{value}", noisy, ">=", 5, seeds=(0, 1)),), why="x"),
             Experiment("b", {"lr_d": 0.01}, start="continue", train=3,
                        claims=(Claim("{value}", noisy, ">=", 8),), why="x"),
             Experiment("c", train=2, why="x"))
    guide = Guide("gan1d", steps, Gan1DTrainer)
    torch.manual_seed(0)
    a = experiments.measure_chain(guide, 0, 0)
    assert a == {0: [5.0], 1: [8.0]}
    # …are undone afterwards: the global generator is where it was
    torch.manual_seed(0)
    expected = torch.rand(1).item()
    torch.manual_seed(0)
    experiments.measure_chain(guide, 0, 0)
    assert torch.rand(1).item() == expected
    # a different seed gives a different run; the continued step's claim is not asked of seed 1
    b = experiments.measure_chain(guide, 0, 1)
    assert b[0] == [5.0] and math_isnan(b[1][0])


def math_isnan(x: float) -> bool:
    return x != x
