"""The bridge: random-feature ladders analysed like trained ladders (SPEC §7–8 and §10; [Q] Fig. 5, [B] Fig. 4).

The random-feature loss behaves as the sum of power laws t^(−(a−1)/b) + N^(−(a−1)), so mu = (a−1)/b, nu = a−1 and
gamma* = nu/mu = b: a ladder trained to t ∝ N^b should collapse. Compute is C = N·t (gradient-flow time t, or
N·samples for SGD); it sits in the long frame's `compute` column in these units, not in PFLOP.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import collapse, frames
from ..analysis.horizon import Horizon, fit_horizon
from . import checks
from . import random_features as rf
from . import sgd
from .fits import LogSlopeFit, fit_log_slope
from .power_laws import CollapseFamily


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
class RFFrontier:
    """The compute-optimal frontier of a width ladder under gradient flow, with its exponents ([B] Fig. 4)."""

    horizon: Horizon  # C*(N) fitted as for trained ladders (SPEC §7); bootstrap over draws
    loss_fit: LogSlopeFit  # L* ∝ C^exponent along the frontier
    loss_se: float  # sampling error of the L* exponent: std of the single-draw frontiers' exponents / √draws
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

    @property
    def kept(self) -> pd.DataFrame:
        """The frontier's grid points the fits use (edge winners dropped)."""
        fr = self.horizon.frontier
        return fr[fr["kept"]]

    @property
    def winners(self) -> tuple[np.ndarray, np.ndarray]:
        """Each kept winner width N and the geometric centre of the computes where it wins: C*(N), point by point."""
        centre = self.kept.groupby("P")["compute"].agg(lambda c: float(np.exp(np.mean(np.log(c)))))
        return centre.index.to_numpy(dtype=float), centre.to_numpy()

    @property
    def gamma_halves(self) -> tuple[float, float]:
        """gamma fitted on the lower and on the upper half of the kept winner widths (the finite-size drift)."""
        k, (N, _) = self.kept, self.winners
        if len(N) < 3:
            return float("nan"), float("nan")
        half = (len(N) + 1) // 2
        fits = []
        for part in (N[:half], N[len(N) - half:]):
            rows = k[k["P"].isin(part)]
            fits.append(float(np.polyfit(np.log(rows["P"]), np.log(rows["compute"]), 1)[0]) - 1)
        return fits[0], fits[1]

    @property
    def loss_halves(self) -> tuple[float, float]:
        """The L* exponent fitted on the lower and on the upper half of the kept frontier points."""
        return checks.window_drift(self.kept["compute"], self.kept["loss"])

    def local_gamma(self) -> tuple[np.ndarray, np.ndarray]:
        """Local gamma between consecutive kept winners: d log C*/d log N − 1 at their geometric midpoints."""
        N, C = self.winners
        mid, slope = checks.pairwise_exponent(N, C)
        return mid, slope - 1

    def exponent_checks(self, a: float, b: float) -> list[checks.Check]:
        """Its four exponents against [B]'s, with sampling (draws) and finite-size (window drift) errors."""
        e = rf.predicted(a, b)
        kept = self.kept
        lo, hi = self.gamma_halves
        drift_g = abs(hi - lo)
        ex = self.horizon.exponent  # 1 + gamma
        loss_x, loss_local = checks.block_exponents(kept["compute"], kept["loss"])
        g_x, g_local = self.local_gamma()
        loss = checks.Check(
            quantity=f"L* ∝ C^-x, (a, b) = ({a:g}, {b:g})", predicted=e.compute_loss,
            measured=-self.loss_fit.exponent, sampling=self.loss_se,
            finite_size=abs(np.subtract(*self.loss_halves)),
            local_x=loss_x, local=-loss_local, window=(self.loss_fit.x_min, self.loss_fit.x_max))
        gamma = checks.Check(
            quantity=f"gamma: t* ∝ N^x, (a, b) = ({a:g}, {b:g})", predicted=e.gamma, measured=self.gamma,
            sampling=self.horizon.gamma_se, finite_size=drift_g, local_x=g_x, local=g_local,
            window=(float(kept["P"].min()), float(kept["P"].max())))
        # N* = C^(1/(1+gamma)), t* = C^(gamma/(1+gamma)): both errors through d/dgamma = ∓1/(1+gamma)².
        (w, w_se), (t, t_se) = self.width_exponent, self.time_exponent
        width = checks.Check(quantity=f"N* ∝ C^x, (a, b) = ({a:g}, {b:g})", predicted=e.compute_width, measured=w,
                             sampling=w_se, finite_size=drift_g / ex ** 2)
        time = checks.Check(quantity=f"t* ∝ C^x, (a, b) = ({a:g}, {b:g})", predicted=e.compute_time, measured=t,
                            sampling=t_se, finite_size=drift_g / ex ** 2)
        return [loss, width, time, gamma]


def rf_frontier(task: rf.Task, widths, t, *, draws: int = 4, seed: int = 0, n_grid: int = 256) -> RFFrontier:
    """Exact population gradient-flow curves of each width, their frontier, and its fitted exponents."""
    return frontier_of(rf.width_ladder(task, widths, t, draws=draws, seed=seed), n_grid=n_grid, seed=seed)


def _loss_exponent(curves: tuple[rf.Curves, ...], n_grid: int) -> float:
    """The L* exponent of the frontier of these curves (no bootstrap)."""
    horizon = fit_horizon(curves_frame(curves), n_grid=n_grid, n_boot=0)
    kept = horizon.frontier[horizon.frontier["kept"]]
    return fit_log_slope(kept["compute"], kept["loss"]).exponent


def frontier_of(curves: tuple[rf.Curves, ...], *, n_grid: int = 256, seed: int = 0) -> RFFrontier:
    """The frontier of any width ladder of curves, fitted as for trained ladders (SPEC §7); `seed`: bootstrap."""
    frame = curves_frame(curves)
    horizon = fit_horizon(frame, n_grid=n_grid, seed=seed)
    kept = horizon.frontier[horizon.frontier["kept"]]
    draws = min(len(c.test) for c in curves)
    if draws > 1:  # each draw of A has a frontier of its own: their spread is the sampling error
        single = [_loss_exponent(tuple(dataclasses.replace(c, test=c.test[d:d + 1], train=None) for c in curves),
                                 n_grid) for d in range(draws)]
        loss_se = float(np.std(single, ddof=1) / np.sqrt(draws))
    else:
        loss_se = float("nan")
    return RFFrontier(horizon=horizon, loss_fit=fit_log_slope(kept["compute"], kept["loss"]), loss_se=loss_se,
                    frame=frame)


def ladder_horizons(front: RFFrontier, widths, gamma: float, N_ref: float | None = None,
                    factor: float = 1.0) -> np.ndarray:
    """t(N) = factor·t*(N_ref)·(N/N_ref)^gamma: exponent gamma, `factor` times compute-optimal at N_ref.

    N_ref defaults to the middle width (geometric mean). For a pure sum of power laws any factor collapses at
    gamma*; factor > 1 (longer training) moves small models out of their pre-asymptotic early times.
    """
    widths = np.asarray(widths, dtype=float)
    N_ref = float(np.exp(np.mean(np.log(widths)))) if N_ref is None else float(N_ref)
    return factor * front.optimal_time(N_ref) * (widths / N_ref) ** gamma


def _draw_losses(task: rf.Task, widths, horizon, x, draws: int, seed: int) -> np.ndarray:
    """(draws, widths, n_x + 1): each draw's gradient-flow loss at x·T(N) and, last, at T(N)."""
    return np.stack([np.stack([rf.spectrum(task, int(N), seed, d).loss(np.append(x * T, T))
                               for N, T in zip(widths, horizon)]) for d in range(draws)])


def _normalized(loss: np.ndarray) -> np.ndarray:
    """ℓ = L/L_final along the last axis (L0 = 0: with M modes the loss vanishes as N, t → ∞)."""
    return loss[..., :-1] / loss[..., -1:]


def gf_collapse(task: rf.Task, widths, horizon, x, *, draws: int = 4, seed: int = 0) -> CollapseFamily:
    """Draw-averaged gradient-flow curves of each width up to its horizon, normalized at the end (L0 = 0)."""
    widths, horizon, x = (np.asarray(v, dtype=float) for v in (widths, horizon, x))
    loss = _draw_losses(task, widths, horizon, x, draws, seed).mean(axis=0)
    ell = _normalized(loss)
    gamma = float(np.polyfit(np.log(widths), np.log(horizon), 1)[0]) if len(widths) > 1 else float("nan")
    return CollapseFamily(p=widths, gamma=gamma, horizon=horizon, x=x, loss=loss[:, :-1], offset=0.0, ell=ell,
                          deviation=collapse.collapse_deviation(ell))


def sgd_eval_steps(steps: int, n: int = 400) -> np.ndarray:
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
        lrs = lr * sgd.multipliers(schedule, steps)
        spec = rf.spectrum(task, int(N), feature_seed, draw)
        losses = sgd.simulate(spec, lrs, B, seeds, key=key * 1_000_003 + int(N))
        idx = sgd_eval_steps(steps, n_evals)
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
    fit: LogSlopeFit  # spread ∝ predictor^exponent on the window; SPEC §8 predicts exponent 1
    window: tuple[float, float]  # the x range of the fit

    @property
    def inside(self) -> np.ndarray:
        return (self.x >= self.window[0]) & (self.x <= self.window[1])


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
    return NoiseScaling(x=x, spread=spread, predictor=pred, fit=fit_log_slope(pred[inside], spread[inside]),
                        window=tuple(window))


@dataclass(frozen=True, eq=False)
class GammaScan:
    """Mean collapse deviation over x in [x_min, 1] of gradient-flow ladders trained to t ∝ N^gamma."""

    gammas: np.ndarray
    mean_deviation: np.ndarray
    x_min: float
    boot_minima: np.ndarray  # `minimum` of scans of the draw-mean curves of draws resampled with replacement

    @property
    def best(self) -> float:
        """The gamma of the tightest collapse on the scanned grid."""
        return float(self.gammas[int(np.argmin(self.mean_deviation))])

    @property
    def resolution(self) -> float:
        """Half the grid spacing around `best`: the precision of the argmin."""
        return float(np.max(np.diff(self.gammas)) / 2) if len(self.gammas) > 1 else float("nan")

    @property
    def minimum(self) -> float:
        """The tightest collapse between grid points: `vertex` of the scan."""
        return vertex(self.gammas, self.mean_deviation)

    @property
    def sampling(self) -> float:
        """Standard error of `minimum` over draws of A (bootstrap); NaN with one draw."""
        return checks.bootstrap_se(self.boot_minima)


def vertex(gammas, deviation) -> float:
    """Minimum of a scan: vertex of the parabola through Δ² at the grid argmin and its two neighbours.

    Δ(x) is a spread across widths, so near the minimum Δ² ≈ c(γ − γ₀)² + floor: quadratic where Δ itself is
    V-shaped. At the edge of the grid, the edge.
    """
    g, d2 = np.asarray(gammas, dtype=float), np.asarray(deviation, dtype=float) ** 2
    i = int(np.argmin(d2))
    if i == 0 or i == len(g) - 1:
        return float(g[i])
    (x0, x1, x2), (y0, y1, y2) = g[i - 1:i + 2], d2[i - 1:i + 2]
    den = (x0 - x1) * (x0 - x2) * (x1 - x2)
    A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
    Bc = (x2 ** 2 * (y0 - y1) + x1 ** 2 * (y2 - y0) + x0 ** 2 * (y1 - y2)) / den
    return float(-Bc / (2 * A))


def gamma_grid(gamma: float, spread: float = 0.3, n: int = 25) -> np.ndarray:
    """n exponents evenly spaced over (1 ± spread)·gamma."""
    return np.linspace((1 - spread) * gamma, (1 + spread) * gamma, n)


def gamma_scan(task: rf.Task, widths, front: RFFrontier, gammas, x, *, draws: int = 4, seed: int = 0,
               x_min: float = 0.1, factor: float = 1.0, n_boot: int = 100) -> GammaScan:
    """Δ averaged over x >= x_min for ladders t(N) = factor·t*(N_ref)(N/N_ref)^gamma, for each gamma.

    The bootstrap resamples the draws of A (`seed` also drives it) and repeats the scan on the resampled means.
    """
    x, gammas = np.asarray(x, dtype=float), np.asarray(gammas, dtype=float)
    losses = np.stack([_draw_losses(task, widths, ladder_horizons(front, widths, g, factor=factor), x, draws, seed)
                       for g in gammas])  # (gammas, draws, widths, n_x + 1)
    inside = x >= x_min

    def scan(weights):
        ell = _normalized(np.einsum("d,gdwx->gwx", weights, losses))
        return (ell.std(axis=1) / ell.mean(axis=1))[:, inside].mean(axis=1)

    rng = np.random.default_rng(seed)
    boots = [vertex(gammas, scan(np.bincount(rng.integers(0, draws, draws), minlength=draws) / draws))
             for _ in range(n_boot if draws > 1 else 0)]
    return GammaScan(gammas=gammas, mean_deviation=scan(np.full(draws, 1 / draws)), x_min=float(x_min),
                     boot_minima=np.asarray(boots))


def gf_collapse_scan(task: rf.Task, widths, front: RFFrontier, gammas, x, *, draws: int = 4, seed: int = 0,
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


def rf_frontiers(pairs, M: int, widths, n_t: int, *, draws: int = 4, seed: int = 0) -> dict[tuple, RFFrontier]:
    """The gradient-flow frontier of the same width ladder for each (a, b)."""
    from .sizes import time_grid

    return {(a, b): rf_frontier(rf.Task(a, b, M), widths, time_grid(b, widths, n_t), draws=draws, seed=seed)
            for a, b in pairs}


def frontier_checks(fronts: dict[tuple, RFFrontier]) -> list[checks.Check]:
    """Every frontier's exponents against [B]'s, four rows per (a, b) ([B] Fig. 4)."""
    return [c for (a, b), f in fronts.items() for c in f.exponent_checks(a, b)]


def frontier_table(fronts: dict[tuple, RFFrontier]) -> pd.DataFrame:
    """Measured against predicted compute-optimal exponents with both errors and a verdict ([B] Fig. 4)."""
    return checks.agreement_table(frontier_checks(fronts))


def noise_scalings(ladders: dict[str, SGDLadder], results: dict[str, collapse.Collapse],
                   window=(0.8, 0.98)) -> dict[str, NoiseScaling]:
    """`noise_scaling` of each schedule's ladder."""
    return {s: noise_scaling(ladders[s], results[s], window) for s in ladders}


def onset_or_nan(result: collapse.Collapse) -> float:
    """The onset of Δ < σ̄ (SPEC §8), NaN when Δ < σ̄ does not hold up to the end."""
    return float("nan") if result.onset is None else float(result.onset)


def supercollapse_summary(results: dict[str, collapse.Collapse], scalings: dict[str, NoiseScaling]) -> pd.DataFrame:
    """Per schedule: mean Δ/σ̄ on SPEC §8's window, the onset of Δ < σ̄, and the noise-scaling exponent."""
    return pd.DataFrame([{
        "schedule": s, "mean Δ/σ̄ (x in 0.5–0.95)": r.window_mean_ratio,
        "onset of Δ < σ̄": onset_or_nan(r),
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
    fit_t = fit_log_slope(t, task.infinite_width_loss(t))
    fit_N = fit_log_slope(widths, rf.final_losses(task, widths, draws=draws, seed=seed))
    return EffectiveExponents(mu=-fit_t.exponent, mu_err=fit_t.stderr, nu=-fit_N.exponent, nu_err=fit_N.stderr)


def independent_ratio(result: collapse.Collapse) -> np.ndarray:
    """Δ/σ̄ at each x if the fluctuation at x is independent of the one at the end (constant learning rate).

    With ℓ ≈ ℓ̄(x)(1 + ψ(x) − ψ(1)) and ψ(x), ψ(1) independent, each width's normalized spread is
    √(σ_p(x)² + σ_p(1)²); pooling widths whose mean curves collapse gives Δ² = mean_p(σ_p(x)² + σ_p(1)²).
    For a noise floor flat in x and alike across widths this is √2·σ̄.
    """
    if not np.isclose(result.x[-1], 1.0):
        raise ValueError("the grid must end at x = 1, where each run is normalized")
    sig = result.sigma
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.nanmean(sig ** 2 + sig[:, -1:] ** 2, axis=0)) / result.sigma_mean


def independent_window_ratio(result: collapse.Collapse) -> float:
    """`independent_ratio` averaged over the collapse window, like `Collapse.window_mean_ratio`."""
    return collapse.window_mean(result.x, independent_ratio(result), result.window)


@dataclass(frozen=True, eq=False)
class SeedBootstrap:
    """The supercollapse summaries recomputed on ladders whose seeds are resampled, width by width."""

    window_ratio: np.ndarray  # (n_boot,) mean Δ/σ̄ over the collapse window
    noise_slope: np.ndarray  # (n_boot,) exponent of the seed spread against sqrt(η(1 − τ̂))

    @property
    def ratio_se(self) -> float:
        return checks.bootstrap_se(self.window_ratio)

    @property
    def slope_se(self) -> float:
        return checks.bootstrap_se(self.noise_slope)


def seed_bootstrap(result: collapse.Collapse, scaling: NoiseScaling, *, n_boot: int = 200,
                   seed: int = 0) -> SeedBootstrap:
    """Resample each width's seeds with replacement and recompute Δ/σ̄ and the noise-scaling slope (`seed`: RNG)."""
    g, rng = result.grid, np.random.default_rng(seed)
    members = [np.flatnonzero(g.size == s) for s in np.unique(g.size)]
    inside = scaling.inside
    ratios, slopes = [], []
    for _ in range(n_boot):
        rows = np.concatenate([rng.choice(m, size=len(m)) for m in members])
        loss, size = g.loss[rows], g.size[rows]
        ell = collapse.normalize(loss, g.L_final[rows], result.L0)
        _, sigma = collapse.noise_floor(loss, size, result.L0)
        _, spread = collapse.noise_floor(ell, size, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = collapse.collapse_deviation(ell) / np.nanmean(sigma, axis=0)
            spread = np.nanmean(spread, axis=0)
        ratios.append(collapse.window_mean(g.x, ratio, result.window))
        slopes.append(fit_log_slope(scaling.predictor[inside], spread[inside]).exponent)
    return SeedBootstrap(window_ratio=np.asarray(ratios), noise_slope=np.asarray(slopes))


def supercollapse_checks(results: dict[str, collapse.Collapse], scalings: dict[str, NoiseScaling], schedule: str, *,
                         n_boot: int = 200, seed: int = 0) -> list[checks.Check]:
    """Δ/σ̄ at constant learning rate (√2) and under `schedule` (< 1), and the decay's noise slope (1; [Q] Fig. 1f)."""
    const, decay = results["const"], results[schedule]
    boot_c = seed_bootstrap(const, scalings["const"], n_boot=n_boot, seed=seed)
    boot_d = seed_bootstrap(decay, scalings[schedule], n_boot=n_boot, seed=seed)
    # Finite size at constant LR: how far the measured noise floor, not flat in x nor alike across widths, moves
    # the independent-fluctuation prediction away from √2.
    indep = independent_window_ratio(const)
    ns = scalings[schedule]
    low, high = checks.window_drift(ns.predictor[ns.inside], ns.spread[ns.inside])
    return [
        checks.Check(quantity="Δ/σ̄, constant learning rate", predicted=float(np.sqrt(2)),
                     measured=const.window_mean_ratio, sampling=boot_c.ratio_se, finite_size=abs(indep - np.sqrt(2))),
        checks.Check(quantity=f"Δ/σ̄, {schedule} decay", predicted=1.0, measured=decay.window_mean_ratio,
                     sampling=boot_d.ratio_se, finite_size=float("nan"), relation="<"),
        checks.Check(quantity=f"noise spread ∝ sqrt(η(1−τ̂))^x, {schedule} decay", predicted=1.0,
                     measured=ns.fit.exponent, sampling=boot_d.slope_se, finite_size=abs(high - low)),
    ]


def plateau_gamma(task: rf.Task, widths, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Local nu(N)/mu from the deterministic-equivalent plateaus at this M: the gamma a ladder near N collapses at."""
    N = np.geomspace(min(widths), max(widths), n)
    mid, slope = checks.pairwise_exponent(N, rf.width_floor_theory(task, N))
    return mid, -slope / rf.predicted(task.a, task.b).mu


def collapse_gamma_check(quantity: str, scan: GammaScan, eff: EffectiveExponents, predicted: float) -> checks.Check:
    """The tightest collapse's gamma against the prediction; finite size: how far the ladder's own nu/mu is from it."""
    return checks.Check(quantity=quantity, predicted=float(predicted), measured=scan.minimum, sampling=scan.sampling,
                        finite_size=abs(eff.gamma - predicted))
