"""Issue 36: every pair of colours that carries meaning stays apart for a colour-blind student.

The pairs come from the code: ``core.charts.ROLE_PAIRS`` (real/generated, train/held-out, ...), every
pair among the first ``SERIES_SAFE`` palette colours (the series of one line chart), the colours
lessons give their own series, and the two ends of the diverging map that the D(x) field and the
signed heatmaps use (server-side stops in core/images.py). Each is simulated at full severity for
deuteranopia, protanopia and tritanopia with colorspacious (Machado et al. 2009), and the distance
is measured in CAM02-UCS.

Why ΔE ≥ 15 (``core.charts.MIN_DELTA_E``): in CAM02-UCS about 1 is a just-noticeable difference for
large patches side by side; the marks here are thin lines and small points, compared with a legend
swatch a few centimetres away, which needs an order of magnitude more. The palette's nearest kept
pair (vermillion/orange under deuteranopia) sits at ~15 and reads as two colours; the old red/green
(#d62728/#2ca02c) that issue 36 complained about measures ~5 under deuteranopia, and Okabe–Ito's own
blue/green ~12 under tritanopia (which is why green comes late in PALETTE).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

colorspacious = pytest.importorskip("colorspacious")   # requirements-test.txt
from colorspacious import cspace_convert, deltaE  # noqa: E402

from core import charts, images  # noqa: E402
from core.lessons.adversarial import charts as adversarial  # noqa: E402
from core.lessons.autoencoders import charts as autoencoders  # noqa: E402
from core.lessons.conv1d import charts as conv1d_charts  # noqa: E402
from core.lessons.conv1d import model as conv1d  # noqa: E402
from core.lessons.forecast import charts as forecast  # noqa: E402
from core.lessons.seq2seq import charts as seq2seq  # noqa: E402

VISIONS = ("normal", "deuteranomaly", "protanomaly", "tritanomaly")


def rgb(c) -> np.ndarray:
    if isinstance(c, str):
        h = c.lstrip("#")
        return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255.0
    return np.asarray(c, dtype=np.float64)


def seen(c, vision: str) -> np.ndarray:
    """The colour as a viewer with ``vision`` sees it (sRGB in [0, 1])."""
    if vision == "normal":
        return rgb(c)
    cvd = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
    return np.clip(cspace_convert(rgb(c), cvd, "sRGB1"), 0.0, 1.0)


def distance(a, b, vision: str) -> float:
    """CAM02-UCS ΔE between a and b as seen with ``vision``."""
    return float(deltaE(seen(a, vision), seen(b, vision), input_space="sRGB1", uniform_space="CAM02-UCS"))


def _pairs_of(colours: dict[str, str], label: str) -> list[tuple[str, str, str]]:
    """Every pair among the distinct colours of one chart's series."""
    items = sorted({c.upper(): n for n, c in colours.items()}.items())
    return [(f"{label}: {n1} / {n2}", c1, c2) for (c1, n1), (c2, n2) in itertools.combinations(items, 2)]


def meaningful_pairs() -> list[tuple[str, object, object]]:
    pairs: list[tuple[str, object, object]] = [(f"{a} / {b}", getattr(charts, a), getattr(charts, b))
                                               for a, b in charts.ROLE_PAIRS]
    pairs += [(f"series {i} / {j}", charts.PALETTE[i], charts.PALETTE[j])
              for i, j in itertools.combinations(range(charts.SERIES_SAFE), 2)]
    stops = images.DIVERGING_STOPS
    pairs.append(("diverging map ends (looks fake / looks real)", stops[0], stops[-1]))
    # a quarter of the way in from each end: a field that is not saturated still reads both ways
    q = len(stops) // 4
    pairs.append(("diverging map, quarter points", stops[q], stops[-1 - q]))
    pairs += _pairs_of(adversarial.COLORS, "adversarial")
    pairs += _pairs_of(seq2seq.COLORS, "seq2seq")
    pairs += _pairs_of(autoencoders.MODEL_COLORS, "autoencoders")
    pairs += _pairs_of(conv1d.COLORS, "conv1d")
    pairs += _pairs_of(forecast.SERIES_COLORS, "forecast")
    pairs += _pairs_of(dict(zip(("output", "reaches it", "does not"), conv1d_charts.RECEPTIVE_COLORS)), "conv1d field")
    return pairs


PAIRS = meaningful_pairs()


def test_server_map_matches_vega_scheme():
    """The field image (core/images.py) and its legend (Vega) must be the same map: the legend
    says 'blueorange' reversed, so the image's low end is Vega's last stop and its high end the first."""
    assert charts.DIVERGING_SCALE == {"scheme": "blueorange", "reverse": True}
    assert np.allclose(images.DIVERGING_STOPS[0] * 255, [0x99, 0x4A, 0x07])     # low: orange, looks fake
    assert np.allclose(images.DIVERGING_STOPS[-1] * 255, [0x13, 0x4B, 0x85])    # high: blue, looks real
    assert np.allclose(images.colormap(np.array([[0.0, 1.0]]), 0.0, 1.0)[0], images.DIVERGING_STOPS[[0, -1]])


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("name,a,b", PAIRS, ids=[p[0] for p in PAIRS])
def test_pair_distinguishable(name, a, b, vision):
    d = distance(a, b, vision)
    assert d >= charts.MIN_DELTA_E, f"{name}: ΔE {d:.1f} < {charts.MIN_DELTA_E} under {vision}"


def test_the_check_can_fail():
    """The old red/green pair fails it (the complaint of issue 36), and so would Okabe–Ito's
    blue/green as the first two series under tritanopia: the floor is not so low that anything passes."""
    assert distance("#d62728", "#2ca02c", "deuteranomaly") < charts.MIN_DELTA_E
    assert distance("#d62728", "#2ca02c", "normal") > charts.MIN_DELTA_E        # fine for normal vision only
    assert distance(charts.BLUE, charts.GREEN, "tritanomaly") < charts.MIN_DELTA_E


def test_no_hex_literals_for_roles_in_lessons():
    """Lessons take meaningful colours from core.charts: the colours this test checks. The old
    category-10 red and green (#d62728, #2ca02c) must not come back."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    for path in [root / "core" / "charts.py", *sorted((root / "core" / "lessons").glob("*/charts.py"))]:
        text = path.read_text().lower()
        for old in ("#d62728", "#2ca02c", '"redblue"'):
            assert old not in text, f"{path.relative_to(root)} still uses {old}"


def report() -> str:
    """The smallest ΔE per vision type (printed with ``python tests/framework/test_colours.py``)."""
    lines = []
    for v in VISIONS:
        d, name = min((distance(a, b, v), n) for n, a, b in PAIRS)
        lines.append(f"{v:14s} min ΔE {d:5.1f}  ({name})")
    return "\n".join(lines)


if __name__ == "__main__":
    print(len(PAIRS), "pairs")
    print(report())
