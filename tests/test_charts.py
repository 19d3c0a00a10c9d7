"""The chart foundation: page specs that fit their column, one log-tick format, zoom behind a modifier key, no leaks."""
import re
import warnings

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

from supercollapse.pages import charts


def curves(n=50, x0=1e-9, x1=1e3):
    return pd.DataFrame({"run": np.repeat(["a", "b"], n), "D": np.repeat([8, 16], n), "seed": 0,
                         "compute": np.tile(np.r_[0.0, np.geomspace(x0, x1, n - 1)], 2),
                         "loss": np.tile(np.geomspace(1, 0.1, n), 2)})


def labels(svg: str, role: str) -> list[str]:
    """The tick labels of one axis (role "axis-label" inside the group of that axis) of a vl-convert SVG."""
    return re.findall(rf'<g class="mark-text role-{role}"[^>]*>(.*?)</g>', svg, re.S)


def test_a_single_chart_fills_its_column_and_carries_its_title_outside():
    title, specs = charts.page_specs(charts.loss_curves(curves(), title="A title"))
    assert title == "A title" and len(specs) == 1
    spec = specs[0]
    assert spec["width"] == "container" and "title" not in spec
    assert spec["config"]["background"] == "transparent" and spec["config"]["legend"]["symbolOpacity"] == 1


def test_a_row_of_panels_becomes_separate_specs_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Altair's "deduplicated selection parameter" would fail here
        row = alt.hconcat(charts.loss_curves(curves()), charts.loss_curves(curves()), title="Row")
        title, specs = charts.page_specs(row)
        html = charts.show(row)._repr_mimebundle_()["text/html"]
    assert title == "Row" and len(specs) == 2 and all(s["width"] == "container" for s in specs)
    assert html.count('class="sc-chart"') == 2 and 'class="sc-panels"' in html


def test_zoom_needs_the_shift_key_and_sits_on_a_layer_with_both_axes():
    band = alt.Chart(pd.DataFrame({"x": [1], "x2": [2]})).mark_rect().encode(x="x:Q", x2="x2:Q")
    line = alt.Chart(curves()).mark_line().encode(x="compute:Q", y="loss:Q")
    spec = charts.zoom(band + line).to_dict()
    (param,) = spec["params"]
    assert param["views"] == [spec["layer"][1]["name"]]  # a band over x alone cannot project a selection on y
    assert param["select"]["zoom"] == "wheel![event.shiftKey]" and "shiftKey" in param["select"]["translate"]


def test_log_axes_label_powers_of_ten_one_way_and_zero_compute_is_dropped():
    chart = charts.loss_curves(curves())
    assert (chart.data["compute"] > 0).all()  # a log axis with compute = 0 drew an empty chart
    svg = vlc.vegalite_to_svg(chart.properties(width=400).to_dict())
    x_labels = re.findall(r">([^<>]*)</text>", labels(svg, "axis-label")[0])
    assert x_labels and all(re.fullmatch(r"10⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+", t) for t in x_labels), x_labels
    assert re.search(r'<path[^>]*d="M[^"]+"', svg)  # the lines were drawn
    narrow = curves().assign(loss=lambda d: 0.4 + 0.1 * d["loss"])  # within a decade: every tick, as decimals
    svg = vlc.vegalite_to_svg(charts.loss_curves(narrow, log_x=False).properties(width=400).to_dict())
    y_labels = re.findall(r">([^<>]*)</text>", labels(svg, "axis-label")[1])
    assert len(y_labels) > 2 and all(re.fullmatch(r"0\.\d+", t) for t in y_labels), y_labels


@pytest.mark.parametrize("value, text", [(2e-6, "2×10⁻⁶"), (0.45, "0.45"), (300, "300"), (3e14, "3×10¹⁴")])
def test_log_labels_between_powers(value, text):
    spec = {"data": {"values": [{"v": value}]}, "mark": "text",
            "encoding": {"text": {"field": "label"}}, "transform": [
                {"calculate": charts.LOG_LABELS.replace("datum.value", "datum.v"), "as": "label"}]}
    assert f">{text}<" in vlc.vegalite_to_svg(spec)


def test_thin_keeps_the_ends_of_each_group():
    df = pd.DataFrame({"g": np.repeat(["a", "b"], 500), "s": np.tile([0, 1], 500), "t": np.arange(1000.0)})
    out = charts.thin(df, 20, by=["g", "s"], order="t")
    sizes = out.groupby(["g", "s"]).size()
    assert len(sizes) == 4 and sizes.max() <= 20
    assert set(out.groupby(["g", "s"])["t"].max()) == set(df.groupby(["g", "s"])["t"].max())
