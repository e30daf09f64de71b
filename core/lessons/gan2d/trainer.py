"""The mode-collapse trainer: every panel (a method) on ``n_seeds`` seeds, stepped together.

One step = one iteration of every method: k D steps (critic_steps for WGAN-GP) and one G step.
The mode metrics of panel i are measured every ``eval_every`` steps, at steps i, every + i,
2·every + i…: staggered, so one step never measures more than one panel (on the spiral, 8 seeds
of one panel take ~40 ms; four at once would hold Pause up for a sixth of a second). A trainer
with one panel (the pretrained runs, the measured table) measures at multiples of eval_every.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from core import settings
from core.trainer import RUNAWAY_FACTOR, TrainerBase, check_shapes
from core.lessons.gan2d.config import SHORT_LABELS, Gan2DConfig, check_config
from core.lessons.gan2d.data import Data2D
from core.lessons.gan2d.methods import MethodRun
from core.lessons.gan2d.record import Recording
from core.lessons.gan2d.metrics import mode_metrics

LESSON = "gan2d"
OFF_SCALE = 100.0        # generated points this many data extents from the centre = a blow-up
# A WGAN critic's values drift freely (only their differences matter), so its losses may wander
# far from a start near 0: runaway is judged against a start of at least 1 for every loss.
RUNAWAY_FLOOR = 1.0


def history_key(method: str, which: str) -> str:
    """A panel's loss in the blow-up check, named as the student reads it ("WGAN-GP_d_loss")."""
    return f"{SHORT_LABELS[method].replace(' ', '_')}_{which}"


class Gan2DTrainer(TrainerBase):
    """All panels of the page, each on ``n_seeds`` seeds. Each panel (``runs[m]``) keeps its own
    loss history (first seed) and recording; the base class's ``history`` stays empty."""

    LESSON = LESSON
    Config = Gan2DConfig
    HISTORY_KEYS = ()
    N_SHOW = 500
    GRID = 32

    def __init__(self, config: Gan2DConfig, device: torch.device | None = None) -> None:
        super().__init__(dataclasses.replace(config, methods=tuple(config.methods)), device)

    def check_config(self, config: Gan2DConfig) -> None:
        check_config(config)

    def build(self) -> None:
        cfg = self.config
        self.data = Data2D(cfg.dataset, cfg.std)
        self.runs = {m: MethodRun(m, cfg, self.data, self.device) for m in cfg.methods}
        self.RUNAWAY = {history_key(m, w): (RUNAWAY_FACTOR, RUNAWAY_FLOOR)
                        for m in cfg.methods for w in ("d_loss", "g_loss")}
        self._bad: list[str] = []
        self._show_real = self.data.sample(self.N_SHOW, torch.Generator().manual_seed(999))[:, :2].numpy()
        for run in self.runs.values():
            run.record(0)

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.runs)

    def on_live_change(self, old: Gan2DConfig, new: Gan2DConfig) -> None:
        """Learning rates, β₁, batch size, k, critic steps, λ and unroll steps, mid-run."""
        for run in self.runs.values():
            run.apply_live(new)

    # ------------------------------------------------------------------ training
    def train_steps(self, n: int) -> None:
        every = self.config.eval_every
        runs = list(self.runs.values())
        for _ in range(n):
            losses = torch.stack([run.iteration() for run in runs])          # [R, S, 2]
            self.push(losses[:, 0])                                          # the first seed's: [R, 2]
            due = [run for i, run in enumerate(runs)
                   if self.step_count >= every and (self.step_count - i) % every == 0]
            if due:
                self.flush()              # a blow-up stops here, before NaN weights are measured
                for run in due:
                    run.record(self.step_count)

    def flush(self) -> None:
        """Pending losses into each panel's history (one device sync), then the blow-up check."""
        if not self._pending:
            return
        arr = torch.stack(self._pending).float().cpu().numpy().astype(np.float64)   # [n, R, 2]
        self._pending = []
        steps = np.arange(self.step_count - arr.shape[0] + 1, self.step_count + 1)
        cols: dict[str, np.ndarray] = {}
        for r, (m, run) in enumerate(self.runs.items()):
            run.history.add_many(steps, {"d_loss": arr[:, r, 0], "g_loss": arr[:, r, 1]})
            cols[history_key(m, "d_loss")], cols[history_key(m, "g_loss")] = arr[:, r, 0], arr[:, r, 1]
        self.check_values(cols)

    def weights_finite(self) -> bool:
        self._bad = [SHORT_LABELS[m] for m, run in self.runs.items() if not run.weights_finite()]
        return not self._bad

    def outputs_off_scale(self) -> str | None:
        far = max(run.farthest for run in self.runs.values())
        limit = OFF_SCALE * self.data.extent
        if far > limit:
            return (f"the generated points reached |{far:.3g}|, more than {OFF_SCALE:g}× the data's "
                    f"extent ({self.data.extent:g})")
        return None

    def blowup_message(self, what: str) -> str:
        return super().blowup_message(f"{what} ({', '.join(self._bad)})" if self._bad else what)

    # ------------------------------------------------------------------ reading
    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        g = np.linspace(-self.data.extent, self.data.extent, self.GRID)
        return g, g

    @torch.no_grad()
    def snapshot(self) -> dict[str, Any]:
        """Arrays for the charts, for the shown seed (``config.show_seed``, an index into seeds).

        panels[m]: fake [N_SHOW, 2], d_grid [GRID, GRID] (rows = y), counts [K], covered, hq,
        kl, history/metrics dicts of [t] arrays, trail_steps [T], trail [T, K] (mode histograms),
        frame_steps [F], frames [F, 250, 2], frame_counts [F, K]; per_seed[m]: covered/hq/kl [S];
        modes: [K, 2] where each mode is marked; real: [N_SHOW, 2].
        """
        seed_index = int(min(max(self.config.show_seed, 0), self.config.n_seeds - 1))
        gx, gy = self.grid()
        K = self.data.n_modes
        panels = {}
        for m, run in self.runs.items():
            x = run.eval_samples(seed_index=seed_index)[0]
            met = mode_metrics(x, self.data.ref, self.data.ref_label, K, self.data.std)
            panels[m] = {
                "fake": x[: self.N_SHOW].cpu().numpy().astype(np.float64),
                "d_grid": run.d_field(gx, gy, seed_index), "critic": m == "wgan-gp",
                "counts": met["counts"].astype(np.float64), "covered": met["covered"], "hq": met["hq"],
                "kl": met["kl"], "history": run.history.arrays(), **run.rec.arrays(K),
            }
        per_seed = {m: {k: np.asarray(run.rec.last.get(k, []), dtype=np.float64) for k in ("covered", "hq", "kl")}
                    for m, run in self.runs.items()}
        return {
            "step": self.step_count, "dataset": self.config.dataset, "n_modes": K,
            "methods": list(self.runs), "seeds": [self.config.seed + i for i in range(self.config.n_seeds)],
            "seed_index": seed_index, "real": self._show_real.astype(np.float64),
            "show_real": self.config.show_real, "modes": self.data.mode_markers(),
            "curve": self.data.curve, "grid_x": gx, "grid_y": gy, "std": self.data.std,
            "panels": panels, "per_seed": per_seed,
        }

    # ------------------------------------------------------------------ checkpoints (the shipped layout:
    # everything of a panel under extra.runs[method], so one-method files merge into any panel set)
    def state_dict(self, methods: tuple[str, ...] | None = None) -> dict[str, Any]:
        """One checkpoint dict; ``methods`` keeps only some panels (one file per method ships)."""
        self.flush()
        keep = [m for m in self.runs if methods is None or m in methods]
        cfg = settings.config_to_dict(self.config)
        cfg["methods"] = list(cfg["methods"])
        return {"lesson": LESSON, "config": cfg, "step": self.step_count, "model": {"methods": keep},
                "optim": {}, "history": {}, "extra": {"runs": {m: self.runs[m].state_dict() for m in keep}}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        runs = state["extra"]["runs"]
        missing = [m for m in self.runs if m not in runs]
        if missing:
            raise ValueError(f"the checkpoint has no run of {', '.join(missing)}")
        for m, run in self.runs.items():
            run.load_state_dict(runs[m])
        self.step_count = int(state["step"])
        self._loss_start = {}
        for m, run in self.runs.items():   # runaway is measured against the run's own start
            h = run.history.arrays()
            for w in ("d_loss", "g_loss"):
                if len(h[w]) and np.isfinite(h[w][0]):
                    self._loss_start[history_key(m, w)] = abs(float(h[w][0]))

    @classmethod
    def upgrade_checkpoint(cls, state: dict[str, Any]) -> dict[str, Any]:
        """The panels are the runs the file holds (in the order its config lists them), so a
        one-method file loads into any panel set."""
        runs = (state.get("extra") or {}).get("runs")
        if not isinstance(runs, dict) or not runs or not all(isinstance(r, dict) for r in runs.values()):
            raise ValueError("it holds no run of this lesson (a mode-collapse checkpoint keeps its "
                             "panels under extra.runs)")
        listed = state["config"].get("methods", list(runs))
        if not isinstance(listed, (list, tuple)):
            raise ValueError("its list of methods is damaged")
        return {**state, "config": {**state["config"], "methods": [m for m in listed if isinstance(m, str) and m in runs]}}

    def check_layout(self, state: dict[str, Any]) -> None:
        """Each panel's weights and optimiser moments against this run's (the rest of a panel,
        its recording, is bounded by ``checkpoint_growth``)."""
        runs = state["extra"]["runs"]
        for m, run in self.runs.items():
            mine, saved = run.state_dict(), runs[m]
            for part in ("G", "D", "opt_g", "opt_d"):
                if part not in saved:
                    raise ValueError(f"its {m} run has no {part}")
                check_shapes(mine[part], saved[part], f"extra.runs.{m}.{part}")

    def checkpoint_growth(self) -> int:
        """What a panel's recording reaches at most: frames, the mass trail, the last measurements."""
        K, S, R = self.data.n_modes, int(self.config.n_seeds), Recording
        per_run = (R.MAX_FRAMES + 1) * (R.N_FRAME * 2 * 2 + K * 8) + R.TRAIL * K * 8 + S * (3 + K) * 8
        return per_run * len(self.runs)

    @classmethod
    def weight_parts(cls, state: dict[str, Any]) -> dict[str, Any]:
        return {f"extra.runs.{m}.{part}": run.get(part) for m, run in state["extra"]["runs"].items()
                for part in ("G", "D", "opt_g", "opt_d")}
