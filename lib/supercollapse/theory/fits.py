"""Exponents measured by straight-line fits in log-log coordinates."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogSlopeFit:
    """y ≈ prefactor · x^exponent on [x_min, x_max]; `stderr` is the exponent's standard error."""

    exponent: float
    prefactor: float
    stderr: float
    n: int
    x_min: float
    x_max: float

    def __call__(self, x) -> np.ndarray:
        """The fitted line at x."""
        return self.prefactor * np.asarray(x, dtype=float) ** self.exponent


def _ols(lx: np.ndarray, ly: np.ndarray) -> tuple[float, float, float]:
    """Slope, intercept and the slope's standard error of least squares ly = slope·lx + intercept."""
    n = len(lx)
    A = np.stack([lx, np.ones(n)], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    sxx = float(np.sum((lx - lx.mean()) ** 2))
    se = float(np.sqrt(resid @ resid / (n - 2) / sxx)) if n > 2 and sxx > 0 else float("nan")
    return float(coef[0]), float(coef[1]), se


def fit_log_slope(x, y, x_min: float | None = None, x_max: float | None = None) -> LogSlopeFit:
    """Least-squares line through (log x, log y) for x in [x_min, x_max].

    `y` may be 2-d (draws × points): the exponent is then the fit of the draw-mean curve, and the error adds in
    quadrature the fit's standard error and the standard error of the per-draw exponents.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    Y = np.atleast_2d(y)
    if Y.shape[1] != len(x):
        raise ValueError(f"x has {len(x)} points but y has {Y.shape[1]}")
    keep = np.isfinite(x) & (x > 0) & np.all(np.isfinite(Y) & (Y > 0), axis=0)
    if x_min is not None:
        keep &= x >= x_min
    if x_max is not None:
        keep &= x <= x_max
    if keep.sum() < 2:
        raise ValueError(f"fewer than 2 positive points in the window [{x_min}, {x_max}]")
    lx = np.log(x[keep])
    slope, intercept, se = _ols(lx, np.log(Y[:, keep].mean(axis=0)))
    if Y.shape[0] > 1:
        per_draw = np.array([_ols(lx, np.log(row[keep]))[0] for row in Y])
        se = float(np.hypot(np.nan_to_num(se), per_draw.std(ddof=1) / np.sqrt(len(per_draw))))
    return LogSlopeFit(exponent=slope, prefactor=float(np.exp(intercept)), stderr=se, n=int(keep.sum()),
                       x_min=float(x[keep].min()), x_max=float(x[keep].max()))


def local_exponent(x, y) -> np.ndarray:
    """d log y / d log x by centred differences (the local slope of a log-log curve)."""
    return np.gradient(np.log(np.asarray(y, dtype=float)), np.log(np.asarray(x, dtype=float)), axis=-1)
