"""The three autoencoders as one stack, and the VAE's maths. No Streamlit.

Model m ∈ {0: AE, 1: VAE, 2: denoising AE} is an ordinary MLP autoencoder
    encoder  256 → W → W/2 → head      (ReLU between layers)
    decoder  L → W/2 → W → 256         (ReLU between layers; the output is 256 logits)
with head = L for the AE and the denoising AE (the code z) and 2L for the VAE (μ and log σ²).

Why a stack: the three models have the same layer shapes, so each layer of all three is one
batched matrix product (``torch.baddbmm``) on [3, B, ·] tensors: one kernel where a plain loop
launches three, one backward pass, one optimiser step. The head is stored 2L wide for all three;
the AE and the denoising AE read only its first L outputs, so the other L columns get a zero
gradient and Adam never moves them: the models are exactly the plain ones
(``tests/lessons/autoencoders/test_maths.py`` checks the stack against three ``nn.Linear`` MLPs).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

N_MODELS = 3
AE, VAE, DAE = 0, 1, 2
NAMES = ("ae", "vae", "dae")
PIXELS = 256                   # 16 × 16


class StackedLinear(nn.Module):
    """M independent linear layers applied at once: x [M, B, n_in] → [M, B, n_out].
    Initialised as ``nn.Linear`` is: weights and biases uniform in ±1/√n_in."""

    def __init__(self, m: int, n_in: int, n_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.weight = nn.Parameter(torch.empty(m, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(m, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # y_m = b_m + x_m W_m, all m in one batched product
        return torch.baddbmm(self.bias, x, self.weight)


class StackedMLP(nn.Module):
    """Linear layers of the given sizes with ReLU between them (none after the last), M at once."""

    def __init__(self, m: int, sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(StackedLinear(m, a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class AutoencoderStack(nn.Module):
    """The AE, the VAE and the denoising AE. Shapes: x [3, B, 256] (one input per model),
    codes [3, B, 2L] (``encode``), z [3, B, L] → logits [3, B, 256] (``decode``)."""

    def __init__(self, latent: int, width: int) -> None:
        super().__init__()
        self.latent, self.width = latent, width
        self.encoder = StackedMLP(N_MODELS, (PIXELS, width, width // 2, 2 * latent))
        self.decoder = StackedMLP(N_MODELS, (latent, width // 2, width, PIXELS))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def split(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """codes [3, B, 2L] → (location [3, B, L]: the AE codes and the VAE's μ; log σ² [B, L])."""
        L = self.latent
        return h[..., :L], h[VAE, :, L:]

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Where each model puts x [3, B, 256] or [B, 256] (the same digits for all three):
        [3, B, L], the AE codes and the VAE's μ (its most likely z)."""
        if x.dim() == 2:
            x = x.expand(N_MODELS, *x.shape)
        return self.split(self.encode(x))[0]

    def images(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded digits for z [3, n, L]: [3, n, 256] pixel intensities in [0, 1]."""
        return torch.sigmoid(self.decode(z))


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The reparameterisation trick: z = μ + σ·ε with σ = exp(½ log σ²) and ε ~ N(0, I) drawn
    outside the graph, so z is a differentiable function of μ and σ. All [B, L]."""
    # σ = exp(½ · log σ²)
    sigma = torch.exp(0.5 * logvar)
    # z = μ + σ ⊙ ε
    return mu + sigma * eps


def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) per digit, summed over the L latent dimensions: [B, L] → [B]."""
    # KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


def reconstruction(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the decoded pixels against the clean digit, summed over the 256
    pixels, averaged over the batch: logits [..., B, 256], target [B, 256] in [0, 1] → [...]."""
    # −Σ_p [x_p log x̂_p + (1 − x_p) log(1 − x̂_p)],  x̂ = sigmoid(logits)
    per = F.binary_cross_entropy_with_logits(logits, target.expand_as(logits), reduction="none")
    return per.sum(-1).mean(-1)


def plain_models(latent: int, width: int) -> list[tuple[nn.Module, nn.Module]]:
    """The same three models as ordinary ``nn.Sequential`` MLPs (encoder, decoder), AE and
    denoising AE with an L-wide head, the VAE with a 2L-wide one: what a tutorial would write
    (the benchmark's plain loop, and the test that the stack computes exactly this)."""
    def mlp(sizes: tuple[int, ...]) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)
    out = []
    for m in range(N_MODELS):
        head = 2 * latent if m == VAE else latent
        out.append((mlp((PIXELS, width, width // 2, head)), mlp((latent, width // 2, width, PIXELS))))
    return out


@torch.no_grad()
def copy_into_plain(stack: AutoencoderStack, plain: list[tuple[nn.Module, nn.Module]]) -> None:
    """Copy the stack's weights into the plain models (the AE heads take the first L columns)."""
    for m, (enc, dec) in enumerate(plain):
        for part, seq in ((stack.encoder, enc), (stack.decoder, dec)):
            linears = [l for l in seq if isinstance(l, nn.Linear)]
            for st, lin in zip(part.layers, linears):
                n_out = lin.out_features
                lin.weight.copy_(st.weight[m, :, :n_out].T)
                lin.bias.copy_(st.bias[m, 0, :n_out])
