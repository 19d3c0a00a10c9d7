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
