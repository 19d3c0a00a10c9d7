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


def test_forty_runs_of_a_thousand_points(tmp_path):
    # Speed is measured in benchmarks/, not asserted here: this checks a large ladder is analysed correctly.
    ladder("super", n_sizes=5, n_seeds=8, n_points=1000).to_csv(tmp_path / "big.csv", index=False)
    r = diagnose(read_ladder(tmp_path / "big.csv"))
    assert r.n_runs == 40 and r.verdict == "supercollapse"
