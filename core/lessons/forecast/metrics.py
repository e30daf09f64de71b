"""Errors, and the test for a run whose predictions have left the data's scale (no Streamlit)."""
from __future__ import annotations

import numpy as np

# A healthy run's train RMSE, in the model's units, stays below about the training targets' own
# size (measured over every model × Adam/RMSprop × lr 0.01–1 on the airline data: at most 1.6×,
# and 3.5× for one RNN run that had already gone wrong). Adam at lr 3–10 puts the first epoch at
# 5–34× and then leaves the network saturated, predicting one flat line: that is a blow-up even
# though no number ever becomes NaN, so the run stops there.
OFF_SCALE_FACTOR = 5.0


def rmse(pred: np.ndarray, actual: np.ndarray) -> float:
    """RMSE = √( (1/N) Σ (ŷ_i − y_i)² )."""
    d = np.asarray(pred, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(d * d))) if d.size else float("nan")


def target_size(z_train: np.ndarray) -> float:
    """How big the training targets are in the model's units: max(max |z|, max z − min z).

    Scaled to [0, 1] this is 1; unscaled it is the values' own size (kelvins, say, not their
    range), so a model that starts at 0 on an offset series is not taken for a blow-up.
    """
    z = np.asarray(z_train, dtype=np.float64)
    if z.size == 0:
        return 1.0
    return max(float(np.max(np.abs(z))), float(np.max(z) - np.min(z)), 1e-12)


def off_scale(train_rmse_model_units: np.ndarray, size: float, factor: float = OFF_SCALE_FACTOR) -> str | None:
    """A sentence if any train RMSE (model units, one per epoch) exceeds factor × the targets' size."""
    r = np.asarray(train_rmse_model_units, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return None
    worst = float(r.max())
    if worst <= factor * size:
        return None
    return (f"its predictions left the data's scale (train RMSE {worst / size:.3g}× the size of the "
            f"training values, more than {factor:g}×)")
