"""The toy tasks that need memory: random batches, targets, typed bit strings.

* ``first_bit`` — remember the first bit of a ±1 bit string until the end;
* ``parity``    — "YES" (1) if the number of 1s is even;
* ``adding``    — two channels (value, marker); output the sum of the two marked values;
* ``echo``      — at every step t ≥ d output the bit seen d steps earlier.

Shapes: inputs x: [T, B, I]; targets y: [T_out, B] (float32, CPU).
"""
from __future__ import annotations

import numpy as np
import torch

from core.lessons.lstm.config import BIT_TASKS, MAX_LEN, LstmConfig


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


def eval_batch(cfg: LstmConfig, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed evaluation set for a task / length (the same for every cell and seed)."""
    gen = torch.Generator().manual_seed(12345 + 7 * int(cfg.seq_len))
    return make_batch(cfg.task, int(cfg.seq_len), n, int(cfg.delay), gen)


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


def typed_bits(cfg: LstmConfig, text: str) -> np.ndarray:
    """A typed bit string checked for this task: int array [T']; ValueError with the reason."""
    bits = parse_bits(text)
    if cfg.task == "echo" and len(bits) <= cfg.delay:
        raise ValueError(f"the echo task needs more than d = {cfg.delay} bits")
    return bits


def typed_sequence(cfg: LstmConfig, bits: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Typed bits [T'] as one sequence: x [T', 1, 1], y [T_out, 1]. ValueError if unusable."""
    if cfg.task not in BIT_TASKS:
        raise ValueError("the adding problem has no typed sequences")
    b = torch.as_tensor(np.asarray(bits), dtype=torch.int64).reshape(-1, 1)
    if cfg.task == "echo" and b.shape[0] <= cfg.delay:
        raise ValueError(f"the echo task needs more than d = {cfg.delay} bits")
    return encode_bits(b), bit_targets(cfg.task, b, int(cfg.delay))
