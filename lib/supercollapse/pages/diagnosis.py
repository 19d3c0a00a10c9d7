"""The picture of `supercollapse diagnose --plot`: the three charts of [Q] Fig. 1 for a user's ladder, as a file."""
from __future__ import annotations

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


def figure(frame: pd.DataFrame, report: Report) -> alt.VConcatChart:
    """Loss vs compute with the fit, ℓ(x) per size, and Δ vs σ, for the ladder `report` was made from."""
    frame = frames.validate(frame)
    result = collapse.analyze(frame, report.L0, window=report.window)  # given L0: the report's curves, no refit
    fit = None if report.a is None else collapse.PowerLaw(report.a, report.b, report.L0, float("nan"))
    ratio = f"Δ/σ̄ = {report.window_mean_ratio:.3g} ± {report.ratio_se:.2g} on x in " \
            f"[{report.window[0]:g}, {report.window[1]:g}]: {report.verdict}"
    panels = (collapse_charts.loss_vs_compute(frame, fit, title="loss against compute, and L = a·C^(−b) + L0"),
              collapse_charts.normalized_curves(result, frame, title="normalized curves ℓ(x), mean and range over seeds"),
              collapse_charts.delta_vs_sigma(result, frame, title=ratio))
    with warnings.catch_warnings():  # every panel's zoom is the same `interactive()` parameter: one is kept
        warnings.filterwarnings("ignore", message="Automatically deduplicated selection parameter")
        return alt.vconcat(*panels).resolve_scale(color="independent")


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
