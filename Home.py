"""The app's entry point: navigation grouped by topic from the lesson table, and the Home page.

Every page runs through here (``st.navigation``), so the sidebar, the URL paths (``/<key>``) and
Home's cards all come from ``core.registry``. Links of the old form (``/LSTM_Forecast?fc_lr=…``)
land on the lesson with their settings (old paths are hidden pages that forward).
"""
import importlib

import streamlit as st

from core import registry, ui

# Import every lesson's package once per server, not on a student's first click: the first
# visit to a page would otherwise pay for its imports (pandas, …) while the class waits.
for _lesson in registry.built():
    try:
        importlib.import_module(_lesson.package)
    except Exception:  # a broken lesson must not take the navigation down; its page says why
        pass


def home() -> None:
    ui.page_setup("home", "Deep learning, live", "🧠",
                         "Every lesson trains a small PyTorch model **while you watch**. Move a slider "
                         "and the run reacts; press **▶ Train** and the charts update several times a "
                         "second. The lessons are grouped by topic, in a suggested order.")
    order = {l.key: i + 1 for i, l in enumerate(registry.built())}     # the suggested order
    for group in registry.GROUPS:
        lessons = [l for l in registry.built() if l.group == group]
        if not lessons:
            continue
        st.subheader(group)
        cols = st.columns(3)
        for i, l in enumerate(lessons):
            with cols[i % 3].container(border=True):
                if (registry.ROOT / l.picture).is_file():
                    st.image(str(registry.ROOT / l.picture), width="stretch")
                st.page_link(l.page, label=f"**{order[l.key]}. {l.title}**", icon=l.icon)
                st.caption(f"{l.blurb}  \n*Topic: {l.group} · from the lectures: {l.seeds}.*")
    coming = [l.title for l in registry.LESSONS if not l.built]
    if coming:
        st.caption("Coming soon: " + ", ".join(coming) + ".")
    st.subheader("How the controls work")
    st.markdown("""
- **▶ Train / ⏸ Pause** starts and stops live training; **Step** trains exactly one step (on the GAN
  page also a single discriminator or generator update); **↺ Reset** starts again from the seed.
- **Live settings** (learning rates, k, batch size, the loss) apply at once, mid-run.
  **Structural settings** (layer sizes, the data, the seed) rebuild the model: a notice says so.
- **⚡ Load pretrained** replaces the run with a shipped, already trained one, with its history.
- If training **blows up** (a loss becomes NaN or infinite, or runs away) it pauses itself and
  says so; lower the learning rate and press Reset.
- Every setting is in the page's **address**: copy the URL to hand out a lesson exactly as prepared.
- **Presentation mode** (sidebar) enlarges the type for a projector; add `?present=true` to a link.
- **🧭 Guided experiments** beside every live view: each step sets the page up with one button, asks
  what you expect, then shows what happens and why; `?<lesson>_step=3` opens step 3.
- **Keys** (a presentation clicker works too): **T** Train/Pause, **S** Step, **X** Reset,
  **Page Down / Page Up** the next or previous guided step (never while typing in a box).
- **📦 Take it home** (under each live panel): the run as a PyTorch script or notebook, its history
  as CSV, its checkpoint (and loading one back), each chart as PNG/SVG for slides, and a **lesson
  link** that pins chosen settings (students see them read-only, with a 🔒).
- The app follows your browser's **light or dark** theme (Streamlit's menu, ⋮ → Settings, switches it).
- Training runs on the **CPU** unless a GPU is present *and* measured faster for that lesson (these
  models are tiny, so only the upsampling decoders gain); where a GPU exists the sidebar lets you choose.
""")


def forward(lesson: registry.Lesson):
    """A hidden page at a lesson's old path: go to the lesson, keeping the link's settings."""
    def go() -> None:
        params = {k: (v if len(v) > 1 else v[0]) for k in st.query_params
                  for v in [st.query_params.get_all(k)]}
        if lesson.old_prefix:
            params = {(lesson.key + k[len(lesson.old_prefix):] if k.startswith(lesson.old_prefix + "_") else k): v
                      for k, v in params.items()}
        st.switch_page(lesson.page, query_params=params)
    go.__name__ = f"forward_{lesson.key}"
    return go


pages: dict[str, list] = {"": [st.Page(home, title="Home", icon="🧠", url_path="home", default=True)]}
for _l in registry.built():
    pages.setdefault(_l.group, []).append(st.Page(_l.page, title=_l.title, icon=_l.icon, url_path=_l.key))
hidden = [st.Page(forward(l), title=l.title, url_path=l.old_path, visibility="hidden")
          for l in registry.built() if l.old_path]
pages[""].extend(hidden)
# The lecturer's view of a class (issue 35); it asks for the lecturer key (DASH_LECTURER_KEY).
pages["Teaching"] = [st.Page("pages/class.py", title="Class (lecturer)", icon="👥", url_path="class")]
st.navigation(pages).run()
