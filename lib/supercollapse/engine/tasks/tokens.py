"""Token tasks' data (SPEC §2.2-2.3): a prepared dataset folder of headerless uint8 streams, cut into rows."""
from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import optax

from ... import paths
from ..config import RunConfig


def dataset_dir(name: str) -> Path:
    """Folder of a prepared token dataset (train.bin, test.bin, metadata)."""
    return paths.cache_dir() / "datasets" / name


class TokenStream:
    """A headerless uint8 token file (SPEC §2.2) cut into rows of L tokens; row r wraps modulo the row count."""

    def __init__(self, path: Path, L: int):
        self.tokens = np.memmap(path, dtype=np.uint8, mode="r")
        self.L, self.n_rows = L, len(self.tokens) // L
        if self.n_rows == 0:
            raise ValueError(f"{path} holds {len(self.tokens)} tokens, fewer than one row of L={L}")

    def rows(self, start: int, n: int) -> np.ndarray:
        """Rows [start, start + n) (modulo the row count) as a (n, L) uint8 array."""
        idx = np.arange(start, start + n) % self.n_rows
        return self.tokens[: self.n_rows * self.L].reshape(self.n_rows, self.L)[idx]


def prepare(cfg: RunConfig, progress: bool = True) -> None:
    """Token datasets are prepared ahead of training (`supercollapse data prepare`); check that this one is."""
    folder = dataset_dir(cfg.dataset)
    for split in ("train", "test"):
        if not (folder / f"{split}.bin").is_file():
            raise FileNotFoundError(f"dataset {cfg.dataset!r} has no {split}.bin in {folder}; prepare it first")


def train_stream(cfg: RunConfig):
    """``batches(step, n)``: the rows of steps [step, step + n) as (n, B, L) uint8."""
    stream = TokenStream(dataset_dir(cfg.dataset) / "train.bin", cfg.L)
    return lambda step, n: stream.rows(step * cfg.B, n * cfg.B).reshape(n, cfg.B, cfg.L)


def test_set(cfg: RunConfig):
    """The fixed test set: the first eval_size // L rows of the test split, (rows, L) uint8."""
    stream = TokenStream(dataset_dir(cfg.dataset) / "test.bin", cfg.L)
    n = cfg.eval_size // cfg.L
    if n > stream.n_rows:
        raise ValueError(f"eval_size={cfg.eval_size} tokens exceeds the {stream.n_rows * cfg.L} of the test split")
    return stream.rows(0, n)


def losses(model, batch):
    """Mean next-token cross-entropy of each row."""
    tokens = batch.astype(jnp.int32)
    return optax.softmax_cross_entropy_with_integer_labels(model(tokens[:, :-1]), tokens[:, 1:]).mean(-1)
