"""Sum-of-power-laws losses and why compute-optimal training collapses them ([Q] Fig. 5; SPEC §10).

L(t, p) = L0 + Σ_i a_i · t^(−mu_i) · p^(−nu_i), with t the training horizon and p the model size. Compute is
C = k·p·t (k = 6 for transformers); the compute-optimal allocation does not depend on k.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.collapse import collapse_deviation
from . import checks
from .fits import LogSlopeFit, fit_log_slope

_GOLDEN = (np.sqrt(5.0) - 1) / 2


@dataclass(frozen=True)
class PowerLawSum:
    """L(t, p) = L0 + Σ_i a_i t^(−mu_i) p^(−nu_i) (SPEC §10; [Q] Fig. 5)."""

    a: tuple[float, ...]
    mu: tuple[float, ...]
    nu: tuple[float, ...]
    L0: float = 0.0

    def __post_init__(self):
        for name in ("a", "mu", "nu"):
            object.__setattr__(self, name, tuple(float(v) for v in np.atleast_1d(getattr(self, name))))
        if not len(self.a) == len(self.mu) == len(self.nu) >= 1:
            raise ValueError(f"a, mu, nu need the same number (>= 1) of terms, got {len(self.a)}, {len(self.mu)}, "
                             f"{len(self.nu)}")
        if min(self.a) <= 0 or min(self.mu) < 0 or min(self.nu) < 0:
            raise ValueError("every coefficient a_i must be > 0 and every exponent mu_i, nu_i >= 0")
        if max(self.mu) == 0 or max(self.nu) == 0:
            # Without a term that decays in t (in p) the compute-optimal horizon is infinite (zero).
            raise ValueError("at least one term must decay with t (mu_i > 0) and one with p (nu_i > 0)")

    @property
    def terms(self) -> int:
        return len(self.a)

    def reducible(self, t, p) -> np.ndarray:
        """L − L0 at horizon t and size p (broadcasting)."""
        logt, logp = np.log(np.asarray(t, dtype=float)), np.log(np.asarray(p, dtype=float))
        return sum(a * np.exp(-mu * logt - nu * logp) for a, mu, nu in zip(self.a, self.mu, self.nu))

    def loss(self, t, p) -> np.ndarray:
        """L(t, p)."""
        return self.L0 + self.reducible(t, p)


def two_term(mu: float, nu: float, L0: float = 0.0) -> PowerLawSum:
    """L = L0 + t^(−mu) + p^(−nu), the two-term law of SPEC §10."""
    return PowerLawSum(a=(1.0, 1.0), mu=(mu, 0.0), nu=(0.0, nu), L0=L0)


def phase_two(L0: float = 0.0) -> PowerLawSum:
    """[Q] Fig. 5b's three-term "phase II" law: p^(−1.2) + t^(−31/30) + t^(−1/6)·p^(−1), gamma* = 15/13."""
    return PowerLawSum(a=(1.0, 1.0, 1.0), mu=(0.0, 31 / 30, 1 / 6), nu=(1.2, 0.0, 1.0), L0=L0)


def gamma_star_two_term(mu: float, nu: float) -> float:
    """Closed form for two terms: t*(p) ∝ p^(nu/mu) (SPEC §10)."""
    return nu / mu


def collapse_curve_two_term(x, mu: float, nu: float) -> np.ndarray:
    """Exact collapsed curve of the two-term law at gamma*: (r·x^(−mu) + 1)/(r + 1), r = nu/mu (SPEC §10)."""
    r = nu / mu
    return (r * np.asarray(x, dtype=float) ** (-mu) + 1) / (r + 1)


@dataclass(frozen=True, eq=False)
class ExactFrontier:
    """The compute-optimal size p*, horizon t* and loss L* at each compute C = k·p·t."""

    C: np.ndarray
    p: np.ndarray
    t: np.ndarray
    loss: np.ndarray


def _argmin_logp(law: PowerLawSum, logC: np.ndarray, k: float, iters: int = 160) -> np.ndarray:
    """log p minimizing L(C/(k p), p) at each log C: golden section, vectorized over C."""
    # L is convex in (log t, log p) (a sum of exponentials of linear forms), hence unimodal on the line
    # log t + log p = log(C/k): golden section converges to the unique minimizer.
    s = logC - np.log(k)
    lo, hi = np.minimum(s, 0.0) - 60.0, np.maximum(s, 0.0) + 60.0

    def f(u):
        return law.reducible(np.exp(s - u), np.exp(u))

    c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        left = fc < fd  # the minimum lies in [lo, d]
        hi, lo = np.where(left, d, hi), np.where(left, lo, c)
        c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
        fc, fd = f(c), f(d)
        if np.all(hi - lo < 1e-12 * (1 + np.abs(lo))):  # below the resolution of log p
            break
    return (lo + hi) / 2


def exact_frontier(law: PowerLawSum, C, k: float = 6.0) -> ExactFrontier:
    """Compute-optimal (p*, t*, L*) at each compute C = k·p·t, by minimizing L over log p at fixed C."""
    C = np.asarray(C, dtype=float)
    logp = _argmin_logp(law, np.log(C), k)
    p = np.exp(logp)
    t = C / (k * p)
    return ExactFrontier(C=C, p=p, t=t, loss=law.loss(t, p))


def optimal_horizon(law: PowerLawSum, p, k: float = 6.0, iters: int = 200) -> np.ndarray:
    """t*(p): the horizon at which size p is compute-optimal, i.e. p*(C = k·p·t) = p on the frontier.

    Solved as the first-order condition of `exact_frontier`'s minimization, ∂L/∂log t = ∂L/∂log p, i.e.
    Σ_i a_i (mu_i − nu_i) t^(−mu_i) p^(−nu_i) = 0, by bisection in log t (positive for small t, negative for
    large t); tests check it against the minimization itself. `k` does not move t*: it only relabels C.
    """
    logp = np.log(np.asarray(p, dtype=float))

    def slope(v):  # ∂L/∂log p − ∂L/∂log t at log t = v
        return sum(a * (mu - nu) * np.exp(-mu * v - nu * logp) for a, mu, nu in zip(law.a, law.mu, law.nu))

    span = 60.0 + 4 * np.abs(logp)
    lo, hi = -span, span
    if not ((slope(lo) > 0).all() and (slope(hi) < 0).all()):
        raise ValueError(f"the compute-optimal horizon of a size p in [{np.exp(logp.min()):.3g}, {np.exp(logp.max()):.3g}] lies "
                         "outside log t in ±(60 + 4|log p|): the law's horizons grow too steeply with p (for two "
                         "terms, t* ∝ p^(nu/mu)); valid: exponents whose horizons stay in that range")
    for _ in range(iters):
        mid = (lo + hi) / 2
        up = slope(mid) > 0  # more time still pays: the optimum lies at larger t
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        if np.all(hi - lo < 1e-13 * (1 + np.abs(lo))):
            break
    return np.exp((lo + hi) / 2)


def gamma_star(law: PowerLawSum, p, k: float = 6.0) -> LogSlopeFit:
    """Fitted data exponent: least squares of log t*(p) against log p over the sizes p."""
    p = np.asarray(p, dtype=float)
    return fit_log_slope(p, optimal_horizon(law, p, k))


def horizons(law: PowerLawSum, p, gamma: float, p_ref: float | None = None, k: float = 6.0) -> np.ndarray:
    """Horizons t(p) = t*(p_ref)·(p/p_ref)^gamma: exponent gamma, compute-optimal at p_ref (default: middle p)."""
    p = np.asarray(p, dtype=float)
    p_ref = float(np.exp(np.mean(np.log(p)))) if p_ref is None else float(p_ref)
    return optimal_horizon(law, p_ref, k) * (p / p_ref) ** gamma


@dataclass(frozen=True, eq=False)
class CollapseFamily:
    """A ladder of sizes p trained to horizons t(p) ∝ p^gamma, its curves normalized at the end of training."""

    p: np.ndarray  # (n_p,)
    gamma: float
    horizon: np.ndarray  # (n_p,) t(p)
    x: np.ndarray  # (n_x,) t / t(p) = C / C(p)
    loss: np.ndarray  # (n_p, n_x) L(x·t(p), p)
    offset: float  # what was subtracted before normalizing (L0, or another L̂)
    ell: np.ndarray  # (n_p, n_x) (L − offset) / (L_final − offset)
    deviation: np.ndarray  # (n_x,) Δ(x) = std_p ℓ / mean_p ℓ

    @property
    def max_deviation(self) -> float:
        """max over x of Δ(x)."""
        return float(np.max(self.deviation))

    def mean_deviation(self, x_min: float = 0.1) -> float:
        """Mean of Δ(x) over x >= x_min (past the earliest, pre-asymptotic part of training)."""
        return float(np.mean(self.deviation[self.x >= x_min]))

    def max_distance(self, reference) -> float:
        """max over sizes and x of |ℓ − reference(x)|, e.g. against the closed-form curve."""
        return float(np.max(np.abs(self.ell - np.asarray(reference, dtype=float)[None, :])))

    def max_relative_distance(self, reference, x_min: float = 0.1) -> float:
        """max over sizes and x >= x_min of |ℓ/reference(x) − 1|."""
        keep = self.x >= x_min
        return float(np.max(np.abs(self.ell[:, keep] / np.asarray(reference, dtype=float)[None, keep] - 1)))

    def compute_grid(self, n: int = 200, k: float = 6.0) -> np.ndarray:
        """Log-spaced computes C = k·p·t spanning every curve of the family."""
        C = k * self.p[:, None] * self.horizon[:, None] * self.x[None, :]
        return np.geomspace(C.min(), C.max(), n)


def collapse_family(law: PowerLawSum, p, gamma: float, x, *, p_ref: float | None = None,
                    offset: float | None = None, k: float = 6.0) -> CollapseFamily:
    """Loss curves L(x·t(p), p) for t(p) ∝ p^gamma, normalized by each curve's final L − offset."""
    p, x = np.asarray(p, dtype=float), np.asarray(x, dtype=float)
    T = horizons(law, p, gamma, p_ref, k)
    R = law.reducible(x[None, :] * T[:, None], p[:, None])
    offset = law.L0 if offset is None else float(offset)
    shift = law.L0 - offset  # L − offset = R + shift, without the round-off of (L0 + R) − L0 when R << L0
    final = law.reducible(T, p) + shift
    if (final <= 0).any():
        raise ValueError(f"the offset {offset:g} is not below every final loss (smallest {law.L0 + final.min():g})")
    ell = (R + shift) / final[:, None]
    return CollapseFamily(p=p, gamma=float(gamma), horizon=T, x=x, loss=law.L0 + R, offset=offset, ell=ell,
                          deviation=collapse_deviation(ell))


FIG5_SIZES = np.logspace(1, 9, 9)  # [Q] Fig. 5b: p = 10^1 ... 10^9


def shifted(gamma: float, shift: float) -> tuple[float, float, float]:
    """(1 − shift)·gamma, gamma, (1 + shift)·gamma: [Q] Fig. 5b uses shift = 0.1."""
    return ((1 - shift) * gamma, gamma, (1 + shift) * gamma)


def gamma_family(law: PowerLawSum, p, gammas, x, **kw) -> tuple[CollapseFamily, ...]:
    """`collapse_family` for each gamma (e.g. 0.9, 1 and 1.1 times gamma*)."""
    return tuple(collapse_family(law, p, g, x, **kw) for g in gammas)


def offset_study(law: PowerLawSum, p, gamma: float, x, fractions=(-0.5, 0.0, 0.5), **kw) -> tuple[CollapseFamily, ...]:
    """Collapse with L0 replaced by L̂ = L0 + f·(L_best − L0) for each f (SPEC §8 offsets; [Q] Fig. 2)."""
    T = horizons(law, p, gamma, kw.get("p_ref"), kw.get("k", 6.0))
    gap = float(law.reducible(T, np.asarray(p, dtype=float)).min())  # the best model's final reducible loss
    return tuple(collapse_family(law, p, gamma, x, offset=law.L0 + f * gap, **kw) for f in fractions)


def gamma_check(law: PowerLawSum, p, predicted: float, quantity: str, k: float = 6.0) -> checks.Check:
    """The fitted gamma* of `law` over the sizes p against `predicted`: no sampling error (nothing is random), the
    drift of the local exponent across p as finite size; local exponents between consecutive sizes for the plot."""
    p = np.asarray(p, dtype=float)
    return checks.exponent_check(quantity, predicted, p, optimal_horizon(law, p, k))


def collapse_check(families: tuple[CollapseFamily, ...], quantity: str) -> checks.Check:
    """The middle family (gamma*) collapses: max Δ = 0 for an exact collapse ([Q] Fig. 5b), nothing to estimate."""
    return checks.Check(quantity=quantity, predicted=0.0, measured=families[1].max_deviation, sampling=0.0,
                        finite_size=0.0)


def selectivity_check(families: tuple[CollapseFamily, ...], quantity: str) -> checks.Check:
    """The middle family (gamma*) collapses tighter than the shifted ones: max Δ below both of theirs."""
    return checks.Check(quantity=quantity, predicted=min(families[0].max_deviation, families[2].max_deviation),
                        measured=families[1].max_deviation, sampling=0.0, finite_size=float("nan"), relation="<")
