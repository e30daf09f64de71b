"""Uploads that cannot hurt a server (issue 33), on every lesson.

Through each page's real uploader (the take-home box, AppTest): a hostile corpus — a
decompression bomb, NaN and infinite weights, optimiser state of the wrong shapes, a garbled
random-number state, tensors of the wrong size or far over the run's budget, another lesson's
file relabelled, a truncated zip, a zip with a foreign member, a header that lies about a size and
a pickle that would create a file — is refused with a message, the current run stays (same
trainer, same step) and nothing runs. A good file then continues bit for bit: the next five steps
equal the uninterrupted run's. Outside the page, the peak memory of the load path is measured
for the bomb, an over-budget file and a good one (``python -m pytest -s`` prints the figures).
"""
from __future__ import annotations

import bz2
import gc
import gzip
import io
import json
import lzma
import os
import pathlib
import re
import subprocess
import sys
import zipfile
from typing import Any, Callable

import numpy as np
import pytest
import torch

from apptest_util import PAGES, run_page
from core import parking, registry, settings
from core.checkpoints import CheckpointError, checkpoint_bytes, pretrained_path, read_checkpoint_bytes
from upload_corpus import BIG_FLOATS, BOMB_FLOATS, forged, hostile

LESSONS = sorted(PAGES)
CPU = torch.device("cpu")
ROOT = pathlib.Path(__file__).resolve().parents[2]


def _shipped(lesson: str) -> dict[str, Any]:
    """A lesson's first shipped checkpoint as a plain dict (read directly: the corpus is made
    from it, not checked by it)."""
    return torch.load(pretrained_path(registry.lesson(lesson).checkpoints[0]), weights_only=True)


def _bomb() -> bytes:
    """0.3 MB declaring 256 MiB of zeros; refused before its lesson is read, so one serves all."""
    return forged(_shipped("gan1d"), BOMB_FLOATS)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb()


def _trained(lesson: str, steps: int = 3) -> Any:
    cls, cfg = registry.default_trainers()[lesson]
    t = cls(cfg, CPU)
    t.step(steps)
    return t


def _tails(t: Any, n: int) -> dict[str, np.ndarray]:
    return {k: v[-n:] for k, v in t.history.arrays().items()}


def _upload(at: Any, lesson: str, name: str, data: bytes) -> Any:
    return at.file_uploader(key=f"{lesson}_takehome_upload").set_value((name, data, "application/octet-stream")).run()


@pytest.mark.parametrize("lesson", LESSONS)
def test_hostile_files_are_refused_and_a_good_one_continues_exactly(lesson, bomb, tmp_path):
    pwn = tmp_path / "pwned"
    cases = hostile(lesson, _shipped(lesson), _shipped("lstm" if lesson != "lstm" else "gan1d"), str(pwn), bomb)
    at = run_page(PAGES[lesson], **registry.lesson(lesson).live_query)
    at.session_state[f"{lesson}_takehome_open"] = True
    at.run()
    at.button(key=f"{lesson}_step_0").click().run()           # a run worth keeping
    trainer = at.session_state[f"{lesson}_runner"].trainer
    step = trainer.step_count
    assert step > 0
    for case, data in cases.items():
        _upload(at, lesson, f"{case}.pt", data)
        assert not at.exception, (case, at.exception)
        said = [w.value for w in at.warning]
        assert any(w.startswith(f"{case}.pt was not loaded: ") for w in said), (case, said)
        assert at.session_state[f"{lesson}_runner"].trainer is trainer and trainer.step_count == step, case
        assert not pwn.exists(), "the pickle's code ran"

    a = _trained(lesson)
    _upload(at, lesson, "good.pt", checkpoint_bytes(a.state_dict()))
    assert not at.exception
    assert any(s.value.startswith("Loaded good.pt") for s in at.success), [w.value for w in at.warning]
    b = at.session_state[f"{lesson}_runner"].trainer
    assert b is not trainer and b.step_count == a.step_count
    if hasattr(b, "slice_seconds"):             # forecast's live page cuts epochs by time: whole epochs here
        b.slice_seconds = a.slice_seconds
    ga, gb = a.generators(), b.generators()      # every stream the run draws from, where it was
    assert ga.keys() == gb.keys()
    for k in ga:
        same = (torch.equal(ga[k].get_state(), gb[k].get_state()) if isinstance(ga[k], torch.Generator)
                else str(ga[k].bit_generator.state) == str(gb[k].bit_generator.state))
        assert same, f"{lesson}: generator {k} not restored"
    torch.manual_seed(1)        # the run must not lean on torch's global generator
    a.step(5)
    torch.manual_seed(2)
    b.step(5)
    ta, tb = _tails(a, 5), _tails(b, 5)
    assert all(np.array_equal(ta[k], tb[k], equal_nan=True) for k in ta), (ta, tb)


# --------------------------------------------------------------------------- the loader alone

def test_forged_settings_and_step_counts_are_refused():
    gan1d, lstm = _shipped("gan1d"), _shipped("lstm")      # lstm's shipped 'optim' is Adam's state itself
    groups = lambda s, **kw: {**s, "optim": {**s["optim"], "param_groups": [  # noqa: E731
        {**g, **kw} for g in s["optim"]["param_groups"]]}}
    for lesson, state, forged_state, said in (
            ("gan1d", gan1d, {**gan1d, "step": -5}, "the step count"),
            ("gan1d", gan1d, {**gan1d, "config": {**gan1d["config"], "g_width": 10**6}}, "G width must be between"),
            ("lstm", lstm, groups(lstm, lr=1e6), "learning rate"),
            ("lstm", lstm, groups(lstm, maximize=True), "'maximize' is True"),
            ("lstm", lstm, {**lstm, "optim": {**lstm["optim"], "state": {
                0: {**lstm["optim"]["state"][0], "step": torch.tensor(float("nan"))}}}}, "step")):
        with pytest.raises(CheckpointError, match=re.escape(said)):
            read_checkpoint_bytes(checkpoint_bytes(forged_state), "x.pt", lesson)


def _status(field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+)", open("/proc/self/status").read()).group(1))


def _peak_mib(fn: Callable[[], Any]) -> float:
    """Peak resident memory above the start while ``fn`` runs, in MiB (Linux: VmHWM reset by
    /proc/self/clear_refs). Freed memory goes back to the OS first (glibc's malloc_trim), so each
    try starts from the same place instead of reusing what the last one left in malloc's arenas."""
    gc.collect()
    parking.trim()
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    try:
        fn()
    except CheckpointError:
        pass
    return (_status("VmHWM") - base) / 1024


def measure_peaks(lesson: str) -> dict[str, float]:
    """Peak resident memory (MiB) of a fresh build and of loading the bomb, an over-budget file and
    a good one. Run it in a process of its own (``python tests/framework/test_upload_safety.py LESSON``): the
    high-water mark is the whole process's, so a live-trainer thread left by another test would
    count too (CI once saw a good seq2seq load at 77 MiB that way; 0 MiB alone)."""
    torch.set_num_threads(1)
    state = _shipped(lesson)
    cls = type(_build(lesson, state))                    # warm: imports, caches, the digits
    good = checkpoint_bytes(state)
    big = forged(state, BIG_FLOATS)
    bomb = _bomb()
    # Resident memory is noisy by ten MiB or more either way (pymalloc and malloc arenas; seq2seq's
    # build measured 38-54 MiB): the build's largest of three against a load's smallest of two. A
    # file whose 20 MiB were unpacked, or a deep copy of a good one, would show in every try.
    return {"tensors": sum(t.numel() * t.element_size() for t in _tensors(state)) / 2**20,
            "build": max(_peak_mib(lambda: _build(lesson, state)) for _ in range(3)),
            "bomb": _peak_mib(lambda: read_checkpoint_bytes(bomb, "bomb.pt", lesson)),
            "oversized": min(_peak_mib(lambda: read_checkpoint_bytes(big, "big.pt", lesson)) for _ in range(2)),
            "good": min(_peak_mib(lambda: cls.from_checkpoint(read_checkpoint_bytes(good, "good.pt", lesson), CPU))
                        for _ in range(2))}


@pytest.fixture(scope="module")
def peaks() -> dict[str, dict[str, float]]:
    """Every lesson's figures, each measured in a fresh Python process (no other test's threads)."""
    out = {}
    for lesson in LESSONS:
        done = subprocess.run([sys.executable, __file__, lesson], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        out[lesson] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


@pytest.mark.parametrize("lesson", LESSONS)
def test_peak_memory_of_the_load_path(lesson, peaks):
    """The bomb and an over-budget file (20 MiB of declared zeros) never get their tensor data
    unpacked; a good upload holds its tensors once (no deep copy), about a fresh run's build."""
    p = peaks[lesson]
    print(f"\nPEAK {lesson}: " + ", ".join(f"{k} {v:.1f} MiB" for k, v in p.items()))
    assert p["bomb"] < 16, "the bomb was unpacked (256 MiB declared)"
    assert p["oversized"] < p["build"] + 16, f"the over-budget file's 20 MiB were unpacked: {p}"
    assert p["good"] < p["build"] + 2 * p["tensors"] + 16, p


def _build(lesson: str, state: dict[str, Any]) -> Any:
    cls = __import__(registry.lesson(lesson).package, fromlist=["Trainer"]).Trainer
    return cls(settings.config_from_dict(cls.Config, cls.upgrade_checkpoint(state)["config"]), CPU)


def _tensors(tree: Any) -> list[torch.Tensor]:
    if torch.is_tensor(tree):
        return [tree]
    items = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, (list, tuple)) else ()
    return [t for v in items for t in _tensors(v)]


# --------------------------------------------------------------------------- the text uploads

def _zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


CSV = ("v\n" + "1\n" * 400).encode()
TEXT_CASES = {   # page, uploader key, file name, bytes, what the page must say
    "csv gzip bomb": ("forecast", "a.csv", gzip.compress(b"1\n" * 2**24), "compressed binary data (gzip)"),
    "csv zip": ("forecast", "a.csv", _zipped("a.csv", CSV), "compressed binary data (zip)"),
    "csv bzip2": ("forecast", "a.csv", bz2.compress(CSV), "compressed binary data (bzip2)"),
    "csv too many rows": ("forecast", "rows.csv", ("v\n" + "1\n" * 12_000).encode(), "at most 10,000 are read"),
    "csv 1e300": ("forecast", "big.csv", ("v\n" + "1\n2\n1e300\n" * 30).encode(), "must lie within"),
    "txt gzip bomb": ("charrnn", "a.txt", gzip.compress(b"la " * 2**23), "compressed binary data (gzip)"),
    "txt xz": ("charrnn", "a.txt", lzma.compress(b"la " * 5000), "compressed binary data (xz)"),
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
def test_compressed_or_oversized_text_uploads_are_refused_unpacked(case):
    lesson, name, data, said = TEXT_CASES[case]
    at = run_page(PAGES[lesson])
    if lesson == "forecast":
        at.selectbox(key="forecast_source").set_value("upload").run()
    else:
        at.selectbox(key="charrnn_corpus").set_value("custom").run()
    at.file_uploader(key=f"{lesson}_upload").set_value((name, data, "text/plain")).run()
    assert not at.exception
    shown = [m.value for kind in ("error", "warning", "info") for m in getattr(at, kind)]
    assert any(said in m for m in shown), shown


if __name__ == "__main__":     # one lesson's peaks as JSON, for the fixture above
    print(json.dumps(measure_peaks(sys.argv[1])))
