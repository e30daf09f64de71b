"""The 1D GAN lesson's words (kept out of the page so it reads as layout)."""

INTRO = ("A **generator** turns random noise into points *(x, y)*; a **discriminator** scores how real "
         "each point looks. Trained against each other (Goodfellow's Algorithm 1), the generated points "
         "settle on the curve. The background shows what the discriminator currently believes.")

MAE_HELP = "Average vertical distance of 1,000 generated points from the curve."
SW_HELP = ("Sliced Wasserstein-1 distance between 1,000 generated and 1,000 real points: 0 when the "
           "generated points are spread along the curve like the real ones.")
FORMULA_HELP = ("Numbers, x, + − * / ** and sin, cos, exp, log, sqrt, abs, tanh… "
                "Nothing you type is run as code.")

EXPLANATION = r"""
**The game.** The discriminator $D$ maximises $V(D,G)=\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$;
the generator minimises it. Real points are $(x, f(x))$ with $x$ uniform on the range; generated points
are $G(z)$ with $z\sim\mathcal N(0, I)$. At the equilibrium the generated points are distributed like the
real ones and $D=\tfrac12$ everywhere — watch the two lines of the middle chart meet at ½ and the
background fade towards white.

**The two generator losses.** Algorithm 1 as published lets $G$ descend $\log(1-D(G(z)))$ (*minimax*).
Write $D=\sigma(a)$ with $a$ the discriminator's logit: then
$\partial_a \log(1-\sigma(a)) = -\sigma(a) = -D(G(z))$, which is ≈ 0 exactly when $D$ confidently rejects
the generated points — early in training, when $G$ most needs a signal. The *non-saturating* loss
$-\log D(G(z))$ has $\partial_a = \sigma(a)-1$, strong when $D$ wins. Switch the loss while training and
watch the bottom chart: the gradient reaching $G$ collapses under minimax when $D$ gets ahead
(raise the discriminator's learning rate or $k$ to make it happen).

**Step modes.** *D step* runs one pass of the inner loop, *G step* one generator update, *Step* one whole
iteration ($k$ D steps, then one G step); the algorithm box marks what ran.

**Why not Keras?** The lecture's Keras code marks the discriminator untrainable inside the combined
model. Keras 2 fixed that flag when a model was compiled; Keras 3 reads it at every step, so the
published script freezes the discriminator for good and the generator drifts away. Here D's weights
simply receive no update during the G step, which is what Algorithm 1 says.
"""
