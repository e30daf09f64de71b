"""Every setting of the LSTM lesson, declared once (label, bounds, options, help, widget).

``LstmConfig`` is what the trainer needs (live fields apply at the next chunk, structural ones
rebuild the model). ``LstmView`` is what the page inspects (which detail view, which sequence,
which step and unit): it never touches the trainer, so changing it never restarts a run.

Speed at the largest settings (T = 100, hidden 16, batch 256), one torch thread on the 2-core
test machine: one training step takes ≈ 8 ms (LSTM), ≈ 18 ms (GRU, whose CPU kernel is not
fused), ≈ 5 ms (RNN); every 50th step adds the held-out evaluation (≈ 10–25 ms, its gradient
metric on the fused module). With four other jobs on the two cores (load ≈ 7) the GRU's median
was 40 ms. A chunk of training is ~20 ms, so Pause answers within a frame at any setting: no
bound needed lowering (benchmarks/bench_lstm.py prints ``<cell>_largest_step_ms``).
"""
from __future__ import annotations

from dataclasses import dataclass

from core.settings import lr_field, live_field, seed_field, structural_field

TASKS: dict[str, str] = {
    "first_bit": "Remember the first bit",
    "parity": "Parity (1 if the number of 1s is even)",
    "adding": "Adding problem",
    "echo": "Echo after a delay",
}
CELLS = ("lstm", "gru", "rnn")
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}
BIT_TASKS = ("first_bit", "parity", "echo")
MAX_HIDDEN = 16
MAX_LEN = 100
MAX_DELAY = 20
PROBE_BACK = 50          # "the gradient 50 steps back" of the lecture's claim
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
CLIPS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)
N_EVAL = 256             # sequences of the fixed held-out set

_SPEED = ("One training step at the largest settings (T = 100, H = 16, batch 256) takes ≈ 18 ms "
          "(GRU, the slowest), so Pause answers at once at any setting.")


@dataclass
class LstmConfig:
    """Every tunable of the trainer. Field names are those of the shipped checkpoints."""

    task: str = structural_field(
        "first_bit", label="Task", options=tuple(TASKS), labels=TASKS, widget="select",
        help="A toy task that needs memory. Changing it restarts the run.")
    seq_len: int = structural_field(
        60, label="Sequence length T", bounds=(2, MAX_LEN),
        help="How far back the network must remember. " + _SPEED)
    delay: int = structural_field(
        5, label="Echo delay d", bounds=(1, MAX_DELAY),
        help="Echo task only: at every step t ≥ d, output the bit seen d steps earlier.")
    cell: str = structural_field(
        "lstm", label="Cell type", options=CELLS, labels=CELL_LABELS, widget="radio",
        help="LSTM (gates + cell state), GRU (two gates, no separate cell) or a plain tanh RNN.")
    hidden: int = structural_field(
        8, label="Hidden size H", bounds=(1, MAX_HIDDEN),
        help="Units in the recurrent layer (the heatmaps show one row per unit). " + _SPEED)
    forget_bias: float = structural_field(
        3.0, label="Forget-gate bias at init", bounds=(0.0, 6.0), step=0.5,
        help="LSTM: the bias b_f of the forget gate (σ(3) ≈ 0.95: remember by default). GRU: the update "
             "gate's bias b_z, which plays the same 'keep' role. No effect on the vanilla RNN.")
    recurrent_sv: float = structural_field(
        0.0, label="λ₁ (largest singular value)", bounds=(0.0, 3.0), step=0.1,
        help="Every gate block of the recurrent weight W_hh is rescaled at init so its largest singular "
             "value is λ₁ (0 = PyTorch's default initialisation).")
    seed: int = seed_field(0)
    lr: float = lr_field(1e-2, label="Adam learning rate")
    batch_size: int = live_field(
        64, label="Batch size", options=BATCH_SIZES, bounds=(1, BATCH_SIZES[-1]), widget="select_slider",
        help="Random sequences per step. " + _SPEED)
    clip_norm: float = live_field(
        1.0, label="Clip the gradient norm at", options=CLIPS, bounds=(0.0, CLIPS[-1]), labels={0.0: "off"}, fmt="{:g}",
        widget="select_slider",
        help="If ‖∇‖ exceeds the threshold the whole gradient is rescaled to that norm: "
             "g ← g · min(1, threshold/‖g‖).")


def sv_widgets(cfg: LstmConfig) -> dict[str, object]:
    """The hand-made λ₁ widgets (a toggle and a slider feeding ``recurrent_sv``) for a config;
    the slider rests at 1.0 while the toggle is off."""
    return {"set_sv": cfg.recurrent_sv > 0, "recurrent_sv": cfg.recurrent_sv or 1.0}


def check_config(cfg: LstmConfig) -> None:
    """Checks across fields (each field's bounds are checked by core.settings.check)."""
    if cfg.task == "echo" and not int(cfg.delay) < int(cfg.seq_len):
        raise ValueError("the echo delay must be shorter than the sequence")


# Short labels: a menu's value in the URL is its label (?lstm_view=Backward+view).
VIEWS: dict[str, str] = {
    "forward": "Forward view",
    "backward": "Backward view",
    "equations": "Equations",
    "compare": "RNN vs LSTM vs GRU",
}
SAMPLE, TYPED = "evaluation sample", "type a sequence"


@dataclass
class LstmView:
    """What the page inspects; none of it reaches the trainer (a change never restarts a run)."""

    view: str = live_field(
        "forward", label="Detail view", options=tuple(VIEWS), labels=VIEWS, widget="radio",
        help="Forward: gates and states over time. Backward: gradients through time. Equations: one step "
             "written out with its numbers, and the cell. RNN vs LSTM vs GRU: the gradient k steps back. "
             "Only the chosen view is computed and drawn, when training is paused (or on demand): the "
             "live charts above stay fast.")
    set_sv: bool = live_field(
        False, label="Set λ₁ of W_hh at init",
        help="Rescale every gate block of the recurrent weight so its largest singular value is λ₁. "
             "Off: PyTorch's default initialisation.")
    source: str = live_field(SAMPLE, label="Sequence", options=(SAMPLE, TYPED), widget="radio",
                             help="A held-out sequence, or one you type (bit tasks only).")
    bits: str = live_field("1000010101", label="Bits (0/1)",
                           help="The lecture's parity example: 1000010101 has four 1s, so YES (1).")
    sample: int = live_field(0, label="Evaluation sample #", bounds=(0, N_EVAL - 1), step=1, widget="number")
    t: int = live_field(MAX_LEN - 1, label="Time step t (scrub through time)", bounds=(0, MAX_LEN - 1))
    unit: int = live_field(0, label="Unit j", options=tuple(range(MAX_HIDDEN)), widget="select")
