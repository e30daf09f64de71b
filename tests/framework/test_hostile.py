"""Hostile and odd input: every widget of every page at its extremes and at random, explicit
garbage (formulas, bit strings, grids, uploads, exploding learning rates), and corrupt or missing
pretrained files. Whatever happens, the page must not raise: problems get a message.

The widget sweep enumerates the widgets from the AppTest tree, so a widget added later is covered
without touching this file. Selection widgets are set by their *label* (what the browser sends),
so options with a ``format_func`` need no knowledge of the raw values.
"""
from __future__ import annotations

import os
import pathlib
import random
import re
import time

import pytest
import torch
from streamlit.proto.WidgetStates_pb2 import WidgetState
from apptest_util import PAGES, is_training, press_pause, press_train
from streamlit.testing.v1 import AppTest

from core import checkpoints, registry

ROOT = pathlib.Path(__file__).resolve().parents[2]
KINDS = ("slider", "number_input", "selectbox", "multiselect", "radio", "toggle", "checkbox",
         "text_input", "text_area", "select_slider")
RANDOM_COMBOS = 6        # per page, on top of all-min and all-max

# Messages that mean a bug was caught and shown, not a problem with the input.
BUG_MARKERS = ("Traceback", "Training stopped:", "Could not draw the charts", "Could not read the model")


def open_page(short: str, **query) -> AppTest:
    """The lesson's page on its live view (``registry`` says which), with ``query`` in the URL."""
    query = {**registry.lesson(short).live_query, **query}
    at = AppTest.from_file(str(ROOT / PAGES[short]), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    check_clean(at, f"{short}: open")
    return at


def messages(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.warning, *at.info)]


def check_clean(at: AppTest, ctx: str) -> None:
    """No exception element, no traceback text, no bug caught by the page's safety nets."""
    assert not at.exception, f"{ctx}: {[e.value for e in at.exception]}"
    texts = messages(at) + [m.value for m in (*at.markdown, *at.code, *at.caption)]
    bad = [t for t in texts if any(b in t for b in BUG_MARKERS)]
    assert not bad, f"{ctx}: {bad}"


def on_live_view(at: AppTest, short: str) -> bool:
    """False when a page with several views shows one that trains nothing (upsampling's viewer)."""
    for key, value in registry.lesson(short).live_query.items():
        if key in at.session_state and value not in str(at.session_state[key]):
            return False
    return True


def counter(at: AppTest) -> int | None:
    """The live panel's 'Steps/Epochs/Iterations trained', or None when there is no run."""
    for m in at.metric:
        if m.label.endswith("s trained"):
            return int(m.value.replace(",", ""))
    return None


# --------------------------------------------------------------------------- driving widgets

def _force_state(w, fill) -> None:
    """Make ``w`` report the widget state ``fill(ws)`` writes, as the browser would send it."""
    base = type(w)

    class Forced(base):  # type: ignore[misc, valid-type]
        @property
        def _widget_state(self) -> WidgetState:
            ws = WidgetState()
            ws.id = self.id
            fill(ws)
            return ws

    Forced.__name__ = base.__name__
    w.__class__ = Forced


def set_labels(w, labels) -> None:
    """Select options of a selectbox/radio (one label) or multiselect/select_slider (a list) by label."""
    if w.type in ("multiselect", "select_slider"):
        _force_state(w, lambda ws: ws.string_array_value.data.extend(labels))
    else:
        _force_state(w, lambda ws: setattr(ws, "string_value", labels))


GARBAGE_TEXT = ["", " ", ";", ";;;", "0", "1", "-1", "x", "nan", "inf", "-inf", "1e309", "1e-320",
                "1, 2; 3, 4", "1,2,3;4,5,6;7,8,9", "1 2\n3 4", "1;2", "0101", "10a2", "1" * 120,
                "__import__('os')", "x**", "1/0", "🙂", "\x00\x01", "<script>alert(1)</script>",
                "'; DROP TABLE x; --", "a" * 5000]


def _grid(lo: float, hi: float, step: float) -> list[float]:
    n = int(round((hi - lo) / step)) if step else 0
    return [round(lo + i * step, 10) for i in range(n + 1)] or [lo]


def choose(w, mode: str, rng: random.Random, defaults: dict):
    """Set ``w`` to its min, max or a random value; return a description for messages."""
    kind = w.type
    if kind == "slider":
        cur = w.value
        is_int = isinstance(cur[0] if isinstance(cur, (list, tuple)) else cur, int)
        grid = _grid(float(w.min), float(w.max), float(w.step or 1))
        conv = (lambda v: int(round(v))) if is_int else float
        if isinstance(cur, (list, tuple)):
            a, b = {"min": (grid[0], grid[0]), "max": (grid[-1], grid[-1])}.get(
                mode, tuple(sorted(rng.choice(grid) for _ in range(2))))
            v = (conv(a), conv(b))
        else:
            v = conv({"min": grid[0], "max": grid[-1]}.get(mode, rng.choice(grid)))
        w.set_value(v)
        return v
    if kind == "number_input":
        is_int = isinstance(w.value, int)
        lo = w.min if w.min is not None else (-(2 ** 53) + 1 if is_int else -1e300)
        hi = w.max if w.max is not None else (2 ** 53 - 1 if is_int else 1e300)
        if mode == "min":
            v = lo
        elif mode == "max":
            v = hi
        elif w.min is not None and w.max is not None:
            v = rng.uniform(lo, hi)
        else:
            v = rng.choice([lo, hi, -1e6, -2.5, 0, 1, 3.25, 1e9])
        v = int(v) if is_int else float(v)
        w.set_value(v)
        return v
    if kind in ("selectbox", "radio"):
        opts = list(w.options)
        label = {"min": opts[0], "max": opts[-1]}.get(mode) or rng.choice(opts)
        set_labels(w, label)
        return label
    if kind == "select_slider":
        opts = list(w.options)
        if isinstance(w.value, (list, tuple)):
            labels = {"min": [opts[0]] * 2, "max": [opts[-1]] * 2}.get(mode) or sorted(
                rng.sample(opts, 2), key=opts.index)
        else:
            labels = [{"min": opts[0], "max": opts[-1]}.get(mode) or rng.choice(opts)]
        set_labels(w, labels)
        return labels
    if kind == "multiselect":
        opts = list(w.options)
        cap = w.max_selections or len(opts)
        labels = {"min": [], "max": opts[:cap]}.get(mode)
        if labels is None:
            labels = rng.sample(opts, rng.randint(0, min(cap, len(opts))))
        set_labels(w, labels)
        return labels
    if kind in ("toggle", "checkbox"):
        v = {"min": False, "max": True}.get(mode, rng.random() < 0.5)
        w.set_value(v)
        return v
    if kind in ("text_input", "text_area"):
        cap = w.max_chars or 10_000
        if mode == "min":
            v = ""
        elif mode == "max":
            v = ("9, " * cap)[:cap]
        else:
            # half the time a sensible value (the default), so the rest of the page is reached too
            v = defaults.get(w.key, "") if rng.random() < 0.5 else rng.choice(GARBAGE_TEXT)[:cap]
        w.set_value(v)
        return v
    raise AssertionError(kind)


def widgets(at: AppTest) -> list:
    out = []
    for kind in KINDS:
        out.extend(w for w in at.get(kind) if not w.disabled and w.key is not None)
    return out


def press_steps(at: AppTest, short: str, ctx: str) -> None:
    """Press every Step-like button; a Step that trains nothing must come with a message."""
    keys = sorted(b.key for b in at.button if b.key and re.fullmatch(f"{short}_step_\\d+", b.key))
    for key in keys:
        before = counter(at)
        at.button(key=key).click().run()
        check_clean(at, f"{ctx}, pressing {key}")
        if key.endswith("_0"):
            after = counter(at)
            if after is None or before is None or after <= before:
                assert messages(at), f"{ctx}: {key} trained nothing and the page says nothing"


def drive(at: AppTest, short: str, mode: str, rng: random.Random, defaults: dict) -> list:
    """Set every widget (twice: some appear only after others change), run, press the steps."""
    chosen = []
    for _ in range(2):
        for w in widgets(at):
            chosen.append((w.key, choose(w, mode, rng, defaults)))
        at.run()
        check_clean(at, f"{short} {mode}: {chosen[-40:]}")
    if counter(at) is None and on_live_view(at, short):
        assert at.error, f"{short} {mode}: no run and no error message: {chosen}"
    press_steps(at, short, f"{short} {mode}")
    if mode == "min" and counter(at) is not None:       # Train (one live frame) and Pause
        press_train(at, short)
        check_clean(at, f"{short} {mode}: Train")
        press_pause(at, short)
        check_clean(at, f"{short} {mode}: Pause")
        assert not is_training(at, short)
    return chosen


@pytest.mark.parametrize("short", list(PAGES))
def test_every_widget_at_min_max_and_random(short):
    rng = random.Random(f"hostile-{short}")
    at = open_page(short)
    defaults = {w.key: w.value for w in at.get("text_input")}
    for mode in ["min", "max"] + ["random"] * RANDOM_COMBOS:
        drive(at, short, mode, rng, defaults)
    # back to the defaults: the page recovers from whatever the sweep left
    at = open_page(short)
    press_steps(at, short, f"{short} fresh")


# --------------------------------------------------------------------------- the URL

URL_GARBAGE = ["nan", "abc", "", "99999999", "-5", "0.5", "1,2", "[1, 2]", "__import__('os')", "\x00", "10a2",
               "1e-400", "inf", "-1e309,1e309", "nan,nan", "-inf"]
INFINITE = {"inf", "-inf", "-1e309,1e309"}   # integer number inputs: see test_infinite_number_in_the_url


@pytest.mark.parametrize("short", list(PAGES))
def test_garbage_in_the_url(short):
    """A shared link can say anything: every widget key of the page gets garbage from the URL
    (rotated so each key meets several values). Unusable values fall back or get a message."""
    first = open_page(short)
    keys = [w.key for w in widgets(first)]
    int_numbers = {w.key for w in first.number_input if isinstance(w.value, int)}
    for r in range(4):
        at = AppTest.from_file(str(ROOT / PAGES[short]), default_timeout=120)
        for i, k in enumerate(keys):
            v = URL_GARBAGE[(i + 4 * r) % len(URL_GARBAGE)]
            at.query_params[k] = "nan" if k in int_numbers and v in INFINITE else v
        at.run()
        check_clean(at, f"{short}: URL garbage round {r}")
        if counter(at) is None and on_live_view(at, short):
            assert at.error, f"{short}: no run and no message"
        else:
            press_steps(at, short, f"{short}: URL garbage round {r}")


def test_infinite_number_in_the_url():
    """Streamlit 1.67 reads an integer number_input's URL value with int(float(v)): 'inf' raised
    OverflowError inside ui.number before the page could say anything. ui.number now drops such
    a value, and the seed falls back to its default."""
    for short in PAGES:
        for value in ("inf", "-1e309"):
            at = AppTest.from_file(str(ROOT / PAGES[short]), default_timeout=120)
            at.query_params[f"{short}_seed"] = value
            at.run()
            if any("cannot convert float infinity to integer" in e.value for e in at.exception):
                raise OverflowError(f"{short}: {at.exception[0].value}")
            check_clean(at, f"{short}: seed={value} in the URL")
            press_steps(at, short, f"{short}: seed={value} in the URL")


# --------------------------------------------------------------------------- learning rates

@pytest.mark.parametrize("short", list(PAGES))
def test_exploding_learning_rates_give_a_message(short):
    """Every learning-rate widget at its maximum. With SGD (where offered) the run diverges and
    the page says so; with Adam the steps stay bounded. Either way: no exception."""
    for opt in ("sgd", None):
        at = open_page(short)
        lrs = [w for w in at.select_slider if re.fullmatch(f"{short}_lr(_.*)?", w.key)]
        assert lrs, "every page has a learning-rate widget"
        for w in lrs:
            set_labels(w, [w.options[-1]])
        opt_box = [w for w in at.selectbox if w.key == f"{short}_optimizer"]
        if opt is not None:
            if not opt_box:
                continue
            opt_box[0].set_value(opt)
        at.run()
        check_clean(at, f"{short}: lr max, {opt}")
        runner = at.session_state[f"{short}_runner"]
        for _ in range(3):
            at.button(key=f"{short}_step_0").click().run()
            check_clean(at, f"{short}: lr max step")
        runner.train_for(0.5)
        at.run()
        check_clean(at, f"{short}: lr max after training")
        if opt == "sgd":
            assert any("blew up" in e.value for e in at.error), messages(at)
            before = counter(at)
            press_train(at, short)                                # Train after a blow-up: says why not
            assert not is_training(at, short) and any("won't start" in w.value for w in at.warning)
            at.button(key=f"{short}_step_0").click().run()
            check_clean(at, f"{short}: step after divergence")
            assert counter(at) == before and any("blew up" in e.value for e in at.error)
            at.button(key=f"{short}_reset_btn").click().run()
            assert not any("blew up" in e.value for e in at.error)
        elif runner.error:
            assert any(runner.error[:40] in e.value for e in at.error)


# --------------------------------------------------------------------------- 1D GAN formulas

FORMULAS = ["__import__('os').system('touch {marker}')", "x**", "1/0", "", " ", "x" * 250,
            "+".join(["x"] * 100), "(" * 60 + "x" + ")" * 60, "9**9**9", "10**x**5", "exp(exp(exp(x)))",
            "log(x)", "sqrt(-1 - x*x)", "1/x", "x/0", "0*x + nan", "inf", "x.real", "[x]", "x if x else 1",
            "lambda: 1", "np.sin(x)", "open('/etc/passwd')", "sin", "sin(x, x)", "sin(*x)", "x; import os",
            "x\nimport os", "'a'", "b'x'", "1e308*1e308*x", "(-8)**(1/3)", "x ^ 2", "x²", "∑x", "\x00",
            "x = 1", "globals()", "().__class__", "x**0.5"]


def test_garbage_formulas_get_messages_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    at = open_page("gan1d")
    at.selectbox(key="gan1d_target_preset").set_value("custom formula…").run()
    for text in FORMULAS:
        text = text.format(marker=marker)
        at.text_input(key="gan1d_formula").set_value(text).run()
        check_clean(at, f"formula {text[:60]!r}")
        runner = at.session_state["gan1d_runner"]
        if runner.trainer.config.target != text:
            assert at.error, f"formula {text[:60]!r} was refused without a message"
        at.button(key="gan1d_step_0").click().run()
        check_clean(at, f"step with formula {text[:60]!r}")
    assert not marker.exists(), "a typed formula was executed"
    # and a good one still works afterwards
    at.text_input(key="gan1d_formula").set_value("x**3 - x").run()
    assert not at.error and at.session_state["gan1d_runner"].trainer.config.target == "x**3 - x"


def test_explicit_pwned_formula_creates_no_file():
    path = "/tmp/pwned"
    existed = os.path.exists(path)
    at = open_page("gan1d")
    at.selectbox(key="gan1d_target_preset").set_value("custom formula…").run()
    at.text_input(key="gan1d_formula").set_value("__import__('os').system('touch /tmp/pwned')").run()
    at.button(key="gan1d_step_0").click().run()
    check_clean(at, "pwned formula")
    assert at.error
    assert existed or not os.path.exists(path), "a typed formula was executed"


def test_x_range_of_zero_width_and_extremes():
    at = open_page("gan1d")
    for lo, hi in ((0.0, 0.0), (-3.0, -3.0), (3.0, 3.0), (-3.0, 3.0), (2.9, 3.0)):
        at.slider(key="gan1d_x_range").set_value((lo, hi)).run()
        check_clean(at, f"x range {lo, hi}")
        if lo == hi:
            assert any("x range" in e.value for e in at.error)
        at.button(key="gan1d_step_0").click().run()
        check_clean(at, f"step, x range {lo, hi}")


# --------------------------------------------------------------------------- LSTM bit strings

BITS = ["", " ", "0", "01", "0101", "10a2", "1 0 1 0", "1,0,1", "０１", "¹²", "1" * 101, "1" * 100, "0" * 5000,
        "1\n0\n1", "-1", "0b101", "\x00\x00", "🙂🙂", "None"]


@pytest.mark.parametrize("task", ["parity", "echo"])
def test_garbage_typed_bits(task):
    at = open_page("lstm", lstm_seq_len="12", lstm_delay="3")
    at.selectbox(key="lstm_task").set_value(task).run()
    at.radio(key="lstm_source").set_value("type a sequence").run()
    for bits in BITS:
        at.text_input(key="lstm_bits").set_value(bits).run()
        check_clean(at, f"{task}: bits {bits[:40]!r}")
        s = "".join(ch for ch in bits if not ch.isspace())
        if len(s) < 2 or set(s) - {"0", "1"} or len(s) > 100 or (task == "echo" and len(s) <= 3):
            assert at.warning, f"bits {bits[:40]!r} accepted without a message"
        at.button(key="lstm_step_0").click().run()
        check_clean(at, f"{task}: step with bits {bits[:40]!r}")


# --------------------------------------------------------------------------- upsampling

GRIDS = ["", ";", "x", "1", "1, 2", "1, 2; 3", "1, 2; 3, x", "nan, 1; 2, 3", "inf, 1; 2, 3", "1e309, 1; 2, 3",
         "1e6, -1e6; 1e6, -1e6", "1e7, 1; 2, 3", "; ".join(["1, 2, 3, 4, 5, 6, 7, 8, 9"] * 9),
         "; ".join(["1"] * 9), "1 2\n3 4", "1,,2;3,,4", "0x10, 1; 2, 3", "1_000, 2; 3, 4", "__import__('os')",
         "1; 2; 3; 4", "🙂", "-0, 0; 0, -0", "1e-320, 1; 1, 1"]
KERNELS = ["", "0", "1, 2; 3", "1, 2, 3, 4, 5, 6", "; ".join(["1, 1, 1, 1, 1, 1"] * 6), "nan", "1e309",
           "1e6", "1, 2", "-1e6, 1e6; 1e6, -1e6"]


def test_garbage_grids_and_kernels():
    at = open_page("upsampling", upsampling_view="viewer")
    for g in GRIDS:
        at.text_input(key="upsampling_grid").input(g).run()
        check_clean(at, f"grid {g[:40]!r}")
        if g.strip() in ("", ";", "x", "1", "1, 2", "1, 2; 3", "1, 2; 3, x"):
            assert at.error, f"grid {g!r} accepted without a message"
    at.text_input(key="upsampling_grid").input("1, 2; 3, 4").run()
    for k in KERNELS:
        at.text_input(key="upsampling_kernel").input(k).run()
        check_clean(at, f"kernel {k[:40]!r}")
    # the largest values the parser accepts, the largest kernel and enormous biases: drawn, no crash
    at.text_input(key="upsampling_grid").input("; ".join([", ".join(["1e6"] * 8)] * 8)).run()
    at.text_input(key="upsampling_kernel").input("; ".join([", ".join(["1e6"] * 5)] * 5)).run()
    at.number_input(key="upsampling_bias").set_value(1e300).run()
    check_clean(at, "huge grid, kernel and bias")
    at.number_input(key="upsampling_bias").set_value(-1e308).run()
    check_clean(at, "huge negative bias")


@pytest.mark.parametrize("stride,padding,output_padding,dilation,ksize",
                         [(1, 4, 3, 1, 1), (1, 0, 3, 3, 1), (4, 4, 3, 3, 5), (1, 4, 0, 1, 1), (2, 0, 2, 1, 3),
                          (4, 0, 3, 3, 5), (3, 4, 2, 2, 2), (1, 1, 1, 1, 1)])
def test_impossible_transposed_conv_combinations(stride, padding, output_padding, dilation, ksize):
    at = open_page("upsampling", upsampling_view="viewer", upsampling_stride=str(stride), upsampling_padding=str(padding), upsampling_output_padding=str(output_padding),
                   upsampling_dilation=str(dilation))
    at.slider(key="upsampling_ksize").set_value(ksize).run()
    check_clean(at, "combination")
    for grid in ("1, 2; 3, 4", "; ".join([", ".join(["1"] * 8)] * 8)):
        at.text_input(key="upsampling_grid").input(grid).run()
        check_clean(at, f"combination on {grid[:20]}")
        out = (2 - 1) * stride - 2 * padding + dilation * (ksize - 1) + output_padding + 1
        if output_padding >= max(stride, dilation) or (grid == "1, 2; 3, 4" and out <= 0):
            assert any("impossible" in e.value for e in at.error), messages(at)
        pos = at.get("slider")
        for w in pos:
            if w.key == "upsampling_position":
                w.set_value(int(w.max)).run()
                check_clean(at, "last position")


# --------------------------------------------------------------------------- forecast uploads

def _csv(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


UPLOADS = {
    "empty": ("empty.csv", b""),
    "blank lines": ("blank.csv", b"\n\n \n"),
    "header only": ("h.csv", b"date,value\n"),
    "garbage text": ("g.csv", b"lorem ipsum dolor\nsit amet\n"),
    "binary": ("b.csv", bytes(range(256)) * 40),
    "binary no nul": ("b2.csv", bytes(range(1, 256)) * 40),
    "xlsx renamed": ("sheet.csv", b"PK\x03\x04" + b"\x00" * 200),
    "not csv": ("x.exe", b"MZ\x90\x00"),
    "huge": ("huge.csv", _csv([f"{i},{i % 97}" for i in range(200_000)])),
    "too many rows": ("rows.csv", _csv(["v"] + [str(i % 13) for i in range(9000)])),
    "all nan": ("nan.csv", _csv(["v"] + ["nan"] * 50)),
    "mostly nan": ("mnan.csv", _csv(["v"] + ["nan", "1", "2"] * 20)),
    "inf": ("inf.csv", _csv(["v"] + ["inf", "-inf", "1"] * 20)),
    "huge numbers": ("big.csv", _csv(["v"] + [f"{(-1) ** i * 1e308:g}" for i in range(60)])),
    "one text column": ("t.csv", _csv(["name"] + ["alice", "bob", "carol"] * 20)),
    "one number": ("one.csv", b"v\n5\n"),
    "two numbers": ("two.csv", b"5\n6\n"),
    "constant": ("c.csv", _csv(["v"] + ["3"] * 60)),
    "semicolons, comma decimals": ("eu.csv", _csv(["d;v"] + [f"2000-{m:02d};{m},5" for m in range(1, 13)] * 5)),
    "ragged": ("r.csv", _csv(["a,b"] + ["1,2,3", "4", "5,6"] * 20)),
    "quotes": ("q.csv", _csv(['"a","b"'] + ['"1","x""y"'] * 30)),
    "latin-1": ("l.csv", "v,name\n1,café\n2,niño\n3,ß\n".encode("latin-1") * 10),
    "bom": ("bom.csv", "\ufeffv\n" .encode() + _csv([str(i) for i in range(60)])),
    "formula injection": ("f.csv", _csv(["v,=cmd|' /C calc'!A0"] + [f"{i},=1+1" for i in range(60)])),
    "duplicate columns": ("dup.csv", _csv(["v,v,v"] + [f"{i},{i},{i}" for i in range(60)])),
    "dates only": ("d.csv", _csv(["date"] + [f"2000-01-{d:02d}" for d in range(1, 29)])),
    "decreasing dates": ("dd.csv", _csv(["date,v"] + [f"20{99 - i:02d}-01-01,{i}" for i in range(60)])),
    "long line": ("ll.csv", b"v\n" + b"1," * 200_000 + b"\n2\n"),
    "nul in the middle": ("nul.csv", _csv(["v"] + ["1"] * 3000) + b"\x00" + _csv(["2"] * 10)),
}


# what the page must say about some of them
UPLOAD_MESSAGES = {
    "empty": "is empty", "binary": "binary data", "xlsx renamed": "binary data", "not csv": "not a CSV",
    "huge": "the limit is 1 MB", "too many rows": "the limit is 5,000", "one text column": "no column of numbers",
    "all nan": "no column of numbers", "mostly nan": "empty, non-numeric", "inf": "empty, non-numeric",
    "huge numbers": "must lie within", "long line": "columns (at most",
}


@pytest.mark.parametrize("case", list(UPLOADS))
def test_hostile_uploads(case):
    name, data = UPLOADS[case]
    at = open_page("forecast")
    at.selectbox(key="forecast_source").set_value("upload").run()
    t0 = time.perf_counter()
    at.file_uploader(key="forecast_upload").set_value((name, data, "text/csv")).run()
    # a 400 kB file of one very wide row used to hold the server for ~40 s in pandas
    assert time.perf_counter() - t0 < 10, f"upload {case}: reading it took too long"
    check_clean(at, f"upload {case}")
    if case in UPLOAD_MESSAGES:
        assert any(UPLOAD_MESSAGES[case] in m for m in messages(at)), messages(at)
    # every widget the upload panel shows, at each of its values
    for key in ("forecast_value_col", "forecast_date_col"):
        boxes = [w for w in at.selectbox if w.key == key]
        if boxes:
            for label in list(boxes[0].options):
                set_labels(at.selectbox(key=key), label)
                at.run()
                check_clean(at, f"upload {case}, {key} = {label!r}")
    for fix in ("drop", "interpolate"):
        if [w for w in at.radio if w.key == "forecast_fix"]:
            at.radio(key="forecast_fix").set_value(fix).run()
            check_clean(at, f"upload {case}, fix {fix}")
    for look_back in (1, 24):
        at.slider(key="forecast_look_back").set_value(look_back).run()
        check_clean(at, f"upload {case}, look-back {look_back}")
        runner = at.session_state.get("forecast_runner") if "forecast_runner" in at.session_state else None
        if runner is None or runner.trainer.config.source != "upload":
            assert at.error or at.info or at.warning, f"upload {case}: not used, and no message"
        before = counter(at)
        at.button(key="forecast_step_0").click().run()
        check_clean(at, f"upload {case}, step")
        if runner is not None and counter(at) == before:
            assert messages(at), f"upload {case}: the step trained nothing and nothing was said"


# --------------------------------------------------------------------------- corrupt pretrained files

PRETRAINED = sorted(p.name for p in checkpoints.PRETRAINED_DIR.glob("*.pt"))


class Evil:
    """A pickle that would create a file when unpickled with weights_only=False."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _lesson_of(fname: str) -> str:
    """The lesson a shipped file belongs to: its prefix (one name per lesson), or the name of a
    shared checkpoint (``digits_classifier.pt`` -> "digits")."""
    return fname.split("_")[0]


def _make_variant(variant: str, directory: pathlib.Path, marker: pathlib.Path) -> None:
    """Fill ``directory`` with a damaged copy of every shipped checkpoint (or none: 'missing')."""
    directory.mkdir(parents=True, exist_ok=True)
    real = {n: (checkpoints.PRETRAINED_DIR / n).read_bytes() for n in PRETRAINED}
    for n, data in real.items():
        target = directory / n
        if variant == "missing":
            continue
        if variant == "garbage":
            target.write_bytes(os.urandom(4096))
        elif variant == "empty":
            target.write_bytes(b"")
        elif variant == "truncated":
            target.write_bytes(data[: len(data) // 2])
        elif variant == "wrong lesson":
            other = next(m for m in PRETRAINED if _lesson_of(m) != _lesson_of(n))
            target.write_bytes(real[other])
        elif variant == "hollow":       # the right lesson, but nothing usable inside
            torch.save({"lesson": _lesson_of(n), "config": {}, "model": {}, "step": 0}, target)
        elif variant == "bad types":    # the right lesson and keys, every config value a string
            ck = torch.load(checkpoints.PRETRAINED_DIR / n, map_location="cpu", weights_only=True)
            ck["config"] = {k: "x" for k in ck["config"]}
            ck["step"] = "many"
            torch.save(ck, target)
        elif variant == "null values":  # the right lesson and keys, every value None
            ck = torch.load(checkpoints.PRETRAINED_DIR / n, map_location="cpu", weights_only=True)
            torch.save({k: (_lesson_of(n) if k == "lesson" else None) for k in ck}, target)
        elif variant == "nested nulls":  # the right layout, every value one level down None
            ck = torch.load(checkpoints.PRETRAINED_DIR / n, map_location="cpu", weights_only=True)
            torch.save({k: ({kk: None for kk in v} if isinstance(v, dict) else v) for k, v in ck.items()}, target)
        elif variant == "wrong shapes":  # the right lesson, every tensor replaced by a 1-element one
            ck = torch.load(checkpoints.PRETRAINED_DIR / n, map_location="cpu", weights_only=True)

            def shrink(o):
                if isinstance(o, torch.Tensor):
                    return torch.zeros(1, dtype=o.dtype)
                if isinstance(o, dict):
                    return {k: shrink(v) for k, v in o.items()}
                if isinstance(o, list):
                    return [shrink(v) for v in o]
                return o
            torch.save({k: (v if k in ("lesson", "config") else shrink(v)) for k, v in ck.items()}, target)
        elif variant == "not a dict":
            torch.save([torch.zeros(3)], target)
        elif variant == "evil pickle":
            torch.save({"lesson": _lesson_of(n), "config": Evil(str(marker)), "model": {}}, target)
        elif variant == "directory":
            target.mkdir()
        else:
            raise AssertionError(variant)


# Every page meets the damage its own loading code sees; damage that load_checkpoint alone refuses
# (the file never unpickles to a dict) is tried on one page.
PAGE_VARIANTS = ["missing", "garbage", "truncated", "wrong lesson", "hollow", "bad types", "null values",
                 "nested nulls", "wrong shapes"]
FILE_VARIANTS = ["empty", "not a dict", "evil pickle", "directory"]
CORRUPT_CASES = [(short, v) for short in PAGES for v in PAGE_VARIANTS] + [("gan1d", v) for v in FILE_VARIANTS]


@pytest.mark.parametrize("short,variant", CORRUPT_CASES, ids=[f"{s}-{v}" for s, v in CORRUPT_CASES])
def test_corrupt_or_missing_pretrained_files(short, variant, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    bad_dir = tmp_path / "pretrained"
    _make_variant(variant, bad_dir, marker)
    monkeypatch.setattr(checkpoints, "PRETRAINED_DIR", bad_dir)
    at = open_page(short)
    at.button(key=f"{short}_pretrained").click().run()
    check_clean(at, f"{short}, {variant} checkpoint")
    assert any("pretrained start is unavailable" in w.value for w in at.warning), messages(at)
    assert counter(at) == 0
    at.button(key=f"{short}_step_0").click().run()
    check_clean(at, f"{short}, step after a {variant} checkpoint")
    assert counter(at) == 1
    assert not marker.exists(), "loading a checkpoint ran code from it"
