"""Charts of the SGD-noise model (SPEC §9; [Q] Figs. 6/12, 13): observed curves against both recipes'
predictions and the constant-LR reference at equal τ, decay gains, the two noise terms, and a schedule's curve
predicted from one constant-LR run.

Builders take `analysis.schedules` results and return Altair charts; chapters display them with
`charts.show(chart, caption)`. Curves are averaged over seeds (the runs of one size, horizon and schedule share
their evaluation steps), thinned and rounded like every chart of the book.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ...analysis import schedules as noise
from . import HEIGHT, LOG, LOG_X, LOG_Y, PANEL, PANEL_POINTS, WIDTH, compact, thin, zoom

KINDS = ("observed", "predicted ([Q]'s recipe)", "constant LR at equal τ")
DASHES = ([1, 0], [6, 3], [2, 2])
RECIPES = {"paper": "[Q]'s recipe (the run's own Buvar)", "predictive": "predictive (the reference's Buvar)"}


def prediction(curve: pd.DataFrame, label: str, title: str = "") -> alt.Chart:
    """The reference's loss at equal τ and the predicted loss of schedule `label` against step, log-log
    (`analysis.schedules.predict_schedule`'s frame)."""
    data = curve[curve["step"] > 0]
    long = pd.concat([pd.DataFrame({"step": data["step"], "loss": data["loss_const"], "curve": "constant LR at equal τ"}),
                      pd.DataFrame({"step": data["step"], "loss": data["loss_pred"], "curve": f"predicted: {label}"})])
    return (
        alt.Chart(long, title=title, width=WIDTH, height=HEIGHT)
        .mark_line()
        .encode(x=alt.X("step", scale=alt.Scale(type="log"), title="step"),
                y=alt.Y("loss", scale=alt.Scale(type="log", nice=False), title="test loss"),
                color=alt.Color("curve", title=None),
                tooltip=["curve", "step", alt.Tooltip("loss", format=".4g")])
        .interactive()
    )


def _tip(col: str, title: str | None = None, fmt: str = ".4g") -> alt.Tooltip:
    return alt.Tooltip(col, format=fmt, title=title or col)


def _seed_mean(curves: pd.DataFrame, size: str, values) -> pd.DataFrame:
    """Per size, horizon, schedule and x: the mean over seeds of `values`, with the schedule's label."""
    keys = [size, "T", "schedule", "decay_frac", "x"]
    out = curves.groupby(keys, sort=False)[list(values)].mean().reset_index()
    out["label"] = [noise.variant_label(s, f) for s, f in zip(out["schedule"], out["decay_frac"])]
    return out


def _series(df: pd.DataFrame, size: str, color: str | None, widths: dict) -> tuple[pd.DataFrame, str | None]:
    """A legend column for `color`: "width D" from the size, "horizon" as T relative to the middle one, or none."""
    if color is None:
        return df, None
    if color == "width":
        d = df[size].map(lambda p: widths.get(float(p), p)) if widths else df[size]
        return df.assign(series=[f"D = {v:g}" for v in d]), "width"
    if color == "horizon":  # relative to the middle horizon: the compute-optimal one of `schedules_horizons`
        ts = np.sort(df["T"].unique())
        base = ts[len(ts) // 2]
        return df.assign(series=[f"T × {t / base:.2g}" for t in df["T"]]), "horizon"
    raise ValueError(f"color={color!r}; valid: None, 'width', 'horizon'")


def curve_panels(model: noise.NoiseModel, *, color: str | None = None, widths: dict | None = None,
                 title: str = "") -> alt.HConcatChart:
    """One panel per schedule: the seed-mean observed loss, [Q]'s prediction and the constant-LR reference at the
    run's τ against progress x, one colour per width or horizon ([Q] Figs. 6/12)."""
    size = model.size_column
    mean = _seed_mean(model.curves(), size, ("loss", "pred", "L_const"))
    mean, legend = _series(mean, size, color, widths or {})
    long = pd.concat([mean.assign(kind=k, value=mean[c]) for k, c in zip(KINDS, ("loss", "pred", "L_const"))],
                     ignore_index=True)
    long = long[(long["x"] > 0) & (long["value"] > 0)]
    by = ["label", "kind"] + (["series"] if legend else [])
    long = compact(thin(long[by + ["x", "value", "T"]], PANEL_POINTS, by=by, order="x"))
    lo, hi = long["value"].min(), long["value"].max()
    dash = alt.StrokeDash("kind:N", title=None, scale=alt.Scale(domain=list(KINDS), range=list(DASHES)))
    enc = dict(x=alt.X("x:Q", title="progress x", scale=alt.Scale(domain=[0, 1])),
               y=alt.Y("value:Q", title="test loss", scale=alt.Scale(type="log", nice=False, domain=[lo, hi]),
                       axis=LOG_Y), strokeDash=dash,
               tooltip=["label", "kind"] + (["series"] if legend else []) + [_tip("x"), _tip("value", "loss")])
    if legend:
        enc["color"] = alt.Color("series:N", title=legend, sort=sorted(long["series"].unique()))
    labels = list(dict.fromkeys(noise.variant_label(p.schedule, p.decay_frac)
                                for p in sorted(model.pairs, key=lambda p: (p.schedule, p.decay_frac))))
    panels = [zoom(alt.Chart(long[long["label"] == lab]).mark_line(strokeWidth=1.4).encode(**enc)
                   .properties(title=lab, width=PANEL[0], height=PANEL[1])) for lab in labels]
    return alt.hconcat(*panels, title=title)


def gains(model: noise.NoiseModel, *, title: str = "") -> alt.LayerChart:
    """Observed against predicted decay gain L_const(τ_end) − L_end per run, both recipes, and the line y = x."""
    r = model.per_run
    label = [noise.variant_label(s, f) for s, f in zip(r["schedule"], r["decay_frac"])]
    df = pd.concat([pd.DataFrame({"recipe": RECIPES[k], "schedule": label, "size": r[model.size_column],
                                  "T": r["T"], "seed": r["seed"].astype(str), "observed": r["gain_observed"],
                                  "predicted": r[f"gain_predicted{suffix}"]})
                    for k, suffix in (("paper", ""), ("predictive", "_reference"))], ignore_index=True)
    df = compact(df)
    lo, hi = float(df[["observed", "predicted"]].min().min()), float(df[["observed", "predicted"]].max().max())
    line = compact(pd.DataFrame({"observed": [lo, hi], "predicted": [lo, hi], "line": "predicted = observed"}))
    points = alt.Chart(df).mark_point(filled=True, size=40, opacity=0.75).encode(
        x=alt.X("observed:Q", title="observed decay gain L_const(τ_end) − L_end", scale=alt.Scale(zero=False)),
        y=alt.Y("predicted:Q", title="predicted decay gain", scale=alt.Scale(zero=False)),
        color=alt.Color("recipe:N", title=None, legend=alt.Legend(orient="bottom")),
        shape=alt.Shape("recipe:N", title=None),
        tooltip=["recipe", "schedule", _tip("size", model.size_column, ".3g"), _tip("T", "T", ".4g"), "seed",
                 _tip("observed", "observed gain"), _tip("predicted", "predicted gain")])
    rule = alt.Chart(line).mark_line(color="gray", strokeDash=[4, 3]).encode(x="observed:Q", y="predicted:Q",
                                                                               tooltip=["line"])
    return zoom(alt.layer(points, rule).properties(title=title, width=WIDTH, height=HEIGHT))


TERM_NAMES = {"term_eta": "|α·δη·Tr Σ|", "term_sigma": "|α·η·Tr δΣ|"}


def terms(model: noise.NoiseModel, *, title: str = "") -> alt.HConcatChart:
    """[Q] Fig. 13: the seed-mean magnitudes of the two terms of ¼·Tr δ(ηΣ), in loss units (times the fitted α),
    along the run, one panel per schedule."""
    size = model.size_column
    c = model.curves()
    c = c.assign(term_eta=(model.alpha.value * c["term_eta"]).abs(),
                 term_sigma=(model.alpha.value * c["term_sigma"]).abs())
    mean = _seed_mean(c, size, TERM_NAMES)
    long = pd.concat([mean.assign(term=name, value=mean[col]) for col, name in TERM_NAMES.items()],
                     ignore_index=True)
    long = long[(long["x"] > 0) & (long["value"] > 0)]
    long = compact(thin(long[["label", "term", "x", "value"]], PANEL_POINTS, by=["label", "term"], order="x"))
    enc = dict(x=alt.X("x:Q", title="progress x", scale=alt.Scale(domain=[0, 1])),
               y=alt.Y("value:Q", title="term (loss units)", scale=LOG, axis=LOG_Y),
               color=alt.Color("term:N", title=None, sort=list(TERM_NAMES.values())),
               tooltip=["label", "term", _tip("x"), _tip("value", "value")])
    labels = list(dict.fromkeys(long.sort_values("label")["label"]))
    return alt.hconcat(*[zoom(alt.Chart(long[long["label"] == lab]).mark_line(strokeWidth=1.4).encode(**enc)
                              .properties(title=lab, width=PANEL[0], height=PANEL[1])) for lab in labels],
                       title=title)


def check(result: noise.PredictionCheck, *, title: str = "") -> alt.LayerChart:
    """A schedule predicted from one constant-LR run (before training it) against the run trained afterwards,
    and the constant-LR run at equal τ, against step (log-log)."""
    c = result.curve[result.curve["step"] > 0]
    names = {"loss": f"trained: {result.label}", "loss_pred": f"predicted: {result.label}",
             "loss_const": "constant LR at equal τ"}
    long = pd.concat([pd.DataFrame({"step": c["step"], "loss": c[col], "curve": name}) for col, name in names.items()],
                     ignore_index=True)
    long = compact(thin(long[long["loss"] > 0], by="curve", order="step"))
    return zoom(alt.Chart(long).mark_line(strokeWidth=1.5).encode(
        x=alt.X("step:Q", scale=LOG, axis=LOG_X, title="step"),
        y=alt.Y("loss:Q", scale=LOG, axis=LOG_Y, title="test loss"),
        strokeDash=alt.StrokeDash("curve:N", title=None,
                                  scale=alt.Scale(domain=list(names.values()), range=list(DASHES))),
        color=alt.Color("curve:N", title=None, scale=alt.Scale(domain=list(names.values()))),  # one legend
        tooltip=["curve", _tip("step", "step", "d"), _tip("loss", "loss")]).properties(
        title=title, width=WIDTH, height=HEIGHT))
