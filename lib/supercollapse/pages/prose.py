"""The sentences chapters glue into their prose: chosen by the measured numbers, never typed by hand."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..analysis import collapse, diagnose, frames
from ..analysis.schedules import PAST
from .charts.collapse import offset_summary


def _r(v, fmt=".3g") -> str:
    return "undefined" if v is None or not math.isfinite(v) else format(v, fmt)


# [Q]'s constant-LR claim (Fig. 3: collapse with Δ ≈ σ̄) is made on CIFAR-5M; supercollapse is what decay adds.
CONSTANT_LR_NOTE = ("The paper's constant-LR statement, Δ ≈ σ̄ (its Fig. 3), is made on CIFAR-5M, and it calls "
                    "supercollapse what learning-rate decay adds; so at constant LR the question is the comparison "
                    "with the decayed ladder late in training, not this number alone.")


def verdict_text(result: collapse.Collapse, ladder: str = "this ladder", *, constant_lr: bool = False) -> str:
    """One paragraph: the window mean of Δ/σ̄, the verdict of `diagnose.verdict`, and what it means here.

    `constant_lr`: the ladder trains at a constant learning rate, where Δ < σ̄ is not what [Q] call supercollapse.
    """
    r = result.window_mean_ratio
    w = f"x ∈ [{result.window[0]:g}, {result.window[1]:g}]"
    if not math.isfinite(r):
        return (f"The noise floor σ̄ is undefined on {w} for {ladder} (a width with a single "
                "seed, or identical seeds), so no verdict can be given.")
    v = diagnose.verdict(r)
    if constant_lr and v == "supercollapse":
        return (f"On {w}, Δ/σ̄ averages {_r(r)} < 1: at constant learning rate the sizes of {ladder} agree better "
                f"than seed-mates do. {CONSTANT_LR_NOTE}")
    body = {
        "supercollapse": (f"the sizes of {ladder} differ less than seed-mates do: Δ/σ̄ averages {_r(r)} < 1 on {w}, "
                          "which is what the paper calls supercollapse."),
        "collapse": (f"on {w}, Δ/σ̄ averages {_r(r)}, between 1 and {diagnose.COLLAPSE_BELOW:g}: the normalized curves of "
                     f"{ladder} agree to about the seed-to-seed noise but not below it, so {ladder} shows collapse "
                     "without supercollapse."),
        "no collapse": (f"on {w}, Δ/σ̄ averages {_r(r)} ≥ {diagnose.COLLAPSE_BELOW:g}: a width-dependent shape dominates "
                        f"the seed noise, so {ladder} does not collapse."),
    }[v]
    return f"Verdict of the diagnostic: **{v}**; " + body


def fit_text(result: collapse.Collapse, frame: pd.DataFrame) -> str:
    """Where the fitted L0 sits: at its lower bound 0 (the final points do not pin it down), or how far below the best loss."""
    best = float(collapse.size_means(frame)["loss"].min())
    if result.L0 <= 1e-12 * best:
        return ("The fit put L0 at its lower bound, 0: the final points of this ladder do not pin down an "
                "irreducible loss, so ℓ is here simply each run's loss divided by its final loss.")
    gap = best - result.L0
    return (f"L0 lies {gap:.3g} below the lowest seed-mean final loss ({best:.4g}), that is {100 * gap / best:.1f}% "
            "of it: the reducible part that the normalization divides.")


def onset_text(result: collapse.Collapse) -> str:
    """Where Δ falls below σ̄ for good (up to x = 0.99), or that it never does."""
    if result.onset is None:
        return (f"Δ is not below σ̄ at x = {collapse.ONSET_UPTO:g}, so there is no onset: "
                "no late stretch of training where the widths agree better than seeds do.")
    if result.onset >= collapse.ONSET_UPTO - 1e-9:
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


def schedule_text(decay: collapse.Collapse, constant: collapse.Collapse) -> str:
    """Compare Δ/σ̄ of the decay and constant-LR ladders as [Q] Figs. 1c and 3 do, without presuming the outcome."""
    rd, rc = decay.window_mean_ratio, constant.window_mean_ratio
    if not (math.isfinite(rd) and math.isfinite(rc)):
        return "One of the two ratios is undefined, so the schedules cannot be compared."
    vd, vc = diagnose.verdict(rd), diagnose.verdict(rc)
    if rc > rd:
        how = (f"Decay lowers the window mean of Δ/σ̄ from {_r(rc)} (constant) to {_r(rd)} (decay), "
               f"a factor {_r(rc / rd)}: the direction the paper reports.")
    else:
        how = (f"Here decay does not lower Δ/σ̄: {_r(rd)} with decay against {_r(rc)} at constant LR, "
               "unlike the paper, where only the decayed ladder supercollapses.")
    vc = "below the noise floor" if vc == "supercollapse" else vc  # the paper's word belongs to decay
    return how + f" Verdicts: **{vd}** with decay, **{vc}** at constant LR."


def late_text(comparison: collapse.ScheduleComparison) -> str:
    """Decay against constant LR on `collapse.LATE_WINDOW`, where decay has acted and [Q] Figs. 1c and 3 compare."""
    d, c = comparison.late_decay, comparison.late_constant
    w = f"x ∈ [{collapse.LATE_WINDOW[0]:g}, {collapse.LATE_WINDOW[1]:g}]"
    if not (math.isfinite(d) and math.isfinite(c)):
        return f"On {w} one of the two ratios is undefined, so the schedules cannot be compared there."
    head = f"On {w}, Δ/σ̄ = {_r(d)} with decay and {_r(c)} at constant learning rate (each ladder with its own L0)"
    if comparison.decay_tighter_late:
        return head + f": decay is the tighter there, by a factor {_r(c / d)}."
    return head + ": decay is not the tighter there either."


def schedule_collapse_text(result) -> str:
    """Whether every decaying schedule supercollapses ([Q] Fig. 1d), from `analysis.schedules.ScheduleCollapse`."""
    d = result.decaying
    if d.empty:
        return "This ladder has no decaying schedule."
    lo, hi = d["window_mean_ratio"].min(), d["window_mean_ratio"].max()
    span = f"Δ/σ̄ on x ∈ [{collapse.WINDOW[0]:g}, {collapse.WINDOW[1]:g}] lies between {_r(lo)} and {_r(hi)}"
    if result.every_decay_supercollapses:
        head = f"Every decaying schedule supercollapses, as in the paper's Fig. 1d: {span}."
    else:
        fails = ", ".join(d.loc[d["verdict"] != "supercollapse", "label"])
        head = (f"Not every decaying schedule supercollapses here ({span}); the exceptions: {fails}. The paper's "
                "Fig. 1d finds that every one does.")
    n = len(d)
    return head + (f" {result.decay_beats_constant} of the {n} decaying schedules collapse more tightly than the "
                   "constant learning rate.")


def short_decay_text(result) -> str:
    """Where the schedules that decay over their last part only reach Δ < σ̄ for good (`ScheduleCollapse`)."""
    d = result.short_decays
    if d.empty:
        return ""
    where = ", ".join(f"{lab} {'never' if not math.isfinite(o) else f'x = {o:.2f}'}"
                      for lab, o in zip(d["label"], d["onset"]))
    start = ", ".join(f"{1 - f:g}" for f in sorted(set(d["decay_frac"])))
    if result.short_decays_onset_in_decay:
        return (f"The schedules that decay over their last part only reach Δ < σ̄ for good once their decay has begun "
                f"(at x = {start}): {where}. Until then they collapse as the constant learning rate does.")
    return (f"The schedules that decay over their last part only (decay from x = {start}) reach Δ < σ̄ for good at: "
            f"{where}; not every one of them waits for its decay.")


def quality_text(q) -> str:
    """The slope of log Δ against log(η(1 − τ̂)) near the end against the theory's ½ (SPEC §8, [Q] Fig. 8)."""
    if not math.isfinite(q.slope):
        return "Too few points have Δ > 0 near the end to fit the slope."
    head = (f"Pooled over every schedule, log Δ rises with log(η(1 − τ̂)) at slope {_r(q.slope)} ± {_r(q.se, '.2g')} "
            f"(bootstrap over each width's seeds) on x ∈ [{q.window[0]:g}, {q.window[1]:g}]")
    if q.consistent_with_half:
        return head + ": consistent with the theory's ½, as in the paper's Fig. 8."
    return head + ": more than two errors from the theory's ½, unlike the paper's Fig. 8."


def noise_universal_text(table: pd.DataFrame) -> str:
    """How universal Buvar/(L − L0) is across widths ([Q] Figs. 7, 14), from `schedules.noise_ratio_table`."""
    n, within, along = len(table), int(table["widths_within_seed_noise"].sum()), int(table["x_dominates"].sum())
    return (f"For {within} of the {n} schedules the widths differ by less than seeds do at fixed x (rms relative "
            f"spread across widths {_r(table['cross_rms'].median())}, across seeds {_r(table['within_rms'].median())}, "
            f"medians over schedules), and for {along} of them the ratio changes more along x "
            f"(median {_r(table['x_rms'].median())}) than across widths: "
            + ("a function of x alone, as the paper's Figs. 7 and 14 find." if within == n and along == n else
               "not everywhere the function of x alone that the paper's Figs. 7 and 14 find."))


def nomup_text(mup: collapse.Collapse, nomup: collapse.Collapse, finals: pd.DataFrame) -> str:
    """µP against no µP ([Q] Fig. 4 top): the two ladders' Δ/σ̄ and how close their final losses are."""
    rm, rn = mup.window_mean_ratio, nomup.window_mean_ratio
    diff = finals[[c for c in finals.columns if c.startswith("relative difference")][0]].abs()
    close = (f"their seed-mean final losses differ by {100 * diff.min():.2g}% to {100 * diff.max():.2g}% across "
             "widths")
    if rn > rm:
        return (f"Without µP, Δ/σ̄ on x ∈ [{mup.window[0]:g}, {mup.window[1]:g}] rises from {_r(rm)} to {_r(rn)}, "
                f"while {close}: the normalized curves fan out even where the final losses nearly agree, as in "
                "the paper's Fig. 4 (top).")
    return (f"Here dropping µP does not widen the spread: Δ/σ̄ is {_r(rn)} without µP against {_r(rm)} with it "
            f"({close}), unlike the paper's Fig. 4 (top).")


def offset_text(summary: pd.DataFrame) -> str:
    """Which offset gives the smallest window mean of Δ/σ̄ (σ at the same offset), and whether it is the fitted L0
    ([Q] Fig. 2); `summary` is `charts.collapse.offset_summary`."""
    col = next(c for c in summary.columns if c.startswith("mean Δ/σ̄"))
    L0 = summary.loc[summary["offset L̂"] == "L0"].iloc[0]
    at_L0 = float(L0[col])
    # Offsets equal to the fitted L0 (L̂ = 0 when the fit sits at its bound) are the same normalization.
    same = summary[(summary["offset L̂"] != "L0") & (summary["value"] == L0["value"])]["offset L̂"].tolist()
    others = summary[(summary["offset L̂"] != "L0") & (summary["value"] != L0["value"])]
    if not len(others):
        how = "Every offset equals the fitted L0 here, so there is nothing to compare."
    elif at_L0 <= others[col].min():
        how = (f"The fitted L0 gives the smallest mean Δ/σ̄ ({_r(at_L0)}); every other offset collapses worse against "
               "its own noise floor, as in the paper's Fig. 2.")
    else:
        best = others.loc[others[col].idxmin()]
        how = (f"Here L̂ = {best['offset L̂']} gives a smaller mean Δ/σ̄ ({_r(float(best[col]))}) than the fitted L0 "
               f"({_r(at_L0)}), unlike the paper's Fig. 2: here the fitted L0 is not the offset that collapses best.")
    if same:
        how += f" (L̂ = {', '.join(same)} coincides with the fitted L0 here.)"
    return how


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


def published_schedules_text(comparison: collapse.ScheduleComparison | None) -> str:
    """Decay against constant LR on the authors' runs, on both windows; or which parameter would give it."""
    if comparison is None:
        return ("To compare the schedules on the authors' runs as well, give both `published_logs` (constant LR) and "
                "`published_decay_logs` (the same ladder with decay).")
    return ("On the authors' runs: " + schedule_text(comparison.decay, comparison.constant) + " "
            + late_text(comparison))


def trend_text(trend: pd.DataFrame, result: collapse.Collapse, check: collapse.Collapse, gamma_factor: float) -> str:
    """Why Δ sits where it does: is the spread ordered by size, and does another data exponent collapse better?"""
    off = trend["offset"].to_numpy()
    inside = (result.x >= result.window[0]) & (result.x <= result.window[1])
    sig = float(np.nanmean(result.sigma_mean[inside]))
    steps = np.diff(off)
    if len(off) > 2 and (np.all(steps > 0) or np.all(steps < 0)):
        first = (f"Over the window the widths' seed-mean normalized curves are ordered by size: from "
                 f"{off[0]:+.2%} (smallest) to {off[-1]:+.2%} (largest) of the mean over all runs, a spread of "
                 f"{off.max() - off.min():.2%} against a mean noise floor σ̄ of {sig:.2%}. A spread ordered by "
                 "size is a size-dependent shape, not seed noise.")
    else:
        first = (f"Over the window the widths' seed-mean normalized curves sit within {off.max() - off.min():.2%} of "
                 f"each other (mean noise floor σ̄: {sig:.2%}), in no systematic order of size.")
    better = check.window_mean_ratio < 0.8 * result.window_mean_ratio
    second = (f" The same ladder trained with the data exponent multiplied by {gamma_factor:g} gives "
              f"Δ/σ̄ = {_r(check.window_mean_ratio)} on the window (onset {_r(check.onset, '.2f')}), against "
              f"{_r(result.window_mean_ratio)} at the fitted exponent: "
              + ("that horizon collapses clearly better, so the fitted γ is a likely culprit."
                 if better else "a different horizon exponent does not remove the spread."))
    return first + second


def estimate_text(value: float, se: float, digits: int = 3) -> str:
    """`value ± se`, or the value and why it has no error bar (one seed per size: nothing to resample)."""
    if math.isfinite(se):
        return f"{value:.{digits}f} ± {se:.{digits}f}"
    return f"{value:.{digits}f} (one seed per size: no bootstrap error)"


def best_offset(summary: pd.DataFrame) -> str:
    """The label of the offset with the smallest window mean of Δ/σ̄ in `charts.collapse.offset_summary`."""
    col = next(c for c in summary.columns if c.startswith("mean Δ/σ̄"))
    return str(summary.loc[summary[col].idxmin(), "offset L̂"])


def reproduction(head) -> dict[str, str]:
    """Per figure of [Q] that the headline measures (`study.Headline`): "reproduced", or "differs" and why."""
    s = head.schedules
    d, c = s.decay.window_mean_ratio, s.constant.window_mean_ratio
    best = best_offset(offset_summary(head.offsets))
    const = {"collapse": "reproduced", "supercollapse": "differs: below σ̄ even without decay",
             "no collapse": "differs: no collapse"}
    return {
        "verdict_fig1a": ("differs: L0 sits at its bound 0" if s.decay.L0 <= 0 else
                          "reproduced: the law fits with L0 > 0"),
        "verdict_fig1c": "reproduced" if d < 1 else f"differs: Δ/σ̄ = {_r(d)} > 1, no supercollapse",
        "verdict_fig2": "reproduced" if best == "L0" else f"differs: L̂ = {best} collapses best",
        "verdict_fig3": const[diagnose.verdict(c)] if math.isfinite(c) else "undefined",
        "verdict_late": ("reproduced" if s.decay_tighter_late else
                         "differs: decay is not the tighter late in training"),
    }


def headline(head) -> dict:
    """What the landing page glues from `study.Headline`: the numbers, the verdicts and one summary paragraph."""
    s, h = head.schedules, head.horizon
    widths = sorted(head.decay["D"].unique())
    seeds = head.decay.groupby("D")["seed"].nunique().min()
    d, c = s.decay.window_mean_ratio, s.constant.window_mean_ratio
    said = {"supercollapse": "the widths agree better than seed-mates do: supercollapse, as in the paper",
            "collapse": "the widths agree to about the seed noise but not below it: collapse without supercollapse, "
                        "unlike the paper",
            "no collapse": "the widths' normalized curves do not collapse, unlike the paper"}
    text = (f"On the book's own MLP ladder at the `{head.scale}` scale (widths D = {', '.join(map(str, widths))}, "
            f"{seeds} seeds each, every width trained to its compute-optimal horizon), with linear decay "
            f"Δ/σ̄ averages {_r(d)} ± {_r(s.decay_se, '.2g')} over x ∈ [{s.decay.window[0]:g}, "
            f"{s.decay.window[1]:g}], so {said[diagnose.verdict(d)] if math.isfinite(d) else 'no verdict'}. "
            f"At constant learning rate it is {_r(c)} ± {_r(s.constant_se, '.2g')}. " + late_text(s))
    return {"headline_text": text, "gamma": h.gamma, "gamma_se": h.gamma_se, "L0": s.decay.L0,
            "b": s.decay.fit.b if s.decay.fit else float("nan"), "ratio_decay": d, "ratio_decay_se": s.decay_se,
            "ratio_const": c, "ratio_const_se": s.constant_se, "late_decay": s.late_decay,
            "late_const": s.late_constant, "best_offset": best_offset(offset_summary(head.offsets)),
            **reproduction(head)}


# ---------------------------------------------------------------------------------------------------------------
# The SGD-noise model (chapter 17; SPEC §9)


def alpha_text(alpha, paper: float, theory: float) -> str:
    """How α was obtained (`analysis.schedules.Alpha`) and whether it agrees with [Q]'s value and the theory's ¼."""
    if alpha.source != "fit":
        return (f"α = {alpha.value:.3g} is given as a parameter of this page, not fitted: it is compared with [Q]'s "
                f"{paper:g} and the theory's {theory:g} only by its prediction errors below.")
    on = (f"the curves past {PAST:.0%} of training" if alpha.on == "curve"
          else "the final points (the decay gains)")
    lo, hi = alpha.ci
    head = (f"α = {alpha.value:.3f} ± {_r(alpha.se, '.2g')}, one least-squares fit of L − L_const(τ) on the noise "
            f"term (s − 1)·Buvar over {on}: {alpha.n_points} evaluations of {alpha.n_runs} scheduled runs (the error "
            f"is the standard deviation over bootstrap resamples of the runs; 95% interval "
            f"[{_r(lo, '.3f')}, {_r(hi, '.3f')}]).")
    if not math.isfinite(alpha.se):
        return head + f" With no bootstrap error it cannot be compared with [Q]'s {paper:g} or the theory's {theory:g}."

    def agree(v, who):
        return (f"consistent with {who} {v:g}" if alpha.consistent_with(v)
                else f"{'above' if alpha.value > v else 'below'} {who} {v:g} by more than two bootstrap errors")
    ours, theirs = agree(paper, "[Q]'s MLP value"), agree(theory, "the theory's")
    tail = "." if alpha.consistent_with(paper) else ", unlike the paper's fit."
    return head + f" It is {ours} and {theirs}" + tail


def noise_model_text(model) -> str:
    """Whether each recipe (`NoiseModel.predicts_decay_gain` and its predictive twin) explains the decay gain."""
    e = model.errors().set_index("recipe")

    def one(recipe, ok, name):
        r = e.loc[recipe]
        return (f"{name} misses the final loss by {_r(r['median_final_error'])} (median over runs; worst "
                f"{_r(r['worst_final_error'])}) against a median decay gain of {_r(r['median_gain_observed'])}: "
                + ("it explains most of what decay buys" if ok else
                   "it does not explain the gain better than assuming that, at equal τ, the schedule changes "
                   "nothing"))
    paper = one("paper", model.predicts_decay_gain, "[Q]'s recipe (each run's own Buvar)")
    return (paper + (", as in the paper." if model.predicts_decay_gain else ", unlike the paper.") + " "
            + one("predictive", model.predictive_predicts_decay_gain, "The predictive variant (the reference's Buvar)")
            + ".")


def noise_terms_text(terms) -> str:
    """Which of the two terms of ¼·Tr δ(ηΣ) is the larger (`NoiseTerms.eta_dominates`), as [Q] Fig. 13 asks."""
    ratio = terms.rms_sigma / terms.rms_eta if terms.rms_eta > 0 else float("nan")
    if terms.eta_dominates:
        return (f"Past {PAST:.0%} of training the η·Tr δΣ term is {_r(ratio, '.2g')} times the δη·Tr Σ term in rms "
                "over every run: the learning rate's own change dominates, as in [Q] Fig. 13, so the model's one term "
                "carries most of what the schedule does to the noise.")
    return (f"Past {PAST:.0%} of training the η·Tr δΣ term is {_r(ratio, '.2g')} times the δη·Tr Σ term in rms "
            "over every run: here the change of the noise itself is not negligible, unlike [Q] Fig. 13, so the model's "
            "δη·Tr Σ term alone leaves part of the schedule's effect out.")


def held_out_text(predicts: bool) -> str:
    """What `analysis.schedules.held_out_predicts_decay_gain` found."""
    if predicts:
        return ("For most schedules, α fitted without them still predicts their final loss to better than their "
                "decay gain: the constant is not tuned to each schedule.")
    return ("For most schedules, α fitted without them does not predict their final loss to better than their decay "
            "gain: here the model does not transfer to a schedule it was not fitted on.")


def check_text(check) -> str:
    """The prediction of one schedule from one constant-LR run against the trained run (`PredictionCheck`)."""
    head = (f"predicted before it was trained, the {check.label} run's final loss is off by "
            f"{_r(check.final_error, '+.2g')} (prediction minus trained run; root-mean-square error "
            f"{_r(check.rmse, '.2g')} past {PAST:.0%} of training), against a decay gain of "
            f"{_r(check.gain_observed, '.2g')} observed and {_r(check.gain_predicted, '.2g')} predicted")
    return head + (": the prediction captures the gain." if check.predicts_decay_gain
                   else ": the prediction misses by more than the gain itself.")


def jax_install(extra: str = "cuda12") -> str:
    """The command that puts an accelerator build of the pinned JAX in this environment, as a Markdown code block."""
    from importlib.metadata import version

    return (f'```bash\npip install -U "jax[{extra}]=={version("jax")}"   # the JAX this package pins, built for CUDA 12\n'
            'python -c "import jax; print(jax.devices())"   # lists the accelerator, not CpuDevice\n```')
