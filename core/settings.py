"""Each setting declared once: a config dataclass field carries its bounds, options, help text,
widget and whether it is *live* (applied mid-run) or *structural* (a change rebuilds the model).

The UI builds its widgets from these declarations (``core.ui.Form``), the URL binding and the
pretrained start read them, and ``check`` validates any config against them, so a bound written
here is the bound everywhere (TensorFlow Playground's one table of settings is the model). No
Streamlit in here.

    @dataclass
    class Gan1DConfig:
        lr_d: float = live_field(1e-3, label="Discriminator", options=LEARNING_RATES,
                                 widget="select_slider", help="…")
        g_width: int = structural_field(15, label="G width", bounds=(2, 64))
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Sequence, TypeVar

T = TypeVar("T")

# Log-spaced, up to 10 so that a class can watch a run diverge.
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0,
                  3.0, 10.0)
SEED_BOUNDS = (0, 10_000)
WIDGETS = ("slider", "select", "select_slider", "radio", "toggle", "text", "number", "multiselect",
           "range", "none")


@dataclass(frozen=True)
class Declaration:
    """What the UI and the checks know about one config field."""

    name: str
    default: Any
    live: bool
    label: str
    help: str | None = None
    bounds: tuple[Any, Any] | None = None       # inclusive (lo, hi) for numbers
    step: Any = None
    options: tuple[Any, ...] | None = None      # allowed values (for tuples: allowed items)
    labels: dict[Any, str] | None = None        # option -> text shown
    widget: str = "slider"
    fmt: str | None = None                      # number format for sliders ("%.2f") or "{:g}"
    max_items: int | None = None                # multiselect: at most this many

    def show(self, value: Any) -> str:
        """An option as the student reads it."""
        if self.labels and value in self.labels:
            return self.labels[value]
        if self.fmt and self.fmt.startswith("{"):
            return self.fmt.format(value)
        return str(value)


def _field(default: Any, live: bool, label: str | None, help: str | None, bounds: Any, step: Any,
           options: Sequence[Any] | None, labels: dict[Any, str] | None, widget: str | None,
           fmt: str | None, max_items: int | None, meta: dict[str, Any]) -> Any:
    if widget is None:
        if options is not None:
            widget = "multiselect" if isinstance(default, tuple) else "select"
        elif isinstance(default, bool):
            widget = "toggle"
        elif isinstance(default, str):
            widget = "text"
        elif bounds is not None:
            widget = "slider"
        else:
            widget = "none"
    if widget not in WIDGETS:
        raise ValueError(f"unknown widget {widget!r}")
    decl = dict(live=live, label=label, help=help, bounds=tuple(bounds) if bounds else None, step=step,
                options=tuple(options) if options is not None else None, labels=labels, widget=widget,
                fmt=fmt, max_items=max_items)
    kw: dict[str, Any] = {"default_factory": lambda: default} if isinstance(default, (list, dict)) else {"default": default}
    return dataclasses.field(metadata={"decl": decl, "live": live, **meta}, **kw)


def live_field(default: Any, *, label: str | None = None, help: str | None = None, bounds: Any = None,
               step: Any = None, options: Sequence[Any] | None = None, labels: dict[Any, str] | None = None,
               widget: str | None = None, fmt: str | None = None, max_items: int | None = None,
               **meta: Any) -> Any:
    """A setting that can change while training runs (applied at the next chunk)."""
    return _field(default, True, label, help, bounds, step, options, labels, widget, fmt, max_items, meta)


def structural_field(default: Any, *, label: str | None = None, help: str | None = None, bounds: Any = None,
                     step: Any = None, options: Sequence[Any] | None = None, labels: dict[Any, str] | None = None,
                     widget: str | None = None, fmt: str | None = None, max_items: int | None = None,
                     **meta: Any) -> Any:
    """A setting whose change needs a new model (the run restarts at step 0)."""
    return _field(default, False, label, help, bounds, step, options, labels, widget, fmt, max_items, meta)


def seed_field(default: int = 0, label: str = "Seed") -> Any:
    """The run's seed: weights, data order and noise all follow from it."""
    return structural_field(default, label=label, bounds=SEED_BOUNDS, step=1, widget="number",
                            help="Same seed, same settings: the same run, step for step.")


def lr_field(default: float, label: str = "Learning rate", help: str | None = None) -> Any:
    """A live, log-spaced learning-rate slider."""
    return live_field(default, label=label, options=LEARNING_RATES, widget="select_slider", fmt="{:g}",
                      bounds=(LEARNING_RATES[0], LEARNING_RATES[-1]),
                      help=help or "Applies at once, mid-run. Too high and the run blows up: try it.")


def declarations(config_cls: type) -> dict[str, Declaration]:
    """Every field of a config class as a Declaration (undeclared fields: no widget)."""
    out = {}
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        d = dict(f.metadata.get("decl") or {"live": bool(f.metadata.get("live", False)), "widget": "none"})
        d["label"] = d.get("label") or f.name.replace("_", " ").capitalize()
        out[f.name] = Declaration(name=f.name, default=default, **d)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check(config: Any) -> None:
    """Raise ValueError naming the first field outside its declared bounds or options."""
    for name, d in declarations(type(config)).items():
        v = getattr(config, name)
        if d.bounds is not None and _is_number(d.default):
            lo, hi = d.bounds
            if not _is_number(v) or not math.isfinite(v) or not (lo <= v <= hi):
                raise ValueError(f"{d.label} must be between {lo:g} and {hi:g} (got {v!r})")
        # options with bounds are stops on a slider (learning rates): any value in bounds is fine
        if d.options is not None and d.bounds is None and d.widget not in ("text",):
            items = v if isinstance(d.default, tuple) else (v,)
            if not isinstance(items, tuple):
                raise ValueError(f"{d.label}: expected a list of choices")
            for item in items:
                if item not in d.options:
                    raise ValueError(f"{d.label}: {item!r} is not one of the choices")
            if d.max_items is not None and len(items) > d.max_items:
                raise ValueError(f"{d.label}: at most {d.max_items} choices")


# --------------------------------------------------------------------------- config helpers

def changed_fields(old: Any, new: Any) -> tuple[list[str], list[str]]:
    """Names of the fields that differ between two configs, split into (live, structural).

    Fields without a ``live`` mark count as structural: when unsure, restart.
    """
    if type(old) is not type(new):
        return [], ["(config type)"]
    live, structural = [], []
    for f in dataclasses.fields(old):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b and not (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)):
            (live if f.metadata.get("live", False) else structural).append(f.name)
    return live, structural


def with_live_fields(current: T, requested: T) -> T:
    """``current`` with every live field taken from ``requested`` (structural ones kept)."""
    return dataclasses.replace(current, **{f.name: getattr(requested, f.name)
                                           for f in dataclasses.fields(requested) if f.metadata.get("live")})


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_dict(config_cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a config, ignoring keys the current code no longer knows; lists become tuples
    where the declaration's default is a tuple (checkpoints store tuples as lists)."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    kw = {}
    for k, v in data.items():
        if k not in fields:
            continue
        f = fields[k]
        if isinstance(f.default, tuple) and isinstance(v, list):
            v = tuple(v)
        kw[k] = v
    return config_cls(**kw)
