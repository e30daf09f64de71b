"""Home: what the dashboard teaches, one card per lesson, the device, how the controls work."""
import pathlib

import streamlit as st

from core import ui

ROOT = pathlib.Path(__file__).resolve().parent
LESSONS = [
    ("pages/1_1D_GAN.py", "1D GAN", "🎯", "assets/gan1d.png",
     "A generator learns to emit points (x, y) on a curve such as y = x², judged by a discriminator."),
    ("pages/2_LSTM_Forecast.py", "LSTM forecasting", "📈", "assets/forecast.png",
     "An LSTM forecasts airline passengers (or your own CSV) against an MLP on a sliding window."),
    ("pages/3_Inside_LSTM.py", "Inside an LSTM", "🔬", "assets/lstm.png",
     "Gates, cell state and gradients through time, live — and why vanilla RNN gradients vanish."),
    ("pages/4_Mode_Collapse.py", "Mode collapse", "🌀", "assets/gan2d.png",
     "A GAN on 2D mixtures drops modes; WGAN-GP, unrolling, packing and labels bring them back."),
    ("pages/5_Upsampling.py", "Upsampling vs transposed convolution", "🧩", "assets/upsampling.png",
     "Nearest, bilinear and transposed convolution side by side, and where checkerboards come from."),
]

page = ui.page_setup("home", "Deep learning, live", "🧠",
                     "Every lesson trains a small PyTorch model **while you watch**. Move a slider and "
                     "the run reacts; press **Train** and the charts update several times a second.")

cols = st.columns(3)
built = [lesson for lesson in LESSONS if (ROOT / lesson[0]).is_file()]
for i, (path, title, icon, picture, sentence) in enumerate(built):
    with cols[i % 3].container(border=True):
        if (ROOT / picture).is_file():
            st.image(str(ROOT / picture), width="stretch")
        st.page_link(path, label=f"**{title}**", icon=icon)
        st.caption(sentence)
coming = [lesson for lesson in LESSONS if lesson not in built]
if coming:
    st.caption("Coming soon: " + ", ".join(t for _, t, *_ in coming) + ".")

st.subheader("How the controls work")
st.markdown(f"""
- **▶ Train / ⏸ Pause** starts and stops live training; **Step** trains exactly one step (on the GAN
  page also a single discriminator or generator update); **↺ Reset** starts again from the seed.
- **Live settings** (learning rates, k, batch size, the loss) apply at once, mid-run.
  **Structural settings** (layer sizes, the data, the seed) rebuild the model: a notice says so.
- **⚡ Load pretrained** replaces the run with a shipped, already trained one, with its history.
- If training **diverges** (a loss becomes NaN or infinite) it pauses itself and says so; Reset.
- Every setting is in the page's **address**: copy the URL to hand out a lesson exactly as prepared.
- **Presentation mode** (sidebar) enlarges the type for a projector; add `?present=true` to a link.
- Training runs on the **CPU** unless a GPU is present *and* measured faster for that lesson (these
  models are tiny, so only the upsampling decoders gain); where a GPU exists the sidebar lets you choose.
""")
