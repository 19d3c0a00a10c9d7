"""Charts of the chapter "Every schedule collapses": ℓ(x) per schedule ([Q] Fig. 1d), Δ against σ̄ per schedule,
the collapse quality against η(1 − τ̂) (Figs. 1f, 8) and the noise ratio Buvar/(L − L0) (Figs. 7, 14)."""
from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from ...analysis import collapse
from ...analysis.schedules import NoiseRatio, QualitySlope, variant_label
from . import HEIGHT, LOG, LOG_X, LOG_Y, PANEL, PANEL_POINTS, WIDTH, compact, thin, zoom
from .collapse import _seed_bands, _tip, _window, normalized_curves, width_of

Variant = tuple[str, float]


def _labels(results: Mapping[Variant, object]) -> list[str]:
    return [variant_label(*v) for v in results]


def schedule_shapes(frame: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """η/η_peak against x of every schedule, read from the logged `lr` of one run each (SPEC §5)."""
    first = frame[frame["run"].isin(frame.groupby(["schedule", "decay_frac"])["run"].first())]
    df = pd.DataFrame({"schedule": [variant_label(s, f) for s, f in zip(first["schedule"], first["decay_frac"])],
                       "x": first["compute"] / first.groupby("run")["compute"].transform("max"),
                       "s": first["lr"] / first.groupby("run")["lr"].transform("max")})
    df = compact(thin(df, by="schedule", order="x"), digits=3)
    order = list(dict.fromkeys(df["schedule"]))
    return zoom(alt.Chart(df).mark_line(strokeWidth=1.5).encode(
        x=alt.X("x:Q", title="normalized compute x"), y=alt.Y("s:Q", title="η / η_peak"),
        color=alt.Color("schedule:N", sort=order, title="schedule"),
        tooltip=["schedule", _tip("x"), _tip("s", "η/η_peak")],
    ).properties(title=title, width=WIDTH, height=HEIGHT))


def normalized_panels(ladders: Mapping[str, tuple[collapse.Collapse, pd.DataFrame]], *,
                      title: str = "") -> alt.HConcatChart:
    """`charts.collapse.normalized_curves` of several ladders side by side (e.g. µP and no µP, [Q] Fig. 4 top)."""
    return alt.hconcat(*[normalized_curves(r, f, title=name) for name, (r, f) in ladders.items()], title=title)


def schedule_curves(results: Mapping[Variant, collapse.Collapse], frame: pd.DataFrame | None = None, *,
                    title: str = "") -> alt.Chart:
    """ℓ(x) of every schedule, the seed mean per width, coloured by schedule: each schedule's widths lie on one
    curve, and the schedules' curves differ ([Q] Fig. 1d). Each with the L0 of its `Collapse`."""
    parts = []
    for v, r in results.items():
        g = r.grid
        df = _seed_bands(g.x, r.ell, g.size, r.sizes, width_of(frame), g.size_column)
        parts.append(df[df["mean"] > 0].assign(schedule=variant_label(*v))[["schedule", "D" if "D" in df else
                                                                             g.size_column, "x", "mean"]])
    df = pd.concat(parts, ignore_index=True)
    size = "D" if "D" in df.columns else df.columns[1]
    df = compact(thin(df, 2 * PANEL_POINTS, by=["schedule", size], order="x"), digits=3)
    return zoom(alt.Chart(df).mark_line(strokeWidth=1.3, opacity=0.85).encode(
        x=alt.X("x:Q", title="normalized compute x = C / C_final"),
        y=alt.Y("mean:Q", scale=LOG, axis=LOG_Y, title="ℓ(x), seed mean per width"),
        color=alt.Color("schedule:N", sort=_labels(results), title="schedule"),
        detail=f"{size}:O",
        tooltip=["schedule", size, _tip("x"), _tip("mean", "mean ℓ over seeds")],
    ).properties(title=title, width=WIDTH, height=HEIGHT))


def delta_sigma_panels(results: Mapping[Variant, collapse.Collapse], *, title: str = "") -> alt.HConcatChart:
    """One panel per schedule: Δ(x) over all runs (solid) and σ̄(x) (dashed), log y, the window shaded."""
    panels = []
    for v, r in results.items():
        df = pd.DataFrame({"x": np.tile(r.x, 2), "value": np.r_[r.delta, r.sigma_mean],
                           "curve": np.repeat(["Δ", "σ̄"], len(r.x)), "ratio": np.tile(r.ratio, 2)})
        df = compact(thin(df[df["value"] > 0], PANEL_POINTS, by="curve", order="x"), digits=3)
        lines = alt.Chart(df).mark_line(color="black", strokeWidth=1.6).encode(
            x=alt.X("x:Q", title="x", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("value:Q", scale=LOG, axis=LOG_Y, title="Δ and σ̄"),
            strokeDash=alt.StrokeDash("curve:N", title=None,
                                      scale=alt.Scale(domain=["Δ", "σ̄"], range=[[1, 0], [6, 3]])),
            tooltip=["curve", _tip("x"), _tip("value"), _tip("ratio", "Δ / σ̄")])
        panels.append(zoom((_window(r.window) + lines).properties(
            title=f"{variant_label(*v)}: Δ/σ̄ = {r.window_mean_ratio:.2f}", width=PANEL[0], height=PANEL[1])))
    return alt.hconcat(*panels, title=title)


def _ols_line(x: np.ndarray, y: np.ndarray, slope: float, label: str) -> pd.DataFrame:
    """A line of the given log-log slope through the geometric means of the positive points (where least
    squares puts it), over their range of x."""
    keep = (x > 0) & (y > 0)
    lx, ly = np.log(x[keep]), np.log(y[keep])
    ends = np.array([lx.min(), lx.max()])
    return pd.DataFrame({"px": np.exp(ends), "py": np.exp(ly.mean() + slope * (ends - lx.mean())), "line": label})


def quality(q: QualitySlope, *, title: str = "") -> alt.HConcatChart:
    """Left: Δ against η(1 − τ̂) near the end with the pooled fit; right: Δ/sqrt(η) against 1 − τ̂ with slope ½
    ([Q] Figs. 1f, 8)."""
    pts = q.points.assign(one_minus=1 - q.points["tau_hat"],
                          scaled=q.points["delta"] / np.sqrt(q.points["eta"]))
    pts = compact(pts[(pts["predictor"] > 0) & (pts["delta"] > 0)][
        ["label", "x", "delta", "eta", "one_minus", "predictor", "scaled"]], digits=3)
    color = alt.Color("label:N", title="schedule", sort=list(dict.fromkeys(q.points["label"])))
    tips = ["label", _tip("x"), _tip("delta", "Δ"), _tip("eta", "η/η_peak"), _tip("one_minus", "1 − τ̂")]

    def panel(xcol, ycol, xtitle, ytitle, slope, label, name):
        line = compact(_ols_line(pts[xcol].to_numpy(), pts[ycol].to_numpy(), slope, label), digits=3)
        dots = alt.Chart(pts).mark_point(size=18, filled=True, opacity=0.7).encode(
            x=alt.X(f"{xcol}:Q", scale=LOG, axis=LOG_X, title=xtitle),
            y=alt.Y(f"{ycol}:Q", scale=LOG, axis=LOG_Y, title=ytitle), color=color, tooltip=tips)
        fit = alt.Chart(line).mark_line(color="black", strokeDash=[6, 3]).encode(
            x="px:Q", y="py:Q", tooltip=["line"])
        return zoom((dots + fit).properties(title=name, width=PANEL[0], height=PANEL[1]))

    left = panel("predictor", "delta", "η(1 − τ̂)", "Δ", q.slope, f"pooled fit: slope {q.slope:.2f}",
                 f"Δ against η(1 − τ̂), x ∈ [{q.window[0]:g}, {q.window[1]:g}]")
    right = panel("one_minus", "scaled", "1 − τ̂", "Δ / sqrt(η)", 0.5, "slope ½ (theory)", "Δ/sqrt(η) against 1 − τ̂")
    return alt.hconcat(left, right, title=title)


def noise_ratio_panels(ratios: Mapping[Variant, NoiseRatio], widths: Mapping | None = None, *,
                       title: str = "") -> alt.HConcatChart:
    """One panel per schedule: Buvar/(L − L0) against x, the seed mean per width with ± one seed std as a band
    ([Q] Figs. 7, 14: one curve for every width)."""
    panels = []
    for v, r in ratios.items():
        df = r.curves()
        size = r.size_column
        if widths and size == "P":
            df.insert(0, "D", [widths.get(float(p), -1) for p in df["P"]])
            size = "D"
        df = df.assign(lo=df["ratio"] - df["ratio_std"], hi=df["ratio"] + df["ratio_std"])
        df = compact(thin(df[df["ratio"] > 0][[size, "x", "ratio", "lo", "hi"]], PANEL_POINTS, by=size, order="x"),
                     digits=3)
        df["lo"] = df["lo"].clip(lower=df["ratio"] * 0.05)  # a log axis cannot draw a band below zero
        color = alt.Color(f"{size}:O", scale=alt.Scale(scheme="viridis"), title="width D" if size == "D" else size)
        tips = [size, _tip("x"), _tip("ratio", "Buvar/(L − L0), seed mean")]
        x = alt.X("x:Q", title="x", scale=alt.Scale(domain=[0, 1]))
        band = alt.Chart(df).mark_area(opacity=0.2).encode(x=x, y=alt.Y("lo:Q", scale=LOG), y2="hi:Q", color=color,
                                                           tooltip=tips)
        line = alt.Chart(df).mark_line(strokeWidth=1.3).encode(
            x=x, y=alt.Y("ratio:Q", scale=LOG, axis=LOG_Y, title="Buvar / (L − L0)"), color=color, tooltip=tips)
        panels.append(zoom((band + line).properties(title=variant_label(*v), width=PANEL[0], height=PANEL[1])))
    return alt.hconcat(*panels, title=title)
