"""Altair charts of the theory chapters (20–22): hover for values, shift+drag to pan, shift+wheel to zoom.

Every builder takes library results (`supercollapse.theory`) and returns an Altair chart; chapters display it
with `charts.show(chart)`. Builders compute nothing but the frames they draw, and embed at most `CURVE_POINTS`
points of each exact curve (smooth, log-spaced: more would only lengthen the page).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from . import HEIGHT, LOG, LOG_X, LOG_Y, LOG_LABELS, PANEL, SIZES, WIDTH, thin, zoom
from ...theory.bridge import GammaScan, NoiseScaling, RFFrontier
from ...theory.checks import Check
from ...theory.fits import LogSlopeFit
from ...theory.power_laws import CollapseFamily
from ...theory.random_features import Curves
from ...theory.sgd import SGDCurves

CURVE_POINTS = 40  # points kept per exact curve


def _size_label(v) -> str:
    return "∞" if v is None else f"{int(v)}"


def _size_color(field: str, title: str, values) -> alt.Color:
    """Ordinal color in numeric order, "∞" last."""
    order = sorted({v for v in values if v != "∞"}, key=float) + (["∞"] if "∞" in set(values) else [])
    return alt.Color(f"{field}:O", sort=order, scale=alt.Scale(scheme=SIZES), title=title)


def _log_color(field: str) -> alt.Color:
    """Color by a size spanning decades (p = 10^1 ... 10^9): a log color scale, no log10 column embedded."""
    return alt.Color(f"{field}:Q", scale=alt.Scale(type="log", scheme=SIZES), title=field,
                     legend=alt.Legend(labelExpr=LOG_LABELS))


def _fmt(col: str, title: str | None = None, fmt: str = ".4g") -> alt.Tooltip:
    return alt.Tooltip(col, format=fmt, title=title or col)


def side_by_side(*charts, title: str = "", shared_legend: bool = False) -> alt.HConcatChart:
    """Charts in one row; each keeps its own color and dash legend unless `shared_legend`."""
    row = alt.hconcat(*charts, title=title)
    return row if shared_legend else row.resolve_scale(color="independent", strokeDash="independent")


def local_exponents(checks: Sequence[Check], *, x_titles: Sequence[str], curves: Mapping | None = None,
                    extra: Mapping | None = None, title: str = "") -> alt.HConcatChart:
    """One panel per check: its local exponent (points), the fitting window (grey), the prediction (dashed).

    `curves`: {quantity: {label: (x, exponent)}} drawn as lines in the same panel (e.g. deterministic
    equivalents); `extra`: {quantity: {label: value}} further horizontal rules (e.g. another prediction).
    """
    panels = []
    for check, x_title in zip(checks, x_titles):
        pts = pd.DataFrame({"x": check.local_x, "local exponent": check.local, "curve": "measured"})
        lines = [pd.DataFrame({"x": x, "local exponent": y, "curve": label})
                 for label, (x, y) in (curves or {}).get(check.quantity, {}).items()]
        others = (extra or {}).get(check.quantity, {})
        enc_x = alt.X("x:Q", scale=LOG, axis=LOG_X, title=x_title)
        layer = alt.Chart(pd.DataFrame({"x": [check.window[0]], "x2": [check.window[1]]})).mark_rect(
            color="#999999", opacity=0.15).encode(x=enc_x, x2="x2:Q")
        if lines:
            df = pd.concat(lines, ignore_index=True)
            layer += alt.Chart(df).mark_line(strokeWidth=1.5).encode(
                x="x:Q", y="local exponent:Q", color=alt.Color("curve:N", title=None),
                tooltip=["curve", _fmt("x"), _fmt("local exponent")])
        layer += alt.Chart(pts).mark_point(filled=True, color="black", size=22).encode(
            x="x:Q", y=alt.Y("local exponent:Q", scale=alt.Scale(zero=False), title="local exponent"),
            tooltip=["curve", _fmt("x"), _fmt("local exponent")])
        for what, value, color in [("predicted", check.predicted, "black"),
                                   *((k, v, "#d62728") for k, v in others.items())]:
            layer += alt.Chart(pd.DataFrame({"what": [what], "local exponent": [value]})).mark_rule(
                strokeDash=[5, 4], color=color).encode(y="local exponent:Q", tooltip=["what", _fmt("local exponent")])
        head = f"{check.quantity}: {check.measured:.3f} (predicted {check.predicted:.3f})"
        panels.append(zoom(layer.properties(title=head, width=PANEL[0], height=PANEL[1])))
    return alt.hconcat(*panels, title=title).resolve_scale(color="independent")


# ---------------------------------------------------------------------------------------------------------------
# Chapter 20: sums of power laws


def _gamma_label(gamma: float, gamma_star: float | None) -> str:
    if gamma_star is None:
        return f"gamma = {gamma:.3f}"
    f = gamma / gamma_star
    return f"gamma = {gamma:.3f}" + ("  (gamma*)" if abs(f - 1) < 1e-9 else f"  ({f:.2f}·gamma*)")


def collapse_families(families: Sequence[CollapseFamily], *, gamma_star: float | None = None, reference=None,
                      labels: Sequence[str] | None = None, size: str = "p", title: str = "") -> alt.HConcatChart:
    """ℓ(x) of every size, one panel per family; `reference` = ℓ(x) of a closed form on the family's x, dashed."""
    labels = labels or [_gamma_label(f.gamma, gamma_star) for f in families]
    panels = []
    for fam, label in zip(families, labels):
        df = thin(pd.DataFrame({size: np.repeat(fam.p, len(fam.x)), "x": np.tile(fam.x, len(fam.p)),
                                "ℓ": fam.ell.ravel()}), CURVE_POINTS, by=size, order="x")
        lines = alt.Chart(df).mark_line(strokeWidth=1.3, opacity=0.85).encode(
            x=alt.X("x:Q", scale=LOG, axis=LOG_X, title="normalized compute x = C/C*"),
            y=alt.Y("ℓ:Q", scale=LOG, axis=LOG_Y, title="ℓ = (L − L0)/(L* − L0)"),
            color=_log_color(size), detail=f"{size}:Q",
            tooltip=[_fmt(size, fmt=".4g"), _fmt("x"), _fmt("ℓ")],
        )
        layer = lines
        if reference is not None:
            ref = thin(pd.DataFrame({"x": fam.x, "ℓ": np.asarray(reference, dtype=float), "curve": "closed form"}),
                       CURVE_POINTS, by="curve", order="x")
            layer = lines + alt.Chart(ref).mark_line(color="black", strokeDash=[5, 4], strokeWidth=1.2).encode(
                x="x:Q", y="ℓ:Q", tooltip=["curve", _fmt("x"), _fmt("ℓ")])
        panels.append(zoom(layer.properties(width=PANEL[0], height=PANEL[1], title=label)))
    return alt.hconcat(*panels, title=title)


def deviations(series: Mapping[str, tuple], *, title: str = "", floor: float = 1e-16,
               y_title: str = "collapse deviation Δ(x)", log_x: bool = True) -> alt.Chart:
    """Δ(x) for each labelled (x, Δ); values below `floor` (exact collapse: round-off) are drawn at the floor."""
    df = pd.concat([pd.DataFrame({"case": k, "x": np.asarray(x, float), "Δ": np.maximum(np.asarray(d, float), floor)})
                    for k, (x, d) in series.items()], ignore_index=True)
    df = thin(df, CURVE_POINTS, by="case", order="x")
    return zoom(alt.Chart(df, title=title, width=WIDTH, height=HEIGHT).mark_line(strokeWidth=1.6).encode(
        x=alt.X("x:Q", **(dict(scale=LOG, axis=LOG_X) if log_x else {}), title="normalized compute x"),
        y=alt.Y("Δ:Q", scale=LOG, axis=LOG_Y, title=y_title),
        color=alt.Color("case:N", sort=list(series), title=None),
        tooltip=["case", _fmt("x"), _fmt("Δ")],
    ))


def family_deviations(families: Sequence[CollapseFamily], *, gamma_star: float | None = None,
                      title: str = "") -> alt.Chart:
    """Δ(x) of each family, labelled by its gamma relative to gamma*."""
    return deviations({_gamma_label(f.gamma, gamma_star): (f.x, f.deviation) for f in families}, title=title)


def offset_deviations(families: Sequence[CollapseFamily], L0: float, *, title: str = "") -> alt.Chart:
    """Δ(x) of the same ladder normalized with different offsets L̂ in place of L0 ([Q] Fig. 2's argument)."""
    def label(f):
        if f.offset == L0:
            return "offset L0 (exact)"
        return f"offset L0 {'+' if f.offset > L0 else '−'} {abs(f.offset - L0):.3g}"
    return deviations({label(f): (f.x, f.deviation) for f in families}, title=title)


def power_law_ladder(family: CollapseFamily, front, L0: float, *, k: float = 6.0, title: str = "") -> alt.Chart:
    """Reducible loss against compute C = k·p·t of each size up to its horizon, with the compute-optimal frontier."""
    C = k * family.p[:, None] * family.horizon[:, None] * family.x[None, :]
    df = thin(pd.DataFrame({"p": np.repeat(family.p, len(family.x)), "C": C.ravel(),
                            "L − L0": (family.loss - L0).ravel()}), CURVE_POINTS, by="p", order="C")
    fr = thin(pd.DataFrame({"C": front.C, "L − L0": front.loss - L0, "p*": front.p, "t*": front.t}), CURVE_POINTS,
              by=(), order="C")
    lines = alt.Chart(df).mark_line(strokeWidth=1.3).encode(
        x=alt.X("C:Q", scale=LOG, axis=LOG_X, title="compute C = 6·p·t"),
        y=alt.Y("L − L0:Q", scale=LOG, axis=LOG_Y, title="reducible loss L − L0"),
        color=_log_color("p"), detail="p:Q",
        tooltip=[_fmt("p", fmt=".3g"), _fmt("C"), _fmt("L − L0")])
    edge = alt.Chart(fr).mark_line(color="black", strokeDash=[5, 4]).encode(
        x="C:Q", y="L − L0:Q",
        tooltip=[_fmt("C"), _fmt("L − L0", "L* − L0"), _fmt("p*", fmt=".3g"), _fmt("t*", fmt=".3g")])
    return zoom((lines + edge).properties(title=title, width=WIDTH, height=HEIGHT))


# ---------------------------------------------------------------------------------------------------------------
# Chapter 21: the random-feature model of [B]


def _curves_frame(curves: Sequence[Curves], by: str, split: str = "test") -> pd.DataFrame:
    rows = []
    for c in curves:
        Y = c.test if split == "test" else c.train
        size = getattr(c, by)
        rows.append(pd.DataFrame({by: _size_label(size), "t": c.t, "loss": Y.mean(0), "lo": Y.mean(0) - Y.std(0),
                                  "hi": Y.mean(0) + Y.std(0), "draws": len(Y), "split": split}))
    return thin(pd.concat(rows, ignore_index=True), CURVE_POINTS, by=[by, "split"], order="t")


def rf_curves(curves: Sequence[Curves], *, by: str = "N", guide=None, title: str = "",
              x_title: str = "time t", y_title: str = "test loss L") -> alt.Chart:
    """Mean loss over draws (line) ± one standard deviation (band) for each curve; `guide` = (t, L, label) dashed."""
    df = _curves_frame(curves, by)
    df["lo"] = df["lo"].clip(lower=df["loss"] * 0.05)  # a log axis cannot show a band that reaches zero
    color = _size_color(by, by, df[by])
    base = alt.Chart(df)
    band = base.mark_area(opacity=0.2).encode(x=alt.X("t:Q", scale=LOG, axis=LOG_X, title=x_title),
                                              y=alt.Y("lo:Q", scale=LOG, axis=LOG_Y, title=y_title),
                                              y2="hi:Q", color=color)
    line = base.mark_line(strokeWidth=1.5).encode(
        x="t:Q", y="loss:Q", color=color,
        tooltip=[by, _fmt("t"), _fmt("loss", "mean loss"), _fmt("hi", "mean + std"), "draws"])
    layer = band + line
    if guide is not None:
        g = pd.DataFrame({"t": guide[0], "loss": guide[1], "guide": guide[2]})
        layer = layer + alt.Chart(g).mark_line(color="black", strokeDash=[6, 4]).encode(
            x="t:Q", y="loss:Q", tooltip=["guide", _fmt("t"), _fmt("loss")])
    return zoom(layer.properties(title=title, width=WIDTH, height=HEIGHT))


def scaling_fit(x, Y, fit: LogSlopeFit, predicted: float, *, x_title: str, y_title: str, title: str = "",
                width: int = PANEL[0], height: int = PANEL[1]) -> alt.Chart:
    """Mean ± std over draws (points, bars), the fitted power law (solid) and the predicted slope (dashed)."""
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    x = np.asarray(x, dtype=float)
    pts = pd.DataFrame({"x": x, "y": Y.mean(0), "lo": Y.mean(0) - Y.std(0), "hi": Y.mean(0) + Y.std(0)})
    pts["lo"] = pts["lo"].clip(lower=pts["y"] * 0.05)
    xs = np.geomspace(x.min(), x.max(), 50)
    mid = np.exp(np.mean(np.log([fit.x_min, fit.x_max])))
    lines = pd.concat([
        pd.DataFrame({"x": xs, "y": fit(xs), "line": "fit", "slope": fit.exponent}),
        pd.DataFrame({"x": xs, "y": fit(mid) * (xs / mid) ** predicted, "line": "predicted", "slope": predicted}),
    ])
    enc_x = alt.X("x:Q", scale=LOG, axis=LOG_X, title=x_title)
    points = alt.Chart(pts).mark_point(filled=True, color="black").encode(
        x=enc_x, y=alt.Y("y:Q", scale=LOG, axis=LOG_Y, title=y_title),
        tooltip=[_fmt("x", x_title), _fmt("y", "mean"), _fmt("hi", "mean + std")])
    bars = alt.Chart(pts).mark_rule(color="black").encode(x="x:Q", y="lo:Q", y2="hi:Q")
    fits = alt.Chart(lines).mark_line().encode(
        x="x:Q", y="y:Q", strokeDash=alt.StrokeDash("line:N", sort=["fit", "predicted"], title=None),
        color=alt.Color("line:N", sort=["fit", "predicted"], scale=alt.Scale(range=["#d62728", "#555555"]),
                        title=None),
        tooltip=["line", _fmt("slope"), _fmt("x"), _fmt("y")])
    head = f"{title}: slope {fit.exponent:.3f} (predicted {predicted:.3f})"
    return zoom((bars + points + fits).properties(title=head, width=width, height=height))


def width_correction_chart(t, correction, widths, *, title: str = "") -> alt.Chart:
    """N·(L_N(t) − L_∞(t)) against t for each width: curves coincide where the correction is ∝ 1/N."""
    df = pd.concat([pd.DataFrame({"N": str(int(N)), "t": t, "N·ΔL": row}) for N, row in zip(widths, correction)])
    df = thin(df, CURVE_POINTS, by="N", order="t")
    return zoom(alt.Chart(df, title=title, width=WIDTH, height=HEIGHT).mark_line(strokeWidth=1.5).encode(
        x=alt.X("t:Q", scale=LOG, axis=LOG_X, title="time t"),
        y=alt.Y("N·ΔL:Q", title="N · (L_N(t) − L_∞(t))"),
        color=_size_color("N", "N", df["N"]), tooltip=["N", _fmt("t"), _fmt("N·ΔL")],
    ))


def rf_frontier_chart(front: RFFrontier, *, title: str = "", width: int = PANEL[0], height: int = PANEL[1]) -> alt.Chart:
    """Draw-mean loss against compute C = N·t for each width, the frontier (black) and its power-law fit (red)."""
    df = front.frame.groupby(["P", "compute"], as_index=False)["loss"].mean()
    df = thin(df.assign(N=df["P"].astype(int).astype(str)), CURVE_POINTS, by="N")
    fr = front.horizon.frontier.dropna(subset=["loss"])
    fr = fr[fr["kept"]].assign(N=lambda d: d["P"].astype(int).astype(str))
    fit = pd.DataFrame({"compute": fr["compute"], "loss": front.loss_fit(fr["compute"])})
    lines = alt.Chart(df).mark_line(strokeWidth=1, opacity=0.7).encode(
        x=alt.X("compute:Q", scale=LOG, axis=LOG_X, title="compute C = N·t"),
        y=alt.Y("loss:Q", scale=LOG, axis=LOG_Y, title="loss L"),
        color=_size_color("N", "N", df["N"]), tooltip=["N", _fmt("compute", "C"), _fmt("loss", "L")])
    edge = alt.Chart(fr).mark_point(color="black", size=12, filled=True).encode(
        x="compute:Q", y="loss:Q",
        tooltip=[alt.Tooltip("N", title="winner N"), _fmt("compute", "C"), _fmt("loss", "L*")])
    line = alt.Chart(fit).mark_line(color="#d62728", strokeDash=[6, 3]).encode(x="compute:Q", y="loss:Q")
    return zoom((lines + edge + line).properties(title=title, width=width, height=height))


def rf_frontiers_chart(fronts: Mapping, *, title: str = "") -> alt.HConcatChart:
    """`rf_frontier_chart` for each (a, b), side by side ([B] Fig. 4)."""
    return alt.hconcat(*[rf_frontier_chart(f, title=f"a = {a:g}, b = {b:g}") for (a, b), f in fronts.items()], title=title)


def train_test(curves: Sequence[Curves], *, title: str = "") -> alt.Chart:
    """Test (solid) and train (dashed) loss of gradient flow on P samples, for each P."""
    df = pd.concat([_curves_frame(curves, "P", "test"), _curves_frame(curves, "P", "train")], ignore_index=True)
    df = df[df["loss"] > 1e-8]  # the train loss of an interpolating model falls to round-off
    return zoom(alt.Chart(df, title=title, width=WIDTH, height=HEIGHT).mark_line(strokeWidth=1.5).encode(
        x=alt.X("t:Q", scale=LOG, axis=LOG_X, title="time t"),
        y=alt.Y("loss:Q", scale=LOG, axis=LOG_Y, title="loss (mean over draws)"),
        color=_size_color("P", "P", df["P"]), strokeDash=alt.StrokeDash("split:N", sort=["test", "train"]),
        detail="split:N", tooltip=["P", "split", _fmt("t"), _fmt("loss")],
    ))


def sgd_chart(curves: Sequence[SGDCurves], *, by: str = "B", title: str = "", runs: bool = True,
        width: int = PANEL[0], height: int = PANEL[1]) -> alt.Chart:
    """One-pass SGD: simulated seeds (thin), exact mean (solid), gradient flow (dashed black), colored by `by`."""
    rows, seeds = [], []
    for c in curves:
        key = _size_label(getattr(c, by))
        rows.append(pd.DataFrame({by: key, "t": c.t, "mean": c.mean, "gradient flow": c.gradient_flow}))
        if runs:
            for i, r in enumerate(c.runs):
                seeds.append(pd.DataFrame({by: key, "t": c.t, "loss": r, "seed": i}))
    df = thin(pd.concat(rows, ignore_index=True), CURVE_POINTS, by=by, order="t")
    color = _size_color(by, by, df[by])
    x = alt.X("t:Q", scale=LOG, axis=LOG_X, title="time t = lr · step")
    mean = alt.Chart(df).mark_line(strokeWidth=2).encode(
        x=x, y=alt.Y("mean:Q", scale=LOG, axis=LOG_Y, title="test loss"), color=color,
        tooltip=[by, _fmt("t"), _fmt("mean", "exact E[L]"), _fmt("gradient flow")])
    gf = alt.Chart(df).mark_line(color="black", strokeDash=[5, 4], strokeWidth=1).encode(
        x="t:Q", y="gradient flow:Q", detail=f"{by}:O")
    layer = mean + gf
    if seeds:
        sd = thin(pd.concat(seeds, ignore_index=True), CURVE_POINTS, by=[by, "seed"], order="t")
        layer = alt.Chart(sd).mark_line(strokeWidth=0.6, opacity=0.45).encode(
            x=x, y=alt.Y("loss:Q", scale=LOG, axis=LOG_Y), color=color, detail="seed:N",
            tooltip=[by, "seed", _fmt("t"), _fmt("loss")]) + layer
    return zoom(layer.properties(title=title, width=width, height=height))


def ensembles(ensemble: Sequence[Curves], single: Sequence[Curves], counts: Sequence[int], *,
              title: str = "") -> alt.Chart:
    """Ensembles of E width-N models (solid) against one model of width E·N (dashed) at equal parameter count."""
    rows = []
    for E, ens, one in zip(counts, ensemble, single):
        rows.append(pd.DataFrame({"E": str(E), "model": f"ensemble of {E} × N={ens.N}", "kind": "ensemble",
                                  "t": ens.t, "loss": ens.mean}))
        rows.append(pd.DataFrame({"E": str(E), "model": f"one model, N={one.N}", "kind": "single wider model",
                                  "t": one.t, "loss": one.mean}))
    df = thin(pd.concat(rows, ignore_index=True), CURVE_POINTS, by="model", order="t")
    return zoom(alt.Chart(df, title=title, width=WIDTH, height=HEIGHT).mark_line(strokeWidth=1.6).encode(
        x=alt.X("t:Q", scale=LOG, axis=LOG_X, title="time t"),
        y=alt.Y("loss:Q", scale=LOG, axis=LOG_Y, title="test loss (mean over draws)"),
        color=_size_color("E", "E (models or width factor)", df["E"]),
        strokeDash=alt.StrokeDash("kind:N", title=None), detail="model:N",
        tooltip=["model", _fmt("t"), _fmt("loss")],
    ))


# ---------------------------------------------------------------------------------------------------------------
# Chapter 22: collapse in the solvable model


def gamma_scans(scans: Mapping[str, GammaScan], predicted: float, *, title: str = "") -> alt.Chart:
    """Mean collapse deviation against the ladder's exponent gamma, one line per case, predicted gamma* marked."""
    df = pd.concat([pd.DataFrame({"case": k, "gamma": sc.gammas, "mean Δ": sc.mean_deviation})
                    for k, sc in scans.items()], ignore_index=True)
    x_min = next(iter(scans.values())).x_min
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("gamma:Q", scale=alt.Scale(zero=False), title="ladder exponent gamma (t ~ N^gamma)"),
        y=alt.Y("mean Δ:Q", scale=LOG, axis=LOG_Y, title=f"mean Δ(x) over x ≥ {x_min:g}"),
        color=alt.Color("case:N", sort=list(scans), title=None), tooltip=["case", _fmt("gamma"), _fmt("mean Δ")])
    rule = alt.Chart(pd.DataFrame({"gamma": [predicted], "what": ["predicted gamma* = b"]})).mark_rule(
        color="black", strokeDash=[5, 4]).encode(x="gamma:Q", tooltip=["what", _fmt("gamma")])
    return zoom((line + rule).properties(title=title, width=WIDTH, height=HEIGHT))


def normalized_runs(results: Mapping, *, reference=None, title: str = "") -> alt.HConcatChart:
    """ℓ(x) of every run (color: width), one panel per case of a `collapse.Collapse` mapping."""
    panels = []
    for label, res in results.items():
        g, n_x = res.grid, res.ell.shape[1]
        df = pd.DataFrame({"run": np.repeat(np.asarray(g.runs, dtype=object), n_x),
                           "N": np.repeat(np.asarray(g.size).astype(int).astype(str), n_x),
                           "seed": np.repeat(g.seed, n_x), "x": np.tile(g.x, len(g.runs)), "ell": res.ell.ravel()})
        df = thin(df[np.isfinite(df["ell"])], CURVE_POINTS, by="run", order="x")
        chart = alt.Chart(df).mark_line(strokeWidth=0.7, opacity=0.6).encode(
            x=alt.X("x:Q", title="normalized compute x"),
            y=alt.Y("ell:Q", scale=LOG, axis=LOG_Y, title="ℓ = L/L_final"),
            color=_size_color("N", "N", df["N"]), detail="run:N",
            tooltip=["N", "seed", _fmt("x"), _fmt("ell", "ℓ")])
        if reference is not None:
            ref = pd.DataFrame({"x": reference[0], "ell": reference[1], "curve": "two-term closed form"})
            chart = chart + alt.Chart(ref).mark_line(color="black", strokeDash=[5, 4]).encode(
                x="x:Q", y="ell:Q", tooltip=["curve", _fmt("x"), _fmt("ell", "ℓ")])
        panels.append(zoom(chart.properties(title=str(label), width=PANEL[0], height=PANEL[1])))
    return alt.hconcat(*panels, title=title)


def delta_sigma(results: Mapping, *, title: str = "") -> alt.HConcatChart:
    """Δ(x) against the seed noise floor σ̄(x) (band: min–max over widths), one panel per case ([Q] Fig. 1c, 3)."""
    panels = []
    for label, res in results.items():
        df = res.summary()
        long = df.melt(id_vars=["x"], value_vars=["delta", "sigma_mean"], var_name="curve", value_name="value")
        long["curve"] = long["curve"].map({"delta": "Δ (collapse deviation)", "sigma_mean": "σ̄ (seed noise)"})
        long = long[long["value"] > 0]
        band = alt.Chart(df[df["sigma_min"] > 0]).mark_area(opacity=0.2, color="#ff7f0e").encode(
            x=alt.X("x:Q", title="normalized compute x"),
            y=alt.Y("sigma_min:Q", scale=LOG, axis=LOG_Y, title="relative spread"),
            y2="sigma_max:Q")
        lines = alt.Chart(long).mark_line(strokeWidth=1.6).encode(
            x="x:Q", y="value:Q",
            color=alt.Color("curve:N", scale=alt.Scale(range=["#1f77b4", "#ff7f0e"]), title=None),
            tooltip=["curve", _fmt("x"), _fmt("value")])
        panels.append(zoom((band + lines).properties(title=str(label), width=PANEL[0], height=PANEL[1])))
    return alt.hconcat(*panels, title=title)


def noise_scaling_chart(results: Mapping[str, NoiseScaling], *, title: str = "") -> alt.Chart:
    """Seed spread of ℓ against sqrt(η(1 − τ̂)) near the end of training; slope 1 is [Q]'s prediction (Fig. 1f)."""
    rows = []
    for label, ns in results.items():
        keep = (ns.predictor > 0) & (ns.spread > 0)
        rows.append(pd.DataFrame({"schedule": label, "x": ns.x[keep], "sqrt(η(1 − τ̂))": ns.predictor[keep],
                                  "spread": ns.spread[keep],
                                  "in fit": (ns.x[keep] >= 0.8) & (ns.x[keep] <= 0.98)}))
    df = pd.concat(rows, ignore_index=True)
    pts = alt.Chart(df).mark_point(filled=True, size=18).encode(
        x=alt.X("sqrt(η(1 − τ̂)):Q", scale=LOG, axis=LOG_X),
        y=alt.Y("spread:Q", scale=LOG, axis=LOG_Y, title="seed spread of ℓ(x)"),
        color=alt.Color("schedule:N"), opacity=alt.condition("datum['in fit']", alt.value(1.0), alt.value(0.3)),
        tooltip=["schedule", _fmt("x"), _fmt("sqrt(η(1 − τ̂))"), _fmt("spread")])
    lines = []
    for label, ns in results.items():
        xs = np.geomspace(max(ns.fit.x_min, 1e-12), ns.fit.x_max, 20)
        lines.append(pd.DataFrame({"schedule": label, "sqrt(η(1 − τ̂))": xs, "spread": ns.fit(xs)}))
    fit = alt.Chart(pd.concat(lines, ignore_index=True)).mark_line(strokeDash=[5, 3]).encode(
        x="sqrt(η(1 − τ̂)):Q", y="spread:Q", color="schedule:N")
    return zoom((pts + fit).properties(title=title, width=WIDTH, height=HEIGHT))
