"""The trainer base (core.trainer): history, the blow-up check and its one message, checkpoints."""
import dataclasses

import numpy as np
import pytest
import torch

from core.live import Diverged
from core.settings import live_field, seed_field, structural_field
from core.trainer import TrainerBase, check_shapes

CPU = torch.device("cpu")


@dataclasses.dataclass
class ToyConfig:
    width: int = structural_field(4, bounds=(1, 32))
    lr: float = live_field(0.05, bounds=(1e-6, 1e6))
    seed: int = seed_field()


class ToyTrainer(TrainerBase):
    """Least squares y = Xw with SGD: stable at small lr, runs away (finite) at a large one."""

    LESSON = "toy"
    Config = ToyConfig
    HISTORY_KEYS = ("loss",)

    def build(self) -> None:
        g = torch.Generator().manual_seed(self.config.seed)
        self.model = torch.nn.Linear(self.config.width, 1)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.config.lr)
        self.X = torch.randn(64, self.config.width, generator=g)
        self.y = self.X @ torch.randn(self.config.width, 1, generator=g)

    def on_live_change(self, old, new) -> None:
        for group in self.opt.param_groups:
            group["lr"] = new.lr

    def train_steps(self, n: int) -> None:
        for _ in range(n):
            # L = mean((Xw + b − y)²)
            loss = ((self.model(self.X) - self.y) ** 2).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            self.push(loss.detach().reshape(1))

    def snapshot(self):
        return {"history": self.history.arrays()}

    def modules(self):
        return {"model": self.model}

    def optimizers(self):
        return {"opt": self.opt}


def test_steps_are_recorded_once_per_chunk():
    t = ToyTrainer(ToyConfig(), CPU)
    t.step(30)
    h = t.history.arrays()
    assert t.step_count == 30 and list(h["step"][:3]) == [1, 2, 3] and h["loss"][-1] < h["loss"][0]


def test_a_runaway_loss_is_named_and_kept_in_the_history():
    t = ToyTrainer(ToyConfig(lr=5.0), CPU)
    with pytest.raises(Diverged, match=r"blew up at step \d+: the loss ran away from .* Lower the learning rate"):
        for _ in range(20):
            t.step(10)
    h = t.history.arrays()
    assert np.isfinite(h["loss"]).all() and h["loss"].max() > 1e3 * h["loss"][0]


def test_nan_is_named():
    t = ToyTrainer(ToyConfig(), CPU)
    with torch.no_grad():
        t.model.weight.fill_(float("nan"))
    with pytest.raises(Diverged, match="the loss became NaN"):
        t.step(1)


def test_live_change_checks_the_declared_bounds():
    t = ToyTrainer(ToyConfig(), CPU)
    t.apply_live(ToyConfig(lr=0.01, width=9))           # width is structural: ignored here
    assert t.config.lr == 0.01 and t.config.width == 4 and t.opt.param_groups[0]["lr"] == 0.01
    with pytest.raises(ValueError, match="Lr must be between"):
        t.apply_live(ToyConfig(lr=-1.0))


def test_checkpoint_round_trip_copies_everything():
    t = ToyTrainer(ToyConfig(seed=3), CPU)
    t.step(20)
    state = t.state_dict()
    u = ToyTrainer.from_checkpoint(state, CPU)
    assert u.step_count == 20 and torch.equal(u.model.weight, t.model.weight)
    before = state["model"]["model"]["weight"].clone()
    u.step(5)
    # the source dict (a cached shipped checkpoint, say) is never written to
    assert torch.equal(state["model"]["model"]["weight"], before)
    t.step(5)
    assert torch.allclose(u.model.weight, t.model.weight)   # same seed, same steps: same run


def test_a_checkpoint_of_another_shape_is_a_value_error():
    state = ToyTrainer(ToyConfig(width=4), CPU).state_dict()
    state["config"]["width"] = 5
    with pytest.raises(ValueError, match="shape"):
        ToyTrainer.from_checkpoint(state, CPU)
    with pytest.raises(ValueError, match="shape"):
        check_shapes({"w": torch.zeros(2)}, {"w": "not a tensor"}, "model")
