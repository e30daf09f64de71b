"""Isolation: two sessions never see each other's training, settings or uploads, and what
``st.cache_resource`` shares between them (the shipped checkpoints) is never written to.

Every AppTest instance is its own Streamlit session, all in one process, which is exactly how
one server hosts a class: module globals and ``st.cache_resource`` are shared, session state is not.
"""
from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
import pytest
import torch
from apptest_util import PAGES, is_training, press_pause, press_train, run_page
from streamlit.testing.v1 import AppTest

import importlib

from core import registry
from core.ui import page as ui_page
from core.checkpoints import load_checkpoint, pretrained_path
from core.lessons import forecast as fc
from core.lessons import gan1d

ROOT = pathlib.Path(__file__).resolve().parents[2]


def open_page(short: str) -> AppTest:
    """The lesson's page, on its live view (pages with several views say which in the table)."""
    return run_page(PAGES[short], **registry.lesson(short).live_query)


def steps(at: AppTest) -> int:
    """The live panel's counter ('Steps trained', 'Epochs trained', 'Iterations trained')."""
    value = next(m.value for m in at.metric if m.label.endswith("s trained"))
    return int(value.replace(",", ""))


def runner(at: AppTest, short: str):
    return at.session_state[f"{short}_runner"]


def tensors(obj, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor in a nested dict/list, by path."""
    out: dict[str, torch.Tensor] = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(tensors(v, f"{prefix}/{k}"))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(tensors(v, f"{prefix}/{i}"))
    return out


def snapshot(obj) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in tensors(obj).items()}


def assert_same(now: dict[str, torch.Tensor], before: dict[str, torch.Tensor], what: str) -> None:
    assert now.keys() == before.keys(), f"{what}: the set of tensors changed"
    changed = [k for k in before if not torch.equal(now[k], before[k])]
    assert not changed, f"{what}: {len(changed)} tensors were written to, e.g. {changed[:4]}"


def reachable_tensors(obj, seen: set[int] | None = None, depth: int = 0):
    """Tensors a trainer holds: module parameters/buffers, optimiser state, attributes of core objects."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 8:
        return
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, torch.nn.Module):
        yield from obj.state_dict(keep_vars=True).values()
    elif isinstance(obj, torch.optim.Optimizer):
        for st in obj.state.values():
            yield from reachable_tensors(st, seen, depth + 1)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from reachable_tensors(v, seen, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from reachable_tensors(v, seen, depth + 1)
    elif type(obj).__module__.startswith("core") and hasattr(obj, "__dict__"):
        for v in vars(obj).values():
            yield from reachable_tensors(v, seen, depth + 1)


def storages(ts) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in ts if t.numel() and t.device.type == "cpu"}


# --------------------------------------------------------------------------- core level

# every shipped checkpoint of every lesson in the table (at most two per lesson)
CORE_CASES = [(stem, l.key) for l in registry.built() for stem in l.checkpoints[:2]]


@pytest.mark.parametrize("name,lesson", CORE_CASES, ids=[c[0] for c in CORE_CASES])
def test_trainers_copy_pretrained_weights_and_never_write_the_checkpoint(name, lesson):
    cls = importlib.import_module(registry.lesson(lesson).package).Trainer
    ckpt = load_checkpoint(pretrained_path(name), lesson)
    before = snapshot(ckpt)
    a = cls.from_checkpoint(ckpt, torch.device("cpu"))
    b = cls.from_checkpoint(ckpt, torch.device("cpu"))
    # copied: no tensor of a trainer shares memory with the checkpoint or with the other trainer
    ck_mem = storages(tensors(ckpt).values())
    a_mem, b_mem = storages(reachable_tensors(a)), storages(reachable_tensors(b))
    assert a_mem and not a_mem & ck_mem, "a trainer holds tensors of the checkpoint itself"
    assert not a_mem & b_mem, "two trainers from one checkpoint share tensors"
    b_state = snapshot(b.state_dict())
    if hasattr(a.config, "epochs"):          # the shipped forecast run has finished: let it go on
        a.apply_live(dataclasses.replace(a.config, epochs=a.config.epochs + 10))
    a.step(5)
    assert a.step_count == b.step_count + 5
    assert_same(snapshot(ckpt), before, f"{name} after training a trainer loaded from it")
    assert_same(snapshot(b.state_dict()), b_state, "the other trainer after training the first")


def test_two_fresh_trainers_are_independent():
    cfg = gan1d.Gan1DConfig()
    a, b = gan1d.Gan1DTrainer(cfg), gan1d.Gan1DTrainer(cfg)
    b_state = snapshot(b.state_dict())
    a.step(10)
    assert_same(snapshot(b.state_dict()), b_state, "an untouched trainer after training another")
    assert not storages(reachable_tensors(a)) & storages(reachable_tensors(b))


# --------------------------------------------------------------------------- sessions (AppTest)


@pytest.mark.parametrize("short", list(PAGES))
def test_training_and_settings_stay_in_their_session(short):
    a = open_page(short)
    b = open_page(short)
    lr = next(w for w in a.select_slider if w.key == f"{short}_lr" or w.key == f"{short}_lr_g")
    default_lr = b.select_slider(key=lr.key).value
    new_lr = 0.0001 if default_lr != 0.0001 else 0.0003
    lr.set_value(new_lr).run()
    for _ in range(2):
        a.button(key=f"{short}_step_0").click().run()
    assert not a.exception and steps(a) == 2

    b.run()
    assert not b.exception
    assert steps(b) == 0, "session B sees session A's training"
    assert b.select_slider(key=lr.key).value == default_lr, "session B sees session A's setting"
    assert lr.key not in b.query_params or b.query_params[lr.key] != a.query_params[lr.key]
    assert runner(a, short) is not runner(b, short)
    assert runner(a, short).trainer is not runner(b, short).trainer
    assert not storages(reachable_tensors(runner(a, short).trainer)) & storages(reachable_tensors(runner(b, short).trainer))

    # B steps once; A's count is untouched
    b.button(key=f"{short}_step_0").click().run()
    a.run()
    assert steps(b) == 1 and steps(a) == 2


def test_live_training_in_one_session_leaves_the_other_paused():
    a, b = open_page("gan1d"), open_page("gan1d")
    press_train(a, "gan1d")                              # A trains (first tick + background)
    assert is_training(a, "gan1d") and steps(a) > 0
    b.run()
    assert not is_training(b, "gan1d") and steps(b) == 0
    assert not runner(b, "gan1d").training_in_background
    press_pause(a, "gan1d")
    assert not is_training(a, "gan1d") and not runner(a, "gan1d").training_in_background


def test_formula_in_one_session_is_not_the_others():
    a, b = open_page("gan1d"), open_page("gan1d")
    a.selectbox(key="gan1d_target_preset").set_value("custom formula…").run()
    a.text_input(key="gan1d_formula").set_value("x**3 - x").run()
    assert runner(a, "gan1d").trainer.config.target == "x**3 - x"
    b.run()
    assert runner(b, "gan1d").trainer.config.target == gan1d.Gan1DConfig().target
    assert "gan1d_formula" not in b.session_state


def test_upload_in_one_session_is_not_the_others():
    a, b = open_page("forecast"), open_page("forecast")
    a.selectbox(key="forecast_source").set_value("upload").run()
    rows = "\n".join(f"{i},{10 + np.sin(i / 3):.4f}" for i in range(60))
    a.file_uploader(key="forecast_upload").set_value(("mine.csv", ("t,v\n" + rows + "\n").encode(), "text/csv")).run()
    a.slider(key="forecast_look_back").set_value(3).run()
    assert not a.exception and not a.error, [e.value for e in a.error]
    ta = runner(a, "forecast").trainer
    assert ta.config.source == "upload" and len(ta.series.values) == 60
    a.button(key="forecast_step_0").click().run()
    a.button(key="forecast_add_run").click().run()
    assert len(a.session_state["forecast_leaderboard"]) == 1

    b.run()
    assert not b.exception and not b.error
    tb = runner(b, "forecast").trainer
    assert tb.config.source == "airline" and tb.series.name == fc.series_for(fc.ForecastConfig()).name
    assert len(tb.series.values) == 144                  # the airline data, 1949–1960
    assert "forecast_upload_cache" not in b.session_state
    assert not (b.session_state["forecast_leaderboard"] if "forecast_leaderboard" in b.session_state else [])
    # (every page has the take-home box's checkpoint uploader; the CSV upload box is the one asked for)
    assert "forecast_upload" not in [u.key for u in b.get("file_uploader")], \
        "session B shows an upload box it never asked for"


# --------------------------------------------------------------------------- the shared cache


@pytest.mark.parametrize("short", list(PAGES))
def test_pretrained_cache_is_read_only(short, monkeypatch):
    """Session A loads the shipped run and trains it; the cached checkpoint and what session B
    then loads are exactly what is on disk."""
    # What session B gets from a pristine start, before A does anything.
    b0 = open_page(short)
    b0.button(key=f"{short}_pretrained").click().run()
    assert any("pretrained" in s.value for s in b0.success), [w.value for w in b0.warning]
    pristine_state = snapshot(runner(b0, short).trainer.state_dict())
    pristine_steps = steps(b0)

    # Record what the shared cache itself holds (ui.checkpoint may hand out copies of it).
    served: list[tuple[str, str, dict]] = []
    real = ui_page._cached_checkpoint

    def recording(path: str, lesson: str, *rest):
        ck = real(path, lesson, *rest)
        served.append((path, lesson, ck))
        return ck

    monkeypatch.setattr(ui_page, "_cached_checkpoint", recording)
    a = open_page(short)
    a.button(key=f"{short}_pretrained").click().run()
    assert served, "the page did not load through the cache of ui.checkpoint"
    assert steps(a) == pristine_steps
    if short == "forecast":                  # the shipped forecast run has finished: let it go on
        a.select_slider(key="forecast_epochs").set_value(300).run()
    for _ in range(3):
        a.button(key=f"{short}_step_0").click().run()
    runner(a, short).step(20)
    a.run()
    assert not a.exception and steps(a) > pristine_steps

    served_to_a = list(served)
    for path, lesson, cached in served_to_a:
        on_disk = load_checkpoint(path, lesson)
        assert_same(snapshot(cached), snapshot(on_disk), f"cached {path} after session A trained from it")
        assert cached["step"] == on_disk["step"] and cached["config"] == on_disk["config"]

    served.clear()
    b = open_page(short)
    b.button(key=f"{short}_pretrained").click().run()
    assert steps(b) == pristine_steps
    # B was served the very objects A trained from (one shared cache), and they are intact
    assert [id(ck) for _, _, ck in served] == [id(ck) for _, _, ck in served_to_a]
    assert_same(snapshot(runner(b, short).trainer.state_dict()), pristine_state,
                "what session B loads after session A trained")
