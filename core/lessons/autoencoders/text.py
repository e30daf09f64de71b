"""The autoencoder lesson's words (kept out of the page so it reads as layout), and the one
formula written out with live numbers."""
from __future__ import annotations

from typing import Any

import numpy as np

INTRO = ("Three networks squeeze 16×16 handwritten digits through a **2-number code** and rebuild them: a plain "
         "**autoencoder**, a **variational autoencoder** (VAE) and a **denoising autoencoder**, trained side by side "
         "on the same batches. Each map shows where 300 held-out digits land in the code space, coloured by "
         "digit, under the digits the decoder draws at a grid of codes. Watch the colours separate, then pause "
         "and walk through the space.")

MAP_HELP = ("Points: held-out digits at their codes (the VAE: μ). Behind them: the decoder's drawing at each "
            "point of a 10×10 grid. VAE grid: the prior's central 90 % (±1.645); autoencoders: the codes' 2nd–98th "
            "percentiles. With a latent larger than 2, both are shown on the codes' two main directions.")
RECON = "rows: digit · noisy copy · autoencoder · denoising AE (from the noisy copy) · VAE (from μ)"
ACCEPTED_HELP = ("The share of the 100 decoded grid digits that the shipped digit classifier labels with confidence "
                 "≥ 0.9: one grid, so each digit is a whole percentage point, and it moves by several points "
                 "from one measurement to the next while training. Measured every 200 steps, not every frame.")
KNN_HELP = ("Each of the 1,000 held-out digits gets the majority label of its 5 nearest training digits in the latent "
            "space: how well the code separates the digits, though no label was ever used (chance: 10 %; a "
            "sample of 1,000 reads to about ± 1.5 points). Measured every 200 steps.")
CLASSES_HELP = ("How many of the ten digits the classifier finds among the accepted grid digits. An untrained "
                "decoder draws one grey blob everywhere, which the classifier may accept as an 8: 1 / 10.")
NOT_TRAINED = ("Not trained yet: every digit lands near the same code and the decoder draws the same grey blur "
               "everywhere. Press ▶ Train or ⚡ Load pretrained.")
PAUSED_ONLY = "Pause training to explore the latent space (it reads the models as they are now)."
PICK = ("**Pick a latent point** and see what the decoder draws there. The sliders are in standard deviations of "
        "the held-out codes from their mean; for the VAE they are z itself. In the gaps between the clouds "
        "an autoencoder can draw smudges: nothing was ever encoded there.")
WALK = ("**Walk between two digits** along the straight line $z(\\lambda)=(1-\\lambda)\\,z_a+\\lambda\\,z_b$ between "
        "their codes, in each model (rows: autoencoder, VAE, denoising AE; the black dots on the map above are "
        "the chosen model's path). The caption counts the frames the classifier reads as a digit (≥ 0.9 sure): "
        "an autoencoder's path can cross holes, the VAE's tends to stay on digits.")

EXPLANATION = r"""
**Autoencoder.** An encoder maps a digit $x$ (256 pixels) to a code $z=e(x)$ with 2 numbers; a decoder maps
it back, $\hat x=d(z)$. Training minimises the reconstruction error, here the binary cross-entropy summed
over pixels, $-\sum_p x_p\log\hat x_p+(1-x_p)\log(1-\hat x_p)$. Two numbers cannot hold every pixel, so the
network has to find what matters most — mostly, *which digit* and how it is slanted. Nothing asks the codes
to fill the space evenly: the clouds drift apart, leave gaps, and a code from a gap decodes into a smudge.

**Denoising autoencoder.** The same network, but its input is the digit with Gaussian noise added (the
slider) while its target stays the clean digit. It cannot copy pixels, so it must learn what digits look
like; its reconstructions clean the noise away.

**Variational autoencoder.** The encoder outputs a distribution instead of a point: a mean $\mu(x)$ and a
spread $\sigma(x)$ per latent dimension. The decoder is trained on a *sample* $z=\mu+\sigma\cdot\varepsilon$,
$\varepsilon\sim\mathcal N(0,I)$ (the *reparameterisation trick*: the randomness is an input, so the
gradient flows to $\mu$ and $\sigma$). The loss adds the KL divergence from $\mathcal N(\mu,\sigma^2)$ to the
prior $\mathcal N(0,I)$,
$$\mathrm{KL}=-\tfrac12\sum_j\bigl(1+\log\sigma_j^2-\mu_j^2-\sigma_j^2\bigr),$$
which pulls every code towards 0 and keeps each one a blob rather than a point. Neighbouring blobs overlap,
so the decoder learns to draw something sensible *everywhere* near the prior: the grid is full of digits,
and sampling $z\sim\mathcal N(0,I)$ generates new ones. β weighs the KL term: β → 0 gives an autoencoder
with a little noise (sharp, patchy), a large β squeezes all codes onto the prior (smooth, blurry; at the
extreme the code carries nothing and every digit decodes to the same average).

**How it is measured.** *5-NN accuracy*: a held-out digit is classified by the labels of its five nearest
training digits in the code space. *Accepted*: the shipped digit classifier (the DCGAN lesson's judge)
reads each decoded grid digit; ≥ 0.9 sure counts. For the autoencoders the grid spans where their codes
are; for the VAE, where its prior puts 90 % of its mass (per axis).
"""


def reparam_latex(r: dict[str, Any]) -> str:
    """z = μ + σ·ε with the numbers of ``AutoencodersTrainer.reparam_numbers``, one line per latent
    dimension (the first two; "…" below for a larger latent)."""
    lines = [r"z &= \mu + \sigma\odot\varepsilon"]
    lines += [f"z_{j + 1} &= {r['mu'][j]:.2f} + {r['sigma'][j]:.2f} \\cdot ({r['eps'][j]:.2f}) = {r['z'][j]:.2f}"
              for j in range(min(2, len(r["z"])))]
    if len(r["z"]) > 2:
        lines.append(r"&\;\vdots")
    return r"\begin{aligned}" + r"\\".join(lines) + r"\end{aligned}"


def reparam_caption(r: dict[str, Any], beta: float) -> str:
    return (f"A held-out **{r['label']}**: the encoder gives μ and log σ², σ = exp(½ log σ²); ε is one fixed draw "
            f"from N(0, I). Its KL term is **{r['kl']:.2f}** nats, weighed by β = {beta:g}.")
