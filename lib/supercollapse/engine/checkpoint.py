"""Training checkpoints: one npz per interrupted run, `<dir>/<key>.npz`, written atomically, checked when read.

A checkpoint holds the run key, the next step, the training state's leaves (`leaf_0`, ...), the records so far
(`train_loss`, `test_loss`, `Buvar` on the evaluation grid), the training seconds spent up to it (`elapsed_s`)
and the steps earlier parts resumed at (`resumed_at`).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .. import paths

RECORDS = ("train_loss", "test_loss", "Buvar")
_FIELDS = ("key", "step", *RECORDS)


class CheckpointDiscarded(UserWarning):
    """A checkpoint that cannot resume its run (damaged, foreign, or of another model): deleted, the run restarts."""


def save(path: Path, key: str, step: int, leaves, records: dict, elapsed_s: float, resumed_at) -> None:
    """Write the checkpoint of run `key` at `step` atomically."""
    arrays = {f"leaf_{i}": np.asarray(x) for i, x in enumerate(leaves)}
    paths.atomic_write(path, lambda f: np.savez(f, key=key, step=step, elapsed_s=elapsed_s,
                                                resumed_at=np.asarray(resumed_at, np.int64), **arrays, **records))


def read(path: Path) -> dict:
    """A checkpoint's arrays, checked to belong to the run its file is named after; ValueError says why not."""
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {name: z[name] for name in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise ValueError(f"unreadable ({type(e).__name__}: {e})") from None
    missing = [f for f in _FIELDS if f not in data]
    if missing:
        raise ValueError(f"it lacks {', '.join(missing)}")
    if str(data["key"]) != path.stem:
        raise ValueError(f"it belongs to run {data['key']}, not {path.stem}")
    return data


def problems(root: Path) -> list[tuple[Path, str]]:
    """Checkpoints under `root` that cannot resume their run, and interrupted writes: (path, why)."""
    out = []
    for p in sorted(root.rglob("*")) if root.is_dir() else []:
        if paths.is_stale_temp(p):
            out.append((p, "an interrupted write"))
        elif p.is_file() and p.suffix == ".npz" and not p.name.startswith(paths.TMP_PREFIX):  # not one being written
            try:
                read(p)
            except ValueError as e:
                out.append((p, str(e)))
    return out
