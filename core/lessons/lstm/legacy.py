"""Lesson: inside an LSTM — gates, cell state and gradients through time (seed 001; seed 000).

A small recurrent net (LSTM, GRU or vanilla RNN, hidden size 1–16) with a linear read-out learns
a toy task that needs memory:

* ``first_bit`` — remember the first bit of a ±1 bit string until the end;
* ``parity``    — "YES" (1) if the number of 1s is even;
* ``adding``    — two channels (value, marker); output the sum of the two marked values;
* ``echo``      — at every step t ≥ d output the bit seen d steps earlier.

Training runs through ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` (fused, fastest). Every number the
page shows inside the cell — gates, states, δh_t, δc_t, gate gradients, the gradient-norm
profile — comes from the explicit code in ``core.rnn_cells`` (checked against autograd to 1e-6 in
float64 by tests/test_rnn_cells.py), run on a float64 copy of the trained weights.

Shapes: inputs x: [T, B, I]; targets y: [T_out, B]; per-step states [T, B, H]; charts get
[H, T] arrays (rows = hidden units, columns = time steps).
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core import rnn_cells as rc
from core.device import pick_device
from core.live import (Diverged, History, config_from_dict, config_to_dict, live_field, structural_field,
                       with_live_fields)

LESSON = "lstm"
TASKS: dict[str, str] = {
    "first_bit": "Remember the first bit",
    "parity": "Parity (1 if the number of 1s is even)",
    "adding": "Adding problem",
    "echo": "Echo after a delay",
}
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}
BIT_TASKS = ("first_bit", "parity", "echo")
MAX_HIDDEN = 16
MAX_LEN = 100
PROBE_BACK = 50          # "the gradient 50 steps back" of the issue / the lecture's claim

# What the forward / backward views draw per cell: (key in the explicit dicts, label)
FORWARD_VIEW: dict[str, list[tuple[str, str]]] = {
    "lstm": [("i", "input gate i"), ("f", "forget gate f"), ("o", "output gate o"),
             ("g", "candidate g"), ("c", "cell state c"), ("h", "hidden state h")],
    "gru": [("r", "reset gate r"), ("z", "update gate z"), ("n", "candidate n"), ("h", "hidden state h")],
    "rnn": [("a", "pre-activation a"), ("h", "hidden state h")],
}
BACKWARD_VIEW: dict[str, list[tuple[str, str]]] = {
    "lstm": [("dh", "δh = ∂L/∂h"), ("dc", "δc = ∂L/∂c"), ("da_i", "∂L/∂(input gate pre-act.)"),
             ("da_f", "∂L/∂(forget gate pre-act.)"), ("da_g", "∂L/∂(candidate pre-act.)"),
             ("da_o", "∂L/∂(output gate pre-act.)")],
    "gru": [("dh", "δh = ∂L/∂h"), ("da_r", "∂L/∂(reset gate pre-act.)"),
            ("da_z", "∂L/∂(update gate pre-act.)"), ("da_n", "∂L/∂(candidate pre-act.)")],
    "rnn": [("dh", "δh = ∂L/∂h"), ("da", "∂L/∂a (pre-activation)")],
}


@dataclass
class LstmConfig:
    """Every tunable of the lesson. Live fields apply at the next chunk; structural ones restart."""

    task: str = structural_field("first_bit")       # one of TASKS
    seq_len: int = structural_field(60)              # T
    delay: int = structural_field(5)                 # echo task: d
    cell: str = structural_field("lstm")             # lstm | gru | rnn
    hidden: int = structural_field(8)                # H
    forget_bias: float = structural_field(3.0)       # LSTM forget-gate (GRU update-gate) bias at init
    recurrent_sv: float = structural_field(0.0)      # λ₁ of each W_hh block at init; 0 = torch's init
    seed: int = structural_field(0)
    lr: float = live_field(1e-2)                     # Adam
    batch_size: int = live_field(64)
    clip_norm: float = live_field(1.0)               # gradient-norm clipping threshold; 0 = off


def check_config(cfg: LstmConfig) -> None:
    """Raise ValueError with a student-readable message for an unusable config."""
    if cfg.task not in TASKS:
        raise ValueError(f"unknown task {cfg.task!r}; choose one of {', '.join(TASKS)}")
    if cfg.cell not in rc.CELLS:
        raise ValueError(f"unknown cell type {cfg.cell!r}; choose one of {', '.join(rc.CELLS)}")
    if not 1 <= int(cfg.hidden) <= MAX_HIDDEN:
        raise ValueError(f"the hidden size must be between 1 and {MAX_HIDDEN}")
    if not 2 <= int(cfg.seq_len) <= MAX_LEN:
        raise ValueError(f"the sequence length must be between 2 and {MAX_LEN}")
    if cfg.task == "echo" and not 1 <= int(cfg.delay) < int(cfg.seq_len):
        raise ValueError("the echo delay must be at least 1 and shorter than the sequence")
    if int(cfg.batch_size) < 1:
        raise ValueError("the batch size must be at least 1")
    for name in ("lr",):
        v = float(getattr(cfg, name))
        if not (math.isfinite(v) and v > 0):
            raise ValueError("the learning rate must be a positive number")
    for name in ("forget_bias", "recurrent_sv", "clip_norm"):
        if not math.isfinite(float(getattr(cfg, name))):
            raise ValueError(f"{name.replace('_', ' ')} must be a finite number")
    if cfg.recurrent_sv < 0 or cfg.clip_norm < 0:
        raise ValueError("λ₁ and the clipping threshold cannot be negative")


# =========================================================================== tasks


def input_size(task: str) -> int:
    return 2 if task == "adding" else 1


def is_classification(task: str) -> bool:
    return task != "adding"


def out_steps(task: str, T: int, delay: int) -> slice:
    """The time steps that have a target: the last one, or every t ≥ d for the echo."""
    return slice(delay, T) if task == "echo" else slice(T - 1, T)


def bit_targets(task: str, bits: torch.Tensor, delay: int) -> torch.Tensor:
    """Targets for 0/1 bits [T, B]: [T_out, B] floats."""
    if task == "first_bit":
        return bits[:1].float()
    if task == "parity":
        # YES (1) when the number of 1s is even
        return (bits.sum(0, keepdim=True) % 2 == 0).float()
    if task == "echo":
        return bits[: bits.shape[0] - delay].float()        # y_t = b_{t−d}, t = d … T−1
    raise ValueError(f"{task} is not a bit task")


def encode_bits(bits: torch.Tensor) -> torch.Tensor:
    """0/1 bits [T, B] -> inputs x = 2b − 1: [T, B, 1]."""
    return (2.0 * bits.float() - 1.0).unsqueeze(-1)


def make_batch(task: str, T: int, B: int, delay: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch: x [T, B, I], y [T_out, B] (float32, CPU)."""
    if task in BIT_TASKS:
        bits = torch.randint(0, 2, (T, B), generator=gen)
        return encode_bits(bits), bit_targets(task, bits, delay)
    # adding: values U(0, 1); one marker in each half (Hochreiter & Schmidhuber's setting)
    vals = torch.rand(T, B, generator=gen)
    half = max(T // 2, 1)
    p1 = torch.randint(0, half, (B,), generator=gen)
    p2 = torch.randint(half, T, (B,), generator=gen) if T > 1 else p1
    marks = torch.zeros(T, B)
    cols = torch.arange(B)
    marks[p1, cols] = 1.0
    marks[p2, cols] = 1.0
    y = (vals * marks).sum(0, keepdim=True)
    return torch.stack([vals, marks], dim=-1), y


def parse_bits(text: str, min_len: int = 2) -> np.ndarray:
    """A typed bit string ('1000010101', spaces allowed) -> int array [T]; ValueError if not."""
    s = "".join(ch for ch in str(text) if not ch.isspace())
    if len(s) < min_len:
        raise ValueError(f"type at least {min_len} bits (0s and 1s)")
    bad = sorted({ch for ch in s if ch not in "01"})
    if bad:
        raise ValueError(f"only 0 and 1 are allowed in the sequence (found {' '.join(repr(b) for b in bad[:3])})")
    if len(s) > MAX_LEN:
        raise ValueError(f"at most {MAX_LEN} bits")
    return np.array([int(ch) for ch in s], dtype=np.int64)


# =========================================================================== model


def build_rnn(cfg: LstmConfig) -> tuple[torch.nn.Module, torch.nn.Linear]:
    """The recurrent layer and the read-out, initialised from the seed (float32, CPU).

    Init: torch's default, then the forget-gate bias (LSTM: b_f; GRU: the update gate b_z, which
    plays the same 'keep' role) set to ``forget_bias`` and, if ``recurrent_sv`` > 0, every gate
    block of W_hh rescaled so its largest singular value λ₁ equals ``recurrent_sv``.
    """
    I, H = input_size(cfg.task), int(cfg.hidden)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(cfg.seed))
        rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cfg.cell](I, H)
        head = torch.nn.Linear(H, 1)
    with torch.no_grad():
        if cfg.cell in ("lstm", "gru"):
            # LSTM blocks i, f, g, o: f is block 1. GRU blocks r, z, n: z is block 1.
            rnn.bias_ih_l0[H:2 * H] = float(cfg.forget_bias)
            rnn.bias_hh_l0[H:2 * H] = 0.0
        if cfg.recurrent_sv > 0:
            for blk in rnn.weight_hh_l0.split(H, dim=0):
                s1 = torch.linalg.matrix_norm(blk, ord=2)
                blk.mul_(float(cfg.recurrent_sv) / max(float(s1), 1e-12))
    return rnn, head


def cell_params(rnn: torch.nn.Module, cell: str) -> rc.CellParams:
    """A float64 CPU copy of the weights for the explicit code."""
    p = rc.CellParams.from_module(cell, rnn, dtype=torch.float64)
    return rc.CellParams(cell, p.w_ih.cpu(), p.w_hh.cpu(), p.b_ih.cpu(), p.b_hh.cpu())


def head_params(head: torch.nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    return head.weight.detach().double().cpu(), head.bias.detach().double().cpu()


def explicit_pass(cell: str, task: str, delay: int, p: rc.CellParams, w_out: torch.Tensor,
                  b_out: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    """Explicit forward, the output and BPTT of the loss at the LAST step, per sequence.

    x: [T, B, I] float64; y: [T_out, B]; w_out: [1, H]. The loss of each sequence is its own
    (summed over the batch, not averaged), so δh_t of each sequence is its own gradient.
    Returns {'fwd', 'bwd', 'pred' [T_out, B], 'last_pred' [B], 'last_loss' [B]}.
    """
    T = x.shape[0]
    fwd = rc.forward(cell, x, p)
    # y_t = w_out · h_t + b_out
    pred = (fwd["h"] @ w_out.T + b_out).squeeze(-1)[out_steps(task, T, delay)]   # [T_out, B]
    last, target = pred[-1], y[-1].double()
    if is_classification(task):
        # L = BCE(σ(ŷ), y);  ∂L/∂ŷ = σ(ŷ) − y
        loss = torch.nn.functional.binary_cross_entropy_with_logits(last, target, reduction="none")
        d_pred = torch.sigmoid(last) - target
    else:
        # L = (ŷ − y)²;  ∂L/∂ŷ = 2 (ŷ − y)
        loss = (last - target) ** 2
        d_pred = 2 * (last - target)
    dh_out = torch.zeros_like(fwd["h"])
    dh_out[-1] = d_pred[:, None] * w_out[0]                   # ∂L/∂h_T = ∂L/∂ŷ · w_out
    bwd = rc.backward(cell, x, p, fwd, dh_out)
    return {"fwd": fwd, "bwd": bwd, "pred": pred, "last_pred": last, "last_loss": loss}


def gradient_profile(bwd: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Gradient norms against steps back k = T−1−t, mean over the batch: [T] each.

    dh: ‖δh_t‖; dc: ‖δc_t‖ (LSTM); dh_rel: ‖δh_t‖ / ‖δh_{T−1}‖ per sequence. With one scalar
    output, δh_t = (∂L/∂ŷ)·∂ŷ/∂h_t, so dh_rel does not depend on how large the loss still is
    (a trained net has tiny losses): it is the pure "product of Jacobians" of BPTT.
    """
    n = bwd["dh"].norm(dim=-1)                                   # [T, B]
    out = {"dh": n.mean(dim=1).flip(0).cpu().numpy(),
           "dh_rel": (n / n[-1:].clamp_min(1e-300)).mean(dim=1).flip(0).cpu().numpy()}
    if "dc" in bwd:
        out["dc"] = bwd["dc"].norm(dim=-1).mean(dim=1).flip(0).cpu().numpy()
    return out


def eval_batch(cfg: LstmConfig, n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed evaluation set for a task / length (the same for every cell and seed)."""
    gen = torch.Generator().manual_seed(12345 + 7 * int(cfg.seq_len))
    return make_batch(cfg.task, int(cfg.seq_len), n, int(cfg.delay), gen)


# =========================================================================== trainer


class LstmTrainer:
    """Trains the recurrent net on the chosen task; snapshots come from the explicit cell."""

    HISTORY_KEYS = ("loss", "acc", "grad_norm", "grad_used")
    METRIC_KEYS = ("eval_loss", "eval_acc", "grad_back")
    N_EVAL = 256        # sequences of the fixed evaluation set
    N_PROFILE = 32      # of which the gradient-norm profile averages over
    EVAL_EVERY = 50

    def __init__(self, config: LstmConfig, device: torch.device | None = None) -> None:
        self.config = dataclasses.replace(config)
        check_config(self.config)
        cfg = self.config
        self.device = device or pick_device()
        self.rnn, self.head = build_rnn(cfg)
        self.rnn.to(self.device)
        self.head.to(self.device)
        self.params = list(self.rnn.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.Adam(self.params, lr=cfg.lr)
        self._gen = torch.Generator().manual_seed(int(cfg.seed) + 1)
        self._out = out_steps(cfg.task, int(cfg.seq_len), int(cfg.delay))
        self._eval_x, self._eval_y = eval_batch(cfg, self.N_EVAL)
        self._eval_xd, self._eval_yd = self._eval_x.to(self.device), self._eval_y.to(self.device)
        self.step_count = 0
        self.history = History(self.HISTORY_KEYS, capacity=1000)
        self.metrics = History(self.METRIC_KEYS, capacity=500)
        self._pending: list[torch.Tensor] = []
        self._record_metrics()

    # ---------------------------------------------------------------- settings
    def apply_live(self, config: LstmConfig) -> None:
        new = with_live_fields(self.config, config)
        check_config(new)
        self.config = new
        for g in self.opt.param_groups:
            g["lr"] = float(new.lr)

    # ---------------------------------------------------------------- training
    def _loss(self, pred: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean loss and accuracy. pred, y: [T_out, B]."""
        if is_classification(self.config.task):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(pred, y)
            acc = ((pred > 0).float() == y).float().mean()
        else:
            loss = ((pred - y) ** 2).mean()
            # the adding problem counts an answer within 0.1 of the sum as right
            acc = ((pred - y).abs() < 0.1).float().mean()
        return loss, acc

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)                                         # [T, B, H]
        return self.head(out[self._out]).squeeze(-1)                 # [T_out, B]

    def step(self, n: int = 1) -> None:
        """n Adam steps on fresh random batches. Raises ``Diverged`` on NaN/inf."""
        cfg = self.config
        for _ in range(int(n)):
            x, y = make_batch(cfg.task, int(cfg.seq_len), int(cfg.batch_size), int(cfg.delay), self._gen)
            x, y = x.to(self.device), y.to(self.device)
            loss, acc = self._loss(self._forward(x), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            clip = float(cfg.clip_norm)
            # ‖∇‖ before clipping; when ‖∇‖ > clip the gradient is rescaled to norm `clip`
            norm = torch.nn.utils.clip_grad_norm_(self.params, clip if clip > 0 else float("inf"))
            used = torch.clamp(norm, max=clip) if clip > 0 else norm
            self.opt.step()
            self._pending.append(torch.stack([loss.detach(), acc, norm, used]))
            self.step_count += 1
            if self.step_count % self.EVAL_EVERY == 0:
                self._flush()
                self._record_metrics()
        self._flush()

    def _check_finite(self, vals: torch.Tensor) -> None:
        ok = bool(torch.isfinite(vals[:, 0]).all()) and all(bool(torch.isfinite(p).all()) for p in self.params)
        if not ok:
            raise Diverged(f"Training diverged at step {self.step_count}: the loss or a weight became NaN "
                           "or infinite. Lower the learning rate or turn on gradient clipping, then press Reset.")

    def _flush(self) -> None:
        if not self._pending:
            return
        vals = torch.stack(self._pending)                            # [n, 4]
        self._pending = []
        self._check_finite(vals)
        arr = vals.cpu().double().numpy()
        n = arr.shape[0]
        steps = np.arange(self.step_count - n + 1, self.step_count + 1)
        self.history.add_many(steps, {k: arr[:, i] for i, k in enumerate(self.HISTORY_KEYS)})

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        loss, acc = self._loss(self._forward(self._eval_xd), self._eval_yd)
        return float(loss), float(acc)

    def explicit(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
        """The explicit forward/backward (float64) of the current weights on x [T, B, I], y."""
        p = cell_params(self.rnn, self.config.cell)
        w, b = head_params(self.head)
        with torch.no_grad():
            return explicit_pass(self.config.cell, self.config.task, int(self.config.delay), p, w, b,
                                 x.double().cpu(), y.cpu())

    def profile(self) -> dict[str, np.ndarray]:
        """‖δh‖ (and ‖δc‖) against steps back, mean over N_PROFILE evaluation sequences."""
        n = self.N_PROFILE
        return gradient_profile(self.explicit(self._eval_x[:, :n], self._eval_y[:, :n])["bwd"])

    def _record_metrics(self) -> None:
        loss, acc = self.evaluate()
        prof = self.profile()["dh"]
        back = prof[PROBE_BACK] if len(prof) > PROBE_BACK else prof[-1]
        self.metrics.add(self.step_count, eval_loss=loss, eval_acc=acc, grad_back=float(back))

    # ---------------------------------------------------------------- reading
    def sequence(self, bits: np.ndarray | None = None, sample: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """One sequence for the forward/backward views: typed bits [T'] or evaluation sample."""
        cfg = self.config
        if bits is not None and cfg.task in BIT_TASKS:
            b = torch.as_tensor(np.asarray(bits), dtype=torch.int64).reshape(-1, 1)
            if cfg.task == "echo" and b.shape[0] <= cfg.delay:
                raise ValueError(f"the echo task needs more than {cfg.delay} bits")
            return encode_bits(b), bit_targets(cfg.task, b, int(cfg.delay))
        k = int(sample) % self.N_EVAL
        return self._eval_x[:, k:k + 1], self._eval_y[:, k:k + 1]

    def snapshot(self, bits: np.ndarray | None = None, sample: int = 0, t: int | None = None,
                 unit: int = 0) -> dict[str, Any]:
        """Everything the page draws.

        fwd[name], bwd[name]: [H, T] for the chosen sequence (explicit code, float64);
        x: [T, I]; terms: the equations' numbers at step t for ``unit``; profile: [T] per key
        (index = steps back); sv: λ₁ per gate block of W_hh; history / metrics: dicts of [m].
        """
        cfg = self.config
        with torch.no_grad():
            x, y = self.sequence(bits, sample)
            ex = self.explicit(x, y)
            T = x.shape[0]
            t = T - 1 if t is None else min(max(int(t), 0), T - 1)
            unit = min(max(int(unit), 0), int(cfg.hidden) - 1)
            p = cell_params(self.rnn, cfg.cell)
            terms = rc.step_terms(cfg.cell, x.double(), p, ex["fwd"], t, unit)
            fwd = {k: ex["fwd"][k][:, 0].T.numpy() for k, _ in FORWARD_VIEW[cfg.cell]}
            bwd = {k: ex["bwd"][k][:, 0].T.numpy() for k, _ in BACKWARD_VIEW[cfg.cell]}
            prof = self.profile()
            sv = rc.largest_singular_values(p)
            eval_loss, eval_acc = self.metrics.last("eval_loss"), self.metrics.last("eval_acc")
        return {
            "step": self.step_count, "cell": cfg.cell, "task": cfg.task, "T": T, "t": t, "unit": unit,
            "x": x[:, 0].numpy().astype(np.float64), "target": y[:, 0].numpy().astype(np.float64),
            "pred": ex["pred"][:, 0].numpy(), "last_loss": float(ex["last_loss"][0]),
            "fwd": fwd, "bwd": bwd, "terms": terms, "profile": prof, "sv": sv, "gamma": rc.GAMMA["tanh"],
            "history": self.history.arrays(), "metrics": self.metrics.arrays(),
            "eval_loss": eval_loss, "eval_acc": eval_acc, "classification": is_classification(cfg.task),
        }

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        self._flush()
        return {
            "lesson": LESSON, "config": config_to_dict(self.config), "step": self.step_count,
            "model": {"rnn": {k: v.detach().cpu().clone() for k, v in self.rnn.state_dict().items()},
                      "head": {k: v.detach().cpu().clone() for k, v in self.head.state_dict().items()}},
            "optim": self.opt.state_dict(),
            "history": {"losses": self.history.state_dict(), "metrics": self.metrics.state_dict()},
            "extra": {"data_rng": self._gen.get_state()},   # so a resumed run sees the same batches
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rnn.load_state_dict(state["model"]["rnn"])
        self.head.load_state_dict(state["model"]["head"])
        # deep copy: torch's Optimizer.load_state_dict keeps the given moment tensors (no copy when
        # dtype/device match) and steps update them in place, which wrote into the checkpoint
        # cached for every session by ui.checkpoint (tests/test_isolation.py)
        self.opt.load_state_dict(copy.deepcopy(state["optim"]))
        self.history.load_state_dict(state["history"]["losses"])
        self.metrics.load_state_dict(state["history"]["metrics"])
        self.step_count = int(state["step"])
        rng = state.get("extra", {}).get("data_rng")
        if rng is not None:
            self._gen.set_state(rng)

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any], device: torch.device | None = None) -> "LstmTrainer":
        """A new trainer (own copies of every tensor) continuing from a checkpoint."""
        t = cls(config_from_dict(LstmConfig, state["config"]), device)
        t.load_state_dict(state)
        return t


# =========================================================================== comparisons


def compare_cells(config: LstmConfig, trainers: dict[str, LstmTrainer] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The gradient-norm profile of RNN, LSTM and GRU on the same task and evaluation sequences.

    Without ``trainers``: each cell freshly initialised from ``config`` (same seed, forget bias
    and λ₁ setting). With ``trainers`` ({cell: trainer}): those (e.g. the shipped trained runs).
    Returns {cell: {'dh': [T], 'dc': [T] (LSTM)}} indexed by steps back.
    """
    out = {}
    for cell in rc.CELLS:
        if trainers is not None:
            if cell not in trainers:
                continue
            tr = trainers[cell]
        else:
            tr = LstmTrainer(dataclasses.replace(config, cell=cell), torch.device("cpu"))
        out[cell] = tr.profile()
    return out


def ratio_back(profiles: dict[str, dict[str, np.ndarray]], k: int = PROBE_BACK,
               num: str = "lstm", den: str = "rnn", key: str = "dh_rel") -> float:
    """The gradient k steps back of ``num`` divided by that of ``den`` (NaN if too short / missing).

    key 'dh_rel' (default): ‖δh_{T−1−k}‖/‖δh_{T−1}‖; 'dh': the raw ‖δh_{T−1−k}‖.
    """
    try:
        a, b = float(profiles[num][key][k]), float(profiles[den][key][k])
    except (KeyError, IndexError):
        return float("nan")
    return a / b if b > 0 else float("inf")


def clip_demo(config: LstmConfig, clip: float) -> dict[str, float]:
    """One batch's gradient norm before and after norm clipping at ``clip`` (for the page's text)."""
    tr = LstmTrainer(config, torch.device("cpu"))
    x, y = tr._eval_x[:, :64], tr._eval_y[:, :64]
    loss, _ = tr._loss(tr._forward(x), y)
    loss.backward()
    # ĝ = g · min(1, clip / ‖g‖)
    norm = float(torch.nn.utils.clip_grad_norm_(tr.params, clip))
    after = float(torch.sqrt(sum((p.grad ** 2).sum() for p in tr.params)))
    return {"before": norm, "after": after}


def pretrain(seed: int = 0, steps: int = 1500) -> dict[str, Any]:
    """The shipped runs: the default task trained with each cell type on the CPU.

    Also measures the issue's check: on the default settings, ‖∂L/∂h‖ 50 steps back of the LSTM
    divided by the vanilla RNN's, at initialisation and after training.
    """
    base = LstmConfig(seed=seed)
    trainers, ckpts, metrics = {}, {}, {}
    init_prof = compare_cells(base)
    for cell in rc.CELLS:
        tr = LstmTrainer(dataclasses.replace(base, cell=cell), torch.device("cpu"))
        tr.step(steps)
        tr._record_metrics()
        trainers[cell] = tr
        ckpts[f"lstm_{cell}"] = tr.state_dict()
        loss, acc = tr.evaluate()
        metrics[f"{cell}_eval_acc"] = round(acc, 4)
        metrics[f"{cell}_eval_loss"] = round(loss, 5)
    trained_prof = compare_cells(base, trainers)
    metrics["steps"] = steps
    for name, prof in (("init", init_prof), ("trained", trained_prof)):
        for num in ("lstm", "gru"):
            # relative: ‖δh_{T−51}‖/‖δh_{T−1}‖ per sequence; raw: ‖δh_{T−51}‖
            metrics[f"ratio_{num}_rnn_50_back_{name}"] = float(f"{ratio_back(prof, num=num):.4g}")
            metrics[f"ratio_{num}_rnn_50_back_{name}_raw"] = float(f"{ratio_back(prof, num=num, key='dh'):.4g}")
    return {"checkpoints": ckpts, "metrics": metrics}
