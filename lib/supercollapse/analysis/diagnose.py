"""The collapse diagnostic for a researcher's own ladder (beyond [Q]): does it collapse, and does it supercollapse?

Verdict, from the mean of Δ/σ̄ over the window (default x in [0.5, 0.95]; SPEC §8):
- "supercollapse": ratio < 1. Sizes differ less than one run differs from its own seed-mates ([Q] Fig. 1c).
- "collapse": 1 <= ratio < 3. Sizes differ by about the seed noise. Without a control variate (constant LR,
  [Q] Fig. 3) ℓ(x) carries the noise at x and at the final point, so a perfect collapse of the mean gives
  Δ/σ̄ up to √2 (uncorrelated noise), and a ddof-0 σ from 3–5 seeds runs 15–30% low, so up to about 2 from
  noise alone; 3 leaves that margin while a systematic size-dependent deviation d stays below about 2.8σ
  (Δ² ≈ σ² + d²).
- "no collapse": ratio >= 3. A size-dependent shape dominates the noise ([Q] Fig. 4: no µP, wrong gamma).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import collapse, frames, published, spread

SUPERCOLLAPSE_BELOW = 1.0
COLLAPSE_BELOW = 3.0
REPORT_X = tuple(round(0.1 * k, 1) for k in range(1, 10))  # x = 0.1 ... 0.9
EXTENSIONS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet", ".pkl": "pickle", ".pickle": "pickle"}
COLUMNS = "a size column (P or D), seed, compute [PFLOP] or tokens, loss; one row per evaluation"


class DiagnoseError(ValueError):
    """Input the diagnostic cannot analyse; the message names what is wrong and what is valid."""


def read_ladder(path) -> pd.DataFrame:
    """Read a long-format CSV or Parquet ladder, or an explicitly named authors'-format pickle (runs its code)."""
    path = Path(path)
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
    return ladder_frame(raw, name=str(path))


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
    frame = raw.copy()
    if "compute" not in cols:
        if "P" not in cols:
            raise DiagnoseError(f"{name}: tokens become compute only with P (compute = 6·P·tokens); add P or compute")
        frame["compute"] = 6 * pd.to_numeric(frame["P"], errors="coerce") * pd.to_numeric(frame["tokens"], errors="coerce") / 1e15
    if "run" not in cols:
        size = "P" if "P" in cols else "D"
        frame["run"] = [f"{size}={s}/seed={r}" for s, r in zip(frame[size], frame["seed"])]
    return frame


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
        lines = [
            f"ladder: {len(self.sizes)} sizes ({self.size_column} = {', '.join(num(s) for s in self.sizes)}), "
            f"{self.n_runs} runs, >= {self.n_seeds} seeds per size",
            f"L0 = {num(self.L0, '.6g')}  ({fit}; L = a·C^(-b) + L0, C in PFLOP)",
            "",
            f"{'x':>5}  {'delta':>10}  {'sigma_mean':>10}  {'sigma_min':>10}  {'sigma_max':>10}  {'delta/sigma':>11}",
        ]
        for x, d, s, lo, hi in zip(self.x, self.delta, self.sigma_mean, self.sigma_min, self.sigma_max):
            lines.append(f"{x:>5.2f}  {num(d):>10}  {num(s):>10}  {num(lo):>10}  {num(hi):>10}  "
                         f"{num(d / s if s else float('nan'), '.3g'):>11}")
        lines += [
            "",
            f"mean delta/sigma on x in [{self.window[0]:g}, {self.window[1]:g}]: {num(self.window_mean_ratio, '.3g')}",
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
        return "\n".join(lines)


def verdict(window_mean_ratio: float) -> str:
    """supercollapse below 1, collapse below 3, else no collapse (thresholds justified in the module docstring)."""
    if window_mean_ratio < SUPERCOLLAPSE_BELOW:
        return "supercollapse"
    if window_mean_ratio < COLLAPSE_BELOW:
        return "collapse"
    return "no collapse"


def diagnose(frame: pd.DataFrame, L0: float | str = "auto", window=collapse.WINDOW,
             reference: pd.DataFrame | None = None) -> Report:
    """Fit L0 (or take it), normalize each run by its own final loss, compare Δ with σ̄, and give a verdict.

    `reference`: the constant-LR twin ladder (same sizes and seeds, a `tau` column in both), for the decay gain.
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
    try:
        result = collapse.analyze(frame, L0, window=window)
    except ValueError as e:  # L0 not below a final loss, too few sizes to fit L0
        raise DiagnoseError(str(e)) from None
    if not math.isfinite(result.window_mean_ratio):
        raise DiagnoseError("the noise floor is zero or undefined in the window: are the seeds' curves identical?")
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
        **gain,
    )
