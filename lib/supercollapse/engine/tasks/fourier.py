"""The MLP task's data: power-law Fourier regression (SPEC §2.1) and its shared example pool.

The Fourier task's example stream is defined block by block, independently of the batch size:
example j of a split is row j % BLOCK of block j // BLOCK, and block b is drawn from
``fold_in(key(data_seed)[split], b)``. A run with batch size B sees examples [i*B, (i+1)*B) at step i;
the test set is the first ``eval_size`` examples of the test split. The model seed changes nothing here.
Targets cost 10,000 cosines per example, so every block is computed once into a memory-mapped pool under
``cache_dir()/pools/<hash>/`` that all seeds, widths and schedules share (``ExamplePool``).
"""
from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ... import paths
from ...paths import atomic_write
from ..config import RunConfig
from . import get as task_spec

DIM = 8  # input dimension V of the Fourier task
MODES = 10_000  # M, modes drawn before merging
ALPHA = 2.0  # Pareto exponent of the frequency magnitudes
BLOCK = 4096  # examples per block of the stream
SHARD = 16 * BLOCK  # examples per pool file
POOL_VERSION = task_spec("mlp").data_version  # bump it in the registry: it then enters every run key too
SPLITS = ("train", "test")
_TILE = 64  # examples per tile of the target evaluation: keeps the (modes x tile) phases in cache
# Taylor coefficients of cos(2*pi*r) in r^2: on |r| <= 1/2 the truncation error is 4e-9, below float32 rounding.
_COS2PI = [(-1) ** n * (2 * math.pi) ** (2 * n) / math.factorial(2 * n) for n in range(10)]


def _keys(data_seed: int) -> dict:
    """The three fixed keys of a data seed: the target function and the train and test input streams."""
    return dict(zip(("target", *SPLITS), jax.random.split(jax.random.key(data_seed), 3)))


@jax.jit
def _draw(key: jax.Array):
    """The random draws of SPEC §2.1 (one compiled function: eager mode would compile every operation)."""
    ku, kv, kw, kp = jax.random.split(key, 4)
    mag = (1 - jax.random.uniform(ku, (MODES,))) ** (-1 / ALPHA)  # Pareto magnitudes |k| >= 1
    v = jax.random.normal(kv, (MODES, DIM))
    k = jnp.round(mag[:, None] * v / jnp.linalg.norm(v, axis=1, keepdims=True))
    w = jax.random.normal(kw, (MODES,))
    return k, w / jnp.linalg.norm(w), jax.random.bernoulli(kp, 0.5, (MODES,))


def raw_modes(data_seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The M drawn modes (k: int (M, 8), w: (M,), phi: (M,)) of SPEC §2.1, before any merging."""
    k, w, half_pi = _draw(_keys(data_seed)["target"])
    return np.asarray(k).astype(np.int64), np.asarray(w, np.float64), np.where(np.asarray(half_pi), np.pi / 2, 0.0)


def fourier_modes(data_seed: int) -> dict[str, np.ndarray]:
    """The target as merged modes: y = const + sum_m amp_m cos(2 pi (K_m . x - shift_m)).

    Exact rewrite of SPEC §2.1: every mode is a cos + b sin of 2 pi k.x; modes with equal k, or with
    opposite k (sin flips sign), add up, and k = 0 gives a constant. About 3,300 of 10,000 modes remain.
    """
    k, w, phi = raw_modes(data_seed)
    a = np.where(phi == 0, np.sqrt(2) * w, 0.0)  # cos(t + pi/2) = -sin(t)
    b = np.where(phi == 0, 0.0, -np.sqrt(2) * w)
    lead = k[np.arange(len(k)), np.argmax(k != 0, axis=1)]  # first nonzero component, 0 when k = 0
    sign, zero = np.where(lead < 0, -1, 1), lead == 0
    uniq, inv = np.unique(k[~zero] * sign[~zero, None], axis=0, return_inverse=True)
    A = np.bincount(inv, a[~zero], len(uniq))
    Bs = np.bincount(inv, (sign * b)[~zero], len(uniq))
    return {"K": uniq.astype(np.float32), "amp": np.hypot(A, Bs).astype(np.float32),
            "shift": (np.arctan2(Bs, A) / (2 * np.pi)).astype(np.float32),
            "const": np.float32(a[zero].sum())}


def _cos2pi(r):
    """cos(2 pi r) for any r: reduce to [-1/2, 1/2], then a polynomial (3x faster than jnp.cos on CPU)."""
    r = r - jnp.round(r)
    z, p = r * r, jnp.float32(_COS2PI[-1])
    for c in _COS2PI[-2::-1]:
        p = p * z + jnp.float32(c)
    return p


def target(modes: dict, x: jax.Array) -> jax.Array:
    """y(x) for inputs x (n, 8), n a multiple of the tile size; modes from ``fourier_modes``."""
    def tile(xt):  # (TILE, 8) -> (TILE,); modes along rows keeps the reduction a matrix-vector product
        return modes["amp"] @ _cos2pi(modes["K"] @ xt.T - modes["shift"][:, None]) + modes["const"]

    return jax.lax.map(tile, x.reshape(-1, _TILE, DIM)).reshape(-1)


@jax.jit
def _block(modes: dict, key: jax.Array, b) -> jax.Array:
    """Block b of a stream as (BLOCK, 9) float32: inputs in columns 0-7, target in column 8."""
    x = jax.random.uniform(jax.random.fold_in(key, b), (BLOCK, DIM), minval=-0.5, maxval=0.5)
    return jnp.concatenate([x, target(modes, x)[:, None]], axis=1)


def online_examples(data_seed: int, split: str, start: int, n: int) -> np.ndarray:
    """Examples [start, start + n) of a split, computed from scratch: the definition the pool must match."""
    modes, key = fourier_modes(data_seed), _keys(data_seed)[split]
    blocks = range(start // BLOCK, -(-(start + n) // BLOCK))
    out = np.concatenate([np.asarray(_block(modes, key, b)) for b in blocks])
    return out[start - blocks[0] * BLOCK:][:n]


class ExamplePool:
    """The fixed example stream of one data seed and split, stored once as memory-mapped shards of SHARD rows."""

    def __init__(self, data_seed: int, split: str):
        if split not in SPLITS:
            raise ValueError(f"split={split!r} is invalid; valid: {', '.join(SPLITS)}")
        self.data_seed, self.split = data_seed, split
        spec = {"version": POOL_VERSION, "data_seed": data_seed, "dim": DIM, "modes": MODES, "alpha": ALPHA,
                "block": BLOCK, "shard": SHARD}
        self.dir = paths.cache_dir() / "pools" / hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
        self.spec = spec
        self._maps: dict[int, np.ndarray] = {}

    def _path(self, s: int) -> Path:
        return self.dir / f"{self.split}_{s:05d}.npy"

    def ensure(self, n: int, progress: bool = True) -> None:
        """Build every missing shard covering examples [0, n)."""
        self._build(range(-(-n // SHARD)), progress)

    def _build(self, shards, progress: bool) -> None:
        """Compute the missing ones of these shards, each written atomically (temporary file, then rename)."""
        missing = [s for s in shards if s not in self._maps and not self._path(s).exists()]
        if not missing:
            return
        atomic_write(self.dir / "spec.json", lambda f: f.write(json.dumps(self.spec, indent=1).encode()))
        modes, key = fourier_modes(self.data_seed), _keys(self.data_seed)[self.split]
        with tqdm(total=len(missing) * SHARD, desc=f"example pool ({self.split})", unit="ex", unit_scale=True,
                  disable=not progress, leave=False) as bar:
            for s in missing:
                rows = []
                for b in range(s * SHARD // BLOCK, (s + 1) * SHARD // BLOCK):
                    rows.append(np.asarray(_block(modes, key, b)))
                    bar.update(BLOCK)
                atomic_write(self._path(s), lambda f: np.save(f, np.concatenate(rows)))

    def _open(self, s: int) -> np.ndarray:
        """Shard s, memory-mapped; one that is truncated or of the wrong shape is rebuilt, with a warning."""
        path = self._path(s)
        if (why := _shard_problem(path)) is not None:
            warnings.warn(f"example pool shard {path} is damaged ({why}); rebuilt", PoolShardRebuilt, stacklevel=3)
            path.unlink(missing_ok=True)
            self._build([s], progress=False)
        return np.load(path, mmap_mode="r")

    def read(self, start: int, n: int) -> np.ndarray:
        """Examples [start, start + n) as a (n, 9) float32 array (columns 0-7 inputs, 8 target)."""
        shards = range(start // SHARD, -(-(start + n) // SHARD))
        self._build(shards, progress=False)
        parts = []
        for s in shards:
            if s not in self._maps:
                self._maps[s] = self._open(s)
            lo, hi = max(start - s * SHARD, 0), min(start + n - s * SHARD, SHARD)
            parts.append(self._maps[s][lo:hi])
        return np.concatenate(parts)


class PoolShardRebuilt(UserWarning):
    """A pool shard that could not be read (truncated, wrong shape): deleted and computed again."""


def _shard_problem(path: Path) -> str | None:
    """Why a pool shard cannot be read as (SHARD, DIM + 1) float32 rows, or None."""
    try:
        shard = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError) as e:
        return f"unreadable: {type(e).__name__}: {e}"
    if shard.shape != (SHARD, DIM + 1) or shard.dtype != np.float32:
        return f"{shard.dtype}{shard.shape}, not float32({SHARD}, {DIM + 1})"
    return None


def pool_problems(root: Path) -> list[tuple[Path, str]]:
    """Pools under `root` (the cache's `pools/`) that would mislead a run: (path, why).

    A shard must read as (SHARD, 9) float32 and its first rows must equal the stream's definition
    (`online_examples`); a pool of another POOL_VERSION is unused; a killed write leaves a temporary file.
    """
    out = []
    for pool in sorted(root.iterdir()) if root.is_dir() else []:
        if paths.is_stale_temp(pool) or not pool.is_dir():
            out.append((pool, "not a pool (an interrupted write or a stray file)"))
            continue
        try:
            spec = json.loads((pool / "spec.json").read_text())
            name = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
        except (OSError, ValueError) as e:
            out.append((pool, f"its spec.json is unreadable ({type(e).__name__})"))
            continue
        if name != pool.name:
            out.append((pool, f"its spec.json hashes to {name}, not to its folder name"))
            continue
        if spec.get("version") != POOL_VERSION:
            out.append((pool, f"pool version {spec.get('version')}, not the current {POOL_VERSION}: unused"))
            continue
        for f in sorted(pool.iterdir()):
            if paths.is_stale_temp(f):
                out.append((f, "an interrupted write"))
            elif f.suffix == ".npy":
                split, shard = f.stem.rsplit("_", 1)
                if (why := _shard_problem(f)) is None:
                    rows = online_examples(spec["data_seed"], split, int(shard) * SHARD, _TILE)
                    why = None if np.array_equal(np.load(f, mmap_mode="r")[:_TILE], rows) else \
                        "its rows differ from the stream's definition"
                if why:
                    out.append((f, why))
    return out


def train_stream(cfg: RunConfig):
    """``batches(step, n)``: the batches of steps [step, step + n) as (x (n, B, 8), y (n, B))."""
    pool = ExamplePool(cfg.data_seed, "train")

    def batches(step: int, n: int):
        ex = pool.read(step * cfg.B, n * cfg.B).reshape(n, cfg.B, DIM + 1)
        return ex[..., :DIM], ex[..., DIM]
    return batches


def prepare(cfg: RunConfig, progress: bool = True) -> None:
    """Build the pool shards a run reads (batches of steps 0..steps, and the test set); a no-op once built."""
    ExamplePool(cfg.data_seed, "train").ensure((cfg.steps + 1) * cfg.B, progress)
    ExamplePool(cfg.data_seed, "test").ensure(cfg.eval_size, progress)


def test_set(cfg: RunConfig):
    """The fixed test set (x (eval_size, 8), y (eval_size,)): the first eval_size examples of the test split."""
    ex = ExamplePool(cfg.data_seed, "test").read(0, cfg.eval_size)
    return ex[:, :DIM], ex[:, DIM]


def losses(model, batch):
    """Per-example loss ½(f(x) − y)² (SPEC §2.1)."""
    x, y = batch
    return 0.5 * (model(x) - y) ** 2
