"""Importer of the authors' pickled logs, on a fixture written here in their schema."""
import pickle

import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis import collapse, frames
from supercollapse.analysis.published import PublishedLogError, load_published


def history(P, T, steps, past=1.0, seed=0):
    """One run's history: evaluations up to past·T tokens, loss = 0.1 + 5·P^-0.3·(1 + 1e4/(1 + t)), 1% noise."""
    t = np.linspace(0, past * T, steps)
    noise = 1 + 0.01 * np.random.default_rng(seed).normal(size=steps)
    loss = 0.1 + 5 * P**-0.3 * (1 + 1e4 / (1 + t)) * noise
    return pd.DataFrame({"step": np.arange(steps), "compute": 6 * P * t / 1e15, "test_loss": loss,
                         "lr": np.full(steps, 0.01), "tau": 0.01 * np.arange(steps), "Buvar": np.ones(steps),
                         "scaled_L": loss, "scaled_C": t / T})


def logs(constant=False, duplicate=True, size_column="num_params"):
    rows = []
    for D in (64, 128, 256):
        P = 40 * D**2
        T = 20 * P
        for seed in (0, 1):
            h = history(P, T, 51, past=2.0 if constant else 1.0, seed=seed + D)
            opt_C = 6 * P * T / 1e15
            opt_L = float(np.interp(opt_C, h["compute"], h["test_loss"]))
            rows.append({"D": D, size_column: P, "seed": seed, "schedule": "const" if constant else "linear",
                         "decay_frac": 1.0, "lr": 0.01, "opt_C": opt_C, "opt_L": opt_L, "opt_tau": 1.0, "history": h})
    if duplicate:
        rows.append(dict(rows[2], history=rows[2]["history"].copy()))
    return pd.DataFrame(rows)


def write(tmp_path, obj, name="logs.pkl"):
    path = tmp_path / name
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return path


def test_decayed_logs_import_and_drop_duplicates(tmp_path):
    raw = logs()
    frame = load_published(write(tmp_path, raw))
    assert frame["run"].nunique() == 6 and any("dropped 1 duplicated" in n for n in frame.attrs["notes"])
    assert {"run", "D", "P", "seed", "step", "tokens", "compute", "lr", "tau", "loss", "Buvar", "schedule",
            "base_lr"} <= set(frame.columns)
    fin = frames.final_points(frame)
    assert np.allclose(np.sort(fin["compute"]), np.sort(raw["opt_C"].iloc[:6]))
    assert np.allclose(fin["tokens"] * 6 * fin["P"] / 1e15, fin["compute"])  # tokens derived from compute
    assert len(frame) == 6 * 51
    # And it feeds the analyses directly.
    assert np.isfinite(collapse.analyze(frame).window_mean_ratio)


def test_constant_lr_logs_are_cut_at_opt_C(tmp_path):
    raw = logs(constant=True, duplicate=False, size_column="P")
    frame = load_published(write(tmp_path, raw))
    assert frame.attrs["notes"] == []
    fin = frames.final_points(frame).set_index(["D", "seed"]).sort_index()
    expect = raw.set_index(["D", "seed"]).sort_index()
    assert np.allclose(fin["compute"], expect["opt_C"]) and np.allclose(fin["loss"], expect["opt_L"])
    assert frame.groupby("run").size().max() == 26  # 25 evaluations below opt_C, then the cut (history runs to 2T)
    assert (frame.groupby("run")["compute"].max() <= expect["opt_C"].max() * (1 + 1e-12)).all()


def test_errors_are_clear(tmp_path):
    with pytest.raises(PublishedLogError, match="not a DataFrame"):
        load_published(write(tmp_path, [1, 2, 3]))
    with pytest.raises(PublishedLogError, match="empty DataFrame"):
        load_published(write(tmp_path, pd.DataFrame()))
    with pytest.raises(PublishedLogError, match="missing column.*opt_C"):
        load_published(write(tmp_path, logs().drop(columns="opt_C")))
    with pytest.raises(PublishedLogError, match="num_params or P"):
        load_published(write(tmp_path, logs().drop(columns="num_params")))
    bad = logs()
    bad.at[0, "history"] = bad.at[0, "history"].drop(columns="test_loss")
    with pytest.raises(PublishedLogError, match="row 0 .*history is missing column.*test_loss"):
        load_published(write(tmp_path, bad))
    bad = logs()
    bad.at[1, "history"] = "not a table"
    with pytest.raises(PublishedLogError, match="history is a str"):
        load_published(write(tmp_path, bad))
    bad = logs()
    bad.at[0, "history"].loc[3, "test_loss"] = np.nan
    with pytest.raises(PublishedLogError, match="non-finite"):
        load_published(write(tmp_path, bad))
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"this is not a pickle")
    with pytest.raises(PublishedLogError, match="cannot be unpickled"):
        load_published(garbage)
    with pytest.raises(PublishedLogError, match="no such file"):
        load_published(tmp_path / "absent.pkl")
    assert issubclass(PublishedLogError, ValueError)
