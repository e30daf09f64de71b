"""What the page shows, computed in the package: the per-seed and measured tables, the shipped
runs merged for any panels, the shown seed, the settings' caps and the charts' specs."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core import settings
from core.checkpoints import CheckpointError, load_checkpoint, pretrained_path
from core.lessons.gan2d import (DEFAULT_METHODS, METHODS, SHORT_LABELS, Gan2DConfig, Gan2DTrainer, load_pretrained,
                                load_table, merge_checkpoints, pretrained_stem, seed_table, show_index, table_rows)
from core.lessons.gan2d import charts as gc
from core.lessons.gan2d import text
from core.lessons.gan2d.config import HEAVIEST, largest_config
from core.lessons.gan2d.metrics import fmt_kl, panel_summary

torch.set_num_threads(1)
CPU = torch.device("cpu")


def read(stem: str) -> dict:
    return load_checkpoint(pretrained_path(stem), "gan2d")


# ---------------------------------------------------------------- tables

def test_seed_table_rows():
    per_seed = {"vanilla": {"covered": np.array([1.0, 0.0, 1.0, 8.0]), "hq": np.array([0.1, 0.0, 0.2, 0.9]),
                            "kl": np.array([2.0, np.nan, 2.0, 0.0])},
                "unrolled": {"covered": np.full(4, 8.0), "hq": np.full(4, 0.8), "kl": np.full(4, np.nan)}}
    rows = seed_table(per_seed, [3, 4, 5, 6], 8, METHODS)
    assert [r["method"] for r in rows] == ["Vanilla GAN (non-saturating)", "Unrolled GAN"]
    v = rows[0]
    assert v["modes covered (mean ± sd)"] == "2.5 ± 3.2" and v["seeds with ≥ 7 modes"] == "1 / 4"
    assert v["high quality"] == "30 %" and v["KL"] == "1.33"          # NaN seeds left out of the mean
    assert (v["seed 3"], v["seed 6"]) == (1, 8)
    assert rows[1]["KL"] == "–"                                      # never defined: no raw "nan"


def test_measured_table_shows_coverage_with_quality():
    table = load_table()
    rows = {r["method"]: r for r in table_rows(table, METHODS)}
    assert list(rows["Vanilla GAN (non-saturating)"])[:3] == ["method", "modes covered (of 8)", "high quality"]
    assert rows["Vanilla GAN (non-saturating)"]["modes covered (of 8)"] == "0.9 ± 0.3"
    assert rows["Unrolled GAN"]["modes covered (of 8)"] == "8.0 ± 0.0" and rows["Unrolled GAN"]["high quality"] == "79 %"
    assert rows["WGAN-GP"]["high quality"] == "85 %"
    assert rows["PacGAN"]["modes covered (of 8)"] == "7.9 ± 0.3" and rows["PacGAN"]["high quality"] == "8 %"
    assert rows["PacGAN"]["per seed"] == "8 8 7 8 8 8 8 8"
    assert "gan2d_modes_table.py" in text.table_caption(table)


def test_missing_or_broken_table_is_none(tmp_path):
    assert load_table(tmp_path / "nope.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert load_table(tmp_path / "bad.json") is None
    (tmp_path / "empty.json").write_text(json.dumps({"rows": []}))
    assert load_table(tmp_path / "empty.json") is None


def test_words():
    assert fmt_kl(float("nan")) == "–" and fmt_kl(0.1234) == "0.12"
    assert panel_summary(7, 8, 0.825) == "**7 / 8** modes covered · **82 %** high quality"


# ---------------------------------------------------------------- the shipped runs

def test_default_panels_load_pretrained_with_their_figures():
    t = load_pretrained(read, DEFAULT_METHODS, CPU, CheckpointError)
    assert t.methods == ("vanilla", "wgan-gp") and t.step_count == 3000
    snap = t.snapshot()
    van, wgan = snap["panels"]["vanilla"], snap["panels"]["wgan-gp"]
    assert (van["covered"], round(van["hq"], 3)) == (2, 0.005)           # collapsed
    assert (wgan["covered"], round(wgan["hq"], 3)) == (8, 0.848)         # every mode, with quality
    assert len(wgan["frame_steps"]) >= 2 and len(wgan["trail_steps"]) == 31
    unrolled = load_pretrained(read, ("unrolled",), CPU, CheckpointError).snapshot()["panels"]["unrolled"]
    assert (unrolled["covered"], round(unrolled["hq"], 3)) == (8, 0.825)


def test_pretrained_skips_missing_files_and_says_when_none():
    def some(stem: str) -> dict:
        if stem == pretrained_stem("wgan-gp"):
            raise CheckpointError("gone")
        return read(stem)
    t = load_pretrained(some, ("wgan-gp", "cgan"), CPU, CheckpointError)
    assert t.methods == ("cgan",)

    def none(stem: str) -> dict:
        raise CheckpointError("gone")
    with pytest.raises(CheckpointError, match="no recorded run"):
        load_pretrained(none, ("vanilla",), CPU, CheckpointError)


def test_merge_keeps_the_asked_order_and_refuses_mixed_lengths():
    states = [read(pretrained_stem(m)) for m in ("pacgan", "vanilla")]
    merged = merge_checkpoints(states, ("vanilla", "minimax", "pacgan"))
    assert merged["config"]["methods"] == ["vanilla", "pacgan"] and list(merged["extra"]["runs"]) == ["vanilla", "pacgan"]
    assert states[0]["config"]["methods"] == ["pacgan"]                   # the inputs are not changed
    with pytest.raises(ValueError, match="different lengths"):
        merge_checkpoints([states[0], {**states[1], "step": 10}], ("vanilla", "pacgan"))
    with pytest.raises(ValueError):
        merge_checkpoints([], ("vanilla",))


# ---------------------------------------------------------------- settings

def test_shown_seed_index_is_clamped():
    assert show_index(5, 3, 4) == 2
    assert show_index(99, 3, 4) == 3 and show_index(0, 3, 4) == 0


def test_largest_config_is_what_the_widgets_allow():
    cfg = largest_config()
    settings.check(cfg)
    assert cfg.methods == HEAVIEST and cfg.n_seeds == 8 and cfg.batch_size == 128
    assert (cfg.g_width, cfg.d_width, cfg.g_depth, cfg.d_depth) == (64, 64, 2, 2)
    assert (cfg.k, cfg.critic_steps, cfg.unroll_steps, cfg.eval_every) == (5, 5, 5, 25)


def test_every_tunable_is_declared_with_a_label_and_short_panel_labels():
    decls = settings.declarations(Gan2DConfig)
    assert all(d.label for d in decls.values())
    m = decls["methods"]
    assert m.widget == "multiselect" and m.max_items == 4 and m.default == DEFAULT_METHODS
    assert all(len(m.show(o)) <= 13 for o in m.options)                  # four chips fit a column
    for name in ("n_seeds", "batch_size", "g_width", "k", "critic_steps", "unroll_steps"):
        assert "Pause" in (decls[name].help or ""), f"{name}: say why it is capped"


# ---------------------------------------------------------------- charts

@pytest.fixture(scope="module")
def snaps():
    t = Gan2DTrainer(Gan2DConfig(methods=("vanilla", "wgan-gp"), eval_every=25, g_width=16, d_width=16), CPU)
    t.step(60)
    first = t.snapshot()          # three measurements: lines, not the dots of a one- or two-point chart
    t.step(30)
    return first, t.snapshot()


def _frame_rows(table) -> list[dict]:
    return table.to_pylist()


def test_scatter_marks_missing_modes(snaps):
    _, snap = snaps
    counts = np.array([5, 0, 3, 0, 0, 1, 1, 1], dtype=float)
    spec = gc.samples_chart(gx=snap["grid_x"], gy=snap["grid_y"], field=snap["panels"]["vanilla"]["d_grid"],
                            critic=False, fake=snap["panels"]["vanilla"]["fake"], real=snap["real"],
                            modes=snap["modes"], counts=counts)
    modes = _frame_rows(spec["datasets"]["modes"])
    assert [r["set"] for r in modes].count("mode missing") == 3 and modes[1]["set"] == "mode missing"
    marks = json.dumps(spec["layer"])
    assert "mode missing" in marks and '"shape": "circle"' in marks and '"shape": "cross"' in marks
    assert "mode missing" in gc.legend_html()


def test_live_specs_stay_the_same_between_frames(snaps):
    """Only the datasets change from frame to frame, so the browser swaps data, not charts."""
    a, b = snaps
    def specs(s):
        return [gc.panel_samples(s, "vanilla", 300), gc.panel_samples(s, "wgan-gp", 300),
                gc.coverage_lines(s["panels"], 8, SHORT_LABELS), gc.quality_lines(s["panels"], SHORT_LABELS),
                gc.kl_lines(s["panels"], SHORT_LABELS), gc.coverage_chart(s["panels"]["vanilla"]["counts"]),
                gc.trail_chart(s["panels"]["vanilla"]["trail_steps"], s["panels"]["vanilla"]["trail"])]
    strip = lambda sp: json.dumps({k: v for k, v in sp.items() if k != "datasets"}, sort_keys=True)  # noqa: E731
    for x, y in zip(specs(a), specs(b)):
        assert strip(x) == strip(y)


def test_quality_and_kl_are_separate_titled_charts_with_a_legend(snaps):
    _, snap = snaps
    q = gc.quality_lines(snap["panels"], SHORT_LABELS)
    k = gc.kl_lines(snap["panels"], SHORT_LABELS)
    c = gc.coverage_lines(snap["panels"], 8, SHORT_LABELS)
    for spec in (q, k, c, gc.coverage_chart(np.ones(8)), gc.trail_chart(np.arange(3), np.ones((3, 8)))):
        assert spec.get("title"), "every small chart has a title"
    for spec in (q, k, c):
        series = {r["series"] for r in _frame_rows(spec["datasets"]["lines"])}
        assert series == {"vanilla", "WGAN-GP"}                          # one line per panel, named
        assert spec["layer"][0]["encoding"]["color"].get("legend", {}) is not None   # a legend is drawn
    assert "High-quality" in q["title"] and "KL" in k["title"]


def test_panel_heights_fit_the_first_screen_in_presentation_mode():
    for n in range(1, 5):
        assert gc.panel_height(n, True) <= 300 < gc.panel_height(n, False) + 100


def test_coverage_bars_mark_missing_modes():
    spec = gc.coverage_chart(np.array([0, 4, 0, 1, 1, 1, 1, 1], dtype=float))
    rows = _frame_rows(spec["datasets"]["bars"])
    assert [r["status"] for r in rows][:3] == ["missing", "covered", "missing"]
    marker = spec["layer"][1]
    assert marker["transform"] == [{"filter": "datum.status == 'missing'"}] and marker["mark"]["type"] == "point"


def test_replay_frame_and_panel_title(snaps):
    _, snap = snaps
    n = min(len(p["frame_steps"]) for p in snap["panels"].values())
    spec, caption = gc.replay_frame(snap, "vanilla", 1, n)
    assert caption.startswith("step 0:") and "modes covered" in caption and "datasets" in spec
    assert text.panel_title(snap, "wgan-gp").startswith("**WGAN-GP** · **")
    assert text.panel_title(snap, "vanilla").startswith("**Vanilla GAN** · **")
