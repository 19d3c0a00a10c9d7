"""Learning-rate schedules: the SGD-noise model (SPEC §9; [Q] Figs. 1e, 6/12, 13), the universal noise ratio
(Figs. 7, 14) and the collapse of every schedule with its quality against sqrt(η(1 − τ̂)) (SPEC §8; Figs. 1d, 1f, 8).

A scheduled run is compared with the constant-LR run of the same size and horizon T at equal cumulative learning
rate τ:  L_pred(t) = L_const(τ(t)) + α·(s(t) − s_const(τ(t)))·Buvar(t).  s_const = 1 after a warmup, so the factor
is [Q]'s s − 1; during a warmup both runs share s and nothing is added. Buvar = η_peak·Tr Σ in Adam's preconditioned
metric (SPEC §6), so α·δs·Buvar is the δη·Tr Σ part of ¼·Tr δ(ηΣ) and α ≈ ¼. The paper's recipe takes Buvar from
the scheduled run itself; the predictive variant (beyond [Q]) takes the reference's Buvar at equal τ, so one
constant-LR run and α predict a schedule's whole curve before it is trained.

Pure functions: long frames in (columns of `COLUMNS`), frozen results out.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..schedules import multiplier
from . import collapse, diagnose, frames, published, spread

PAST = 0.2  # fits and RMSEs use the curve past 20% of training, after the early transient
END_WINDOW = (0.8, 0.98)  # "near the end" for the slope of log Δ against log(η(1 − τ̂)) (as theory.bridge)
NOISE_WINDOW = (PAST, 1.0)  # where the spread of Buvar/(L − L0) is measured
PAPER_ALPHA = {"mlp": 0.26, "pixels": 0.21}  # [Q]: the MLP and the CIFAR-5M transformers (SPEC §9)
THEORY_ALPHA = 0.25  # ¼ of the expansion in SPEC §9
FITS = ("curve", "gain")  # least squares on the curves past PAST, or on the final points (the decay gains)
TERMS = ("eta", "both")  # δη·Tr Σ alone (SPEC §9), or with η·Tr δΣ ([Q] Fig. 13)
REQUIRED = ("run", "schedule", "decay_frac", "T", "tau", "lr", "loss", "Buvar")
PROGRESS = ("compute", "tokens", "step")  # progress x = the first present, over its final value
# Buvar is read from progress x >= BUVAR_FROM and step >= BUVAR_FIRST_STEP only: Adam's bias-corrected second
# moment v̂ is a one- or two-batch estimate at steps 1-2, so the preconditioner sqrt(v̂) + eps is tiny on some
# coordinates and Buvar reaches ~1e13 there. Earlier values are treated as missing (NaN), as before the first
# update. The step rule covers short runs, where step 2 lies past 1% of training (a 12-step smoke run: x = 0.17).
BUVAR_FROM = 0.01
BUVAR_FIRST_STEP = 3
COLUMNS = ("run, D or P, seed, schedule, decay_frac, T, step or tokens or compute, lr, tau, loss, Buvar; one row "
           "per evaluation, and a constant-LR run (schedule 'const') for every size and T")


def variant_label(schedule: str, decay_frac: float) -> str:
    """'linear', or 'linear-20%' for a decay over the last 20% of training."""
    return schedule if schedule == "const" or decay_frac == 1 else f"{schedule}-{100 * decay_frac:g}%"


def schedule_frame(raw: pd.DataFrame, name: str = "the ladder") -> pd.DataFrame:
    """Check a long table of scheduled runs; a copy sorted by run and progress, with `x` in [0, 1] and `seed`."""
    cols = set(raw.columns)
    missing = [c for c in REQUIRED if c not in cols]
    if not cols & set(frames.SIZE_COLUMNS):
        missing.insert(1, "D or P")
    if not cols & set(PROGRESS):
        missing.append("step or tokens or compute")
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}; expected {COLUMNS}")
    frame = raw.copy()
    if "seed" not in cols:
        frame["seed"] = 0
    size = frames.size_column(frame)
    progress = next(c for c in PROGRESS if c in cols)
    for col in (size, "decay_frac", "T", progress, "tau", "lr", "loss", "Buvar"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        if col != "Buvar" and not np.isfinite(frame[col]).all():
            raise ValueError(f"{name}: column {col!r} has missing or non-numeric values; expected {COLUMNS}")
    if not (frame["loss"] > 0).all():
        raise ValueError(f"{name}: column 'loss' has values <= 0")
    frame["schedule"] = frame["schedule"].astype(str)
    frame = frame.sort_values(["run", progress], kind="stable").reset_index(drop=True)
    end = frame.groupby("run", sort=False)[progress].transform("max")
    if not (end > 0).all():
        raise ValueError(f"{name}: some run never makes progress ({progress} stays 0)")
    frame["x"] = frame[progress] / end
    frame["Buvar"] = early_buvar_masked(frame["Buvar"], frame["x"], frame["step"] if "step" in cols else None)
    return frame


def early_buvar_masked(Buvar, x, step=None) -> np.ndarray:
    """Buvar with its values before progress BUVAR_FROM, or before step BUVAR_FIRST_STEP when steps are known
    (Adam's second-moment transient), set to NaN."""
    early = np.asarray(x, float) < BUVAR_FROM - 1e-12
    if step is not None:
        early |= np.asarray(step, float) < BUVAR_FIRST_STEP
    return np.where(early, np.nan, np.asarray(Buvar, float))


def read_schedules(path) -> pd.DataFrame:
    """A schedule ladder from a long-format CSV or Parquet file, or from an explicitly named authors'-format
    `*_schedules.pkl` (unpickling runs code from the file: name only files you trust)."""
    path = Path(path)
    kind = diagnose.EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"{path}: unknown file type {path.suffix or '(none)'!r}; valid: "
                         f"{', '.join(diagnose.EXTENSIONS)}")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if kind == "pickle":
        return schedule_frame(published.load_schedules(path), str(path))
    try:
        raw = pd.read_csv(path) if kind == "CSV" else pd.read_parquet(path)
    except Exception as e:  # the readers raise many types; any of them means the file cannot be read
        raise ValueError(f"{path}: cannot read it as {kind} ({type(e).__name__}: {e})") from None
    return schedule_frame(raw, str(path))


def predicted_loss(L_const, s, s_const, Buvar, alpha: float) -> np.ndarray:
    """L_const(τ) + α·(s − s_const)·Buvar: nothing is added where the two runs share their learning rate."""
    ds = np.asarray(s, float) - np.asarray(s_const, float)
    with np.errstate(invalid="ignore"):
        return np.asarray(L_const, float) + np.where(ds == 0, 0.0, alpha * ds * np.asarray(Buvar, float))


@dataclass(frozen=True, eq=False)
class Pair:
    """A scheduled run beside its constant-LR reference, both at the run's evaluations (the reference at equal τ)."""

    run: str
    size: float
    seed: object
    T: float
    schedule: str
    decay_frac: float
    x: np.ndarray  # progress in [0, 1]
    tau: np.ndarray
    s: np.ndarray  # lr / η_peak
    loss: np.ndarray
    Buvar: np.ndarray
    L_const: np.ndarray  # the reference's loss, Buvar and s at the run's τ
    Buvar_const: np.ndarray
    s_const: np.ndarray

    @property
    def past(self) -> np.ndarray:
        return self.x >= PAST - 1e-12

    @property
    def term_eta(self) -> np.ndarray:
        """δη·Tr Σ in units of Buvar: (s − s_const)·Buvar ([Q] Fig. 13)."""
        return (self.s - self.s_const) * self.Buvar

    @property
    def term_sigma(self) -> np.ndarray:
        """η·Tr δΣ in units of Buvar: s_const·(Buvar − Buvar_const) ([Q] Fig. 13)."""
        return self.s_const * (self.Buvar - self.Buvar_const)

    def predicted(self, alpha: float, reference_noise: bool = False) -> np.ndarray:
        """L_pred with the run's own Buvar ([Q]'s recipe), or with the reference's at equal τ (the predictive one)."""
        return predicted_loss(self.L_const, self.s, self.s_const, self.Buvar_const if reference_noise else self.Buvar,
                              alpha)


def _at_tau(reference: pd.DataFrame, tau, run: str, column: str) -> np.ndarray:
    """`spread.at_tau` over the reference's finite values only: Buvar is not defined before the first update, and
    below the first finite point the first value holds."""
    finite = reference[np.isfinite(reference[column].to_numpy(float))]
    return spread.at_tau(finite, tau, run, column) if len(finite) else np.full(np.shape(tau), np.nan)


def pairs(frame: pd.DataFrame) -> tuple[Pair, ...]:
    """Every scheduled run with its reference: the constant-LR run of the same size, T and seed, or else the mean of
    the constant-LR runs of that size and T at equal τ."""
    size = frames.size_column(frame)
    const = {key: [g for _, g in group.groupby("run", sort=False)]
             for key, group in frame[frame["schedule"] == "const"].groupby([size, "T"], sort=False)}
    out = []
    for run, g in frame[frame["schedule"] != "const"].groupby("run", sort=False):
        first = g.iloc[0]
        refs = const.get((first[size], first["T"]))
        if not refs:
            raise ValueError(f"run {run} ({size}={first[size]:g}, T={first['T']:g}) has no constant-LR reference of "
                             f"the same {size} and T (a run with schedule 'const')")
        same_seed = [r for r in refs if r["seed"].iloc[0] == first["seed"]]
        refs = same_seed or refs
        tau = g["tau"].to_numpy()
        peak = max(float(r["lr"].max()) for r in refs)
        at = lambda col: np.mean([_at_tau(r, tau, str(run), col) for r in refs], axis=0)  # noqa: E731
        out.append(Pair(str(run), float(first[size]), first["seed"], float(first["T"]), first["schedule"],
                        float(first["decay_frac"]), g["x"].to_numpy(), tau, g["lr"].to_numpy() / peak,
                        g["loss"].to_numpy(), g["Buvar"].to_numpy(), at("loss"), at("Buvar"), at("lr") / peak))
    if not out:
        raise ValueError("no scheduled run (every run has schedule 'const'); the noise model needs decayed runs")
    return tuple(out)


@dataclass(frozen=True)
class Alpha:
    """The noise model's constant: fitted by least squares (with a bootstrap over runs), or given."""

    value: float
    se: float  # standard deviation over resamples of the runs; NaN when given
    ci: tuple[float, float]  # 2.5% and 97.5% percentiles
    source: str  # "fit", "given", "paper" or "theory"
    on: str | None  # the residuals fitted (FITS), None unless fitted
    terms: str | None  # TERMS
    n_runs: int
    n_points: int

    def consistent_with(self, value: float) -> bool:
        """Within two bootstrap errors of `value` ([Q]'s 0.26 for the MLP, or the theory's ¼)."""
        return bool(abs(self.value - value) <= 2 * self.se)


def given_alpha(value: float, source: str = "given") -> Alpha:
    return Alpha(float(value), float("nan"), (float("nan"), float("nan")), source, None, None, 0, 0)


def _sums(pair: Pair, on: str, terms: str) -> tuple[float, float, int]:
    """Σ r·z, Σ z² and the number of points of one run, r = L − L_const(τ) and z the noise term."""
    z = pair.term_eta if terms == "eta" else pair.term_eta + pair.term_sigma
    r = pair.loss - pair.L_const
    keep = np.zeros(len(r), bool)
    if on == "curve":
        keep = pair.past.copy()
    else:
        keep[-1] = True  # the final point: the decay gain L_const(τ_end) − L_end against α·δs·Buvar
    keep &= np.isfinite(r) & np.isfinite(z)
    return float(r[keep] @ z[keep]), float(z[keep] @ z[keep]), int(keep.sum())


def fit_alpha(pairs_: tuple[Pair, ...], on: str = "curve", terms: str = "eta", n_boot: int = 200,
              seed: int = 0) -> Alpha:
    """One α for every run by least squares of L − L_const(τ) on the noise term; `seed` drives the bootstrap."""
    if on not in FITS or terms not in TERMS:
        raise ValueError(f"on={on!r}, terms={terms!r}; valid: on in {FITS}, terms in {TERMS}")
    sums = np.array([_sums(p, on, terms) for p in pairs_])
    if not sums[:, 1].sum() > 0:
        raise ValueError("no finite Buvar where the runs' learning rates differ from their references': "
                         "the noise model needs Buvar logged on the scheduled runs (and on the references for "
                         "terms='both')")
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(sums), len(sums))
        if sums[idx, 1].sum() > 0:
            boot.append(sums[idx, 0].sum() / sums[idx, 1].sum())
    boot = np.asarray(boot)
    se = float(boot.std(ddof=1)) if len(boot) > 1 else float("nan")
    ci = tuple(map(float, np.percentile(boot, [2.5, 97.5]))) if len(boot) > 1 else (float("nan"),) * 2
    return Alpha(float(sums[:, 0].sum() / sums[:, 1].sum()), se, ci, "fit", on, terms, len(sums),
                 int(sums[:, 2].sum()))


def _rmse(pred: np.ndarray, loss: np.ndarray, keep: np.ndarray) -> float:
    keep = keep & np.isfinite(pred)
    return float(np.sqrt(np.mean((pred[keep] - loss[keep]) ** 2))) if keep.any() else float("nan")


def run_errors(pair: Pair, alpha: float) -> dict:
    """Final loss, the two recipes' final predictions, observed and predicted decay gains and RMSEs past PAST."""
    out = {"final_loss": float(pair.loss[-1]), "gain_observed": float(pair.L_const[-1] - pair.loss[-1])}
    for suffix, reference_noise in (("", False), ("_reference", True)):
        pred = pair.predicted(alpha, reference_noise)
        out |= {f"final_pred{suffix}": float(pred[-1]), f"final_error{suffix}": float(pred[-1] - pair.loss[-1]),
                f"gain_predicted{suffix}": float(pair.L_const[-1] - pred[-1]),
                f"rmse{suffix}": _rmse(pred, pair.loss, pair.past)}
    return out


@dataclass(frozen=True, eq=False)
class NoiseModel:
    """The SGD-noise model on a schedule ladder: α, and per run the errors of both recipes."""

    alpha: Alpha
    pairs: tuple[Pair, ...]
    size_column: str
    per_run: pd.DataFrame  # run, size, seed, T, schedule, decay_frac, and `run_errors`' columns

    def errors(self) -> pd.DataFrame:
        """Per recipe ('paper': the run's own Buvar; 'predictive': the reference's): median and worst |final error|,
        median and worst |gain error|, median RMSE past PAST, and the median observed gain for scale."""
        rows = []
        for recipe, suffix in (("paper", ""), ("predictive", "_reference")):
            final = self.per_run[f"final_error{suffix}"].abs()
            gain = (self.per_run[f"gain_predicted{suffix}"] - self.per_run["gain_observed"]).abs()
            rows.append({"recipe": recipe, "median_final_error": final.median(), "worst_final_error": final.max(),
                         "median_gain_error": gain.median(), "worst_gain_error": gain.max(),
                         "median_rmse": self.per_run[f"rmse{suffix}"].median(),
                         "median_gain_observed": self.per_run["gain_observed"].abs().median()})
        return pd.DataFrame(rows)

    def _within_gain(self, recipe: str) -> bool:
        e = self.errors().set_index("recipe")
        return bool(e.loc[recipe, "median_final_error"] < e.loc[recipe, "median_gain_observed"])

    @property
    def predicts_decay_gain(self) -> bool:
        """The paper's recipe misses the final loss by less than the decay gain it is there to explain (medians over
        runs): better than assuming that, at equal τ, the schedule changes nothing."""
        return self._within_gain("paper")

    @property
    def predictive_predicts_decay_gain(self) -> bool:
        """The same test for the predictive variant (the reference's Buvar in place of the run's own)."""
        return self._within_gain("predictive")

    def restrict(self, runs) -> NoiseModel:
        """The same model (the same α) on the runs named in `runs` only: one panel's share of a joint fit."""
        keep = {str(r) for r in runs}
        pairs_ = tuple(p for p in self.pairs if p.run in keep)
        if not pairs_:
            raise ValueError("none of the given runs is a scheduled run of this model")
        return NoiseModel(self.alpha, pairs_, self.size_column,
                          self.per_run[self.per_run["run"].astype(str).isin(keep)].reset_index(drop=True))

    def curves(self) -> pd.DataFrame:
        """Long frame for charts: run, size, seed, T, schedule, decay_frac, x, tau, s, loss, L_const, pred (the
        paper's recipe), pred_reference (the predictive variant), Buvar, Buvar_const, term_eta, term_sigma."""
        a = self.alpha.value
        return pd.concat([pd.DataFrame({
            "run": p.run, self.size_column: p.size, "seed": p.seed, "T": p.T, "schedule": p.schedule,
            "decay_frac": p.decay_frac, "x": p.x, "tau": p.tau, "s": p.s, "loss": p.loss, "L_const": p.L_const,
            "pred": p.predicted(a), "pred_reference": p.predicted(a, True), "Buvar": p.Buvar,
            "Buvar_const": p.Buvar_const, "term_eta": p.term_eta, "term_sigma": p.term_sigma})
            for p in self.pairs], ignore_index=True)

    def to_dict(self) -> dict:
        """{"alpha", "alpha_source", "alpha_se", "fitted_on", "runs": [{size, "T", "schedule", "decay_frac", "seed",
        "final_loss", "final_pred", "gain_observed", "gain_predicted", "rmse"}, ...]}; NaN becomes None."""
        clean = lambda v: None if isinstance(v, float) and not math.isfinite(v) else v  # noqa: E731
        keys = [self.size_column, "T", "schedule", "decay_frac", "seed", "final_loss", "final_pred", "gain_observed",
                "gain_predicted", "rmse"]
        runs = [{k: clean(v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                for row in self.per_run[keys].to_dict(orient="records")]
        return {"alpha": self.alpha.value, "alpha_source": self.alpha.source, "alpha_se": clean(self.alpha.se),
                "fitted_on": self.alpha.on, "runs": runs}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_table(self) -> str:
        """A readable text table: α, one line per run, both recipes' median and worst errors."""
        a = self.alpha
        how = (f"± {a.se:.2g}, fitted on the {'curves past 20% of training' if a.on == 'curve' else 'decay gains'} "
               f"of {a.n_runs} runs" if a.source == "fit" else a.source)
        lines = [f"alpha = {a.value:.4g} ({how}); L_pred = L_const(tau) + alpha (s - 1) Buvar",
                 "", f"{self.size_column:>8} {'T':>10} {'schedule':<16} {'seed':>4} {'final':>9} {'pred':>9} "
                     f"{'gain obs':>9} {'gain pred':>9} {'rmse':>9}"]
        for r in self.per_run.to_dict(orient="records"):
            lines.append(f"{r[self.size_column]:>8g} {r['T']:>10g} {variant_label(r['schedule'], r['decay_frac']):<16} "
                         f"{str(r['seed']):>4} {r['final_loss']:>9.4g} {r['final_pred']:>9.4g} "
                         f"{r['gain_observed']:>9.3g} {r['gain_predicted']:>9.3g} {r['rmse']:>9.2g}")
        lines.append("")
        for e in self.errors().itertuples(index=False):
            lines.append(f"{e.recipe:<10} |final error| median {e.median_final_error:.2g}, worst "
                         f"{e.worst_final_error:.2g}; |gain error| median {e.median_gain_error:.2g}, worst "
                         f"{e.worst_gain_error:.2g} (median gain {e.median_gain_observed:.2g})")
        return "\n".join(lines)


def union(*frames_: pd.DataFrame) -> pd.DataFrame:
    """Several ladders' long frames as one, each run once (ladders that share configs share runs: the factor-1
    horizon of `schedules_horizons` is part of `schedules`)."""
    parts, seen = [], set()
    for f in frames_:
        new = f[~f["run"].isin(seen)]
        seen |= set(new["run"])
        parts.append(new)
    return pd.concat(parts, ignore_index=True)


def noise_model(frame: pd.DataFrame, alpha: float | None = None, on: str = "curve", n_boot: int = 200,
                seed: int = 0) -> NoiseModel:
    """Fit α on every scheduled run (or take it) and evaluate both recipes on every run."""
    frame = schedule_frame(frame)
    ps = pairs(frame)
    a = fit_alpha(ps, on, n_boot=n_boot, seed=seed) if alpha is None else given_alpha(alpha)
    size = frames.size_column(frame)
    per_run = pd.DataFrame([{"run": p.run, size: p.size, "seed": p.seed, "T": p.T, "schedule": p.schedule,
                             "decay_frac": p.decay_frac, **run_errors(p, a.value)} for p in ps])
    return NoiseModel(a, ps, size, per_run)


def _by_variant(pairs_: tuple[Pair, ...]) -> dict[tuple[str, float], tuple[Pair, ...]]:
    out: dict = {}
    for p in pairs_:
        out.setdefault((p.schedule, p.decay_frac), []).append(p)
    return {k: tuple(v) for k, v in sorted(out.items())}


def held_out(model: NoiseModel, n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Per schedule: α fitted on the other schedules only, and both recipes' errors on this one with that α
    (the predictive variant on a schedule neither α nor anything else was fitted on)."""
    rows = []
    groups = _by_variant(model.pairs)
    for (schedule, f), mine in groups.items():
        others = tuple(p for k, v in groups.items() if k != (schedule, f) for p in v)
        if not others:
            continue
        a = fit_alpha(others, model.alpha.on or "curve", n_boot=n_boot, seed=seed)
        err = pd.DataFrame([run_errors(p, a.value) for p in mine])
        rows.append({"schedule": schedule, "decay_frac": f, "label": variant_label(schedule, f), "alpha": a.value,
                     "alpha_se": a.se, "n_runs": len(mine),
                     "median_final_error": err["final_error"].abs().median(),
                     "median_final_error_reference": err["final_error_reference"].abs().median(),
                     "worst_final_error_reference": err["final_error_reference"].abs().max(),
                     "median_rmse_reference": err["rmse_reference"].median(),
                     "median_gain_observed": err["gain_observed"].abs().median()})
    return pd.DataFrame(rows)


def held_out_alpha(table: pd.DataFrame, schedule: str, decay_frac: float = 1.0) -> float:
    """The α that `held_out` fitted without schedule (schedule, decay_frac): what one knows before training it."""
    row = table[(table["schedule"] == schedule) & np.isclose(table["decay_frac"], decay_frac)]
    if not len(row):
        raise ValueError(f"no held-out fit for {variant_label(schedule, decay_frac)}; valid: "
                         f"{', '.join(table['label'])}")
    return float(row["alpha"].iloc[0])


def held_out_predicts_decay_gain(table: pd.DataFrame) -> bool:
    """On a schedule α never saw, the predictive variant misses the final loss by less than the decay gain it is
    there to explain, for most schedules (more than half of `held_out`'s rows)."""
    if not len(table):
        return False
    return bool((table["median_final_error_reference"] < table["median_gain_observed"]).mean() > 0.5)


@dataclass(frozen=True, eq=False)
class NoiseTerms:
    """[Q] Fig. 13: the δη·Tr Σ term against the η·Tr δΣ term, and α per schedule without and with the second."""

    table: pd.DataFrame  # schedule, decay_frac, label, rms_eta, rms_sigma, alpha, alpha_se, alpha_both, alpha_both_se
    rms_eta: float  # over every run's points past PAST
    rms_sigma: float

    @property
    def eta_dominates(self) -> bool:
        """|δη·Tr Σ| exceeds |η·Tr δΣ| in rms over every run past PAST ([Q] Fig. 13)."""
        return bool(self.rms_eta > self.rms_sigma)

    @property
    def sigma_over_eta(self) -> float:
        """rms η·Tr δΣ over rms δη·Tr Σ: how many times the term the model leaves out is the one it keeps."""
        return self.rms_sigma / self.rms_eta if self.rms_eta > 0 else float("nan")


def noise_terms(model: NoiseModel, n_boot: int = 200, seed: int = 0) -> NoiseTerms:
    """Both terms of ¼·Tr δ(ηΣ) per schedule; needs Buvar logged on the constant-LR references too."""
    def rms(ps, term):
        v = np.concatenate([getattr(p, term)[p.past] for p in ps])
        return float(np.sqrt(np.nanmean(v ** 2)))

    if not any(np.isfinite(p.Buvar_const[p.past]).any() for p in model.pairs):
        raise ValueError("the constant-LR references have no Buvar: the η·Tr δΣ term of [Q] Fig. 13 needs Buvar "
                         "logged on the references as well")
    rows = []
    for (schedule, f), ps in _by_variant(model.pairs).items():
        a, b = (fit_alpha(ps, "curve", t, n_boot, seed) for t in TERMS)
        rows.append({"schedule": schedule, "decay_frac": f, "label": variant_label(schedule, f),
                     "rms_eta": rms(ps, "term_eta"), "rms_sigma": rms(ps, "term_sigma"), "alpha": a.value,
                     "alpha_se": a.se, "alpha_both": b.value, "alpha_both_se": b.se})
    return NoiseTerms(pd.DataFrame(rows), rms(model.pairs, "term_eta"), rms(model.pairs, "term_sigma"))


def schedule_lr(name: str, steps: int, base_lr: float, warmup: int = 0,
                decay_frac: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """lr = base_lr·s(step) and τ = the sum of lr before the step, at steps 0..steps, as training logs them."""
    lr = base_lr * multiplier(name, np.arange(steps + 1), steps, warmup, decay_frac)
    return lr, np.concatenate([[0.0], np.cumsum(lr[:-1])])


def predict_schedule(reference: pd.DataFrame, schedule: str, decay_frac: float = 1.0, alpha: float = THEORY_ALPHA,
                     *, steps: int, warmup: int = 0) -> pd.DataFrame:
    """The predictive variant: a schedule's curve at the reference's evaluation steps from one constant-LR run
    (columns step, tau, lr, loss, Buvar; same horizon `steps` and warmup) and α.

    Columns: step, the reference's tokens and compute when present, tau, lr, s, loss_const, Buvar_const, loss_pred.
    """
    missing = [c for c in ("step", "tau", "lr", "loss", "Buvar") if c not in reference.columns]
    if missing:
        raise ValueError(f"the reference run lacks column(s) {', '.join(missing)}; it must log Buvar (buvar=True)")
    ref = reference.sort_values("step", kind="stable").copy()
    at = ref["step"].to_numpy(int)
    ref["Buvar"] = early_buvar_masked(ref["Buvar"], at / max(at.max(), 1), at)
    if not np.isfinite(ref["Buvar"].to_numpy(float)).any():
        raise ValueError("the reference run has no finite Buvar: train its config with buvar=True")
    peak = float(ref["lr"].max())
    lr, tau = schedule_lr(schedule, steps, peak, warmup, decay_frac)
    if at.max() > steps:
        raise ValueError(f"the reference run goes to step {at.max()}, past the horizon of {steps} steps")
    out = ref[[c for c in ("step", "tokens", "compute") if c in ref.columns]].reset_index(drop=True)
    out["tau"], out["lr"], out["s"] = tau[at], lr[at], lr[at] / peak
    name = f"the {variant_label(schedule, decay_frac)} prediction"
    out["loss_const"], out["Buvar_const"] = (_at_tau(ref, out["tau"], name, c) for c in ("loss", "Buvar"))
    s_const = _at_tau(ref, out["tau"], name, "lr") / peak
    out["loss_pred"] = predicted_loss(out["loss_const"], out["s"], s_const, out["Buvar_const"], alpha)
    return out


@dataclass(frozen=True, eq=False)
class PredictionCheck:
    """`predict_schedule` from one constant-LR run against the run of that schedule that was then trained."""

    reference: str  # the constant-LR run's id (its run key for stored runs)
    trained: str
    label: str
    alpha: float
    curve: pd.DataFrame  # predict_schedule's columns, and `loss` (the trained run) and `x`
    final_error: float  # predicted − trained final loss
    rmse: float  # past PAST
    gain_observed: float  # loss_const(τ_end) − the trained final loss
    gain_predicted: float

    @property
    def predicts_decay_gain(self) -> bool:
        """The prediction misses the trained final loss by less than the decay gain."""
        return bool(abs(self.final_error) < abs(self.gain_observed))


def check_prediction(frame: pd.DataFrame, schedule: str, decay_frac: float = 1.0, alpha: float = THEORY_ALPHA, *,
                     warmup: int = 0, size: float | None = None, seed=None) -> PredictionCheck:
    """Predict schedule (schedule, decay_frac) from the constant-LR run of one size and seed (default: the first
    ones that have both runs) and compare it with the trained run at the same evaluation steps."""
    frame = schedule_frame(frame)
    col = frames.size_column(frame)
    if "step" not in frame.columns:
        raise ValueError("check_prediction needs a `step` column (the evaluation steps of both runs)")
    runs = frame.groupby("run", sort=False).first()
    same = lambda s, f: (runs["schedule"] == s) & np.isclose(runs["decay_frac"], f)  # noqa: E731
    trained = runs[same(schedule, decay_frac)]
    if size is not None:
        trained = trained[np.isclose(trained[col], size)]
    if seed is not None:
        trained = trained[trained["seed"] == seed]
    refs = runs[same("const", 1.0)]
    for run, t in trained.iterrows():
        ref = refs[np.isclose(refs[col], t[col]) & (refs["T"] == t["T"]) & (refs["seed"] == t["seed"])]
        if len(ref):
            break
    else:
        raise ValueError(f"no {variant_label(schedule, decay_frac)} run with a constant-LR run of the same "
                         f"{col}, T and seed")
    ref_run = ref.index[0]
    reference, mine = frame[frame["run"] == ref_run], frame[frame["run"] == run]
    curve = predict_schedule(reference, schedule, decay_frac, alpha, steps=int(reference["step"].max()),
                             warmup=warmup)
    if not np.array_equal(curve["step"].to_numpy(), mine["step"].to_numpy()):
        raise ValueError(f"runs {ref_run} and {run} are not evaluated at the same steps")
    curve["loss"], curve["x"] = mine["loss"].to_numpy(), mine["x"].to_numpy()
    past = curve["x"].to_numpy() >= PAST - 1e-12
    pred, loss = curve["loss_pred"].to_numpy(), curve["loss"].to_numpy()
    return PredictionCheck(str(ref_run), str(run), variant_label(schedule, decay_frac), float(alpha), curve,
                           float(pred[-1] - loss[-1]), _rmse(pred, loss, past),
                           float(curve["loss_const"].iloc[-1] - loss[-1]),
                           float(curve["loss_const"].iloc[-1] - pred[-1]))


# ---------------------------------------------------------------------------------------------------------------
# Collapse of every schedule (Figs. 1d, 1f, 8) and the universal noise ratio (Figs. 7, 14)


def variants(frame: pd.DataFrame) -> list[tuple[str, float]]:
    """The (schedule, decay_frac) pairs of a frame, constant LR first."""
    pairs_ = {(str(s), float(f)) for s, f in zip(frame["schedule"], frame["decay_frac"])}
    return sorted(pairs_, key=lambda v: (v[0] != "const", v))


def variant_frame(frame: pd.DataFrame, schedule: str, decay_frac: float) -> pd.DataFrame:
    return frame[(frame["schedule"] == schedule) & np.isclose(frame["decay_frac"], decay_frac)]


def per_schedule(frame: pd.DataFrame, L0: float | str = "auto") -> dict[tuple[str, float], collapse.Collapse]:
    """SPEC §8's collapse analysis of each schedule's runs, each with its own L0 fit (or the given L0)."""
    return {v: collapse.analyze(variant_frame(frame, *v), L0) for v in variants(frame)}


def collapse_table(results: dict[tuple[str, float], collapse.Collapse]) -> pd.DataFrame:
    """Per schedule: L0, the window mean of Δ/σ̄ with its jackknife error over runs, the onset, the verdict."""
    return pd.DataFrame([{"schedule": s, "decay_frac": f, "label": variant_label(s, f), "L0": r.L0,
                          "window_mean_ratio": r.window_mean_ratio, "se": collapse.ratio_jackknife(r).se,
                          "onset": r.onset, "verdict": diagnose.verdict(r.window_mean_ratio)}
                         for (s, f), r in results.items()])


def _position(frame: pd.DataFrame, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """η/η_peak and τ̂ = τ/τ_final at progress x, averaged over the runs (the same for every size and seed)."""
    eta, tau_hat = [], []
    for _, g in frame.groupby("run", sort=False):
        xr = g["compute"].to_numpy() / g["compute"].max()  # x of `collapse.on_grid`
        eta.append(np.interp(x, xr, g["lr"].to_numpy() / g["lr"].max()))
        tau_hat.append(np.interp(x, xr, g["tau"].to_numpy() / g["tau"].max()))
    return np.mean(eta, axis=0), np.mean(tau_hat, axis=0)


def _resampled_delta(result: collapse.Collapse, rng: np.random.Generator) -> np.ndarray:
    """Δ(x) of the runs resampled with replacement within each size (L0 held fixed)."""
    g = result.grid
    idx = np.concatenate([rng.choice(np.flatnonzero(g.size == s), size=int((g.size == s).sum()))
                          for s in result.sizes])
    return collapse.collapse_deviation(collapse.normalize(g.loss[idx], g.L_final[idx], result.L0))


def _inside(x: np.ndarray, window) -> np.ndarray:
    return (x >= window[0] - 1e-12) & (x <= window[1] + 1e-12)


def _slope(predictor, delta) -> float:
    """Least-squares slope of log Δ against log predictor over the points where both are positive."""
    predictor, delta = np.asarray(predictor, float), np.asarray(delta, float)
    keep = (predictor > 0) & (delta > 0) & np.isfinite(delta)
    return float(np.polyfit(np.log(predictor[keep]), np.log(delta[keep]), 1)[0]) if keep.sum() >= 2 else float("nan")


@dataclass(frozen=True, eq=False)
class QualitySlope:
    """[Q] Figs. 1f, 8: log Δ against log(η(1 − τ̂)) near the end, pooled over schedules (theory: slope ½)."""

    points: pd.DataFrame  # schedule, decay_frac, label, x, delta, eta (η/η_peak), tau_hat, predictor = η(1 − τ̂)
    window: tuple[float, float]
    slope: float
    se: float  # over resamples of each size's seeds, L0 held fixed
    per_schedule: pd.DataFrame  # schedule, decay_frac, label, slope

    @property
    def consistent_with_half(self) -> bool:
        """The pooled slope lies within two bootstrap errors of ½ (SPEC §8)."""
        return bool(abs(self.slope - 0.5) <= 2 * self.se)


def collapse_quality(frame: pd.DataFrame, results: dict[tuple[str, float], collapse.Collapse], window=END_WINDOW,
                     n_boot: int = 200, seed: int = 0) -> QualitySlope:
    """Δ(x) of each schedule against η(x)(1 − τ̂(x)) on `window`; the slope of the logs and its seed bootstrap."""
    parts, rng = [], np.random.default_rng(seed)
    inside = {v: _inside(r.x, window) for v, r in results.items()}
    for (s, f), r in results.items():
        x = r.x[inside[s, f]]
        eta, tau_hat = _position(variant_frame(frame, s, f), x)
        parts.append(pd.DataFrame({"schedule": s, "decay_frac": f, "label": variant_label(s, f), "x": x,
                                   "delta": r.delta[inside[s, f]], "eta": eta, "tau_hat": tau_hat,
                                   "predictor": eta * (1 - tau_hat)}))
    points = pd.concat(parts, ignore_index=True)
    boot = [_slope(points["predictor"], np.concatenate([_resampled_delta(r, rng)[inside[v]]
                                                        for v, r in results.items()])) for _ in range(n_boot)]
    per = pd.DataFrame([{"schedule": s, "decay_frac": f, "label": variant_label(s, f),
                         "slope": _slope(g["predictor"], g["delta"])}
                        for (s, f), g in points.groupby(["schedule", "decay_frac"], sort=False)])
    boot = np.asarray(boot)
    boot = boot[np.isfinite(boot)]
    return QualitySlope(points, tuple(window), _slope(points["predictor"], points["delta"]),
                        float(boot.std(ddof=1)) if len(boot) > 1 else float("nan"), per)


@dataclass(frozen=True, eq=False)
class NoiseRatio:
    """Buvar/(L − L0) of one schedule's runs on the grid x ([Q] Figs. 7, 14: a function of x alone)."""

    x: np.ndarray
    size_column: str
    size: np.ndarray  # (n_runs,)
    seed: np.ndarray
    ratio: np.ndarray  # (n_runs, n_x); NaN where Buvar is not logged
    window: tuple[float, float]
    cross_rms: float  # across sizes at fixed x (relative, rms over the window; `spread.variance_split`)
    within_rms: float  # across seeds at fixed x and size
    x_rms: float  # along x: std / mean over the window of the all-run mean

    @property
    def x_dominates(self) -> bool:
        """The ratio varies more along x than across widths at fixed x."""
        return bool(self.x_rms > self.cross_rms)

    @property
    def widths_within_seed_noise(self) -> bool:
        """Widths differ less than seeds at fixed x: the ratio is universal to within the noise."""
        return bool(self.cross_rms < self.within_rms)

    def curves(self) -> pd.DataFrame:
        """Per size and x: the seed mean and std of the ratio."""
        rows = []
        with warnings.catch_warnings():  # NaN (no Buvar yet) at every seed for the first x: NaN, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            for s in np.unique(self.size):
                part = self.ratio[self.size == s]
                rows.append(pd.DataFrame({self.size_column: s, "x": self.x, "ratio": np.nanmean(part, axis=0),
                                          "ratio_std": np.nanstd(part, axis=0)}))
        return pd.concat(rows, ignore_index=True)


def noise_ratio(frame: pd.DataFrame, L0: float, x=collapse.X_GRID, window=NOISE_WINDOW) -> NoiseRatio:
    """Buvar/(L − L0) of every run of one schedule, interpolated in x, and how its spread splits."""
    frame = schedule_frame(frame)
    x = np.asarray(x, float)
    size = frames.size_column(frame)
    rows, sizes, seeds = [], [], []
    for _, g in frame.groupby("run", sort=False):
        ok = np.isfinite(g["Buvar"].to_numpy())
        if ok.sum() < 2:
            raise ValueError(f"run {g['run'].iloc[0]} has no Buvar: the noise ratio needs runs trained with buvar=True")
        xr, h = g["x"].to_numpy()[ok], (g["Buvar"] / (g["loss"] - L0)).to_numpy()[ok]
        rows.append(np.where(x < xr[0] * (1 - 1e-9), np.nan, np.interp(x, xr, h)))
        sizes.append(g[size].iloc[0])
        seeds.append(g["seed"].iloc[0])
    ratio, sizes = np.array(rows), np.array(sizes)
    inside = _inside(x, window)
    cross, within = spread.variance_split(ratio[:, inside], sizes)
    mean = ratio[:, inside].mean(axis=0)
    return NoiseRatio(x, size, sizes, np.array(seeds), ratio, tuple(window), float(np.sqrt(cross.mean())),
                      float(np.sqrt(within.mean())), float(mean.std() / mean.mean()))


def noise_ratios(frame: pd.DataFrame, results: dict[tuple[str, float], collapse.Collapse]
                 ) -> dict[tuple[str, float], NoiseRatio]:
    """`noise_ratio` of each schedule's runs, with the L0 its collapse was normalized with (Figs. 7, 14)."""
    return {v: noise_ratio(variant_frame(frame, *v), r.L0) for v, r in results.items()}


def noise_ratio_table(ratios: dict[tuple[str, float], NoiseRatio]) -> pd.DataFrame:
    """Per schedule: the relative spread of Buvar/(L − L0) across widths, across seeds and along x, and the two
    named results (`NoiseRatio.x_dominates`, `widths_within_seed_noise`)."""
    return pd.DataFrame([{"schedule": s, "decay_frac": f, "label": variant_label(s, f), "cross_rms": r.cross_rms,
                          "within_rms": r.within_rms, "x_rms": r.x_rms, "x_dominates": r.x_dominates,
                          "widths_within_seed_noise": r.widths_within_seed_noise}
                         for (s, f), r in ratios.items()])


def noise_universal(table: pd.DataFrame) -> bool:
    """Whether Buvar/(L − L0) is one function of x alone ([Q] Figs. 7, 14): for every schedule of
    `noise_ratio_table` the widths differ less than seeds do and the ratio changes more along x than across widths."""
    return bool(table["widths_within_seed_noise"].all() and table["x_dominates"].all())


def noise_ratio_counts(table: pd.DataFrame) -> dict:
    """The numbers a sentence on `noise_ratio_table` quotes: schedules in all (n), with the widths within seed
    noise (within), with x dominating (along), and the medians over schedules of the three rms spreads."""
    return {"n": len(table), "within": int(table["widths_within_seed_noise"].sum()),
            "along": int(table["x_dominates"].sum()), "cross_rms": float(table["cross_rms"].median()),
            "within_rms": float(table["within_rms"].median()), "x_rms": float(table["x_rms"].median())}


@dataclass(frozen=True)
class ScheduleCollapse:
    """[Q] Fig. 1d's claim on a schedule ladder: does every schedule that decays supercollapse?"""

    table: pd.DataFrame  # `collapse_table`

    @property
    def decaying(self) -> pd.DataFrame:
        return self.table[self.table["schedule"] != "const"]

    @property
    def every_decay_supercollapses(self) -> bool:
        """Every decaying schedule's window mean of Δ/σ̄ is below 1 (`diagnose.verdict`)."""
        return bool((self.decaying["verdict"] == "supercollapse").all())

    @property
    def ratio_range(self) -> tuple[float, float]:
        """The smallest and largest window mean of Δ/σ̄ over the decaying schedules."""
        r = self.decaying["window_mean_ratio"]
        return float(r.min()), float(r.max())

    @property
    def exceptions(self) -> list[str]:
        """The labels of the decaying schedules that do not supercollapse."""
        d = self.decaying
        return list(d.loc[d["verdict"] != "supercollapse", "label"])

    @property
    def decay_beats_constant(self) -> int:
        """How many decaying schedules have a smaller window mean of Δ/σ̄ than the constant-LR runs."""
        const = self.table.loc[self.table["schedule"] == "const", "window_mean_ratio"]
        if const.empty:
            return 0
        return int((self.decaying["window_mean_ratio"] < float(const.iloc[0])).sum())

    @property
    def short_decays(self) -> pd.DataFrame:
        """The schedules that decay over part of the run only (decay_frac < 1, WSD-like); onset NaN where none."""
        d = self.decaying[self.decaying["decay_frac"] < 1]
        return d.assign(onset=pd.to_numeric(d["onset"], errors="coerce"))

    @property
    def short_decay_starts(self) -> list[float]:
        """Where the short decays begin, x = 1 − decay_frac, each value once (latest start first)."""
        return [1 - f for f in sorted(set(self.short_decays["decay_frac"]))]

    @property
    def short_decays_onset_in_decay(self) -> bool:
        """Every short decay reaches Δ < σ̄ for good only once its decay has begun (onset ≥ 1 − decay_frac)."""
        d = self.short_decays
        return bool(len(d)) and bool((d["onset"].notna() & (d["onset"] >= 1 - d["decay_frac"] - 1e-9)).all())
