"""The long frame: validation, truncation at the normalization point, final points, seed means."""
import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis import frames


def frame(sizes=(100, 200), seeds=(0, 1), n=5):
    """A tiny valid frame: loss = 1 + 1/(1 + compute) per run, compute = 0..n-1 times the size."""
    parts = []
    for P in sizes:
        for s in seeds:
            C = np.arange(n, dtype=float) * P / 100
            parts.append(pd.DataFrame({"run": f"{P}-{s}", "P": P, "seed": s, "compute": C, "loss": 1 + 1 / (1 + C)}))
    return pd.concat(parts, ignore_index=True)


def test_validate_sorts_and_accepts_D_instead_of_P():
    f = frame().sample(frac=1, random_state=0)
    out = frames.validate(f)
    assert list(out.groupby("run")["compute"].apply(lambda c: c.is_monotonic_increasing)) == [True] * 4
    g = frame().rename(columns={"P": "D"})
    assert frames.size_column(frames.validate(g)) == "D"


@pytest.mark.parametrize("drop, named", [("loss", "loss"), ("seed", "seed"), ("P", "P or D"), ("run", "run")])
def test_validate_names_missing_columns(drop, named):
    with pytest.raises(ValueError, match=f"missing column.*{named}"):
        frames.validate(frame().drop(columns=drop))


def test_validate_rejects_bad_values():
    f = frame()
    f.loc[3, "loss"] = np.nan
    with pytest.raises(ValueError, match="non-finite.*'loss'.*100-0"):
        frames.validate(f)
    f = frame()
    f.loc[2, "loss"] = -1
    with pytest.raises(ValueError, match="positive"):
        frames.validate(f)
    with pytest.raises(ValueError, match="duplicated evaluation"):
        frames.validate(pd.concat([frame(), frame().iloc[:1]]))
    with pytest.raises(ValueError, match="empty"):
        frames.validate(frame().iloc[:0])
    with pytest.raises(ValueError, match="DataFrame"):
        frames.validate([1, 2])


def test_validate_sizes_and_seeds_where_required():
    frames.validate(frame(sizes=(100,)))  # one size is fine when nothing needs two
    with pytest.raises(ValueError, match="only 1 size.*at least 2"):
        frames.validate(frame(sizes=(100,)), min_sizes=2)
    with pytest.raises(ValueError, match="fewer than 2 seeds"):
        frames.validate(frame(seeds=(0,)), min_seeds=2)


def test_curves_and_final_points():
    f = frames.validate(frame())
    cs = frames.curves(f)
    assert [c.run for c in cs] == ["100-0", "100-1", "200-0", "200-1"]
    assert cs[2].size == 200 and np.allclose(cs[2].compute, [0, 2, 4, 6, 8])
    fin = frames.final_points(f)
    assert list(fin["compute"]) == [4, 4, 8, 8] and np.allclose(fin["loss"], [1.2, 1.2, 1 + 1 / 9, 1 + 1 / 9])


def test_truncate_interpolates_the_last_point():
    f = frames.validate(frame(sizes=(100,), seeds=(0,)))
    f["step"] = np.arange(5)
    out = frames.truncate(f, {"100-0": 2.5})
    assert list(out["compute"]) == [0, 1, 2, 2.5]
    assert out["loss"].iloc[-1] == pytest.approx((1 + 1 / 3 + 1 + 1 / 4) / 2)  # linear between C = 2 and 3
    assert out["step"].iloc[-1] in (2, 3) and out["run"].iloc[-1] == "100-0"
    exact = frames.truncate(f, {"100-0": 3.0})
    assert list(exact["compute"]) == [0, 1, 2, 3] and exact["loss"].iloc[-1] == pytest.approx(1.25)
    whole = frames.truncate(f, {"100-0": 4.0})
    assert len(whole) == 5
    with pytest.raises(ValueError, match="outside its evaluations"):
        frames.truncate(f, {"100-0": 9.0})
    with pytest.raises(ValueError, match="no normalization compute"):
        frames.truncate(f, {})


def test_seed_mean_same_and_different_grids():
    f = frame()
    f.loc[f["seed"] == 1, "loss"] += 0.2
    m = frames.seed_mean(frames.validate(f))
    assert set(m["n_seeds"]) == {2} and len(m) == 10
    assert np.allclose(m["loss_std"], 0.1)
    g = frame(sizes=(100,))
    g.loc[g["seed"] == 1, "compute"] += 0.5  # second seed evaluated at other computes
    g.loc[g["seed"] == 1, "loss"] = 2.0
    m = frames.seed_mean(frames.validate(g))
    assert m["compute"].min() == 0.5 and m["compute"].max() == 4.0
    assert np.all(m["loss"] < 2) and np.all(m["loss"] > 1.5)


def test_from_curves_renames_test_loss():
    items = [({"run": f"r{s}", "D": 8, "P": 100, "seed": s},
              {"step": np.arange(3), "compute": np.arange(3.0), "test_loss": np.array([3.0, 2, 1])}) for s in (0, 1)]
    f = frames.from_curves(items)
    assert {"run", "D", "P", "seed", "step", "compute", "loss"} <= set(f.columns) and len(f) == 6
