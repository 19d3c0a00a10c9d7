"""Gray images as token streams (SPEC §2.3): raster order, one uint8 token per pixel, V = 256, no BOS/EOS.

Two sources write the same dataset folder (train.bin, test.bin, meta.json): CIFAR-5M shards, as in [Q], and
the embedded default, a seeded "dead leaves" generator: occluding disks with radius density ∝ r^-3 between
R_MIN and the image side, uniform random gray levels, light Gaussian noise, rendered at SUPERSAMPLE times the
resolution and averaged over blocks (anti-aliased edges, as a camera integrates over a pixel); its power
spectrum falls as 1/f².
"""
from __future__ import annotations

import math
import re
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .chess import DataError, publish, temp_dir_for

V = 256
SIDES = (16, 32)  # 16: the CPU scale (L = 256); 32: CIFAR's size (L = 1024)
R_MIN = 0.75  # smallest leaf radius in pixels (the largest is the image side): chosen for a slope near -2
SUPERSAMPLE = 2  # rendered on a grid this many times finer, then averaged
NOISE = 2.0  # standard deviation of the added noise, in gray levels
MISS = 1e-3  # expected pixels per image left uncovered by the drawn leaves (they show one background gray)
STREAMS = {"train": 0, "test": 1}  # image i of a split is drawn from SeedSequence([seed, stream, i])
_PIXELS = 65536  # fine-grid pixels rendered at once: 64 images of side 16, 16 of side 32


def _rates(side: int) -> np.ndarray:
    """Rates of the leaves that can touch an image (fine grid), ∝ ∫ r^-3 (side + 2r)² dr: its r^-3, r^-2, r^-1 terms."""
    r0, r1 = R_MIN * SUPERSAMPLE, float(side)
    return np.array([side**2 * (r0**-2 - r1**-2) / 2, 4 * side * (1 / r0 - 1 / r1), 4 * math.log(r1 / r0)])


def leaf_count(side: int) -> int:
    """Leaves K drawn per image: a point is covered at rate π log(side / R_MIN), so MISS fine pixels stay bare on average."""
    S = side * SUPERSAMPLE
    cover = math.pi * math.log(side / R_MIN)
    return math.ceil(_rates(S).sum() * math.log(S**2 / MISS) / cover)


def _inverse_cdf(u: np.ndarray, a: int, r0: float, r1: float) -> np.ndarray:
    """Radii with density ∝ r^-a on [r0, r1] from uniforms u."""
    if a == 1:
        return r0 * (r1 / r0) ** u
    return (r0 ** (1 - a) + u * (r1 ** (1 - a) - r0 ** (1 - a))) ** (1 / (1 - a))


def _leaves(rng: np.random.Generator, side: int, K: int) -> np.ndarray:
    """K leaves (cx, cy, r, gray) from front to back: the disks of a Poisson dead-leaves model that can touch the image.

    A disk of radius r (density ∝ r^-3) can touch the image when its centre lies in the image dilated by r, so
    the radii of those disks have density ∝ r^-3 (side + 2r)²: a mixture of r^-3, r^-2 and r^-1, each sampled
    by its inverse CDF, and the centres are uniform in the dilated square. The order of a Poisson process's
    points is uniform, so drawing leaves one after another front to back is exact.
    """
    w = _rates(side)
    a = 3 - rng.choice(3, size=K, p=w / w.sum())  # the exponent of each leaf's component
    u = rng.random(K)
    r = np.empty(K)
    for power in (1, 2, 3):
        sel = a == power
        r[sel] = _inverse_cdf(u[sel], power, R_MIN * SUPERSAMPLE, float(side))
    cx, cy = rng.random((2, K)) * (side + 2 * r) - r
    return np.stack([cx, cy, r, rng.random(K) * 256])


def _cover_boxes(cx: np.ndarray, cy: np.ndarray, r: np.ndarray, side: int) -> np.ndarray:
    """For each pixel (n, side²), the index of the first of the leaves (n, m) that covers its centre; m for none."""
    n, m = cx.shape
    cx, cy, r = cx.ravel(), cy.ravel(), r.ravel()  # leaf d = image * m + k
    c0 = np.clip(np.ceil(cx - r - 0.5), 0, side).astype(np.int32)
    c1 = np.clip(np.floor(cx + r - 0.5), -1, side - 1).astype(np.int32)
    y0 = np.clip(np.ceil(cy - r - 0.5), 0, side).astype(np.int32)
    y1 = np.clip(np.floor(cy + r - 0.5), -1, side - 1).astype(np.int32)
    w = np.maximum(c1 - c0 + 1, 0)
    count = w * np.maximum(y1 - y0 + 1, 0)  # pixels of each leaf's bounding box inside the image
    # One entry per (leaf, pixel of its box), so small leaves cost little.
    d = np.repeat(np.arange(n * m, dtype=np.int32), count)
    local = np.arange(count.sum(), dtype=np.int32) - np.repeat((np.cumsum(count) - count).astype(np.int32), count)
    col, row = c0[d] + local % w[d], y0[d] + local // w[d]
    inside = (col + 0.5 - cx[d]) ** 2 + (row + 0.5 - cy[d]) ** 2 <= r[d] ** 2
    d = d[inside]
    front = np.full(n * side * side, n * m, np.int32)
    np.minimum.at(front, (d // m) * (side * side) + row[inside] * side + col[inside], d)
    return np.where(front == n * m, m, front % m).reshape(n, side * side)


def _render(leaves: np.ndarray, background: np.ndarray, side: int) -> np.ndarray:
    """Images (n, side, side) float: each pixel centre takes the gray of the front-most leaf covering it.

    The first quarter of the leaves covers all but a few percent of the pixels; the later leaves are then
    tested against the bare pixels only (the images are the same, at a fraction of the cost).
    """
    n, _, K = leaves.shape
    cx, cy, r, gray = leaves.transpose(1, 0, 2)  # each (n, K)
    m = max(1, K // 4)
    front = _cover_boxes(cx[:, :m], cy[:, :m], r[:, :m], side)
    front[front == m] = K  # K: not covered yet
    centre = np.arange(side) + 0.5
    step = max(1, K // 8)
    for lo in range(m, K, step):
        img, pix = np.nonzero(front == K)
        if not img.size:
            break
        k = np.arange(lo, min(K, lo + step))
        dx = centre[pix % side, None] - cx[img[:, None], k]
        dy = centre[pix // side, None] - cy[img[:, None], k]
        inside = dx**2 + dy**2 <= r[img[:, None], k] ** 2
        hit = inside.any(1)
        front[img[hit], pix[hit]] = lo + inside[hit].argmax(1)
    values = np.concatenate([gray, background[:, None]], axis=1)  # front = K: the background leaf
    return np.take_along_axis(values, front, axis=1).reshape(n, side, side)


def dead_leaves(n: int, *, side: int, seed: int, start: int = 0, stream: int = 0) -> np.ndarray:
    """Images start..start+n-1 (n, side, side) uint8 of a dead-leaves stream; image i depends only on (seed, stream, i)."""
    if side not in SIDES:
        raise ValueError(f"side={side}; expected one of {SIDES}")
    S, K = side * SUPERSAMPLE, leaf_count(side)
    chunk = _PIXELS // S**2
    out = np.empty((n, side, side), np.uint8)
    for lo in range(0, n, chunk):
        rngs = [np.random.default_rng([seed, stream, start + i]) for i in range(lo, min(n, lo + chunk))]
        leaves = np.stack([_leaves(g, S, K) for g in rngs])
        background = np.array([g.random() * 256 for g in rngs])
        noise = np.stack([g.normal(0, NOISE, (side, side)) for g in rngs])
        fine = _render(leaves, background, S).reshape(len(rngs), side, SUPERSAMPLE, side, SUPERSAMPLE)
        out[lo:lo + len(rngs)] = np.clip(np.floor(fine.mean((2, 4)) + noise), 0, 255)
    return out


def radial_power_spectrum(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of (n, s, s) images: frequencies k = 1..s/2 (cycles per image), mean power."""
    s = images.shape[-1]
    x = images.astype(np.float64)
    power = (np.abs(np.fft.fft2(x - x.mean(axis=(-2, -1), keepdims=True))) ** 2).mean(0)
    f = np.fft.fftfreq(s, 1 / s)
    k = np.rint(np.hypot(*np.meshgrid(f, f))).astype(int)
    ks = np.arange(1, s // 2 + 1)
    return ks, np.array([power[k == i].mean() for i in ks])


def spectrum_slope(images: np.ndarray) -> float:
    """Least-squares slope of log power against log frequency, k = 1..s/2 (near -2 for natural images)."""
    k, p = radial_power_spectrum(images)
    return float(np.polyfit(np.log(k), np.log(p), 1)[0])


def _meta(source: str, side: int, seed, counts: dict) -> dict:
    return {"task": "pixels", "V": V, "L": side * side, "side": side, "bos_eos": False, "source": source,
            "seed": seed, "splits": counts}


def prepare_dead_leaves(out_dir: str | Path, *, side: int, n_train: int, n_test: int, seed: int) -> Path:
    """A dataset folder of dead-leaves images (split s, image i drawn from ``[seed, STREAMS[s], i]``)."""
    out_dir = Path(out_dir)
    tmp = temp_dir_for(out_dir)
    try:
        counts = {}
        for split, n in (("train", n_train), ("test", n_test)):
            with open(tmp / f"{split}.bin", "wb") as f:
                for lo in range(0, n, 4096):
                    f.write(dead_leaves(min(4096, n - lo), side=side, seed=seed, start=lo,
                                        stream=STREAMS[split]).tobytes())
            counts[split] = {"images": n, "tokens": n * side * side}
        return publish(tmp, out_dir, _meta("dead leaves", side, seed, counts))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


CIFAR_SHAPE = (32, 32, 3)
_ROWS = 8192  # images read at once from a shard (25 MB)


def _natural(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _open_x(path: Path) -> tuple[zipfile.ZipFile, object, int]:
    """The shard's zip, its open ``X.npy`` member positioned at the data, and the number of images."""
    try:
        zf = zipfile.ZipFile(path)
        f = zf.open("X.npy")
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                 else np.lib.format.read_array_header_2_0)(f)
    except KeyError:
        raise DataError(f"{path} has no array 'X'; expected a CIFAR-5M .npz shard with X of shape (N, 32, 32, 3)") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: unreadable .npz ({e}); expected a CIFAR-5M shard") from None
    if dtype != np.uint8 or fortran or len(shape) != 4 or tuple(shape[1:]) != CIFAR_SHAPE:
        raise DataError(f"{path}: X is {dtype} {shape}; expected uint8 of shape (N, 32, 32, 3) in C order")
    return zf, f, shape[0]


def prepare_cifar5m(folder: str | Path, out_dir: str | Path, *, n_test: int = 2000, seed: int = 0) -> Path:
    """A dataset folder from CIFAR-5M ``.npz`` shards: gray = floor(mean(R, G, B)), 1024 tokens per image.

    Read shard by shard, 8192 images at a time; the ``n_test`` test images are drawn without replacement by
    ``seed`` over all images (in file order, shards in natural name order) and kept in that order.
    """
    folder, out_dir = Path(folder), Path(out_dir)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a directory; expected a folder of CIFAR-5M .npz shards")
    shards = sorted(folder.glob("*.npz"), key=_natural)
    if not shards:
        raise DataError(f"{folder} holds no .npz file; expected CIFAR-5M shards (cifar5m_part0.npz, ...)")
    sizes = []
    for path in shards:
        zf, _, n = _open_x(path)
        zf.close()
        sizes.append(n)
    total = sum(sizes)
    if not 0 < n_test < total:
        raise DataError(f"{folder}: {total} images cannot give {n_test} test images and a training set")
    is_test = np.zeros(total, bool)
    is_test[np.random.default_rng(seed).choice(total, n_test, replace=False)] = True
    tmp = temp_dir_for(out_dir)
    try:
        test, offset = [], 0
        with open(tmp / "train.bin", "wb") as train:
            for path, n in zip(shards, sizes):
                zf, f, _ = _open_x(path)
                with zf, f:
                    for lo in range(0, n, _ROWS):
                        rows = min(_ROWS, n - lo)
                        try:
                            raw = f.read(rows * 3072)
                        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
                            raise DataError(f"{path}: corrupt shard ({e}); expected a CIFAR-5M .npz") from None
                        if len(raw) != rows * 3072:
                            raise DataError(f"{path}: truncated at image {lo + len(raw) // 3072} of {n}")
                        x = np.frombuffer(raw, np.uint8).reshape(rows, 1024, 3)
                        gray = (x.sum(-1, dtype=np.uint16) // 3).astype(np.uint8)  # floor(mean(R, G, B))
                        mask = is_test[offset + lo: offset + lo + rows]
                        train.write(gray[~mask].tobytes())
                        test.append(gray[mask])
                offset += n
        np.concatenate(test).tofile(tmp / "test.bin")
        counts = {"train": {"images": total - n_test, "tokens": (total - n_test) * 1024},
                  "test": {"images": n_test, "tokens": n_test * 1024}}
        return publish(tmp, out_dir, _meta(f"cifar5m: {len(shards)} shards", 32, seed, counts))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
