"""Measured against predicted, with the two kinds of error kept apart (issue 15).

A measured exponent differs from its asymptotic prediction for two reasons: sampling (the draws of A, the
seeds of SGD) and finite size (the fitting window is not yet asymptotic, so the local exponent still drifts).
`Check` carries both, and `verdict` applies one stated criterion to every row of every theory page.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .fits import fit_log_slope

AGREEMENT_Z = 2.0  # a row agrees when its gap to the prediction is within AGREEMENT_Z combined errors
ROUNDOFF = 1e-10  # gaps below this are float64 round-off of an exact computation, whatever the errors say


@dataclass(frozen=True)
class Verdict:
    """The outcome of `verdict`: whether the row agrees, and whether sampling error alone already covers the gap."""

    agrees: bool
    within_sampling: bool  # the gap needs no finite-size allowance
    gap: float  # measured − predicted
    tolerance: float  # the allowance the criterion gave
    criterion: str

    @property
    def label(self) -> str:
        if not self.agrees:
            return "disagrees"
        return "agrees" if self.within_sampling else "agrees within finite-size error"


def criterion_text(relation: str = "≈", z: float = AGREEMENT_Z) -> str:
    """The agreement rule in words, as the pages state it."""
    if relation == "≈":
        return f"|measured − predicted| ≤ {z:g}·√(sampling² + finite-size²)"
    if relation == "<":
        return f"measured + {z:g}·√(sampling² + finite-size²) < predicted"
    raise ValueError(f"relation must be '≈' or '<', got {relation!r}")


def agreement(measured: float, predicted: float, sampling: float, finite_size: float, *, relation: str = "≈",
            z: float = AGREEMENT_Z) -> Verdict:
    """Agreement of a measurement with a prediction (relation '≈') or with an upper bound (relation '<').

    Both errors are standard-error-like: `sampling` from draws or seeds, `finite_size` the systematic shift of a
    not-yet-asymptotic measurement (e.g. `window_drift`). A NaN error counts as zero; the allowance is never
    below ROUNDOFF.
    """
    s, f = (0.0 if not np.isfinite(v) else abs(float(v)) for v in (sampling, finite_size))
    gap = float(measured) - float(predicted)
    tolerance = max(z * float(np.hypot(s, f)), ROUNDOFF)
    if relation == "≈":
        agrees, alone = abs(gap) <= tolerance, abs(gap) <= max(z * s, ROUNDOFF)
    elif relation == "<":
        agrees, alone = gap + tolerance < 0, gap + max(z * s, ROUNDOFF) < 0
    else:
        raise ValueError(f"relation must be '≈' or '<', got {relation!r}")
    return Verdict(agrees=bool(agrees), within_sampling=bool(alone), gap=gap, tolerance=tolerance,
                   criterion=criterion_text(relation, z))


@dataclass(frozen=True, eq=False)
class Check:
    """One row of a page's "measured against predicted" table, with what its local-exponent plot needs."""

    quantity: str
    predicted: float
    measured: float
    sampling: float  # statistical error: draws of A, SGD seeds
    finite_size: float  # systematic error: how far the measurement still drifts over its window
    relation: str = "≈"
    local_x: np.ndarray | None = None  # where the local exponent is evaluated (sizes, times, computes)
    local: np.ndarray | None = None  # the local exponent there, in the units of `measured`
    window: tuple[float, float] | None = None  # the fitting window in local_x

    def __post_init__(self):
        for name in ("predicted", "measured", "sampling", "finite_size"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.relation not in ("≈", "<"):
            raise ValueError(f"relation must be '≈' or '<', got {self.relation!r}")

    @property
    def verdict(self) -> Verdict:
        return agreement(self.measured, self.predicted, self.sampling, self.finite_size, relation=self.relation)


def agreement_table(checks) -> pd.DataFrame:
    """The measured-against-predicted table: both errors and the verdict of every row."""
    rows = []
    for c in checks:
        v = c.verdict
        rows.append({"quantity": c.quantity, "predicted": (c.predicted if c.relation == "≈" else f"< {c.predicted:g}"),
                     "measured": c.measured, "± sampling": c.sampling, "± finite size": c.finite_size,
                     "gap": v.gap, "verdict": v.label})
    return pd.DataFrame(rows)


def window_drift(x, y, x_min: float | None = None, x_max: float | None = None) -> tuple[float, float]:
    """Exponents fitted on the lower and the upper half of the window's points (split at the median log x).

    For a local exponent that drifts linearly in log x across the window, the difference of the two is the
    distance from the whole-window fit to the local exponent at the window's top end: the finite-size error.
    With an odd number of points the middle one belongs to both halves.
    """
    x = np.asarray(x, dtype=float)
    Y = np.atleast_2d(np.asarray(y, dtype=float))
    inside = np.ones(len(x), dtype=bool)
    if x_min is not None:
        inside &= x >= x_min
    if x_max is not None:
        inside &= x <= x_max
    idx = np.flatnonzero(inside & (x > 0))
    if len(idx) < 3:
        raise ValueError(f"the window [{x_min}, {x_max}] holds {len(idx)} points; a drift needs at least 3")
    half = (len(idx) + 1) // 2
    low, high = idx[:half], idx[len(idx) - half:]
    return (fit_log_slope(x[low], Y[:, low]).exponent, fit_log_slope(x[high], Y[:, high]).exponent)


def sampling_error(x, y, x_min: float | None = None, x_max: float | None = None) -> float:
    """Standard error of the exponent over draws: std of the per-draw fits / √draws (0 for one exact curve)."""
    Y = np.atleast_2d(np.asarray(y, dtype=float))
    if len(Y) < 2:
        return 0.0
    per_draw = [fit_log_slope(x, row, x_min, x_max).exponent for row in Y]
    return float(np.std(per_draw, ddof=1) / np.sqrt(len(per_draw)))


def bootstrap_se(samples) -> float:
    """Half the 16–84% range of bootstrap replicates: their standard error, robust to heavy tails (NaN if < 2).

    Resampling a few seeds with replacement repeats some of them, which can make a spread nearly vanish and a
    ratio over it explode; the percentile range ignores those rare replicates where a standard deviation would not.
    """
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return float("nan")
    lo, hi = np.percentile(x, [15.865, 84.135])
    return float((hi - lo) / 2)


def pairwise_exponent(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Slopes of log y between consecutive points, at their geometric midpoints: the local exponent of a ladder."""
    x = np.asarray(x, dtype=float)
    y = np.atleast_2d(np.asarray(y, dtype=float)).mean(axis=0)
    return np.sqrt(x[1:] * x[:-1]), np.diff(np.log(y)) / np.diff(np.log(x))


def block_exponents(x, y, n_blocks: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Exponents fitted on n_blocks consecutive stretches of equal log-x length, at their geometric centres.

    The local exponent of a dense but kinked curve, such as a frontier whose winner changes from size to size.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    edges = np.linspace(np.log(x.min()), np.log(x.max()), n_blocks + 1)
    centres, slopes = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (np.log(x) >= lo - 1e-12) & (np.log(x) <= hi + 1e-12)
        if inside.sum() >= 2:
            centres.append(float(np.exp((lo + hi) / 2)))
            slopes.append(fit_log_slope(x[inside], y[inside]).exponent)
    return np.array(centres), np.array(slopes)


def exponent_check(quantity: str, predicted: float, x, y, x_min: float | None = None, x_max: float | None = None,
                   *, local=None) -> Check:
    """Fit y ∝ x^exponent on the window (draws × points, or one curve): sampling from the draws, drift as finite size.

    `local` = (x, exponent) for the plot; by default the pairwise exponents of the draw-mean curve.
    """
    fit = fit_log_slope(x, y, x_min, x_max)
    low, high = window_drift(x, y, x_min, x_max)
    lx, le = pairwise_exponent(x, y) if local is None else local
    return Check(quantity=quantity, predicted=float(predicted), measured=fit.exponent,
                 sampling=sampling_error(x, y, x_min, x_max), finite_size=abs(high - low),
                 local_x=np.asarray(lx, dtype=float), local=np.asarray(le, dtype=float),
                 window=(fit.x_min, fit.x_max))
