"""The character lesson's words (kept out of the page so it reads as layout)."""
from __future__ import annotations

import math

from core.lessons.charrnn.charts import show

INTRO = ("A recurrent network reads a text one character at a time and learns to predict the next one. "
         "Sampling from its prediction, character after character, it **writes**: names that never existed, "
         "or prose in the style of the text. The temperature decides how daring it is.")

PASTE_HELP = ("Plain text, 2,000 to 300,000 characters (a few pages to a short book). It is only ever read "
              "as characters, never run.")
UPLOAD_HELP = "A .txt file in UTF-8, at most 1 MB. Nothing in it is run."

EXPLANATION = r"""
**What it learns.** At every position the network outputs logits $z$ over the $V$ characters of the
text and is trained to put probability on the one that actually comes next:
$L = -\frac1{TB}\sum \log \operatorname{softmax}(z)_{\text{next}}$ (cross-entropy, in nats). Divided by
$\ln 2$ it is **bits per character**: how many yes/no questions the model still needs per character.
A uniform guess costs $\log_2 V \approx 6$ bits; the dashed lines are character $n$-gram models
(the last $n-1$ characters as context, add-$k$ smoothing) measured on the same held-out text the
same way. The network has to get below them.

**Truncated BPTT.** The text is cut into *B* streams read side by side; each step reads the next
*T* characters of every stream. The state carries on from chunk to chunk, but gradients flow back
only *T* characters.

**Temperature.** To write, the model's distribution $p_i = e^{z_i/T} / \sum_j e^{z_j/T}$ is sampled.
$T \to 0$ is greedy (always the likeliest character: safe, repetitive — "the the the"); $T = 1$ is
the model's own distribution; $T > 1$ flattens it towards uniform (creative, then garbled). *Top-k*
keeps only the $k$ likeliest characters, *top-p* the fewest whose probabilities add up to $p$.
All temperatures here use the same random numbers, so the samples differ only by $T$.

**What the cells learned.** Colour a text by one unit's activation (an LSTM's cell state $c$
through $\tanh$): Karpathy found units that switch on inside quotes, count the position in a line
or track brackets. The table correlates every unit with such features on held-out text; type a
unit it names into *Hidden unit to colour by*.
"""


HELDOUT_HELP = ("Measured every 25 steps on the same held-out text (the last tenth, never trained on: up to "
                "4,096 predictions), with dropout off: the measurement itself has no sampling noise, but from one "
                "measurement to the next it jitters by about ±0.02 bits as training goes on.")


def metrics(snap: dict) -> list[tuple[str, str, str]]:
    """(label, value, help) for the row of numbers under the chart."""
    from core.lessons.charrnn.charts import best_so_far
    h, ng = snap["history"], snap["ngram"]
    train = h["loss"][-1] / math.log(2.0) if len(h["step"]) else float("nan")
    best = min(ng, key=ng.get)
    at, low = best_so_far(snap["metrics"])
    return [
        ("held-out bits/char", f"{snap['heldout_bits']:.3f}", HELDOUT_HELP),
        ("best held-out so far", f"{low:.3f} @ {at:,}",
         "The lowest held-out bits/char measured in this run and its step (the diamond on the chart): "
         "where stopping would have been best. When the current figure rises well above it while the "
         "training line falls, the model is memorising its training text."),
        ("3-gram (to beat)", f"{ng[3]:.3f}", "The character 3-gram model on the same held-out positions."),
        (f"best n-gram ({best}-gram)", f"{ng[best]:.3f}",
         "The best of n = 1…5 at this add-k (the default k = 0.03 is tuned on the held-out text)."),
        ("training batch bits/char", "–" if math.isnan(train) else f"{train:.3f}",
         "The last batch's loss / ln 2, with dropout on: one batch, so it jitters by ±0.1."),
    ]


def temperature_line(snap: dict) -> str:
    """softmax(z/T) written out with this position's numbers, for the likeliest character."""
    chars, z, probs = snap["demo_chars"], snap["demo_logits"], snap["demo_probs"]
    if not chars:
        return ""
    c0 = show(chars[0])
    parts = ", ".join(f"T = {T:g}: **{p[0]:.2f}**" for T, p in probs.items())
    return (f"At position {snap['position']} the sample drew `{show(snap['demo_drawn'])}`. The likeliest "
            f"character there was `{c0}` with logit z = {z[0]:.2f} (runner-up "
            f"`{show(chars[1]) if len(chars) > 1 else ''}`: {z[1] if len(z) > 1 else float('nan'):.2f}); "
            f"p(`{c0}`) = e^(z/T) / Σ_j e^(z_j/T) = {parts}.")


def probe_table(detail: dict) -> str:
    """The interpretable-cell search as a markdown table."""
    rows = ["| feature | units with the largest \\|r\\| (r) |", "| --- | --- |"]
    for row in detail["table"]:
        units = ", ".join(f"**{u}** ({r:+.2f})" for u, r in zip(row["units"], row["r"]))
        rows.append(f"| {row['feature']} | {units} |")
    return "\n".join(rows) + f"\n\nMeasured at step {detail['step']:,} on held-out text."


def novelty_line(detail: dict) -> str:
    if "novel" not in detail or math.isnan(detail["novel"]):
        return ""
    return (f"**{detail['novel']:.0%}** of {detail['n_names']} names sampled at T = 0.8 are not in the list "
            f"(3-gram bits/char of the samples {detail['sample_3gram_bits']:.2f}, of held-out real names "
            f"{detail['heldout_3gram_bits']:.2f}): " + ", ".join(detail["names"][:8]))


def streams_note(snap: dict, cfg) -> str | None:
    B, T = snap["streams"]
    if (B, T) != (cfg.batch_size, cfg.seq_len):
        return f"The text is short: training reads {B} streams of {T} characters per step."
    return None
