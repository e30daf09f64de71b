"""What Community Cloud needs: the requirements, the config, no downloads at run time, small files."""
from __future__ import annotations

import pathlib
import re
import tomllib

from packaging.requirements import Requirement

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _requirements() -> tuple[list[str], dict[str, Requirement]]:
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    options = [l for l in lines if l.startswith("--")]
    reqs = {r.name: r for r in (Requirement(l) for l in lines if l and not l.startswith(("#", "--")))}
    return options, reqs


def test_requirements_take_the_cpu_torch_and_admit_the_tested_versions():
    options, reqs = _requirements()
    # Community Cloud must get the CPU build (no GPU there; the CUDA wheel is ~3 GB more).
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in options
    assert "2.13.0" in reqs["torch"].specifier and "2.13.0+cpu" in reqs["torch"].specifier
    assert "1.67.0" in reqs["streamlit"].specifier
    # Only what the app imports: every requirement is a package some app module uses.
    # vl-convert-python renders the take-home box's PNG/SVG chart downloads; SQLAlchemy and psycopg
    # are the class store's database layer (core/classroom/store.py).
    assert set(reqs) <= {"streamlit", "torch", "numpy", "pandas", "pyarrow", "vl-convert-python", "SQLAlchemy",
                         "psycopg"}


def test_scripts_drop_the_index_line_where_it_cannot_be_reached():
    for script in ("scripts/run.sh", "scripts/test.sh"):
        text = (ROOT / script).read_text()
        assert "grep -v '^--extra-index-url' requirements.txt" in text, script
        assert "torch==2.13.0" in text, script


def test_streamlit_config_is_what_the_live_loop_needs():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["runner"]["postScriptGC"] is False        # a full GC after every fragment tick cost frames
    assert cfg["server"]["fileWatcherType"] == "none"    # no inotify watchers on a shared host
    assert cfg["server"]["maxUploadSize"] <= 5           # MB; the forecast page checks 1 MB itself


def test_no_downloads_at_run_time():
    """Datasets and checkpoints ship in the repo; the app never fetches anything."""
    pattern = re.compile(r"urlopen|urllib\.request|requests\.(get|post)|torch\.hub|load_state_dict_from_url"
                         r"|download_url|https?://(?!download\.pytorch\.org/whl|vega\.github\.io/schema/)")
    # (a Vega-Lite "$schema" is an identifier the browser never fetches)
    offenders = []
    for path in [ROOT / "Home.py", *ROOT.glob("pages/*.py"), *ROOT.glob("core/**/*.py")]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders


def test_shipped_files_are_small():
    """Community Cloud clones the repo: datasets and checkpoints stay well under a megabyte each."""
    files = [*ROOT.glob("pretrained/*.pt"), *ROOT.glob("core/data/*"), *ROOT.glob("assets/*")]
    assert files
    big = {str(f.relative_to(ROOT)): f.stat().st_size for f in files if f.stat().st_size > 1_000_000}
    assert not big, big
    # Eleven lessons, each with its picture and one to seven checkpoints: ~7.7 MB in all
    # (2026-12-01). A clone on Community Cloud takes seconds; the cap catches a file that grows.
    assert sum(f.stat().st_size for f in files) < 10_000_000
