"""Mode metrics (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018) and the summaries the
page shows: the per-seed table and the measured table.

On N generated samples: a sample is *high quality* if it lies within 3σ of its nearest mode; a
mode is *covered* if some high-quality sample is nearest to it; KL is that of the histogram of
high-quality samples over the modes from the uniform one (the real data's histogram).
"""
from __future__ import annotations

import json
import pathlib
from typing import Any

import numpy as np
import torch

TABLE_PATH = pathlib.Path(__file__).resolve().parents[2] / "data" / "gan2d_table.json"
DIRECT_REFS = 25          # up to this many reference points: one cdist (the mixtures' exact path)
BLOCK = 256               # query rows per block against a dense curve (fits the cache: 2.4× faster)


def nearest_ref(samples: torch.Tensor, ref: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance to, and index of, each sample's nearest reference point.

    samples: [n, 2] float64; ref: [M, 2] float64 -> (dmin [n], idx [n]). Rows are independent,
    so a dense curve (M = 800) is done in blocks of rows: the same numbers, a quarter of the time.
    """
    if ref.shape[0] <= DIRECT_REFS:
        return torch.cdist(samples, ref).min(1)
    parts = [torch.cdist(samples[i:i + BLOCK], ref).min(1) for i in range(0, samples.shape[0], BLOCK)]
    return torch.cat([p.values for p in parts]), torch.cat([p.indices for p in parts])


def mode_metrics(samples: torch.Tensor, ref: torch.Tensor, ref_label: torch.Tensor, n_modes: int,
                 std: float) -> dict[str, Any]:
    """VEEGAN/PacGAN mode metrics of one sample set.

    samples: [n, 2]; ref: [M, 2] reference points; ref_label: [M] their mode in 0..K−1.
    Returns counts: [K] high-quality samples nearest to each mode, covered (modes with ≥ 1),
    hq (share of high-quality samples), kl = Σ_k p_k log(p_k K) with p the histogram of the
    high-quality samples (KL(p ‖ uniform); log K when all sit on one mode, 0 when even; NaN
    when no sample is high quality), nearest: [n] every sample's mode.
    """
    s = samples.to(torch.float64)
    dmin, idx = nearest_ref(s, ref.to(s.device, torch.float64))
    nearest = ref_label.to(s.device)[idx]
    good = (dmin <= 3 * std) & torch.isfinite(s).all(1)      # within 3σ of the nearest mode
    counts = torch.bincount(nearest[good], minlength=n_modes)[:n_modes]
    n_good = int(counts.sum())
    if n_good:
        p = counts.double() / n_good
        # KL(p ‖ uniform) = Σ_k p_k log(p_k / (1/K)), with 0 log 0 = 0
        kl = float(torch.where(p > 0, p * torch.log(p * n_modes), torch.zeros_like(p)).sum())
    else:
        kl = float("nan")
    return {"counts": counts.cpu().numpy(), "covered": int((counts > 0).sum()),
            "hq": float(good.double().mean()), "kl": kl, "nearest": nearest.cpu().numpy()}


# --------------------------------------------------------------------------- words and tables

def fmt_kl(v: float) -> str:
    """KL as the student reads it: '–' where it is undefined (no high-quality sample)."""
    return "–" if not np.isfinite(v) else f"{v:.2f}"


def panel_summary(covered: int, n_modes: int, hq: float) -> str:
    """Coverage and quality together, the one line above a panel (markdown)."""
    return f"**{covered} / {n_modes}** modes covered · **{100 * hq:.0f} %** high quality"


def seed_table(per_seed: dict[str, dict[str, np.ndarray]], seeds: list[int], n_modes: int,
               names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per method: modes covered (mean ± sd over seeds), how many seeds kept all but one
    mode, mean quality and KL, and the count of every seed. per_seed[m]: covered/hq/kl [S]."""
    rows = []
    for m, v in per_seed.items():
        cov, hq, kl = (np.asarray(v[k], dtype=np.float64) for k in ("covered", "hq", "kl"))
        rows.append({"method": names.get(m, m),
                     "modes covered (mean ± sd)": f"{cov.mean():.1f} ± {cov.std():.1f}",
                     f"seeds with ≥ {n_modes - 1} modes": f"{int((cov >= n_modes - 1).sum())} / {len(cov)}",
                     "high quality": f"{100 * hq.mean():.0f} %",
                     "KL": fmt_kl(float(np.nanmean(kl))) if np.isfinite(kl).any() else "–",
                     **{f"seed {s}": int(c) for s, c in zip(seeds, cov)}})
    return rows


def load_table(path: pathlib.Path = TABLE_PATH) -> dict[str, Any] | None:
    """The measured table (benchmarks/gan2d_modes_table.py), or None if missing or unreadable."""
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return table if isinstance(table, dict) and table.get("rows") else None


def table_rows(table: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The measured table as rows: coverage and quality next to each other for every method."""
    n = len(table["seeds"])
    return [{"method": names.get(r["method"], r["method"]),
             "modes covered (of 8)": f"{r['covered_mean']:.1f} ± {r['covered_sd']:.1f}",
             "high quality": f"{100 * r['hq_mean']:.0f} %",
             "seeds with ≥ 7 modes": f"{r['seeds_ge7']} / {r.get('n_seeds', n)}",
             "KL": fmt_kl(r["kl_mean"] if r.get("kl_mean") is not None else float("nan")),
             "per seed": " ".join(str(int(c)) for c in r["covered"])} for r in table["rows"]]
