"""Take it home: a run as a standalone PyTorch script and a Jupyter notebook, its history as CSV,
a chart as PNG or SVG for slides, and a lesson link. No Streamlit (core/ui/takehome.py draws it).

A lesson offers the export by a module ``core.lessons.<key>.export`` with
  * ``script(cfg) -> str``: a plain PyTorch script in Jupytext's percent format (``# %%`` code
    cells, ``# %% [markdown]`` text cells) that reproduces a run of ``cfg``, seed included. It has
    a line ``STEPS = <n>`` (how long it trains) and leaves a dict ``history``: name -> [one float
    per step], which the parity tests compare with the app's trainer;
  * ``files(cfg) -> dict[str, bytes]`` (optional): data files the script reads from its folder;
  * ``PARITY``: {script history name: trainer history key}, ``PARITY_STEPS``, ``PARITY_RTOL``,
    ``PARITY_ATOL`` (for the first steps), and ``MISMATCH``: what cannot match exactly, and why.
"""
from __future__ import annotations

import csv
import importlib
import inspect
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import zipfile
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np

from core import settings

CELL = "# %%"
MARKDOWN = "# %% [markdown]"
HIDE = "hide"          # ?<lesson>_hide=lr_d,lr_g pins those settings; "*" pins all of them
STEPS_LINE = re.compile(r"^STEPS = .*$", re.M)


def exporter(key: str) -> Any | None:
    """The lesson's export module, or None where the lesson has none yet."""
    try:
        return importlib.import_module(f"core.lessons.{key}.export")
    except ModuleNotFoundError as e:
        if e.name != f"core.lessons.{key}.export":
            raise
        return None


def settings_cell(cfg: Any, names: dict[str, str], steps: int) -> str:
    """The settings cell of a script: ``NAME = value  # label`` for each config field named in
    ``names`` (field -> constant), then ``STEPS``. Values are Python literals (repr)."""
    decls = settings.declarations(type(cfg))
    lines = [CELL, "# The run's settings, as they were on the page (change them and run again)."]
    for field, const in names.items():
        value = getattr(cfg, field)
        value = list(value) if isinstance(value, tuple) else value
        label = decls[field].label if field in decls else field
        lines.append(f"{const} = {value!r}  # {label}")
    lines.append(f"STEPS = {int(steps)}  # how many training steps this script runs")
    return "\n".join(lines) + "\n"


def source_of(obj: Any) -> str:
    """The app's own source text of a function or class, dedented (a method's class-level
    indentation removed), exactly as the exported script carries it."""
    return textwrap.dedent(inspect.getsource(obj)).rstrip("\n") + "\n"


def sources(*objs: Any, **constants: Any) -> str:
    """Code for a script: ``NAME = value`` for each constant (a Python literal, repr), then the
    source of each object in ``objs`` as the app runs it (``source_of``), two blank lines apart.
    Nothing is rewritten: the script's networks are the app's classes, so the two cannot drift."""
    parts = ["\n".join(f"{name} = {value!r}" for name, value in constants.items())] if constants else []
    parts += [source_of(obj).rstrip("\n") for obj in objs]
    return "\n\n\n".join(parts) + "\n"


def with_steps(src: str, steps: int) -> str:
    """The script with its ``STEPS = …`` line set to ``steps``."""
    if not STEPS_LINE.search(src):
        raise ValueError("the script has no 'STEPS = ' line")
    return STEPS_LINE.sub(f"STEPS = {int(steps)}", src, count=1)


def _cells(src: str) -> list[tuple[str, str]]:
    """(kind, text) per cell of a percent-format script; text before the first marker is code."""
    cells: list[tuple[str, list[str]]] = [("code", [])]
    for line in src.splitlines():
        if line.startswith(MARKDOWN):
            cells.append(("markdown", []))
        elif line.startswith(CELL):
            cells.append(("code", []))
        elif cells[-1][0] == "markdown":
            cells[-1][1].append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            cells[-1][1].append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells if "".join(lines).strip()]


def notebook(src: str) -> str:
    """A Jupyter notebook (nbformat 4.5 JSON) with one cell per ``# %%`` cell of ``src``."""
    cells = []
    for i, (kind, text) in enumerate(_cells(src)):
        cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{i}", "metadata": {},
                                "source": text.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                       "language_info": {"name": "python"}}}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def bundle(key: str, src: str, files: dict[str, bytes]) -> bytes:
    """A zip with the script, the notebook and the data files they read."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{key}/{key}.py", src)
        z.writestr(f"{key}/{key}.ipynb", notebook(src))
        for name, data in files.items():
            z.writestr(f"{key}/{name}", data)
    return buf.getvalue()


def history_csv(histories: dict[str, Any]) -> str:
    """Every history of a run in one CSV: a column saying which history, the step, then one
    column per value (empty where that history has no such value). Long runs are binned by
    ``core.live.History`` (each row is the mean of its ``count`` steps)."""
    tables = {name: h.arrays() for name, h in histories.items()}
    cols: list[str] = []
    for t in tables.values():
        cols += [k for k in t if k not in ("step", "count") and k not in cols]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["history", "step", "count", *cols])
    for name, t in tables.items():
        for i in range(len(t["step"])):
            row = [name, int(t["step"][i]), int(t["count"][i])]
            row += ["" if k not in t or not np.isfinite(t[k][i]) else f"{t[k][i]:.9g}" for k in cols]
            w.writerow(row)
    return out.getvalue()


def _plain(o: Any) -> Any:
    """JSON-safe: Arrow tables as rows, numpy numbers as Python ones, NaN/inf as null."""
    if hasattr(o, "to_pylist"):
        return _plain(o.to_pylist())
    if isinstance(o, dict):
        return {k: _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, np.ndarray):
        return _plain(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not np.isfinite(o):
        return None
    return o


def chart_image(spec: dict, fmt: str, width: int = 800) -> bytes:
    """A chart as an SVG or PNG file for slides (white background, ``width`` px wide where the
    spec stretches to its container). Needs the ``vl-convert-python`` package."""
    import vl_convert as vlc        # imported on demand: only this button needs it
    spec = _plain(spec)
    spec.setdefault("background", "white")
    if "width" not in spec or spec["width"] == "container":
        for part in ("hconcat", "vconcat", "concat"):
            if part in spec:
                break
        else:
            spec["width"] = width
    text = json.dumps(spec, allow_nan=False)
    if fmt == "svg":
        return vlc.vegalite_to_svg(text).encode()
    if fmt == "png":
        return vlc.vegalite_to_png(text, scale=2)
    raise ValueError(f"unknown image format {fmt!r}")


# The run token of a joined student (core.ui.classroom: ``?run=``) is theirs alone: a link made to
# be handed out keeps the class (others may join it) but never the token (it names their run).
PRIVATE_PARAMS = ("run",)


def lesson_link(url: str, params: dict[str, list[str]], lesson: str, hide: list[str],
                present: bool = False) -> str:
    """The page's address with the current settings, ``?<lesson>_hide=…`` pinning ``hide`` and
    ``present=true`` if asked. ``params``: the current query parameters (name -> values); the
    student's own ones (PRIVATE_PARAMS) are left out."""
    parts = urlsplit(url)
    keep = [(k, v) for k, vs in params.items() for v in vs
            if k not in (f"{lesson}_{HIDE}", "present", *PRIVATE_PARAMS)]
    if hide:
        keep.append((f"{lesson}_{HIDE}", ",".join(hide)))
    if present:
        keep.append(("present", "true"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(keep), ""))


def hidden_fields(raw: str | None, names: list[str]) -> set[str]:
    """The settings a link pins: ``raw`` is the ``?<lesson>_hide=`` value, "*" meaning all."""
    if not raw:
        return set()
    asked = {t.strip() for t in raw.split(",") if t.strip()}
    return set(names) if "*" in asked or "all" in asked else asked & set(names)


# ----------------------------------------------------------------------------- running scripts

def run_script(src: str, steps: int, workdir: str | os.PathLike, files: dict[str, bytes] | None = None,
               timeout: float = 600) -> dict[str, list[float]]:
    """Run an exported script for ``steps`` steps in a fresh Python (one CPU thread, no display)
    and return its ``history``. Used by the parity tests and the export benchmark."""
    work = pathlib.Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    for name, data in (files or {}).items():
        (work / name).write_bytes(data)
    tail = ("\nimport json as _json\nprint('HISTORY_JSON ' + _json.dumps("
            "{k: [float(x) for x in v] for k, v in history.items()}))\n")
    (work / "run.py").write_text(with_steps(src, steps) + tail)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("PYTHONPATH", None)      # standalone: it must not import the app
    done = subprocess.run([sys.executable, "run.py"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the exported script failed:\n{done.stderr[-3000:]}")
    line = next(l for l in done.stdout.splitlines()[::-1] if l.startswith("HISTORY_JSON "))
    return json.loads(line[len("HISTORY_JSON "):])
