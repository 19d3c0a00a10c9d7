"""Charts and page text of the headline chapters: valid specs, thinned and rounded embedded data, honest text."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis import collapse, frames
from supercollapse.analysis import horizon as scaling
from supercollapse.pages import prose
from supercollapse.pages.charts import collapse as pc

N_EVALS = 400  # more evaluations per run than a chart may embed


def ladder(widths=(16, 24, 32, 48, 64), seeds=(0, 1, 2), n=N_EVALS, constant=False):
    """A width ladder in the long-frame format: L = 0.1 + 3·P^-0.3 + 0.5·(t/1e3)^-0.4 with 1% seed noise."""
    parts = []
    for D in widths:
        P = 40 * D * D
        T = 4e3 * P ** 0.9 if not constant else 4e3 * max(widths) ** 2 * 40
        t = np.linspace(T / n, T, n)
        for s in seeds:
            noise = 1 + 0.01 * np.random.default_rng(100 * D + s).normal()
            loss = (0.1 + 3 * P**-0.3 + 0.5 * (t / 1e3) ** -0.4) * noise
            parts.append(pd.DataFrame({"run": f"D{D}-s{s}", "D": D, "P": P, "seed": s, "step": np.arange(n),
                                       "tokens": t, "compute": 6 * P * t / 1e15, "loss": loss}))
    return frames.validate(pd.concat(parts, ignore_index=True))


@pytest.fixture(scope="module")
def decay():
    return ladder()


@pytest.fixture(scope="module")
def result(decay):
    return collapse.analyze(decay)


def datasets(chart):
    """The spec (validated by Altair's schema) and its embedded rows, dataset by dataset."""
    spec = chart.to_dict()
    return spec, list(spec.get("datasets", {}).values())


def assert_compact(rows, max_points=pc.MAX_POINTS, by=("run",)):
    for data in rows:
        df = pd.DataFrame(data)
        keys = [k for k in by if k in df.columns]
        if keys:
            assert df.groupby(keys).size().max() <= max_points
        for v in df.select_dtypes("number").to_numpy(dtype=float).ravel():
            assert math.isfinite(v) and float(f"{v:.{pc.DIGITS}g}") == v  # rounded: short JSON


def test_thin_and_round():
    df = pd.DataFrame({"run": np.repeat(["a", "b"], 500), "compute": np.tile(np.arange(500.0), 2)})
    out = pc.thin(df, 150)
    assert out.groupby("run").size().max() <= 150
    assert set(out.groupby("run")["compute"].agg(["min", "max"]).to_numpy().ravel()) == {0.0, 499.0}
    assert list(pc.round_sig([1.234567e-9, 0.123456, np.nan])[:2]) == [1.235e-9, 0.1235]
    assert len(json.dumps(pc.compact(pd.DataFrame({"v": [1 / 3]}))["v"].tolist())) <= 10


def test_loss_vs_compute(decay, result):
    spec, rows = datasets(pc.loss_vs_compute(decay, result.fit, title="Fig. 1a"))
    assert_compact(rows)
    curves = pd.DataFrame(max(rows, key=len))
    assert {"D", "seed", "compute", "loss", "run"} <= set(curves.columns)
    assert len(curves) <= decay["run"].nunique() * pc.MAX_POINTS < len(decay)
    scales = [e["scale"]["type"] for layer in spec["layer"] for ch in ("x", "y")
              if (e := layer.get("encoding", {}).get(ch)) and "scale" in e and "type" in e["scale"]]
    assert scales and set(scales) == {"log"}  # log-log axes as in [Q]


def test_loss_vs_compute_without_a_fit_or_widths(decay):
    spec, rows = datasets(pc.loss_vs_compute(decay.drop(columns="D")))
    assert_compact(rows)
    assert "P" in pd.DataFrame(max(rows, key=len)).columns


def test_normalized_curves_and_delta_vs_sigma(decay, result):
    for build in (pc.normalized_curves, pc.delta_vs_sigma):
        spec, rows = datasets(build(result, decay, title="t"))
        assert_compact(rows, max_points=len(result.x), by=("D",))
        assert any("D" in pd.DataFrame(r).columns for r in rows)  # legend by width
    spec, rows = datasets(pc.normalized_curves(result, title="no widths", log_y=False))
    assert any("P" in pd.DataFrame(r).columns for r in rows)


def test_ratio_comparison(decay, result):
    constant = collapse.analyze(ladder(constant=True))
    spec, rows = datasets(pc.ratio_comparison({"decay": result, "constant": constant}))
    assert_compact(rows, max_points=len(result.x), by=("ladder",))


def test_frontier(decay):
    const = ladder(widths=(8, 12, 16, 24, 32, 48, 64, 96), seeds=(0, 1), constant=True)
    h = scaling.fit_horizon(const, n_boot=20)
    spec, rows = datasets(pc.frontier_chart(const, h, title="Fig. 10"))
    assert_compact(rows, by=("run",))
    front = [pd.DataFrame(r) for r in rows if "frontier" in r[0]]
    assert front and len(front[0]) <= 96 and set(front[0]["frontier"]) <= {"kept", "dropped (edge width)"}
    from supercollapse.experiments.mlp import NARROW, collapse_configs

    cfgs = collapse_configs(NARROW["cpu"], h)
    table = pc.horizon_table(h, cfgs)
    assert list(table["D"]) == sorted(NARROW["cpu"].collapse_widths)  # one row per width, not per seed
    np.testing.assert_array_equal(table["T(P) (examples)"], np.round(h.horizon(table["P"].to_numpy(float))))
    assert (table["steps trained"] * table["batch B"] - table["T(P) (examples)"]).abs().max() <= table["batch B"][0]


def test_offsets(decay, result):
    offsets = collapse.fig2_offsets(decay, result.L0)
    table = collapse.offset_sensitivity(decay, offsets)
    for chart in (pc.offset_deltas(table, result), pc.offset_deltas(table), pc.offset_panels(decay, offsets),
                  pc.offset_ratios(table)):
        spec, rows = datasets(chart)
        assert_compact(rows, max_points=len(result.x), by=("label", "offset L̂", "D"))
    summary = pc.offset_summary(table)
    assert list(summary["offset L̂"]) == list(offsets) and summary.shape == (4, 4)
    choice = collapse.offset_choice(table)
    assert choice.fitted_L0_best == (summary.iloc[:, 2].idxmin() == 0)  # Δ/σ̄, not raw Δ
    assert choice.best == summary["offset L̂"][summary.iloc[:, 2].idxmin()]


def test_text_follows_the_numbers(result):
    import dataclasses

    for ratio, word in ((0.5, "supercollapse"), (1.5, "collapse"), (5.0, "no collapse")):
        r = dataclasses.replace(result, window_mean_ratio=ratio)
        assert f"**{word}**" in prose.verdict_text(r)
        assert f"**{word}**" in prose.verdict_text(r, numbers=False) and "0.5" not in prose.verdict_text(r, numbers=False)
        assert f"averages {prose.number(ratio)}" in prose.verdict_text(r)
    assert "undefined" in prose.verdict_text(dataclasses.replace(result, window_mean_ratio=float("nan")))
    assert "no onset" in prose.onset_text(dataclasses.replace(result, onset=None))
    assert "0.62" in prose.onset_text(dataclasses.replace(result, onset=0.62))
    assert "only at the last" in prose.onset_text(dataclasses.replace(result, onset=0.99))
    low, high = (dataclasses.replace(result, window_mean_ratio=v) for v in (0.5, 2.0))
    assert "Decay lowers" in prose.schedule_text(low, high)
    assert "does not lower" in prose.schedule_text(high, low)
    assert "by a factor 4" in prose.schedule_text(low, high, numbers=False)
    assert "2" not in prose.schedule_text(high, low, numbers=False).split("Verdicts")[0]
    # Below σ̄ at constant LR is not what the paper calls supercollapse (its Fig. 3 claim is CIFAR-5M's).
    assert "**supercollapse**" not in prose.schedule_text(high, low)
    text = prose.verdict_text(low, "their ladder", constant_lr=True)
    assert "CIFAR-5M" in text and "**supercollapse**" not in text
    cmp = collapse.ScheduleComparison(low, high, 0.1, 0.1, late_decay=0.5, late_constant=1.0)
    assert "by a factor 2" in prose.late_text(cmp)
    assert "not the tighter" in prose.late_text(dataclasses.replace(cmp, late_decay=2.0))
    assert "No published logs" in prose.published_text(None, "the figure") and prose.published_ladder("") is None


def test_published_ladder_reads_the_diagnostic_formats_too(decay, tmp_path):
    from supercollapse.analysis.diagnose import DiagnoseError

    decay.to_csv(tmp_path / "ladder.csv", index=False)
    decay.to_parquet(tmp_path / "ladder.parquet")
    for name in ("ladder.csv", "ladder.parquet"):
        pub = prose.published_ladder(str(tmp_path / name))
        assert pub["run"].nunique() == decay["run"].nunique() and len(pub) == len(decay)
        text = prose.published_text(pub, "the figure")
        assert f"`{name}`" in text and "last evaluation" in text and "opt_C" not in text
    (tmp_path / "ladder.txt").write_text("x")
    with pytest.raises(DiagnoseError, match=r"unknown file type '\.txt'; valid: \.csv") as e:
        prose.published_ladder(str(tmp_path / "ladder.txt"))
    assert "\n" not in str(e.value)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DiagnoseError, match="missing column"):
        prose.published_ladder(str(tmp_path / "bad.csv"))


def test_fit_text(decay, result):
    import dataclasses

    assert "below the lowest seed-mean final loss" in prose.fit_text(result, decay)
    assert "lower bound" in prose.fit_text(dataclasses.replace(result, L0=0.0), decay)


def test_horizon_table_rows_per_width():
    from supercollapse.engine.config import RunConfig

    h = scaling.fit_horizon(ladder(widths=(8, 12, 16, 24, 32, 48), seeds=(0, 1), constant=True), n_boot=5)
    configs = [RunConfig(task="mlp", D=D, B=64, T=640, seed=s, warmup=1) for D in (8, 16) for s in (0, 1)]
    table = pc.horizon_table(h, configs)
    assert list(table["D"]) == [8, 16] and (table["steps trained"] == 10).all()
    assert table["T(P) (examples)"].dtype.kind == "i"


def test_gamma_text():
    h = scaling.fit_horizon(ladder(widths=(8, 12, 16, 24, 32, 48), seeds=(0, 1), constant=True), n_boot=10)
    assert "bootstrap" in prose.gamma_text(h) and f"{h.gamma:.3f}" in prose.gamma_text(h)
    h1 = scaling.fit_horizon(ladder(widths=(8, 12, 16, 24, 32, 48), seeds=(0,), constant=True))
    assert "no bootstrap" in prose.gamma_text(h1)


def test_published_ladder_reads_the_one_named_file(tmp_path, decay):
    import pickle

    rows = [{"D": g["D"].iloc[0], "num_params": g["P"].iloc[0], "seed": g["seed"].iloc[0],
             "opt_C": g["compute"].iloc[-1], "opt_L": g["loss"].iloc[-1],
             "history": g[["step", "compute"]].assign(test_loss=g["loss"].to_numpy()).reset_index(drop=True)}
            for _, g in decay.groupby("run")]
    path = tmp_path / "authors.pkl"
    path.write_bytes(pickle.dumps(pd.DataFrame(rows)))
    frame = prose.published_ladder(str(path))
    assert frame["run"].nunique() == decay["run"].nunique()
    text = prose.published_text(frame, "the figure", "A finding.")
    assert "authors.pkl" in text and text.endswith("A finding.")
    with pytest.raises(ValueError, match="no such file"):
        prose.published_ladder(str(tmp_path / "missing.pkl"))


def test_the_spread_order_and_the_horizon_check(result):
    import dataclasses

    trend = collapse.size_trend(result)
    ordered = trend.assign(offset=np.linspace(-0.02, 0.02, len(trend)))
    worse = dataclasses.replace(result, window_mean_ratio=result.window_mean_ratio * 2)
    better = dataclasses.replace(result, window_mean_ratio=result.window_mean_ratio / 2)
    assert len(trend) > 2  # the fixture's ladder has enough sizes for an order to mean something
    assert collapse.size_ordered(ordered) and collapse.size_ordered(ordered.iloc[::-1])
    assert not collapse.size_ordered(ordered.iloc[[1, 0, *range(2, len(trend))]])
    assert not collapse.clearly_tighter(worse, result) and collapse.clearly_tighter(better, result)
    assert collapse.size_spread(result, ordered)["spread"] == pytest.approx(0.04)


def test_the_landing_page_numbers_and_verdicts_follow_the_measurements(decay):
    import dataclasses

    from supercollapse import study

    constant = ladder(constant=True)
    schedules = collapse.compare_schedules(decay, constant)
    offsets = collapse.offset_sensitivity(decay, collapse.fig2_offsets(decay, schedules.decay.L0))
    h = scaling.fit_horizon(ladder(widths=(8, 12, 16, 24, 32, 48), seeds=(0, 1), constant=True), n_boot=5)
    head = study.Headline("cpu", decay, constant, schedules, offsets, h, ("k",), study.spent([]))
    out = study.headline_numbers(head)
    assert out["ratio_decay"] == schedules.decay.window_mean_ratio and out["gamma"] == h.gamma
    summary = pc.offset_summary(offsets)
    assert out["best_offset"] == summary["offset L̂"][summary.iloc[:, 2].idxmin()]
    found = study.headline_findings(head)
    assert found["widths"] == [16, 24, 32, 48, 64] and found["seeds"] == 3
    assert found["fitted_L0_best"] == (out["best_offset"] == "L0") and found["L0_at_bound"] == (out["L0"] <= 0)
    tight = dataclasses.replace(schedules, decay=dataclasses.replace(schedules.decay, window_mean_ratio=0.5),
                                constant=dataclasses.replace(schedules.constant, window_mean_ratio=1.2),
                                late_decay=0.4, late_constant=1.0)
    found = study.headline_findings(dataclasses.replace(head, schedules=tight))
    assert (found["decay"], found["constant"], found["decay_tighter_late"]) == ("supercollapse", "collapse", True)
    loose = dataclasses.replace(tight, decay=dataclasses.replace(tight.decay, window_mean_ratio=2.0, L0=0.0),
                                constant=dataclasses.replace(tight.constant, window_mean_ratio=float("nan")),
                                late_decay=2.0)
    found = study.headline_findings(dataclasses.replace(head, schedules=loose))
    assert (found["decay"], found["constant"], found["decay_tighter_late"]) == ("collapse", None, False)
    assert found["L0_at_bound"]
