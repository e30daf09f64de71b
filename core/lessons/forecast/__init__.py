"""Lesson "forecast": forecasting a time series with an LSTM, against an MLP on a sliding window
(seed 000, activities 1 and 2 "Time series prediction with MLP / with LSTM"; seed 003's
airline-passengers example).

    config.py       ForecastConfig: every tunable declared once
    data.py         the series (airline, generated), windows, framings, scaling, the split
    upload.py       a student's CSV, with a message for every unusable case
    model.py        the MLP / RNN / LSTM / GRU forecaster and its optimiser
    metrics.py      RMSE and the off-scale (blow-up) test
    trainer.py      ForecastTrainer: one step = one epoch (sliced for the live page)
    leaderboard.py  the session's leaderboard (never a blown-up run)
    charts.py       Vega-Lite specs;  text.py  the page's explanations
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.lessons.forecast.config import (BATCHES, DROPOUTS, EPOCHS, FRAMINGS, MAX_HORIZON, MODELS, OPTIMIZERS,
                                          SOURCES, SYNTHETIC, ForecastConfig)
from core.lessons.forecast.data import (AIRLINE_CSV, MAX_SERIES, Scaler, Series, frame_windows, load_airline,
                                        load_series, make_windows, min_length, series_for, split_point, synthetic)
from core.lessons.forecast.leaderboard import Leaderboard
from core.lessons.forecast.metrics import rmse
from core.lessons.forecast.model import Forecaster
from core.lessons.forecast.trainer import LIVE_SLICE_SECONDS, ForecastTrainer
from core.lessons.forecast.upload import Upload, UploadError, bad_cells, read_upload, series_from_upload

LESSON = "forecast"
CHECKPOINT = "forecast_airline_lstm"
Trainer = ForecastTrainer     # what registry-driven code (tests, benchmarks) builds: Trainer(Trainer.Config())


def live_trainer(config: ForecastConfig, device: torch.device | None = None) -> ForecastTrainer:
    """A trainer for the live page: its steps are sliced so that Pause answers at once."""
    return ForecastTrainer(config, device, slice_seconds=LIVE_SLICE_SECONDS)


def live_from_checkpoint(state: dict[str, Any], device: torch.device | None = None) -> ForecastTrainer:
    """The shipped run (own copies of every tensor), sliced for the live page."""
    trainer = ForecastTrainer.from_checkpoint(state, device)
    trainer.slice_seconds = LIVE_SLICE_SECONDS
    return trainer


def pretrain(seed: int = 0) -> dict[str, Any]:
    """The shipped airline LSTM: the default config trained to its epochs on the CPU."""
    trainer = ForecastTrainer(ForecastConfig(seed=seed), torch.device("cpu"))
    trainer.train_epochs(trainer.config.epochs)
    h = trainer.history.arrays()
    return {
        "checkpoints": {CHECKPOINT: trainer.state_dict()},
        "metrics": {"epochs": trainer.step_count, "train_rmse": round(float(h["train_rmse"][-1]), 3),
                    "test_rmse": round(float(h["test_rmse"][-1]), 3),
                    "best_test_rmse": round(float(np.nanmin(h["test_rmse"])), 3),
                    "seconds": round(trainer.train_seconds, 2)},
    }


__all__ = ["AIRLINE_CSV", "BATCHES", "CHECKPOINT", "DROPOUTS", "EPOCHS", "FRAMINGS", "LESSON", "LIVE_SLICE_SECONDS",
           "MAX_HORIZON", "MAX_SERIES", "MODELS", "OPTIMIZERS", "SOURCES", "SYNTHETIC", "ForecastConfig", "Trainer",
           "ForecastTrainer", "Forecaster", "Leaderboard", "Scaler", "Series", "Upload", "UploadError", "bad_cells",
           "frame_windows", "live_from_checkpoint", "live_trainer", "load_airline", "load_series", "make_windows",
           "min_length", "pretrain", "read_upload", "rmse", "series_for", "series_from_upload", "split_point",
           "synthetic"]
