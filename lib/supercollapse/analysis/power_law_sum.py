"""The sum-of-power-laws fit of constant-LR curves, L(t, P) = L0 + a·t^(−mu) + b·P^(−nu) ([Q] Figs. 5a, 11).

Its compute-optimal horizon is t*(P) ∝ P^(nu/mu) (SPEC §10), so the fit implies a data exponent
gamma* = nu/mu to set beside the gamma of the frontier fit (SPEC §7): the collapse is exact only at gamma*.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from . import frames

T_MIN_FRACTION = 0.05  # points before 5% of a run's tokens are left out: warmup and the initial plateau
_STARTS = ((0.3, 0.3), (0.1, 0.5), (0.5, 0.1), (1.0, 1.0))  # (mu, nu) starting points


@dataclass(frozen=True)
class SumOfPowerLaws:
    """L0 + a·t^(−mu) + b·P^(−nu), t in tokens, fitted on the log loss of every kept evaluation."""

    L0: float
    a: float
    mu: float
    b: float
    nu: float
    rms_log_error: float  # root mean square of log(pred) − log(L) over the fitted points
    n_points: int

    @property
    def gamma_star(self) -> float:
        """The data exponent at which this law collapses exactly: t* ∝ P^(nu/mu)."""
        return self.nu / self.mu

    def loss(self, tokens, P) -> np.ndarray:
        t, p = np.asarray(tokens, dtype=float), np.asarray(P, dtype=float)
        return self.L0 + self.a * t ** -self.mu + self.b * p ** -self.nu


def fitted_points(frame: pd.DataFrame, t_min_fraction: float = T_MIN_FRACTION) -> pd.DataFrame:
    """The evaluations the fit uses: tokens > 0 and at least `t_min_fraction` of the run's last tokens."""
    frame = frames.validate(frame)
    if "tokens" not in frame.columns or "P" not in frame.columns:
        raise ValueError("the sum-of-power-laws fit needs columns tokens and P (a ladder of stored runs)")
    last = frame.groupby("run")["tokens"].transform("max")
    return frame[(frame["tokens"] > 0) & (frame["tokens"] >= t_min_fraction * last)]


def fit_sum(frame: pd.DataFrame, t_min_fraction: float = T_MIN_FRACTION) -> SumOfPowerLaws:
    """Least squares on log L of L0 + a t^(−mu) + b P^(−nu), from several starts; L0 in [0, min L)."""
    pts = fitted_points(frame, t_min_fraction)
    t, p = (pts[c].to_numpy(float) for c in ("tokens", "P"))
    logL = np.log(pts["loss"].to_numpy(float))
    lt, lp, L_min = np.log(t), np.log(p), float(np.exp(logL.min()))

    def residual(theta):
        L0, log_a, mu, log_b, nu = theta
        return np.log(L0 + np.exp(log_a - mu * lt) + np.exp(log_b - nu * lp)) - logL

    best = None
    for mu, nu in _STARTS:
        # Start each term at half the smallest reducible loss it must explain, at the geometric centre of the data.
        log_a = np.log(0.5 * L_min) + mu * lt.mean()
        log_b = np.log(0.5 * L_min) + nu * lp.mean()
        res = optimize.least_squares(residual, [0.0, log_a, mu, log_b, nu],
                                     bounds=([0, -np.inf, 0, -np.inf, 0], [L_min * (1 - 1e-9), np.inf, 5, np.inf, 5]))
        if best is None or res.cost < best.cost:
            best = res
    L0, log_a, mu, log_b, nu = best.x
    return SumOfPowerLaws(float(L0), float(np.exp(log_a)), float(mu), float(np.exp(log_b)), float(nu),
                          float(np.sqrt(np.mean(best.fun ** 2))), len(pts))


def gamma_star_se(frame: pd.DataFrame, n_boot: int = 50, seed: int = 0,
                  t_min_fraction: float = T_MIN_FRACTION) -> float:
    """Standard deviation of gamma* over resamples of each size's runs (NaN when no size has two seeds)."""
    pts = fitted_points(frame, t_min_fraction)
    by_size = [list(g.unique()) for _, g in pts.groupby(frames.size_column(pts))["run"]]
    if max(map(len, by_size)) < 2:
        return float("nan")
    rng, parts = np.random.default_rng(seed), dict(tuple(pts.groupby("run")))
    out = []
    for _ in range(n_boot):
        picks = [r for runs in by_size for r in rng.choice(runs, size=len(runs))]
        sample = pd.concat([parts[r].assign(run=f"{r}#{i}") for i, r in enumerate(picks)], ignore_index=True)
        out.append(fit_sum(sample, 0.0).gamma_star)
    return float(np.std(out))
