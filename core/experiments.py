"""Guided experiments as data: what a lesson asks a student to try, and the claim each one makes.

A lesson declares its steps in ``core/lessons/<key>/experiments.py``::

    EXPERIMENTS = (
        Experiment(
            title="A learning rate too large",
            settings={"lr_d": 0.1},               # on top of the shipped defaults
            start="reset",                        # "reset" | "pretrained" | "continue"
            train=800,                            # ▶ Train pauses itself after this many steps
            watch="chart_loss",                   # the chart (page key) to look at
            predict=Question("What happens to D's loss?", ("falls", "oscillates", "NaN"), answer=1),
            claims=(Claim("D's loss swings by more than {value:.2f}", measure=swing, op=">", value=0.3),),
            why="Each update overshoots …",
        ),
        ...
    )
    def pretrained(config, device, read=shipped): ...   # only if a step starts "pretrained"

``pretrained`` builds the trainer from the lesson's shipped checkpoint(s): ``read(stem)`` returns
the checkpoint dict of ``pretrained/<stem>.pt``. The tests (and the headless runs here) use the
default ``shipped``, the pages pass ``read=ui.checkpoint`` (their cache shared across sessions);
both read the same file through the same checked loader, and both are read-only: trainers copy
what they load.

One source of truth per claim: the sentence a step shows is ``Claim.sentence()``, built from the
same ``value`` the test checks (``tests/lessons/test_claims.py`` runs every step headless from
its declared settings on fixed seeds, counted in steps). No Streamlit in here; the guide panel
is ``core/ui/guide.py``.

How a step is run (the app and the tests do the same):
  * the config is the lesson's defaults with ``settings`` on top (``seed`` overridden per seed);
  * ``reset``: a fresh trainer; ``pretrained``: the lesson's ``pretrained(config, device)`` (the
    ⚡ start; the app's guide passes ``read=ui.checkpoint``), then the live settings applied;
    ``continue``: the previous step's run, with this step's settings applied (live fields only:
    a structural change would restart it);
  * then ``train`` steps, then each claim's ``measure(run)``.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import operator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import torch

from core import settings
from core.checkpoints import CheckpointError, load_checkpoint, pretrained_path
from core.live import Diverged

STARTS = ("reset", "pretrained", "continue")
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def shipped(stem: str) -> dict[str, Any]:
    """The checkpoint ``pretrained/<stem>.pt``, read through the checked loader for the lesson its
    name starts with and cached per file (a rewritten file is read again); ``CheckpointError``
    if it is missing or unusable. The default ``read`` of every lesson's ``pretrained``.

    Shared by every caller, so never written to: trainers copy what they load
    (``TrainerBase.from_checkpoint``). The pages read through ``ui.checkpoint`` instead.
    """
    path = pretrained_path(stem)
    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing")
    return _read_shipped(str(path), stem.split("_")[0], path.stat().st_mtime)


@functools.lru_cache(maxsize=32)
def _read_shipped(path: str, lesson: str, mtime: float) -> dict[str, Any]:
    return load_checkpoint(path, lesson)


@dataclass(frozen=True)
class Question:
    """Asked before the reveal: 2–4 choices, ``answer`` the index of the right one."""
    prompt: str
    choices: tuple[str, ...]
    answer: int


@dataclass(frozen=True)
class Claim:
    """One observation a step states, as a number the tests measure.

    ``says`` is shown with ``value`` (and ``tol``) filled in: "held-out bits/char below {value:.2f}".
    ``measure(run)`` returns the number (``run.trainer`` is the trained run, ``run.error`` its
    blow-up message if it blew up; ``run.other(...)`` builds and trains a second one for a
    comparison). It must be deterministic given the seed.
    ``op`` is one of < <= > >= (``measured op value``) or "≈" (``|measured − value| ≤ tol``).
    ``seeds``: the run's seeds (reset starts); at least ``share`` of them must hold.
    """
    says: str
    measure: Callable[["Run"], float]
    op: str
    value: float
    tol: float = 0.0
    seeds: tuple[int, ...] = (0,)
    share: float = 1.0

    def sentence(self) -> str:
        return self.says.format(value=self.value, tol=self.tol)

    def holds(self, measured: float) -> bool:
        if not math.isfinite(measured):
            return False
        if self.op == "≈":
            return abs(measured - self.value) <= self.tol
        return OPS[self.op](measured, self.value)


@dataclass(frozen=True)
class Experiment:
    title: str
    settings: dict[str, Any] = field(default_factory=dict)
    start: str = "reset"
    train: int = 0                      # steps to train after the start (0: look, or Step yourself)
    watch: str = ""                     # the page's chart key (without the lesson prefix)
    do: str = ""                        # what to do, when more than "press ▶ Train" (compare, Step…)
    predict: Question | None = None
    claims: tuple[Claim, ...] = ()
    why: str = ""                       # markdown; $…$ maths allowed
    # The page's own widgets outside the trainer's config that the step sets (e.g. upsampling's
    # {"view": "viewer"}): name (widget key without the lesson prefix) -> value
    page_widgets: dict[str, Any] = field(default_factory=dict)

    def todo(self, step_unit: str = "step") -> str:
        """What the student does after the set-up, in one or two sentences."""
        if self.do:
            return self.do
        if self.train:
            return (f"Press **▶ Train**: the run pauses itself after {self.train:,} {step_unit}s.")
        return "Look at the chart; nothing needs training."


@dataclass
class Guide:
    """A lesson's guided experiments (its ``experiments`` module, read by ``guide_of``)."""
    lesson: str
    experiments: tuple[Experiment, ...]
    trainer_cls: type
    pretrained: Callable[..., Any] | None = None     # pretrained(config, device, read=shipped)

    def config(self, index: int, seed: int | None = None) -> Any:
        """Step ``index``'s config: the defaults with its settings on top (a seed if given)."""
        cfg = dataclasses.replace(self.trainer_cls.Config(), **self.experiments[index].settings)
        if seed is not None and "seed" in settings.declarations(self.trainer_cls.Config):
            cfg = dataclasses.replace(cfg, seed=seed)
        return cfg

    def root(self, index: int) -> int:
        """The step whose start (reset or pretrained) step ``index`` continues from."""
        while index > 0 and self.experiments[index].start == "continue":
            index -= 1
        return index


def guide_of(lesson: str) -> Guide | None:
    """The lesson's guide, or None when it declares no experiments."""
    try:
        module: ModuleType = importlib.import_module(f"core.lessons.{lesson}.experiments")
    except ModuleNotFoundError as e:
        if e.name == f"core.lessons.{lesson}.experiments":
            return None
        raise
    trainer_cls = importlib.import_module(f"core.lessons.{lesson}").Trainer
    return Guide(lesson, tuple(module.EXPERIMENTS), trainer_cls, getattr(module, "pretrained", None))


# --------------------------------------------------------------------------- running (tests)

class Run:
    """One headless run of a chain of steps: what a claim's ``measure`` receives."""

    def __init__(self, guide: Guide, index: int, seed: int, device: torch.device | None = None) -> None:
        self.guide, self.index, self.seed = guide, index, seed
        self.device = device or torch.device("cpu")
        self.trainer: Any = None
        self.error: str | None = None     # the blow-up message, if the run blew up
        self._others: dict[tuple, Any] = {}

    @property
    def experiment(self) -> Experiment:
        return self.guide.experiments[self.index]

    def start(self, index: int) -> None:
        """Set up step ``index`` as the guide's Set-up button does."""
        self.index = index
        exp = self.experiment
        # The seed picks a fresh run; a pretrained or continued run keeps its own.
        cfg = self.guide.config(index, self.seed if exp.start == "reset" else None)
        if exp.start == "reset":
            self.trainer = self.guide.trainer_cls(cfg, self.device)
        elif exp.start == "pretrained":
            self.trainer = self.guide.pretrained(cfg, self.device)
            # The app keeps a loaded run only when its structure is the step's (else it rebuilds)
            _, structural = settings.changed_fields(self.trainer.config, cfg)
            if structural:
                raise ValueError(f"step {index + 1}: the pretrained run differs from the step's "
                                 f"settings in structural {structural}: list them in its settings")
            self.trainer.apply_live(cfg)
        else:
            self.trainer.apply_live(cfg)

    def train(self, steps: int, chunk: int = 50) -> None:
        """``steps`` steps in chunks, as the live loop trains (it never takes them in one go)."""
        done = 0
        while done < steps and self.error is None:
            n = min(chunk, steps - done)
            try:
                self.trainer.step(n)
            except Diverged as e:        # the app pauses with this message; a claim may expect it
                self.error = str(e)
            done += n

    def other(self, **changes: Any) -> Any:
        """A second run of this step with ``changes`` to its settings, trained the same number
        of steps from the same kind of start (cached): for claims that compare two runs."""
        key = (self.index, tuple(sorted(changes.items())))
        if key not in self._others:
            guide = dataclasses.replace(self.guide, experiments=tuple(
                dataclasses.replace(e, settings={**e.settings, **changes}) if i == self.index else e
                for i, e in enumerate(self.guide.experiments)))
            run = Run(guide, self.index, self.seed, self.device)
            for i in range(guide.root(self.index), self.index + 1):
                run.start(i)
                run.train(guide.experiments[i].train)
            self._others[key] = run.trainer
        return self._others[key]


def measure_chain(guide: Guide, root: int, seed: int, device: torch.device | None = None) -> dict[int, list[float]]:
    """Run the chain of steps that starts at ``root`` (until the next non-continue step) with
    ``seed``; return step index -> the measured value of each of its claims (NaN for claims
    that do not run at this seed). Measuring never disturbs the run's random numbers."""
    out: dict[int, list[float]] = {}
    run = Run(guide, root, seed, device)
    i = root
    while i < len(guide.experiments) and (i == root or guide.experiments[i].start == "continue"):
        run.start(i)
        run.train(guide.experiments[i].train)
        values = []
        for claim in guide.experiments[i].claims:
            if seed not in claim.seeds:
                values.append(float("nan"))
                continue
            # Not under no_grad: some measures take gradients (lstm's through time), and
            # ``run.other`` trains a second run
            with torch.random.fork_rng(devices=[]):
                values.append(float(claim.measure(run)))
        out[i] = values
        i += 1
    return out


def problems(guide: Guide) -> list[str]:
    """What is wrong with a guide's declarations (empty when fine): unknown settings, values out
    of their declared range, a structural change in a continued step, questions, claims."""
    out: list[str] = []
    decls = settings.declarations(guide.trainer_cls.Config)
    exps = guide.experiments
    if not 4 <= len(exps) <= 8:
        out.append(f"{len(exps)} steps (4–8 wanted)")
    if exps and exps[0].start == "continue":
        out.append("the first step continues nothing")
    for i, e in enumerate(exps):
        where = f"step {i + 1} ({e.title})"
        unknown = set(e.settings) - set(decls)
        if unknown:
            out.append(f"{where}: unknown settings {sorted(unknown)}")
            continue
        if e.start not in STARTS:
            out.append(f"{where}: start {e.start!r}")
        if e.start == "pretrained" and guide.pretrained is None:
            out.append(f"{where}: starts pretrained but the lesson has no pretrained()")
        try:
            settings.check(guide.config(i))
        except ValueError as err:
            out.append(f"{where}: {err}")
        if e.start == "continue" and i > 0 and not set(exps[i - 1].settings) - set(decls):
            _, structural = settings.changed_fields(guide.config(i - 1), guide.config(i))
            if structural:
                out.append(f"{where}: continues the run but changes structural {structural}")
        if e.predict is not None:
            q = e.predict
            if not 2 <= len(q.choices) <= 4 or not 0 <= q.answer < len(q.choices):
                out.append(f"{where}: question needs 2–4 choices and a valid answer")
        for c in e.claims:
            if c.op not in OPS and c.op != "≈":
                out.append(f"{where}: claim op {c.op!r}")
            if not 0 < c.share <= 1:
                out.append(f"{where}: claim share {c.share}")
            if len(c.seeds) > 1 and exps[guide.root(i)].start != "reset":
                out.append(f"{where}: several seeds need a chain that starts from reset")
        if not e.why.strip():
            out.append(f"{where}: no why")
    if sum(e.predict is not None for e in exps) * 2 <= len(exps):
        out.append("most steps should ask for a prediction first")
    return out
