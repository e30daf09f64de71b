"""Vanilla RNN vs LSTM vs GRU: how much of the last step's gradient survives k steps back.

Two comparisons, as on the page:
* at initialisation with the student's settings (the lecture's claim: the LSTM's constant error
  carousel keeps the gradient alive where the RNN's vanishes; this is where learning must start);
* after training (the three shipped runs). There the trained LSTM's ‖δh‖ drops ~10⁵× within
  five steps back: it stores the first bit in its cell state with |c| large, where tanh is
  saturated, so only a tiny gradient enters the cell at the last step (‖δc_T‖ ≈ 10⁻⁵‖δh_T‖).
  What enters is carried back by f ≈ 0.98 almost unchanged, so δc (and δh past those first
  steps) stays flat while the RNN's keeps falling. Both lines are drawn; ``trained_facts`` gives
  the numbers the page quotes and tests/lessons/lstm/test_compare.py checks.

Results are cached (read-only numpy arrays): the at-init profiles per structural config, the
trained ones per shipped file's modification time (a replaced file is picked up).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import torch

from core.checkpoints import load_checkpoint, pretrained_path
from core.lessons.lstm.config import CELL_LABELS, CELLS, PROBE_BACK, LstmConfig
from core.lessons.lstm.text import ratio_metric as _ratio_metric
from core.lessons.lstm.trainer import LstmTrainer

ENTRY_BACK = 5      # "within five steps back": where the trained LSTM's δh stops falling
DC_LABEL = "cell state ‖δc‖ (LSTM)"


def compare_cells(config: LstmConfig, trainers: dict[str, LstmTrainer] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The gradient-norm profile of RNN, LSTM and GRU on the same task and evaluation sequences.

    Without ``trainers``: each cell freshly initialised from ``config`` (same seed, forget bias
    and λ₁ setting). With ``trainers`` ({cell: trainer}): those (e.g. the shipped trained runs).
    Returns {cell: {'dh', 'dh_rel', and for the LSTM 'dc', 'dc_rel': [T]}} indexed by steps back.
    """
    out = {}
    for cell in CELLS:
        if trainers is not None:
            if cell not in trainers:
                continue
            tr = trainers[cell]
        else:
            tr = LstmTrainer(dataclasses.replace(config, cell=cell), torch.device("cpu"))
        out[cell] = tr.profile()
    return out


def ratio_back(profiles: dict[str, dict[str, np.ndarray]], k: int = PROBE_BACK,
               num: str = "lstm", den: str = "rnn", key: str = "dh_rel") -> float:
    """The gradient k steps back of ``num`` divided by that of ``den`` (NaN if too short / missing).

    key 'dh_rel' (default): ‖δh_{T−1−k}‖/‖δh_{T−1}‖; 'dh': the raw ‖δh_{T−1−k}‖.
    """
    try:
        a, b = float(profiles[num][key][k]), float(profiles[den][key][k])
    except (KeyError, IndexError):
        return float("nan")
    return a / b if b > 0 else float("inf")


def ratio_metric(profiles: dict[str, dict[str, np.ndarray]]) -> tuple[str, str, str, str] | None:
    """The page's LSTM ÷ RNN metric at init: (label, value, help, caption), None if T ≤ 50."""
    return _ratio_metric(ratio_back(profiles), ratio_back(profiles, key="dh"), ratio_back(profiles, num="gru"))


def _structural(config: LstmConfig) -> LstmConfig:
    """The config with the live fields at their defaults (they do not change the init)."""
    d = LstmConfig()
    return dataclasses.replace(config, lr=d.lr, batch_size=d.batch_size, clip_norm=d.clip_norm)


@functools.lru_cache(maxsize=32)
def _at_init(items: tuple) -> dict[str, dict[str, np.ndarray]]:
    return compare_cells(LstmConfig(**dict(items)))


def at_init(config: LstmConfig) -> dict[str, dict[str, np.ndarray]]:
    """``compare_cells`` at initialisation for ``config`` (cached; do not modify the arrays)."""
    return _at_init(tuple(dataclasses.asdict(_structural(config)).items()))


def shipped_files() -> tuple[tuple[str, float | None], ...]:
    """(path, mtime or None) of the shipped runs: the cache key of ``trained``."""
    out = []
    for c in CELLS:
        p = pretrained_path(f"lstm_{c}")
        try:
            out.append((str(p), p.stat().st_mtime))
        except OSError:
            out.append((str(p), None))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _trained(files: tuple) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, int]]:
    trainers, steps = {}, {}
    for c, (path, _) in zip(CELLS, files):
        try:
            trainers[c] = LstmTrainer.from_checkpoint(load_checkpoint(path, "lstm"), torch.device("cpu"))
            steps[c] = trainers[c].step_count
        except Exception:  # noqa: BLE001 - any damaged file (not only CheckpointError): leave it out
            pass
    return (compare_cells(LstmConfig(), trainers) if trainers else {}), steps


def trained() -> tuple[dict[str, dict[str, np.ndarray]], dict[str, int]]:
    """(profiles, steps trained) of the shipped runs on the default task; ({}, {}) if missing."""
    return _trained(shipped_files())


def init_series(profiles: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Chart lines at init: ‖δh(T−k)‖/‖δh(T)‖ per cell."""
    return {CELL_LABELS[c]: p["dh_rel"] for c, p in profiles.items()}


def trained_series(profiles: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Chart lines after training: the LSTM's cell-state gradient ‖δc‖ next to every ‖δh‖, each
    relative to its own value at the last step (the LSTM's memory is c, not h)."""
    out = {f"{CELL_LABELS[c]} ‖δh‖": p["dh_rel"] for c, p in profiles.items()}
    if "lstm" in profiles:
        out[DC_LABEL] = profiles["lstm"]["dc_rel"]
    return out


def trained_facts(profiles: dict[str, dict[str, np.ndarray]], k: int = PROBE_BACK,
                  entry: int = ENTRY_BACK) -> dict[str, Any]:
    """The numbers behind the after-training sentence (NaN where a run is missing or T ≤ k).

    lstm_dh_entry: ‖δh‖ ``entry`` steps back / at the last step (the drop, ≈ 4e-6);
    lstm_dc_kept: ‖δc‖ k steps back / at the last step (the carousel, ≈ 0.6);
    lstm_dc_in: ‖δc_T‖/‖δh_T‖ at the last step (what enters the cell, ≈ 3e-5);
    {cell}_after_entry: ‖δh‖ k back / ‖δh‖ ``entry`` back (LSTM ≈ 0.7, RNN ≈ 1e-6).
    """
    def at(cell: str, key: str, i: int) -> float:
        try:
            return float(profiles[cell][key][i])
        except (KeyError, IndexError):
            return float("nan")

    out = {"k": k, "entry": entry, "lstm_dh_entry": at("lstm", "dh_rel", entry),
           "lstm_dc_kept": at("lstm", "dc_rel", k),
           "lstm_dc_in": at("lstm", "dc", 0) / at("lstm", "dh", 0) if at("lstm", "dh", 0) > 0 else float("nan")}
    for c in CELLS:
        e = at(c, "dh_rel", entry)
        out[f"{c}_after_entry"] = at(c, "dh_rel", k) / e if e > 0 else float("nan")
    return out
