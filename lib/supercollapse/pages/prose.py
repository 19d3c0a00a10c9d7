"""The sentences chapters glue into their prose: chosen by the measured numbers, never typed by hand."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .. import paths
from ..analysis import collapse, diagnose, frames


def number(v, fmt=".3g") -> str:
    """`v` formatted, or "undefined" for None and NaN (a sentence quotes what was measured, never "nan")."""
    return "undefined" if v is None or not math.isfinite(v) else format(v, fmt)


# [Q]'s constant-LR claim (Fig. 3: collapse with Δ ≈ σ̄) is made on CIFAR-5M; supercollapse is what decay adds.
CONSTANT_LR_NOTE = ("The paper's constant-LR statement, Δ ≈ σ̄ (its Fig. 3), is made on CIFAR-5M, and it calls "
                    "supercollapse what learning-rate decay adds; so at constant LR the question is the comparison "
                    "with the decayed ladder late in training, not this number alone.")


def verdict_text(result: collapse.Collapse, ladder: str = "this ladder", *, constant_lr: bool = False,
                 numbers: bool = True) -> str:
    """One paragraph: the window mean of Δ/σ̄, the verdict of `diagnose.verdict`, and what it means here.

    `constant_lr`: the ladder trains at a constant learning rate, where Δ < σ̄ is not what [Q] call supercollapse.
    `numbers`: quote the window and the mean (False where the paragraph already states them).
    """
    r = result.window_mean_ratio
    w = f"x ∈ [{result.window[0]:g}, {result.window[1]:g}]"
    if not math.isfinite(r):
        return (f"The noise floor σ̄ is undefined on {w} for {ladder} (a width with a single "
                "seed, or identical seeds), so no verdict can be given.")
    v, hi = diagnose.verdict(r), diagnose.COLLAPSE_BELOW
    on = f"on {w}, Δ/σ̄ averages {number(r)}"
    if constant_lr and v == "supercollapse":
        head = f"On {w}, Δ/σ̄ averages {number(r)} < 1" if numbers else "Δ/σ̄ < 1"
        return (f"{head}: at constant learning rate the sizes of {ladder} agree better than seed-mates do. "
                f"{CONSTANT_LR_NOTE}")
    body = {
        "supercollapse": (f"the sizes of {ladder} differ less than seed-mates do: "
                          + (f"Δ/σ̄ averages {number(r)} < 1 on {w}, " if numbers else "Δ/σ̄ < 1, ")
                          + "which is what the paper calls supercollapse."),
        "collapse": ((f"{on}, between" if numbers else "Δ/σ̄ lies between") + f" 1 and {hi:g}: the normalized "
                     f"curves of {ladder} agree to about the seed-to-seed noise but not below it, so {ladder} shows "
                     "collapse without supercollapse."),
        "no collapse": ((on if numbers else "Δ/σ̄") + f" ≥ {hi:g}: a width-dependent shape dominates the seed noise, "
                        f"so {ladder} does not collapse."),
    }[v]
    return f"Verdict of the diagnostic: **{v}**; " + body


def fit_text(result: collapse.Collapse, frame: pd.DataFrame) -> str:
    """Where the fitted L0 sits: at its lower bound 0 (the final points do not pin it down), or how far below the best loss."""
    if collapse.L0_at_bound(result, frame):
        return ("The fit put L0 at its lower bound, 0: the final points of this ladder do not pin down an "
                "irreducible loss, so ℓ is here simply each run's loss divided by its final loss.")
    best = float(collapse.size_means(frame)["loss"].min())
    gap = best - result.L0
    return (f"L0 lies {gap:.3g} below the lowest seed-mean final loss ({best:.4g}), that is {100 * gap / best:.1f}% "
            "of it: the reducible part that the normalization divides.")


def onset_text(result: collapse.Collapse) -> str:
    """Where Δ falls below σ̄ for good (up to x = 0.99), or that it never does."""
    if result.onset is None:
        return (f"Δ is not below σ̄ at x = {collapse.ONSET_UPTO:g}, so there is no onset: "
                "no late stretch of training where the widths agree better than seeds do.")
    if collapse.onset_at_last_point(result.onset):
        return (f"Δ is below σ̄ only at the last tested point, x = {collapse.ONSET_UPTO:g} (Δ(1) = 0 by "
                "construction, so x = 1 is not tested): no stretch of training where the widths agree better "
                "than seeds do.")
    return (f"Δ stays below σ̄ from x = {result.onset:.2f} up to x = {collapse.ONSET_UPTO:g} "
            f"(the onset; Δ(1) = 0 by construction, so x = 1 is not tested).")


def gamma_text(horizon) -> str:
    """The fitted data exponent with its bootstrap uncertainty, or why there is none."""
    if horizon.n_boot < 2 or not math.isfinite(horizon.gamma_se):
        return f"gamma = {horizon.gamma:.3f} (one seed per width: no bootstrap uncertainty)"
    lo, hi = horizon.gamma_ci
    return (f"gamma = {horizon.gamma:.3f} ± {horizon.gamma_se:.3f} (standard deviation over {horizon.n_boot} "
            f"bootstrap resamples of the seeds; 95% interval [{lo:.3f}, {hi:.3f}])")


def schedule_text(decay: collapse.Collapse, constant: collapse.Collapse, *, numbers: bool = True) -> str:
    """Compare Δ/σ̄ of the decay and constant-LR ladders as [Q] Figs. 1c and 3 do, without presuming the outcome;
    `numbers`: quote both window means (False where the paragraph already states them)."""
    rd, rc = decay.window_mean_ratio, constant.window_mean_ratio
    if not (math.isfinite(rd) and math.isfinite(rc)):
        return "One of the two ratios is undefined, so the schedules cannot be compared."
    vd, vc = diagnose.verdict(rd), diagnose.verdict(rc)
    if collapse.tighter(decay, constant):
        how = ("Decay lowers the window mean of Δ/σ̄ "
               + (f"from {number(rc)} (constant) to {number(rd)} (decay), a factor " if numbers else "by a factor ")
               + f"{number(rc / rd)}: the direction the paper reports.")
    else:
        how = ("Here decay does not lower Δ/σ̄"
               + (f": {number(rd)} with decay against {number(rc)} at constant LR, " if numbers else ", ")
               + "unlike the paper, where only the decayed ladder supercollapses.")
    vc = "below the noise floor" if vc == "supercollapse" else vc  # the paper's word belongs to decay
    return how + f" Verdicts: **{vd}** with decay, **{vc}** at constant LR."


def late_text(comparison: collapse.ScheduleComparison) -> str:
    """Decay against constant LR on `collapse.LATE_WINDOW`, where decay has acted and [Q] Figs. 1c and 3 compare."""
    d, c = comparison.late_decay, comparison.late_constant
    w = f"x ∈ [{collapse.LATE_WINDOW[0]:g}, {collapse.LATE_WINDOW[1]:g}]"
    if not (math.isfinite(d) and math.isfinite(c)):
        return f"On {w} one of the two ratios is undefined, so the schedules cannot be compared there."
    head = f"On {w}, Δ/σ̄ = {number(d)} with decay and {number(c)} at constant learning rate (each ladder with its own L0)"
    if comparison.decay_tighter_late:
        return head + f": decay is the tighter there, by a factor {number(c / d)}."
    return head + ": decay is not the tighter there either."


def published_ladder(path: str) -> pd.DataFrame | None:
    """The ladder a page's `published_logs` names: an authors'-format pickle, or the diagnostic's CSV or Parquet
    long format (`analysis.diagnose.read_ladder`); a relative path is read from the repository root. A file of
    another type or shape raises `DiagnoseError`, one line naming what is wrong and what is valid.

    Unpickling runs code from the file: only the one file named is opened (see `supercollapse.published`).
    """
    from ..analysis.diagnose import read_ladder

    if not path:
        return None
    p = Path(path).expanduser()
    return read_ladder(p if p.is_absolute() else paths.ROOT / p)


def published_text(frame: pd.DataFrame | None, what: str, *findings: str) -> str:
    """What a page says about the authors' logs: none given, or which file, how many runs, and the findings."""
    if frame is None:
        return ("No published logs were given: set the parameter `published_logs` to one of the authors' pickles "
                "(a file you trust: unpickling runs code), or to a ladder file in the CSV or Parquet format of the "
                f"chapter \"Diagnose your own ladder\", to also draw {what} from those runs.")
    notes = "; ".join(frame.attrs.get("notes", []))
    size = frames.size_column(frame)
    source = Path(frame.attrs.get("source", "?"))
    cut = (", each cut at its own normalization point (`opt_C`, `opt_L`)" if source.suffix in (".pkl", ".pickle")
           else ", each normalized at its last evaluation")
    text = (f"From the log `{source.name}`: {frame['run'].nunique()} runs, {frame[size].nunique()} sizes{cut}.")
    if notes:
        text += f" Import notes: {notes}."
    return " ".join([text, *findings])


def estimate_text(value: float, se: float, digits: int = 3) -> str:
    """`value ± se`, or the value and why it has no error bar (one seed per size: nothing to resample)."""
    if math.isfinite(se):
        return f"{value:.{digits}f} ± {se:.{digits}f}"
    return f"{value:.{digits}f} (one seed per size: no bootstrap error)"
