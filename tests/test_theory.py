"""The theory library against closed forms: sums of power laws ([Q] Fig. 5), the random-feature model of [B]."""
import numpy as np
import pytest
from scipy.linalg import expm

from supercollapse.theory import power_laws, random_features as rf, bridge, sgd, fits, sizes

P_LADDER = np.logspace(1, 9, 9)  # [Q] Fig. 5b: p = 10^1 ... 10^9
X = np.geomspace(0.01, 1, 60)


# --- sums of power laws -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mu,nu", [(1.0, 1.2), (0.5, 0.3), (0.8, 1.0)])
def test_numerical_optimizer_recovers_gamma_star_and_the_closed_form_horizon(mu, nu):
    law = power_laws.two_term(mu, nu)
    t = power_laws.optimal_horizon(law, P_LADDER)
    # Stationarity at fixed C = 6pt: mu·t^(−mu) = nu·p^(−nu), so t* = (mu/nu)^(1/mu)·p^(nu/mu).
    np.testing.assert_allclose(t, (mu / nu) ** (1 / mu) * P_LADDER ** (nu / mu), rtol=1e-6)
    fit = power_laws.gamma_star(law, P_LADDER)
    assert fit.exponent == pytest.approx(power_laws.gamma_star_two_term(mu, nu), abs=1e-6)


@pytest.mark.parametrize("law", [power_laws.two_term(1.0, 1.2), power_laws.phase_two(), power_laws.two_term(0.3, 0.5, L0=2.0)])
def test_optimal_horizon_is_where_the_minimization_puts_each_size(law):
    t = power_laws.optimal_horizon(law, P_LADDER)
    front = power_laws.exact_frontier(law, 6 * P_LADDER * t)  # golden-section minimization over log p at fixed C
    np.testing.assert_allclose(front.p, P_LADDER, rtol=1e-6)


def test_a_horizon_out_of_reach_names_the_sizes_and_the_exponents():
    # nu/mu = 40: t* of p = 10^9 would be e^830, past the bisection's e^143 (chapter 20's -p mu 0.1 -p nu 4).
    with pytest.raises(ValueError, match=r"size p in \[10, 1e\+09\].*grow too steeply.*p\^\(nu/mu\)"):
        power_laws.optimal_horizon(power_laws.two_term(0.1, 4.0), P_LADDER)


def test_frontier_minimizes_the_loss_at_fixed_compute():
    law = power_laws.phase_two()
    C = np.logspace(3, 15, 7)
    front = power_laws.exact_frontier(law, C)
    np.testing.assert_allclose(6 * front.p * front.t, C, rtol=1e-10)
    for factor in (0.5, 0.9, 1.1, 2.0):  # moving p at fixed C can only raise the loss
        p = front.p * factor
        assert (law.loss(C / (6 * p), p) > front.loss).all()


@pytest.mark.parametrize("mu,nu", [(1.0, 1.2), (0.5, 0.3)])
def test_two_term_collapse_is_exact_at_gamma_star_and_matches_the_closed_form(mu, nu):
    law = power_laws.two_term(mu, nu, L0=0.7)
    fam = power_laws.collapse_family(law, P_LADDER, nu / mu, X)
    np.testing.assert_allclose(fam.ell, np.broadcast_to(power_laws.collapse_curve_two_term(X, mu, nu), fam.ell.shape),
                               rtol=1e-6)
    assert fam.max_deviation < 1e-12


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_collapse_breaks_away_from_gamma_star(factor):
    law = power_laws.two_term(1.0, 1.2)
    assert power_laws.collapse_family(law, P_LADDER, factor * 1.2, X).max_deviation > 0.1


def test_phase_two_law_collapses_only_near_its_gamma_star():
    law = power_laws.phase_two()
    g_inf = 15 / 13  # asymptote: balance of t^(−31/30) and t^(−1/6)·p^(−1)
    # The p^(−1.2) term fades only as p^(−0.008) relative to the others, so the fitted gamma* approaches 15/13
    # from above, logarithmically slowly.
    local = [power_laws.gamma_star(law, np.array([10.0 ** e, 10.0 ** (e + 1)])).exponent for e in (2, 20, 60)]
    assert local[0] > local[1] > local[2] > g_inf and local[0] - g_inf < 0.005
    g = power_laws.gamma_star(law, P_LADDER).exponent
    fams = power_laws.gamma_family(law, P_LADDER, [0.9 * g, g, 1.1 * g], X)
    assert fams[1].max_deviation < 0.005
    assert min(fams[0].max_deviation, fams[2].max_deviation) > 30 * fams[1].max_deviation


def test_offsets_other_than_L0_break_the_collapse():
    law = power_laws.two_term(1.0, 1.2, L0=1.0)
    low, exact, high = power_laws.offset_study(law, P_LADDER, 1.2, X)
    assert exact.max_deviation < 1e-12
    assert low.max_deviation > 0.05 and high.max_deviation > 0.05
    assert low.offset < 1.0 < high.offset


def test_power_law_sum_validates_its_terms():
    with pytest.raises(ValueError, match="same number"):
        power_laws.PowerLawSum(a=(1.0,), mu=(1.0, 0.0), nu=(0.0,))
    with pytest.raises(ValueError, match="decay with t"):
        power_laws.PowerLawSum(a=(1.0,), mu=(0.0,), nu=(1.0,))


def test_fit_log_slope_recovers_a_synthetic_law_with_its_error():
    x = np.logspace(0, 3, 20)
    fit = fits.fit_log_slope(x, 3 * x ** -0.7)
    assert fit.exponent == pytest.approx(-0.7, abs=1e-12) and fit.prefactor == pytest.approx(3)
    assert fit.stderr < 1e-10
    rng = np.random.default_rng(0)
    draws = 3 * x ** -0.7 * np.exp(0.05 * rng.standard_normal((8, 20)))
    noisy = fits.fit_log_slope(x, draws)
    assert abs(noisy.exponent + 0.7) < 4 * noisy.stderr and noisy.stderr > 0


# --- the random-feature model of [B] -----------------------------------------------------------------------------

def test_gradient_flow_matches_matrix_exponential_solution():
    task = rf.Task(a=2.0, b=1.5, M=40)
    N, t = 12, np.array([0.0, 0.3, 3.0, 30.0])
    X = rf._features(task, N, 0, 0)
    z = task.target
    H, g = X.T @ X, X.T @ z
    w = [np.linalg.solve(H, (np.eye(N) - expm(-H * s)) @ g) for s in t]  # dw/dt = −(Hw − Xᵀz), w(0) = 0
    direct = [0.5 * np.sum((X @ wi - z) ** 2) for wi in w]
    np.testing.assert_allclose(rf.gradient_flow(task, N, t).test[0], direct, rtol=1e-9)
    assert rf.gradient_flow(task, N, t).test[0, 0] == pytest.approx(task.initial_loss)


def test_finite_data_gradient_flow_matches_matrix_exponential_solution():
    task = rf.Task(a=2.0, b=1.5, M=40)
    N, P, t = 12, 9, np.array([0.5, 5.0, 50.0])
    X = rf._features(task, N, 0, 0)
    G = np.random.default_rng([0, 0, 1]).standard_normal((P, task.M))
    F, y, z = G @ X, G @ task.target, task.target
    Hh, g = F.T @ F / P, F.T @ y / P
    w = [np.linalg.lstsq(Hh, (np.eye(N) - expm(-Hh * s)) @ g, rcond=None)[0] for s in t]
    curves = rf.gradient_flow(task, N, t, P=P)
    np.testing.assert_allclose(curves.test[0], [0.5 * np.sum((X @ wi - z) ** 2) for wi in w], rtol=1e-6)
    np.testing.assert_allclose(curves.train[0], [0.5 * np.mean((F @ wi - y) ** 2) for wi in w], rtol=1e-6, atol=1e-12)
    assert (curves.train[0, -1] < curves.test[0, -1])  # data reuse: a train/test gap opens ([B] Fig. 5)


def test_infinite_width_is_the_closed_form():
    task = rf.Task(a=2.0, b=1.5, M=256)
    t = np.logspace(-1, 3, 9)
    np.testing.assert_allclose(rf.gradient_flow(task, None, t).test[0], task.infinite_width_loss(t), rtol=1e-12)


def test_time_bottleneck_slope_on_a_large_model():
    # N = 512 of M = 4096 modes, t in [3, 100] << N^b: predicted −(a−1)/b = −0.5; measured within 0.03.
    task = rf.Task(a=2.0, b=2.0, M=4096)
    t = np.logspace(0, 3, 31)
    fit = fits.fit_log_slope(t, rf.gradient_flow(task, 512, t, draws=2).test, 3, 100)
    assert fit.exponent == pytest.approx(-rf.predicted(2.0, 2.0).time, abs=0.03)
    assert fits.fit_log_slope(t, task.infinite_width_loss(t), 3, 100).exponent == pytest.approx(-0.5, abs=0.005)


def test_model_bottleneck_scales_as_N_to_minus_a_minus_1():
    task = rf.Task(a=2.0, b=2.0, M=4096)
    widths = [32, 64, 128, 256]
    fit = fits.fit_log_slope(widths, rf.final_losses(task, widths, draws=4))
    assert fit.exponent == pytest.approx(-rf.predicted(2.0, 2.0).width, abs=0.1)


def test_data_bottleneck_scales_as_P_to_minus_a_minus_1():
    task = rf.Task(a=2.0, b=1.5, M=2048)
    data_sizes = [32, 64, 128, 256]
    curves = rf.data_ladder(task, data_sizes, [1e7], N=None, draws=2)
    fit = fits.fit_log_slope(data_sizes, np.stack([c.test[:, -1] for c in curves], axis=1))
    assert fit.exponent == pytest.approx(-rf.predicted(2.0, 1.5).data, abs=0.12)


def test_predicted_exponents():
    e = rf.predicted(2.0, 1.5)
    assert (e.time, e.width, e.data, e.gamma) == pytest.approx((1 / 1.5, 1.0, 1.0, 1.5))
    assert (e.compute_loss, e.compute_width, e.compute_time) == pytest.approx((0.4, 0.4, 0.6))
    assert e.nu / e.mu == pytest.approx(e.gamma)  # the bridge: gamma* = nu/mu = b


def test_ensemble_of_one_is_the_single_model_and_ensembling_helps_less_than_width():
    task = rf.Task(a=2.0, b=1.5, M=512)
    t = np.logspace(0, 4, 5)
    one = rf.ensemble_gradient_flow(task, 16, 1, t)
    np.testing.assert_allclose(one.test, rf.gradient_flow(task, 16, t).test, rtol=1e-9)
    four = rf.ensemble_gradient_flow(task, 16, 4, t, draws=2)
    wide = rf.gradient_flow(task, 64, t, draws=2)
    assert (four.mean[-1] < one.mean[-1]) and (wide.mean[-1] < four.mean[-1])


def test_seeds_and_draws_are_reproducible_and_distinct():
    task = rf.Task(a=2.0, b=1.5, M=256)
    a, b = rf.spectrum(task, 16, 0, 0), rf._features(task, 16, 0, 0)
    np.testing.assert_array_equal(b, rf._features(task, 16, 0, 0))
    assert not np.allclose(b, rf._features(task, 16, 0, 1)) and not np.allclose(b, rf._features(task, 16, 1, 0))
    assert a.floor > 0 and np.all(a.s > 0)


# --- one-pass SGD --------------------------------------------------------------------------------------------------

def test_sgd_mean_recursion_tends_to_gradient_flow_as_lr_vanishes():
    task = rf.Task(a=2.0, b=1.5, M=256)
    spec = rf.spectrum(task, 32)
    for lr, tol in [(0.1, 0.05), (0.01, 0.005)]:
        steps = int(20 / lr)
        mean = sgd.mean_loss(spec, np.full(steps, lr), B=4)
        gf = spec.loss(lr * np.arange(steps + 1))
        assert np.max(np.abs(mean / gf - 1)) < tol


def test_sgd_adds_variance_only():
    # Simulated seeds average to the exact mean (within 4 standard errors). The mean moves off gradient flow by
    # O(lr·Tr H/B) and the spread shrinks like 1/sqrt(B): at B = 16 SGD is gradient flow plus noise.
    task = rf.Task(a=2.0, b=1.5, M=256)
    spec = rf.spectrum(task, 32)
    lrs = np.full(300, 0.1)
    gf = spec.loss(0.1 * np.arange(301))
    spread, excess = {}, {}
    for B in (1, 16):
        runs = sgd.simulate(spec, lrs, B, np.arange(64), key=1)
        mean = sgd.mean_loss(spec, lrs, B)
        se = runs.std(0) / np.sqrt(len(runs))
        assert np.all(np.abs(runs.mean(0) - mean)[1:] < 4 * se[1:] + 1e-6)
        excess[B] = np.max(np.abs(mean / gf - 1))
        spread[B] = runs[:, -1].std() / runs[:, -1].mean()
    assert excess[16] < 0.04 and 4 < excess[1] / excess[16] < 32
    assert spread[1] > 2 * spread[16]


def test_a_learning_rate_past_the_stability_edge_is_refused_naming_it():
    # The mean recursion is m' = A m + c with A = diag((1 − ηs)² + η²s²/B) + (η²s²/B)·1ᵀ: bounded iff A's
    # spectral radius is below 1, which `stable_lr` must find; mean_loss and simulate refuse lr past it.
    spec = rf.spectrum(rf.Task(a=2.0, b=1.25, M=256), 16)
    for B in (1, 8):
        edge = sgd.stable_lr(spec, B)
        s = spec.s
        radius = lambda lr: np.max(np.abs(np.linalg.eigvals(  # noqa: E731
            np.diag((1 - lr * s) ** 2 + lr**2 * s**2 / B) + np.outer(lr**2 * s**2 / B, np.ones_like(s)))))
        assert radius(0.99 * edge) < 1 < radius(1.01 * edge)
        assert np.isfinite(sgd.mean_loss(spec, np.full(50, 0.99 * edge), B)).all()
        for f in (sgd.mean_loss, lambda *a: sgd.simulate(*a, seeds=[0])):
            with pytest.raises(ValueError, match=f"lr = {1.01 * edge:g} makes one-pass SGD diverge .*lr < "):
                f(spec, np.full(5, 1.01 * edge), B)


def test_schedule_shapes_and_validation():
    np.testing.assert_allclose(sgd.multipliers("linear", 4), [1, 0.75, 0.5, 0.25])
    np.testing.assert_allclose(sgd.multipliers("const", 3), 1)
    np.testing.assert_allclose(sgd.multipliers("linear", 4, decay_frac=0.5), [1, 1, 1, 0.5])
    with pytest.raises(ValueError, match="valid"):
        sgd.multipliers("exp", 4)


# --- the bridge ----------------------------------------------------------------------------------------------------

def test_frontier_fit_recovers_a_two_term_law():
    # Curves L = t^(−mu) + N^(−nu), C = N·t: gamma* = nu/mu and L* ∝ C^(−mu·nu/(mu + nu)).
    mu, nu, t = 0.5, 1.0, np.geomspace(1e-2, 1e6, 400)
    widths = np.geomspace(10, 1000, 9).round().astype(int)
    curves = tuple(rf.Curves(t=t, test=(t ** -mu + N ** -nu)[None], train=None, N=int(N), P=None) for N in widths)
    front = bridge.frontier_of(curves)
    assert front.gamma == pytest.approx(nu / mu, abs=0.05)
    assert front.loss_fit.exponent == pytest.approx(-mu * nu / (mu + nu), abs=0.01)


@pytest.fixture(scope="module")
def small_frontier():
    task = rf.Task(a=2.0, b=1.5, M=2048)
    widths = [8, 11, 16, 23, 32, 45, 64, 91, 128]
    return task, bridge.rf_frontier(task, widths, sizes.time_grid(task.b, widths, 120), draws=3)


def test_frontier_exponents_of_the_random_feature_model(small_frontier):
    # Small widths are pre-asymptotic: gamma within 0.35 of b here (chapter 22 measures it on a larger ladder).
    task, front = small_frontier
    e = rf.predicted(task.a, task.b)
    assert front.gamma == pytest.approx(e.gamma, abs=0.35)
    assert front.loss_fit.exponent == pytest.approx(-e.compute_loss, abs=0.03)


def test_random_feature_ladder_collapses_best_at_gamma_equal_b(small_frontier):
    # Trained 30× past compute-optimal, so that even N = 32 is past its early-time transient.
    task, front = small_frontier
    widths, x = [32, 64, 128], np.linspace(0.01, 1, 50)
    scan = bridge.gamma_scan(task, widths, front, task.b * np.linspace(0.7, 1.3, 7), x, draws=3, factor=30.0)
    assert abs(scan.best - task.b) < 0.1 * task.b
    assert scan.mean_deviation.max() > 3 * scan.mean_deviation.min()


def test_supercollapse_with_decay_but_not_with_constant_lr(small_frontier):
    task, front = small_frontier
    widths = [16, 32, 64]
    ladders = bridge.sgd_ladders(task, widths, bridge.ladder_horizons(front, widths, task.b), ["const", "linear"],
                                 lr=0.2, B=4, seeds=range(8), n_evals=120)
    res = bridge.analyze_ladders(ladders)
    assert res["linear"].window_mean_ratio < 0.8 < res["const"].window_mean_ratio


def test_effective_gamma_is_b_for_an_infinite_teacher_limit_and_the_helpers():
    task = rf.Task(a=2.0, b=1.5, M=4096)
    eff = bridge.effective_exponents(task, [16, 32, 64], [20.0, 60.0, 180.0], draws=2)
    assert eff.mu == pytest.approx(rf.predicted(2.0, 1.5).mu, abs=0.02)
    assert eff.nu == pytest.approx(1.0, abs=0.15) and eff.gamma_err > 0
    np.testing.assert_allclose(bridge.gamma_grid(2.0, 0.25, 5), [1.5, 1.75, 2.0, 2.25, 2.5])


def test_time_fit_stops_before_the_plateau():
    task = rf.Task(a=2.0, b=2.0, M=2048)
    t = sizes.time_grid(2.0, [256], 80)
    c = rf.gradient_flow(task, 256, t)
    fit = rf.time_fit(c, task)
    assert fit.n >= 5 and fit.x_max < 256 ** 2 and c.mean[t <= fit.x_max][-1] >= 10 * c.mean[-1]
    assert fit.exponent == pytest.approx(-0.5, abs=0.1)
