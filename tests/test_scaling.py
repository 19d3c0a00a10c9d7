"""Compute-optimal horizon (SPEC §7) on synthetic curves with a known optimum."""
import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis import frames
from supercollapse.analysis import horizon as scaling

MU, NU = 0.5, 0.6  # L = L0 + A t^-mu + B P^-nu: t*(P) ∝ P^(nu/mu), so gamma* = 1.2 and C* ∝ P^2.2


def ladder(n_sizes=7, seeds=(0,), noise=0.0, n=300):
    parts = []
    for k in range(n_sizes):
        P = 1e4 * 2**k
        t = np.r_[0, np.geomspace(1e2, 1e10, n)]  # step 0 at zero compute, as in training logs
        for s in seeds:
            eps = np.random.default_rng(100 * k + s).normal(0, noise)
            loss = 0.1 + 3 * np.maximum(t, 1) ** -MU * (1 + eps) + 2 * P**-NU
            parts.append(pd.DataFrame({"run": f"{k}-{s}", "D": 8 * 2**k, "P": P, "seed": s,
                                       "compute": 6 * P * t / 1e15, "loss": loss}))
    return pd.concat(parts, ignore_index=True)


def test_frontier_fit_recovers_the_data_exponent():
    h = scaling.fit_horizon(ladder(), n_grid=2000)
    assert h.gamma == pytest.approx(NU / MU, abs=2e-3) and h.exponent == pytest.approx(1 + NU / MU, abs=2e-3)
    kept = h.frontier[h.frontier["kept"]]
    assert set(kept["P"]) == {2e4, 4e4, 8e4, 1.6e5, 3.2e5}  # the smallest and largest winners are dropped
    # T(P) = C*(P)·1e15 / (6P): tokens, from compute in PFLOP.
    P = 5e4
    assert h.horizon(P) == pytest.approx((P / h.scale) ** h.exponent * 1e15 / (6 * P))
    assert h.compute(h.scale) == pytest.approx(1.0)
    # The frontier's own points sit on the fitted line to within the grid's discreteness.
    assert np.allclose(np.log(h.compute(kept["P"])), np.log(kept["compute"]), atol=1.0)


def test_bootstrap_over_seeds_gives_an_uncertainty():
    f = ladder(seeds=(0, 1, 2), noise=0.02)
    h = scaling.fit_horizon(f, n_boot=100, seed=1)
    assert h.n_boot == 100 and 0 < h.gamma_se < 0.2
    assert h.gamma_ci[0] <= h.gamma <= h.gamma_ci[1]
    assert abs(h.gamma - NU / MU) < 0.1
    again = scaling.fit_horizon(f, n_boot=100, seed=1)
    assert again.gamma_se == h.gamma_se  # the seed fixes the resamples
    one_seed = scaling.fit_horizon(ladder(), n_boot=10)
    assert np.isnan(one_seed.gamma_se)  # nothing to resample


def test_errors():
    with pytest.raises(ValueError, match="at least 3 sizes"):
        scaling.fit_horizon(ladder(n_sizes=2))
    with pytest.raises(ValueError, match="fewer than 2 sizes"):
        scaling.fit_horizon(ladder(n_sizes=3))  # 3 winners at most: dropping the edges leaves one
    with pytest.raises(ValueError, match="parameter counts"):
        scaling.fit_horizon(ladder().drop(columns="P"))


def test_constant_lr_runs_are_cut_at_their_horizon():
    f = ladder(n_sizes=7)
    h = scaling.fit_horizon(f)
    cut = frames.truncate(f, h.C_final(f))
    final = frames.final_points(cut)
    assert np.allclose(final["compute"], h.compute(final["P"]))
    assert (cut.groupby("run")["compute"].max() < f.groupby("run")["compute"].max()).all()
