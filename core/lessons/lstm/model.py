"""The recurrent net (torch.nn.LSTM / GRU / RNN + a linear read-out), its initialisation, and the
explicit float64 forward/BPTT of the loss at the last step that every on-screen number comes from.

Training runs through the fused torch modules (fastest). The views run ``core.lessons.lstm.cells``
(checked against autograd to 1e-6 in float64 by tests/lessons/lstm/test_cells.py) on a float64
copy of the same weights.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.lessons.lstm import cells as rc
from core.lessons.lstm.config import LstmConfig
from core.lessons.lstm.data import input_size, is_classification, out_steps

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def build_rnn(cfg: LstmConfig) -> tuple[torch.nn.Module, torch.nn.Linear]:
    """The recurrent layer and the read-out of ``cfg`` (``make_rnn``), without touching the
    global random stream."""
    with torch.random.fork_rng(devices=[]):
        return make_rnn(cfg.cell, input_size(cfg.task), int(cfg.hidden), int(cfg.seed),
                        float(cfg.forget_bias), float(cfg.recurrent_sv))


def make_rnn(cell: str, I: int, H: int, seed: int, forget_bias: float,
             recurrent_sv: float) -> tuple[torch.nn.Module, torch.nn.Linear]:
    """The recurrent layer (input size I, hidden size H) and the read-out, initialised from the
    seed (float32, CPU); the app's and the exported script's (core.export.sources).

    Init: torch's default, then the forget-gate bias (LSTM: b_f; GRU: the update gate b_z, which
    plays the same 'keep' role) set to ``forget_bias`` and, if ``recurrent_sv`` > 0, every gate
    block of W_hh rescaled so its largest singular value λ₁ equals ``recurrent_sv``.
    """
    torch.manual_seed(seed)
    rnn = MODULES[cell](I, H)
    head = torch.nn.Linear(H, 1)
    with torch.no_grad():
        if cell in ("lstm", "gru"):
            # LSTM blocks i, f, g, o: f is block 1. GRU blocks r, z, n: z is block 1.
            rnn.bias_ih_l0[H:2 * H] = forget_bias
            rnn.bias_hh_l0[H:2 * H] = 0.0
        if recurrent_sv > 0:
            for blk in rnn.weight_hh_l0.split(H, dim=0):
                # W ← W · λ₁ / σ_max(W)
                s1 = torch.linalg.matrix_norm(blk, ord=2)
                blk.mul_(recurrent_sv / max(float(s1), 1e-12))
    return rnn, head


def cell_params(rnn: torch.nn.Module, cell: str) -> rc.CellParams:
    """A float64 CPU copy of the weights for the explicit code."""
    p = rc.CellParams.from_module(cell, rnn, dtype=torch.float64)
    return rc.CellParams(cell, p.w_ih.cpu(), p.w_hh.cpu(), p.b_ih.cpu(), p.b_hh.cpu())


def head_params(head: torch.nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    """w_out [1, H], b_out [1] as float64 CPU copies."""
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
    # ŷ_t = w_out · h_t + b_out
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
    # ∂L/∂h_T = ∂L/∂ŷ · w_out
    dh_out[-1] = d_pred[:, None] * w_out[0]
    bwd = rc.backward(cell, x, p, fwd, dh_out)
    return {"fwd": fwd, "bwd": bwd, "pred": pred, "last_pred": last, "last_loss": loss}


def gradient_profile(bwd: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Gradient norms against steps back k = T−1−t, mean over the batch: [T] each.

    dh: ‖δh_t‖; dc: ‖δc_t‖ (LSTM); dh_rel: ‖δh_t‖ / ‖δh_{T−1}‖ per sequence (dc_rel likewise).
    With one scalar output, δh_t = (∂L/∂ŷ)·∂ŷ/∂h_t, so dh_rel does not depend on how large the
    loss still is (a trained net has tiny losses): it is the pure "product of Jacobians" of BPTT.
    """
    out = {}
    for key in ("dh", "dc"):
        if key not in bwd:
            continue
        n = bwd[key].norm(dim=-1)                                   # [T, B]
        out[key] = n.mean(dim=1).flip(0).cpu().numpy()
        # ‖δ_t‖ / ‖δ_{T−1}‖ for each sequence, then the mean over sequences
        out[key + "_rel"] = (n / n[-1:].clamp_min(1e-300)).mean(dim=1).flip(0).cpu().numpy()
    return out
