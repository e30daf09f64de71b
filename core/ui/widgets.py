"""URL-bound widgets, and ``Form``: a lesson's controls built from its config's declarations.

Every widget is keyed ``{lesson}_{field}`` and bound to the URL (``?{lesson}_{field}=…``), so a
link hands out a lesson exactly as prepared. ``Form`` reads the config dataclass's declarations
(``core.settings``): the label, bounds, options, help and live/structural mark are written once
there, and the page only says where each control goes.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import settings
from core.export import HIDE, hidden_fields
from core.settings import LEARNING_RATES, Declaration


def _initial_params() -> dict[str, Any] | None:
    """Streamlit's saved copy of the URL the session started with (widgets are seeded from it).
    Private API, hence the guard."""
    try:
        return get_script_run_ctx().session_state._state.query_params._initial_query_params  # noqa: SLF001
    except AttributeError:
        return None


def forget_url_param(key: str) -> None:
    saved = _initial_params()
    if saved is not None:
        saved.pop(key, None)
    if key in st.query_params:
        del st.query_params[key]


def url_int(key: str, default: int = 0) -> int:
    """The link's value for the integer widget keyed ``key`` (``default`` when absent or unreadable).
    A bound widget takes a stale ``?key=`` over a value set in session state, so a page that
    narrows a widget's range must check the link's value too (lstm: ?lstm_t=25 after T fell to 21)."""
    try:
        return int(float(st.query_params.get(key, default)))
    except (TypeError, ValueError, OverflowError):
        return default


def rename_url_params(old_prefix: str, new_prefix: str) -> None:
    """Read links of an older form: ``?fc_lr=…`` becomes ``?forecast_lr=…`` before any widget
    reads the URL (both Streamlit's saved copy and the address bar)."""
    saved = _initial_params()
    for store in ([saved] if saved is not None else []) + [st.query_params]:
        for key in [k for k in list(store.keys()) if k.startswith(old_prefix + "_")]:
            new = new_prefix + key[len(old_prefix):]
            if store is st.query_params:
                values = st.query_params.get_all(key)
                del st.query_params[key]
                if new not in st.query_params:
                    st.query_params[new] = values if len(values) > 1 else values[0]
            else:
                value = store.pop(key)
                store.setdefault(new, value)


def _drop_unusable_url_number(key: str, integer: bool) -> None:
    """Forget ``?key=inf`` (or nan, 1e309…) before the widget reads it: Streamlit 1.67 converts an
    integer number_input's URL value with ``int()``, so ``?gan1d_seed=inf`` crashed every page."""
    raw = st.query_params.get(key)
    if raw is None:
        return
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return   # not a number at all: Streamlit already falls back to the default
    if not math.isfinite(v) or (integer and abs(v) > 2**53):
        forget_url_param(key)


def _pins() -> dict[str, str]:
    """lesson -> the ``?<lesson>_hide=`` value of the link this session opened with (kept for
    the session, so a rerun that drops the parameter cannot unpin anything)."""
    pins = st.session_state.setdefault("_pinned_settings", {})
    for k in st.query_params.keys():
        if k.endswith("_" + HIDE) and k not in pins:
            pins[k[: -len(HIDE) - 1]] = st.query_params.get(k) or ""
    return pins


def is_pinned(key: str) -> bool:
    """Whether a lesson link pins the setting whose widget is keyed ``key`` (``lesson_field``)."""
    for lesson, raw in _pins().items():
        if key.startswith(lesson + "_"):
            name = key[len(lesson) + 1:]
            return name in hidden_fields(raw, [name])
    return False


def _set_from_code(key: str) -> bool:
    """Whether this run set ``st.session_state[key]`` itself (loading a run, Reset…). Private
    API, hence the guard: unknown counts as set."""
    try:
        from streamlit.runtime.state import get_session_state
        return bool(get_session_state().is_new_state_value(key))
    except Exception:
        return True


def bound(fn: Callable[..., Any], key: str, label: str, default_arg: str, default: Any, **kw: Any) -> Any:
    """A widget keyed ``key`` whose value lives in the URL.

    The declared default goes with every run, except one that set the value from code (e.g.
    loading a pretrained run): Streamlit takes that value and would warn about the duplicate.
    Why every run: the URL holds a setting only where it differs from the default, and a browser
    that has to build a widget afresh (under load a rerun can leave it without its state) takes
    the URL's value or else the default. Sent only on the first run, as before, the default of
    the later runs was the widget's minimum: an upload's rerun under load then read every
    untouched setting at its minimum and rebuilt the model (2 of 5 uploads, CPU saturated).
    A setting pinned by the lesson link (``?<lesson>_hide=field,…``) is drawn read-only with a 🔒.
    """
    if key not in st.session_state or not _set_from_code(key):
        kw[default_arg] = default
    if is_pinned(key):
        label = f"🔒 {label}"
        kw["disabled"] = True
        kw["help"] = "Pinned by the lesson link your instructor shared." + (f" {kw['help']}" if kw.get("help") else "")
    return fn(label, key=key, bind="query-params", **kw)


def widget(key: str, d: Declaration, value: Any = None, **kw: Any) -> Any:
    """The declared widget for ``d`` under ``key``, starting at ``value`` (default: declared)."""
    value = d.default if value is None else value
    kw.setdefault("help", d.help)
    w = d.widget
    if w == "slider":
        lo, hi = d.bounds
        if d.step is not None:
            kw.setdefault("step", d.step)
        if d.fmt and not d.fmt.startswith("{"):
            kw.setdefault("format", d.fmt)
        return bound(st.slider, key, d.label, "value", value, min_value=lo, max_value=hi, **kw)
    if w == "number":
        lo, hi = d.bounds
        integer = isinstance(d.default, int)
        _drop_unusable_url_number(key, integer)
        return bound(st.number_input, key, d.label, "value", value, min_value=lo, max_value=hi,
                     step=d.step or (1 if integer else None), **kw)
    if w in ("select", "radio"):
        fn = st.selectbox if w == "select" else st.radio
        opts = list(d.options)
        if w == "radio":
            kw.setdefault("horizontal", True)
        return bound(fn, key, d.label, "index", opts.index(value), options=opts, **{"format_func": d.show, **kw})
    if w == "select_slider":
        return bound(st.select_slider, key, d.label, "value", value, options=list(d.options),
                     **{"format_func": d.show, **kw})
    if w == "multiselect":
        return tuple(bound(st.multiselect, key, d.label, "default", list(value), options=list(d.options),
                           **{"format_func": d.show, "max_selections": d.max_items, **kw}))
    if w == "toggle":
        return bound(st.toggle, key, d.label, "value", bool(value), **kw)
    if w == "text":
        return bound(st.text_input, key, d.label, "value", str(value), **kw)
    raise ValueError(f"{d.name} has no widget")


class Form:
    """A lesson's controls from its config's declarations.

        form = ui.Form(page, Gan1DConfig)
        with col: form.controls("lr_d", "lr_g", "batch_size")
        config = form.config(target=formula)          # derived fields given by the page

    ``to_widgets(config)`` maps a config back to widget values (the pretrained start), for every
    control the form drew; a page adds its derived widgets with ``derived``.
    """

    def __init__(self, page: Any, config_cls: type, derived: Callable[[Any], dict[str, Any]] | None = None) -> None:
        self.page = page
        self.config_cls = config_cls
        self.decls = settings.declarations(config_cls)
        self.values: dict[str, Any] = {}
        self._derived = derived

    def control(self, name: str, label: str | None = None, **kw: Any) -> Any:
        """Draw field ``name``'s widget here and return its value."""
        d = self.decls[name]
        if label is not None:
            d = dataclasses.replace(d, label=label)
        column = (getattr(self.page, "quick", None) or {}).get(name)
        if column is None:
            self.values[name] = widget(self.page.key(name), d, **kw)
            return self.values[name]
        # one of the lesson's key settings: in the row above the live view
        if d.widget == "radio":             # one line high in a narrow column
            d = dataclasses.replace(d, widget="select")
            kw.pop("horizontal", None)
        with column:
            self.values[name] = widget(self.page.key(name), d, **kw)
        return self.values[name]

    def controls(self, *names: str) -> list[Any]:
        return [self.control(n) for n in names]

    def config(self, **derived: Any) -> Any:
        """The config: drawn controls, then ``derived`` values, then the declared defaults."""
        kw = {**self.values, **derived}
        for name, d in self.decls.items():
            if name in kw and isinstance(d.default, float) and not isinstance(kw[name], bool):
                kw[name] = float(kw[name])
            elif name in kw and isinstance(d.default, int) and not isinstance(d.default, bool):
                kw[name] = int(kw[name])
        return self.config_cls(**kw)

    def to_widgets(self, cfg: Any) -> dict[str, Any]:
        out = {self.page.key(n): getattr(cfg, n) for n in self.values}
        for k, d in self.decls.items():
            if d.widget == "multiselect" and self.page.key(k) in out:
                out[self.page.key(k)] = list(out[self.page.key(k)])
        if self._derived is not None:
            out.update({self.page.key(k): v for k, v in self._derived(cfg).items()})
        return out


__all__ = ["Form", "bound", "is_pinned", "widget", "LEARNING_RATES", "forget_url_param",
           "rename_url_params"]
