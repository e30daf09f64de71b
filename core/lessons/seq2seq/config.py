"""Every setting of the sequence-to-sequence lesson, declared once (bounds, options, help, live or not).

Structural (a change rebuilds both models): the task, the longest digit string, the attention
type, the sizes and the seed. Live: the learning rate, batch size, teacher forcing and the
decoding used to measure held-out accuracy, and what the attention view shows (never retraining).

Speed bound: one training step (both models on one batch) at the widgets' largest settings —
reversal of 24 digits, hidden 96, embedding 32, batch 128, additive attention, teacher forcing 0
(every step sequential) — took a median of 161 ms on one core of the 2-core machine while it ran
at load ≈ 10 (benchmarks/bench_seq2seq.py, ``largest_step_ms``). The first bounds (30 digits,
hidden 128, embedding 64, batch 256) took 1.1–1.8 s there and were lowered to these.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.settings import live_field, lr_field, seed_field, structural_field

TASKS = {"dates": "Dates → ISO (3rd of may 1999 → 1999-05-03)", "reverse": "Reverse a digit string"}
ATTENTION_LABELS = {"additive": "additive (Bahdanau)", "dot": "dot product (Luong)"}
DECODINGS = {"greedy": "greedy", "beam": "beam search"}
BATCHES = (16, 32, 64, 128)
HIDDEN = (16, 32, 48, 64, 96)
EMBED = (8, 16, 32)
MAX_REVERSE = 24
N_EXAMPLES = 10                 # held-out examples offered in the attention view, short to long

_SPEED = "Bounded so that one step (both models) stays well under 0.25 s on one core at the largest sizes."


@dataclass
class Seq2SeqConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    task: str = structural_field("dates", label="Task", options=tuple(TASKS), labels=TASKS,
                                 help="Both models learn the same task from the same batches.")
    max_len: int = structural_field(
        16, label="Longest digit string", bounds=(4, MAX_REVERSE),
        help="Reversal only: inputs have 1 … this many digits. Long strings are where the "
             "no-attention model runs out of room in its one vector. " + _SPEED)
    attention: str = structural_field(
        "additive", label="Attention", options=tuple(ATTENTION_LABELS), labels=ATTENTION_LABELS, widget="radio",
        help="Additive: e = v·tanh(W_s s_{t−1} + W_h h_j), its context fed into the decoder GRU. "
             "Dot: e = s_t·h_j from the new state, no extra weights.")
    hidden: int = structural_field(48, label="Hidden size", options=HIDDEN, widget="select_slider",
                                   help="GRU state size of encoder and decoder. " + _SPEED)
    embed: int = structural_field(16, label="Embedding size", options=EMBED, widget="select_slider",
                                  help="Each character becomes a vector of this size.")
    seed: int = seed_field()
    lr: float = lr_field(3e-3, "Learning rate (Adam)")
    batch_size: int = live_field(64, label="Batch size", options=BATCHES, widget="select_slider")
    teacher_forcing: float = live_field(
        1.0, label="Teacher forcing ratio", bounds=(0.0, 1.0), step=0.1,
        help="Share of batches in which the decoder is fed the true previous character; in the others "
             "it is fed its own previous guess (as when it is used for real).")
    decoding: str = live_field("greedy", label="Decoding (held-out accuracy)", options=tuple(DECODINGS),
                               labels=DECODINGS, widget="radio",
                               help="How outputs are produced for evaluation. Training never decodes.")
    beam_width: int = live_field(3, label="Beam width", bounds=(1, 8),
                                 help="Beam search keeps this many partial outputs; width 1 is greedy. To stay "
                                      "live it is measured on 600 ÷ width held-out inputs (greedy: 600).")
    example: int = live_field(N_EXAMPLES - 1, label="Held-out example", bounds=(0, N_EXAMPLES - 1),
                              help="Which held-out input the attention map shows (0 = shortest).")
    probe: str = live_field("", label="…or type an input", widget="text",
                            help="Lower-case letters, digits, space and , . / - (dates); digits (reverse). "
                                 "Empty: the held-out example.")
    explain_step: int = live_field(1, label="Output step t for the equation", bounds=(1, MAX_REVERSE + 1))
    eval_every: int = structural_field(200, label="Measure every … steps", bounds=(1, 10_000), widget="none")
