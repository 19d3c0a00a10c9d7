"""Every path the project uses, resolved from the repository root (never from the working directory)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
DATA = ROOT / "data"
CURATED_RUNS = DATA / "runs"  # committed results: a fresh clone renders without retraining
BUILD = ROOT / "_build"


def cache_dir() -> Path:
    """The local, git-ignored cache (runs, data pools, executed notebooks); SUPERCOLLAPSE_CACHE overrides it."""
    return Path(os.environ.get("SUPERCOLLAPSE_CACHE", DATA / "cache"))


def cache_runs() -> Path:
    return cache_dir() / "runs"


def atomic_write(path: Path, write) -> None:
    """Write a file through a temporary file in the same folder and a rename, so readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
