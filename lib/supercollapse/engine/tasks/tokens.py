"""Token tasks' data (SPEC §2.2-2.3): a prepared dataset folder of headerless uint8 streams, cut into rows.

Row r holds tokens [r·L, r·L + L] (L + 1 tokens; neighbours share one): the model reads the first L and
predicts the last L, so each row trains on exactly the L tokens that the compute convention C = 6·P·B·L
per step counts, and every token of the stream is predicted once.
"""
from __future__ import annotations

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import optax

from ... import paths
from ..config import RunConfig


def dataset_dir(name: str) -> Path:
    """Folder of a prepared token dataset (train.bin, test.bin, metadata)."""
    return paths.cache_dir() / "datasets" / name


def _materialize_chess(folder: Path) -> None:
    from . import chess

    chess.materialize(folder)


def _dead_leaves(side: int, n_train: int):
    def generate(folder: Path) -> None:
        from . import pixels

        pixels.prepare_dead_leaves(folder, side=side, n_train=n_train, n_test=2000, seed=0)

    return generate


# Datasets the book builds itself on first use (no download, no user file): the shipped chess corpus, and seeded
# dead-leaves images (SPEC §2.3) at 16x16 for the cpu scale (about 3 minutes), 32x32 for the gpu scale, and a
# small 16x16 set for the smoke scale (seconds).
EMBEDDED = {"chess": _materialize_chess, "dead_leaves16": _dead_leaves(16, 100_000),
            "dead_leaves32": _dead_leaves(32, 200_000), "dead_leaves16_small": _dead_leaves(16, 2000)}


class TokenStream:
    """A headerless uint8 token file cut into rows of L + 1 tokens at stride L; row r wraps modulo the count."""

    def __init__(self, path: Path, L: int):
        self.tokens = np.memmap(path, dtype=np.uint8, mode="r")
        self.L, self.n_rows = L, (len(self.tokens) - 1) // L
        if self.n_rows <= 0:
            raise ValueError(f"{path} holds {len(self.tokens)} tokens, fewer than one row of L + 1 = {L + 1}")

    def rows(self, start: int, n: int) -> np.ndarray:
        """Rows [start, start + n) (modulo the row count) as a (n, L + 1) uint8 array."""
        first = (np.arange(start, start + n) % self.n_rows) * self.L
        return self.tokens[first[:, None] + np.arange(self.L + 1)]


ITEMS = {"chess": "games", "pixels": "images"}  # what a dataset's meta.json counts per split, by task


def dataset_meta(cfg: RunConfig) -> dict:
    """The metadata of `cfg`'s dataset (its source and, per split, the items and tokens), preparing it if needed."""
    prepare(cfg, progress=False)
    return json.loads((dataset_dir(cfg.dataset) / "meta.json").read_text())


def prepare(cfg: RunConfig, progress: bool = True) -> None:
    """Build an embedded dataset on first use; any other must be prepared ahead (`supercollapse data prepare`)."""
    folder = dataset_dir(cfg.dataset)
    missing = [s for s in ("train", "test") if not (folder / f"{s}.bin").is_file()]
    if missing and cfg.dataset in EMBEDDED:
        EMBEDDED[cfg.dataset](folder)
    elif missing:
        raise FileNotFoundError(f"dataset {cfg.dataset!r} has no {missing[0]}.bin in {folder}; prepare it first "
                                f"(supercollapse data prepare chess|pixels --name {cfg.dataset} ...)")


def train_stream(cfg: RunConfig):
    """``batches(step, n)``: the rows of steps [step, step + n) as (n, B, L + 1) uint8."""
    stream = TokenStream(dataset_dir(cfg.dataset) / "train.bin", cfg.L)
    return lambda step, n: stream.rows(step * cfg.B, n * cfg.B).reshape(n, cfg.B, cfg.L + 1)


def test_set(cfg: RunConfig):
    """The fixed test set: the first eval_size // L rows of the test split, (rows, L + 1) uint8."""
    stream = TokenStream(dataset_dir(cfg.dataset) / "test.bin", cfg.L)
    n = cfg.eval_size // cfg.L
    if n > stream.n_rows:
        raise ValueError(f"eval_size={cfg.eval_size} tokens exceeds the {stream.n_rows * cfg.L} of the test split")
    return stream.rows(0, n)


def losses(model, batch):
    """Mean next-token cross-entropy of each row: L predictions from L inputs."""
    tokens = batch.astype(jnp.int32)
    return optax.softmax_cross_entropy_with_integer_labels(model(tokens[:, :-1]), tokens[:, 1:]).mean(-1)
