"""The run store: one folder per run, named by its config's key, written atomically.

An entry is `<root>/<key>/` holding `config.json` (the canonical JSON the key hashes), `meta.json` (package
versions, device, code revision, wall time, date, the curves' SHA-256) and `curves.npz` (one array per curve
column, loaded without pickle). Two roots: `data/runs/` (curated, committed) and the local cache.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import paths
from .config import SCHEMA, RunConfig, canonical_json, run_key

REQUIRED_COLUMNS = ("step", "tokens", "compute", "lr", "tau", "train_loss", "test_loss")
_TMP_PREFIX = ".tmp-"


class MissingRuns(RuntimeError):
    """Runs a page needs are not stored and training was not allowed."""


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
        """Keys of complete entries (a write in progress or killed lives under a temporary name)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(_TMP_PREFIX))

    def has(self, key: str) -> bool:
        return (self.root / key / "curves.npz").is_file()

    def load(self, key: str) -> Run:
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
        tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{key}-", dir=self.root))
        try:
            np.savez(tmp / "curves.npz", **curves)
            (tmp / "config.json").write_text(canonical_json(cfg) + "\n")
            meta = {**(meta or {}), "key": key, "schema": SCHEMA, "curves_sha256": _sha256(tmp / "curves.npz")}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            try:
                os.rename(tmp, self.path(key))
            except OSError:
                # Another process stored the same key first: same config, same result; keep theirs.
                if not self.has(key):
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return self.load(key)

    def verify(self) -> list[str]:
        """Problems found in the store: key/config mismatch, old schema, tampered or unreadable curves."""
        problems = []
        if not self.root.is_dir():
            return problems
        for p in sorted(self.root.iterdir()):
            if p.name.startswith(_TMP_PREFIX):
                problems.append(f"{p.name}: an interrupted write (safe to delete)")
                continue
            if not p.is_dir():
                continue
            try:
                doc = json.loads((p / "config.json").read_text())
                meta = json.loads((p / "meta.json").read_text())
                cfg = RunConfig.from_dict(doc["config"])
            except (OSError, ValueError, KeyError, TypeError) as e:
                problems.append(f"{p.name}: unreadable entry ({e})")
                continue
            if doc.get("schema") != SCHEMA:
                problems.append(f"{p.name}: schema {doc.get('schema')} is not the current {SCHEMA}")
            elif run_key(cfg) != p.name:
                problems.append(f"{p.name}: its config hashes to {run_key(cfg)}, not to its folder name")
            if not (p / "curves.npz").is_file() or meta.get("curves_sha256") != _sha256(p / "curves.npz"):
                problems.append(f"{p.name}: curves.npz does not match the SHA-256 recorded in meta.json")
        return problems


def curated() -> RunStore:
    return RunStore(paths.CURATED_RUNS)


def cache() -> RunStore:
    return RunStore(paths.cache_runs())


def stores() -> list[RunStore]:
    """Where runs are looked up, in order: curated results first, then the local cache."""
    return [curated(), cache()]


def find(cfg: RunConfig) -> Run | None:
    key = run_key(cfg)
    for store in stores():
        if store.has(key):
            return store.load(key)
    return None


def _code_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(paths.ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(paths.ROOT), "status", "--porcelain", "lib"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return (rev or "unknown") + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment_meta() -> dict:
    """Provenance recorded with every run (not part of its key)."""
    import importlib.metadata as md

    import jax

    versions = {}
    for pkg in ("supercollapse", "jax", "jaxlib", "flax", "optax", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    dev = jax.devices()[0]
    return {
        "versions": versions,
        "python": platform.python_version(),
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
        "host": platform.machine(),
        "code_revision": _code_revision(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def load_or_train(configs, *, allow_train: bool = True, progress: bool = True) -> list[Run]:
    """Stored results for `configs`, training (into the cache) only the ones that are missing."""
    configs = list(configs)
    found = {run_key(c): find(c) for c in configs}
    missing = [c for c in configs if found[run_key(c)] is None]
    if missing and not allow_train:
        raise MissingRuns(
            f"{len(missing)} of {len(configs)} runs are not stored (first: {run_key(missing[0])}); "
            "set allow_train=True (`-p allow_train True`) to train them, or use a scale with stored runs")
    if missing:
        from tqdm import tqdm

        from .train import train

        store = cache()
        for cfg in tqdm(missing, desc="runs", unit="run", disable=not progress):
            key = run_key(cfg)
            t0 = time.perf_counter()
            curves = train(cfg, checkpoint_dir=paths.cache_dir() / "checkpoints" / key, progress=progress)
            meta = {**environment_meta(), "wall_time_s": round(time.perf_counter() - t0, 3)}
            found[key] = store.save(cfg, curves, meta)
    return [found[run_key(c)] for c in configs]


def curate(keys) -> list[str]:
    """Copy cache entries into the committed store (`data/runs/`); returns the keys copied."""
    src, dst = cache(), curated()
    copied = []
    for key in keys:
        if dst.has(key):
            continue
        if not src.has(key):
            raise KeyError(f"run {key} is not in the cache ({src.root})")
        run = src.load(key)
        dst.save(run.config, run.curves, {k: v for k, v in run.meta.items() if k not in ("key", "schema")})
        copied.append(key)
    return copied


def to_frame(stored: list[Run]):
    """The long frame of docs/architecture.md: one row per evaluation of each run (`loss` is the test loss)."""
    import pandas as pd

    from .models import param_count

    parts = []
    for run in stored:
        c = run.config
        df = pd.DataFrame({k: np.asarray(v) for k, v in run.curves.items()}).rename(columns={"test_loss": "loss"})
        df.insert(0, "run", run.key)
        for col, val in (("D", c.D), ("P", param_count(c)), ("seed", c.seed), ("schedule", c.schedule),
                         ("T", c.T), ("base_lr", c.base_lr), ("mup", c.mup)):
            df[col] = val
        parts.append(df)
    return pd.concat(parts, ignore_index=True)
