"""Every path the project uses, resolved from the repository root (never from the working directory)."""
from __future__ import annotations

import os
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
