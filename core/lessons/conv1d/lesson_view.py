"""What the page writes and draws around the live charts, from the settings alone (no Streamlit,
no trainer): the task's note, the scoreboard, the receptive-field drawing and the output-length
tables. Every number here comes from the formulas in ``fields``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.lessons.conv1d import charts
from core.lessons.conv1d.config import DRAW_MODELS, N_EVAL, Conv1dConfig, Conv1dView
from core.lessons.conv1d.data import class_names, gap_range
from core.lessons.conv1d.fields import conv_stack_lengths, receptive_field, stack_lengths
from core.lessons.conv1d.model import MODELS, specs_for
from core.lessons.conv1d.text import TASK_NOTE


def task_note(cfg: Conv1dConfig) -> str:
    T = int(cfg.seq_len)
    if cfg.task == "control":
        return TASK_NOTE["control"]
    lo, hi = gap_range(T)
    r = receptive_field(specs_for("conv", cfg))
    verdict = ("shorter than every gap, so it should stay near 50 %." if r < lo else
               "longer than every gap, so it can see both spikes and learn." if r > hi else
               f"longer than the gaps up to {r - 1} steps, so it can learn those sequences and not the rest.")
    return TASK_NOTE["longrange"].format(lo=lo, hi=hi, r=r, verdict=verdict)


def snapshot_kwargs(view: Conv1dView) -> dict[str, Any]:
    return {"act_model": view.act_model, "act_layer": view.act_layer, "act_filter": view.act_filter,
            "act_series": view.act_series}


def _pct(v: float) -> str:
    return "–" if v != v else f"{100 * v:.1f} %"


def scoreboard(snap: dict[str, Any]) -> str:
    """One line: each model's held-out accuracy and its own steps per second."""
    parts = []
    for m in snap["models"]:
        rate = snap["steps_per_s"][m]
        parts.append(f"**{MODELS[m]}** {_pct(snap['acc'][m])}" + ("" if rate != rate else f" · {rate:,.0f} steps/s"))
    # what the guide's claims read: say what it is measured on and how coarse it is
    return (f"Held-out accuracy (the same {N_EVAL} sequences for every seed, every "
            f"{snap.get('eval_every', 50)} steps; one sequence is {100 / N_EVAL:.1f} %): " + " &nbsp;|&nbsp; ".join(parts))


def activation_caption(snap: dict[str, Any]) -> str:
    act = snap["act"]
    label = class_names(snap["task"])[snap["label"]] if snap["label"] < snap["n_classes"] else ""
    if act is None:
        return "That model is not in this run: tick it under *Models side by side*."
    return (f"Filter {act['channel']} of {act['channels']}, layer {act['layer']} of {act['layers']} of the "
            f"**{MODELS[act['model']]}** (after its ReLU), under held-out series {act['series']} "
            f"(class: *{label}*). Each dot sits under the last step (causal stack) or the middle of the steps it reads.")


@dataclass
class Drawing:
    spec: dict | None = None
    sentence: str = ""
    error: str | None = None


def field_drawing(cfg: Conv1dConfig, view: Conv1dView) -> Drawing:
    """The receptive-field drawing of the chosen model and the sentence that goes with it."""
    T, model = int(cfg.seq_len), view.field_model
    specs = specs_for(model, cfg)
    lengths = stack_lengths(T, specs)
    if len(lengths) <= len(specs) or lengths[-1] < 1:
        return Drawing(error=f"The {DRAW_MODELS[model]} has no output at T = {T} "
                             f"(lengths {' → '.join(str(max(n, 0)) for n in lengths)}).")
    causal = model == "wavenet"
    t = min(int(view.out_step), T - 1)
    s = charts.field_summary(T, specs, t, causal)
    spec = charts.field_chart(T, specs, t, causal)
    fut = ("none of them after the output's step: **causal**" if s["future"] == 0 else
           f"**{s['future']}** of them after the output's step (the shaded future): not causal")
    clip = "" if s["n"] == s["r"] else f" ({s['r'] - s['n']} fall outside the sequence)"
    return Drawing(spec=spec, sentence=(
        f"Receptive field by formula: **r = {s['r']}** input steps. The output at step {s['t']:g} reads inputs "
        f"{s['lo']}–{s['hi']}, {s['n']} steps{clip}, {fut}."))


def length_table(view: Conv1dView) -> str:
    """The calculator's table: L_out = ⌊(L_in + 2p − d(k − 1) − 1)/s⌋ + 1 per layer, then pooling."""
    k, s, p, d, pool = view.calc_kernel, view.calc_stride, view.calc_padding, view.calc_dilation, view.calc_pool
    rows = conv_stack_lengths(view.calc_len, k, s, p, d, view.calc_layers, pool)
    head = "| layer | L_in | ⌊(L_in + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 |{ph}\n|---|---|---|{pd}\n".format(
        p=p, d=d, k=k, s=s, ph=f" after max-pool {pool} |" if pool > 1 else "", pd="---|" if pool > 1 else "")
    lines = []
    for r in rows:
        out = f"⌊{r['numerator']} / {s}⌋ + 1 = **{r['L_out']}**" if r["L_out"] > 0 else f"{r['L_out']}: no output"
        pooled = f" {r['after_pool']} |" if pool > 1 and "after_pool" in r else (" – |" if pool > 1 else "")
        lines.append(f"| {r['layer']} | {r['L_in']} | {out} |{pooled}")
    last = rows[-1]
    end = last.get("after_pool", last["L_out"])
    tail = ("" if end > 0 else "\n\nThe stack runs out of time steps: fewer layers, a smaller kernel or dilation, "
            "or padding.")
    return head + "\n".join(lines) + tail


def model_lengths(cfg: Conv1dConfig) -> str:
    """The lengths through this run's Conv1D + pooling model (by formula; equal to torch's, tested)."""
    lengths = stack_lengths(int(cfg.seq_len), specs_for("conv", cfg))
    return ("This run's Conv1D + pooling model (conv k = {k}, no padding, then max-pool 2, × {n}): "
            "{chain}.").format(k=cfg.conv_kernel, n=cfg.conv_layers,
                               chain=" → ".join(str(max(x, 0)) for x in lengths))
