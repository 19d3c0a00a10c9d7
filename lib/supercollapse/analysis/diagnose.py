"""The collapse diagnostic for a researcher's own ladder (beyond [Q]): does it collapse, and does it supercollapse?

Verdict, from the mean of Δ/σ̄ over the window (default x in [0.5, 0.95]; SPEC §8):
- "supercollapse": ratio < 1. Sizes differ less than one run differs from its own seed-mates ([Q] Fig. 1c).
- "collapse": 1 <= ratio < 3. Sizes differ by about the seed noise. Without a control variate (constant LR,
  [Q] Fig. 3) ℓ(x) carries the noise at x and at the final point, so a perfect collapse of the mean gives
  Δ/σ̄ up to √2 (uncorrelated noise), and a ddof-0 σ from 3–5 seeds runs 15–30% low, so up to about 2 from
  noise alone; 3 leaves that margin while a systematic size-dependent deviation d stays below about 2.8σ
  (Δ² ≈ σ² + d²).
- "no collapse": ratio >= 3. A size-dependent shape dominates the noise ([Q] Fig. 4: no µP, wrong gamma).

The ratio carries a jackknife error over runs (`collapse.ratio_jackknife`; a seed bootstrap shrinks σ), with L0
held and, for a fitted L0, with L0 refitted in each replicate (the error of the L0 fit included). A
ladder whose final compute does not grow with size is refused (the L0 fit and the claim both need C_final rising
with P) unless the caller accepts it; final tokens that do not grow with size (an equal-step ladder, not
compute-optimal), 2 seeds per size, an L0 at its bound 0 and an interval spanning a verdict threshold are reported.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import flops
from . import collapse, frames, published, spread

SUPERCOLLAPSE_BELOW = 1.0
COLLAPSE_BELOW = 3.0
REPORT_X = tuple(round(0.1 * k, 1) for k in range(1, 10))  # x = 0.1 ... 0.9
EXTENSIONS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet", ".pkl": "pickle", ".pickle": "pickle"}
COLUMNS = "a size column (P or D), seed, compute [PFLOP] (or tokens, with P), loss; one row per evaluation"
MIN_IN_WINDOW = 2  # evaluations of each run inside the window: fewer, and Δ there is read off points outside it
FEW_SEEDS = 3  # below it, a warning: a ddof-0 σ of 2 seeds averages σ/√π, 44% low, so Δ/σ̄ reads high


class DiagnoseError(ValueError):
    """Input the diagnostic cannot analyse; the message names what is wrong and what is valid."""


def read_ladder(path) -> pd.DataFrame:
    """Read a long-format CSV or Parquet ladder, or an explicitly named authors'-format pickle (runs its code)."""
    path = Path(path)
    if path.is_dir():
        raise DiagnoseError(f"{path} is a directory; valid: a file ({', '.join(EXTENSIONS)})")
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise DiagnoseError(f"{path}: unknown file type {path.suffix or '(none)'!r}; valid: {', '.join(EXTENSIONS)}")
    if not path.is_file():
        raise DiagnoseError(f"{path}: no such file")
    if kind == "pickle":
        try:
            return published.load_published(path)
        except published.PublishedLogError as e:
            raise DiagnoseError(str(e)) from None
    try:
        raw = pd.read_csv(path) if kind == "CSV" else pd.read_parquet(path)
    except Exception as e:  # the readers raise many types; any of them means the file cannot be read
        raise DiagnoseError(f"{path}: cannot read it as {kind} ({type(e).__name__}: {e})") from None
    frame = ladder_frame(raw, name=str(path))
    frame.attrs["source"] = str(path)
    return frame


def _numbers(frame: pd.DataFrame, col: str, name: str, *, positive: bool) -> np.ndarray:
    """Column `col` as finite floats (> 0 or >= 0); DiagnoseError naming the first bad rows otherwise."""
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | ((values <= 0) if positive else (values < 0))
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(f"{i} ({frame[col].iloc[i]})" for i in rows[:5]) + (" ..." if len(rows) > 5 else "")
        raise DiagnoseError(f"{name}: {len(rows)} non-finite, non-numeric or out-of-range value(s) in column {col!r}, "
                            f"at data row(s) {shown} (counting from 0); every {col} must be a finite number "
                            f"{'> 0' if positive else '>= 0'}")
    return values


def ladder_frame(raw: pd.DataFrame, name: str = "the ladder") -> pd.DataFrame:
    """Bring a user's long table to the long frame: size P or D, seed, compute (or tokens with P), loss."""
    cols = set(raw.columns)
    missing = [c for c in ("seed", "loss") if c not in cols]
    if not cols & {"P", "D"}:
        missing.insert(0, "P or D")
    if not cols & {"compute", "tokens"}:
        missing.append("compute or tokens")
    if missing:
        raise DiagnoseError(f"{name}: missing column(s) {', '.join(missing)}; valid input has {COLUMNS}")
    if "compute" not in cols and "P" not in cols:
        raise DiagnoseError(f"{name}: tokens become compute only with P (compute = 6·P·tokens / 1e15 PFLOP); "
                            "add a P column or a compute column")
    frame = raw.copy().reset_index(drop=True)
    for col in ("P", "D", "compute", "tokens", "loss"):
        if col in cols:
            frame[col] = _numbers(frame, col, name, positive=col in ("P", "D", "loss"))
    unseeded = np.flatnonzero(frame["seed"].isna().to_numpy())
    if len(unseeded):
        raise DiagnoseError(f"{name}: column 'seed' is empty in {len(unseeded)} row(s) (data rows "
                            f"{', '.join(map(str, unseeded[:5]))}{' ...' if len(unseeded) > 5 else ''}); every row "
                            "names the seed of its run")
    if "compute" not in cols:
        frame["compute"] = flops.pflop(frame["P"], frame["tokens"])
    if "run" not in cols:
        size = "P" if "P" in cols else "D"
        frame["run"] = [f"{size}={s:g}/seed={r}" for s, r in zip(frame[size], frame["seed"])]
    return frame


def _rising(per_size: pd.Series) -> bool:
    """Whether a per-size quantity grows strictly from each size to the next (beyond float rounding)."""
    v = per_size.to_numpy(dtype=float)
    return bool((np.diff(v) > 1e-6 * np.abs(v[1:])).all())


def _check_shape(frame: pd.DataFrame, window, allow_flat_compute: bool) -> list[str]:
    """Refuse a ladder the diagnostic cannot judge; the warnings for one it can judge with reservations."""
    size = frames.size_column(frame)
    short = []
    for r in frames.curves(frame):
        x = r.compute / r.compute[-1]
        if ((x >= window[0] - 1e-12) & (x <= window[1] + 1e-12)).sum() < MIN_IN_WINDOW:
            short.append(r.run)
    if short:
        raise DiagnoseError(f"{len(short)} run(s) ({', '.join(short[:3])}{' ...' if len(short) > 3 else ''}) have "
                            f"fewer than {MIN_IN_WINDOW} evaluations with x = C/C_final in the window "
                            f"[{window[0]:g}, {window[1]:g}]; evaluate more often, or widen --window")
    final = frames.final_points(frame)
    warnings = []
    # Per size, the seed-mean final compute and final tokens (or steps; or C/P, tokens up to a constant).
    tokens = next((c for c in ("tokens", "step") if c in final.columns), None)
    if tokens is None and size == "P":
        final = final.assign(tokens_per_P=final["compute"] / final["P"])
        tokens = "tokens_per_P"
    C_end = final.groupby(size, sort=True)["compute"].mean()
    T_end = final.groupby(size, sort=True)[tokens].mean() if tokens else None
    if not _rising(C_end):
        what = ", ".join(f"{size} = {s:g}: {c:.3g}" for s, c in C_end.items())
        if not allow_flat_compute:
            raise DiagnoseError(f"the final compute (PFLOP) does not grow with size ({what}): not a compute-optimal "
                                "ladder, and the L0 fit needs C_final rising with size; train larger sizes longer, "
                                "or pass --allow-flat-compute (and --L0 VALUE) to analyse it anyway")
        warnings.append(f"the final compute does not grow with size ({what}): not a compute-optimal ladder, so "
                        "[Q]'s (super)collapse is not expected")
    elif T_end is not None and not _rising(T_end):
        warnings.append(f"the final {'tokens (C/P)' if tokens == 'tokens_per_P' else tokens} do not grow with size: "
                        "an equal-step ladder is not compute-optimal ([Q] trains each size to T ∝ P^gamma), so the "
                        "verdict compares shapes; it does not test the compute-optimal ladder's supercollapse")
    n_seeds = int(frame.groupby(size)["seed"].nunique().min())
    if n_seeds < FEW_SEEDS:
        warnings.append(f"only {n_seeds} seeds at some size: σ from {n_seeds} seeds runs low (44% at 2), so Δ/σ̄ "
                        f"reads high; use {FEW_SEEDS} or more")
    return warnings


@dataclass(frozen=True)
class Report:
    """What `supercollapse diagnose` prints: the L0 fit, Δ and σ̄ at x = 0.1…0.9, the window summary, a verdict."""

    L0: float
    a: float | None  # None when L0 was given
    b: float | None
    L0_source: str  # "fit" or "given"
    x: tuple[float, ...]
    delta: tuple[float, ...]
    sigma_mean: tuple[float, ...]
    sigma_min: tuple[float, ...]
    sigma_max: tuple[float, ...]
    window: tuple[float, float]
    window_mean_ratio: float
    onset: float | None
    verdict: str
    size_column: str
    sizes: tuple[float, ...]
    n_runs: int
    n_seeds: int  # fewest seeds of any size
    cross_rms: float  # Δ² split over the window (spread.decomposition): the cross-size part, as an rms
    within_rms: float  # ... and the within-size (seed) part
    ratio_se: float  # jackknife over runs of window_mean_ratio (`collapse.ratio_jackknife`, L0 held)
    ratio_ci: tuple[float, float]  # its 95% interval
    ratio_se_refit: float | None  # the same jackknife with L0 refitted in each replicate; None when L0 was given
    ratio_ci_refit: tuple[float, float] | None
    L0_at_bound: bool  # the fitted L0 sits at its lower bound 0: the fit found no irreducible loss
    warnings: tuple[str, ...]  # what makes the verdict less than it seems (module docstring)
    gain: tuple[float, ...] | None = None  # with a constant-LR reference: the decay gain per size
    gain_se: tuple[float, ...] | None = None
    gain_p_value: float | None = None
    gain_varies: bool | None = None

    def to_dict(self) -> dict:
        """Plain dict: tuples become lists, NaN becomes None (valid JSON)."""
        def clean(v):
            if isinstance(v, (tuple, list)):
                return [clean(u) for u in v]
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v
        return {k: clean(v) for k, v in asdict(self).items()}

    def to_json(self) -> str:
        """One JSON object with keys L0, a, b, x, delta, sigma_mean, window_mean_ratio, onset, verdict, ...."""
        return json.dumps(self.to_dict())

    def to_table(self) -> str:
        """A readable text table."""
        def num(v, fmt=".4g"):
            return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)

        fit = f"a = {num(self.a)}, b = {num(self.b)}" if self.L0_source == "fit" else "given"
        bound = ("; at its lower bound 0: the fit found no irreducible loss, so each curve is divided by its whole "
                 "loss (try --L0 VALUE)") if self.L0_at_bound else ""
        lines = [
            f"ladder: {len(self.sizes)} sizes ({self.size_column} = {', '.join(num(s) for s in self.sizes)}), "
            f"{self.n_runs} runs, >= {self.n_seeds} seeds per size",
            f"L0 = {num(self.L0, '.6g')}  ({fit}; L = a·C^(-b) + L0, C in PFLOP{bound})",
            "",
            f"{'x':>5}  {'delta':>10}  {'sigma_mean':>10}  {'sigma_min':>10}  {'sigma_max':>10}  {'delta/sigma':>11}",
        ]
        for x, d, s, lo, hi in zip(self.x, self.delta, self.sigma_mean, self.sigma_min, self.sigma_max):
            lines.append(f"{x:>5.2f}  {num(d):>10}  {num(s):>10}  {num(lo):>10}  {num(hi):>10}  "
                         f"{num(d / s if s else float('nan'), '.3g'):>11}")
        lines += [
            "",
            f"mean delta/sigma on x in [{self.window[0]:g}, {self.window[1]:g}]: {num(self.window_mean_ratio, '.3g')} "
            f"± {num(self.ratio_se, '.2g')} (jackknife over runs, 95%: {num(self.ratio_ci[0], '.3g')} to "
            f"{num(self.ratio_ci[1], '.3g')})",
            *([f"  ± {num(self.ratio_se_refit, '.2g')} with L0 refitted in each replicate (95%: "
               f"{num(self.ratio_ci_refit[0], '.3g')} to {num(self.ratio_ci_refit[1], '.3g')})"]
              if self.ratio_se_refit is not None else []),
            f"onset (delta < sigma from here to x = {collapse.ONSET_UPTO:g}): {num(self.onset, '.2f')}",
            f"verdict: {self.verdict}",
            f"where the spread comes from (rms over the window): cross-size {num(self.cross_rms, '.3g')}, "
            f"within-size {num(self.within_rms, '.3g')}",
        ]
        if self.gain is not None:
            lines.append("decay gain 1 - L_decay(end)/L_const(same tau) per size: " + ", ".join(
                f"{num(s)}: {num(g, '.3f')} ± {num(e, '.1g')}" for s, g, e in zip(self.sizes, self.gain, self.gain_se)))
            if self.gain_varies:
                lines.append(f"warning: the decay gain varies across sizes more than its seed spread allows "
                             f"(p = {num(self.gain_p_value, '.2g')} < {spread.GAIN_VARIES_P:g}): each size's curve "
                             "is rescaled differently late in training, which no L0 can collapse; train sizes where "
                             "the gain is flat (see the book's chapter 'When supercollapse fails')")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def verdict(window_mean_ratio: float) -> str:
    """supercollapse below 1, collapse below 3, else no collapse (thresholds justified in the module docstring)."""
    if window_mean_ratio < SUPERCOLLAPSE_BELOW:
        return "supercollapse"
    if window_mean_ratio < COLLAPSE_BELOW:
        return "collapse"
    return "no collapse"


def diagnose(frame: pd.DataFrame, L0: float | str = "auto", window=collapse.WINDOW,
             reference: pd.DataFrame | None = None, *, allow_flat_compute: bool = False) -> Report:
    """Fit L0 (or take it), normalize each run by its own final loss, compare Δ with σ̄, and give a verdict.

    `reference`: the constant-LR twin ladder (same sizes and seeds, a `tau` column in both), for the decay gain.
    `allow_flat_compute`: analyse a ladder whose final compute does not grow with size (with a warning).
    """
    if not isinstance(frame, pd.DataFrame):
        raise DiagnoseError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if "compute" not in frame.columns or "run" not in frame.columns:
        frame = ladder_frame(frame)
    try:
        window = (float(window[0]), float(window[1]))
    except (TypeError, ValueError, IndexError):
        raise DiagnoseError(f"window must be two numbers, got {window!r}") from None
    if not 0 < window[0] < window[1] <= 1:
        raise DiagnoseError(f"window must satisfy 0 < start < end <= 1, got {window}")
    if isinstance(L0, str) and L0 != "auto":
        try:
            L0 = float(L0)
        except ValueError:
            raise DiagnoseError(f"L0 must be 'auto' or a number, got {L0!r}") from None
    try:
        frame = frames.validate(frame, min_sizes=2, min_seeds=2)
    except ValueError as e:
        raise DiagnoseError(f"{e}; valid input has {COLUMNS}, at least 2 sizes and 2 seeds per size") from None
    warnings = _check_shape(frame, window, allow_flat_compute)
    try:
        result = collapse.analyze(frame, L0, window=window)
    except ValueError as e:  # L0 not below a final loss, too few sizes to fit L0
        raise DiagnoseError(str(e)) from None
    if not math.isfinite(result.window_mean_ratio):
        raise DiagnoseError("the noise floor is zero or undefined in the window: are the seeds' curves identical?")
    boot = collapse.ratio_jackknife(result)
    refit = collapse.ratio_jackknife(result, refit=True) if result.fit is not None else None
    crossed = [t for t in (SUPERCOLLAPSE_BELOW, COLLAPSE_BELOW) if boot.ci[0] < t <= boot.ci[1]]
    if crossed:
        warnings.append(f"the 95% interval of Δ/σ̄ spans the verdict threshold {crossed[0]:g}: "
                        "more seeds would settle the verdict")
    at_bound = result.fit is not None and result.fit.L0 <= 1e-9 * float(result.grid.L_final.min())
    idx = [int(np.argmin(np.abs(result.x - x))) for x in REPORT_X]
    pick = lambda v: tuple(float(v[i]) for i in idx)  # noqa: E731
    size = frames.size_column(frame)
    split = spread.decomposition(result)
    gain = {}
    if reference is not None:
        if "compute" not in reference.columns or "run" not in reference.columns:
            reference = ladder_frame(reference, "the reference ladder")
        try:
            g = spread.decay_gain(frame, reference)
        except ValueError as e:
            raise DiagnoseError(f"reference ladder: {e}") from None
        per = g.per_size.set_index(g.size_column).reindex(result.sizes)
        gain = dict(gain=tuple(map(float, per["gain"])), gain_se=tuple(map(float, per["gain_se"])),
                    gain_p_value=g.p_value, gain_varies=g.varies)
    return Report(
        L0=float(result.L0),
        a=None if result.fit is None else result.fit.a,
        b=None if result.fit is None else result.fit.b,
        L0_source="given" if result.fit is None else "fit",
        x=REPORT_X,
        delta=pick(result.delta),
        sigma_mean=pick(result.sigma_mean),
        sigma_min=pick(result.sigma_min),
        sigma_max=pick(result.sigma_max),
        window=window,
        window_mean_ratio=float(result.window_mean_ratio),
        onset=result.onset,
        verdict=verdict(result.window_mean_ratio),
        size_column=size,
        sizes=tuple(float(s) for s in result.sizes),
        n_runs=len(result.grid.runs),
        n_seeds=int(frame.groupby(size)["seed"].nunique().min()),
        cross_rms=split.cross_rms,
        within_rms=split.within_rms,
        ratio_se=boot.se,
        ratio_ci=boot.ci,
        ratio_se_refit=None if refit is None else refit.se,
        ratio_ci_refit=None if refit is None else refit.ci,
        L0_at_bound=at_bound,
        warnings=tuple(warnings),
        **gain,
    )


def sigma_bias(n_seeds: int) -> float:
    """E[ddof-0 std of n normal draws] / their true std: sqrt((n−1)/n)·c4(n), 1/√π at n = 2."""
    if n_seeds < 2:
        raise ValueError(f"n_seeds must be at least 2, got {n_seeds}")
    n = n_seeds
    c4 = math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))
    return math.sqrt((n - 1) / n) * c4


def noise_only_ratio(n_seeds: int) -> float:
    """Δ/σ̄ of a perfectly collapsing mean without a control variate: √2 (noise at x and at the end), over the
    low bias of a ddof-0 σ from `n_seeds` seeds (module docstring: why COLLAPSE_BELOW is 3)."""
    return math.sqrt(2) / sigma_bias(n_seeds)


def largest_systematic() -> float:
    """The size-dependent deviation d, in units of σ, that still reads "collapse": Δ² ≈ σ² + d² < COLLAPSE_BELOW²σ²."""
    return math.sqrt(COLLAPSE_BELOW**2 - 1)


def example_ladder(sizes=(1e4, 2e4, 4e4, 8e4, 1.6e5), seeds=range(5), *, n_evals: int = 60, L0: float = 0.1,
                   mu: float = 0.4, nu: float = 0.5, noise: float = 0.01, lr_noise: float = 0.3,
                   B: int = 1024, T_first: float = 2e6, rng_seed: int = 0) -> pd.DataFrame:
    """A synthetic compute-optimal ladder with linear decay, in the diagnostic's long format (columns P, seed, step,
    tokens, compute [PFLOP], loss): what a ladder file looks like, with a known answer.

    Loss L0 + R·(1 + lr_noise·s + ψ): the reducible part R = 30·τ̃^(−mu) + 10·P^(−nu) is a sum of power laws in the
    tokens τ̃ = τ/η_peak and P, trained to T(P) = T_first·(P/P_first)^(nu/mu), where it collapses exactly (SPEC §10);
    lr_noise·s, with s = 1 − t/T the linear-decay multiplier, is the SGD-noise term ∝ η (SPEC §9); ψ, the seed's
    relative fluctuation, is a random walk of scale `noise` in τ/τ_final, so the noise left after x shrinks as decay
    freezes it: ℓ loses what a run shares with its own end (SPEC §8), and Δ falls below σ̄. `rng_seed` draws ψ.
    """
    rng = np.random.default_rng(rng_seed)
    gamma = nu / mu
    parts = []
    for P in sizes:
        T = T_first * (P / sizes[0]) ** gamma
        steps = max(int(round(T / B)), n_evals)
        at = np.unique(np.r_[np.geomspace(1, steps, n_evals // 2), np.linspace(1, steps, n_evals - n_evals // 2)]
                       .round().astype(int))
        t = at * B  # tokens seen after each evaluated step
        s = 1 - at / steps  # linear decay to zero
        tau = np.cumsum(1 - np.arange(steps) / steps)[at - 1] * B  # τ/η_peak in tokens
        reducible = 30 * tau ** -mu + 10 * P ** -nu
        frac = tau / tau[-1]
        for seed in seeds:
            psi = noise * np.cumsum(rng.normal(size=len(at)) * np.sqrt(np.diff(frac, prepend=0.0)))
            loss = L0 + reducible * (1 + lr_noise * s + psi)
            parts.append(pd.DataFrame({"P": P, "seed": seed, "step": at, "tokens": t,
                                       "compute": 6 * P * t / 1e15, "loss": loss}))
    return pd.concat(parts, ignore_index=True)
