"""The noise-model page: its charts (`pages.charts.schedules`) and the named results its sentences choose by
([Q] Figs. 1e, 6, 12, 13), each in both of its outcomes."""
import dataclasses
import math

import pandas as pd
import pytest
from test_schedules import ALPHA, VARIANTS, ladder

from supercollapse.analysis import schedules as noise
from supercollapse.pages import charts
from supercollapse.pages.charts import schedules as ps


@pytest.fixture(scope="module")
def model():
    return noise.noise_model(ladder(widths=(16, 32), seeds=(0, 1), every=8, noise_sd=1e-4), n_boot=20)


def datasets(chart):
    return [rows for spec in charts.page_specs(chart)[1] for rows in spec.get("datasets", {}).values()]


def test_curve_panels_one_per_schedule_with_three_kinds_of_line(model):
    row = ps.curve_panels(model, color="width", widths={p: d for p, d in ((100 * 16 ** 2, 16), (100 * 32 ** 2, 32))})
    title, specs = charts.page_specs(row.properties(title="t"))
    assert title == "t" and len(specs) == len(VARIANTS)
    rows = [r for d in datasets(row) for r in d]
    assert {r["kind"] for r in rows} == set(ps.KINDS) and {r["series"] for r in rows} == {"D = 16", "D = 32"}
    assert all(len(str(r["value"]).replace(".", "").lstrip("0")) <= 5 for r in rows)  # rounded to 4 digits
    three = noise.noise_model(noise.union(*(ladder(widths=(16,), seeds=(0,), steps=n, every=n // 50).assign(
        run=lambda d, n=n: d["run"] + f"-{n}") for n in (200, 400, 800))), n_boot=5)
    horizons = ps.curve_panels(three, color="horizon")
    assert {r["series"] for d in datasets(horizons) for r in d} == {"T × 0.5", "T × 1", "T × 2"}
    with pytest.raises(ValueError, match="valid: None, 'width', 'horizon'"):
        ps.curve_panels(model, color="seed")


def test_gain_terms_and_check_charts_render(model):
    rows = [r for d in datasets(ps.gains(model)) for r in d]
    assert {r["recipe"] for r in rows if "recipe" in r} == set(ps.RECIPES.values())
    assert len(charts.page_specs(ps.terms(model))[1]) == len(VARIANTS)
    check = noise.check_prediction(ladder(widths=(16,), seeds=(0,)), "cosine", 1.0, ALPHA)
    html = charts.show(ps.check(check), "caption")._repr_mimebundle_()["text/html"]
    assert "<svg" in html and "caption" in html
    spec = charts.page_specs(ps.check(check))[1][0]
    assert spec["encoding"]["color"]["scale"]["domain"] == spec["encoding"]["strokeDash"]["scale"]["domain"]


def test_alpha_agrees_with_the_paper_within_two_errors(model):
    assert model.alpha.source == "fit" and model.alpha.consistent_with(ALPHA)
    off = dataclasses.replace(model.alpha, value=0.5, se=0.01)
    assert not off.consistent_with(ALPHA) and off.consistent_with(0.485) and not off.consistent_with(0.47)
    assert noise.given_alpha(0.3).source == "given" and not noise.given_alpha(0.3).consistent_with(0.3)  # se NaN


def test_the_model_results_in_both_outcomes(model):
    assert model.predicts_decay_gain
    bad = noise.noise_model(ladder(widths=(16,), seeds=(0,), every=8), alpha=4 * ALPHA)
    assert not bad.predicts_decay_gain
    terms = noise.noise_terms(model, n_boot=5)
    assert terms.eta_dominates and terms.sigma_over_eta < 1
    flipped = dataclasses.replace(terms, rms_sigma=2 * terms.rms_eta)
    assert not flipped.eta_dominates and flipped.sigma_over_eta == pytest.approx(2)
    assert math.isnan(dataclasses.replace(terms, rms_eta=0.0).sigma_over_eta)
    frame = ladder(widths=(16,), seeds=(0,))
    assert noise.check_prediction(frame, "linear", 1.0, ALPHA).predicts_decay_gain
    assert not noise.check_prediction(frame, "linear", 1.0, 4 * ALPHA).predicts_decay_gain
    assert isinstance(model.errors(), pd.DataFrame)
