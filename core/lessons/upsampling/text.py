"""The page's words (markdown). No Streamlit."""

INTRO = (
    "A generator has to turn a small feature map into a bigger picture. **Upsampling** repeats or "
    "interpolates pixels; a **transposed convolution** spreads every input pixel over the output with a "
    "learned kernel — and where those spreads overlap unevenly, **checkerboard** patterns appear."
)

POSITION = ("**The same output, one input pixel at a time** — each input pixel lays the kernel, scaled by "
            "its value, onto the output, *s* pixels further along than its neighbour:")

OVERLAP_NOTE = ("Each layer is a 1D transposed convolution with a kernel of ones and no padding; the bar height "
                "counts the ways an input can reach that output. The edges always taper off; look at the middle.")

INITIAL = ("**The same decoders at initialisation** (before any training; contrast stretched): the "
           "transposed convolutions already draw a grid pattern, the resize + conv decoders do not.")

NOT_TRAINED = ("Step 0: the decoders are not trained yet (their outputs lie near 0, so the pictures start "
               "dark). Press ▶ Train or Step: the loss and checkerboard lines start with the first steps.")

CHECKER_NOTE = ("The checkerboard score chart: the RMS gap between each output and its own 3×3-blurred self, "
                "on the pool's smooth gradient targets (128 at 16×16), measured every 25 steps; the dashed line is "
                "the targets' own score. Between seeds a decoder's score differs by up to about ±20 %: the order "
                "of the decoders is the stable part (the guide's steps check it on three seeds).")

EXPLANATION = r"""
**Four decoders, one job.** Each turns a 14-number code (which shape, where, how big, which angle) into a
picture: a linear layer makes a 4×4 map of channels, then ×2 upsampling layers reach 16×16 (or 32×32).
They differ only in how they upsample: a **transposed convolution** with kernel 3 or 4 and stride 2 (the
DCGAN way), or **nearest / bilinear resizing followed by an ordinary 3×3 convolution** (the lecture's
UpSampling2D + Conv2D generator). All four see the same batches and start from the same seed.

**Why checkerboards.** With stride 2 and kernel 3, neighbouring output pixels receive 1, 2 or 4 kernel taps
(view ②): the output is a sum of unevenly overlapping stamps, so a constant input already gives a
grid-shaped output. With kernel 4 every pixel *inside* the picture receives 4 taps, but with padding 1 the
border rows and columns receive only 2 (the corners 1), and each output phase uses a different subset of
the weights, so the network must *learn* to make them agree. Resizing first spreads every value smoothly;
the convolution after it sees the same kind of neighbourhood everywhere.

**The checkerboard score** is the RMS gap between an output and its own slightly blurred self (a 3×3
binomial blur), on the smooth gradient targets: a smooth ramp scores 0, a ±a pixel checkerboard scores a.

**When it blows up.** At a learning rate of about 0.1 and above, Adam throws the decoders' outputs far
outside the targets' range 0 to 1 (at 10 they sat at −38: black pictures, and a "checkerboard score" of 0
because a constant picture has no pattern). The run then stops with a message; lower the rate and press
↺ Reset.
"""
