"""What one panel remembers of its run: the mode metrics over time, the mode histograms of the
last measurements (the "where was the mass" trail) and sample clouds for the replay, all bounded."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.live import History
from core.lessons.gan2d.data import Data2D
from core.lessons.gan2d.metrics import mode_metrics


class Recording:
    """Measurements of one panel (all its seeds); frames and trail are of the first seed.

    metrics: History of covered/hq/kl (first seed) and covered_mean/hq_mean (over seeds);
    frames: [(step, samples [N_FRAME, 2] float16, counts [K])], halved when full;
    trail: [(step, counts [K])], the last TRAIL measurements; last: per-seed covered/hq/kl/counts.
    """

    METRIC_KEYS = ("covered", "hq", "kl", "covered_mean", "hq_mean")
    N_FRAME = 250           # samples kept per recorded frame
    MAX_FRAMES = 48         # recorded frames (halved when full) for the replay
    TRAIL = 60              # mode histograms kept for the "where was the mass" chart

    def __init__(self) -> None:
        self.metrics = History(self.METRIC_KEYS, capacity=400)
        self.frames: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.frame_stride = 1
        self._frame_tick = 0
        self.trail: list[tuple[int, np.ndarray]] = []
        self.last: dict[str, np.ndarray] = {}

    def add(self, step: int, x: torch.Tensor, data: Data2D) -> None:
        """Measure every seed's samples x: [S, n, 2] and keep the first seed's frame and trail."""
        per = [mode_metrics(x[i], data.ref, data.ref_label, data.n_modes, data.std) for i in range(x.shape[0])]
        cov = np.array([p["covered"] for p in per], dtype=np.float64)
        hq = np.array([p["hq"] for p in per], dtype=np.float64)
        kl = np.array([p["kl"] for p in per], dtype=np.float64)
        self.last = {"covered": cov, "hq": hq, "kl": kl, "counts": np.stack([p["counts"] for p in per])}
        self.metrics.add(step, covered=cov[0], hq=hq[0], kl=kl[0], covered_mean=cov.mean(), hq_mean=hq.mean())
        self.trail.append((step, per[0]["counts"].astype(np.float64)))
        del self.trail[:-self.TRAIL]
        self._frame_tick += 1
        if self._frame_tick >= self.frame_stride:
            self._frame_tick = 0
            pts = x[0, :self.N_FRAME].cpu().numpy().astype(np.float16)
            self.frames.append((step, pts, per[0]["counts"].astype(np.int64)))
            if len(self.frames) > self.MAX_FRAMES:   # keep every other frame: bounded memory
                self.frames = self.frames[1::2]
                self.frame_stride *= 2

    def arrays(self, n_modes: int) -> dict[str, Any]:
        """For the charts: metrics (History arrays), trail_steps [T], trail [T, K],
        frame_steps [F], frames [F, N_FRAME, 2], frame_counts [F, K]."""
        return {
            "metrics": self.metrics.arrays(),
            "trail_steps": np.array([s for s, _ in self.trail], dtype=np.float64),
            "trail": np.stack([c for _, c in self.trail]) if self.trail else np.zeros((0, n_modes)),
            "frame_steps": np.array([f[0] for f in self.frames], dtype=np.float64),
            "frames": (np.stack([f[1] for f in self.frames]).astype(np.float64) if self.frames
                       else np.zeros((0, 0, 2))),
            "frame_counts": (np.stack([f[2] for f in self.frames]).astype(np.float64) if self.frames
                             else np.zeros((0, n_modes))),
        }

    # ------------------------------------------------------------------ checkpoints (the shipped layout)
    def state_dict(self) -> dict[str, Any]:
        def stack(items: list[np.ndarray]) -> torch.Tensor:
            return torch.from_numpy(np.stack(items)) if items else torch.zeros(0)
        return {
            "metrics": self.metrics.state_dict(),
            "frames": {"steps": [f[0] for f in self.frames], "points": stack([f[1] for f in self.frames]),
                       "counts": stack([f[2] for f in self.frames]),
                       "stride": self.frame_stride, "tick": self._frame_tick},
            "mode_trail": {"steps": [s for s, _ in self.trail], "counts": stack([c for _, c in self.trail])},
            "last": {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in self.last.items()},
        }

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.metrics.load_state_dict(s["metrics"])
        fr = s["frames"]
        self.frames = [(int(st), fr["points"][i].numpy(), fr["counts"][i].numpy()) for i, st in enumerate(fr["steps"])]
        self.frame_stride, self._frame_tick = int(fr["stride"]), int(fr["tick"])
        mt = s["mode_trail"]
        self.trail = [(int(st), mt["counts"][i].numpy()) for i, st in enumerate(mt["steps"])]
        self.last = {k: v.numpy() for k, v in s["last"].items()}
