"""study: a damaged cached fit is refitted, never trusted; `ladders` counts damaged entries apart."""
import numpy as np
import pandas as pd
import pytest

from supercollapse import study
from supercollapse.analysis.horizon import Horizon
from supercollapse.store import runs


def test_a_damaged_fit_is_found_and_fitted_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path))
    fitted = []
    stub = Horizon(1.2, 1e3, 0.2, 0.01, (0.18, 0.22), 200, pd.DataFrame({"compute": [1.0], "P": [1e4]}))
    monkeypatch.setattr(study, "fit_horizon", lambda frame: fitted.append(len(frame)) or stub)
    monkeypatch.setattr(study, "ensure", lambda *a, **k: [])  # no runs needed: the fit itself is the stub
    monkeypatch.setattr(study, "from_runs", lambda stored: pd.DataFrame())
    h = study.horizon("wide_horizon", "cpu")
    (path,) = study.fits_dir().glob("horizon-*.json")
    assert h.exponent == stub.exponent and study.fit_problems() == []
    path.write_text(path.read_text()[:40])  # truncated
    (study.fits_dir() / ".tmp-999999999-x").write_text("")
    assert {p.name for p, _ in study.fit_problems()} == {path.name, ".tmp-999999999-x"}
    with pytest.warns(UserWarning, match=f"cached horizon fit {path} is unreadable"):
        again = study.horizon("wide_horizon", "cpu")
    assert len(fitted) == 2 and again.exponent == stub.exponent and path.name not in str(study.fit_problems())


def test_status_counts_a_damaged_entry_as_damaged_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runs.paths, "CURATED_RUNS", tmp_path / "curated")
    cfgs = study.configs("first", "smoke")
    store = runs.cache()
    for cfg in cfgs:
        n = np.arange(5)
        store.save(cfg, {"step": n, "tokens": n, "compute": n * 1e-6, "lr": np.ones(5), "tau": n * 1.0,
                         "train_loss": 1 / (1 + n), "test_loss": 1 / (1 + n)})
    (store.path(runs.run_key(cfgs[0])) / "curves.npz").write_bytes(b"truncated")
    st = study.status("first", "smoke")
    assert (st.runs, st.stored, st.damaged) == (len(cfgs), len(cfgs) - 1, 1)


def test_spent_and_book_cost_sum_the_stored_runs_once(tmp_path, monkeypatch):
    from supercollapse.execute.cost import train_pflop
    from supercollapse.pages.cells import cost_text, duration

    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runs.paths, "CURATED_RUNS", tmp_path / "curated")
    cfgs = study.configs("first", "smoke")
    store = runs.cache()
    n = np.arange(5)
    curves = {"step": n, "tokens": n, "compute": n * 1e-6, "lr": np.ones(5), "tau": n * 1.0,
              "train_loss": 1 / (1 + n), "test_loss": 1 / (1 + n)}
    saved = [store.save(cfg, curves, {"wall_time_s": 30.0 if i else None, "device": "cpu:cpu"})
             for i, cfg in enumerate(cfgs)]
    cost = study.spent(saved + saved[:1])  # a run shown twice is paid once
    assert cost.keys == tuple(sorted(r.key for r in saved)) and cost.untimed == 1
    assert cost.seconds == 30.0 * (len(cfgs) - 1) and cost.pflop == pytest.approx(sum(map(train_pflop, cfgs)))
    assert "PFLOP" in cost_text(cost) and "1 run(s) without a recorded time" in cost_text(cost)
    assert cost_text(study.spent([])) == "" and duration(90) == "1.5 min" and duration(7200) == "2 h"
    bill = study.book_cost()
    row = bill.set_index("scale").loc["smoke"]
    assert list(bill["scale"]) == ["smoke"] and row["runs stored"] == len(cfgs)
    assert row["recorded wall time (h)"] == pytest.approx(cost.seconds / 3600)


def test_preset_costs_price_configs_without_training(tmp_path, monkeypatch):
    from supercollapse.execute.cost import train_pflop

    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runs.paths, "CURATED_RUNS", tmp_path / "curated")  # an empty store: no fit is possible
    costs = study.preset_costs("gpu", 1e14).set_index("ladder")
    first = study.configs("first", "gpu")
    assert costs.loc["first", "runs"] == len(first)
    assert costs.loc["first", "PFLOP"] == pytest.approx(sum(map(train_pflop, first)))
    assert costs.loc["first", "hours"] == pytest.approx(costs.loc["first", "PFLOP"] * 10 / 3600)
    assert np.isnan(costs.loc["wide_collapse", "PFLOP"]) and "wide_horizon" in costs.loc["wide_collapse", "priced"]
    assert costs.loc["wide_collapse", "runs"] == 25  # widths × seeds are known before the fit
    assert "no training of its own" in costs.loc["constant", "priced"]
    # The total counts each run once: `constant` is a cut of `horizon`, so it adds nothing.
    total = costs.loc["all distinct runs priced"]
    priced = costs.drop(index="all distinct runs priced").dropna(subset=["PFLOP"])
    assert total["PFLOP"] == pytest.approx(priced.drop(index="constant")["PFLOP"].sum())
    assert not list(runs.cache().keys())  # nothing was trained
