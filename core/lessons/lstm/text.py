"""The LSTM lesson's words (kept out of the page so it reads as layout)."""
from __future__ import annotations

import math
from typing import Any

from core.lessons.lstm.config import CELL_LABELS, PROBE_BACK

INTRO = ("A small recurrent network learns a task that needs **memory**. Every number inside the cell is on "
         "screen: the gates, the cell state, and — for the loss at the last step — the gradient flowing back "
         "through time. Switch to a **vanilla RNN** to watch that gradient vanish.")

ACC_HELP = ("On 256 fixed held-out sequences, measured every 50 steps (one sequence is 0.4 %). Guessing wanders "
            "about ±5 % around 50 %. Adding problem: within 0.1 of the sum counts.")
LOSS_HELP = "On the same 256 held-out sequences, measured every 50 steps. Guessing: BCE ln 2 ≈ 0.69."
SV_HELP = ("Largest singular value of the recurrent weight (the largest over the gate blocks). For a tanh RNN "
           "(γ = 1) gradients surely vanish when λ₁ < 1/γ; exploding needs λ₁ > 1/γ.")
BACK_HELP = (f"Mean over 32 held-out sequences of ‖∂L/∂h‖ {PROBE_BACK} steps before the last, for the loss at "
             "the last step; measured every 50 steps. It spans many decades from run to run: read its order "
             "of magnitude (default task, fresh weights, seeds 0–4: vanilla RNN 0–10⁻¹⁰, LSTM 10⁻³–10⁻², GRU ≈ 10⁻²).")
DETAIL_PAUSED = ("The detail views are computed when training is paused, so the live charts above stay fast. "
                 "Press ⏸ Pause, or *Show now* for a one-off look at the run as it is.")
BACKWARD_TITLE = "Backward view — BPTT of the loss at the last step (|values| on a log scale)"
LSTM_BACK_NOTE = ("A trained LSTM keeps the bit in c: watch ‖δc‖, which the forget gate carries back almost "
                  "unchanged, while ‖δh‖ drops within a few steps (see *RNN vs LSTM vs GRU*).")
COMPARE_HEAD = ("How much of the last step's gradient survives k steps back: ‖δh(T−k)‖ / ‖δh(T)‖ for each "
                "sequence (with one output this equals ‖∂ŷ/∂h(T−k)‖ / ‖∂ŷ/∂h(T)‖, so it does not depend on how "
                "small the loss already is), averaged over 32 held-out sequences.")
INIT_TITLE = "‖δh(T−k)‖ / ‖δh(T)‖ — fresh weights, your settings"
TRAINED_TITLE = "…and after training (shipped runs, default task)"


def ratio_caption(ratio: float, gru_ratio: float) -> str:
    verdict = "at least 100×: the carousel keeps the gradient alive" if ratio >= 100 else "less than 100×"
    return f"Measured on these settings: {verdict}. GRU ÷ RNN: {gru_ratio:.3g}×."


def ratio_help(raw: float) -> str:
    return (f"‖∂L/∂h‖ {PROBE_BACK} steps back relative to its value at the last step (per sequence, mean over "
            f"32 held-out sequences), computed now by the explicit backward pass. Raw ‖∂L/∂h‖ ratio: {raw:.3g}×.")


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(v: float) -> str:
    """A number far from 1 as people write it: 4 × 10⁻⁶, 10⁶ (one significant digit)."""
    m, e = f"{v:.0e}".split("e")
    power = "10" + str(int(e)).translate(_SUP)
    return power if m == "1" else f"{m} × {power}"


def trained_caption(steps: dict[str, int], facts: dict[str, Any]) -> str:
    """What the after-training chart shows, with its numbers (see compare.trained_facts)."""
    runs = ", ".join(f"{CELL_LABELS[c]} {n:,} steps" for c, n in steps.items()) or "none"
    f = facts
    if not all(math.isfinite(f[k]) for k in ("lstm_dh_entry", "lstm_dc_kept", "lstm_dc_in", "rnn_after_entry")):
        return f"Shipped runs: {runs}."
    return (f"Shipped runs: {runs}. Why the trained LSTM's ‖δh‖ falls to {sci(f['lstm_dh_entry'])} within "
            f"{f['entry']} steps: it stores the first bit in its cell state with |c| large, where tanh is "
            f"saturated, so only a tiny gradient enters the cell at the last step (‖δc‖ = "
            f"{sci(f['lstm_dc_in'])} × ‖δh‖ there): a confident network hardly depends on small changes of its "
            f"memory. What does enter is carried back by f ≈ 1 almost unchanged: the ‖δc‖ line keeps "
            f"{f['lstm_dc_kept']:.0%} over {f['k']} steps, and past step {f['entry']} the LSTM's ‖δh‖ keeps "
            f"{f['lstm_after_entry']:.0%} while the RNN's shrinks by another {sci(1 / f['rnn_after_entry'])}. "
            "The lecture's claim is about the left chart: the untrained network, where learning has to start.")


EXPLANATION = r"""
**The cells.** A vanilla RNN computes $h_t=\tanh(W_{hx}x_t+W_{hh}h_{t-1}+b)$. The LSTM adds a *cell state*
$c_t$ and three gates, each a sigmoid of $x_t$ and $h_{t-1}$: the **input gate** $i_t$ (how much of the new
candidate $g_t=\tanh(\dots)$ to write), the **forget gate** $f_t$ (how much of $c_{t-1}$ to keep) and the
**output gate** $o_t$ (how much of the memory to show):
$c_t=f_t\odot c_{t-1}+i_t\odot g_t,\; h_t=o_t\odot\tanh c_t$. The GRU merges forget and input into one
*update gate* $z_t$: $h_t=(1-z_t)\odot n_t+z_t\odot h_{t-1}$.

**Backpropagation through time.** Unroll the network over the sequence and backpropagate as through one
deep feed-forward net whose layers share weights. For the RNN,
$\partial L/\partial h_{t-1}=W_{hh}^\top\,\mathrm{diag}(1-h_t^2)\,\partial L/\partial h_t$: one matrix product
per step back. If the largest singular value satisfies $\lambda_1<1/\gamma$ (γ bounds the non-linearity's
slope: 1 for tanh, ¼ for the sigmoid), the product shrinks geometrically — the gradient **vanishes**;
exploding needs $\lambda_1>1/\gamma$. Try it: switch to the vanilla RNN, set λ₁ to 0.5, 1 and 3 and watch
the side-by-side chart.

**The constant error carousel.** In the LSTM the cell state's gradient has an additive path,
$\delta c_{t-1}\mathrel{+}=\delta c_t\odot f_t$: no matrix, no squashing. With $f\approx1$ it is carried back
almost unchanged. A **large positive forget-gate bias** at initialisation makes $f=\sigma(b_f)\approx1$ from
the start (σ(3) ≈ 0.95, 0.95⁵⁰ ≈ 0.08); with $b_f=0$, $f\approx\tfrac12$ and $0.5^{50}\approx10^{-15}$ —
set the bias to 0 and the LSTM no longer learns to remember the first bit.

**Gradient clipping** handles the opposite problem: when $\|g\|$ exceeds a threshold the whole gradient is
rescaled, $g\leftarrow g\cdot\min(1,\theta/\|g\|)$. The chart next to the loss shows both norms.

**Where the numbers come from.** Training runs through `torch.nn.LSTM`/`GRU`/`RNN`. Every value in the
heatmaps, the equations and the diagram comes from an explicit, step-by-step implementation of the cells and
their backward pass (`core/lessons/lstm/cells.py`), run on a float64 copy of the weights and tested against
PyTorch's autograd to 10⁻⁶ (`tests/lessons/lstm/test_cells.py`); the equations' numbers are checked against
the cell in `tests/lessons/lstm/test_equations.py`.
"""


def _num(v: float, fmt: str, missing: str = "–") -> str:
    """A number for a metric; NaN/inf as ``missing`` (never a raw "nan")."""
    return format(v, fmt) if math.isfinite(v) else missing


def live_metrics(snap: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The live view's (label, value, help) metrics. snap: ``LstmTrainer.snapshot()``."""
    lam = max(snap["sv"].values())
    return [("Held-out accuracy", _num(snap["eval_acc"], ".1%"), ACC_HELP),
            ("Held-out loss", _num(snap["eval_loss"], ".4f"), LOSS_HELP),
            ("λ₁(W_hh)  vs  1/γ = 1", _num(lam, ".2f"), SV_HELP),
            (f"‖∂L/∂h‖ {PROBE_BACK} steps back", _num(snap["grad_back"], ".2e", f"needs T > {PROBE_BACK}"), BACK_HELP)]


def ratio_metric(ratio: float, raw: float, gru_ratio: float) -> tuple[str, str, str, str] | None:
    """(label, value, help, caption) of the LSTM ÷ RNN ratio at init (relative, raw, and GRU ÷ RNN);
    None when T is too short to look that far back."""
    if not math.isfinite(ratio):
        return None
    return (f"LSTM ÷ vanilla RNN, {PROBE_BACK} steps back (fresh weights)", f"{ratio:.3g}×", ratio_help(raw),
            ratio_caption(ratio, gru_ratio))


NAN_WEIGHTS = "The run blew up and its weights are no longer numbers: press ↺ Reset to look inside a fresh one."
TOO_SHORT = f"Make the sequence longer than {PROBE_BACK} steps to compare {PROBE_BACK} steps back."
NO_SHIPPED = "The shipped runs are missing (python -m core.pretrain lstm)."
