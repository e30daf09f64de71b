"""The page's words (no Streamlit)."""

INTRO = """Four models learn the same task from the same batches: an **LSTM**, a **Conv1D + pooling**
network, a **Conv1D front end before an LSTM**, and a **WaveNet-style stack of dilated causal
convolutions**. Press **▶ Train** and watch who learns, and how fast each one steps."""

TASK_NOTE = {
    "longrange": "Every sequence has a spike up and a spike down, {lo}–{hi} steps apart; the class is which "
                 "comes first. The Conv1D + pooling model's receptive field is **{r} steps**: {verdict}",
    "control": "Six control-chart patterns (normal, cyclic, trend up/down, shift up/down) with noise: "
               "every model should pass 95 %.",
}

EXPLANATION = r"""
**A convolution along time.** A Conv1D filter of kernel $k$ slides along the sequence and
computes, at every position, $y_t = b + \sum_{i=0}^{k-1} w_i\, x_{t + i\cdot d}$ (for each input
channel, summed). It sees only its window: *no notion of order outside the window* (lecture).
Pooling over time then throws away where a feature fired. So when the two spikes are further
apart than the receptive field, no window ever holds both, and whether the spike up came first is
invisible: the Conv1D + pooling model stays at 50 %.

**Receptive field by formula.** With $r_0 = 1$, $j_0 = 1$ and layer $l$ of kernel $k_l$,
stride $s_l$ and dilation $d_l$:
$r_l = r_{l-1} + (k_l - 1)\,d_l\,j_{l-1}$ and $j_l = j_{l-1}\,s_l$.
Two conv-5 + pool-2 layers give $r = 5 + 1 + 4\cdot 2 + 2 = 16$.
A dilated stack with $k = 2$ and dilations $1, 2, 4, \dots, 2^{L-1}$ gives
$r = 1 + (2^L - 1)$, so six layers see 64 steps: the field **doubles with every layer**
(WaveNet, lecture day 4). The drawing shows exactly the inputs whose change could move the chosen
output; the tests check it against autograd (the inputs with a non-zero gradient).

**Causal.** WaveNet pads $(k-1)\,d$ zeros on the left only, so the output at step $t$ depends on
$x_{\le t}$: nothing in the shaded future reaches it. Torch's `padding="same"` (the Conv1D front
end) puts $\lfloor (k-1)/2 \rfloor$ zeros on the left and $\lceil (k-1)/2 \rceil$ on the right, so
its output at $t$ looks $\lceil (k-1)/2 \rceil$ steps ahead (one already at $k = 2$): not causal.

**Output length.** $L_\text{out} = \lfloor (L_\text{in} + 2p - d\,(k-1) - 1)/s \rfloor + 1$,
the same formula as for 2-D convolutions (the upsampling lesson), applied along time only.

**Conv1D → LSTM** (the lecture's Keras model: Conv1D(32, 3, same) → MaxPooling1D(2) → LSTM):
the convolution finds local features, pooling halves the length, and the LSTM carries order over
any distance. **Speed:** the convolutions compute all time steps at once; the LSTM must go one
step after another (see the steps/s bars). The dilated stack is fast for a second reason: the
class is read at the last step only, and that output reads only every 2d-th step of a layer with
dilation d, so at the defaults training computes 32 + 16 + 8 + 4 + 2 + 1 = 63 outputs of the six layers, not
6 × 64 = 384. WaveNet generates audio quickly by the same observation.

The LSTMs start with a forget-gate bias of 1, as Keras does by default (`unit_forget_bias`);
with PyTorch's default of about 0 the LSTM stayed at chance on the long-range task for 1,500 steps.
"""
