"""Where the spread across sizes comes from: the decomposition of Δ², the decay gain, and ℓ as two factors.

- Δ² = (cross-size part) + (within-size part): the law of total variance over all runs, divided by the squared
  mean of ℓ ([Q] Eq. 4 and App. Eq. 22 split Δ the same way). Supercollapse needs the cross-size part to be
  small; the within-size part is what normalizing by each run's own end leaves of the seed noise.
- The decay gain 1 − L_decay(end) / L_const(τ_end): how much lower a decayed run ends than the constant-LR run of
  the same size and seed at the same cumulative learning rate τ (the SGD-noise picture of [Q] §4). If the gain
  grows with size, every size's ℓ is rescaled by a different factor and no L0 can collapse them.
- ℓ = [deterministic factor] × [noise factor]: with q = (L_decay − L0) / (L_const − L0) at equal τ,
  ℓ(x) = [(L_const(τ(x)) − L0) / (L_const(τ_end) − L0)] × [q(x) / q(1)].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import collapse, frames

# A gain whose width means differ by more than their seed errors allow: chi-square p-value below this.
GAIN_VARIES_P = 0.01


@dataclass(frozen=True, eq=False)
class Decomposition:
    """Δ²(x) split into its cross-size and within-size parts (they sum to Δ² exactly)."""

    x: np.ndarray
    cross: np.ndarray  # Var over sizes of the seed-mean ℓ (weighted by seeds), / mean(ℓ)²
    within: np.ndarray  # mean over sizes of the seed variance of ℓ (same weights), / mean(ℓ)²
    window: tuple[float, float]
    cross_rms: float  # sqrt of the window mean of `cross`: comparable to Δ and σ̄
    within_rms: float
    delta_rms: float
    sigma_mean: float  # window mean of σ̄, for comparison


def variance_split(values: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Var over runs of `values` (runs × x) as (cross-size, within-size) parts, each divided by the squared mean:
    Σ_p w_p (m_p − m)²/m² + Σ_p w_p v_p/m², w_p = (runs of size p)/(runs); the two sum to (std/mean)²."""
    m = values.mean(axis=0)
    cross, within = np.zeros_like(m), np.zeros_like(m)
    for s in np.unique(size):
        part = values[size == s]
        w = len(part) / len(values)
        cross += w * (part.mean(axis=0) - m) ** 2
        within += w * part.var(axis=0)
    return cross / m ** 2, within / m ** 2


def decomposition(result: collapse.Collapse) -> Decomposition:
    """Split Δ² of a collapse result into its cross-size and within-size parts (`variance_split` of ℓ)."""
    cross, within = variance_split(result.ell, result.grid.size)
    rms = lambda v: float(np.sqrt(collapse.window_mean(result.x, v, result.window)))  # noqa: E731
    return Decomposition(result.x, cross, within, result.window, rms(cross), rms(within),
                         rms(cross + within), collapse.window_mean(result.x, result.sigma_mean, result.window))


def _pairs(decay: pd.DataFrame, const: pd.DataFrame):
    """(size, seed, decay curve, constant curve) for every decayed run with a constant-LR twin of its size and seed."""
    if "tau" not in decay.columns or "tau" not in const.columns:
        raise ValueError("the decay gain compares runs at equal cumulative learning rate: both ladders need a "
                         "'tau' column (the sum of the learning rates before each evaluation)")
    size = frames.size_column(decay)
    twins = {(g[size].iloc[0], g["seed"].iloc[0]): g.sort_values("tau") for _, g in const.groupby("run", sort=False)}
    out = []
    for _, g in decay.groupby("run", sort=False):
        g = g.sort_values("compute")
        key = (g[size].iloc[0], g["seed"].iloc[0])
        if key in twins:
            out.append((key[0], key[1], g, twins[key]))
    if not out:
        raise ValueError(f"no decayed run has a constant-LR twin of the same {size} and seed")
    return size, out


def at_tau(const: pd.DataFrame, tau, run: str, column: str = "loss"):
    """`column` of a constant-LR run (sorted by tau) interpolated linearly at the cumulative learning rates `tau` of
    run `run`; ValueError if `run` goes further in tau than the constant-LR run."""
    t, y = const["tau"].to_numpy(float), const[column].to_numpy(float)
    tau = np.asarray(tau, float)
    if tau.max() > t[-1] * (1 + 1e-9):
        raise ValueError(f"the constant-LR twin of run {run} ends at tau = {t[-1]:.4g}, before the decayed run "
                         f"reaches tau = {tau.max():.4g}: train the twin at least as long")
    return np.interp(tau, t, y)


@dataclass(frozen=True, eq=False)
class DecayGain:
    """The decay gain per run and per size, and whether it varies across sizes more than seeds allow."""

    per_run: pd.DataFrame  # size, seed, run, gain
    per_size: pd.DataFrame  # size, gain (seed mean), gain_se (standard error over seeds), n_seeds
    size_column: str
    chi2: float  # of the size means about their weighted mean, with their standard errors
    dof: int
    p_value: float
    slope: float  # d gain / d log10(size), least squares over the size means
    slope_se: float

    @property
    def varies(self) -> bool:
        """The width means differ by more than their seed spread allows (p < GAIN_VARIES_P)."""
        return bool(self.p_value < GAIN_VARIES_P)


def decay_gain(decay: pd.DataFrame, const: pd.DataFrame) -> DecayGain:
    """1 − L_decay(end) / L_const(τ_end) per decayed run, its constant-LR twin taken at the same τ."""
    size, pairs = _pairs(frames.validate(decay), frames.validate(const))
    rows = [{size: s, "seed": seed, "run": str(d["run"].iloc[0]),
             "gain": 1 - float(d["loss"].iloc[-1]) / float(at_tau(c, d["tau"].iloc[-1], d["run"].iloc[0]))}
            for s, seed, d, c in pairs]
    per_run = pd.DataFrame(rows)
    g = per_run.groupby(size)["gain"]
    per_size = pd.DataFrame({"gain": g.mean(), "gain_se": g.std(ddof=1) / np.sqrt(g.count()),
                             "n_seeds": g.count()}).reset_index()
    ok = per_size["n_seeds"] >= 2
    chi2, dof, p = float("nan"), 0, float("nan")
    if ok.sum() >= 2:
        # Seeds with identical gains have no spread: a floor keeps the statistic finite (and huge if means differ).
        v, se = per_size.loc[ok, "gain"].to_numpy(), np.maximum(per_size.loc[ok, "gain_se"].to_numpy(), 1e-12)
        w = 1 / se ** 2
        chi2 = float(np.sum(w * (v - np.sum(w * v) / np.sum(w)) ** 2))
        dof = int(ok.sum() - 1)
        p = float(stats.chi2.sf(chi2, dof))
    slope, slope_se = float("nan"), float("nan")
    if len(per_size) >= 3:
        fit = stats.linregress(np.log10(per_size[size].to_numpy(float)), per_size["gain"].to_numpy())
        slope, slope_se = float(fit.slope), float(fit.stderr)
    elif len(per_size) == 2:
        lx = np.log10(per_size[size].to_numpy(float))
        slope = float(np.diff(per_size["gain"].to_numpy())[0] / np.diff(lx)[0])
    return DecayGain(per_run, per_size, size, chi2, dof, p, slope, slope_se)


@dataclass(frozen=True, eq=False)
class Factors:
    """ℓ of each decayed run with a twin as deterministic × noise factor curves on the grid x (NaN before its start)."""

    x: np.ndarray
    size_column: str
    size: np.ndarray  # (n_runs,)
    seed: np.ndarray
    deterministic: np.ndarray  # (n_runs, n_x): (L_const(τ(x)) − L0) / (L_const(τ_end) − L0)
    noise: np.ndarray  # (n_runs, n_x): q(x) / q(1)


def factors(decay: pd.DataFrame, const: pd.DataFrame, L0: float, x=collapse.X_GRID) -> Factors:
    """The two factors of ℓ (see the module doc) for every decayed run that has a constant-LR twin."""
    size, pairs = _pairs(frames.validate(decay), frames.validate(const))
    x = np.asarray(x, float)
    det, noise = [], []
    for _, _, d, c in pairs:
        C, L, tau = (d[k].to_numpy(float) for k in ("compute", "loss", "tau"))
        xs = C / C[-1]
        tau_x, L_x = np.interp(x, xs, tau), np.interp(x, xs, L)
        Lc_x = at_tau(c, tau_x, d["run"].iloc[0])
        Lc_end = float(at_tau(c, tau[-1], d["run"].iloc[0]))
        q = (L_x - L0) / (Lc_x - L0)
        before = x < xs[0] * (1 - 1e-9)
        det.append(np.where(before, np.nan, (Lc_x - L0) / (Lc_end - L0)))
        noise.append(np.where(before, np.nan, q / ((L[-1] - L0) / (Lc_end - L0))))
    return Factors(x, size, np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]),
                   np.array(det), np.array(noise))


def factorization(decay: pd.DataFrame, const: pd.DataFrame, L0: float, window=collapse.WINDOW,
                  x=collapse.X_GRID) -> pd.DataFrame:
    """Per size: window means of the deterministic factor and of the noise factor of ℓ.

    The deterministic factor comes from the constant-LR twin alone; if it is the same for every size while the
    noise factor is ordered by size, the spread is the decay gain's.
    """
    f = factors(decay, const, L0, x)
    inside = (f.x >= window[0] - 1e-12) & (f.x <= window[1] + 1e-12)
    per_run = pd.DataFrame({f.size_column: f.size, "seed": f.seed,
                            "deterministic": np.nanmean(f.deterministic[:, inside], axis=1),
                            "noise": np.nanmean(f.noise[:, inside], axis=1)})
    return per_run.groupby(f.size_column)[["deterministic", "noise"]].mean().reset_index()


def counterfactual_ratio(decay: pd.DataFrame, const: pd.DataFrame, result: collapse.Collapse) -> float:
    """Window mean of Δ/σ̄ had every size the same noise factor: each run's noise factor is replaced by its own
    seed's deviation around the mean noise factor of all sizes (so seed noise stays, the size trend goes)."""
    f = factors(decay, const, result.L0, result.x)
    sizes = np.unique(f.size)
    size_mean = {s: np.nanmean(f.noise[f.size == s], axis=0) for s in sizes}
    pooled = np.nanmean(np.stack(list(size_mean.values())), axis=0)
    ell = f.deterministic * np.stack([n * pooled / size_mean[s] for n, s in zip(f.noise, f.size)])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = collapse.collapse_deviation(ell) / result.sigma_mean
    return collapse.window_mean(result.x, ratio, result.window)
