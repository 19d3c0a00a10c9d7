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


TMP_PREFIX = ".tmp-"


def temp_prefix() -> str:
    """Prefix of this process's temporary files and folders, `.tmp-<pid>-`: a leftover names its writer."""
    return f"{TMP_PREFIX}{os.getpid()}-"


def is_stale_temp(path: Path) -> bool:
    """Whether `path` is a temporary file or folder whose writer has gone (killed mid-write): safe to delete."""
    if not path.name.startswith(TMP_PREFIX):
        return False
    pid = path.name[len(TMP_PREFIX):].split("-", 1)[0]
    if not pid.isdigit():
        return True  # named before temporary names carried their writer's pid
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def atomic_write(path: Path, write) -> None:
    """Write a file through a temporary file in the same folder and a rename, so readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix())
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
