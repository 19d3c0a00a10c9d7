"""One-pass SGD on the random-feature model of [B] (its Fig. 3): exact mean loss and direct simulation.

Fresh Gaussian samples every step. In the eigenbasis of the student's feature covariance H = diag(s), a sample
is ξ ~ N(0, I_N): features φ = √s∘ξ and target y = q·ξ + σζ, where σ² = 2·floor is the part of the target no
width-N student can represent; ζ ~ N(0, 1) is independent of ξ because the features are Gaussian. With
e = √s∘ω − q the error in function space (ω = Vᵀw), a step of batch B and learning rate η is
    e ← e − η s∘(1/B)Σ_μ ξ_μ(ξ_μ·e − σζ_μ),   loss = ½‖e‖² + ½σ²,
so each width-N run is an N-dimensional recursion, exact for every draw of A.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schedules import SCHEDULES
from ..schedules import shape as schedule_shape
from . import checks
from .random_features import Spectrum, Task, spectrum


def multipliers(shape: str, steps: int, decay_frac: float = 1.0) -> np.ndarray:
    """Learning-rate multiplier s(step) for step = 0..steps−1: SPEC §5's shapes (`schedules.shape`), no warmup."""
    if shape not in SCHEDULES:
        raise ValueError(f"unknown schedule {shape!r}; valid: {', '.join(SCHEDULES)}")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps={steps!r} must be a positive integer")
    if not 0 < decay_frac <= 1:
        raise ValueError(f"decay_frac={decay_frac!r} must lie in (0, 1]")
    u = np.arange(steps) / steps
    v = np.clip((u - (1 - decay_frac)) / decay_frac, 0, 1)
    return np.asarray(schedule_shape(shape, v.astype(np.float32)), dtype=float)


def _kappa(s: np.ndarray, lr: float, B: int) -> float:
    """κ = (η/B) Σ_i s_i/(2 − ηs_i(1 + 1/B)) of `noise_excess`; inf where a mode's own step overshoots."""
    room = 2 - lr * s * (1 + 1 / B)
    return float(lr / B * np.sum(s / room)) if (room > 0).all() else float("inf")


def stable_lr(spec: Spectrum, B: int) -> float:
    """The largest constant learning rate whose expected SGD loss stays bounded: κ(η) < 1 (`noise_excess`)."""
    lo, hi = 0.0, 2 / (float(spec.s.max()) * (1 + 1 / B))  # κ grows with η and is infinite from hi on
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _kappa(spec.s, mid, B) < 1 else (lo, mid)
    return lo


def _check(lr, B, spec: Spectrum | None = None) -> np.ndarray:
    lr = np.asarray(lr, dtype=float)
    if lr.ndim != 1 or not len(lr) or (lr < 0).any():
        raise ValueError("lr must be a non-empty 1-d array of non-negative per-step learning rates")
    if not (isinstance(B, (int, np.integer)) and B >= 1):
        raise ValueError(f"B={B!r} must be a positive integer")
    # Past κ = 1 the mean loss grows without bound: refuse, rather than draw overflowing curves.
    if spec is not None and _kappa(spec.s, float(lr.max()), B) >= 1:
        raise ValueError(f"lr = {lr.max():g} makes one-pass SGD diverge at batch size {B}, width {len(spec.s)}: "
                         f"valid: lr < {stable_lr(spec, B):.3g} there")
    return lr


def mean_loss(spec: Spectrum, lr, B: int) -> np.ndarray:
    """Exact expected loss of one-pass SGD before each step and after the last (length steps + 1)."""
    lr = _check(lr, B, spec)
    s, sigma2 = spec.s, 2 * spec.floor
    m = spec.q ** 2  # m_i = E[e_i²]
    out = np.empty(len(lr) + 1)
    out[0] = 0.5 * (m.sum() + sigma2)
    # Gaussian fourth moments, E[ĜCĜ] = C + (C + I·Tr C)/B for Ĝ = (1/B)Σξξᵀ, close the diagonal of E[eeᵀ]:
    # m' = m(1 − 2ηs + η²s²(1 + 1/B)) + η²s²(Σm + σ²)/B (the [B] DMFT for Gaussian features, exact at each step).
    for k, eta in enumerate(lr):
        m = m * (1 - 2 * eta * s + eta ** 2 * s ** 2 * (1 + 1 / B)) + eta ** 2 * s ** 2 * (m.sum() + sigma2) / B
        out[k + 1] = 0.5 * (m.sum() + sigma2)
    return out


def simulate(spec: Spectrum, lr, B: int, seeds, *, key: int = 0, chunk: int = 64) -> np.ndarray:
    """Losses (seeds × (steps + 1)) of one-pass SGD; run i draws its samples from the stream (key, seeds[i]).

    NumPy, float64, all seeds advanced together; each seed's stream is its own, so adding seeds leaves the others
    unchanged. (NumPy's Gaussian sampler beats JAX's on a CPU here, and nothing needs compiling per width.)
    """
    lr = _check(lr, B, spec)
    seeds = [int(sd) for sd in np.atleast_1d(seeds)]
    rngs = [np.random.default_rng([key, sd]) for sd in seeds]
    s, sigma, N = spec.s, np.sqrt(2 * spec.floor), len(spec.s)
    e = np.tile(-spec.q, (len(seeds), 1))  # (S, N): error in function space, e = √s∘ω − q, ω(0) = 0
    out = np.empty((len(seeds), len(lr) + 1))
    out[:, 0] = 0.5 * (np.sum(e * e, axis=1) + sigma ** 2)
    for start in range(0, len(lr), chunk):
        etas = lr[start:start + chunk]
        noise = np.stack([g.standard_normal((len(etas), B, N + 1)) for g in rngs])  # (S, K, B, N + 1)
        for k, eta in enumerate(etas):
            xi, zeta = noise[:, k, :, :N], noise[:, k, :, N]  # (S, B, N), (S, B)
            r = np.einsum("sbn,sn->sb", xi, e) - sigma * zeta  # per-sample residual ξ·e − σζ
            e -= (eta / B) * s * np.einsum("sbn,sb->sn", xi, r)
            out[:, start + k + 1] = 0.5 * (np.sum(e * e, axis=1) + sigma ** 2)
    return out


def full_batch_loss(spec: Spectrum, lr: float, steps) -> np.ndarray:
    """Loss of full-batch gradient descent at constant lr after each of `steps` steps (B → ∞ in `mean_loss`)."""
    steps = np.asarray(steps, dtype=float)
    # Mode i contracts by (1 − η s_i) per step: L_k = floor + ½ Σ_i q_i² (1 − η s_i)^(2k).
    return spec.floor + 0.5 * np.abs(1 - lr * spec.s[None, :]) ** (2 * steps[:, None]) @ spec.q ** 2


def noise_excess(spec: Spectrum, lr: float, B: int, t: float | None = None) -> float:
    """Late-time relative excess of E[L_SGD] over the noiseless loss at constant learning rate: κ/(1 − κ).

    From `mean_loss`'s recursion, the noise part n_i of E[e_i²] obeys n_i' = n_i(1 − ηs_i)² + η²s_i²(n_i + 2L)/B.
    Once mode i has equilibrated (s_i t >> 1) and L varies slowly, n_i = η s_i·2L / (B(2 − ηs_i(1 + 1/B))), so
    ½Σn_i = κL with κ = (η/B) Σ_i s_i/(2 − ηs_i(1 + 1/B)); since L itself includes the excess,
    L = L_noiseless/(1 − κ). For small η s_i, κ ≈ η Tr H/(2B). The sum runs over all modes (for b > 1 the top
    ones, equilibrated first, dominate Tr H); with `t`, each mode counts with the fraction 1 − e^(−2 s_i t) of its
    equilibrium it has reached by time t.
    """
    _check(np.array([lr], dtype=float), B, spec)
    reached = 1.0 if t is None else -np.expm1(-2 * spec.s * t)
    kappa = lr / B * float(np.sum(reached * spec.s / (2 - lr * spec.s * (1 + 1 / B))))
    return kappa / (1 - kappa)


@dataclass(frozen=True, eq=False)
class SGDCurves:
    """One-pass SGD at width N and batch B beside gradient flow, at times t = lr·step ([B] Fig. 3)."""

    N: int | None
    B: int
    lr: float
    t: np.ndarray  # (n,) gradient-flow time lr·step of each evaluation
    gradient_flow: np.ndarray  # (n,) population gradient flow at t
    full_batch: np.ndarray  # (n,) full-batch gradient descent with the same steps: the discretization alone
    mean: np.ndarray  # (n,) exact expected SGD loss
    runs: np.ndarray  # (seeds, n) simulated SGD losses
    predicted_excess: float  # `noise_excess`: the late-time relative excess the closed form predicts
    excess_uncertainty: float  # the part of it from modes not yet equilibrated at the end: its finite-time error

    @property
    def mean_excess(self) -> float:
        """max over t of |E[L_SGD]/L_GF − 1|: how far noise and discrete steps together move the mean."""
        return float(np.max(np.abs(self.mean / self.gradient_flow - 1)))

    @property
    def final_excess(self) -> float:
        """E[L_SGD]/L_GD − 1 at the last evaluation: the noise part, to compare with `predicted_excess`."""
        return float(self.mean[-1] / self.full_batch[-1] - 1)

    @property
    def step_excess(self) -> float:
        """max over t of |L_GD/L_GF − 1|: discrete steps run ahead of gradient flow, whatever the batch size."""
        return float(np.max(np.abs(self.full_batch / self.gradient_flow - 1)))

    @property
    def final_spread(self) -> float:
        """std/mean over seeds of the final loss: the variance SGD adds."""
        return float(self.runs[:, -1].std() / self.runs[:, -1].mean()) if len(self.runs) > 1 else float("nan")


def sgd_curves(task: Task, N: int | None, B: int, *, lr: float, t_max: float, seeds=range(4), seed: int = 0,
               draw: int = 0, key: int = 0, n_evals: int = 120) -> SGDCurves:
    """Constant-LR one-pass SGD up to time t_max: exact mean, simulated seeds, full-batch GD and gradient flow."""
    spec = spectrum(task, N, seed, draw)
    steps = max(int(round(t_max / lr)), 1)
    lrs = np.full(steps, float(lr))
    idx = np.unique(np.round(np.geomspace(1, steps, n_evals)).astype(int))
    seeds = list(seeds)
    runs = simulate(spec, lrs, B, seeds, key=key)[:, idx] if seeds else np.empty((0, len(idx)))
    return SGDCurves(N=N, B=int(B), lr=float(lr), t=lr * idx, gradient_flow=spec.loss(lr * idx),
                     full_batch=full_batch_loss(spec, float(lr), idx), mean=mean_loss(spec, lrs, B)[idx], runs=runs,
                     predicted_excess=noise_excess(spec, float(lr), B),
                     excess_uncertainty=noise_excess(spec, float(lr), B) - noise_excess(spec, float(lr), B, lr * steps))


def sgd_grid(task: Task, widths, batches, **kw) -> tuple[SGDCurves, ...]:
    """`sgd_curves` for every width × batch size."""
    return tuple(sgd_curves(task, N, B, **kw) for N in widths for B in batches)


def noise_excess_check(curves: SGDCurves) -> checks.Check:
    """The late-time noise excess against `noise_excess`: the mean is exact (no sampling error); the finite-time
    error is the closed form's share from modes that have not equilibrated by the end."""
    return checks.Check(quantity=f"late SGD excess E[L]/L_GD − 1, N = {curves.N}, B = {curves.B}",
                        predicted=curves.predicted_excess, measured=curves.final_excess, sampling=0.0,
                        finite_size=curves.excess_uncertainty)
