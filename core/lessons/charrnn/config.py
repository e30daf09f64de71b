"""Every setting of the character-level lesson, declared once (bounds, options, help, live or not).

Structural: the text, the cell, its size and the seed (a change rebuilds the model). Live: the
optimiser and everything about training batches (applied at the next chunk), and every sampling
and inspection choice (applied at the next frame, never retraining anything).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.settings import live_field, lr_field, seed_field, structural_field

CORPORA: dict[str, str] = {
    "names": "First names (US Census 1990)",
    "prose": "Prose: Milton, Areopagitica (1644)",
    "play": "Play: Shakespeare, The Tempest",
    "custom": "Your text (paste or upload)",
}
CELLS: dict[str, str] = {"lstm": "LSTM", "gru": "GRU", "rnn": "Vanilla RNN"}
OPTIMIZERS = ("adam", "rmsprop", "sgd")
HIDDEN = (32, 64, 96, 128, 192, 256)
BATCHES = (8, 16, 32, 64)
SEQ_LENS = (8, 16, 32, 64, 128)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.5)
CLIPS: dict[float, str] = {0.0: "off", 0.5: "0.5", 1.0: "1", 5.0: "5"}
TEMPERATURES = (0.2, 0.5, 0.8, 1.0, 1.5, 2.0)
SAMPLING: dict[str, str] = {"temperature": "temperature", "top-k": "top-k", "top-p": "top-p (nucleus)",
                            "greedy": "greedy (argmax)"}
ADD_K = (0.01, 0.03, 0.1, 0.5, 1.0)
MAX_SAMPLE = 200
# One training step's work, ∝ batch · length · layers · hidden · (hidden + 96): the page accepts
# up to 2.5× that of 128 units at batch 32 × 64 (the defaults before they became 64 units at
# batch 16; measured ≤ 0.2 s a step on one core of this busy 2-core machine, docs/charrnn.md), so
# Pause still answers within a frame. Above it the page says so.
MAX_WORK = 5 * 32 * 64 * 1 * 128 * (128 + 96) // 2


@dataclass
class CharRnnConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    # -- text (structural)
    corpus: str = structural_field("prose", label="Text", options=tuple(CORPORA), labels=CORPORA)
    custom_text: str = structural_field("", widget="none")       # filled from the paste/upload box
    # -- model (structural)
    cell: str = structural_field("lstm", label="Cell", options=tuple(CELLS), labels=CELLS, widget="radio")
    layers: int = structural_field(1, label="Layers", bounds=(1, 3))
    hidden: int = structural_field(64, label="Hidden units", options=HIDDEN, widget="select_slider",
                                   help="64 by default: enough for the names and the prose, small enough that with "
                                        "dropout 0.5 the names are not memorised for thousands of steps.")
    seed: int = seed_field(0)
    # -- training (live)
    optimizer: str = live_field("adam", label="Optimiser", options=OPTIMIZERS,
                                help="Chollet's lecture code uses RMSprop at 0.01; Adam at 0.002 is the char-rnn default; SGD has momentum 0.9.")
    lr: float = lr_field(2e-3)
    batch_size: int = live_field(16, label="Batch (parallel streams)", options=BATCHES, widget="select_slider",
                                 help="The text is cut into this many streams read side by side.")
    seq_len: int = live_field(64, label="BPTT length (characters)", options=SEQ_LENS, widget="select_slider",
                              help="Truncated backpropagation through time: gradients flow this many characters "
                                   "back; the state itself carries on from chunk to chunk.")
    dropout: float = live_field(0.5, label="Dropout", options=DROPOUTS, widget="select_slider",
                                help="On the recurrent outputs (between stacked layers and before the output layer): "
                                     "each training batch zeroes this share of them at random. It slows memorising, it "
                                     "does not prevent it: on the names at the defaults held-out bits/char is lowest "
                                     "near step 3,000 and turns up after it; at 0 it turns up within a few hundred "
                                     "steps of training on (guided steps 2 and 3).")
    clip: float = live_field(5.0, label="Gradient clipping (norm)", options=tuple(CLIPS), labels=CLIPS,
                             widget="select_slider", help="Karpathy's char-rnn clips at 5.")
    # -- sampling and inspection (live: a change redraws, never retrains)
    prompt: str = live_field("", label="Prompt", widget="text",
                             help="The samples continue this text (empty: a new line). Characters the text never "
                                  "uses are left out. At most 60 characters.")
    temperatures: tuple = live_field((0.2, 0.5, 1.0, 1.5), label="Temperatures side by side", options=TEMPERATURES,
                                     max_items=4, help="p = softmax(logits / T): T < 1 sharpens, T > 1 flattens.")
    sampling: str = live_field("temperature", label="Sampling", options=tuple(SAMPLING), labels=SAMPLING,
                               widget="radio")
    top_k: int = live_field(5, label="k (top-k)", bounds=(1, 20), help="Keep the k likeliest characters.")
    top_p: float = live_field(0.9, label="p (top-p)", bounds=(0.05, 1.0), step=0.05,
                              help="Keep the smallest set of likeliest characters whose probabilities add up to p.")
    sample_len: int = live_field(120, label="Sample length", bounds=(20, MAX_SAMPLE), step=10)
    sample_seed: int = live_field(0, label="Sampling seed", bounds=(0, 10_000), widget="number",
                                  help="The same random draws every frame, so samples change only as the model learns.")
    inspect_t: float = live_field(1.0, label="Inspect the sample at T", options=TEMPERATURES, widget="select_slider")
    position: int = live_field(0, label="Position in that sample", bounds=(0, MAX_SAMPLE - 1))
    unit: int = live_field(0, label="Hidden unit to colour by", bounds=(0, 255), widget="number",
                           help="Top layer; an LSTM shows its cell state c (through tanh), the others h.")
    add_k: float = live_field(0.03, label="n-gram add-k", options=ADD_K, widget="select_slider",
                              help="P(c | context) = (count(context, c) + k) / (count(context) + k·V). 0.03 is "
                                   "tuned: of k = 0.001 … 1 it gives the lowest held-out bits/char on the shipped "
                                   "texts (within 0.01 bits/char of each text's own best k).")
    eval_every: int = structural_field(25, label="Held-out every … steps", bounds=(1, 10_000), widget="none")


def check_config(cfg: CharRnnConfig) -> None:
    """Checks across fields; ValueError with a readable message."""
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ValueError("the learning rate must be a positive number")
    if work(cfg) > MAX_WORK:
        raise ValueError(f"{cfg.layers} layers of {cfg.hidden} units with batches of {cfg.batch_size} × "
                         f"{cfg.seq_len} characters is too slow to train live on one core; use fewer layers, "
                         "fewer hidden units, a smaller batch or a shorter BPTT length")


def work(cfg: CharRnnConfig) -> int:
    """A training step's multiply-adds up to a constant: batch · length · layers · H · (H + 96)
    (96: about a text's number of distinct characters, the one-hot input)."""
    return cfg.batch_size * cfg.seq_len * cfg.layers * cfg.hidden * (cfg.hidden + 96)
