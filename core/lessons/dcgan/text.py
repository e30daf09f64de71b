"""The DCGAN lesson's words (kept out of the page so it reads as layout)."""

INTRO = ("A **deep convolutional GAN** learns to draw handwritten digits (16×16, from MNIST). The left grid "
         "is drawn from the *same* 100 noise vectors z every frame, so you can watch each digit form. A "
         "digit classifier trained on real digits judges the results; switch on the **conditional GAN** and "
         "ask for the digit you want. By default G also gets an InfoGAN **code** and the grid shows an "
         "**averaged** G (both explained below; set code values to 0 and switch averaging off for the "
         "plain DCGAN).")

GRID = "generated: the same 100 z every frame"
GRID_CODE = "generated: the same 100 (z, code) every frame; cell i has code i mod {k}"
GRID_COND = "generated: row r asks for digit r, a column shares one z"
REAL = "real training digits"


def grid_caption(conditional: bool, codes: int) -> str:
    """The live grid's caption for a conditional, a coded (K = codes) or a plain run."""
    return GRID_COND if conditional else GRID_CODE.format(k=codes) if codes else GRID


NOT_TRAINED = ("Not trained yet: G's outputs all lie within ±0.03 of 0 (a few grey levels), so every cell looks the "
               "same plain grey; the upsampling's own texture is in there, too faint to see. Press ▶ Train or "
               "⚡ Load pretrained.")

ACCEPTED_HELP = ("The share of 500 fresh generated digits (new z at each measurement, not the grid's) that the "
                 "shipped classifier labels with confidence ≥ 0.9: G's own rate to about ± 2 points (one standard "
                 "error of 500 samples). Measured every 100 steps.")
CLASSES_HELP = ("How many of the ten digits appear among the accepted ones (of the same 500 fresh digits). Fewer "
                "than 10: mode collapse (lesson 4).")
MATCH_HELP = ("Conditional GAN: the share of the same 500 fresh digits (each digit asked for 50 times) the classifier "
              "reads as the digit that was asked for; about ± 1 point near 0.97.")

PAUSED_ONLY = "Pause training to explore the latent space (it reads the generator as it is now)."
WALK = ("**A walk in z.** $z_t = (1-t)\\,z_a + t\\,z_b$ between two cells of the grid (numbered row by row "
        "from 0). A smooth walk means G has learnt a continuous map, not a lookup table of training digits.")
WALK_LABEL = ("**A walk between labels.** The same z, the label moving from one digit to the other: "
              "$y_t = (1-t)\\,e_a + t\\,e_b$. The handwriting stays, the digit changes.")
ARITH = ("**Arithmetic on z** (Radford et al.: *smiling woman − neutral woman + neutral man*). Among "
         "1,000 generated digits the classifier picks three of each group; their mean z vectors are "
         "combined, and the answer is drawn with eight neighbours (the answer plus a little noise). In the "
         "conditional model z only carries the handwriting, so the answer is the new digit with the style; "
         "without labels z mixes identity and style, and the answer is often another digit. With the code, "
         "one digit can own several code values (two kinds of 3): when the two groups of the first digit "
         "come from different codes, the sum keeps the first digit's code.")

EXPLANATION = r"""
**The networks.** The generator projects $z$ to a $4\times4$ map with $2C$ channels and upsamples twice
($4\to8\to16$) to one channel with $\tanh$, so its digits live in $[-1,1]$ like the real ones. The
discriminator mirrors it with two strided $4\times4$ convolutions ($16\to8\to4$) and a last convolution
to one logit. These are the DCGAN guidelines: strided convolutions instead of pooling, batch norm,
ReLU in G and LeakyReLU in D, a $\tanh$ output, Adam with $\beta_1=\tfrac12$. Sizes follow the
convolution arithmetic: a convolution gives $\lfloor (n+2p-k)/s\rfloor+1$, a transposed one
$(n-1)s-2p+k+p_{out}$ — for $k=4, s=2, p=1$ that is $2n$.

**The game** is lesson 1's: $D$ descends $-\mathbb E[\log D(x)]-\mathbb E[\log(1-D(G(z)))]$, $G$ descends the
non-saturating $-\mathbb E[\log D(G(z))]$. *One-sided label smoothing* asks $D$ for $0.9$ instead of $1$ on
real digits, so it cannot become arbitrarily sure; fakes keep their 0.

**Upsampling.** A transposed convolution with $k=3, s=2$ overlaps unevenly (lesson 5): at step 0 the grid
shows a fine checkerboard on every digit, and it lingers. $k=4$ overlaps evenly but its weights must learn
to hide the pattern; *resize + 3×3 convolution* has no checkerboard to begin with.

**Judging quality.** A small convnet trained on the real digits (98.0 % on the 1,000 held-out ones) reads
every generated digit. A digit read with confidence below 0.9 is not accepted; a run that draws only a
few kinds of digit shows it in the per-class bars (mode collapse, lesson 4). The classifier was also
trained to be unsure of noise and scrambled digits, so noise is never accepted. The real held-out digits
reach about 94 % (the dashed line): that is the ceiling.

**The code (InfoGAN, Chen et al.)** Without labels, G must stretch one connected cloud of $z$ over ten
separate digits, so for a long time many samples sit between two digits, and the classifier rejects
them. With *code values* $K>0$, G gets $[z, e_c]$ with $c$ drawn uniformly from $K$ values, and a
small head $Q$ on D's last features must tell from the fake digit which $c$ made it. Both sides add
$\lambda\,\mathrm{CE}(Q(G(z,c)), c)$ to their losses ($\lambda=1$; the *code CE* line): a lower bound on
the mutual information between $c$ and the digit. No label is ever used, yet each code value turns
into one kind of digit — watch the grid, where cell $i$ has code $i mod K$. With more values than
digits ($K=30$), a digit can take several (a slanted 1 and an upright one). After 4,000 steps
(about a minute of one core) 0.58 of the digits were accepted without the code, about 0.8 with it.

**The averaged generator.** GAN training goes back and forth around its equilibrium, so the grid
flickers. The page shows $ar G$, G's weights under an exponential moving average,
$ar	heta \leftarrow etaar	heta + (1-eta)	heta$ with $eta = \min(0.999, 	frac{1+t}{10+t})$
at step $t$ (short memory at the start, ~1,000 steps later). Training never reads $ar G$; switch
*Averaged generator* off to see G as it is at this step.

**The conditional GAN** (Mirza & Osindero) gives both networks the label: G gets $[z, e_y]$, D gets the
image with ten label planes. D now rejects a good 3 that was asked to be a 7, so G must draw the digit
asked for.
"""
