"""The picture of `supercollapse diagnose --plot`: the three charts of [Q] Fig. 1 for a user's ladder, as a file."""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import altair as alt
import pandas as pd

from .. import paths
from ..analysis import collapse, frames
from ..analysis.diagnose import Report
from . import charts
from .charts import collapse as collapse_charts

FORMATS = (".html", ".png", ".svg")


def panels(frame: pd.DataFrame, report: Report) -> tuple[alt.LayerChart, alt.LayerChart, alt.LayerChart]:
    """Loss vs compute with the fit, ℓ(x) per size, and Δ vs σ, for the ladder `report` was made from."""
    frame = frames.validate(frame)
    result = collapse.analyze(frame, report.L0, window=report.window)  # given L0: the report's curves, no refit
    fit = None if report.a is None else collapse.PowerLaw(report.a, report.b, report.L0, float("nan"))
    ratio = f"Δ/σ̄ = {report.window_mean_ratio:.3g} ± {report.ratio_se:.2g} on x in " \
            f"[{report.window[0]:g}, {report.window[1]:g}]: {report.verdict}"
    return (collapse_charts.loss_vs_compute(frame, fit, title="loss against compute, and L = a·C^(−b) + L0"),
            collapse_charts.normalized_curves(result, frame, title="normalized curves ℓ(x), mean and range over seeds"),
            collapse_charts.delta_vs_sigma(result, frame, title=ratio))


def figure(frame: pd.DataFrame, report: Report) -> alt.VConcatChart:
    """The three `panels` one under the other: the picture `diagnose --plot` writes."""
    with warnings.catch_warnings():  # every panel's zoom is the same `interactive()` parameter: one is kept
        warnings.filterwarnings("ignore", message="Automatically deduplicated selection parameter")
        return alt.vconcat(*panels(frame, report)).resolve_scale(color="independent")


def summary(report: Report) -> pd.DataFrame:
    """The report's table as a page shows it: x, Δ, σ̄ (min, max) and Δ/σ̄ at x = 0.1 … 0.9."""
    df = pd.DataFrame({"x": report.x, "Δ": report.delta, "σ̄": report.sigma_mean, "σ min": report.sigma_min,
                       "σ max": report.sigma_max})
    return df.assign(**{"Δ/σ̄": df["Δ"] / df["σ̄"]})


def texts(report: Report) -> dict[str, str]:
    """What a page glues about a report: the verdict with its error, the L0 fit, the onset, the warnings."""
    fit = (f"fitted to the seed-mean final points: L0 = {report.L0:.4g}, a = {report.a:.4g}, b = {report.b:.3f}"
           if report.L0_source == "fit" else f"given: L0 = {report.L0:.4g}")
    if report.L0_at_bound:
        fit += (". It sits at its lower bound 0: the fit found no irreducible loss, so each curve is divided by its "
                "whole loss (give `--L0 VALUE` if you know better)")
    onset = ("Δ never stays below σ̄ up to the end" if report.onset is None else
             f"Δ stays below σ̄ from x = {report.onset:.2f} on")
    warned = "Warnings:" + "".join(f"\n- {w}" for w in report.warnings) if report.warnings else "No warnings."
    refit = ("" if report.ratio_se_refit is None else
             f"; ± {report.ratio_se_refit:.2g} (95%: {report.ratio_ci_refit[0]:.3g} to {report.ratio_ci_refit[1]:.3g}) "
             "with L0 refitted in each replicate")
    return {
        "diag_verdict": f"**{report.verdict}**: Δ/σ̄ = {report.window_mean_ratio:.3g} ± "
                        f"{report.ratio_se:.2g} (95%: {report.ratio_ci[0]:.3g} to {report.ratio_ci[1]:.3g}) over "
                        f"x ∈ [{report.window[0]:g}, {report.window[1]:g}]{refit}",
        "diag_fit": fit + ".",
        "diag_onset": onset + ".",
        "diag_warnings": warned,
    }


def save(chart: alt.TopLevelMixin, path: Path) -> None:
    """Write `chart` as a page that opens offline (.html, the Vega bundle inlined), .png or .svg, atomically."""
    import vl_convert as vlc

    path = Path(path)
    spec = charts.round_data(chart.to_dict())
    kind = path.suffix.lower()
    if kind == ".html":
        data = vlc.vegalite_to_html(spec, bundle=True).encode()
    elif kind == ".png":
        data = vlc.vegalite_to_png(spec, scale=2)
    elif kind == ".svg":
        data = vlc.vegalite_to_svg(spec).encode()
    else:
        raise ValueError(f"{path}: unknown picture type {kind or '(none)'!r}; valid: {', '.join(FORMATS)}")
    paths.atomic_write(path, lambda f: f.write(data))


def example_file(path: Path | None = None) -> Path:
    """Write `diagnose.example_ladder()` as CSV (default: `examples/example_ladder.csv` in the cache); its path."""
    from ..analysis.diagnose import example_ladder

    path = Path(path) if path is not None else paths.cache_dir() / "examples" / "example_ladder.csv"
    data = example_ladder().to_csv(index=False).encode()
    paths.atomic_write(path, lambda f: f.write(data))
    return path


def thresholds() -> dict[str, float]:
    """The diagnostic's named constants and the numbers behind them (`analysis.diagnose`), for a page to glue."""
    from ..analysis import diagnose as d

    return {"th_super": d.SUPERCOLLAPSE_BELOW, "th_collapse": d.COLLAPSE_BELOW, "th_few_seeds": d.FEW_SEEDS,
            "th_min_in_window": d.MIN_IN_WINDOW, "th_window_start": collapse.WINDOW[0],
            "th_window_end": collapse.WINDOW[1], "th_onset_upto": collapse.ONSET_UPTO,
            "th_sqrt2": math.sqrt(2), "th_low_2": 100 * (1 - d.sigma_bias(2)),
            "th_low_3": 100 * (1 - d.sigma_bias(3)), "th_low_5": 100 * (1 - d.sigma_bias(5)),
            "th_noise_3": d.noise_only_ratio(3), "th_noise_5": d.noise_only_ratio(5),
            "th_systematic": d.largest_systematic()}
