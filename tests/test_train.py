"""The training engine: evaluation grid, curve columns, learning, determinism, resumption, divergence."""
import numpy as np
import pytest

from supercollapse.engine import checkpoint, optim, train
from supercollapse.engine.config import RunConfig, run_key
from supercollapse.engine.tasks import fourier as data
from supercollapse.engine.tasks import param_count, tokens

CFG = RunConfig(D=32, N=2, B=256, T=256 * 24, warmup=5, base_lr=0.003, n_evals=10, eval_size=512)


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_eval_steps_grid():
    cfg = RunConfig(B=1, T=10_000, n_evals=200)
    grid = train.eval_steps(cfg)
    assert grid[0] == 0 and grid[-1] == cfg.steps and np.all(np.diff(grid) > 0)
    assert 200 <= len(grid) <= 210
    assert np.isin(np.arange(1, 10), grid).all()  # the geometric half covers the first steps densely
    assert (grid > cfg.steps / 2).sum() > 40  # the linear half covers the end
    np.testing.assert_array_equal(train.eval_steps(cfg.replace(T=50)), np.arange(51))


def test_curves_learn_and_follow_spec_columns():
    curves = train.train(CFG, progress=False)
    assert set(curves) == {"step", "tokens", "compute", "lr", "tau", "train_loss", "test_loss"}
    np.testing.assert_array_equal(curves["step"], train.eval_steps(CFG))
    np.testing.assert_array_equal(curves["tokens"], curves["step"] * CFG.B)
    np.testing.assert_allclose(curves["compute"], 6 * param_count(CFG) * curves["tokens"] / 1e15)
    s = np.asarray(optim.schedule(CFG)(np.arange(CFG.steps + 1)), np.float64)
    np.testing.assert_allclose(curves["lr"], CFG.base_lr * s[curves["step"]])
    np.testing.assert_allclose(curves["tau"], [CFG.base_lr * s[:t].sum() for t in curves["step"]], rtol=1e-6)
    assert all(np.isfinite(v).all() for v in curves.values())
    assert curves["test_loss"][-1] < 0.95 * curves["test_loss"][0]  # 24 steps lower the loss
    assert curves["train_loss"][-1] < curves["train_loss"][0]


def test_deterministic_and_independent_of_seed_only_through_init():
    a, b = train.train(CFG, progress=False), train.train(CFG, progress=False)
    assert same(a, b)
    c = train.train(CFG.replace(seed=1), progress=False)
    assert not np.array_equal(a["test_loss"][1:], c["test_loss"][1:])
    assert a["test_loss"][0] == c["test_loss"][0]  # zero-init readout: same data, same initial loss


def test_resume_after_interruption_is_bit_for_bit(tmp_path, monkeypatch):
    monkeypatch.setattr(train, "_CHUNK_FLOP", 1)  # chunks of one step: many chunk boundaries
    full = train.train(CFG, progress=False)
    stream = data.train_stream

    def interrupted(cfg):  # the data stream raises when the run asks for step 15, like a Ctrl-C would
        batches = stream(cfg)

        def read(step, n):
            if step >= 15:
                raise KeyboardInterrupt
            return batches(step, n)
        return read

    monkeypatch.setattr(data, "train_stream", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train.train(CFG, checkpoint_dir=tmp_path, checkpoint_seconds=0, progress=False)
    ckpt = tmp_path / f"{run_key(CFG)}.npz"
    first_part = float(checkpoint.read(ckpt)["elapsed_s"])
    monkeypatch.setattr(data, "train_stream", stream)
    timing = {}
    resumed = train.train(CFG, checkpoint_dir=tmp_path, checkpoint_seconds=0, progress=False, timing=timing)
    assert same(full, resumed)
    assert not list(tmp_path.iterdir())  # the checkpoint is removed once the run finishes
    # The wall time counts the part before the interruption too, and says where the run resumed.
    assert first_part > 0 and timing["wall_time_s"] > first_part and timing["resumed_at_steps"] == [14]


def test_a_checkpoint_that_cannot_resume_is_discarded_with_a_warning(tmp_path):
    full, timing = train.train(CFG, progress=False), {}
    key = run_key(CFG)
    path = tmp_path / f"{key}.npz"
    records = {k: np.zeros(len(full["step"])) for k in checkpoint.RECORDS}

    def truncated():
        checkpoint.save(path, key, 5, [np.zeros(1000)], records, 1.0, [])
        path.write_bytes(path.read_bytes()[:300])

    damages = {"unreadable": truncated, "unreadable ": lambda: path.write_bytes(b"\x93NUMPY garbage"),
               "belongs to run 0123": lambda: checkpoint.save(path.with_name("0123.npz"), "0123", 5, [], records,
                                                             1.0, []) or path.with_name("0123.npz").rename(path),
               "do not match this run's model": lambda: checkpoint.save(path, key, 5, [np.zeros(3)], records, 1.0, [])}
    for why, damage in damages.items():
        damage()
        with pytest.warns(checkpoint.CheckpointDiscarded, match=f"checkpoint {path} cannot resume .*{why.strip()}"):
            again = train.train(CFG, checkpoint_dir=tmp_path, progress=False, timing=timing)
        assert same(full, again) and not path.exists() and timing["resumed_at_steps"] == [], why


def test_checkpoint_problems_name_what_cannot_resume(tmp_path):
    records = {k: np.zeros(3) for k in checkpoint.RECORDS}
    checkpoint.save(tmp_path / "a" / "aaaa.npz", "aaaa", 2, [np.ones(2)], records, 1.0, [])
    checkpoint.save(tmp_path / "b" / "bbbb.npz", "cccc", 2, [np.ones(2)], records, 1.0, [])  # foreign
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "dddd.npz").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "a" / ".tmp-999999999-q.npz").write_bytes(b"")  # its writer is gone
    (tmp_path / "a" / f".tmp-{__import__('os').getpid()}-q.npz").write_bytes(b"")  # a write in progress
    found = {str(p.relative_to(tmp_path)): why for p, why in checkpoint.problems(tmp_path)}
    assert set(found) == {"b/bbbb.npz", "d/dddd.npz", "a/.tmp-999999999-q.npz"}
    assert "belongs to run cccc" in found["b/bbbb.npz"] and "unreadable" in found["d/dddd.npz"]


def test_divergence_names_run_and_step(tmp_path):
    cfg = CFG.replace(base_lr=1e30, warmup=0)
    with pytest.raises(train.TrainingDiverged, match=rf"run {run_key(cfg)} .* step 1\b"):
        train.train(cfg, checkpoint_dir=tmp_path, checkpoint_seconds=0, progress=False)
    assert not list(tmp_path.iterdir())


def test_buvar_column():
    curves = train.train(CFG.replace(buvar=True, schedule="const"), progress=False)
    buvar = curves["Buvar"]
    assert np.isnan(buvar[0])  # no second-moment estimate before the first update
    assert np.isfinite(buvar[1:]).all() and (buvar[1:] >= 0).all() and buvar[-1] > 0


def test_transformer_learns_a_periodic_stream():
    folder = tokens.dataset_dir("periodic")
    folder.mkdir(parents=True, exist_ok=True)
    np.tile(np.arange(5, dtype=np.uint8), 2000).tofile(folder / "train.bin")
    np.tile(np.arange(5, dtype=np.uint8), 200).tofile(folder / "test.bin")
    cfg = RunConfig(task="tokens", dataset="periodic", V=32, D=64, N=1, L=16, B=8, T=8 * 16 * 20, warmup=2,
                    head_dim=32, base_lr=0.02, embed_mult=10.0, n_evals=5, eval_size=512, schedule="const")
    curves = train.train(cfg, progress=False)
    assert curves["test_loss"][0] == pytest.approx(np.log(32), rel=1e-4)  # zero-init readout: uniform over V
    assert curves["test_loss"][-1] < 0.5 * curves["test_loss"][0]
