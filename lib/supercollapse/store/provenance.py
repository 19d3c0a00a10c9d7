"""Provenance recorded with every run (never part of its key): versions, device, code revision, source hash."""
from __future__ import annotations

import datetime
import importlib.metadata as md
import platform
import subprocess

from .. import paths, sources

TRAINING_MODULE = "supercollapse.engine.train"


def training_source_hash() -> str:
    """Hash of the package source closure of the training loop: the code that produced a run's curves."""
    return sources.digest(sources.closure([TRAINING_MODULE]))


def code_revision() -> str:
    """The git commit, with `+dirty` when the package source has uncommitted changes; 'unknown' outside git."""
    try:
        rev = subprocess.run(["git", "-C", str(paths.ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(paths.ROOT), "status", "--porcelain", "lib"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return (rev or "unknown") + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment(device: str) -> dict:
    """The metadata of a run trained now on `device` (e.g. 'cpu:cpu')."""
    versions = {}
    for pkg in ("supercollapse", "jax", "jaxlib", "flax", "optax", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {
        "versions": versions,
        "python": platform.python_version(),
        "device": device,
        "host": platform.machine(),
        "code_revision": code_revision(),
        "source_sha256": training_source_hash(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
