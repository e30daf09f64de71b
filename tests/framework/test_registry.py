"""The one table of lessons (core.registry) and the house rules every lesson must follow."""
import ast
import importlib
import pathlib

import pytest

from core import registry

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILT = registry.built()


def test_table_is_consistent():
    keys = [l.key for l in registry.LESSONS]
    assert len(keys) == len(set(keys))
    assert all(l.group in registry.GROUPS for l in registry.LESSONS)
    assert len(BUILT) >= 5
    olds = [p for l in registry.LESSONS for p in ((l.old_prefix,) if l.old_prefix else ()) + l.aliases]
    assert len(olds) == len(set(olds)) and not set(olds) & set(keys)


@pytest.mark.parametrize("lesson", BUILT, ids=lambda l: l.key)
def test_a_lesson_has_one_name_everywhere(lesson):
    """package, page, guide, picture and checkpoints all carry the key."""
    assert (ROOT / lesson.page).is_file()
    assert (ROOT / lesson.guide).is_file(), f"docs/{lesson.key}.md"
    assert (ROOT / lesson.picture).is_file(), f"assets/{lesson.key}.png"
    pkg = importlib.import_module(lesson.package)
    assert callable(getattr(pkg, "pretrain", None)), "the pretrain command needs <package>.pretrain(seed)"
    for stem in lesson.checkpoints:
        assert stem.startswith(lesson.key + "_") and (ROOT / "pretrained" / f"{stem}.pt").is_file()
    page = (ROOT / lesson.page).read_text()
    assert f'page_setup("{lesson.key}"' in page


@pytest.mark.parametrize("lesson", BUILT, ids=lambda l: l.key)
def test_every_lesson_is_in_the_throughput_table(lesson):
    """benchmarks/bench_throughput.py times every lesson against a plain loop of the same model:
    its bench module must give ours(seconds), plain_loop(seconds) and what a step is (STEP)."""
    import sys
    sys.path.insert(0, str(ROOT))
    from benchmarks import bench_throughput
    mod = bench_throughput.bench_module(lesson.key)
    assert bench_throughput.takes_seconds(getattr(mod, "ours", None)), f"bench_{lesson.key}.ours(seconds)"
    assert bench_throughput.takes_seconds(getattr(mod, "plain_loop", None)), f"bench_{lesson.key}.plain_loop(seconds)"
    assert isinstance(getattr(mod, "STEP", None), str), f"bench_{lesson.key}.STEP"


@pytest.mark.parametrize("lesson", BUILT, ids=lambda l: l.key)
def test_pages_are_thin(lesson):
    """≤ 150 lines, no torch, no loops: a page is layout; the lesson's logic is in its package."""
    src = (ROOT / lesson.page).read_text()
    assert len(src.splitlines()) <= 150
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n and n.split(".")[0] == "torch" for n in names), "pages import no torch"


def _functions(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


def test_modules_and_functions_stay_small():
    """No module in core/ over ~400 lines and no function over ~60 (issue 21's acceptance)."""
    too_long = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        n = len(path.read_text().splitlines())
        if n > 420:
            too_long.append(f"{path.relative_to(ROOT)}: {n} lines")
        too_long += [f"{path.relative_to(ROOT)}:{name}: {k} lines" for name, k in _functions(path) if k > 65]
    assert not too_long, "\n".join(too_long)


def test_only_the_ui_glue_imports_streamlit():
    for path in (ROOT / "core").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "core").parts[:1]:
            continue
        src = path.read_text()
        assert "import streamlit" not in src and "from streamlit" not in src, path
