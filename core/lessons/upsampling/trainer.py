"""The four decoders trained side by side on the same batches (``core.trainer.TrainerBase``).

One step: every chosen decoder takes one Adam step on the same batch of (code, target) pairs,
loss = mean squared error. Every ``eval_every`` steps the checkerboard score of each decoder is
measured on the smooth gradients of the pool. No Streamlit.

Shapes: codes [n, CODE_DIM]; images [n, 1, R, R]; the shown examples [N_SHOW, R, R].
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.lessons.upsampling.config import UpsamplingConfig
from core.lessons.upsampling.data import KIND_NAMES, make_targets
from core.lessons.upsampling.metrics import checkerboard_score
from core.lessons.upsampling.model import RESOLUTIONS, SHORT, VARIANTS, Decoder, adam
from core.live import History
from core.trainer import TrainerBase

N_SHOW = 4            # examples drawn per decoder
# The checkerboard probe holds this many pixels: 128 gradients at 16×16, 32 at 32×32, so that
# measuring it never costs more than about one training step.
PROBE_PIXELS = 128 * 16 * 16
# Outputs further than this outside the targets' range [0, 1] mean the decoder has left the
# picture altogether (at lr 10 they sat at −38 while the chart still said "checkerboard 0.0000").
OFF_SCALE = 10.0


class UpsamplingTrainer(TrainerBase):
    """Trains the chosen decoders side by side: the same initial seed, the same batches."""

    LESSON = "upsampling"
    Config = UpsamplingConfig

    # ---------------------------------------------------------------- construction
    def check_config(self, config: UpsamplingConfig) -> None:
        if not config.variants:
            raise ValueError("choose at least one decoder to train")
        if not config.kinds:
            raise ValueError("choose at least one kind of target image")

    def build(self) -> None:
        cfg = self.config
        # per-instance keys: the history has one loss per chosen decoder
        self.HISTORY_KEYS = tuple(f"loss_{v}" for v in cfg.variants)
        self.history = History(self.HISTORY_KEYS, capacity=self.HISTORY_CAPACITY)
        self.metrics = History([f"checker_{v}" for v in cfg.variants], capacity=500)
        self.models: dict[str, Decoder] = {}
        for v in cfg.variants:
            # each decoder's weights come from its own seed stream, whichever others are chosen
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(cfg.seed * 1000 + list(VARIANTS).index(v))
                self.models[v] = Decoder(v, int(cfg.channels), RESOLUTIONS[int(cfg.resolution)]).to(self.device)
        self.opts = {v: adam(m, cfg.lr) for v, m in self.models.items()}
        codes, imgs = make_targets(cfg.kinds, int(cfg.n_targets), int(cfg.resolution), cfg.seed)
        self.codes = torch.from_numpy(codes).to(self.device)
        self.images = torch.from_numpy(imgs).unsqueeze(1).to(self.device)       # [n, 1, R, R]
        # the shown examples: one per kind, fixed (not from the training pool's randomness)
        show_kinds = tuple(cfg.kinds[i % len(cfg.kinds)] for i in range(N_SHOW))
        sc, si = make_targets(show_kinds, N_SHOW, int(cfg.resolution), 10_000 + cfg.seed)
        self.show_codes = torch.from_numpy(sc).to(self.device)
        self.show_images = si.astype(np.float64)
        # The checkerboard probe: the smooth gradients of the pool (a smooth target has no energy at
        # the highest frequency, so whatever a decoder puts there is its own artefact); without
        # gradients among the targets, the first targets (their own score is the reference).
        grad = torch.from_numpy(codes[:, KIND_NAMES.index("gradient")] > 0)
        probe = torch.nonzero(grad).flatten() if bool(grad.any()) else torch.arange(codes.shape[0])
        self._probe = probe[:PROBE_PIXELS // int(cfg.resolution) ** 2].to(self.device)
        self.target_score = float(checkerboard_score(self.images[self._probe].double()))
        self._gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
        self._worst: torch.Tensor | None = None     # [V] largest |output − ½| since the last check
        self.initial_outputs = self._outputs()       # {variant: [N_SHOW, R, R]}
        self._record_metrics()

    # ---------------------------------------------------------------- training
    def train_steps(self, n: int) -> None:
        """n steps: every decoder takes one Adam step on the same batch (MSE to the targets)."""
        every = int(self.config.eval_every)
        n_pool = self.codes.shape[0]
        for _ in range(n):
            idx = torch.randint(n_pool, (int(self.config.batch_size),), generator=self._gen).to(self.device)
            z, target = self.codes[idx], self.images[idx]
            losses, worst = [], []
            for v, m in self.models.items():
                y = m(z)
                # L = mean over pixels of (decoder(z) − target)²
                loss = F.mse_loss(y, target)
                opt = self.opts[v]
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                losses.append(loss.detach())
                worst.append((y.detach() - 0.5).abs().amax())
            w = torch.stack(worst)
            self._worst = w if self._worst is None else torch.maximum(self._worst, w)
            self.push(torch.stack(losses))
            if self.step_count % every == 0:
                self._record_metrics()

    def on_live_change(self, old: UpsamplingConfig, new: UpsamplingConfig) -> None:
        self._set_lr(new.lr)

    def _set_lr(self, lr: float) -> None:
        for opt in self.opts.values():
            for g in opt.param_groups:
                g["lr"] = lr

    # ---------------------------------------------------------------- the blow-up check
    def check_values(self, cols: dict[str, np.ndarray]) -> None:
        """The base's check, with each loss named by its decoder ("the tconv k=3 loss")."""
        super().check_values({_loss_name(k): v for k, v in cols.items()})

    def weights_finite(self) -> bool:
        """One device sync for all weights (the base asks once per parameter)."""
        flags = [torch.isfinite(p).all() for m in self.models.values() for p in m.parameters()]
        return bool(torch.stack(flags).all())

    def outputs_off_scale(self) -> str | None:
        """A sentence if some decoder's outputs went far outside the targets' [0, 1] in this chunk."""
        if self._worst is None:
            return None
        worst = self._worst.float().cpu().numpy()
        self._worst = None
        for v, w in zip(self.models, worst):
            if w > OFF_SCALE + 0.5:
                return (f"the {SHORT[v]} decoder's outputs reached {w - 0.5:.3g} away from the targets' "
                        "range 0 to 1")
        return None

    # ---------------------------------------------------------------- reading
    @torch.no_grad()
    def _outputs(self) -> dict[str, np.ndarray]:
        return {v: m(self.show_codes)[:, 0].cpu().numpy().astype(np.float64) for v, m in self.models.items()}

    @torch.no_grad()
    def _record_metrics(self) -> None:
        z = self.codes[self._probe]
        scores = torch.stack([checkerboard_score(m(z)) for m in self.models.values()]).cpu().numpy()
        self.metrics.add(self.step_count, **{f"checker_{v}": float(s) for v, s in zip(self.models, scores)})

    @torch.no_grad()
    def snapshot(self) -> dict[str, Any]:
        """targets: [N_SHOW, R, R]; outputs/initial: {variant: [N_SHOW, R, R]};
        history/metrics: dicts of [m] arrays; loss/checker: {variant: latest value (NaN at step 0)}."""
        return {
            "step": self.step_count, "variants": list(self.models), "targets": self.show_images,
            "outputs": self._outputs(), "initial": self.initial_outputs,
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "loss": {v: self.history.last(f"loss_{v}") for v in self.models},
            "checker": {v: self.metrics.last(f"checker_{v}") for v in self.models},
            "target_checker": self.target_score, "resolution": int(self.config.resolution),
        }

    # ---------------------------------------------------------------- checkpoints
    def modules(self) -> dict[str, Any]:
        return dict(self.models)

    def optimizers(self) -> dict[str, Any]:
        return dict(self.opts)

    def histories(self) -> dict[str, History]:
        return {"losses": self.history, "metrics": self.metrics}

    def extra_state(self) -> dict[str, Any]:
        return {"initial": {v: torch.from_numpy(a.astype(np.float32)) for v, a in self.initial_outputs.items()},
                "gen": self._gen.get_state()}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        if "initial" in extra:
            self.initial_outputs = {v: extra["initial"][v].numpy().astype(np.float64) for v in self.models}
        if "gen" in extra:
            self._gen.set_state(extra["gen"])
        self._set_lr(self.config.lr)          # the live setting wins over the saved one

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        # the base measured the runaway start under the history's keys; the check uses decoder names
        self._loss_start = {_loss_name(k): v for k, v in self._loss_start.items()}


def _loss_name(key: str) -> str:
    """'loss_tconv3' -> 'tconv k=3 loss' (the base says "the tconv k=3 loss ran away …")."""
    v = key[len("loss_"):]
    return f"{SHORT[v]} loss" if key.startswith("loss_") and v in SHORT else key
