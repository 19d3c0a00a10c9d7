"""Problem sizes of the theory chapters at each scale: `scale` chooses sizes only (smoke: seconds, cpu: minutes)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scales import check_scale


@dataclass(frozen=True)
class Sizes:
    """Sizes of the random-feature computations of chapters 21 and 22."""

    M: int  # teacher modes; M >> the widest student keeps the width bottleneck clean
    widths: tuple[int, ...]  # width ladder of [B] Fig. 2 and 3
    data_sizes: tuple[int, ...]  # sample sizes P of [B] Figs. 2 and 5
    draws: int  # draws of the projection A (and of the data) behind every error band
    correction_widths: tuple[int, ...]  # [B] Fig. 2's 1/N correction: its mean needs many draws (A-noise ~ N^-1/2)
    correction_draws: int
    frontier_widths: tuple[int, ...]  # dense ladder for the compute-optimal frontier ([B] Fig. 4, chapter 22)
    frontier_draws: int
    sgd_width: int  # [B] Fig. 3b: batch sizes at this width
    sgd_batches: tuple[int, ...]
    sgd_seeds: int
    sgd_t_max: float
    ensemble_width: int  # [B] Fig. 6a: ensembles of this width
    ensembles: tuple[int, ...]
    ladder_widths: tuple[int, ...]  # chapter 22's SGD ladder
    ladder_seeds: int
    n_t: int  # points of each gradient-flow curve
    n_x: int  # points of the normalized-compute grid

    @property
    def x(self) -> np.ndarray:
        """Normalized compute grid x in [0.01, 1], linear (SPEC §8)."""
        return np.linspace(0.01, 1.0, self.n_x)

    @property
    def log_x(self) -> np.ndarray:
        """Normalized compute grid x in [0.01, 1], log-spaced (for log-log pictures)."""
        return np.geomspace(0.01, 1.0, 2 * self.n_x)


_SIZES = {
    "smoke": Sizes(M=512, widths=(16, 32, 64), data_sizes=(16, 32, 64), draws=2, correction_widths=(16, 32),
                   correction_draws=4,
                   frontier_widths=(8, 11, 16, 23, 32, 45, 64), frontier_draws=2, sgd_width=32, sgd_batches=(1, 8),
                   sgd_seeds=2, sgd_t_max=50.0, ensemble_width=16, ensembles=(1, 2), ladder_widths=(16, 32, 64),
                   ladder_seeds=3, n_t=40, n_x=50),
    "cpu": Sizes(M=8192, widths=(32, 64, 128, 256, 512, 1024), data_sizes=(32, 64, 128, 256, 512, 1024), draws=8,
                 correction_widths=(32, 64, 128, 256), correction_draws=16,
                 frontier_widths=tuple(int(n) for n in np.round(np.geomspace(16, 1024, 13))), frontier_draws=4,
                 sgd_width=256, sgd_batches=(1, 4, 32), sgd_seeds=4, sgd_t_max=1000.0, ensemble_width=128,
                 ensembles=(1, 2, 4, 8), ladder_widths=(64, 128, 256, 512, 1024), ladder_seeds=12, n_t=100,
                 n_x=100),
    "gpu": Sizes(M=16384, widths=(32, 64, 128, 256, 512, 1024, 2048), data_sizes=(32, 64, 128, 256, 512, 1024, 2048),
                 draws=16, correction_widths=(32, 64, 128, 256, 512), correction_draws=64,
                 frontier_widths=tuple(int(n) for n in np.round(np.geomspace(16, 2048, 15))), frontier_draws=8,
                 sgd_width=512, sgd_batches=(1, 4, 32), sgd_seeds=8, sgd_t_max=1000.0, ensemble_width=256,
                 ensembles=(1, 2, 4, 8), ladder_widths=(64, 128, 256, 512, 1024, 2048), ladder_seeds=32,
                 n_t=160, n_x=100),
}


def sizes(scale: str) -> Sizes:
    """The sizes of `scale` (smoke | cpu | gpu)."""
    check_scale(scale)
    return _SIZES[scale]


def time_grid(b: float, widths, n: int, t_min: float = 0.1, reach: float = 10.0) -> np.ndarray:
    """Log-spaced times from t_min to reach·N_max^b, long enough for the widest model's plateau."""
    return np.geomspace(t_min, reach * max(widths) ** b, n)
