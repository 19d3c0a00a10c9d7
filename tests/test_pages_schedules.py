"""The noise-model page: its charts (`pages.charts.schedules`) and its sentences (`pages.prose`), each sentence in
both of its outcomes."""
import dataclasses

import pandas as pd
import pytest
from test_schedules import ALPHA, VARIANTS, ladder

from supercollapse.analysis import schedules as noise
from supercollapse.pages import charts, prose
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


def test_alpha_text_says_whether_it_agrees_with_the_paper(model):
    text = prose.alpha_text(model.alpha, ALPHA, 0.25)
    assert "consistent with [Q]'s MLP value 0.26" in text and "unlike" not in text
    off = prose.alpha_text(dataclasses.replace(model.alpha, value=0.5, se=0.01), ALPHA, 0.25)
    assert "above [Q]'s MLP value 0.26 by more than two bootstrap errors" in off and "unlike the paper" in off
    assert "given as a parameter" in prose.alpha_text(noise.given_alpha(0.3), ALPHA, 0.25)


def test_the_model_sentences_follow_the_named_results(model):
    good = prose.noise_model_text(model)
    assert model.predicts_decay_gain and "as in the paper" in good and "unlike" not in good
    bad = noise.noise_model(ladder(widths=(16,), seeds=(0,), every=8), alpha=4 * ALPHA)
    assert not bad.predicts_decay_gain and "unlike the paper" in prose.noise_model_text(bad)
    terms = noise.noise_terms(model, n_boot=5)
    assert "as in [Q] Fig. 13" in prose.noise_terms_text(terms)
    flipped = dataclasses.replace(terms, rms_sigma=2 * terms.rms_eta)
    assert not flipped.eta_dominates and "unlike [Q] Fig. 13" in prose.noise_terms_text(flipped)
    assert "not tuned" in prose.held_out_text(True) and "does not transfer" in prose.held_out_text(False)
    frame = ladder(widths=(16,), seeds=(0,))
    assert "captures the gain" in prose.check_text(noise.check_prediction(frame, "linear", 1.0, ALPHA))
    assert "misses by more" in prose.check_text(noise.check_prediction(frame, "linear", 1.0, 4 * ALPHA))
    assert isinstance(model.errors(), pd.DataFrame)
