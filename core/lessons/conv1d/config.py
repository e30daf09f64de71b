"""Every setting of the lesson, declared once. ``Conv1dConfig``: what the trainer needs (live
fields apply at the next chunk, structural ones rebuild the models). ``Conv1dView``: what the
page inspects (receptive field drawing, a filter's activation, the output-length calculator);
it never touches the trainer. No Streamlit.

Speed: at the largest settings (T = 96, 32 channels, H = 48, batch 64, kernel 9 × 3 layers, a
7-layer dilated stack of kernel 3, all four models) one step costs about 17 ms of one core
(benchmarks/bench_conv1d.py, ``max_settings_step_cpu_ms_median``, 2026-12-02; 45 ms before the
trainer's fast paths), and the held-out measurement every 50 steps about as much. Batch 128 and 8
dilated layers were dropped when a step cost 45 ms: they doubled that.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.lessons.conv1d.data import TASKS
from core.lessons.conv1d.model import MODELS
from core.settings import live_field, lr_field, seed_field, structural_field

LENGTHS = (32, 64, 96)
CHANNELS = (8, 16, 32)
HIDDEN = (16, 32, 48)
BATCH_SIZES = (16, 32, 64)
OPTIMIZERS = ("adam", "sgd")
N_TRAIN = 4096          # sequences in the training pool
N_EVAL = 256            # sequences of the fixed held-out set (accuracy every eval_every steps)
_SPEED = " At most 64 and 96: one step at the largest settings costs ~20 ms, so Pause answers at once."


@dataclass
class Conv1dConfig:
    """Every tunable of the trainer."""

    task: str = structural_field("longrange", label="Task", options=tuple(TASKS), labels=TASKS, widget="select",
                                 help="Long range: a spike up and a spike down, at least T/2 steps apart; "
                                      "the class is which comes first. Control charts: six patterns.")
    seq_len: int = structural_field(64, label="Sequence length T", options=LENGTHS, widget="select_slider",
                                    help="Steps per sequence." + _SPEED)
    models: tuple[str, ...] = structural_field(
        tuple(MODELS), label="Models side by side", options=tuple(MODELS), labels=MODELS,
        help="All train on the same batches; each model's own time per step is measured.")
    channels: int = structural_field(16, label="Channels (filters)", options=CHANNELS, widget="select_slider",
                                     help="Filters per convolution layer, in every convolutional model.")
    hidden: int = structural_field(32, label="LSTM units H", options=HIDDEN, widget="select_slider",
                                   help="Hidden size of the LSTM and of the Conv1D → LSTM model.")
    conv_kernel: int = structural_field(5, label="Conv1D kernel k", bounds=(2, 9),
                                        help="Kernel of the Conv1D + pooling model and of the Conv1D front end.")
    conv_layers: int = structural_field(2, label="Conv1D + pooling: layers", bounds=(1, 4),
                                        help="Conv (no padding) → ReLU → max-pool 2, repeated. Each layer "
                                             "widens the receptive field; too many and nothing is left of T.")
    wave_kernel: int = structural_field(2, label="Dilated stack: kernel", options=(2, 3), widget="radio")
    wave_layers: int = structural_field(6, label="Dilated stack: layers", bounds=(1, 7),
                                        help="Dilations 1, 2, 4, … 2^(layers−1): the receptive field doubles "
                                             "with every layer.")
    residual: bool = structural_field(True, label="Residual connections",
                                      help="h ← h + ReLU(conv(h)) in the dilated stack, as in WaveNet.")
    seed: int = seed_field()
    lr: float = lr_field(3e-3, label="Learning rate (live)")
    optimizer: str = live_field("adam", label="Optimiser", options=OPTIMIZERS,
                                help="Adam, or SGD with momentum 0.9 (try SGD at a large rate: it blows up).")
    batch_size: int = live_field(32, label="Batch size (live)", options=BATCH_SIZES, widget="select_slider",
                                 help="Sequences per step, the same batch for every model." + _SPEED)
    eval_every: int = structural_field(50, label="Held-out accuracy every … steps", bounds=(1, 10_000), widget="none")


DRAW_MODELS = {"wavenet": "Dilated causal stack", "conv": "Conv1D + pooling", "convlstm": "Conv1D front end"}


@dataclass
class Conv1dView:
    """What the page shows about the run (nothing here restarts it)."""

    field_model: str = live_field("wavenet", label="Receptive field of", options=tuple(DRAW_MODELS),
                                  labels=DRAW_MODELS, widget="radio")
    out_step: int = live_field(63, label="Output at step t", bounds=(0, 95),
                               help="Which output's receptive field is drawn (clipped to T − 1).")
    act_model: str = live_field("wavenet", label="Filters of", options=tuple(DRAW_MODELS), labels=DRAW_MODELS,
                                widget="radio")
    act_layer: int = live_field(1, label="Layer", bounds=(1, 7), help="Clipped to the model's layers.")
    act_filter: int = live_field(1, label="Filter", bounds=(1, 32), help="Clipped to the channels.")
    act_series: int = live_field(1, label="Held-out series", bounds=(1, 64))
    calc_len: int = live_field(64, label="Input length", bounds=(1, 512))
    calc_kernel: int = live_field(3, label="Kernel k", bounds=(1, 15))
    calc_stride: int = live_field(1, label="Stride s", bounds=(1, 8))
    calc_padding: int = live_field(0, label="Padding p (each side)", bounds=(0, 16))
    calc_dilation: int = live_field(1, label="Dilation d", bounds=(1, 32))
    calc_layers: int = live_field(3, label="Layers", bounds=(1, 8))
    calc_pool: int = live_field(2, label="Max-pool after each (1 = none)", bounds=(1, 4))
