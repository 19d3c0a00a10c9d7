"""Collapse metrics (SPEC §8) on curves built by hand with a known answer."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis import collapse

L0 = 0.05


def ladder(f, sizes=(1e5, 2e5, 4e5, 8e5), seed_factors=(1.0,), n=201, L0=L0):
    """Runs L = L0 + R_p · factor · f(x, k) with x = C / C_p, R_p = 0.3 C_p^(-0.1), C_p = 1e-3·4^k."""
    parts = []
    x = np.linspace(0, 1, n)
    for k, P in enumerate(sizes):
        C_final = 1e-3 * 4**k
        for s, factor in enumerate(seed_factors):
            L = L0 + 0.3 * C_final**-0.1 * factor * f(x, k)
            parts.append(pd.DataFrame({"run": f"{k}-{s}", "P": P, "seed": s, "compute": C_final * x, "loss": L}))
    return pd.concat(parts, ignore_index=True)


def shape(x, k):
    return 1 + 3 * (1 - x) ** 1.5  # f(1) = 1: every run ends at L0 + 0.3 C_p^-0.1


def test_exact_collapse_has_zero_deviation_and_supercollapses():
    # Seeds rescale the whole reducible loss: dividing by the run's own final loss removes it (control variate).
    res = collapse.analyze(ladder(shape, seed_factors=(0.97, 1.0, 1.03)), L0=L0)
    assert np.nanmax(np.abs(res.delta)) < 1e-12
    assert np.allclose(res.ell[:, -1], 1)
    assert np.allclose(res.sigma_mean, np.std([0.97, 1, 1.03]) / 1.0)  # σ = std/mean of the seed factors
    assert res.window_mean_ratio < 1e-9 and res.onset == pytest.approx(res.x[0])


def test_family_perturbed_by_size_does_not_collapse():
    res = collapse.analyze(ladder(lambda x, k: 1 + (2 + k) * (1 - x) ** 1.5, seed_factors=(0.99, 1.01)), L0=L0)
    assert res.delta[res.x <= 0.9].min() > 0.01
    assert res.delta[-1] == pytest.approx(0, abs=1e-12)  # Δ(1) = 0 by construction
    assert res.window_mean_ratio > 3 and res.onset > 0.9  # only where Δ -> 0 at the very end


def test_sum_of_power_laws_collapses_exactly_at_gamma_star_only():
    # SPEC §10: L = L0 + t^-mu + p^-nu trained to t = p^(nu/mu) gives ℓ = (x^-mu + 1) / 2 for every p.
    mu, nu = 0.5, 0.4
    x = np.linspace(0.01, 1, 100)

    def family(gamma):
        parts = []
        for k, p in enumerate(np.geomspace(1e2, 1e6, 5)):
            t = p**gamma * x
            parts.append(pd.DataFrame({"run": str(k), "P": p, "seed": 0, "compute": 6 * p * t / 1e15,
                                       "loss": L0 + t**-mu + p**-nu}))
        return pd.concat(parts, ignore_index=True)

    r = nu / mu
    best = collapse.analyze(family(r), L0=L0, x=x)
    assert np.max(best.delta) < 1e-10
    assert np.allclose(best.ell, (x**-mu + 1) / 2)
    for g in (0.9 * r, 1.1 * r):
        assert np.max(collapse.analyze(family(g), L0=L0, x=x).delta) > 1e-2


@pytest.mark.parametrize("a, b, L0_true, C_lo, C_hi", [
    (0.3, 0.12, 0.05, 1e-4, 1),
    (0.02, 0.25, 0.01, 1e-6, 1e-3),  # CPU-scale compute, a outside the start range
    (2.0, 0.05, 1.5, 1e-2, 1e2),
    (0.5, 0.4, 0.0, 1e-4, 1e-1),  # on the L0 >= 0 bound
])
def test_power_law_fit_recovers_a_known_law(a, b, L0_true, C_lo, C_hi):
    C = np.geomspace(C_lo, C_hi, 6)
    fit = collapse.fit_power_law(C, a * C**-b + L0_true)
    assert (fit.a, fit.b, fit.L0) == pytest.approx((a, b, L0_true), rel=1e-5, abs=1e-7)
    assert fit(C) == pytest.approx(a * C**-b + L0_true)


def test_L0_fit_of_a_ladder_uses_the_seed_mean_final_points():
    res = collapse.analyze(ladder(shape, seed_factors=(0.99, 1.01)))
    assert res.fit.L0 == pytest.approx(L0, rel=1e-4) and res.L0 == res.fit.L0


@pytest.mark.parametrize("trial", [10, 25, 29])  # cases where a buggy or loose fit depended on the start grid
def test_power_law_fit_is_stable_across_start_grids(trial):
    rng = np.random.default_rng(trial)
    lo = 10 ** rng.uniform(-6, -2)
    C = np.geomspace(lo, lo * 10 ** rng.uniform(1, 3), rng.integers(4, 8))
    a, b, L0_true = 10 ** rng.uniform(-2, 0), rng.uniform(0.05, 0.4), rng.uniform(0, 0.5)
    L = (a * C**-b + L0_true) * np.exp(rng.normal(0, 0.005, len(C)))  # noisy: the objective is flat
    m = L.min()
    shifted = np.array(np.meshgrid([0.15, 0.6, 0.95], [0.02, 0.2], [0.2 * m, 0.7 * m])).reshape(3, -1).T
    fits = [collapse.fit_power_law(C, L, starts=s)
            for s in (collapse.start_grid(L, 2), collapse.start_grid(L, 3), collapse.start_grid(L, 4), shifted)]
    for f in fits[1:]:
        assert (f.a, f.b, f.L0) == pytest.approx((fits[0].a, fits[0].b, fits[0].L0), rel=1e-5, abs=1e-7)
    assert fits[0] == collapse.fit_power_law(C, L, starts=collapse.start_grid(L, 2))  # deterministic


def test_power_law_fit_errors():
    with pytest.raises(ValueError, match="at least 3 sizes"):
        collapse.fit_power_law([1.0, 2.0], [1.0, 0.9])
    with pytest.raises(ValueError, match="finite and positive"):
        collapse.fit_power_law([1.0, 2.0, 3.0], [1.0, np.nan, 0.8])


def test_noise_floor_on_unnormalized_reducible_loss():
    loss = np.array([[1.1, 2.2], [1.3, 2.6], [5.0, 5.0]])  # two seeds of size 1, one seed of size 2
    sizes, sigma = collapse.noise_floor(loss, np.array([1, 1, 2]), L0=0.1)
    assert list(sizes) == [1, 2]
    assert sigma[0] == pytest.approx([0.1 / 1.1, 0.2 / 2.3])  # reducible 1.0/1.2 and 2.1/2.5
    assert np.isnan(sigma[1]).all()  # one seed: undefined, not zero


def test_collapse_deviation_pools_all_runs():
    ell = np.array([[1.0, 2.0], [3.0, 2.0]])
    assert collapse.collapse_deviation(ell) == pytest.approx([0.5, 0.0])


def test_window_mean_and_onset_on_constructed_curves():
    x = np.round(np.linspace(0.01, 1, 100), 10)
    assert collapse.window_mean(x, x) == pytest.approx(np.mean(np.round(np.arange(50, 96) / 100, 10)))
    sigma = np.full_like(x, 0.3)
    assert collapse.onset(x, 1 - x, sigma) == pytest.approx(0.71)  # 1 − x < 0.3 from x = 0.71 on
    bump = (1 - x) + np.where(np.isclose(x, 0.9), 1.0, 0.0)
    assert collapse.onset(x, bump, sigma) == pytest.approx(0.91)  # every point up to 0.99 must be below
    assert collapse.onset(x, np.zeros_like(x), sigma) == pytest.approx(0.01)
    late = np.where(np.isclose(x, 0.99), 1.0, 0.0)
    assert collapse.onset(x, late, sigma) is None
    assert collapse.onset(x, np.where(x > 0.995, 1.0, 0.0), sigma) == pytest.approx(0.01)  # x = 1 is not tested
    assert collapse.onset_at_last_point(collapse.onset(x, np.where(x < 0.985, 1.0, 0.0), sigma))
    assert not collapse.onset_at_last_point(0.98) and not collapse.onset_at_last_point(None)
    with pytest.raises(ValueError, match="no grid point"):
        collapse.window_mean(x, x, (2, 3))


def test_offset_sensitivity_is_best_at_the_true_L0():
    f = ladder(shape, seed_factors=(0.99, 1.01))
    offsets = collapse.fig2_offsets(f, L0)
    gap = f.groupby("run")["loss"].last().min() - L0  # the best run's own final loss, not a seed mean
    assert offsets == pytest.approx({"L0": L0, "0": 0.0, "L0 - gap/2": L0 - gap / 2, "L0 + gap/2": L0 + gap / 2})
    table = collapse.offset_sensitivity(f, offsets)
    worst = table.groupby("label")["delta"].max()
    assert worst["L0"] < 1e-12 and all(worst.drop("L0") > 1e-3)
    # σ is computed with the same offset: for L̂ = 0 it is the spread of L itself, not of L − L0.
    zero = table[table["label"] == "0"]
    loss = collapse.on_grid(f).loss
    _, sigma = collapse.noise_floor(loss, collapse.on_grid(f).size, 0.0)
    np.testing.assert_allclose(zero["sigma_mean"], np.nanmean(sigma, axis=0))
    np.testing.assert_allclose(zero["ratio"], zero["delta"] / zero["sigma_mean"])
    with pytest.raises(ValueError, match="not below every run's final loss"):
        collapse.offset_sensitivity(f, [10.0])


def test_analyze_output_shapes_and_frames():
    f = ladder(shape, seed_factors=(0.98, 1.0, 1.02))
    res = collapse.analyze(f, L0=L0)
    n_runs, n_x = 12, len(collapse.X_GRID)
    assert res.ell.shape == (n_runs, n_x) and res.sigma.shape == (4, n_x) and res.delta.shape == (n_x,)
    assert len(res.curves()) == n_runs * n_x and "P" in res.curves().columns and list(res.summary().columns)[:3] == ["x", "delta", "sigma_mean"]
    with pytest.raises(ValueError, match="'auto' or a number"):
        collapse.analyze(f, L0="fit")


def test_offsets_normalize_every_run_even_when_a_seed_beats_its_mean_by_more_than_half_the_gap():
    f = ladder(shape, seed_factors=(0.5, 1.5))  # one seed ends far below its width's seed mean
    offsets = collapse.fig2_offsets(f, L0)
    assert offsets["L0 + gap/2"] < f.groupby("run")["loss"].last().min()
    assert np.isfinite(collapse.offset_sensitivity(f, offsets)["delta"]).all()


def test_size_trend_orders_sizes_and_vanishes_for_exact_collapse():
    import pandas as pd

    from supercollapse.analysis import collapse

    def ladder(tilt):
        rows = []
        for k, P in enumerate([1e3, 1e4, 1e5]):
            for seed in range(3):
                C = np.geomspace(1e-4, 1, 60) * P
                x = C / C[-1]
                L = 0.1 + (1 + tilt * k) * 0.2 * x ** -0.3 + 1e-4 * seed
                rows.append(pd.DataFrame({"run": f"{P}-{seed}", "P": P, "seed": seed, "compute": C, "loss": L}))
        return pd.concat(rows, ignore_index=True)

    exact = collapse.size_trend(collapse.analyze(ladder(0.0), L0=0.1))
    assert np.abs(exact["offset"]).max() < 1e-3
    tilted = collapse.size_trend(collapse.analyze(ladder(0.3), L0=0.0))
    assert list(tilted["P"]) == [1e3, 1e4, 1e5]
    assert np.all(np.diff(tilted["offset"]) > 0)  # a size-dependent shape shows as an ordered offset
    assert collapse.size_ordered(tilted) and not collapse.size_ordered(tilted.iloc[[0, 2, 1]])
    assert not collapse.size_ordered(tilted.iloc[:2])  # two sizes are always in order: no claim
    spread = collapse.size_spread(collapse.analyze(ladder(0.3), L0=0.0), tilted)
    assert spread["first"] == tilted["offset"].iloc[0] and spread["spread"] == pytest.approx(
        tilted["offset"].max() - tilted["offset"].min()) and spread["sigma"] > 0


def test_L0_at_bound_is_a_fraction_of_the_best_final_loss():
    f = ladder(shape, seed_factors=(0.98, 1.02))
    res = collapse.analyze(f, L0=L0)
    best = float(collapse.size_means(f)["loss"].min())
    at = dataclasses.replace(res, L0=collapse.L0_BOUND * best)
    assert collapse.L0_at_bound(at, f) and collapse.L0_at_bound(dataclasses.replace(res, L0=0.0), f)
    assert not collapse.L0_at_bound(dataclasses.replace(res, L0=2 * collapse.L0_BOUND * best), f)
    assert not collapse.L0_at_bound(res, f)


def test_tighter_and_clearly_tighter_compare_the_window_means():
    res = collapse.analyze(ladder(shape, seed_factors=(0.98, 1.02)), L0=L0)
    a, b, nan = (dataclasses.replace(res, window_mean_ratio=v) for v in (1.0, 2.0, float("nan")))
    assert collapse.tighter(a, b) and not collapse.tighter(b, a) and not collapse.tighter(a, a)
    assert not collapse.tighter(nan, b) and not collapse.tighter(a, nan)
    edge = dataclasses.replace(res, window_mean_ratio=collapse.CLEARLY_BETTER * 2.0)
    assert collapse.clearly_tighter(a, b) and not collapse.clearly_tighter(edge, b)  # strictly below 0.8×
    assert collapse.tighter(edge, b)


def test_offset_choice_names_the_offset_that_collapses_best():
    f = ladder(lambda x, k: 1 + (3 + 0.1 * k) * (1 - x) ** 1.5, seed_factors=(0.99, 1.01))
    fitted = collapse.analyze(f).L0
    choice = collapse.offset_choice(collapse.offset_sensitivity(f, collapse.fig2_offsets(f, fitted)))
    assert list(choice.values) == ["L0", "0", "L0 - gap/2", "L0 + gap/2"] and choice.same == []
    assert choice.best == min(choice.ratios, key=choice.ratios.get)
    assert choice.fitted_L0_best == (choice.best == "L0")
    worse = collapse.OffsetChoice({"L0": 0.1, "0": 0.0}, {"L0": 2.0, "0": 1.0})
    assert worse.fitted_L0_best is False and worse.best == worse.best_other == "0"
    # A fit at its bound, L0 = 0: the offset "0" is the same normalization and is not a competitor.
    at_bound = collapse.OffsetChoice({"L0": 0.0, "0": 0.0, "up": 0.1}, {"L0": 2.0, "0": 1.0, "up": 3.0})
    assert at_bound.same == ["0"] and at_bound.others == ["up"] and at_bound.fitted_L0_best is True
    assert collapse.OffsetChoice({"L0": 0.0, "0": 0.0}, {"L0": 1.0, "0": 1.0}).fitted_L0_best is None
    tie = collapse.OffsetChoice({"L0": 0.1, "0": 0.0}, {"L0": 1.0, "0": 1.0})
    assert tie.fitted_L0_best is True  # at least as good as every other


def test_final_loss_gaps_span_the_sizes():
    f = ladder(shape)
    worse = f.assign(loss=f["loss"] * np.where(f["P"] == 1e5, 1.0, 1.1))
    assert collapse.final_loss_gaps(collapse.final_loss_table({"a": f, "b": worse})) == pytest.approx((0.0, 0.1))
