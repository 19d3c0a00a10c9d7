"""The one chart foundation: Altair charts that render offline (a `vegaEmbed` call on the page, with a static SVG
as fallback), sized to the text column, with the book's axes, zoom, look and rounding of embedded data.

The Vega bundle is written once into the site's static files (`book/_static/vendor/`, see `vendor_assets`);
charts only carry their spec. On the page every chart is as wide as its column (`width: "container"`) and a row
of panels (`alt.hconcat`) becomes a grid that wraps to one panel per row on a narrow screen
(`book/_static/supercollapse.css`). Titles are HTML above the chart, so they wrap instead of widening it. The
static SVG (from vl-convert, at the builder's width) sits in each chart's `<div>` until `vegaEmbed` replaces it,
and is also the `image/svg+xml` output that static exports use.
"""
from __future__ import annotations

import html
import itertools
import json
import math
import re
import uuid
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from ... import paths

VENDOR = paths.BOOK / "_static" / "vendor"
BUNDLE = "vega-bundle.js"

# Sizes of the static SVG; on the page a chart takes its column's width (836 px at most, ~380 px on a phone).
WIDTH, HEIGHT = 420, 280
PANEL = (300, 200)  # one panel of a row: the grid of the page fits two of them in the column
DIGITS = 4  # significant digits of every number embedded in a chart's data: enough for any axis or tooltip
MAX_POINTS = 100  # points kept per curve in an embedded chart (plenty for a line on a log axis)
PANEL_POINTS = 40  # per curve in a row of many panels (nine schedules): a smooth line, a page of reasonable size
SIZES = "viridis"  # colour scheme of sizes (p, N, P, B, widths) from dark (small) to light (large)

# The look of every chart: transparent (the page's colour shows through, so dark mode has no white boxes),
# legend swatches opaque even when the marks they stand for are faint bands.
CONFIG = {"background": "transparent", "legend": {"symbolOpacity": 1, "labelLimit": 180},
          "title": {"anchor": "start", "fontSize": 12}}
EMBED = {"renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False}}

# Zoom and pan with the shift key held: a plain wheel turn over a chart scrolls the page. Double-click resets.
ZOOM_EVENTS = {"zoom": "wheel![event.shiftKey]",
               "translate": "[pointerdown[event.shiftKey], window:pointerup] > window:pointermove!"}
_ZOOMS = itertools.count(1)  # named selections: Altair merges unnamed identical ones across panels, with a warning


def _superscript(k: str) -> str:
    digits = "['⁰','¹','²','³','⁴','⁵','⁶','⁷','⁸','⁹']"
    a = f"abs({k})"
    return f"({k} < 0 ? '⁻' : '') + ({a} >= 10 ? {digits}[floor({a} / 10)] : '') + {digits}[{a} % 10]"


# One label format on every log axis: across a decade or more only the powers of ten are labelled, as 10ᵏ; within
# a decade every tick, as a short decimal (m×10ᵏ outside 0.001–10⁴). Never "1e+14", "0.000001" or "10,000".
_K = "floor(log(datum.value) / LN10 + 1e-9)"
_POWER = f"abs(datum.value / pow(10, {_K}) - 1) < 1e-6"
_DECIMAL = (f"(datum.value >= 1e-3 && datum.value < 1e4) ? format(datum.value, '.3~r') : "
            f"format(datum.value / pow(10, {_K}), '.2~r') + '×10' + {_superscript(_K)}")
LOG_LABELS = f"datum.value <= 0 ? '' : {_POWER} ? '10' + {_superscript(_K)} : {_DECIMAL}"  # legends: no span known


def _log_axis(channel: str) -> alt.Axis:
    decades = f"log(domain('{channel}')[1] / domain('{channel}')[0]) / LN10"
    labels = (f"datum.value <= 0 ? '' : {decades} >= 1 ? ({_POWER} ? '10' + {_superscript(_K)} : '') : "
              f"({_DECIMAL})")
    return alt.Axis(labelExpr=labels, labelOverlap="greedy", labelSeparation=6)


LOG_X, LOG_Y = _log_axis("x"), _log_axis("y")
LOG = alt.Scale(type="log", nice=False)  # tight to the data: a loss between 0.4 and 0.5 fills the panel


def zoom(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """`chart` with shift+wheel zoom and shift+drag pan bound to its x and y scales.

    In a layered chart the selection goes on the first layer that encodes both x and y with a field: a layer
    without one (a band over x, a horizontal rule) cannot project it (Vega-Lite's "Cannot project a selection").
    """
    def fields(c):
        enc = c.encoding if isinstance(c, alt.Chart) else alt.Undefined
        if enc is alt.Undefined:
            return []
        return [ch for ch in ("x", "y")
                if any(getattr(enc[ch], a, alt.Undefined) not in (alt.Undefined, "") for a in ("shorthand", "field"))]

    def selection(found):
        return alt.selection_interval(name=f"zoom{next(_ZOOMS)}", bind="scales", encodings=found, **ZOOM_EVENTS)

    if isinstance(chart, alt.LayerChart):
        for i, layer in enumerate(chart.layer):
            if len(found := fields(layer)) == 2:
                out = chart.copy()
                out.layer[i] = layer.add_params(selection(found))
                return out
        return chart
    found = fields(chart)
    return chart.add_params(selection(found)) if found else chart


def round_sig(values, digits: int = DIGITS) -> np.ndarray:
    """Floats rounded to `digits` significant digits (their JSON is then short); NaN and inf kept."""
    v = np.asarray(values, dtype=float)
    return np.array([float(f"{u:.{digits}g}") if math.isfinite(u) else u for u in v.ravel()]).reshape(v.shape)


def compact(df: pd.DataFrame, digits: int = DIGITS) -> pd.DataFrame:
    """Every float column rounded to `digits` significant digits; rows with a non-finite float dropped."""
    out = df.copy()
    floats = [c for c in out.columns if out[c].dtype.kind == "f"]
    for c in floats:
        out[c] = round_sig(out[c].to_numpy(), digits)
    if floats:
        out = out[np.isfinite(out[floats].to_numpy()).all(axis=1)]
    return out.reset_index(drop=True)


def thin(df: pd.DataFrame, max_points: int = MAX_POINTS, by="run", order: str = "compute") -> pd.DataFrame:
    """At most `max_points` rows per `by` group (a column, a list of them, or () for one group), evenly spaced in
    `order`, first and last kept."""
    by = [by] if isinstance(by, str) else list(by)
    ordered = df.sort_values([*by, order], kind="stable")
    parts = []
    for _, g in ordered.groupby(by, sort=False) if by else [(None, ordered)]:
        n = len(g)
        idx = np.unique(np.round(np.linspace(0, n - 1, min(n, max_points))).astype(int))
        parts.append(g.iloc[idx])
    return pd.concat(parts, ignore_index=True) if parts else df.iloc[:0]


def round_data(spec: dict, digits: int = DIGITS) -> dict:
    """The spec with every float in its datasets rounded to `digits` significant digits (specs carry 17 otherwise)."""
    def r(v):
        if isinstance(v, float):
            return float(f"{v:.{digits}g}")
        if isinstance(v, list):
            return [r(x) for x in v]
        if isinstance(v, dict):
            return {k: r(x) for k, x in v.items()}
        return v

    out = dict(spec)
    if "datasets" in out:
        out["datasets"] = r(out["datasets"])
    return out


def _title_text(title) -> str:
    if isinstance(title, dict):
        title = title.get("text", "")
    if isinstance(title, list):
        title = " ".join(title)
    return str(title or "")


def page_specs(chart: alt.TopLevelMixin) -> tuple[str, list[dict]]:
    """(title, one spec per panel): a row of panels is split into its panels, each as wide as its grid cell."""
    parts = chart.hconcat if isinstance(chart, alt.HConcatChart) else [chart]
    title = _title_text(chart.to_dict(validate=False).get("title")) if isinstance(chart, alt.HConcatChart) else ""
    specs = []
    for part in parts:
        spec = round_data(part.to_dict())
        if not title and len(parts) == 1:
            title = _title_text(spec.pop("title", None))
        spec["width"] = "container"
        spec["config"] = {**CONFIG, **spec.get("config", {})}
        specs.append(spec)
    return title, specs


def _static(spec: dict, width: int) -> str:
    """vl-convert's SVG of a page spec at a fixed width (no DOM: "container" has no size there)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg({**spec, "width": width})
    return re.sub(r'<svg ([^>]*)>', r'<svg \1 role="img">', svg, count=1)


def _stack(svgs: list[str]) -> str:
    """Several SVGs one under the other in one SVG document (the static export of a row of panels)."""
    sizes = [tuple(float(v) for v in re.search(r'width="([\d.]+)" height="([\d.]+)"', s).groups()) for s in svgs]
    width, y, body = max(w for w, _ in sizes), 0.0, []
    for svg, (_, h) in zip(svgs, sizes):
        body.append(re.sub(r"<svg ", f'<svg y="{y:g}" ', svg, count=1))
        y += h
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{y:g}" '
            f'viewBox="0 0 {width:g} {y:g}">{"".join(body)}</svg>')


class Figure:
    """A chart as a notebook output: interactive HTML first, SVG fallback second."""

    def __init__(self, chart: alt.TopLevelMixin, caption: str = ""):
        self.chart, self.caption = chart, caption

    def _repr_mimebundle_(self, include=None, exclude=None):
        title, specs = page_specs(self.chart)
        panel = len(specs) > 1
        svgs = [_static(s, PANEL[0] if panel else WIDTH) for s in specs]
        ids = [f"sc-vis-{uuid.uuid4().hex[:12]}" for _ in specs]
        charts = "".join(f'<div id="{i}" class="sc-chart">{svg}</div>' for i, svg in zip(ids, svgs))
        head = f'<div class="sc-title">{html.escape(title)}</div>' if title else ""
        tail = f'<figcaption class="sc-caption">{html.escape(self.caption)}</figcaption>' if self.caption else ""
        body = f'<div class="sc-panels">{charts}</div>' if panel else charts
        script = (
            "<script>(function(){"
            f"var ids={json.dumps(ids)},specs={json.dumps(specs, separators=(',', ':'))},"
            f"opts={json.dumps(EMBED, separators=(',', ':'))};"
            "function go(){ids.forEach(function(id,i){window.vegaEmbed('#'+id,specs[i],opts)"
            ".catch(function(e){console.warn('chart kept its static SVG:',e);});});}"
            "if(window.vegaEmbed){go();}else{window.addEventListener('load',go);}"
            "})();</script>"
        )
        page = f'<figure class="sc-figure">{head}{body}{tail}</figure>\n{script}'
        return {"text/html": page, "image/svg+xml": svgs[0] if len(svgs) == 1 else _stack(svgs)}


def show(chart: alt.TopLevelMixin, caption: str = "") -> Figure:
    """Display `chart` in a chapter (the last expression of a cell); `caption` goes under it."""
    return Figure(chart, caption)


def save_html(chart: alt.TopLevelMixin, path: Path) -> Path:
    """A standalone page that renders offline: the chart's SVG (vl-convert), with its Vega-Lite spec alongside."""
    import vl_convert as vlc

    spec = round_data(chart.to_dict())
    title = spec["title"] if isinstance(spec.get("title"), str) else "chart"
    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n"
            f"{vlc.vegalite_to_svg(spec)}\n"
            f"<script type=\"application/json\" id=\"vega-lite-spec\">{json.dumps(spec)}</script>\n</body></html>\n")
    paths.atomic_write(Path(path), lambda f: f.write(page.encode()))
    return Path(path)


def vendor_assets(static_dir: Path = VENDOR) -> Path:
    """Write the Vega/Vega-Lite/vega-embed bundle into `static_dir` (once); returns its path.

    Wrapped in a function scope: the bundle's top-level names would clash with Sphinx's globals (`_`);
    the bundle itself sets `window.vegaEmbed`.
    """
    import vl_convert as vlc

    out = Path(static_dir) / BUNDLE
    if not out.is_file():  # through this process's own temporary: two builds writing it at once never mix
        bundle = "(function(){\n" + vlc.javascript_bundle() + "\n})();\n"
        paths.atomic_write(out, lambda f: f.write(bundle.encode()))
    return out


def loss_curves(frame, *, x="compute", y="loss", color="D", detail="run", log_x=True, log_y=True,
                title="", x_title=None, y_title=None) -> alt.Chart:
    """Loss curves, one line per run, colored by width; hover shows the values, width and seed."""
    if log_x:  # a log axis cannot place x = 0 (the evaluation before the first step): Vega would draw nothing
        frame = frame[frame[x] > 0]
    if log_y:
        frame = frame[frame[y] > 0]
    frame = thin(frame, by=detail, order=x)
    tooltip = [alt.Tooltip(c, format=".4g") if frame[c].dtype.kind == "f" else c
               for c in dict.fromkeys([color, "seed", x, y]) if c in frame.columns]
    linear = dict(scale=alt.Scale(zero=False))
    return zoom(
        alt.Chart(frame, title=title, width=WIDTH, height=HEIGHT)
        .mark_line(strokeWidth=1.2, opacity=0.8)
        .encode(
            x=alt.X(x, title=x_title or x, **(dict(scale=LOG, axis=LOG_X) if log_x else linear)),
            y=alt.Y(y, title=y_title or y, **(dict(scale=LOG, axis=LOG_Y) if log_y else linear)),
            color=alt.Color(f"{color}:O", scale=alt.Scale(scheme="viridis"), title=color),
            detail=detail,
            tooltip=tooltip,
        )
    )
