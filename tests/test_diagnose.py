"""The collapse diagnostic: verdicts on ladders with a known answer, file formats, errors, speed."""
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis.diagnose import DiagnoseError, Report, diagnose, read_ladder

L0 = 0.05


def ladder(kind, n_sizes=5, n_seeds=4, n_points=200, seed=0):
    """L = L0 + R_p·f(x)·noise; 'super': a per-seed factor (removed by normalization), 'const': noise at every
    evaluation (Δ ≈ σ, as at constant LR), 'none': the shape f depends on the size."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, n_points)
    parts = []
    for k in range(n_sizes):
        C_final = 1e-3 * 4**k
        R = 0.3 * C_final**-0.1
        z = rng.normal(size=n_seeds)
        factors = 1 + 0.02 * (z - z.mean())  # centred: the seed means lie on the power law, so L0 is known
        for s in range(n_seeds):
            if kind == "super":
                noise = factors[s] * (1 + 1e-4 * rng.normal(size=n_points))
            else:
                noise = 1 + 0.01 * rng.normal(size=n_points)
            f = 1 + (3 + (k if kind == "none" else 0)) * (1 - x) ** 1.5
            parts.append(pd.DataFrame({"P": 1e5 * 2**k, "seed": s, "compute": C_final * x, "loss": L0 + R * f * noise}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("kind, verdict", [("super", "supercollapse"), ("const", "collapse"), ("none", "no collapse")])
def test_verdicts(kind, verdict):
    # L0 is fitted for the clean ladder; the noisy ones get the true L0 (their final points are noisy).
    r = diagnose(ladder(kind), L0="auto" if kind == "super" else L0)
    assert r.verdict == verdict
    if kind == "super":
        assert r.onset is not None and r.onset <= 0.5
    if kind == "none":
        assert r.onset is None or r.onset > 0.9


def test_report_json_and_table():
    r = diagnose(ladder("super"))
    d = json.loads(r.to_json())
    assert {"L0", "a", "b", "x", "delta", "sigma_mean", "window_mean_ratio", "onset", "verdict"} <= set(d)
    assert d["x"] == pytest.approx([0.1 * k for k in range(1, 10)]) and len(d["delta"]) == len(d["sigma_mean"]) == 9
    assert d["L0"] == pytest.approx(L0, rel=0.05) and r.L0_source == "fit"
    table = r.to_table()
    assert "verdict: supercollapse" in table and "sigma_mean" in table and table.count("\n") > 12
    given = diagnose(ladder("super"), L0="0.05")  # the CLI passes strings
    assert given.L0 == 0.05 and given.a is None and json.loads(given.to_json())["a"] is None
    assert isinstance(given, Report)


def test_read_ladder_formats_agree(tmp_path):
    f = ladder("const", n_sizes=3, n_seeds=2, n_points=50)
    f.to_csv(tmp_path / "l.csv", index=False)
    f.to_parquet(tmp_path / "l.parquet")
    tokens = f.assign(tokens=f["compute"] * 1e15 / (6 * f["P"])).drop(columns="compute")
    tokens.to_csv(tmp_path / "tokens.csv", index=False)
    reports = [diagnose(read_ladder(tmp_path / n), L0=L0) for n in ("l.csv", "l.parquet", "tokens.csv")]
    assert reports[0].delta == pytest.approx(reports[1].delta) and reports[0].delta == pytest.approx(reports[2].delta)
    # An authors'-format pickle goes through the importer.
    rows = [{"D": int(P), "num_params": P, "seed": s, "opt_C": g["compute"].max(), "opt_L": g["loss"].iloc[-1],
             "history": g.rename(columns={"loss": "test_loss"}).reset_index(drop=True)}
            for (P, s), g in f.groupby(["P", "seed"])]
    with open(tmp_path / "l.pkl", "wb") as fh:
        pickle.dump(pd.DataFrame(rows), fh)
    assert diagnose(read_ladder(tmp_path / "l.pkl"), L0=L0).delta == pytest.approx(reports[0].delta)


def test_bad_input_gets_one_clear_error(tmp_path):
    good = ladder("const", n_sizes=3, n_seeds=2, n_points=20)
    with pytest.raises(DiagnoseError, match="missing column.*loss.*valid input has"):
        diagnose(good.drop(columns="loss"))
    with pytest.raises(DiagnoseError, match="P or D"):
        diagnose(good.drop(columns="P"))
    with pytest.raises(DiagnoseError, match="compute or tokens"):
        diagnose(good.drop(columns="compute"))
    with pytest.raises(DiagnoseError, match="fewer than 2 seeds"):
        diagnose(good[good["seed"] == 0])
    with pytest.raises(DiagnoseError, match="only 1 size"):
        diagnose(good[good["P"] == good["P"].min()])
    nan = good.copy()
    nan.loc[5, "loss"] = np.nan
    with pytest.raises(DiagnoseError, match="non-finite"):
        diagnose(nan)
    with pytest.raises(DiagnoseError, match="not below every run's final loss"):
        diagnose(good, L0=10.0)
    with pytest.raises(DiagnoseError, match="'auto' or a number"):
        diagnose(good, L0="fit")
    with pytest.raises(DiagnoseError, match="window"):
        diagnose(good, window=(0.9, 0.5))
    with pytest.raises(DiagnoseError, match="unknown file type '.txt'.*\\.csv"):
        read_ladder(tmp_path / "l.txt")
    with pytest.raises(DiagnoseError, match="no such file"):
        read_ladder(tmp_path / "absent.csv")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DiagnoseError, match="cannot read it as Parquet"):
        read_ladder(tmp_path / "bad.parquet")
    (tmp_path / "bad.pkl").write_text("not a pickle")
    with pytest.raises(DiagnoseError, match="cannot be unpickled"):
        read_ladder(tmp_path / "bad.pkl")
    assert issubclass(DiagnoseError, ValueError)  # the CLI maps ValueError to exit 2


def test_bad_sizes_seeds_and_sparse_runs_are_named(tmp_path):
    good = ladder("super", n_sizes=3, n_seeds=3, n_points=20)
    cases = [(good.assign(P=good["P"].astype(float).where(good.index != 3)), r"column 'P', at data row\(s\) 3 \(nan\)"),
             (good.assign(P=good["P"].where(good["P"] > good["P"].min(), 0)), r"column 'P'.*a finite number > 0"),
             (good.assign(P=good["P"].where(good["P"] > good["P"].min(), -5)), r"column 'P'.*\(-5.0\)"),
             (good.assign(seed=np.nan), "column 'seed' is empty in 180 row"),
             (good[good.index % 10 == 9], "fewer than 2 evaluations with x = C/C_final in the window")]
    for frame, message in cases:  # as a user's file: row numbers count the file's data rows
        frame.to_csv(tmp_path / "l.csv", index=False)
        with pytest.raises(DiagnoseError, match=message):
            diagnose(read_ladder(tmp_path / "l.csv"))
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DiagnoseError, match="dir.csv is a directory; valid: a file"):
        read_ladder(tmp_path / "dir.csv")


def test_a_ladder_not_compute_optimal_is_refused_or_warned():
    x = np.linspace(0.02, 1, 50)
    flat = pd.concat([pd.DataFrame({"P": P, "seed": s, "compute": 1e-3 * x, "tokens": 1e9 / P * x,
                                    "loss": 0.1 + P ** -0.3 * (1 + (1 - x) ** 2) * (1 + 0.01 * s)})
                      for P in (1e4, 4e4, 1.6e5) for s in range(3)])
    with pytest.raises(DiagnoseError, match="final compute .* does not grow with size .*--allow-flat-compute"):
        diagnose(flat)
    r = diagnose(flat, L0=0.1, allow_flat_compute=True)
    assert any("final compute does not grow" in w for w in r.warnings) and "warning: the final compute" in r.to_table()
    # Equal steps: compute grows with P, tokens do not ([Q] trains to T ∝ P^gamma); and 2 seeds.
    steps = ladder("super", n_seeds=2).assign(tokens=lambda f: f["compute"] * 1e15 / (6 * 1e5 * 2.0 ** 5))
    steps["tokens"] = steps.groupby("P")["tokens"].transform(lambda t: t / t.max() * 1e6)
    w = diagnose(steps).warnings
    assert any("final tokens do not grow" in v and "equal-step" in v for v in w) and any("only 2 seeds" in v for v in w)
    assert not diagnose(ladder("super")).warnings  # a compute-optimal ladder with 4 seeds: nothing to say


def test_L0_at_its_bound_and_the_jackknife_interval_are_reported():
    r = diagnose(ladder("super"))
    assert not r.L0_at_bound and r.ratio_ci[0] < r.window_mean_ratio < r.ratio_ci[1] and r.ratio_se > 0
    assert f"{r.window_mean_ratio:.3g} ± " in r.to_table() and "jackknife" in r.to_table()
    assert r.ratio_se_refit > 0 and f"± {r.ratio_se_refit:.2g} with L0 refitted" in r.to_table()
    assert json.loads(r.to_json())["ratio_ci_refit"] == list(r.ratio_ci_refit)
    given = diagnose(ladder("super"), L0=r.L0)
    assert given.ratio_se_refit is None and "refitted" not in given.to_table()
    below = ladder("super").assign(loss=lambda f: f["loss"] - 0.1)  # L0 = -0.05: the fit stops at its bound 0
    low = diagnose(below)
    assert low.L0 == 0 and low.L0_at_bound and "at its lower bound 0" in low.to_table()
    assert json.loads(low.to_json())["L0_at_bound"] is True


def test_forty_runs_of_a_thousand_points(tmp_path):
    # Speed is measured in benchmarks/, not asserted here: this checks a large ladder is analysed correctly.
    ladder("super", n_sizes=5, n_seeds=8, n_points=1000).to_csv(tmp_path / "big.csv", index=False)
    r = diagnose(read_ladder(tmp_path / "big.csv"))
    assert r.n_runs == 40 and r.verdict == "supercollapse"


def test_sigma_bias_is_the_mean_ddof0_std_of_normal_draws():
    from supercollapse.analysis.diagnose import noise_only_ratio, sigma_bias

    assert sigma_bias(2) == pytest.approx(1 / np.sqrt(np.pi))
    draws = np.random.default_rng(0).normal(size=(200_000, 3))
    assert sigma_bias(3) == pytest.approx(draws.std(axis=1).mean(), rel=5e-3)
    assert sigma_bias(1000) == pytest.approx(1, abs=1e-3)
    assert noise_only_ratio(5) < noise_only_ratio(3) < 3  # noise alone stays below the collapse threshold
    with pytest.raises(ValueError):
        sigma_bias(1)


def test_example_ladder_is_a_compute_optimal_ladder_that_supercollapses(tmp_path):
    from supercollapse.analysis.diagnose import example_ladder

    f = example_ladder()
    final = f.groupby("P")[["compute", "tokens"]].max()
    assert (np.diff(final["compute"]) > 0).all() and (np.diff(final["tokens"]) > 0).all()
    assert np.allclose(f["compute"], 6 * f["P"] * f["tokens"] / 1e15)
    f.to_csv(tmp_path / "ladder.csv", index=False)
    r = diagnose(read_ladder(tmp_path / "ladder.csv"))
    assert r.verdict == "supercollapse" and not r.warnings and r.L0 == pytest.approx(0.1, rel=0.05)
    assert example_ladder(rng_seed=1)["loss"].ne(f["loss"]).any()  # the seed draws the noise
    assert example_ladder().equals(f)


def test_page_texts_follow_the_report(tmp_path):
    import dataclasses

    from supercollapse.pages import diagnosis

    path = diagnosis.example_file(tmp_path / "ex.csv")
    frame = read_ladder(path)
    r = diagnose(frame)
    t = diagnosis.texts(r)
    assert t["diag_verdict"].startswith("**supercollapse**") and t["diag_warnings"] == "No warnings."
    bad = dataclasses.replace(r, L0_at_bound=True, warnings=("only 2 seeds",), onset=None)
    t = diagnosis.texts(bad)
    assert "lower bound 0" in t["diag_fit"] and "- only 2 seeds" in t["diag_warnings"] and "never" in t["diag_onset"]
    assert len(diagnosis.panels(frame, r)) == 3 and list(diagnosis.summary(r)["x"]) == list(r.x)
    th = diagnosis.thresholds()
    assert th["th_super"] < th["th_noise_5"] < th["th_noise_3"] < th["th_collapse"]
