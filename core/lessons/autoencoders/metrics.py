"""What the lesson measures, and the planes it draws latent spaces on. No Streamlit.

* ``knn_accuracy``: how well the digits separate in a latent space — each held-out digit gets the
  majority label of its 5 nearest training digits there (Euclidean distance between codes);
* ``Plane``: the 2-D view of a latent space (the codes themselves for L = 2, their two main
  directions (PCA) for larger L) and the box of the decoded manifold grid on it: the prior's
  central 90 % per axis (±1.645) for the VAE, the held-out codes' 2nd–98th percentiles for the
  autoencoders (they have no prior);
* ``accepted``: the share of a decoded grid the shipped digit classifier labels with confidence
  ≥ 0.9 (``core.digits.judge_quality``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core import digits

K_NEIGHBOURS = 5
PRIOR_SPAN = 1.6449          # Φ⁻¹(0.95): the prior's central 90 % per axis
PERCENTILES = (2.0, 98.0)


def knn_accuracy(ref: torch.Tensor, ref_labels: torch.Tensor, query: torch.Tensor, query_labels: torch.Tensor,
                 k: int = K_NEIGHBOURS) -> float:
    """Share of queries whose k nearest references (Euclidean) vote for their label; a tie goes to
    the smaller label. ref [N, L], ref_labels [N], query [Q, L], query_labels [Q]."""
    d = torch.cdist(query.double(), ref.double())                       # [Q, N]
    nearest = d.topk(k, dim=1, largest=False).indices                    # [Q, k]
    votes = torch.zeros(query.shape[0], digits.N_CLASSES, dtype=torch.long, device=query.device)
    votes.scatter_add_(1, ref_labels[nearest], torch.ones_like(nearest))
    # argmax returns the first maximum: ties go to the smaller label
    return float((votes.argmax(1) == query_labels).float().mean())


@dataclass(frozen=True)
class Plane:
    """A 2-D view of an L-dimensional latent space: p = (z − centre)·basis, z = centre + p·basisᵀ.
    centre [L], basis [L, 2] (orthonormal columns), lo/hi [2]: the grid's box in p; mean/std [2]:
    the projected held-out codes' spread (the explorer's units for the autoencoders)."""

    centre: torch.Tensor
    basis: torch.Tensor
    lo: np.ndarray
    hi: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    prior: bool

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """[n, L] → [n, 2]."""
        return (z - self.centre) @ self.basis

    def lift(self, p: torch.Tensor) -> torch.Tensor:
        """[n, 2] → [n, L] (the other directions at the centre)."""
        return self.centre + p @ self.basis.T

    def grid(self, n: int) -> torch.Tensor:
        """n × n points of the box, row by row from the top (highest p₂) and left: [n², 2], so that
        the decoded digits tiled row by row sit where their z is on the chart."""
        u = torch.linspace(float(self.lo[0]), float(self.hi[0]), n)
        v = torch.linspace(float(self.hi[1]), float(self.lo[1]), n)
        vv, uu = torch.meshgrid(v, u, indexing="ij")
        return torch.stack([uu.reshape(-1), vv.reshape(-1)], dim=1).to(self.centre.device, self.centre.dtype)

    def point(self, s1: float, s2: float) -> torch.Tensor:
        """The explorer's point: (s₁, s₂) standard deviations from the codes' mean, or z itself
        on the VAE's prior plane: [1, 2] in p."""
        s = np.array([s1, s2])
        p = s if self.prior else self.mean + s * self.std
        return torch.tensor(p, dtype=self.centre.dtype, device=self.centre.device).unsqueeze(0)


def plane(codes: torch.Tensor, prior: bool) -> Plane:
    """The view of ``codes`` [n, L]: for L = 2 the codes themselves; otherwise their first two
    principal directions, signs fixed so that each direction's largest entry is positive (the
    view does not flip between frames). ``prior``: the VAE (plane through 0, box ±1.645)."""
    n, L = codes.shape
    codes = codes.float()
    mean = codes.mean(0)
    if L == 2:
        basis, centre = torch.eye(2, device=codes.device), torch.zeros(2, device=codes.device)
    else:
        _, _, vh = torch.linalg.svd(codes - mean, full_matrices=False)
        basis = vh[:2].T.contiguous()                                     # [L, 2]
        sign = torch.sign(basis.gather(0, basis.abs().argmax(0, keepdim=True)))
        basis = basis * torch.where(sign == 0, torch.ones_like(sign), sign)
        centre = torch.zeros(L, device=codes.device) if prior else mean
    p = ((codes - centre) @ basis).cpu().numpy().astype(np.float64)
    if prior:
        lo, hi = np.full(2, -PRIOR_SPAN), np.full(2, PRIOR_SPAN)
    else:
        lo, hi = np.percentile(p, PERCENTILES, axis=0)
        hi = np.maximum(hi, lo + 1e-3)                                    # collapsed codes: a box all the same
    return Plane(centre, basis, lo, hi, p.mean(0), np.maximum(p.std(0), 1e-6), prior)


def accepted(clf: torch.nn.Module, pixels: torch.Tensor) -> tuple[float, int]:
    """(share of decoded digits [n, 256] in [0, 1] the classifier labels with confidence ≥ 0.9,
    how many of the ten digits are among them). The second matters: an untrained decoder draws
    one grey blob everywhere, which the classifier may read as a confident 8."""
    x = (2.0 * pixels - 1.0).reshape(-1, 1, digits.SIZE, digits.SIZE)   # its scale: [−1, 1]
    q = digits.judge_quality(clf, x)
    return float(q["accepted"]), int(q["classes"])
