"""The page's two networks, G and D, as plain one-seed nn.Modules (issue 36: one source per model).

The page trains S seeds at once on stacked weights (batched.py), but those stacks are built from
these modules, one per seed (``batched.stack_params``), and the exported script trains these very
classes (core/lessons/gan2d/export.py carries their source). tests/lessons/gan2d/test_nets.py
checks that a seed's slice of the stacks, copied back into a module, computes the same outputs.

Shapes: noise z [n, latent]; a point [n, 2]; a mode label [n] (integers); D's score [n / pack, 1].
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

LEAKY_SLOPE = 0.2        # D's LeakyReLU slope (the DCGAN paper's)


def seeded_linear(n_in: int, n_out: int, gen: torch.Generator) -> nn.Linear:
    """nn.Linear(n_in, n_out), x [n, n_in] -> [n, n_out], with its default init's law,
    W, b ~ U(−1/√n_in, 1/√n_in), drawn from ``gen`` so that a seed gives the same weights wherever
    it runs: W as an [n_in, n_out] matrix, then b as [1, n_out] (the batched layout's order)."""
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out)    # skip_init: no draw from torch's global generator
    bound = 1 / math.sqrt(n_in)
    with torch.no_grad():
        layer.weight.copy_(((torch.rand(n_in, n_out, generator=gen) * 2 - 1) * bound).T)
        layer.bias.copy_(((torch.rand(1, n_out, generator=gen) * 2 - 1) * bound)[0])
    return layer


def one_hot(label: torch.Tensor, n_labels: int) -> torch.Tensor:
    """Mode labels [n] (whole numbers, any dtype) -> one-hot rows [n, n_labels] (float)."""
    return F.one_hot(label.long(), n_labels).float()


class Generator(nn.Module):
    """G: noise z [n, latent] (cGAN: plus each point's mode label [n], one-hot) -> a point [n, 2].
    ``depth`` hidden layers of ``width`` units, ReLU between layers, none after the last."""

    def __init__(self, latent: int, width: int, depth: int, gen: torch.Generator, n_labels: int = 0) -> None:
        super().__init__()
        self.n_labels = n_labels
        sizes = [latent + n_labels] + [width] * depth + [2]
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [seeded_linear(n_in, n_out, gen), nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_labels:
            z = torch.cat([z, one_hot(label, self.n_labels)], 1)
        return self.net(z)


class Discriminator(nn.Module):
    """D: points [n, 2] -> a score a [n / pack, 1] (a logit: D(x) = σ(a); WGAN-GP's critic f(x) = a).
    ``depth`` hidden layers of ``width`` units, LeakyReLU between layers, none after the last.

    * pack > 1 (PacGAN): D judges ``pack`` consecutive points at once, side by side: [n / pack, 2·pack];
    * n_labels > 0 (conditional GAN): each point's mode label [n], one-hot, joins its input;
    * mbstd (minibatch std, Karras et al.): the output layer also sees
      σ̄ = mean_j sqrt(Var_rows(h_j) + 1e-8) of the last hidden features h, how spread the batch
      is, so D can tell a collapsed batch (all points alike) from a real one. Its output layer
      draws from ``out_gen``, so its hidden layers start like the other methods' D.
    """

    def __init__(self, width: int, depth: int, gen: torch.Generator, pack: int = 1, n_labels: int = 0,
                 mbstd: bool = False, out_gen: torch.Generator | None = None) -> None:
        super().__init__()
        self.pack, self.n_labels, self.mbstd = pack, n_labels, mbstd
        sizes = [2 * pack + n_labels] + [width] * depth
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [seeded_linear(n_in, n_out, gen), nn.LeakyReLU(LEAKY_SLOPE)]
        self.body = nn.Sequential(*layers)                         # the hidden layers
        self.out = seeded_linear(sizes[-1] + int(mbstd), 1, out_gen if mbstd else gen)

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None, groups: int = 1,
                spread_of: torch.Tensor | None = None) -> torch.Tensor:
        """mbstd: the rows of x are ``groups`` equal runs (e.g. [real; fake] scored in one pass),
        each with its own σ̄; or σ̄ is that of the points ``spread_of`` [n', 2] (D over a grid)."""
        if self.pack > 1:
            x = x.reshape(-1, 2 * self.pack)
        if self.n_labels:
            x = torch.cat([x, one_hot(label, self.n_labels)], 1)
        h = self.body(x)
        if self.mbstd:
            sd = self.spread(h, groups) if spread_of is None else self.spread(self.body(spread_of))
            h = torch.cat([h, sd.repeat_interleave(len(h) // len(sd), 0)], 1)
        return self.out(h)

    @staticmethod
    def spread(h: torch.Tensor, groups: int = 1) -> torch.Tensor:
        """σ̄ of each of ``groups`` equal runs of rows: h [n, H] -> [groups, 1]."""
        runs = h.reshape(groups, -1, h.shape[1])
        return (runs.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(-1, keepdim=True)


def panel_nets(method: str, generator: Callable[[int], torch.Generator], latent: int, g_width: int,
               g_depth: int, d_width: int, d_depth: int, pack: int, n_modes: int) -> tuple[Generator, Discriminator]:
    """One seed's G and D for a panel (a method). ``generator(salt)``: the seed's random stream
    ``salt`` (1: G's weights, 2: D's, 7: the minibatch-std D's output layer); every method draws
    G from the same stream, so a seed starts every panel from the same G where shapes agree."""
    cond, mbstd = method == "cgan", method == "mbstd"
    G = Generator(latent, g_width, g_depth, generator(1), n_labels=n_modes if cond else 0)
    D = Discriminator(d_width, d_depth, generator(2), pack=pack if method == "pacgan" else 1,
                      n_labels=n_modes if cond else 0, mbstd=mbstd, out_gen=generator(7) if mbstd else None)
    return G, D
