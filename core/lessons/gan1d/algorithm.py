"""Goodfellow et al.'s Algorithm 1 on the flat fast nets, as TorchScript functions: one
discriminator update, one generator update, and ``iterations``, many of both in one call.

Why one call: a scripted call runs without Python's interpreter lock. On a server shared by a
class, the lock is what the frames of 30 students queue for; a 1D GAN step is ~50 tiny tensor
operations, and in Python each one has to win the lock back, so training got a third of the
server's time (issue 20). Inside ``iterations`` the whole chunk runs beside the frames, on another
core. The arithmetic is the per-update Python path's, kernel for kernel: the results are equal bit
for bit (``tests/lessons/gan1d/test_algorithm.py``).

A net is passed as ``FlatMLP.script_args()`` = (params, grads, flat, grad, activation) and an
optimiser as ``script_args()`` of FlatAdam/FlatSGD plus its step count t (returned updated).
Shapes: z: [B, latent]; real: [B, 2]; sign: [2B, 1] (−1 real rows, +1 fake rows).
"""
from __future__ import annotations

from typing import Tuple

import torch

from core.fastnet import NetArgs, OptArgs, mlp_backward, mlp_forward, mlp_forward_cache, opt_update, script
from core.lessons.gan1d.losses import d_loss_and_grad, d_value, g_loss_and_grad


@script
def d_update(D: NetArgs, d_opt: OptArgs, t_d: int, G: NetArgs, z: torch.Tensor, real: torch.Tensor,
             sign: torch.Tensor, kind: str) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """One ascent step of D on log D(x) + log(1 − D(G(z))) (descent on L_D), real and fake in one
    pass. Returns (L_D, mean D on the real rows, mean D on the fake rows, D's new step count)."""
    B = z.shape[0]
    fake = mlp_forward(G[0], G[4], z)
    a, cache = mlp_forward_cache(D[0], D[4], torch.cat([real, fake]))       # [2B, 1]
    loss, d_a = d_loss_and_grad(a, sign, kind)
    mlp_backward(D[0], D[1], D[4], cache, d_a, True, False)
    t_d = opt_update(d_opt, D[2], D[3], t_d)
    dv = d_value(a, kind)
    return loss, dv[:B].mean(), dv[B:].mean(), t_d


@script
def g_update(G: NetArgs, g_opt: OptArgs, t_g: int, D: NetArgs, z: torch.Tensor,
             kind: str) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """One descent step of G on L_G through a frozen D (D's weights and gradients untouched).
    Returns (L_G, B·mean|∂L_G/∂a| — what reaches G through D per sample, G's new step count)."""
    B = z.shape[0]
    x, g_cache = mlp_forward_cache(G[0], G[4], z)
    a, d_cache = mlp_forward_cache(D[0], D[4], x)
    loss, d_a = g_loss_and_grad(a, kind)
    d_x = mlp_backward(D[0], D[1], D[4], d_cache, d_a, False, True)
    assert d_x is not None
    mlp_backward(G[0], G[1], G[4], g_cache, d_x, True, False)
    t_g = opt_update(g_opt, G[2], G[3], t_g)
    return loss, d_a.abs().mean() * B, t_g


@script
def iterations(n: int, k: int, G: NetArgs, g_opt: OptArgs, t_g: int, D: NetArgs, d_opt: OptArgs, t_d: int,
               noise: torch.Tensor, real: torch.Tensor, sign: torch.Tensor, kind: str,
               rows: torch.Tensor) -> Tuple[int, int]:
    """n iterations of Algorithm 1: k updates of D, then one of G. noise: [n(k+1)B, latent] in the
    order the updates take it (per iteration k batches for D, then G's); real: [nkB, 2]. Writes
    iteration i's history row (L_D, L_G, D(real), D(fake), B·mean|∂L_G/∂a|) into rows[i] ([n, 5]).
    Returns G's and D's new step counts."""
    B = sign.shape[0] // 2
    zi = 0
    ri = 0
    d_loss = torch.zeros((), device=rows.device)
    d_real = d_loss
    d_fake = d_loss
    for i in range(n):
        for _ in range(k):
            d_loss, d_real, d_fake, t_d = d_update(D, d_opt, t_d, G, noise[zi:zi + B], real[ri:ri + B], sign, kind)
            zi += B
            ri += B
        g_loss, g_grad, t_g = g_update(G, g_opt, t_g, D, noise[zi:zi + B], kind)
        zi += B
        rows[i] = torch.stack([d_loss, g_loss, d_real, d_fake, g_grad])
    return t_g, t_d
