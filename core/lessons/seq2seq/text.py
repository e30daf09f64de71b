"""The sequence-to-sequence lesson's words (kept out of the page so it reads as layout)."""

INTRO = ("Two **encoder–decoders** learn the same translation from the same batches. The one on the left "
         "must squeeze the whole input into **one vector** before it writes a single character; the other "
         "may **look back** at every input character while it writes (attention). On the digit-reversal "
         "task, watch the long inputs.")

ACC_HELP = ("Exact match on 600 held-out inputs (of a fixed set of 1,000) never seen in training (for dates: days never seen in "
            "any format), measured every 200 steps with the chosen decoding (beam search: 600 ÷ width inputs). "
            "Always the same inputs, so it moves only as the model does; as an estimate for unseen inputs a "
            "figure near 50 % is good to about ±2 points (±3.5 on beam search's 200).")
LONG_HELP = ("The same, on the longest held-out inputs only (the last point of the length chart): about 67 dates "
             "of 31–40 characters, or 26 strings of 16 digits, so one input more or less moves it by 1.5–4 points.")

EXPLANATION = r"""
**The bottleneck.** The encoder reads the input one character at a time, $h_j = \mathrm{GRU}(x_j, h_{j-1})$.
Without attention the decoder starts from $s_0 = h_S$ and never sees the input again: everything —
the weekday it must ignore, the month's name it must turn into two digits, the year — has to fit into
those $H$ numbers, and the more there is to carry, the more of it has been overwritten. *Reverse a
digit string* shows it on the length chart: every digit is new information, and the orange line (no
attention) falls to zero for long strings while the blue one stays near the top. On *dates* the orange
line stays roughly flat: a long format (`monday, the 3rd of may 1999`) carries no more than a short
one (`05/03/99`), so length alone does not crowd the vector.

**Attention.** At every output step $t$ the decoder scores every encoder state,
$e_{t,j} = \mathrm{score}(s, h_j)$, turns the scores into weights that sum to one,
$\alpha_{t,j} = \exp(e_{t,j}) / \sum_k \exp(e_{t,k})$, and reads the weighted average
$c_t = \sum_j \alpha_{t,j} h_j$ — the *context vector* — alongside its own state. Nothing has to be
remembered across the whole input any more: the decoder looks up what it needs when it needs it.
*Additive* (Bahdanau et al., 2015) scores with a small network, $v^\top \tanh(W_s s_{t-1} + W_h h_j)$,
and feeds $c_t$ into the decoder's GRU; *dot* (Luong et al., 2015) scores with $s_t^\top h_j$ after the
GRU step and needs no extra weights.

**Reading the map.** Each row of the heatmap is one output character, each column an input character, and
the colour is $\alpha_{t,j}$. For dates the year digits look at the year, the month digits at the month's
name (or its number), and nothing looks at the weekday. For reversal the map is the anti-diagonal: the first
output digit looks at the last input digit.

**Training and decoding.** With *teacher forcing* the decoder is fed the true previous character while
it learns; at test time it is fed its own guesses, so an early mistake can derail the rest. The ratio sets
the share of batches trained the test-time way. *Greedy* decoding takes the most likely character at each
step; *beam search* keeps the $k$ most likely partial outputs and picks the best complete one (width 1 is
greedy). On these tasks the answers are short and nearly deterministic, so beam search changes little —
a point worth making: it fixes search errors, not model errors.
"""
