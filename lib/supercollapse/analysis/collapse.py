"""Collapse of normalized loss curves and supercollapse (SPEC §8; [Q] Sec. 3, Eqs. 1–2, Figs. 1–3).

Every function here is pure: curves in, numbers out. `analyze` chains them for one ladder.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from . import frames

HUBER_DELTA = 1e-3  # SPEC §8: Huber loss of the log residual
X_GRID = np.round(np.linspace(0.01, 1.0, 100), 10)  # normalized compute x = C / C_final
WINDOW = (0.5, 0.95)  # SPEC §8: the supercollapse summary averages Delta/sigma_mean here
LATE_WINDOW = (0.8, 0.95)  # late training, where [Q] Figs. 1c and 3 show decay pulling below constant LR
ONSET_UPTO = 0.99  # Delta(1) = 0 by construction, so the onset test stops short of x = 1
L0_BOUND = 1e-12  # a fitted L0 below this fraction of the best final loss is its lower bound 0 ([Q] Fig. 1a)
ORDER_MIN_SIZES = 3  # two sizes are always in order: an order of size means something from three on
CLEARLY_BETTER = 0.8  # a ladder "collapses clearly better" below this fraction of the other's Δ/σ̄ ([Q] Fig. 4)
# L-BFGS-B stopping rules. The objective is flat along a valley of (a, b, L0); loose rules stop at different
# points of the valley from different starts, so they are tight (tests/test_collapse.py checks the stability).
_OPTIONS = {"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20_000, "maxfun": 40_000}


@dataclass(frozen=True)
class PowerLaw:
    """L(C) = a·C^(−b) + L0 with C in PFLOP, and the mean Huber loss it reached."""

    a: float
    b: float
    L0: float
    objective: float

    def __call__(self, C):
        """The fitted loss at compute C (PFLOP)."""
        return self.a * np.asarray(C, dtype=float) ** (-self.b) + self.L0


def start_grid(L, n: int = 3) -> np.ndarray:
    """SPEC §8's starting points: a in [0.1, 1], b in [0.01, 0.3], L0 in [0.1·min L, min L], n values each."""
    m = float(np.min(L))
    a, b, c = np.meshgrid(np.linspace(0.1, 1, n), np.linspace(0.01, 0.3, n), np.linspace(0.1 * m, m, n), indexing="ij")
    return np.stack([a.ravel(), b.ravel(), c.ravel()], axis=1)


def _huber_log(theta, logC, logL, delta):
    """Mean Huber loss of log(pred) − log(L), divided by delta, and its gradient."""
    a, b, L0 = theta
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # line searches may try huge b
        Cb = np.exp(-b * logC)
        aCb = a * Cb
        # a = L0 = 0 (allowed by the bounds) predicts 0: keep it finite, so line searches back off instead of stopping.
        pred = np.maximum(aCb + L0, 1e-300)
        r = np.log(pred) - logL
        c = np.clip(r, -delta, delta)
        # Huber: 0.5·c² + delta·(|r| − |c|) is 0.5·r² for |r| <= delta and delta·(|r| − delta/2) beyond.
        h = 0.5 * c * c + delta * (np.abs(r) - np.abs(c))
        w = c / pred
        # Dividing by delta keeps the objective O(|r|), so L-BFGS-B's relative ftol means something.
        n = len(r) * delta
        grad = np.array([w @ Cb, -(w * aCb) @ logC, w.sum()]) / n
    return h.sum() / n, grad


def fit_power_law(C, L, *, starts=None, delta: float = HUBER_DELTA) -> PowerLaw:
    """Robust fit of L = a·C^(−b) + L0 (a, b, L0 >= 0) by L-BFGS-B from a grid of starts, keeping the best."""
    C, L = np.asarray(C, dtype=float), np.asarray(L, dtype=float)
    if C.shape != L.shape or C.ndim != 1:
        raise ValueError("C and L must be 1-d arrays of the same length")
    if len(C) < 3:
        raise ValueError(f"fitting a·C^(−b) + L0 needs at least 3 sizes, got {len(C)}; give L0 explicitly")
    if not (np.isfinite(C).all() and np.isfinite(L).all() and (C > 0).all() and (L > 0).all()):
        raise ValueError("C and L must be finite and positive")
    starts = start_grid(L) if starts is None else np.atleast_2d(np.asarray(starts, dtype=float))
    # Optimize a' = a·C_ref^(−b) against log(C / C_ref), C_ref the geometric mean: the same model and starts, but
    # a and b no longer move together when C is far from 1 PFLOP (CPU ladders sit near 1e-4).
    log_ref = float(np.mean(np.log(C)))
    starts = starts.copy()
    starts[:, 0] *= np.exp(-starts[:, 1] * log_ref)
    args = (np.log(C) - log_ref, np.log(L), delta)
    bounds = [(0, None), (0, None), (0, None)]
    best = None
    # L-BFGS-B calls BLAS on tiny matrices every iteration; waking OpenBLAS's thread pool for them made 64 fits
    # take 1.2-4.5 s instead of 0.13 s on a loaded 2-core machine (measured).
    with threadpool_limits(1, user_api="blas"):
        for x0 in starts:  # in order, strict improvement only: ties go to the first start, deterministically
            res = minimize(_huber_log, x0, args=args, jac=True, method="L-BFGS-B", bounds=bounds, options=_OPTIONS)
            if best is None or res.fun < best.fun:
                best = res
        # Polish: restart from the best point, so the answer does not depend on where the winning start stalled.
        for _ in range(5):
            res = minimize(_huber_log, best.x, args=args, jac=True, method="L-BFGS-B", bounds=bounds,
                           options=_OPTIONS)
            if not res.fun < best.fun:
                break
            best = res
    a, b, L0 = map(float, best.x)
    return PowerLaw(a * math.exp(b * log_ref), b, L0, float(best.fun) * delta)


def size_means(frame: pd.DataFrame) -> pd.DataFrame:
    """One point per size: the seed-mean final compute and final loss (SPEC §8, the L0 fit's data)."""
    size = frames.size_column(frame)
    final = frames.final_points(frame)
    return final.groupby(size, sort=True)[["compute", "loss"]].mean().reset_index()


def L0_at_bound(result: Collapse, frame: pd.DataFrame) -> bool:
    """Whether the fit of [Q] Fig. 1a put L0 at its lower bound 0 (within `L0_BOUND` of the lowest seed-mean final
    loss): the final points do not pin down an irreducible loss, and ℓ is each run's loss over its final loss."""
    return result.L0 <= L0_BOUND * float(size_means(frame)["loss"].min())


def final_loss_table(ladders: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per size, the seed-mean final loss of each named ladder (same sizes), and the relative difference of every
    later ladder from the first: (L_k − L_first) / L_first ([Q] Fig. 4 top: µP against no µP)."""
    means = [size_means(f).set_index(frames.size_column(f))["loss"].rename(name) for name, f in ladders.items()]
    out = pd.concat(means, axis=1)
    first = out.columns[0]
    for name in out.columns[1:]:
        out[f"relative difference ({name})"] = (out[name] - out[first]) / out[first]
    return out.reset_index()


def final_loss_gaps(table: pd.DataFrame) -> tuple[float, float]:
    """The smallest and largest |relative difference| of the first compared ladder in `final_loss_table`."""
    gap = table[next(c for c in table.columns if c.startswith("relative difference"))].abs()
    return float(gap.min()), float(gap.max())


def fit_L0(frame: pd.DataFrame, *, starts=None) -> PowerLaw:
    """Fit L = a·C^(−b) + L0 to the seed-mean final points of each size (SPEC §8)."""
    points = size_means(frame)
    return fit_power_law(points["compute"], points["loss"], starts=starts)


@dataclass(frozen=True, eq=False)
class Grid:
    """Every run's loss interpolated linearly onto the normalized compute grid x = C / C_final."""

    x: np.ndarray  # (n_x,)
    runs: tuple  # run ids, one per row
    size_column: str  # "P", or "D" when the ladder has no parameter counts
    size: np.ndarray  # (n_runs,) P (or D) of each run
    seed: np.ndarray  # (n_runs,)
    loss: np.ndarray  # (n_runs, n_x) L at x; NaN below a run's first evaluation
    L_final: np.ndarray  # (n_runs,) each run's own final loss
    C_final: np.ndarray  # (n_runs,) each run's own final compute (PFLOP)


def on_grid(frame: pd.DataFrame, x=X_GRID) -> Grid:
    """Interpolate each run's loss linearly in x = C / C_final (its own final compute) onto the grid x."""
    x = np.asarray(x, dtype=float)
    runs = frames.curves(frame)
    loss = np.empty((len(runs), len(x)))
    for i, r in enumerate(runs):
        xr = r.compute / r.compute[-1]
        loss[i] = np.interp(x, xr, r.loss)
        loss[i, x < xr[0] * (1 - 1e-9)] = np.nan  # no extrapolation before the first evaluation
    return Grid(
        x=x,
        runs=tuple(r.run for r in runs),
        size_column=frames.size_column(frame),
        size=np.array([r.size for r in runs]),
        seed=np.array([r.seed for r in runs]),
        loss=loss,
        L_final=np.array([r.loss[-1] for r in runs]),
        C_final=np.array([r.compute[-1] for r in runs]),
    )


def normalize(loss: np.ndarray, L_final: np.ndarray, L0: float) -> np.ndarray:
    """ℓ = (L − L0) / (L_final − L0), each run divided by its own final reducible loss (SPEC §8)."""
    L_final = np.asarray(L_final, dtype=float)
    if (L_final <= L0).any():
        raise ValueError(
            f"L0 = {L0:.6g} is not below every run's final loss (smallest: {L_final.min():.6g}); "
            "the reducible loss must be positive"
        )
    return (np.asarray(loss, dtype=float) - L0) / (L_final - L0)[:, None]


def collapse_deviation(ell: np.ndarray) -> np.ndarray:
    """Δ(x) = std / mean of ℓ(x) over all runs of all sizes and seeds, ddof 0 ([Q] Eq. 2 pools sizes and seeds)."""
    ell = np.asarray(ell, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ell.std(axis=0) / ell.mean(axis=0)


def noise_floor(loss: np.ndarray, size: np.ndarray, L0: float) -> tuple[np.ndarray, np.ndarray]:
    """σ(x, p) = std / mean over seeds of L(x) − L0 at each size, un-normalized; returns (sizes, σ[size, x])."""
    reducible = np.asarray(loss, dtype=float) - L0
    sizes = np.unique(size)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.stack([reducible[size == s].std(axis=0) / reducible[size == s].mean(axis=0) for s in sizes])
    # One seed has no seed-to-seed spread: its sigma is undefined, not zero.
    n = np.array([(size == s).sum() for s in sizes])
    sigma[n < 2] = np.nan
    return sizes, sigma


def _mean_over_sizes(sigma: np.ndarray) -> np.ndarray:
    """σ̄(x): the mean of σ(x, p) over the sizes that have one (a size with a single seed has none)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a grid point where no size has a σ is NaN, not an error
        return np.nanmean(sigma, axis=0)


def window_mean(x, values, window=WINDOW) -> float:
    """Mean of values over the grid points with window[0] <= x <= window[1]."""
    x, values = np.asarray(x, dtype=float), np.asarray(values, dtype=float)
    inside = (x >= window[0] - 1e-12) & (x <= window[1] + 1e-12)
    if not inside.any():
        raise ValueError(f"no grid point in the window {window}")
    return float(np.mean(values[inside]))


def onset(x, delta, sigma, upto: float = ONSET_UPTO) -> float | None:
    """Smallest grid x from which Δ < σ at every grid point up to `upto`; None if Δ >= σ at the last one."""
    x, delta, sigma = (np.asarray(v, dtype=float) for v in (x, delta, sigma))
    keep = x <= upto + 1e-12
    x, below = x[keep], (delta < sigma)[keep]  # NaN compares False: an undefined point breaks the run
    if not len(x) or not below[-1]:
        return None
    bad = np.flatnonzero(~below)
    return float(x[bad[-1] + 1]) if len(bad) else float(x[0])


def onset_at_last_point(onset_: float | None, upto: float = ONSET_UPTO) -> bool:
    """Whether Δ < σ̄ only at the last tested point x = `upto`: an onset, but no stretch of training where the sizes
    agree better than seeds do ([Q] Fig. 1c)."""
    return onset_ is not None and onset_ >= upto - 1e-9  # 1e-9: grid values are rounded to 10 decimals


@dataclass(frozen=True, eq=False)
class Collapse:
    """Every quantity of SPEC §8 for one ladder, on the grid x."""

    L0: float
    fit: PowerLaw | None  # None when L0 was given
    grid: Grid
    ell: np.ndarray  # (n_runs, n_x) normalized curves
    delta: np.ndarray  # (n_x,) collapse deviation
    sizes: np.ndarray  # (n_sizes,)
    sigma: np.ndarray  # (n_sizes, n_x) noise floor per size
    sigma_mean: np.ndarray  # (n_x,) mean over sizes
    sigma_min: np.ndarray
    sigma_max: np.ndarray
    ratio: np.ndarray  # Δ / σ̄
    window: tuple[float, float]
    window_mean_ratio: float
    onset: float | None

    @property
    def x(self) -> np.ndarray:
        return self.grid.x

    def curves(self) -> pd.DataFrame:
        """Long frame of the normalized curves: run, P (or D), seed, x, loss, ell."""
        g = self.grid
        n_runs, n_x = self.ell.shape
        return pd.DataFrame({
            "run": np.repeat(np.array(g.runs, dtype=object), n_x),
            g.size_column: np.repeat(g.size, n_x),
            "seed": np.repeat(g.seed, n_x),
            "x": np.tile(g.x, n_runs),
            "loss": g.loss.ravel(),
            "ell": self.ell.ravel(),
        })

    def summary(self) -> pd.DataFrame:
        """Per grid point: x, delta, sigma_mean, sigma_min, sigma_max, ratio."""
        return pd.DataFrame({"x": self.x, "delta": self.delta, "sigma_mean": self.sigma_mean,
                             "sigma_min": self.sigma_min, "sigma_max": self.sigma_max, "ratio": self.ratio})


def analyze(frame: pd.DataFrame, L0: float | str = "auto", *, x=X_GRID, window=WINDOW, upto: float = ONSET_UPTO,
            starts=None) -> Collapse:
    """Fit L0 (or take it), normalize every run by its own final loss, and measure Δ, σ, Δ/σ̄ and the onset."""
    frame = frames.validate(frame, min_sizes=2)
    if isinstance(L0, str):
        if L0 != "auto":
            raise ValueError(f"L0 must be 'auto' or a number, got {L0!r}")
        fit = fit_L0(frame, starts=starts)
        L0 = fit.L0
    else:
        fit, L0 = None, float(L0)
        if not math.isfinite(L0):
            raise ValueError(f"L0 must be finite, got {L0}")
    grid = on_grid(frame, x)
    ell = normalize(grid.loss, grid.L_final, L0)
    delta = collapse_deviation(ell)
    sizes, sigma = noise_floor(grid.loss, grid.size, L0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sizes with one seed are all-NaN rows
        sigma_mean = _mean_over_sizes(sigma)
        sigma_min, sigma_max = np.nanmin(sigma, axis=0), np.nanmax(sigma, axis=0)
        ratio = delta / sigma_mean
    return Collapse(
        L0=L0, fit=fit, grid=grid, ell=ell, delta=delta, sizes=sizes, sigma=sigma, sigma_mean=sigma_mean,
        sigma_min=sigma_min, sigma_max=sigma_max, ratio=ratio, window=tuple(window),
        window_mean_ratio=window_mean(grid.x, ratio, window), onset=onset(grid.x, delta, sigma_mean, upto),
    )


def fig2_offsets(frame: pd.DataFrame, L0: float) -> dict[str, float]:
    """SPEC §8 / [Q] Fig. 2 offsets: L0, 0, and L0 ± half the gap to the best final loss of any run."""
    # The best run, not the best seed mean: L0 + gap/2 then stays below every run's own final loss, so every
    # offset normalizes (a seed of the widest model may end below its width's mean by more than gap/2).
    gap = float(frames.final_points(frame)["loss"].min()) - L0
    return {"L0": L0, "0": 0.0, "L0 - gap/2": L0 - gap / 2, "L0 + gap/2": L0 + gap / 2}


def offset_sensitivity(frame: pd.DataFrame, offsets, x=X_GRID) -> pd.DataFrame:
    """Δ(x), σ̄(x) and Δ/σ̄ with L0 replaced by each offset L̂ (a dict label -> value, or a list): columns label,
    offset, x, delta, sigma_mean, ratio.

    Δ alone does not compare offsets: as L̂ falls, L − L̂ gains a part every run shares, ℓ moves toward 1 and Δ
    shrinks with it. σ computed with the same L̂ shrinks alike, so Δ/σ̄ is the comparable quantity (SPEC §8).
    """
    frame = frames.validate(frame, min_sizes=2)
    items = offsets.items() if isinstance(offsets, dict) else ((f"{v:g}", v) for v in offsets)
    grid = on_grid(frame, x)
    parts = []
    for label, v in items:
        delta = collapse_deviation(normalize(grid.loss, grid.L_final, float(v)))
        sigma_mean = _mean_over_sizes(noise_floor(grid.loss, grid.size, float(v))[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = delta / sigma_mean
        parts.append(pd.DataFrame({"label": label, "offset": float(v), "x": grid.x, "delta": delta,
                                   "sigma_mean": sigma_mean, "ratio": ratio}))
    return pd.concat(parts, ignore_index=True)


def size_trend(result: Collapse) -> pd.DataFrame:
    """Per size: the seed-mean ℓ averaged over the window, and its relative offset from all runs' mean.

    A systematic ordering of the offsets with size, larger than σ̄, is a size-dependent shape (what [Q] Fig. 4
    shows for bad scaling) rather than noise.
    """
    x = result.x
    inside = (x >= result.window[0] - 1e-12) & (x <= result.window[1] + 1e-12)
    pooled = result.ell[:, inside].mean(axis=0)
    size = result.grid.size
    rows = []
    for s in result.sizes:
        mean = result.ell[size == s][:, inside].mean(axis=0)
        rows.append({result.grid.size_column: s, "ell_window_mean": float(mean.mean()),
                     "offset": float(np.mean(mean / pooled - 1))})
    return pd.DataFrame(rows)


def size_spread(result: Collapse, trend: pd.DataFrame) -> dict:
    """The numbers of `size_trend` a page quotes: the smallest and the largest size's offsets (first, last), their
    spread max − min, and the mean noise floor σ̄ over the window (sigma) to weigh it against ([Q] Fig. 4)."""
    off = trend["offset"].to_numpy()
    inside = (result.x >= result.window[0]) & (result.x <= result.window[1])
    return {"first": float(off[0]), "last": float(off[-1]), "spread": float(off.max() - off.min()),
            "sigma": float(np.nanmean(result.sigma_mean[inside]))}


def size_ordered(trend: pd.DataFrame) -> bool:
    """Whether the sizes' offsets in `size_trend` rise or fall strictly with size, over at least `ORDER_MIN_SIZES`
    sizes: a spread ordered by size is a size-dependent shape ([Q] Fig. 4), not seed noise."""
    steps = np.diff(trend["offset"].to_numpy())
    return len(trend) >= ORDER_MIN_SIZES and bool(np.all(steps > 0) or np.all(steps < 0))


def tighter(a: Collapse, b: Collapse) -> bool:
    """Whether `a` collapses more tightly than `b`: a smaller window mean of Δ/σ̄ (False when either is NaN). Decay
    against constant LR is [Q] Figs. 1c and 3; µP against no µP, Fig. 4 (top)."""
    return a.window_mean_ratio < b.window_mean_ratio


def clearly_tighter(a: Collapse, b: Collapse) -> bool:
    """Whether `a`'s window mean of Δ/σ̄ is below `CLEARLY_BETTER` times `b`'s: a ladder trained to another horizon
    exponent that collapses clearly better makes the fitted γ a likely culprit ([Q] Fig. 4, bottom)."""
    return a.window_mean_ratio < CLEARLY_BETTER * b.window_mean_ratio


@dataclass(frozen=True)
class OffsetChoice:
    """[Q] Fig. 2's question on `offset_sensitivity`: which offset L̂ gives the smallest window mean of Δ/σ̄ (σ with
    the same L̂), and is it the fitted L0? Offsets equal to L0 (L̂ = 0 when the fit sits at its bound) are the same
    normalization, not competitors."""

    values: dict[str, float]  # label -> L̂, in the table's order; "L0" is the fitted one
    ratios: dict[str, float]  # label -> window mean of Δ/σ̄

    @property
    def same(self) -> list[str]:
        """The other labels whose offset equals the fitted L0."""
        return [k for k, v in self.values.items() if k != "L0" and v == self.values["L0"]]

    @property
    def others(self) -> list[str]:
        """The labels of the offsets that differ from the fitted L0."""
        return [k for k, v in self.values.items() if k != "L0" and v != self.values["L0"]]

    @property
    def best(self) -> str:
        """The label with the smallest window mean of Δ/σ̄, over every offset."""
        return min(self.ratios, key=self.ratios.__getitem__)

    @property
    def best_other(self) -> str:
        """The label with the smallest window mean of Δ/σ̄ among `others`."""
        return min(self.others, key=self.ratios.__getitem__)

    @property
    def fitted_L0_best(self) -> bool | None:
        """Whether the fitted L0 collapses at least as well as every other offset; None when there is no other."""
        if not self.others:
            return None
        return bool(self.ratios["L0"] <= self.ratios[self.best_other])


def offset_choice(table: pd.DataFrame, window=WINDOW) -> OffsetChoice:
    """The `OffsetChoice` of an `offset_sensitivity` table whose offsets include one labelled "L0"."""
    groups = table.groupby("label", sort=False)
    return OffsetChoice({k: float(g["offset"].iloc[0]) for k, g in groups},
                        {k: window_mean(g["x"], g["ratio"], window) for k, g in groups})


@dataclass(frozen=True)
class Bootstrap:
    """Spread of the window mean of Δ/σ̄ over resamples of the runs (L0 held at its fitted value)."""

    se: float
    ci: tuple[float, float]  # 95%: the 2.5% and 97.5% percentiles (bootstrap), or log-symmetric (jackknife)
    n_boot: int  # resamples with a finite value


def _window_ratio(result: Collapse, idx: np.ndarray, L0: float | None = None) -> float:
    """The window mean of Δ/σ̄ over the runs `idx` (repeats allowed), with `L0` (default: `result`'s); NaN when
    `L0` is not below every run's final loss."""
    g = result.grid
    L0 = result.L0 if L0 is None else L0
    loss, size = g.loss[idx], g.size[idx]
    if (g.L_final[idx] <= L0).any():
        return float("nan")
    ell = normalize(loss, g.L_final[idx], L0)
    _, sigma = noise_floor(loss, size, L0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ratio = collapse_deviation(ell) / np.nanmean(sigma, axis=0)
    return window_mean(g.x, ratio, result.window)


def ratio_bootstrap(result: Collapse, n_boot: int = 200, seed: int = 0) -> Bootstrap:
    """Resample each size's runs with replacement and recompute the window mean of Δ/σ̄.

    L0 is held fixed (refitting it per resample would need the whole fit each time); resampling with replacement
    repeats seeds, which shrinks σ, so with few seeds the interval sits above the estimate (`ratio_jackknife`).
    """
    g, rng = result.grid, np.random.default_rng(seed)
    members = [np.flatnonzero(g.size == s) for s in result.sizes]
    out = []
    for _ in range(n_boot):
        value = _window_ratio(result, np.concatenate([rng.choice(m, size=len(m)) for m in members]))
        if math.isfinite(value):
            out.append(value)
    out = np.asarray(out)
    if len(out) < 2:
        return Bootstrap(float("nan"), (float("nan"), float("nan")), len(out))
    return Bootstrap(float(out.std(ddof=1)), tuple(map(float, np.percentile(out, [2.5, 97.5]))), len(out))


def _refit_L0(result: Collapse, idx: np.ndarray, starts=None) -> float:
    """L0 fitted again (`fit_L0`'s data: seed-mean final points per size) to the runs `idx` alone, from `starts`
    (default: the whole ladder's fit, one start: a replicate moves the optimum a little, and 27 starts cost 27×)."""
    g, fit = result.grid, result.fit
    points = pd.DataFrame({"size": g.size[idx], "C": g.C_final[idx], "L": g.L_final[idx]}).groupby("size").mean()
    return fit_power_law(points["C"], points["L"], starts=[(fit.a, fit.b, fit.L0)] if starts is None else starts).L0


def ratio_jackknife(result: Collapse, *, refit: bool = False) -> Bootstrap:
    """Delete-one jackknife over runs of the window mean r of Δ/σ̄, L0 held, or (`refit`, for a fitted L0) fitted
    again in each replicate so the error covers the L0 fit too; ci = r·exp(±1.96·se/r) (r > 0).

    No seed is ever repeated, so σ is not shrunk: on synthetic ladders with 3-8 seeds per size its interval holds
    the mean over independent ladders 93-100% of the time, the bootstrap's 30-73% (benchmarks/seed_errors.py).
    """
    if refit and result.fit is None:
        raise ValueError("refit needs a fitted L0; this result's L0 was given")
    n = len(result.grid.runs)
    keep = [np.delete(np.arange(n), i) for i in range(n)]
    values = np.array([_window_ratio(result, idx, _refit_L0(result, idx) if refit else None) for idx in keep])
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return Bootstrap(float("nan"), (float("nan"), float("nan")), len(values))
    se = float(math.sqrt((len(values) - 1) / len(values) * np.sum((values - values.mean()) ** 2)))
    r = result.window_mean_ratio
    return Bootstrap(se, (r * math.exp(-1.96 * se / r), r * math.exp(1.96 * se / r)), len(values))


@dataclass(frozen=True, eq=False)
class ScheduleComparison:
    """A decay ladder against its constant-LR twin ([Q] Figs. 1c and 3), each normalized with its own fitted L0."""

    decay: Collapse
    constant: Collapse
    decay_se: float  # jackknife over runs of each window mean of Δ/σ̄ (`ratio_jackknife`)
    constant_se: float
    late_decay: float  # window mean of Δ/σ̄ on LATE_WINDOW, same L0 as above
    late_constant: float

    @property
    def decay_tighter_late(self) -> bool:
        """Late in training, where decay has acted, is the decayed ladder's Δ/σ̄ the smaller ([Q] Figs. 1c, 3)?"""
        return self.late_decay < self.late_constant


def compare_schedules(decay: pd.DataFrame, constant: pd.DataFrame) -> ScheduleComparison:
    """Analyze both ladders on WINDOW and LATE_WINDOW, with jackknife errors on WINDOW."""
    d, c = analyze(decay), analyze(constant)
    late = [analyze(f, L0=r.L0, window=LATE_WINDOW).window_mean_ratio for f, r in ((decay, d), (constant, c))]
    return ScheduleComparison(d, c, ratio_jackknife(d).se, ratio_jackknife(c).se, *late)
