"""Where the spread comes from: Δ² decomposition, decay gain, factorization, on synthetic ladders."""
import numpy as np
import pytest

from conftest import synthetic_ladder
from supercollapse.analysis import collapse, spread


def test_decomposition_sums_to_delta_squared():
    decay, _ = synthetic_ladder(gain=lambda P: 0.1 + 0.05 * np.log10(P))
    r = collapse.analyze(decay, L0=0.05)
    d = spread.decomposition(r)
    np.testing.assert_allclose(d.cross + d.within, r.delta ** 2, rtol=1e-10, atol=1e-14)
    assert d.cross_rms > d.within_rms  # a size-dependent gain is a cross-size spread


def test_a_width_dependent_gain_is_flagged_and_a_constant_one_is_not():
    grows = spread.decay_gain(*synthetic_ladder(gain=lambda P: 0.1 + 0.05 * np.log10(P / 1e4)))
    flat = spread.decay_gain(*synthetic_ladder(gain=lambda P: 0.2))
    assert grows.varies and grows.slope == pytest.approx(0.05, abs=0.01)
    assert not flat.varies and abs(flat.slope) < 3 * flat.slope_se + 1e-3
    np.testing.assert_allclose(flat.per_size["gain"], 0.2, atol=0.01)


def test_factorization_puts_a_gain_in_the_noise_factor_only():
    decay, const = synthetic_ladder(gain=lambda P: 0.1 + 0.1 * np.log10(P / 1e4), noise=0.0, gain_noise=0.0)
    f = spread.factorization(decay, const, L0=0.05)
    assert np.all(np.diff(f["noise"]) > 0)  # ordered by size
    assert np.ptp(f["noise"]) > 5 * np.ptp(f["deterministic"])


def test_twins_must_reach_the_decayed_tau():
    decay, const = synthetic_ladder()
    short = const[const["step"] <= 20]
    with pytest.raises(ValueError, match="train the twin at least as long"):
        spread.decay_gain(decay, short)
    with pytest.raises(ValueError, match="no decayed run has a constant-LR twin"):
        spread.decay_gain(decay, const.assign(seed=const["seed"] + 100))


def test_diagnose_reports_the_split_and_warns_on_a_varying_gain(tmp_path):
    import json
    import subprocess
    import sys

    decay, const = synthetic_ladder(gain=lambda P: 0.1 + 0.05 * np.log10(P / 1e4))
    decay.to_csv(tmp_path / "decay.csv", index=False)
    const.to_csv(tmp_path / "const.csv", index=False)
    run = lambda *a: subprocess.run([sys.executable, "-m", "supercollapse", "diagnose", *a],  # noqa: E731
                                    capture_output=True, text=True)
    table = run(str(tmp_path / "decay.csv"), "--L0", "0.05", "--reference", str(tmp_path / "const.csv"))
    assert table.returncode == 0, table.stderr
    assert "cross-size" in table.stdout and "warning: the decay gain varies" in table.stdout
    d = json.loads(run(str(tmp_path / "decay.csv"), "--L0", "0.05", "--json").stdout)
    assert d["gain"] is None and d["cross_rms"] > d["within_rms"] > 0
    flat = synthetic_ladder(gain=lambda P: 0.2)
    flat[0].to_csv(tmp_path / "d2.csv", index=False)
    flat[1].to_csv(tmp_path / "c2.csv", index=False)
    quiet = run(str(tmp_path / "d2.csv"), "--L0", "0.05", "--reference", str(tmp_path / "c2.csv"))
    assert quiet.returncode == 0 and "decay gain" in quiet.stdout and "warning: the decay gain" not in quiet.stdout


def test_ratio_bootstrap_brackets_the_estimate_and_shrinks_with_more_seeds():
    few = collapse.analyze(synthetic_ladder(seeds=(0, 1, 2))[0], L0=0.05)
    many = collapse.analyze(synthetic_ladder(seeds=tuple(range(12)))[0], L0=0.05)
    b_few, b_many = collapse.ratio_bootstrap(few), collapse.ratio_bootstrap(many)
    for r, b in ((few, b_few), (many, b_many)):
        assert b.n_boot == 200 and b.ci[0] <= r.window_mean_ratio * 1.2 and b.ci[1] >= r.window_mean_ratio * 0.8
    assert 0 < b_many.se < b_few.se


def test_ratio_jackknife_matches_the_spread_over_independent_ladders():
    # Ten ladders with the same truth and new seeds (3 per size): the spread of Δ/σ̄ between them is the error
    # an estimate of one ladder should report. The bootstrap's repeated seeds shrink σ: its se is 4x too large.
    results = [collapse.analyze(synthetic_ladder(seeds=(0, 1, 2), rng_seed=k)[0], L0=0.05) for k in range(10)]
    est = np.array([r.window_mean_ratio for r in results])
    jack = [collapse.ratio_jackknife(r) for r in results]
    spread = est.std(ddof=1)
    assert 0.5 < np.mean([j.se for j in jack]) / spread < 2
    assert sum(j.ci[0] <= est.mean() <= j.ci[1] for j in jack) >= 8
    assert np.mean([collapse.ratio_bootstrap(r, n_boot=50).se for r in results[:3]]) > 2 * spread


def test_the_jackknife_with_L0_refitted_carries_the_fit_error():
    # Four sizes over a factor 8 of P: the fit puts L0 at 0.080 (truth 0.05), and a replicate short of one run moves
    # it by ±0.01, which the jackknife with L0 held cannot see.
    r = collapse.analyze(synthetic_ladder(rng_seed=1)[0])
    n = len(r.grid.runs)
    assert collapse._refit_L0(r, np.arange(n)) == pytest.approx(r.L0, abs=1e-6)  # the data `analyze` fitted
    held, refit = collapse.ratio_jackknife(r), collapse.ratio_jackknife(r, refit=True)
    assert refit.n_boot == held.n_boot == n and refit.se > 2 * held.se
    assert refit.ci[0] < r.window_mean_ratio < refit.ci[1]
    with pytest.raises(ValueError, match="refit needs a fitted L0"):
        collapse.ratio_jackknife(collapse.analyze(synthetic_ladder()[0], L0=0.05), refit=True)


def test_the_counterfactual_removes_a_gain_trend_and_factors_multiply_to_ell():
    decay, const = synthetic_ladder(gain=lambda P: 0.1 + 0.05 * np.log10(P / 1e4))
    r = collapse.analyze(decay, L0=0.05)
    f = spread.factors(decay, const, 0.05, r.x)
    late = r.x >= 0.2
    np.testing.assert_allclose((f.deterministic * f.noise)[:, late], r.ell[:, late], rtol=1e-3)
    assert spread.counterfactual_ratio(decay, const, r) < 0.5 * r.window_mean_ratio


def test_compare_schedules_measures_both_windows_with_each_ladders_own_L0():
    decay, const = synthetic_ladder()
    cmp = collapse.compare_schedules(decay, const)
    for frame, result, late in ((decay, cmp.decay, cmp.late_decay), (const, cmp.constant, cmp.late_constant)):
        assert result.window_mean_ratio == collapse.analyze(frame).window_mean_ratio
        assert late == collapse.analyze(frame, L0=result.L0, window=collapse.LATE_WINDOW).window_mean_ratio
    assert cmp.decay_se > 0 and cmp.constant_se > 0
    assert cmp.decay_tighter_late == (cmp.late_decay < cmp.late_constant)
