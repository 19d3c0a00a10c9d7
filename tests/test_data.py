"""Data (SPEC §2): the Fourier target, its stream and pool, and the token-stream loader."""
import numpy as np
import pytest

from supercollapse.engine.tasks import fourier as data
from supercollapse.engine.tasks import tokens
from supercollapse.engine.config import RunConfig


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    """A cache folder shared by this session's tests (pools are deterministic, so sharing is safe)."""
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_raw_modes_follow_spec():
    k, w, phi = data.raw_modes(0)
    assert k.shape == (data.MODES, data.DIM) and k.dtype == np.int64
    np.testing.assert_allclose(np.linalg.norm(w), 1, rtol=1e-5)
    assert set(np.unique(phi)) == {0, np.pi / 2}
    assert np.abs(k).max() > 10 and (np.abs(k).sum(1) == 0).any()  # heavy tail, and low modes round to 0


def test_merged_modes_equal_the_naive_target():
    k, w, phi = data.raw_modes(3)
    modes = data.fourier_modes(3)
    assert len(modes["K"]) < 0.5 * data.MODES  # duplicate and opposite frequencies merged
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (128, data.DIM)).astype(np.float32)
    naive = np.cos(2 * np.pi * x.astype(np.float64) @ k.T + phi) @ (np.sqrt(2) * w)
    np.testing.assert_allclose(data.target(modes, x), naive, atol=2e-5)
    assert np.var(naive) == pytest.approx(1, abs=0.3)  # unit-norm weights: initial loss about Var(y)/2


def test_pool_equals_online_sampling():
    pool = data.ExamplePool(7, "train")
    start, n = data.SHARD - 1000, 3000  # straddles a shard and several blocks
    np.testing.assert_array_equal(pool.read(start, n), data.online_examples(7, "train", start, n))
    assert not list(pool.dir.glob("*.tmp")) and (pool.dir / "spec.json").exists()
    shards = sorted(pool.dir.glob("train_*.npy"))
    assert len(shards) == 2
    mtimes = [p.stat().st_mtime_ns for p in shards]
    np.testing.assert_array_equal(data.ExamplePool(7, "train").read(10, 5), pool.read(10, 5))
    assert [p.stat().st_mtime_ns for p in shards] == mtimes  # built once, then only read


def test_a_damaged_shard_is_rebuilt_on_read_and_verify_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path))  # its own pools: the session's stay intact
    pool = data.ExamplePool(11, "test")
    first = pool.read(0, 100)
    shard = pool.dir / "test_00000.npy"
    good = shard.read_bytes()
    assert data.pool_problems(tmp_path / "pools") == []
    shard.write_bytes(good[:1000])  # truncated, as a full disk or a kill leaves it
    assert [(p.name, "unreadable" in why) for p, why in data.pool_problems(tmp_path / "pools")] == [(shard.name, True)]
    with pytest.warns(data.PoolShardRebuilt, match=f"shard {shard} is damaged"):
        np.testing.assert_array_equal(data.ExamplePool(11, "test").read(0, 100), first)
    assert shard.read_bytes() == good
    rows = np.load(shard)
    rows[5, 0] += 0.25  # readable, but not the stream
    np.save(shard, rows)
    (pool.dir / ".tmp-999999999-x.npy").write_bytes(b"")  # a write its (long dead) process never finished
    found = {p.name: why for p, why in data.pool_problems(tmp_path / "pools")}
    assert found == {shard.name: "its rows differ from the stream's definition",
                     ".tmp-999999999-x.npy": "an interrupted write"}


def test_streams_do_not_depend_on_batch_size_or_model_seed():
    cfg = RunConfig(B=100, T=1000, warmup=1, eval_size=300)
    x, y = data.train_stream(cfg)(3, 2)  # steps 3 and 4: examples 300..499
    assert x.shape == (2, 100, data.DIM) and y.shape == (2, 100)
    online = data.online_examples(0, "train", 300, 200)
    np.testing.assert_array_equal(x.reshape(-1, data.DIM), online[:, :data.DIM])
    np.testing.assert_array_equal(y.reshape(-1), online[:, data.DIM])
    xb, _ = data.train_stream(cfg.replace(B=50, seed=5))(6, 4)
    np.testing.assert_array_equal(xb.reshape(-1, data.DIM), x.reshape(-1, data.DIM))
    tx, ty = data.test_set(cfg)
    np.testing.assert_array_equal(tx, data.online_examples(0, "test", 0, 300)[:, :data.DIM])
    assert not np.isin(tx[:, 0], x[..., 0]).any()  # the test stream has its own key


def test_token_stream(tmp_path):
    folder = tokens.dataset_dir("toy")
    folder.mkdir(parents=True, exist_ok=True)
    np.arange(100, dtype=np.uint8).tofile(folder / "train.bin")  # 12 rows of L + 1 = 9 at stride 8
    np.arange(50, dtype=np.uint8).tofile(folder / "test.bin")
    cfg = RunConfig(task="tokens", dataset="toy", V=128, D=64, L=8, B=5, T=5 * 8 * 4, warmup=1, eval_size=24)
    batches = tokens.train_stream(cfg)(0, 3)
    assert batches.shape == (3, 5, 9) and batches.dtype == np.uint8
    np.testing.assert_array_equal(batches[0, 1], np.arange(8, 17))  # shares token 16 with row 2
    np.testing.assert_array_equal(batches[2, 2], np.arange(9))  # row 12 wraps around to row 0
    np.testing.assert_array_equal(tokens.test_set(cfg), np.arange(24)[:, None].reshape(3, 8)[:, :1]
                                  + np.arange(9))
    with pytest.raises(ValueError, match="exceeds"):
        tokens.test_set(cfg.replace(eval_size=64))
