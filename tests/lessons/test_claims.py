"""Every claim a guided step makes, run headless from its declared settings on fixed seeds,
counted in steps (``core.experiments``): the sentence the app shows is built from the same value
this test checks, so a claim cannot drift from what the code does.

Each chain of steps (a reset or pretrained start and the steps that continue it) runs once per
seed and is measured at the end of every step; a claim holds when at least its ``share`` of its
seeds hold.
"""
from __future__ import annotations

import functools
import math

import pytest

from core import experiments, registry

GUIDES = {l.key: g for l in registry.built() if (g := experiments.guide_of(l.key)) is not None}
CLAIMS = [(key, i, j) for key, g in GUIDES.items() for i, e in enumerate(g.experiments)
          for j, _ in enumerate(e.claims)]


@functools.lru_cache(maxsize=None)
def measured(key: str, root: int, seed: int) -> dict[int, list[float]]:
    return experiments.measure_chain(GUIDES[key], root, seed)


@pytest.mark.parametrize("key,i,j", CLAIMS, ids=[f"{k}-step{i + 1}-claim{j + 1}" for k, i, j in CLAIMS])
def test_claim(key: str, i: int, j: int) -> None:
    guide = GUIDES[key]
    claim = guide.experiments[i].claims[j]
    root = guide.root(i)
    values = [measured(key, root, s)[i][j] for s in claim.seeds]
    held = [claim.holds(v) for v in values]
    need = math.ceil(claim.share * len(values) - 1e-9)
    assert sum(held) >= need, (
        f"{key} step {i + 1} ({guide.experiments[i].title}): {claim.sentence()!r} — measured "
        f"{[round(v, 4) for v in values]} on seeds {claim.seeds}, {sum(held)} hold, {need} needed")
