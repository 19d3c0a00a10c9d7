"""Issue 15: [B]'s min(a − 1, 2b), the exact width floor, the SGD noise excess, √2 at constant learning rate, and the
verdicts that compare measured with predicted values."""
import numpy as np
import pandas as pd
import pytest

from supercollapse.theory import power_laws, random_features as rf, bridge, checks, sgd, fits, sizes
from supercollapse.analysis import collapse

X = np.geomspace(0.01, 1, 60)


# --- [B]'s exponents on both sides of a = 2b + 1 ------------------------------------------------------------------

def test_predicted_exponents_follow_B_min_a_minus_1_2b_on_both_sides_of_a_equal_2b_plus_1():
    easy = rf.predicted(4.0, 1.0)  # a > 2b + 1: [B]'s "easy" branch, m = 2b = 2
    assert easy.m == easy.width == easy.data == pytest.approx(2.0)
    assert easy.compute_loss == pytest.approx(1.2)  # [B]: (a−1)m/(a−1+bm) = 6/5
    assert (easy.compute_width, easy.compute_time) == pytest.approx((0.6, 0.4))
    assert easy.gamma == pytest.approx(easy.nu / easy.mu) == pytest.approx(2 / 3)
    usual = rf.predicted(2.0, 1.5)  # a < 2b + 1: m = a − 1
    assert usual.m == pytest.approx(1.0)
    assert (usual.compute_loss, usual.compute_width, usual.compute_time, usual.gamma) == pytest.approx(
        (0.4, 0.4, 0.6, 1.5))
    below, above = rf.predicted(3.9, 1.5), rf.predicted(4.1, 1.5)  # the kink at a = 2b + 1 = 4
    assert below.m == pytest.approx(2.9) and above.m == pytest.approx(3.0)
    for e in (easy, usual, below, above):  # N* and t* share the compute
        assert e.compute_width + e.compute_time == pytest.approx(1.0)


@pytest.mark.parametrize("a, expected", [(5.0, -3.0), (3.0, -2.0)])  # a > 2b + 1 and a < 2b + 1 at b = 1.5
def test_data_bottleneck_of_the_exact_model_follows_min_a_minus_1_2b(a, expected):
    task = rf.Task(a=a, b=1.5, M=2048)
    data_sizes = [64, 128, 256]
    final = rf.final_test(rf.data_ladder(task, data_sizes, [1e14], N=None, draws=3))
    fit = fits.fit_log_slope(data_sizes, final)
    assert fit.exponent == pytest.approx(expected, abs=0.25)
    assert fit.exponent == pytest.approx(-rf.predicted(a, 1.5).data, abs=0.25)
    if a > 4:  # the easy side: 2b, far from −(a − 1) = −4
        assert abs(fit.exponent + (a - 1)) > 0.6
    np.testing.assert_allclose(final.mean(0), rf.data_floor_theory(task, data_sizes), rtol=0.25)


@pytest.mark.parametrize("a", [2.0, 3.0, 5.0])
def test_width_floor_is_its_deterministic_equivalent(a):
    task = rf.Task(a=a, b=1.5, M=4096)
    widths = [32, 128]
    # Within 15% at N = 32 already; the squared form κ²/(λ + κ)² of the data floor would be off several-fold.
    np.testing.assert_allclose(rf.final_losses(task, widths, draws=3).mean(0), rf.width_floor_theory(task, widths),
                               rtol=0.15)


@pytest.mark.parametrize("a", [2.0, 3.0, 5.0])
def test_width_floor_saturates_at_N_to_minus_b_not_2b(a):
    # Deterministic equivalent at N << M: the exact floor falls as N^(−min(a−1, b)); [B] states min(a−1, 2b).
    task = rf.Task(a=a, b=1.5, M=2 ** 18)
    floors = rf.width_floor_theory(task, [1024, 2048])
    slope = float(np.diff(np.log(floors))[0] / np.log(2))
    e = rf.predicted(a, 1.5)
    assert slope == pytest.approx(-e.projection, abs=0.05)
    assert (e.projection == e.width) == (a - 1 <= 1.5)  # [B]'s width exponent holds only up to a = b + 1


def test_deterministic_equivalent_needs_fewer_features_than_modes():
    with pytest.raises(ValueError, match="M = 64"):
        rf.width_floor_theory(rf.Task(2.0, 1.5, 64), [64])


# --- verdicts -------------------------------------------------------------------------------------------------------

def test_verdict_separates_sampling_from_finite_size():
    ok = checks.agreement(1.02, 1.0, sampling=0.015, finite_size=0.0)
    assert ok.agrees and ok.within_sampling and ok.label == "agrees"
    sys = checks.agreement(0.9, 1.0, sampling=0.01, finite_size=0.06)  # 0.1 ≤ 2·√(0.01² + 0.06²) = 0.122
    assert sys.agrees and not sys.within_sampling and sys.label == "agrees within finite-size error"
    bad = checks.agreement(0.8, 1.0, sampling=0.01, finite_size=0.06)
    assert not bad.agrees and bad.label == "disagrees" and bad.gap == pytest.approx(-0.2)
    assert checks.AGREEMENT_Z == 2.0 and "2·√(sampling² + finite-size²)" in ok.criterion
    assert checks.agreement(0.5, 1.0, 0.1, float("nan"), relation="<").agrees
    assert checks.agreement(1.2 + 1e-14, 1.2, 0.0, 0.0).label == "agrees"  # round-off of an exact computation
    assert not checks.agreement(1.2 + 1e-6, 1.2, 0.0, 0.0).agrees
    assert not checks.agreement(0.9, 1.0, 0.1, 0.0, relation="<").agrees  # 0.9 + 0.2 is not below 1
    with pytest.raises(ValueError, match="relation"):
        checks.agreement(1, 1, 0, 0, relation="=")


def test_window_drift_is_zero_for_a_power_law_and_measures_a_drifting_exponent():
    x = np.geomspace(1, 1e4, 41)
    low, high = checks.window_drift(x, 2 * x ** -0.5)
    assert low == pytest.approx(-0.5) and high == pytest.approx(-0.5)
    c = 0.02  # local exponent −0.5 + 2c·log x: drifts linearly in log x
    low, high = checks.window_drift(x, np.exp(-0.5 * np.log(x) + c * np.log(x) ** 2))
    lx = np.log(x)
    assert high - low == pytest.approx(2 * c * (lx[20:].mean() - lx[:21].mean()), rel=1e-9)
    with pytest.raises(ValueError, match="at least 3"):
        checks.window_drift([1, 2], [1, 2])


def test_exponent_check_takes_sampling_from_draws_and_finite_size_from_the_window():
    x = np.geomspace(10, 1000, 6)
    rng = np.random.default_rng(0)
    draws = x ** -1.0 * np.exp(0.05 * rng.standard_normal((16, 6)))
    c = checks.exponent_check("width", -1.0, x, draws)
    assert 0 < c.sampling < 0.05 and c.verdict.agrees
    exact = checks.exponent_check("time", -1.0, x, x ** -1.0)
    assert exact.sampling == 0 and exact.finite_size == pytest.approx(0, abs=1e-12)
    curved = checks.exponent_check("curved", -1.0, x, x ** -1.0 * np.log(x) ** 2)  # log corrections drift
    assert curved.finite_size > 0.1 and curved.measured > -0.7
    frame = checks.agreement_table([c, exact, curved])
    assert list(frame["verdict"][:2]) == ["agrees", "agrees"] and frame["verdict"][2] != "agrees"


def test_pairwise_and_block_exponents_recover_a_power_law():
    x = np.geomspace(1, 1e3, 30)
    mid, slope = checks.pairwise_exponent(x, 3 * x ** 1.7)
    np.testing.assert_allclose(slope, 1.7)
    np.testing.assert_allclose(mid, np.sqrt(x[1:] * x[:-1]))
    centres, blocks = checks.block_exponents(x, 3 * x ** 1.7, n_blocks=3)
    assert len(centres) == 3 and np.allclose(blocks, 1.7)


# --- one-pass SGD: the noise excess -------------------------------------------------------------------------------

def test_full_batch_is_the_large_batch_limit_of_the_mean_recursion():
    spec = rf.spectrum(rf.Task(2.0, 1.5, 256), 32)
    steps = np.arange(0, 201, 50)
    np.testing.assert_allclose(sgd.full_batch_loss(spec, 0.2, steps),
                               sgd.mean_loss(spec, np.full(200, 0.2), B=10 ** 9)[steps], rtol=1e-7)


@pytest.mark.parametrize("B", [1, 4, 32])
def test_noise_excess_closed_form_matches_the_exact_mean_late_in_training(B):
    spec = rf.spectrum(rf.Task(2.0, 1.5, 1024), 64)
    lr, steps = 0.1, 4000
    mean = sgd.mean_loss(spec, np.full(steps, lr), B)[-1]
    excess = mean / sgd.full_batch_loss(spec, lr, [steps])[0] - 1
    assert excess == pytest.approx(sgd.noise_excess(spec, lr, B), rel=0.02)
    naive = lr * spec.s.sum() / (2 * B)  # the small-η, no-feedback limit
    if B == 1:
        assert abs(naive / excess - 1) > 0.15  # off by the feedback 1/(1 − κ) and the η s corrections


def test_discrete_steps_dominate_the_excess_at_large_batch():
    task = rf.Task(2.0, 1.5, 1024)
    small, large = (sgd.sgd_curves(task, 64, B, lr=0.1, t_max=300.0, seeds=()) for B in (1, 32))
    assert small.step_excess == pytest.approx(large.step_excess)  # the discretization does not know B
    assert large.mean_excess == pytest.approx(large.step_excess, rel=0.2)
    assert large.step_excess > 3 * large.final_excess
    assert small.mean_excess == pytest.approx(small.final_excess, rel=0.05)
    check = sgd.noise_excess_check(large)
    assert check.sampling == 0 and check.verdict.agrees


# --- constant learning rate: √2 from independent fluctuations ----------------------------------------------------

def _noisy_ladder(noise, model_sizes=(1e4, 4e4, 1.6e5), seeds=24, eps=0.03, key=0):
    """Runs L = R_p·f(x)·(1 + eps·ψ), on the collapse grid; `noise(rng, n_x)` draws one run's ψ(x)."""
    rng = np.random.default_rng(key)
    x = collapse.X_GRID
    parts = []
    for k, P in enumerate(model_sizes):
        C_final = 1e-3 * 4 ** k
        for s in range(seeds):
            L = 0.3 * C_final ** -0.1 * (1 + 3 * (1 - x) ** 1.5) * (1 + eps * noise(rng, len(x)))
            parts.append(pd.DataFrame({"run": f"{k}-{s}", "P": P, "seed": s, "compute": C_final * x, "loss": L}))
    return pd.concat(parts, ignore_index=True)


def test_independent_fluctuations_give_sqrt_2_and_shared_ones_cancel():
    res = collapse.analyze(_noisy_ladder(lambda rng, n: rng.standard_normal(n)), L0=0.0)
    boot = bridge.seed_bootstrap(res, _flat_scaling(res), n_boot=100)
    assert 0 < boot.ratio_se < 0.1
    assert res.window_mean_ratio == pytest.approx(np.sqrt(2), abs=3 * boot.ratio_se)
    # The prediction from the same runs' noise floor tracks the measurement more closely than √2 does: both see
    # the same final fluctuations ψ(1).
    indep = collapse.window_mean(res.x, bridge.independent_ratio(res), res.window)
    assert indep == pytest.approx(res.window_mean_ratio, abs=0.05)
    many = collapse.analyze(_noisy_ladder(lambda rng, n: rng.standard_normal(n), seeds=400), L0=0.0)
    assert many.window_mean_ratio == pytest.approx(np.sqrt(2), abs=0.03)
    shared = collapse.analyze(_noisy_ladder(lambda rng, n: np.full(n, rng.standard_normal())), L0=0.0)
    assert shared.window_mean_ratio < 1e-6  # a fluctuation carried to the end cancels (control variate)


def test_independent_ratio_of_a_flat_noise_floor_is_sqrt_2():
    res = collapse.analyze(_noisy_ladder(lambda rng, n: rng.standard_normal(n)), L0=0.0)
    flat = bridge.dataclasses.replace(res, sigma=np.full_like(res.sigma, 0.1), sigma_mean=np.full_like(res.x, 0.1))
    np.testing.assert_allclose(bridge.independent_ratio(flat), np.sqrt(2))


def _flat_scaling(res):
    pred = np.linspace(1, 0.1, len(res.x))
    return bridge.NoiseScaling(x=res.x, spread=bridge.seed_spread(res), predictor=pred,
                               fit=fits.fit_log_slope(pred[-20:], bridge.seed_spread(res)[-20:]), window=(0.8, 0.98))


# --- the bridge: scans, frontiers -------------------------------------------------------------------------------

def test_vertex_finds_the_minimum_between_grid_points():
    g = np.linspace(1.0, 2.0, 11)
    dev = np.sqrt(4 * (g - 1.537) ** 2 + 0.01 ** 2)
    assert abs(bridge.vertex(g, dev) - 1.537) < 0.01 < abs(g[np.argmin(dev)] - 1.537)
    assert bridge.vertex(g, g) == 1.0  # a minimum at the edge stays there


def test_gamma_scan_bootstraps_its_minimum_over_draws():
    task = rf.Task(a=2.0, b=1.5, M=1024)
    widths = [8, 11, 16, 23, 32, 45, 64]
    front = bridge.rf_frontier(task, widths, sizes.time_grid(1.5, widths, 80), draws=3)
    assert front.loss_se > 0 and np.isfinite(front.gamma_halves).all()
    scan = bridge.gamma_scan(task, [16, 32, 64], front, np.linspace(1.0, 2.0, 11), np.linspace(0.01, 1, 40),
                             draws=3, factor=30.0, n_boot=20)
    assert len(scan.boot_minima) == 20 and 0 < scan.sampling < 0.5
    assert abs(scan.minimum - scan.best) <= scan.resolution + 1e-12
    rows = bridge.frontier_table({(2.0, 1.5): front})
    assert len(rows) == 4 and set(rows["verdict"]) <= {"agrees", "agrees within finite-size error", "disagrees"}


def test_tail_is_the_infinite_teacher_limit():
    # The continuum tail makes the answer independent of where the explicit modes stop, and every finite
    # teacher lies on the same side of it (fewer modes: a lower floor).
    small, big = rf.Task(2.0, 1.5, 8192), rf.Task(2.0, 1.5, 2 ** 20)
    for floor in (rf.width_floor_theory, rf.data_floor_theory):
        limit = floor(small, [64, 256], tail=True)
        np.testing.assert_allclose(limit, floor(big, [64, 256], tail=True), rtol=1e-4)
        assert (floor(small, [64, 256]) < floor(big, [64, 256])).all() and (floor(big, [64, 256]) < limit).all()
    with pytest.raises(ValueError, match="needs b > 1"):
        rf.width_floor_theory(rf.Task(2.0, 1.0, 512), [16], tail=True)


def test_convergence_curves_reach_the_prediction_as_M_grows():
    task = rf.Task(1.5, 1.25, 4096)
    curves = rf.convergence_curves(task, [32, 256], reach=16.0, n=8)
    (_, finite), (_, limit) = curves["width"].values()
    assert finite[-1] < -0.6  # near N ~ M/16 the finite teacher steepens the plateau...
    assert limit[-1] == pytest.approx(-0.5, abs=0.02)  # ...while as M → ∞ it settles on −(a − 1)


def test_bottleneck_checks_add_the_exact_floor_row_only_where_B_and_the_model_differ():
    widths = [16, 32, 64]
    floors = np.array([widths]) ** -1.0
    assert len(rf.bottleneck_checks(rf.Task(2.0, 1.5, 512), widths, floors, widths, floors)) == 2
    rows = rf.bottleneck_checks(rf.Task(4.0, 1.0, 512), widths, floors, widths, floors)
    assert [r.predicted for r in rows] == [-2.0, -1.0, -2.0]  # [B]'s width, the exact floor, the data
    assert [r.verdict.agrees for r in rows] == [False, True, False]


def test_correction_and_time_checks_on_the_model():
    task = rf.Task(2.0, 1.5, 1024)
    t = sizes.time_grid(1.5, [64], 60)
    corr = rf.correction_check(task, rf.width_ladder(task, [16, 32, 64], t, draws=6), 10.0, n_boot=50)
    assert corr.measured == pytest.approx(-1.0, abs=0.3) and corr.sampling > 0 and len(corr.local) == 2
    exact = rf.time_check(rf.gradient_flow(task, None, t), task, "time")
    assert exact.sampling == 0 and exact.verdict.agrees and exact.local_x is not None


def test_power_law_checks():
    law, p = power_laws.two_term(1.0, 1.2), power_laws.FIG5_SIZES
    assert power_laws.gamma_check(law, p, 1.2, "gamma").verdict.label == "agrees"
    assert not power_laws.gamma_check(law, p, 1.21, "gamma").verdict.agrees  # no sampling error to hide behind
    fams = power_laws.gamma_family(law, p, power_laws.shifted(1.2, 0.1), X)
    assert power_laws.collapse_check(fams, "exact").verdict.agrees
    assert power_laws.selectivity_check(fams, "selective").verdict.agrees
    off = power_laws.gamma_family(law, p, power_laws.shifted(1.3, 0.1), X)  # the middle ladder is now off-optimal too
    assert not power_laws.collapse_check(off, "exact").verdict.agrees


def test_plateau_gamma_is_nu_over_mu():
    task = rf.Task(2.0, 1.5, 2 ** 16)
    N, g = bridge.plateau_gamma(task, [64, 256], n=3)
    assert len(N) == 2 and np.all(np.abs(g - 1.5) < 0.15)  # nu ≈ a − 1 = 1 over mu = 2/3
