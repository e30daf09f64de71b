"""Keys for a lecturer with a presentation clicker (it sends PageDown/PageUp) or a keyboard:
Train/Pause, Step, Reset and the guided steps, without the mouse. Streamlit's button shortcuts
(1.52+) carry them; Streamlit ignores them while a text box has the focus, and reserves C and R.
The segmented Train/Pause control takes no shortcut, so a button that flips it carries the key,
kept out of sight (the control itself shows the state)."""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from core.ui.page import Page

KEYS = {"train": "t", "step": "s", "reset": "x", "next": "pagedown", "back": "pageup"}
SHOWN = {"pagedown": "Page Down", "pageup": "Page Up"}
HELP = [("train", "▶ Train / ⏸ Pause"), ("step", "Step (the first step button)"), ("reset", "↺ Reset"),
        ("next", "next guided step (a clicker's ▶)"), ("back", "previous guided step (a clicker's ◀)")]


def shown(key: str) -> str:
    k = KEYS[key]
    return SHOWN.get(k, k.upper())


def keys_help(page: Page, toggle: Callable[[Page], Any]) -> None:
    """The keys' popover, and the hidden button that carries the Train/Pause key."""
    # hidden by the page's CSS (core.ui.page): a <style> element here would take a row's gap
    # and push the popover below the other buttons (38 px on a projector)
    st.button("⏯", key=page.key("train_key"), on_click=toggle, args=(page,), shortcut=KEYS["train"])
    with st.popover("⌨️", help="Keyboard and clicker keys"):
        st.markdown("**Keys** (not while typing in a box)\n\n" + "\n".join(
            f"- **{shown(k)}**: {what}" for k, what in HELP))
