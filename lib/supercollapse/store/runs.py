"""The run store: one folder per run, named by its config's key, written atomically, verified on every read.

An entry is `<root>/<key>/` holding `config.json` (the canonical JSON the key hashes), `meta.json` (package
versions, device, code revision, source hash, wall time, date, the curves' SHA-256) and `curves.npz` (one array
per curve column, loaded without pickle). Two roots: `data/runs/` (curated, committed) and the local cache.
The store only stores: who trains a missing run is the executor's business (`execute/`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paths
from ..engine.config import SCHEMA, RunConfig, canonical_json, run_key

REQUIRED_COLUMNS = ("step", "tokens", "compute", "lr", "tau", "train_loss", "test_loss")


class MissingRuns(RuntimeError):
    """Runs a page needs are not stored and training was not allowed."""


class DamagedRun(RuntimeError):
    """A stored entry that fails verification: never drawn; the message says how to repair it."""


@dataclass(frozen=True)
class Run:
    key: str
    config: RunConfig
    meta: dict
    curves: dict  # column name -> 1-D np.ndarray, one entry per evaluation


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class RunStore:
    """A folder of run entries."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self):
        return f"RunStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / key

    def keys(self) -> list[str]:
        """Keys of entries (a write in progress or killed lives under a temporary name)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(paths.TMP_PREFIX))

    def has(self, key: str) -> bool:
        """Whether an entry exists under `key` (complete or not: `load` tells whether it is sound)."""
        return self.path(key).is_dir()

    def problem(self, key: str) -> str | None:
        """Why the entry `key` is unsound (key/config mismatch, old schema, tampered or missing curves), or None."""
        entry = self.path(key)
        try:
            doc = json.loads((entry / "config.json").read_text())
            meta = json.loads((entry / "meta.json").read_text())
            cfg = RunConfig.from_dict(doc["config"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            return f"unreadable entry ({type(e).__name__}: {e})"
        if doc.get("schema") != SCHEMA:
            return f"schema {doc.get('schema')} is not the current {SCHEMA}"
        if run_key(cfg) != key:
            return f"its config hashes to {run_key(cfg)}, not to its folder name"
        if not (entry / "curves.npz").is_file():
            return "curves.npz is missing"
        if meta.get("curves_sha256") != _sha256(entry / "curves.npz"):
            return "curves.npz does not match the SHA-256 recorded in meta.json"
        return None

    def repair_hint(self, key: str) -> str:
        if self.root.resolve() == paths.CURATED_RUNS.resolve():
            return f"restore it with `git checkout -- {self.path(key)}` (or delete it and retrain)"
        return "`supercollapse runs repair` deletes it so that the next run retrains it"

    def load(self, key: str) -> Run:
        """The verified entry `key`; DamagedRun (naming the entry and its repair) if it fails verification."""
        if (why := self.problem(key)) is not None:
            raise DamagedRun(f"run {key} at {self.path(key)} is damaged: {why}; {self.repair_hint(key)}")
        entry = self.path(key)
        doc = json.loads((entry / "config.json").read_text())
        meta = json.loads((entry / "meta.json").read_text())
        with np.load(entry / "curves.npz", allow_pickle=False) as z:
            curves = {name: z[name] for name in z.files}
        return Run(key, RunConfig.from_dict(doc["config"]), meta, curves)

    def save(self, cfg: RunConfig, curves: dict, meta: dict | None = None) -> Run:
        """Write an entry atomically: build it in a temporary folder, then rename it into place."""
        key = run_key(cfg)
        missing = [c for c in REQUIRED_COLUMNS if c not in curves]
        if missing:
            raise ValueError(f"curves for run {key} lack columns {missing}; required: {list(REQUIRED_COLUMNS)}")
        curves = {k: np.asarray(v) for k, v in curves.items()}
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{paths.temp_prefix()}{key}-", dir=self.root))
        try:
            np.savez(tmp / "curves.npz", **curves)
            (tmp / "config.json").write_text(canonical_json(cfg) + "\n")
            meta = {**(meta or {}), "key": key, "schema": SCHEMA, "curves_sha256": _sha256(tmp / "curves.npz")}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            if self.has(key) and self.problem(key) is not None:
                shutil.rmtree(self.path(key))  # a damaged entry of the same key: the new one replaces it
            try:
                os.rename(tmp, self.path(key))
            except OSError:
                # Another process stored the same key first: same config, same result; keep theirs.
                if self.problem(key) is not None:
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return self.load(key)

    def _problems(self) -> list[tuple[Path, str]]:
        """(path, why) of damaged entries and interrupted writes; a write still in progress is neither."""
        out = []
        for p in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if paths.is_stale_temp(p):
                out.append((p, "an interrupted write (safe to delete)"))
            elif p.is_dir() and not p.name.startswith(paths.TMP_PREFIX) and (why := self.problem(p.name)):
                out.append((p, why))
        return out

    def verify(self) -> list[str]:
        """Problems found in the store, one line each: damaged entries and interrupted writes."""
        return [f"{p.name}: {why}" for p, why in self._problems()]

    def repair(self) -> list[str]:
        """Delete damaged entries and interrupted writes; returns the names removed."""
        removed = self._problems()
        for p, _ in removed:
            shutil.rmtree(p)
        return [p.name for p, _ in removed]


def curated() -> RunStore:
    return RunStore(paths.CURATED_RUNS)


def cache() -> RunStore:
    return RunStore(paths.cache_runs())


def stores() -> list[RunStore]:
    """Where runs are looked up, in order: curated results first, then the local cache."""
    return [curated(), cache()]


def find(cfg: RunConfig) -> Run | None:
    """The stored, verified run of `cfg`, or None; a damaged entry raises DamagedRun (it is never drawn)."""
    key = run_key(cfg)
    for store in stores():
        if store.has(key):
            return store.load(key)
    return None


def curate(keys, *, allow_dirty: bool = False) -> list[str]:
    """Copy verified cache entries into the committed store (`data/runs/`); returns the keys copied.

    A run trained from uncommitted library code (`code_revision` ending in +dirty) is refused unless
    `allow_dirty`: a committed result must name the code that made it.
    """
    src, dst = cache(), curated()
    todo = []
    for key in keys:
        if dst.has(key) and dst.problem(key) is None:
            continue
        if not src.has(key):
            raise KeyError(f"run {key} is not in the cache ({src.root})")
        run = src.load(key)
        if str(run.meta.get("code_revision", "")).endswith("+dirty") and not allow_dirty:
            raise ValueError(f"run {key} was trained from uncommitted code ({run.meta['code_revision']}); "
                             "commit the code and retrain, or pass --allow-dirty")
        todo.append(run)
    for run in todo:
        dst.save(run.config, run.curves, {k: v for k, v in run.meta.items() if k not in ("key", "schema")})
    return [run.key for run in todo]
