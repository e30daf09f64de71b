"""Every tunable of the forecasting lesson, declared once (label, bounds, options, help, widget).

Live fields (optimiser, learning rate, batch size, epochs, horizon) apply at the next chunk of
training; structural ones (data, framing, model, seed) rebuild the model. The page draws its
widgets from these declarations (``core.ui.Form``) and ``core.settings.check`` enforces them.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.settings import live_field, lr_field, seed_field, structural_field

# source -> label shown on the page (a menu's value in the URL is its label)
SOURCES: dict[str, str] = {
    "airline": "Airline passengers 1949–1960 (real)",
    "sine": "Sine wave",
    "seasonal": "Seasonal with trend",
    "square": "Square wave",
    "mackey_glass": "Mackey–Glass (chaotic)",
    "logistic": "Logistic map (chaotic)",
    "upload": "Your CSV",
}
SYNTHETIC = ("sine", "seasonal", "square", "mackey_glass", "logistic")
MODELS: dict[str, str] = {"mlp": "MLP on the window", "rnn": "Vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
FRAMINGS: dict[str, str] = {"features": "window as features [N, 1, L]",
                            "timesteps": "window as time steps [N, L, 1]"}
OPTIMIZERS = ("adam", "rmsprop", "sgd")
EPOCHS = (10, 25, 50, 100, 150, 200, 300, 500, 1000, 2000)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.5)
MAX_HORIZON = 120
LENGTH_BOUNDS = (50, 2000)        # generated series; uploads may hold up to data.MAX_SERIES values


@dataclass
class ForecastConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    # -- data (structural)
    source: str = structural_field("airline", label="Series", options=tuple(SOURCES), labels=SOURCES)
    noise: float = structural_field(0.0, label="Noise (generated series)", bounds=(0.0, 0.5), step=0.05,
                                    help="Gaussian noise, σ as a fraction of the signal's σ.")
    length: int = structural_field(300, label="Length (generated series)", bounds=LENGTH_BOUNDS, step=10)
    # source "upload": the cleaned series, its time axis (decimal years or empty) and its column
    # name (the unit on the charts); filled from the upload panel, never a widget of their own
    custom_values: tuple = structural_field(())
    custom_x: tuple = structural_field(())
    custom_name: str = structural_field("", widget="none")
    # -- framing (structural)
    look_back: int = structural_field(12, label="Look-back window L", bounds=(1, 24),
                                      help="How many past values form the input X of each pair "
                                           "(12 = one year of months).")
    framing: str = structural_field("features", label="Recurrent input [samples, time steps, features]",
                                    options=tuple(FRAMINGS), labels=FRAMINGS, widget="radio")
    scale: bool = structural_field(True, label="Scale to [0, 1]",
                                   help="Min-max scaling fitted on the training part only.")
    train_frac: float = structural_field(0.67, label="Training part", bounds=(0.5, 0.9), step=0.01, fmt="%.2f",
                                         help="The lecture's 67 % / 33 %: the rest is the test part, never "
                                              "used for fitting or scaling.")
    # -- model (structural)
    model: str = structural_field("lstm", label="Model", options=tuple(MODELS), labels=MODELS)
    hidden: int = structural_field(8, label="Hidden units", bounds=(1, 64))
    layers: int = structural_field(1, label="Stacked layers", bounds=(1, 3))
    dropout: float = structural_field(0.0, label="Dropout", options=DROPOUTS, widget="select_slider")
    stateful: bool = structural_field(
        False, label="Stateful LSTM",
        help="Memory between batches: the state after each pair starts the next one (batches of 1 in time "
             "order); it is reset at every epoch. Recurrent models only.")
    seed: int = seed_field(0)
    # -- training (live)
    optimizer: str = live_field("adam", label="Optimiser", options=OPTIMIZERS)
    lr: float = lr_field(0.01, help="Applies at once, mid-run. Push it to 10 and the run blows up: the "
                                    "predictions fly off the data's scale and training stops itself with a message.")
    batch_size: int = live_field(8, label="Batch size", options=BATCHES, widget="select_slider",
                                 help="Stateful runs use 1 (pairs in time order).")
    # the slider's stops; any count within the bounds is a valid config (tests, benchmarks)
    epochs: int = live_field(150, label="Epochs (the run stops there)", options=EPOCHS, bounds=(1, EPOCHS[-1]),
                             widget="select_slider", help="The run stops by itself here; raise it to train on.")
    # -- view (live: a change redraws, never restarts)
    horizon: int = live_field(24, label="Forecast horizon (steps beyond the data)", bounds=(0, MAX_HORIZON),
                              help="The forecast feeds each prediction back in as the newest input.")


def cross_check(config: ForecastConfig) -> None:
    """Checks across fields (each field's own bounds and options are checked by the declarations)."""
    if config.stateful and config.model == "mlp":
        raise ValueError("a stateful model needs a recurrent layer (RNN, LSTM or GRU), not the MLP")
