"""The mode-collapse lesson's words (kept out of the page so it reads as layout)."""
from __future__ import annotations

from typing import Any

from core.lessons.gan2d.config import METHODS
from core.lessons.gan2d.metrics import panel_summary

INTRO = ("The real data has several **modes** (clusters). A GAN can fool its discriminator with just a few "
         "of them — **mode collapse** — and often hops from mode to mode instead of settling. The panels "
         "train different methods side by side on the same data, noise and seed: the vanilla GAN next to "
         "WGAN-GP, which covers every mode *and* puts its samples on them. Coverage alone is not "
         "enough: a cloud sprayed over the whole ring also touches every mode, so each panel shows "
         "coverage and quality together.")

RUNNING_NOTE = ("On ⏸ Pause: samples per mode, where the mass sat (mode hopping over time), the per-seed "
                "table and the replay of the recorded run.")
METRICS_NOTE = ("Headings and charts: the shown seed, measured on 2,500 samples of fixed noise (the headings now, "
                "the charts every *Measure every* steps, 100 by default). High quality = within 3σ of a mode; a mode is "
                "covered when a high-quality sample is nearest to it. One seed is noisy — the vanilla GAN's count "
                "jumps by a mode between measurements — so train several seeds to see how often a method collapses.")
TABLE_TITLE = "### Measured on this page's defaults: every method, 8 seeds"
TABLE_MISSING = "The measured table is missing: run `python benchmarks/gan2d_modes_table.py`."
REPLAY_TITLE = "⏮ Replay the recorded run (every recorded snapshot of the shown seed)"
EXPLAIN_TITLE = "What is going on — mode collapse and its remedies"


def panel_title(snap: dict[str, Any], m: str) -> str:
    """A panel's heading: the method, then its coverage and quality (shown seed, now): one line
    above a panel of half the page (its KL has a chart of its own)."""
    p = snap["panels"][m]
    return f"**{METHODS[m].split(' (')[0]}** · " + panel_summary(p["covered"], snap["n_modes"], p["hq"])


def seeds_heading(snap: dict[str, Any]) -> str:
    return f"#### {len(snap['seeds'])} seeds at once (each panel's last measurement, 2,500 samples per seed)"


def shown_seed_caption(snap: dict[str, Any]) -> str | None:
    seeds = snap["seeds"]
    return f"Panels show seed {seeds[snap['seed_index']]} of {len(seeds)}." if len(seeds) > 1 else None


def table_caption(table: dict[str, Any]) -> str:
    return (f"Ring of 8, σ = {table['std']}, {table['steps']:,} steps, seeds {table['seeds'][0]}–{table['seeds'][-1]}, "
            f"2,500 samples per seed; produced by `{table['command']}`. Read coverage *with* quality: PacGAN and "
            "the minibatch-std feature touch every mode with a spray of mostly low-quality samples; WGAN-GP, "
            "the unrolled GAN and the conditional GAN cover the modes with most samples on them. "
            "Published on the ring (2,500 samples): VEEGAN's table — vanilla GAN 1 mode at 99 % high "
            "quality, unrolled GAN 7.6 modes; PacGAN's — vanilla GAN 6.3 ± 0.5 modes, PacGAN4 7.8 ± 0.1.")


EXPLANATION = r"""
**Mode collapse.** The generator $G$ only has to make the discriminator $D$ say "real". Putting all its
samples on one mode does that — until $D$ learns that this mode is now mostly fake. $G$ then moves to
another mode, $D$ follows, and so on: the **where the mass sat** chart (measurement × mode) shows the mass
hopping instead of converging, and the orange rings on the scatter mark the modes nobody visits. Coverage
is measured as in the VEEGAN and PacGAN papers: of 2,500 samples, a sample is *high quality* if it is
within $3\sigma$ of its nearest mode, a mode is *covered* if some high-quality sample is nearest to it, and
KL compares the histogram of high-quality samples over the modes with the uniform one
($\log 8 \approx 2.08$ when everything sits on one mode, 0 when even).

**Coverage needs quality.** A generator that sprays points over the whole plane covers every mode
without producing anything that looks like the data. Read the two numbers together: WGAN-GP and the
unrolled GAN reach 8 modes at about 80 % high quality; PacGAN reaches 8 modes at 8 %.

**Minimax vs non-saturating.** Minimax descends $\log(1-D(G(z)))$, whose gradient vanishes when $D$ wins;
the non-saturating loss $-\log D(G(z))$ keeps it.

**Remedies.**
* **WGAN-GP** replaces $D$ by a critic $f$ trained on $\mathbb E[f(G(z))]-\mathbb E[f(x)]+\lambda\,
  \mathbb E_{\hat x}[(\lVert\nabla f(\hat x)\rVert-1)^2]$, $\hat x=\epsilon x+(1-\epsilon)G(z)$: its gradient
  points from every fake sample towards the data, so no mode is left without a pull. (Its panel's
  background is the critic's value, scaled to [−1, 1]: only its differences matter.)
* **Unrolled GAN**: $G$'s loss is taken against $D$ after $K$ more (differentiable) Adam steps, so $G$
  anticipates $D$'s reaction instead of jumping to the mode $D$ forgot.
* **Minibatch std feature** (a "mini-batch GAN"): $D$ also sees how spread the whole batch is, so a
  collapsed batch is easy to call fake.
* **PacGAN**: $D$ judges $m$ samples at once; $m$ samples from a collapsed $G$ look alike, $m$ real ones don't.
* **Conditional GAN** ("supervision with labels"): $G$ and $D$ are given the mode label, so $G$ must
  produce every mode on demand.

**Many seeds.** Pick *Seeds trained at once* = 8: every panel trains 8 seeds in one batched
computation (each weight tensor has a seed axis; each layer is one batched matrix product), and
the table counts how often each method collapses.

**Why the sizes stop where they do.** A step trains every panel on every seed and cannot be
interrupted, so Pause waits for it: seeds, batch, widths, depths and the D/critic/unroll steps are
capped so that a step at the largest settings stays near 0.1 s (0.15 s when it measures).
"""
