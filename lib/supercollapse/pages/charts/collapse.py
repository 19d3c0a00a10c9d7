"""Charts and page text of the headline chapters (10–13): the horizon, collapse, offsets, constant LR.

Every builder takes library results (`scaling.Horizon`, `collapse.Collapse`, long frames) and returns an Altair
chart; chapters display it with `plots.show(chart)`. The spec of every chart is embedded in its page, so the
data each builder embeds is thinned (at most `MAX_POINTS` evaluations per run) and rounded to `DIGITS`
significant digits. The `*_text` functions return the sentences a page glues: chosen by the measured numbers,
so a page never claims what its runs do not show.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from ...analysis import collapse, frames
from ...engine.tasks import param_count
from . import DIGITS, HEIGHT, LOG, LOG_X, LOG_Y, MAX_POINTS, PANEL, SIZES, WIDTH, compact, round_sig, thin, zoom

LINEAR = alt.Scale(zero=False)
WINDOW_FILL = "#e8e8e8"


class SizeNames(dict):
    """Size (P) -> what names it in a legend: the width D, or the depth N on a ladder of one width (Fig. 9)."""

    def __init__(self, names=(), column: str = "D"):
        super().__init__(names)
        self.column = column


def width_of(frame: pd.DataFrame | None) -> SizeNames:
    """Size (P) -> width D (depth N when every run has one width and the depths differ), from a long frame."""
    if frame is None or "D" not in frame.columns or "P" not in frame.columns:
        return SizeNames()
    per = frame.groupby("P")[[c for c in ("D", "N") if c in frame.columns]].first()
    column = "N" if "N" in per.columns and per["D"].nunique() == 1 and per["N"].nunique() > 1 else "D"
    return SizeNames({float(p): int(v) for p, v in per[column].items()}, column)


def _sizes(size_column: str, sizes, widths: Mapping) -> pd.DataFrame:
    """Legend columns for sizes: `D` (the width, or `N` for depths) when known, and `P`."""
    sizes = np.asarray(sizes, dtype=float)
    out = pd.DataFrame({"P" if size_column == "P" else "D": sizes})
    if size_column == "P" and widths:
        out.insert(0, getattr(widths, "column", "D"), [widths.get(float(s), -1) for s in sizes])
    return out


_LEGENDS = {"D": "width D", "N": "depth N", "P": "parameters P"}


def _legend(df: pd.DataFrame) -> str:
    """The column the legend colors by: the width D (or depth N) when present, else the parameter count P."""
    return next(c for c in ("D", "N", "P") if c in df.columns)


def _color(df: pd.DataFrame, title: str | None = None) -> alt.Color:
    field = _legend(df)
    order = sorted(df[field].unique().tolist())
    return alt.Color(f"{field}:O", sort=order, scale=alt.Scale(scheme=SIZES), title=title or _LEGENDS[field])


def _tip(col: str, title: str | None = None, fmt: str = ".4g") -> alt.Tooltip:
    return alt.Tooltip(col, format=fmt, title=title or col)


def _size_tips(df: pd.DataFrame) -> list:
    return [c for c in ("D", "N", "P", "seed") if c in df.columns]


def _window(window) -> alt.Chart:
    """A light band over the summary window of x."""
    band = pd.DataFrame({"x": [window[0]], "x2": [window[1]], "window": [f"window [{window[0]:g}, {window[1]:g}]"]})
    return alt.Chart(band).mark_rect(color=WINDOW_FILL, opacity=0.7).encode(x="x:Q", x2="x2:Q", tooltip=["window"])


def _runs(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The long frame's curves for a chart: short run ids, thinned, rounded; `columns` kept."""
    df = thin(frames.validate(frame))
    size = ["D"] if "D" in df.columns else [frames.size_column(df)]  # P follows from D: not repeated per row
    keep = size + [c for c in ("seed", *columns) if c in df.columns and c not in size]
    out = df[keep].copy()
    out.insert(0, "run", pd.factorize(df["run"])[0])
    return compact(out)


# ---------------------------------------------------------------------------------------------------------------
# Fig. 1a: loss against compute with the fitted power law


def loss_vs_compute(frame: pd.DataFrame, fit: collapse.PowerLaw | None = None, *, title: str = "") -> alt.LayerChart:
    """Every run's test loss against compute (log-log), seed-mean final points, L = a·C^(−b) + L0 and L0 ([Q] Fig. 1a)."""
    runs = _runs(frame, ["compute", "loss"])
    runs = runs[runs["compute"] > 0]
    color = _color(runs)
    x = alt.X("compute:Q", scale=LOG, axis=LOG_X, title="compute C (PFLOP)")
    y = alt.Y("loss:Q", scale=LOG, axis=LOG_Y, title="test loss L")
    layers = [alt.Chart(runs).mark_line(strokeWidth=1.1, opacity=0.7).encode(
        x=x, y=y, color=color, detail="run:N",
        tooltip=_size_tips(runs) + [_tip("compute", "C (PFLOP)"), _tip("loss", "L")])]
    finals = collapse.size_means(frames.validate(frame))
    finals = compact(pd.concat([_sizes(frames.size_column(frame), finals.iloc[:, 0], width_of(frame)),
                                finals[["compute", "loss"]]], axis=1))
    layers.append(alt.Chart(finals).mark_point(filled=True, size=45, stroke="black", strokeWidth=0.8).encode(
        x="compute:Q", y="loss:Q", color=_color(finals),
        tooltip=_size_tips(finals) + [_tip("compute", "seed-mean final C"), _tip("loss", "seed-mean final L")]))
    if fit is not None:
        C = np.geomspace(finals["compute"].min() / 2, finals["compute"].max() * 2, 60)
        law = compact(pd.DataFrame({"compute": C, "loss": fit(C), "curve": "fit a·C^(−b) + L0"}))
        layers.append(alt.Chart(law).mark_line(color="black", strokeDash=[6, 4], strokeWidth=1.5).encode(
            x="compute:Q", y="loss:Q",
            tooltip=["curve", _tip("compute", "C (PFLOP)"), _tip("loss", "fitted L")]))
        if fit.L0 > 0:
            rule = compact(pd.DataFrame({"loss": [fit.L0], "a": [fit.a], "b": [fit.b], "curve": ["L0"]}))
            layers.append(alt.Chart(rule).mark_rule(color="gray", strokeDash=[2, 3]).encode(
                y="loss:Q", tooltip=["curve", _tip("loss", "L0"), _tip("a"), _tip("b")]))
    return zoom(alt.layer(*layers).properties(title=title, width=WIDTH, height=HEIGHT))


# ---------------------------------------------------------------------------------------------------------------
# Fig. 1b: normalized curves, mean and band per width


def _seed_bands(x, ell, size, seeds_axis_sizes, widths, size_column) -> pd.DataFrame:
    """Per size and x: mean, min and max of ℓ over seeds."""
    rows = []
    for s in seeds_axis_sizes:
        e = ell[size == s]
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(e).all(axis=0)
        part = pd.DataFrame({"x": x[ok], "mean": e[:, ok].mean(0), "lo": e[:, ok].min(0), "hi": e[:, ok].max(0),
                             "seeds": len(e)})
        rows.append(pd.concat([_sizes(size_column, np.full(ok.sum(), s), widths), part], axis=1))
    return pd.concat(rows, ignore_index=True)


def normalized_curves(result: collapse.Collapse, frame: pd.DataFrame | None = None, *, title: str = "",
                      log_y: bool = True) -> alt.LayerChart:
    """ℓ(x) = (L − L0)/(L_final − L0): the seed mean per width with the range over its seeds ([Q] Fig. 1b)."""
    g = result.grid
    df = _seed_bands(g.x, result.ell, g.size, result.sizes, width_of(frame), g.size_column)
    if log_y:  # a log axis cannot show ℓ <= 0 (a run below the offset): those points are left out
        df = df[(df["lo"] > 0) & (df["mean"] > 0)]
    df = compact(df)
    color = _color(df)
    y_scale = LOG if log_y else LINEAR
    x = alt.X("x:Q", title="normalized compute x = C / C_final")
    tips = _size_tips(df) + [_tip("x"), _tip("mean", "mean ℓ over seeds"), _tip("lo", "min ℓ"),
                             _tip("hi", "max ℓ"), "seeds"]
    band = alt.Chart(df).mark_area(opacity=0.22).encode(x=x, y=alt.Y("lo:Q", scale=y_scale), y2="hi:Q", color=color,
                                                         tooltip=tips)
    line = alt.Chart(df).mark_line(strokeWidth=1.5).encode(
        x=x, y=alt.Y("mean:Q", scale=y_scale, axis=LOG_Y if log_y else alt.Axis(),
                     title=f"ℓ(x), L0 = {result.L0:.4g}"), color=color, tooltip=tips)
    return zoom((band + line).properties(title=title, width=WIDTH, height=HEIGHT))


# ---------------------------------------------------------------------------------------------------------------
# Fig. 1c and Fig. 3: the collapse deviation against the noise floor


def delta_vs_sigma(result: collapse.Collapse, frame: pd.DataFrame | None = None, *, title: str = "",
                   width: int = WIDTH, height: int = HEIGHT) -> alt.LayerChart:
    """Δ(x) over all runs, σ(x, p) of each width and their mean σ̄, log y; the summary window shaded ([Q] Fig. 1c)."""
    g = result.grid
    sig = pd.concat([pd.concat([_sizes(g.size_column, np.full(len(g.x), s), width_of(frame)),
                                pd.DataFrame({"x": g.x, "sigma": row})], axis=1)
                     for s, row in zip(result.sizes, result.sigma)], ignore_index=True)
    sig = compact(sig[sig["sigma"] > 0])
    curves = pd.DataFrame({"x": np.tile(g.x, 2), "value": np.r_[result.delta, result.sigma_mean],
                           "curve": np.repeat(["Δ (all runs)", "σ̄ (mean over widths)"], len(g.x)),
                           "ratio": np.tile(result.ratio, 2)})
    curves = compact(curves[curves["value"] > 0])  # Δ(1) = 0 by construction: off a log axis
    x = alt.X("x:Q", title="normalized compute x", scale=alt.Scale(domain=[0, 1]))
    per_width = alt.Chart(sig).mark_line(strokeWidth=1.1, opacity=0.75).encode(
        x=x, y=alt.Y("sigma:Q", scale=LOG, axis=LOG_Y, title="Δ(x) and σ(x, p)"), color=_color(sig),
        tooltip=_size_tips(sig) + [_tip("x"), _tip("sigma", "σ(x, p)")])
    main = alt.Chart(curves).mark_line(color="black", strokeWidth=2.2).encode(
        x=x, y=alt.Y("value:Q", scale=LOG, axis=LOG_Y),
        strokeDash=alt.StrokeDash("curve:N", title=None, scale=alt.Scale(
            domain=["Δ (all runs)", "σ̄ (mean over widths)"], range=[[1, 0], [6, 3]])),
        tooltip=["curve", _tip("x"), _tip("value"), _tip("ratio", "Δ / σ̄")])
    return zoom((_window(result.window) + per_width + main).properties(title=title, width=width, height=height))


def _ratios(df: pd.DataFrame, series: str, order: list, window, title: str, legend: str | None) -> alt.LayerChart:
    """Δ/σ̄ (column `ratio`) against x, one line per value of `series`, the line Δ = σ̄ and the window shaded."""
    df = compact(df[df["ratio"] > 0])
    x = alt.X("x:Q", title="normalized compute x", scale=alt.Scale(domain=[0, 1]))
    lines = alt.Chart(df).mark_line(strokeWidth=1.8).encode(
        x=x, y=alt.Y("ratio:Q", scale=LOG, axis=LOG_Y, title="Δ(x) / σ̄(x)"),
        color=alt.Color(f"{series}:N", sort=order, title=legend),
        tooltip=[series, _tip("x"), _tip("ratio", "Δ / σ̄")])
    one = alt.Chart(pd.DataFrame({"ratio": [1.0], "line": ["Δ = σ̄"]})).mark_rule(
        color="gray", strokeDash=[4, 3]).encode(y="ratio:Q", tooltip=["line"])
    return zoom((_window(window) + lines + one).properties(title=title, width=WIDTH, height=HEIGHT))


def ratio_comparison(results: Mapping[str, collapse.Collapse], *, title: str = "") -> alt.LayerChart:
    """Δ/σ̄ against x for several ladders (e.g. decay and constant LR), the line Δ = σ̄ and the window shaded."""
    df = pd.concat([pd.DataFrame({"ladder": k, "x": r.x, "ratio": r.ratio}) for k, r in results.items()],
                   ignore_index=True)
    return _ratios(df, "ladder", list(results), next(iter(results.values())).window, title, None)


# ---------------------------------------------------------------------------------------------------------------
# Fig. 10: the compute-optimal frontier


def frontier_chart(frame: pd.DataFrame, horizon, *, title: str = "", max_grid: int = 96) -> alt.HConcatChart:
    """Seed-mean constant-LR curves with the frontier (kept / dropped edge winners), and C*(P) with its fit ([Q] Fig. 10)."""
    mean = frames.seed_mean(frames.validate(frame))
    mean = mean[mean["compute"] > 0].rename(columns={"loss_std": "std"})
    mean["run"] = pd.factorize(mean["P"])[0]
    mean = compact(thin(mean[[c for c in ("D", "P", "compute", "loss", "std", "n_seeds", "run") if c in mean]]))
    front = horizon.frontier.dropna(subset=["P"])
    step = max(1, math.ceil(len(front) / max_grid))
    front = front.iloc[::step].assign(frontier=lambda d: np.where(d["kept"], "kept", "dropped (edge width)"))
    widths = width_of(frame)
    front = compact(pd.concat([_sizes("P", front["P"].to_numpy(), widths),
                               front[["compute", "loss", "frontier"]].reset_index(drop=True)], axis=1))
    shape = alt.Shape("frontier:N", title="frontier point",
                      scale=alt.Scale(domain=["kept", "dropped (edge width)"], range=["circle", "cross"]))
    fill = alt.Color("frontier:N", legend=None,
                     scale=alt.Scale(domain=["kept", "dropped (edge width)"], range=["black", "#999999"]))
    tips = _size_tips(front) + ["frontier", _tip("compute", "C (PFLOP)"), _tip("loss", "frontier L")]
    curves = alt.Chart(mean).mark_line(strokeWidth=1.4).encode(
        x=alt.X("compute:Q", scale=LOG, axis=LOG_X, title="compute C (PFLOP)"),
        y=alt.Y("loss:Q", scale=LOG, axis=LOG_Y, title="seed-mean test loss"),
        color=_color(mean), detail="run:N",
        tooltip=_size_tips(mean) + [_tip("compute", "C (PFLOP)"), _tip("loss", "mean L"), _tip("std", "std over seeds"),
                                    "n_seeds"])
    points = alt.Chart(front).mark_point(size=18, filled=True).encode(
        x="compute:Q", y="loss:Q", shape=shape, color=fill, tooltip=tips)
    left = zoom((curves + points).resolve_scale(color="independent").properties(
        title="Pareto frontier", width=PANEL[0], height=PANEL[1]))
    P = np.geomspace(front["P"].min() / 1.3, front["P"].max() * 1.3, 40)
    fit = compact(pd.DataFrame({"P": P, "compute": horizon.compute(P), "T": horizon.horizon(P),
                                "curve": "fit C* = (P/scale)^exponent"}))
    scatter = alt.Chart(front).mark_point(size=30, filled=True).encode(
        x=alt.X("P:Q", scale=LOG, axis=LOG_X, title="parameters P"),
        y=alt.Y("compute:Q", scale=LOG, axis=LOG_Y, title="compute-optimal C* (PFLOP)"),
        shape=shape, color=fill, tooltip=tips)
    line = alt.Chart(fit).mark_line(color="black", strokeDash=[6, 4]).encode(
        x="P:Q", y="compute:Q", tooltip=["curve", _tip("P"), _tip("compute", "C* (PFLOP)"), _tip("T", "T(P) tokens")])
    right = zoom((scatter + line).properties(title=f"C*(P), gamma = {horizon.gamma:.3g}", width=PANEL[0],
                                             height=PANEL[1]))
    return alt.hconcat(left, right, title=title)


def horizon_table(horizon, configs) -> pd.DataFrame:
    """One row per width of a ladder: D, P, C*(P) in PFLOP, T(P), and the steps and batch that ladder trains."""

    rows = {}
    for c in configs:
        if c.D not in rows:
            P = param_count(c)
            rows[c.D] = {"D": c.D, "P": P, "C* (PFLOP)": float(horizon.compute(P)),
                         "T(P) (examples)": float(horizon.horizon(P)), "steps trained": c.T // c.B, "batch B": c.B}
    columns = ["D", "P", "C* (PFLOP)", "T(P) (examples)", "steps trained", "batch B"]
    table = pd.DataFrame(list(rows.values()), columns=columns).sort_values("D").reset_index(drop=True)
    table["C* (PFLOP)"] = round_sig(table["C* (PFLOP)"])
    table["T(P) (examples)"] = table["T(P) (examples)"].round().astype("int64")
    return table


# ---------------------------------------------------------------------------------------------------------------
# Fig. 2: the offset


def offset_ratios(table: pd.DataFrame, window=collapse.WINDOW, *, title: str = "") -> alt.LayerChart:
    """Δ/σ̄ for each offset L̂, σ computed with the same L̂ (`collapse.offset_sensitivity`): the comparison of
    offsets that [Q] Fig. 2 makes, on a scale that does not favour small L̂."""
    df = table[["label", "x", "ratio"]].rename(columns={"label": "offset L̂"})
    return _ratios(df, "offset L̂", list(dict.fromkeys(table["label"])), window, title, "offset L̂")


def offset_deltas(table: pd.DataFrame, result: collapse.Collapse | None = None, *,
                  title: str = "") -> alt.LayerChart:
    """Raw Δ(x) for each offset L̂ (`collapse.offset_sensitivity`), and σ̄(x) of the fitted L0 for reference."""
    labels = list(dict.fromkeys(table["label"]))
    df = compact(table[table["delta"] > 0][["label", "offset", "x", "delta"]])
    x = alt.X("x:Q", title="normalized compute x", scale=alt.Scale(domain=[0, 1]))
    layers = []
    if result is not None:
        layers.append(_window(result.window))
    layers.append(alt.Chart(df).mark_line(strokeWidth=1.8).encode(
        x=x, y=alt.Y("delta:Q", scale=LOG, axis=LOG_Y, title="collapse deviation Δ(x)"),
        color=alt.Color("label:N", sort=labels, title="offset L̂"),
        tooltip=[alt.Tooltip("label", title="L̂"), _tip("offset", "L̂ value"), _tip("x"), _tip("delta", "Δ")]))
    if result is not None:
        ref = compact(pd.DataFrame({"x": result.x, "delta": result.sigma_mean, "curve": "σ̄ at the fitted L0"}))
        ref = ref[ref["delta"] > 0]
        layers.append(alt.Chart(ref).mark_line(color="black", strokeDash=[6, 3], strokeWidth=1.3).encode(
            x="x:Q", y="delta:Q", tooltip=["curve", _tip("x"), _tip("delta", "σ̄")]))
    return zoom(alt.layer(*layers).properties(title=title, width=WIDTH, height=HEIGHT))


def offset_panels(frame: pd.DataFrame, offsets: Mapping[str, float], *, title: str = "",
                  n_x: int = 50) -> alt.HConcatChart:
    """ℓ(x) per width (mean over seeds, range as a band) normalized with each offset L̂, one panel per L̂ ([Q] Fig. 2)."""
    frame = frames.validate(frame, min_sizes=2)
    grid = collapse.on_grid(frame, np.round(np.linspace(1 / n_x, 1, n_x), 10))  # a coarser grid: four panels
    widths = width_of(frame)
    sizes = np.unique(grid.size)
    panels = []
    for label, value in offsets.items():
        ell = collapse.normalize(grid.loss, grid.L_final, float(value))
        df = _seed_bands(grid.x, ell, grid.size, sizes, widths, grid.size_column)
        df = df[(df["lo"] > 0) & (df["mean"] > 0)].drop(columns=["seeds"] + (["P"] if "D" in df else []))
        df = compact(df, digits=3)
        color = _color(df)
        tips = _size_tips(df) + [_tip("x"), _tip("mean", "mean ℓ"), _tip("lo", "min ℓ"), _tip("hi", "max ℓ")]
        x = alt.X("x:Q", title="x")
        band = alt.Chart(df).mark_area(opacity=0.22).encode(x=x, y=alt.Y("lo:Q", scale=LOG), y2="hi:Q", color=color,
                                                             tooltip=tips)
        line = alt.Chart(df).mark_line(strokeWidth=1.3).encode(
            x=x, y=alt.Y("mean:Q", scale=LOG, axis=LOG_Y, title="ℓ(x)"), color=color, tooltip=tips)
        panels.append(zoom((band + line).properties(title=f"L̂ = {label} ({value:.4g})", width=PANEL[0],
                                                    height=PANEL[1])))
    return alt.hconcat(*panels, title=title)


def offset_summary(table: pd.DataFrame, window=collapse.WINDOW) -> pd.DataFrame:
    """Per offset, in the table's order: its value, and the window means of Δ/σ̄ (σ at the same L̂) and of Δ."""
    span = f"[{window[0]:g}, {window[1]:g}]"
    rows = [{"offset L̂": label, "value": float(round_sig(g["offset"].iloc[0])),
             f"mean Δ/σ̄ on {span}": float(round_sig(collapse.window_mean(g["x"], g["ratio"], window))),
             f"mean Δ on {span}": float(round_sig(collapse.window_mean(g["x"], g["delta"], window)))}
            for label, g in table.groupby("label", sort=False)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# Page text chosen by the measured numbers


def decay_gains(gains: Mapping, *, title: str = "") -> alt.LayerChart:
    """The decay gain per size (seed mean ± 2 standard errors), one series per ladder: `gains` maps a label to
    an `analysis.spread.DecayGain`."""
    parts = []
    for label, g in gains.items():
        df = g.per_size.rename(columns={g.size_column: "P"}).assign(ladder=label)
        df["lo"], df["hi"] = df["gain"] - 2 * df["gain_se"], df["gain"] + 2 * df["gain_se"]
        parts.append(df)
    df = compact(pd.concat(parts, ignore_index=True))
    base = alt.Chart(df, title=title, width=WIDTH, height=HEIGHT)
    x = alt.X("P:Q", scale=LOG, axis=LOG_X, title="parameters P")
    color = alt.Color("ladder:N", title="ladder", legend=alt.Legend(orient="bottom", symbolOpacity=1))
    tips = [_tip("P", "P", ".3g"), _tip("gain", "gain", ".3f"), _tip("gain_se", "standard error", ".2g"),
            alt.Tooltip("n_seeds:Q", title="seeds"), alt.Tooltip("ladder:N")]
    return alt.layer(
        base.mark_rule().encode(x=x, y=alt.Y("lo:Q", scale=LINEAR, title="decay gain 1 − L_decay/L_const(same τ)"),
                                y2="hi:Q", color=color),
        base.mark_line(point=True).encode(x=x, y="gain:Q", color=color, tooltip=tips),
    )


# ---------------------------------------------------------------------------------------------------------------
# Figs. 5a, 11: constant-LR curves against the fitted sum of power laws


def sum_fit(frame: pd.DataFrame, fit, *, title: str = "") -> alt.LayerChart:
    """Constant-LR curves (solid, one per run) and L0 + a·t^(−mu) + b·P^(−nu) of each run's P (dashed), vs tokens."""
    runs = _runs(frame, ["tokens", "loss", "P"])
    runs = runs[runs["tokens"] > 0]
    data = compact(runs.assign(fitted=fit.loss(runs["tokens"], runs["P"])).drop(columns="P"))
    base = alt.Chart(data).encode(x=alt.X("tokens:Q", scale=LOG, axis=LOG_X, title="tokens t"),
                                  color=_color(data), detail="run:N")
    tips = _size_tips(data) + [_tip("tokens", "t"), _tip("loss", "L"), _tip("fitted", "fitted L")]
    measured = base.mark_line(strokeWidth=1.2, opacity=0.8).encode(
        y=alt.Y("loss:Q", scale=LOG, axis=LOG_Y, title="test loss L"), tooltip=tips)
    law = base.mark_line(strokeWidth=1.2, strokeDash=[5, 3], color="black", opacity=0.7).encode(y="fitted:Q",
                                                                                               tooltip=tips)
    return zoom(alt.layer(measured, law).properties(title=title, width=WIDTH, height=HEIGHT))
