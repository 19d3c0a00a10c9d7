"""Small helpers every chapter uses: the visible scale line and `glue` for numbers in prose."""
from __future__ import annotations

import hashlib
import os

from IPython.display import Markdown, display
from myst_nb import glue as _glue

from ..scales import check_scale


def runs_digest(keys) -> str:
    """One short hash of a page's run keys: two pages (or two builds) show the same runs iff it matches."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()[:12]


def header(scale: str, n_runs: int, what: str = "runs", keys=()) -> None:
    """Print the line every page shows: which scale, how many runs (or models), and the hash of the run keys."""
    check_scale(scale)
    digest = f" (run keys: `{runs_digest(keys)}`)" if keys else ""
    smoke = (" At `smoke` scale (tiny widths, steps capped) the numbers only exercise the code: they are no "
             "evidence for or against the paper's claims." if scale == "smoke" else "")
    display(Markdown(f"**Scale: `{scale}`** · {n_runs} {what} shown on this page{digest}.{smoke}"))


def glue(name: str, value, display: bool = False) -> None:
    """Store `value` for `{glue:text}` references in prose (myst-nb glue, hidden where it is computed)."""
    _glue(name, value, display=display)


def progress() -> bool:
    """Whether chapters show progress bars (the CLI streams them to the terminal and strips them from pages)."""
    return os.environ.get("SUPERCOLLAPSE_PROGRESS", "1") == "1"
