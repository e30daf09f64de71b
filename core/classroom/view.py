"""What the lecturer's page shows, as plain data (no Streamlit): the class table, the small
multiples of the loss curves, one run large, the sweep's chart, and the links sent to students.

Settings are compared with the lesson's declared defaults, so the table shows only what a student
changed. Nicknames go into the data as text (Vega draws text, never HTML or Markdown).
"""
from __future__ import annotations

import hashlib
import importlib
import math
import urllib.parse
from functools import lru_cache
from typing import Any

from core import registry, settings

SMALL_COLUMNS = 10                  # small multiples per row
SMALL_SIZE = (110, 70)              # one small multiple, pixels


@lru_cache(maxsize=None)
def declarations(lesson: str) -> dict[str, settings.Declaration]:
    """The lesson's declared settings (its package is imported by Home already)."""
    cls = importlib.import_module(registry.lesson(lesson).package).Trainer.Config
    return settings.declarations(cls)


@lru_cache(maxsize=None)
def history_keys(lesson: str) -> tuple[str, ...]:
    return tuple(importlib.import_module(registry.lesson(lesson).package).Trainer.HISTORY_KEYS)


def loss_keys(lesson: str) -> tuple[str, ...]:
    keys = history_keys(lesson)
    return tuple(k for k in keys if "loss" in k) or keys[:1]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def changed_settings(lesson: str, run_settings: dict[str, Any]) -> dict[str, Any]:
    """The run's settings that differ from the lesson's defaults (seed included)."""
    decls = declarations(lesson)
    return {k: v for k, v in run_settings.items() if k in decls and not _same(v, decls[k].default)}


def label(run: dict[str, Any]) -> str:
    """A run's name in charts: the nickname, made unique by 3 characters of a hash of its token."""
    return f"{run['nickname']} ·{_digest(run['token']) % 1000:03d}"


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def table(runs: list[dict[str, Any]], lesson: str, now: float) -> list[dict[str, Any]]:
    """One row per run: nickname, settings changed, step, each key metric, seconds since seen."""
    out = []
    for r in runs:
        changed = changed_settings(lesson, r["settings"])
        row = {"nickname": r["nickname"],
               "settings changed": ", ".join(f"{k}={_show(lesson, k, v)}" for k, v in changed.items()) or "defaults",
               "step": int(r["step"])}
        row.update({k: r["metrics"].get(k) for k in history_keys(lesson)})
        row["seen (s ago)"] = round(max(0.0, now - float(r["updated"])), 1)
        out.append(row)
    return out


def _show(lesson: str, name: str, value: Any) -> str:
    d = declarations(lesson).get(name)
    if isinstance(value, list):
        return "+".join(d.show(v) if d else str(v) for v in value)
    return d.show(value) if d is not None and d.options else (f"{value:g}" if isinstance(value, float) else str(value))


def curves(runs: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Long-form rows {run, key, step, value} of every run's thinned history."""
    rows = []
    for r in runs:
        h, name = r["history"], label(r)
        for k in keys:
            for s, v in zip(h.get("step", []), h.get(k, [])):
                if v is not None:
                    rows.append({"run": name, "key": k, "step": s, "value": v})
    return rows


def small_multiples_spec(rows: list[dict[str, Any]], columns: int = SMALL_COLUMNS) -> dict[str, Any]:
    """Every run's loss curves, one small chart each (constant spec: only the data changes)."""
    w, h = SMALL_SIZE
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows},
        "facet": {"field": "run", "type": "nominal", "title": None, "header": {"labelFontSize": 10}},
        "columns": columns,
        "spec": {"width": w, "height": h, "mark": {"type": "line", "strokeWidth": 1},
                 "encoding": {"x": {"field": "step", "type": "quantitative", "axis": None},
                              "y": {"field": "value", "type": "quantitative", "axis": {"title": None, "tickCount": 3}},
                              "color": {"field": "key", "type": "nominal", "legend": {"orient": "top", "title": None}}}},
        "resolve": {"scale": {"y": "independent"}},
    }


def one_run_spec(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows}, "width": "container", "height": 320,
        "mark": {"type": "line"},
        "encoding": {"x": {"field": "step", "type": "quantitative"},
                     "y": {"field": "value", "type": "quantitative", "title": None},
                     "color": {"field": "key", "type": "nominal", "legend": {"orient": "bottom", "title": None}}},
    }


# ------------------------------------------------------------------------------ sweeps

def sweepable(lesson: str) -> dict[str, settings.Declaration]:
    """Settings a class can sweep: those with a widget and a value a link can carry."""
    return {k: d for k, d in declarations(lesson).items()
            if d.widget in ("slider", "number", "select", "radio", "select_slider") and d.name != "seed"}


def new_sweep(lesson: str, setting: str, values: list[Any], metric: str) -> dict[str, Any]:
    """The lecturer pins every other sweepable setting at the lesson's default."""
    decls = sweepable(lesson)
    if setting not in decls:
        raise ValueError(f"{setting!r} cannot be swept")
    if not values:
        raise ValueError("give at least one value")
    pins = {k: d.default for k, d in decls.items() if k != setting}
    return {"lesson": lesson, "setting": setting, "values": list(values), "pins": pins, "metric": metric}


def dealt_value(sweep: dict[str, Any], token: str) -> Any:
    """The value a student is dealt: spread evenly over the class by their run token."""
    return sweep["values"][_digest(token + sweep["setting"]) % len(sweep["values"])]


def url_value(lesson: str, name: str, value: Any) -> str:
    """A setting as its widget reads it from the address: an option's shown text, else the number."""
    d = declarations(lesson)[name]
    if d.options:
        return d.show(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def sweep_link(sweep: dict[str, Any], value: Any) -> tuple[str, dict[str, str]]:
    """(page, query params) opening the sweep's lesson with every pin and ``value``, all pinned."""
    lesson = sweep["lesson"]
    params = {f"{lesson}_{k}": url_value(lesson, k, v) for k, v in sweep["pins"].items()}
    params[f"{lesson}_{sweep['setting']}"] = url_value(lesson, sweep["setting"], value)
    params[f"{lesson}_hide"] = ",".join([*sweep["pins"], sweep["setting"]])
    return registry.lesson(lesson).page, params


def sweep_points(runs: list[dict[str, Any]], sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """(value, final metric) of every run that follows the sweep's pins."""
    out = []
    for r in runs:
        s = r["settings"]
        if r["lesson"] != sweep["lesson"] or sweep["setting"] not in s:
            continue
        if not all(_same(s.get(k), v) for k, v in sweep["pins"].items()):
            continue
        m = r["metrics"].get(sweep["metric"])
        if m is not None and r["step"] > 0:
            out.append({"value": s[sweep["setting"]], "metric": m, "run": label(r), "step": int(r["step"])})
    return out


def sweep_spec(sweep: dict[str, Any], points: list[dict[str, Any]]) -> dict[str, Any]:
    vals = [float(v) for v in sweep["values"] if isinstance(v, (int, float)) and not isinstance(v, bool)]
    log = len(vals) == len(sweep["values"]) and vals and min(vals) > 0 and max(vals) / min(vals) >= 10
    x: dict[str, Any] = {"field": "value", "title": sweep["setting"]}
    x.update({"type": "quantitative", "scale": {"type": "log" if log else "linear"}} if vals and len(vals) == len(sweep["values"])
             else {"type": "nominal"})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": points}, "width": "container", "height": 300,
        "layer": [
            {"mark": {"type": "point", "filled": True, "size": 60, "opacity": 0.7},
             "encoding": {"x": x, "y": {"field": "metric", "type": "quantitative", "title": sweep["metric"]},
                          "tooltip": [{"field": "run"}, {"field": "step"}, {"field": "metric"}]}},
            {"mark": {"type": "line", "color": "black"},
             "encoding": {"x": x, "y": {"aggregate": "median", "field": "metric", "type": "quantitative"}}},
        ],
    }


def step_link(lesson: str, step: int | None) -> tuple[str, dict[str, str]]:
    """(page, query params) of a lesson, at guided experiment ``step`` if given (``?<key>_step=N``)."""
    params = {f"{lesson}_step": str(int(step))} if step else {}
    return registry.lesson(lesson).page, params


def query_string(params: dict[str, str]) -> str:
    return urllib.parse.urlencode(params)
