"""The bridge: random-feature ladders analysed like trained ladders (SPEC §7–8 and §10; [Q] Fig. 5, [B] Fig. 4).

The random-feature loss behaves as the sum of power laws t^(−(a−1)/b) + N^(−(a−1)), so mu = (a−1)/b, nu = a−1 and
gamma* = nu/mu = b: a ladder trained to t ∝ N^b should collapse. Compute is C = N·t (gradient-flow time t, or
N·samples for SGD); it sits in the long frame's `compute` column in these units, not in PFLOP.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import collapse, frames
from ..analysis.horizon import Horizon, fit_horizon
from . import random_features as rf
from . import sgd
from .fits import PowerLawFit, fit_power_law
from .power_laws import CollapseFamily, collapse_deviation


def curves_frame(curves: tuple[rf.Curves, ...]) -> pd.DataFrame:
    """Long frame of gradient-flow curves (one run per width and draw; draw -> seed, compute = N·t)."""
    items = []
    for c in curves:
        for d, L in enumerate(c.test):
            keep = c.t > 0
            items.append(({"run": f"N{c.N}-d{d}", "D": c.N, "P": c.N, "seed": d},
                          {"compute": c.N * c.t[keep], "tau": c.t[keep], "loss": L[keep]}))
    return frames.from_curves(items)


@dataclass(frozen=True, eq=False)
class Frontier:
    """The compute-optimal frontier of a width ladder under gradient flow, with its exponents ([B] Fig. 4)."""

    horizon: Horizon  # C*(N) fitted as for trained ladders (SPEC §7); bootstrap over draws
    loss_fit: PowerLawFit  # L* ∝ C^exponent along the frontier
    frame: pd.DataFrame  # the curves

    @property
    def gamma(self) -> float:
        """t*(N) ∝ N^gamma."""
        return self.horizon.gamma

    @property
    def width_exponent(self) -> tuple[float, float]:
        """N* ∝ C^(1/(1+gamma)), with its standard error."""
        e = self.horizon.exponent
        return 1 / e, self.horizon.gamma_se / e ** 2

    @property
    def time_exponent(self) -> tuple[float, float]:
        """t* ∝ C^(gamma/(1+gamma)), with its standard error."""
        e = self.horizon.exponent
        return self.gamma / e, self.horizon.gamma_se / e ** 2

    def optimal_time(self, N) -> np.ndarray:
        """t*(N) = C*(N)/N."""
        N = np.asarray(N, dtype=float)
        return self.horizon.compute(N) / N


def frontier(task: rf.Task, widths, t, *, draws: int = 4, seed: int = 0, n_grid: int = 256) -> Frontier:
    """Exact population gradient-flow curves of each width, their frontier, and its fitted exponents."""
    return frontier_of(rf.width_ladder(task, widths, t, draws=draws, seed=seed), n_grid=n_grid, seed=seed)


def frontier_of(curves: tuple[rf.Curves, ...], *, n_grid: int = 256, seed: int = 0) -> Frontier:
    """The frontier of any width ladder of curves, fitted as for trained ladders (SPEC §7); `seed`: bootstrap."""
    frame = curves_frame(curves)
    horizon = fit_horizon(frame, n_grid=n_grid, seed=seed)
    kept = horizon.frontier[horizon.frontier["kept"]]
    return Frontier(horizon=horizon, loss_fit=fit_power_law(kept["compute"], kept["loss"]), frame=frame)


def ladder_horizons(front: Frontier, widths, gamma: float, N_ref: float | None = None,
                    factor: float = 1.0) -> np.ndarray:
    """t(N) = factor·t*(N_ref)·(N/N_ref)^gamma: exponent gamma, `factor` times compute-optimal at N_ref.

    N_ref defaults to the middle width (geometric mean). For a pure sum of power laws any factor collapses at
    gamma*; factor > 1 (longer training) moves small models out of their pre-asymptotic early times.
    """
    widths = np.asarray(widths, dtype=float)
    N_ref = float(np.exp(np.mean(np.log(widths)))) if N_ref is None else float(N_ref)
    return factor * front.optimal_time(N_ref) * (widths / N_ref) ** gamma


def gf_collapse(task: rf.Task, widths, horizon, x, *, draws: int = 4, seed: int = 0) -> CollapseFamily:
    """Draw-averaged gradient-flow curves of each width up to its horizon, normalized at the end (L0 = 0)."""
    widths, horizon, x = (np.asarray(v, dtype=float) for v in (widths, horizon, x))
    loss = np.stack([np.mean([rf.spectrum(task, int(N), seed, d).loss(np.append(x * T, T)) for d in range(draws)],
                             axis=0) for N, T in zip(widths, horizon)])
    # L0 = 0: with M modes the loss vanishes as N, t → ∞.
    ell = loss[:, :-1] / loss[:, -1:]
    gamma = float(np.polyfit(np.log(widths), np.log(horizon), 1)[0]) if len(widths) > 1 else float("nan")
    return CollapseFamily(p=widths, gamma=gamma, horizon=horizon, x=x, loss=loss[:, :-1], offset=0.0, ell=ell,
                          deviation=collapse_deviation(ell))


def eval_steps(steps: int, n: int = 400) -> np.ndarray:
    """About n evaluation steps: half linearly, half geometrically spaced, plus the first and last (SPEC §6)."""
    lin = np.linspace(0, steps, n // 2)
    geo = np.geomspace(1, steps, n // 2)
    return np.unique(np.concatenate([[0, steps], np.round(lin), np.round(geo)]).astype(int))


@dataclass(frozen=True, eq=False)
class SGDLadder:
    """One-pass SGD runs of a width ladder (widths × seeds) under one schedule, as a long frame."""

    frame: pd.DataFrame  # run, D, P, seed, step, compute (= N·samples), lr, tau, loss, schedule
    widths: np.ndarray
    steps: np.ndarray  # per width
    schedule: str


def sgd_ladder(task: rf.Task, widths, horizon, *, schedule: str = "linear", lr: float = 0.5, B: int = 8,
               seeds=range(8), draw: int = 0, feature_seed: int = 0, key: int = 0, n_evals: int = 400) -> SGDLadder:
    """Simulate one-pass SGD for every width and seed: steps(N) = t(N)/lr, so a constant-LR run reaches time t(N).

    The features A of every width come from (feature_seed, draw); the seeds drive the SGD samples only.
    """
    seeds = np.asarray(list(seeds), dtype=int)
    items, all_steps = [], []
    for N, T in zip(np.asarray(widths, dtype=int), np.asarray(horizon, dtype=float)):
        steps = max(int(round(T / lr)), 1)
        all_steps.append(steps)
        lrs = lr * sgd.schedule(schedule, steps)
        spec = rf.spectrum(task, int(N), feature_seed, draw)
        losses = sgd.simulate(spec, lrs, B, seeds, key=key * 1_000_003 + int(N))
        idx = eval_steps(steps, n_evals)
        tau = np.concatenate([[0.0], np.cumsum(lrs)])[idx]
        lr_at = np.append(lrs, 0.0)[idx]
        for sd, L in zip(seeds, losses):
            items.append(({"run": f"N{N}-s{sd}", "D": int(N), "P": int(N), "seed": int(sd), "schedule": schedule},
                          {"step": idx, "compute": float(N) * B * idx, "lr": lr_at, "tau": tau, "loss": L[idx]}))
    return SGDLadder(frame=frames.from_curves(items), widths=np.asarray(widths), steps=np.asarray(all_steps),
                     schedule=schedule)


@dataclass(frozen=True, eq=False)
class NoiseScaling:
    """Seed-to-seed spread of normalized curves against sqrt(η(x)·(1 − τ̂(x))) near the end (SPEC §8)."""

    x: np.ndarray
    spread: np.ndarray  # mean over widths of std/mean over seeds of ℓ(x)
    predictor: np.ndarray  # sqrt(η(x)/η_peak · (1 − τ̂(x)))
    fit: PowerLawFit  # spread ∝ predictor^exponent on the window; SPEC §8 predicts exponent 1


def seed_spread(result: collapse.Collapse) -> np.ndarray:
    """Mean over widths of the seed-to-seed std/mean of the normalized curves ℓ(x): the noise part of Δ."""
    _, per_size = collapse.noise_floor(result.ell, result.grid.size, 0.0)
    return np.nanmean(per_size, axis=0)


def noise_scaling(ladder: SGDLadder, result: collapse.Collapse, window=(0.8, 0.98)) -> NoiseScaling:
    """Compare the normalized seed spread with sqrt(η(τ̂)(1 − τ̂)) ([Q] Fig. 1f, 8): a straight line of slope 1."""
    x = result.x
    # η and τ̂ are functions of x = step/steps that do not depend on the width; take them from the widest run.
    run = ladder.frame[ladder.frame["run"] == ladder.frame["run"].iloc[-1]]
    u = run["step"].to_numpy() / run["step"].max()
    eta = np.interp(x, u, run["lr"].to_numpy()) / run["lr"].max()
    tau_hat = np.interp(x, u, run["tau"].to_numpy()) / run["tau"].max()
    pred = np.sqrt(np.clip(eta * (1 - tau_hat), 0, None))
    spread = seed_spread(result)
    inside = (x >= window[0]) & (x <= window[1])
    return NoiseScaling(x=x, spread=spread, predictor=pred, fit=fit_power_law(pred[inside], spread[inside]))


@dataclass(frozen=True, eq=False)
class GammaScan:
    """Mean collapse deviation over x in [x_min, 1] of gradient-flow ladders trained to t ∝ N^gamma."""

    gammas: np.ndarray
    mean_deviation: np.ndarray
    x_min: float

    @property
    def best(self) -> float:
        """The gamma of the tightest collapse on the scanned grid."""
        return float(self.gammas[int(np.argmin(self.mean_deviation))])

    @property
    def resolution(self) -> float:
        """Half the grid spacing around `best`: the precision of the argmin."""
        return float(np.max(np.diff(self.gammas)) / 2) if len(self.gammas) > 1 else float("nan")


def gamma_grid(gamma: float, spread: float = 0.3, n: int = 25) -> np.ndarray:
    """n exponents evenly spaced over (1 ± spread)·gamma."""
    return np.linspace((1 - spread) * gamma, (1 + spread) * gamma, n)


def gamma_scan(task: rf.Task, widths, front: Frontier, gammas, x, *, draws: int = 4, seed: int = 0,
               x_min: float = 0.1, factor: float = 1.0) -> GammaScan:
    """Δ averaged over x >= x_min for ladders t(N) = factor·t*(N_ref)(N/N_ref)^gamma, for each gamma."""
    x = np.asarray(x, dtype=float)
    dev = [gf_collapse(task, widths, ladder_horizons(front, widths, g, factor=factor), x, draws=draws, seed=seed)
           .mean_deviation(x_min) for g in gammas]
    return GammaScan(gammas=np.asarray(gammas, dtype=float), mean_deviation=np.asarray(dev), x_min=float(x_min))


def gf_collapse_scan(task: rf.Task, widths, front: Frontier, gammas, x, *, draws: int = 4, seed: int = 0,
                     factor: float = 1.0) -> tuple[CollapseFamily, ...]:
    """`gf_collapse` of ladders t(N) ∝ N^gamma for each gamma (`ladder_horizons` anchors them)."""
    return tuple(gf_collapse(task, widths, ladder_horizons(front, widths, g, factor=factor), x, draws=draws,
                             seed=seed) for g in gammas)


def sgd_ladders(task: rf.Task, widths, horizon, schedules, **kw) -> dict[str, SGDLadder]:
    """`sgd_ladder` under each schedule (same widths, horizons, seeds and samples' streams)."""
    return {s: sgd_ladder(task, widths, horizon, schedule=s, **kw) for s in schedules}


def analyze_ladders(ladders: dict[str, SGDLadder]) -> dict[str, collapse.Collapse]:
    """SPEC §8's collapse analysis of each ladder with the exact L0 = 0."""
    return {s: collapse.analyze(lad.frame, L0=0.0) for s, lad in ladders.items()}


FIG4_PAIRS = ((2.0, 1.0), (2.0, 1.5), (2.0, 2.0))  # [B] Fig. 4: (a, b)


def frontiers(pairs, M: int, widths, n_t: int, *, draws: int = 4, seed: int = 0) -> dict[tuple, Frontier]:
    """The gradient-flow frontier of the same width ladder for each (a, b)."""
    from .sizes import time_grid

    return {(a, b): frontier(rf.Task(a, b, M), widths, time_grid(b, widths, n_t), draws=draws, seed=seed)
            for a, b in pairs}


def frontier_table(fronts: dict[tuple, Frontier]) -> pd.DataFrame:
    """Measured against predicted compute-optimal exponents, one row per exponent and (a, b) ([B] Fig. 4)."""
    rows = []
    for (a, b), f in fronts.items():
        e = rf.predicted(a, b)
        se = f.horizon.gamma_se
        measured = {
            "L* ∝ C^-x": (-f.loss_fit.exponent, f.loss_fit.stderr, e.compute_loss),
            "N* ∝ C^x": (*f.width_exponent, e.compute_width),
            "t* ∝ C^x": (*f.time_exponent, e.compute_time),
            "gamma: t* ∝ N^x": (f.gamma, se, e.gamma),
        }
        for name, (value, err, pred) in measured.items():
            rows.append({"a": a, "b": b, "exponent": name, "predicted": pred, "measured": value, "error": err})
    return pd.DataFrame(rows)


def noise_scalings(ladders: dict[str, SGDLadder], results: dict[str, collapse.Collapse],
                   window=(0.8, 0.98)) -> dict[str, NoiseScaling]:
    """`noise_scaling` of each schedule's ladder."""
    return {s: noise_scaling(ladders[s], results[s], window) for s in ladders}


def onset(result: collapse.Collapse) -> float:
    """The onset of Δ < σ̄ (SPEC §8), NaN when Δ < σ̄ does not hold up to the end."""
    return float("nan") if result.onset is None else float(result.onset)


def supercollapse_summary(results: dict[str, collapse.Collapse], scalings: dict[str, NoiseScaling]) -> pd.DataFrame:
    """Per schedule: mean Δ/σ̄ on SPEC §8's window, the onset of Δ < σ̄, and the noise-scaling exponent."""
    return pd.DataFrame([{
        "schedule": s, "mean Δ/σ̄ (x in 0.5–0.95)": r.window_mean_ratio,
        "onset of Δ < σ̄": onset(r),
        "spread ∝ sqrt(η(1−τ̂))^x": scalings[s].fit.exponent, "error": scalings[s].fit.stderr,
    } for s, r in results.items()])


@dataclass(frozen=True)
class EffectiveExponents:
    """The ladder's own power laws: mu from the infinite-width curve over its horizons, nu from its plateaus."""

    mu: float
    mu_err: float
    nu: float
    nu_err: float

    @property
    def gamma(self) -> float:
        """nu/mu: the exponent whose ladder collapses, by chapter 20's argument."""
        return self.nu / self.mu

    @property
    def gamma_err(self) -> float:
        return self.gamma * float(np.hypot(self.mu_err / self.mu, self.nu_err / self.nu))


def effective_exponents(task: rf.Task, widths, horizon, *, draws: int = 4, seed: int = 0,
                        x_min: float = 0.1) -> EffectiveExponents:
    """Local exponents of time and width over the range a ladder actually spans (finite M and N bend them)."""
    horizon = np.asarray(horizon, dtype=float)
    t = np.geomspace(x_min * horizon.min(), horizon.max(), 60)
    fit_t = fit_power_law(t, task.infinite_width_loss(t))
    fit_N = fit_power_law(widths, rf.final_losses(task, widths, draws=draws, seed=seed))
    return EffectiveExponents(mu=-fit_t.exponent, mu_err=fit_t.stderr, nu=-fit_N.exponent, nu_err=fit_N.stderr)
