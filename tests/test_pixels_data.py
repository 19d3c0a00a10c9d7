"""The pixel task's data (SPEC §2.3): the dead-leaves generator and the CIFAR-5M preparation."""
import json

import numpy as np
import pytest

from supercollapse.engine.tasks import pixels as P
from supercollapse.engine.tasks.chess import DataError


def one_line_error(excinfo, *words):
    message = str(excinfo.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_dead_leaves_is_deterministic_per_image():
    images = P.dead_leaves(8, side=16, seed=1)
    assert images.shape == (8, 16, 16) and images.dtype == np.uint8
    assert np.array_equal(images, P.dead_leaves(8, side=16, seed=1))
    assert np.array_equal(images[5:], P.dead_leaves(3, side=16, seed=1, start=5))  # image i depends on (seed, i) only
    assert not np.array_equal(images, P.dead_leaves(8, side=16, seed=2))
    assert not np.array_equal(images, P.dead_leaves(8, side=16, seed=1, stream=1))
    with pytest.raises(ValueError):
        P.dead_leaves(1, side=20, seed=0)


def test_dead_leaves_values_and_edges():
    images = P.dead_leaves(64, side=32, seed=0).astype(int)
    assert images.min() <= 5 and images.max() >= 250
    assert (images.reshape(64, -1).std(1) > 5).all()  # no flat image
    jumps = np.abs(np.diff(images, axis=2))
    # Leaves are flat up to the light noise (white noise: 5% of steps this small), and their borders are sharp.
    assert np.mean(jumps <= 3 * P.NOISE) > 0.35 and 0.1 < np.mean(jumps > 40) < 0.4


@pytest.mark.parametrize("side", P.SIDES)
def test_dead_leaves_spectrum_is_one_over_f_squared(side):
    slope = P.spectrum_slope(P.dead_leaves(4096 // side, side=side, seed=0))
    assert -2.3 < slope < -1.7, slope
    noise = np.random.default_rng(0).integers(0, 256, (64, side, side))
    assert abs(P.spectrum_slope(noise)) < 0.3  # the measurement tells white noise apart


def test_prepare_dead_leaves(tmp_path):
    out = P.prepare_dead_leaves(tmp_path / "ds", side=16, n_train=10, n_test=4, seed=3)
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["V"], meta["L"], meta["bos_eos"]) == (256, 256, False)
    assert meta["splits"] == {"train": {"images": 10, "tokens": 2560}, "test": {"images": 4, "tokens": 1024}}
    train, test = (np.fromfile(out / f"{s}.bin", np.uint8) for s in ("train", "test"))
    assert np.array_equal(train, P.dead_leaves(10, side=16, seed=3).ravel())  # raster order
    assert np.array_equal(test, P.dead_leaves(4, side=16, seed=3, stream=P.STREAMS["test"]).ravel())


def _shards(folder, sizes, compressed=()):
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in sizes]
    images[0][0, 0, 0] = (255, 255, 254)  # floor(764 / 3) = 254: integer arithmetic, no uint8 overflow
    for i, x in enumerate(images):
        (np.savez_compressed if i in compressed else np.savez)(folder / f"cifar5m_part{i}.npz", X=x, Y=np.zeros(len(x)))
    return np.concatenate(images)


def test_prepare_cifar5m(tmp_path):
    X = _shards(tmp_path / "c5m", [30, 20, 11], compressed=[1])
    out = P.prepare_cifar5m(tmp_path / "c5m", tmp_path / "ds", n_test=5, seed=7)
    gray = (X.astype(int).sum(-1) // 3).reshape(len(X), 1024)
    assert gray[0, 0] == 254
    is_test = np.zeros(len(X), bool)
    is_test[np.random.default_rng(7).choice(len(X), 5, replace=False)] = True
    train, test = (np.fromfile(out / f"{s}.bin", np.uint8).reshape(-1, 1024) for s in ("train", "test"))
    assert np.array_equal(train, gray[~is_test]) and np.array_equal(test, gray[is_test])
    meta = json.loads((out / "meta.json").read_text())
    assert meta["splits"]["test"] == {"images": 5, "tokens": 5120} and meta["L"] == 1024


def test_cifar5m_errors(tmp_path):
    _shards(tmp_path / "c5m", [4, 4])
    part1 = tmp_path / "c5m" / "cifar5m_part1.npz"
    raw = part1.read_bytes()
    part1.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError) as e:
        P.prepare_cifar5m(tmp_path / "c5m", tmp_path / "ds", n_test=2)
    one_line_error(e, "cifar5m_part1.npz", "unreadable")
    np.savez(part1, Y=np.zeros(3))
    with pytest.raises(DataError) as e:
        P.prepare_cifar5m(tmp_path / "c5m", tmp_path / "ds", n_test=2)
    one_line_error(e, "cifar5m_part1.npz", "'X'", "(N, 32, 32, 3)")
    np.savez(part1, X=np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(DataError) as e:
        P.prepare_cifar5m(tmp_path / "c5m", tmp_path / "ds", n_test=2)
    one_line_error(e, "cifar5m_part1.npz", "(N, 32, 32, 3)")
    for folder, words in ((tmp_path / "nothing", ["not a directory"]), (tmp_path, ["no .npz file"])):
        with pytest.raises(DataError) as e:
            P.prepare_cifar5m(folder, tmp_path / "ds", n_test=2)
        one_line_error(e, *words)
    assert not (tmp_path / "ds").exists() and not list(tmp_path.glob(".ds.tmp-*"))
