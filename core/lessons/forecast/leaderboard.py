"""The session's leaderboard: one line per run (and epoch count), never a run that blew up."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.lessons.forecast.config import MODELS

COLUMNS = ("run", "series", "model", "framing", "look_back", "hidden", "layers", "stateful",
           "scaled", "optimizer", "lr", "batch", "epochs", "train_rmse", "test_rmse", "unit", "seconds")
EMPTY_HINT = ("Each finished run lands here with its model, settings, train/test RMSE and training time: "
              "try the MLP, then RNN, LSTM and GRU on the same data.")


def row(trainer: Any, label: str) -> dict[str, Any]:
    """One leaderboard line for a ForecastTrainer's current state (RMSE in the series' units)."""
    cfg = trainer.config
    return {
        "run": label, "series": trainer.series.name, "model": MODELS[cfg.model],
        "framing": "features" if cfg.framing == "features" else "time steps", "look_back": cfg.look_back,
        "hidden": cfg.hidden, "layers": cfg.layers, "stateful": bool(cfg.stateful), "scaled": bool(cfg.scale),
        "optimizer": cfg.optimizer, "lr": cfg.lr, "batch": trainer.effective_batch, "epochs": trainer.step_count,
        "train_rmse": round(trainer.history.last("train_rmse"), 3),
        "test_rmse": round(trainer.history.last("test_rmse"), 3), "unit": trainer.series.unit,
        "seconds": round(trainer.train_seconds, 2),
    }


@dataclass
class Leaderboard:
    """Rows in the order they were added; a run (its id and epoch count) is added once."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    seen: set[tuple[str, int]] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, trainer: Any) -> str | None:
        """Add the run as it is now. None when added, else a sentence saying why not."""
        if getattr(trainer, "blowup", None):
            return ("This run blew up, so it does not go on the leaderboard: lower the learning rate "
                    "and press ↺ Reset.")
        if trainer.step_count == 0:
            return "This run has not trained yet: press ▶ Train or Step first."
        if (trainer.run_id, trainer.step_count) in self.seen:
            return "This run is already on the leaderboard at this epoch."
        line = row(trainer, f"#{len(self.rows) + 1}")
        if not all(math.isfinite(line[k]) for k in ("train_rmse", "test_rmse")):
            return "This run has no finite error to show (it blew up), so it does not go on the leaderboard."
        self.seen.add((trainer.run_id, trainer.step_count))
        self.rows.append(line)
        return None

    def finished_text(self, trainer: Any) -> str:
        """What a run that reached its epochs says (shown under the chart while it stays there)."""
        listed = (trainer.run_id, trainer.step_count) in self.seen
        return (f"Finished {trainer.config.epochs} epochs"
                + (": the run is on the leaderboard below." if listed else ".") + " Raise *Epochs* to train on.")

    def clear(self) -> None:
        self.rows, self.seen = [], set()

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(COLUMNS))

    def csv(self) -> str:
        """The leaderboard as CSV text (fixed columns, so an empty board still has its header)."""
        return self.table().to_csv(index=False)

    def bars(self) -> tuple[list[str], list[float], str]:
        """Bar labels, test RMSEs and their unit, for the chart."""
        return ([f"{r['run']} {r['model']}" for r in self.rows], [r["test_rmse"] for r in self.rows],
                self.rows[-1]["unit"] if self.rows else "")
