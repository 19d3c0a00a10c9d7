"""Compute-optimal horizon from constant-learning-rate curves: the data exponent gamma (SPEC §7; [Q] App., Fig. 10)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import flops
from . import frames


@dataclass(frozen=True, eq=False)
class Horizon:
    """C*(P) = (P / scale)^exponent PFLOP, gamma = exponent − 1, with a bootstrap over seeds for gamma."""

    exponent: float
    scale: float
    gamma: float
    gamma_se: float  # std of the bootstrap gammas; NaN when no size has 2 seeds
    gamma_ci: tuple[float, float]  # 2.5% and 97.5% bootstrap percentiles
    n_boot: int  # bootstrap resamples that gave a fit
    frontier: pd.DataFrame  # compute, P, loss, kept: the Pareto frontier on the grid, edge winners not kept

    def compute(self, P) -> np.ndarray | float:
        """Compute-optimal compute C*(P) in PFLOP (SPEC §7 step 4)."""
        return (np.asarray(P, dtype=float) / self.scale) ** self.exponent

    def horizon(self, P) -> np.ndarray | float:
        """Compute-optimal horizon T(P) = C*·1e15 / (6P) in tokens (examples for the MLP)."""
        P = np.asarray(P, dtype=float)
        return flops.tokens(P, self.compute(P))

    def C_final(self, frame: pd.DataFrame) -> dict:
        """Each run's normalization compute C*(P) in PFLOP, for `frames.truncate` of constant-LR runs."""
        P = frame.groupby("run", sort=False)["P"].first()
        return {run: float(self.compute(p)) for run, p in P.items()}


def _log_grid(runs: list[frames.Curve], n_grid: int) -> np.ndarray:
    """Log-spaced compute grid from the first positive evaluation of any run to the last of any run."""
    lo = min(r.compute[r.compute > 0][0] for r in runs)
    hi = max(r.compute[-1] for r in runs)
    return np.geomspace(lo, hi, n_grid)


def _loss_on_grid(runs: list[frames.Curve], grid: np.ndarray) -> np.ndarray:
    """Each run's loss on the grid, interpolating log L against log C (SPEC §7 step 2); NaN outside its range."""
    out = np.full((len(runs), len(grid)), np.nan)
    for i, r in enumerate(runs):
        pos = r.compute > 0
        out[i] = np.exp(np.interp(np.log(grid), np.log(r.compute[pos]), np.log(r.loss[pos]), left=np.nan, right=np.nan))
    return out


def _frontier(mean_loss: np.ndarray, sizes: np.ndarray):
    """Winner index per grid point (-1 where no size covers it) and its loss."""
    covered = np.isfinite(mean_loss).any(axis=0)
    winner = np.where(covered, np.argmin(np.where(np.isfinite(mean_loss), mean_loss, np.inf), axis=0), -1)
    loss = np.where(covered, mean_loss[np.maximum(winner, 0), np.arange(mean_loss.shape[1])], np.nan)
    return winner, loss


def _fit(grid, winner, sizes):
    """Drop edge winners, then least squares log C* = exponent·log P + c (SPEC §7 steps 3–4); None if < 2 sizes."""
    won = winner >= 0
    if not won.any():
        return None
    P = np.where(won, sizes[np.maximum(winner, 0)], np.nan)
    # Edge effects: the smallest winner also wins below its optimum, the largest beyond it.
    kept = won & (P > np.nanmin(P)) & (P < np.nanmax(P))
    if len(np.unique(P[kept])) < 2:
        return None
    exponent, c = np.polyfit(np.log(P[kept]), np.log(grid[kept]), 1)
    with np.errstate(over="ignore"):  # a near-zero exponent (smoke ladders) puts the scale at inf, not a warning
        return exponent, float(np.exp(-c / exponent)), kept, P


def fit_horizon(frame: pd.DataFrame, *, n_grid: int = 512, n_boot: int = 200, seed: int = 0) -> Horizon:
    """Fit C*(P) from the Pareto frontier of seed-averaged constant-LR curves; `seed` drives the bootstrap only."""
    frame = frames.validate(frame, min_sizes=3)
    if frames.size_column(frame) != "P":
        raise ValueError("the compute-optimal fit needs parameter counts: add a finite column P")
    runs = frames.curves(frame)
    run_size = np.array([r.size for r in runs])
    sizes = np.unique(run_size)
    grid = _log_grid(runs, n_grid)
    L = _loss_on_grid(runs, grid)
    members = [np.flatnonzero(run_size == s) for s in sizes]
    # A size covers a grid point only where all its seeds do; the seed mean is an arithmetic mean of L.
    cover = np.stack([np.isfinite(L[m]).all(axis=0) for m in members])
    filled = np.nan_to_num(L)

    def mean_curves(weights):
        return np.where(cover, weights @ filled, np.nan)

    W = np.zeros((len(sizes), len(runs)))
    for k, m in enumerate(members):
        W[k, m] = 1 / len(m)
    winner, front_loss = _frontier(mean_curves(W), sizes)
    fit = _fit(grid, winner, sizes)
    if fit is None:
        raise ValueError(
            "the frontier has fewer than 2 sizes once the smallest and largest winners are dropped; "
            "train more sizes, or train each size longer so that it reaches the frontier"
        )
    exponent, scale, kept, P = fit
    # Bootstrap over seeds: resample each size's seeds with replacement, refit (SPEC §7, issue 4).
    rng = np.random.default_rng(seed)
    gammas = []
    if max(len(m) for m in members) > 1:
        for _ in range(n_boot):
            Wb = np.zeros_like(W)
            for k, m in enumerate(members):
                np.add.at(Wb[k], rng.choice(m, size=len(m)), 1 / len(m))
            fb = _fit(grid, _frontier(mean_curves(Wb), sizes)[0], sizes)
            if fb is not None:
                gammas.append(fb[0] - 1)
    gammas = np.asarray(gammas)
    se = float(gammas.std(ddof=1)) if len(gammas) > 1 else float("nan")
    ci = tuple(map(float, np.percentile(gammas, [2.5, 97.5]))) if len(gammas) > 1 else (float("nan"),) * 2
    frontier = pd.DataFrame({"compute": grid, "P": P, "loss": front_loss, "kept": kept})
    return Horizon(float(exponent), scale, float(exponent) - 1, se, ci, len(gammas), frontier)
