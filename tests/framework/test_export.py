"""Take it home (issue 18): every lesson's exported script trains like the app's trainer, its
notebook runs headless, and the shared export helpers (CSV, checkpoints, chart images, lesson
links, formulas as numpy) do what they say."""
import importlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch

from core import charts, export, registry
from core.checkpoints import CheckpointError, checkpoint_bytes, read_checkpoint_bytes
from core.formula import FormulaError, numpy_source, parse_formula
from core.live import History

EXPORTED = [l.key for l in registry.built() if export.exporter(l.key) is not None]


def _trainer_history(key, cfg, steps):
    module = export.exporter(key)
    if hasattr(module, "trainer_history"):          # lessons whose step differs from the script's
        return module.trainer_history(cfg, steps)
    cls = importlib.import_module(registry.lesson(key).package).Trainer
    trainer = cls(cfg, torch.device("cpu"))
    trainer.step(steps)
    return trainer.history.arrays()


def _parity_config(key):
    module = export.exporter(key)
    cls = importlib.import_module(registry.lesson(key).package).Trainer
    cfg = cls.Config(seed=0)
    return module.parity_config(cfg) if hasattr(module, "parity_config") else cfg


@pytest.mark.parametrize("key", EXPORTED)
def test_exported_script_trains_like_the_app(key, tmp_path):
    """The script's first PARITY_STEPS losses equal the trainer's on the same seed."""
    torch.set_num_threads(1)
    module = export.exporter(key)
    cfg = _parity_config(key)
    n = module.PARITY_STEPS
    got = export.run_script(module.script(cfg), n, tmp_path, getattr(module, "files", lambda c: {})(cfg))
    want = _trainer_history(key, cfg, n)
    for ours, theirs in module.PARITY.items():
        a, b = np.asarray(got[ours][:n]), np.asarray(want[theirs][:n], dtype=np.float64)
        assert len(a) == len(b) == n, (ours, len(a), len(b))
        np.testing.assert_allclose(a, b, rtol=module.PARITY_RTOL, atol=module.PARITY_ATOL, err_msg=ours)
    assert isinstance(module.MISMATCH, str) and module.MISMATCH


@pytest.mark.parametrize("key", EXPORTED)
def test_exported_notebook_runs_headless(key, tmp_path, monkeypatch):
    """The notebook (the same cells) runs top to bottom in a Jupyter kernel, chart included."""
    # Importing Streamlit sets MPLBACKEND=Agg in this process; a kernel inheriting it would draw
    # nothing inline, unlike a student's Jupyter.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    module = export.exporter(key)
    cfg = _parity_config(key)
    for name, data in getattr(module, "files", lambda c: {})(cfg).items():
        (tmp_path / name).write_bytes(data)
    nb = nbformat.reads(export.notebook(export.with_steps(module.script(cfg), 3)), as_version=4)
    nbformat.validate(nb)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook draws its chart"


def test_every_built_lesson_exports():
    """Issue 18: every lesson offers its run as code."""
    missing = [l.key for l in registry.built() if l.key not in EXPORTED]
    assert not missing, f"no core/lessons/<key>/export.py for {missing}"


# ------------------------------------------------------------------------------ the helpers

def test_notebook_cells_follow_the_percent_markers():
    src = "# %% [markdown]\n# # Title\n# text\n\n# %%\nA = 1\nSTEPS = 5\n# %%\nprint(A)\n"
    nb = json.loads(export.notebook(src))
    assert [c["cell_type"] for c in nb["cells"]] == ["markdown", "code", "code"]
    assert "".join(nb["cells"][0]["source"]) == "# Title\ntext"
    assert "".join(nb["cells"][1]["source"]) == "A = 1\nSTEPS = 5"
    assert "STEPS = 9" in export.with_steps(src, 9)
    with pytest.raises(ValueError):
        export.with_steps("A = 1\n", 3)


def test_bundle_holds_script_notebook_and_data():
    z = zipfile.ZipFile(io.BytesIO(export.bundle("demo", "STEPS = 1\n", {"data.csv": b"a,b\n"})))
    assert sorted(z.namelist()) == ["demo/data.csv", "demo/demo.ipynb", "demo/demo.py"]


def test_history_csv_has_every_history_and_step():
    h1, h2 = History(("loss", "acc")), History(("score",))
    h1.add_many(np.arange(1, 4), {"loss": np.array([1.0, np.nan, 0.5]), "acc": np.array([0.1, 0.2, 0.3])})
    h2.add(2, score=7.0)
    rows = export.history_csv({"losses": h1, "metrics": h2}).splitlines()
    assert rows[0] == "history,step,count,loss,acc,score"
    assert rows[1] == "losses,1,1,1,0.1," and rows[2] == "losses,2,1,,0.2," and rows[4] == "metrics,2,1,,,7"


def test_formula_as_numpy_source_gives_the_same_values():
    x = np.linspace(-3, 3, 101)
    for text in ["x**2", "sin(3*x)", "abs(x)", "x^2 - pi*atan(x) + sigmoid(2*x)", "e**(-x²)", "2×x − 1÷(1+x**2)"]:
        y = eval(numpy_source(text), {"np": np, "x": x})      # noqa: S307 (a checked formula)
        np.testing.assert_allclose(y, parse_formula(text)(x), rtol=1e-12, atol=1e-12, err_msg=text)
    with pytest.raises(FormulaError):
        numpy_source("__import__('os').system('true')")


def test_lesson_link_pins_settings():
    params = {"gan1d_lr_d": ["0.01"], "gan1d_hide": ["k"], "present": ["true"]}
    link = export.lesson_link("http://host:8501/gan1d?old=1", params, "gan1d", ["lr_d", "k"], present=False)
    assert link == "http://host:8501/gan1d?gan1d_lr_d=0.01&gan1d_hide=lr_d%2Ck"
    assert export.lesson_link("/gan1d", {}, "gan1d", [], present=True) == "/gan1d?present=true"
    assert export.hidden_fields("lr_d, k,nonsense", ["lr_d", "k", "seed"]) == {"lr_d", "k"}
    assert export.hidden_fields("*", ["lr_d", "k"]) == {"lr_d", "k"}
    assert export.hidden_fields(None, ["lr_d"]) == set()


def test_chart_images_for_slides():
    pytest.importorskip("vl_convert")
    spec = charts.line_chart(np.arange(50), {"loss": np.linspace(1, 0, 50), "gap": np.full(50, np.nan)},
                             title="loss", height=200)
    svg = export.chart_image(spec, "svg").decode()
    png = export.chart_image(spec, "png")
    assert svg.startswith("<svg") and "loss" in svg
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    with pytest.raises(ValueError):
        export.chart_image(spec, "gif")


# ------------------------------------------------------------------ uploads: the hostile cases

def _good_checkpoint():
    from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer
    return Gan1DTrainer(Gan1DConfig(), torch.device("cpu")).state_dict()


def test_checkpoint_round_trip():
    from core.lessons.gan1d import Gan1DTrainer
    state = _good_checkpoint()
    back = read_checkpoint_bytes(checkpoint_bytes(state), "mine.pt", "gan1d")
    trainer = Gan1DTrainer.from_checkpoint(back, torch.device("cpu"))
    assert trainer.step_count == state["step"]


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("case", ["other lesson", "damaged", "code", "huge", "empty", "not a dict", "text"])
def test_hostile_uploads_are_refused_with_a_reason(case):
    good = checkpoint_bytes(_good_checkpoint())
    data = {
        "other lesson": checkpoint_bytes({**_good_checkpoint(), "lesson": "gan2d"}),
        "damaged": good[: len(good) // 2],
        "code": _pickled_code(),
        "huge": good + b"\0" * (6 * 2**20),
        "empty": b"",
        "not a dict": checkpoint_bytes([1, 2, 3]),
        "text": b"step,loss\n1,0.5\n",
    }[case]
    with pytest.raises(CheckpointError) as e:
        read_checkpoint_bytes(data, "upload.pt", "gan1d")
    assert "upload.pt" in str(e.value)


def _pickled_code() -> bytes:
    buf = io.BytesIO()
    torch.save({"config": {}, "model": {}, "evil": _Evil()}, buf, pickle_module=pickle)
    return buf.getvalue()


def test_a_checkpoint_whose_shapes_do_not_fit_is_refused():
    from core.lessons.gan1d import Gan1DTrainer
    state = _good_checkpoint()
    state["model"]["G"]["flat"] = torch.zeros(3)
    with pytest.raises(ValueError, match="shape"):
        Gan1DTrainer.from_checkpoint(read_checkpoint_bytes(checkpoint_bytes(state), "x.pt", "gan1d"))
