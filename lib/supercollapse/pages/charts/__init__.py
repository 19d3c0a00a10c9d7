"""The one chart foundation: Altair charts that render offline (a `vegaEmbed` call on the page, with a static SVG
as fallback), the book's chart size, and the rounding of embedded data.

The Vega bundle is written once into the site's static files (`book/_static/vendor/`, see `vendor_assets`);
charts only carry their spec. The SVG (from vl-convert) sits inside the chart's `<div>` until `vegaEmbed`
replaces it, and is also the `image/svg+xml` output that static exports use.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import altair as alt

from ... import paths

VENDOR = paths.BOOK / "_static" / "vendor"
BUNDLE = "vega-bundle.js"

# A consistent look: the book's width, log-log defaults are set per chart.
WIDTH, HEIGHT = 420, 280
DIGITS = 4  # significant digits of every number embedded in a chart's data: enough for any axis or tooltip


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


class Figure:
    """A chart as a notebook output: interactive HTML first, SVG fallback second."""

    def __init__(self, chart: alt.TopLevelMixin):
        self.chart = chart

    def _repr_mimebundle_(self, include=None, exclude=None):
        import vl_convert as vlc

        spec = round_data(self.chart.to_dict())
        svg = vlc.vegalite_to_svg(spec)
        div = f"sc-vis-{uuid.uuid4().hex[:12]}"
        html = (
            f'<div id="{div}" class="sc-chart">{svg}</div>\n'
            "<script>(function(){"
            f"var spec={json.dumps(spec, separators=(',', ':'))};"
            f"function go(){{window.vegaEmbed('#{div}',spec,{{renderer:'svg',actions:false}})"
            ".catch(function(e){console.warn('chart kept its static SVG:',e);});}"
            "if(window.vegaEmbed){go();}else{window.addEventListener('load',go);}"
            "})();</script>"
        )
        return {"text/html": html, "image/svg+xml": svg}


def show(chart: alt.TopLevelMixin) -> Figure:
    """Display `chart` in a chapter (the last expression of a cell)."""
    return Figure(chart)


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
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text("(function(){\n" + vlc.javascript_bundle() + "\n})();\n")
        tmp.replace(out)
    return out


def loss_curves(frame, *, x="compute", y="loss", color="D", detail="run", log_x=True, log_y=True,
                title="", x_title=None, y_title=None) -> alt.Chart:
    """Loss curves, one line per run, colored by width; hover shows the values, width and seed."""
    tooltip = [alt.Tooltip(c, format=".4g") if frame[c].dtype.kind == "f" else c
               for c in dict.fromkeys([color, "seed", x, y]) if c in frame.columns]
    scale = lambda log: alt.Scale(type="log") if log else alt.Scale(zero=False)  # noqa: E731
    return (
        alt.Chart(frame, title=title, width=WIDTH, height=HEIGHT)
        .mark_line(strokeWidth=1.2, opacity=0.8)
        .encode(
            x=alt.X(x, scale=scale(log_x), title=x_title or x),
            y=alt.Y(y, scale=scale(log_y), title=y_title or y),
            color=alt.Color(f"{color}:O", scale=alt.Scale(scheme="viridis"), title=color),
            detail=detail,
            tooltip=tooltip,
        )
        .interactive()
    )
