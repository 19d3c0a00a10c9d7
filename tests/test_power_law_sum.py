"""The sum-of-power-laws fit of constant-LR curves ([Q] Figs. 5a, 11) and the transformer ladders' configs."""
import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis import power_law_sum


def _ladder(L0=0.5, a=8.0, mu=0.4, b=3.0, nu=0.3, seeds=2, noise=0.0):
    rng = np.random.default_rng(0)
    rows = []
    for P in (1e3, 3e3, 1e4, 3e4):
        for seed in range(seeds):
            t = np.geomspace(1e2, 1e6, 60)
            L = L0 + a * t ** -mu + b * P ** -nu
            rows.append(pd.DataFrame({"run": f"{P:g}-{seed}", "P": P, "seed": seed, "tokens": t,
                                      "compute": 6 * P * t / 1e15, "loss": L * np.exp(noise * rng.normal(size=t.size))}))
    return pd.concat(rows, ignore_index=True)


def test_fit_recovers_a_known_law_and_its_gamma_star():
    law = power_law_sum.fit_sum(_ladder())
    assert law.rms_log_error < 1e-6
    assert (law.mu, law.nu, law.L0) == pytest.approx((0.4, 0.3, 0.5), rel=1e-3)
    assert law.gamma_star == pytest.approx(0.75, rel=1e-3)


def test_gamma_star_error_is_nan_with_one_seed_and_finite_with_noise():
    assert np.isnan(power_law_sum.gamma_star_se(_ladder(seeds=1), n_boot=3))
    se = power_law_sum.gamma_star_se(_ladder(noise=0.01), n_boot=10)
    assert 0 < se < 0.5


def test_fit_needs_tokens_and_P():
    with pytest.raises(ValueError, match="tokens and P"):
        power_law_sum.fit_sum(_ladder().drop(columns="tokens"))


def test_chess_ladders_fit_their_task():
    from supercollapse.engine.tasks import param_count
    from supercollapse.experiments import registry, transformers

    for scale in ("smoke", "cpu", "gpu"):
        sizes = transformers.CHESS[scale]
        cfgs = registry.get("chess_horizon").configs(scale)
        assert sorted({c.D for c in cfgs}) == sorted(sizes.widths)
        assert all(c.D % c.head_dim == 0 and c.embed_mult == 10 and c.base_lr == 1e-2 for c in cfgs)
        assert [param_count(c) for c in cfgs] == sorted(param_count(c) for c in cfgs)
