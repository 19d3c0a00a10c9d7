"""Small helpers every chapter uses: the visible scale line and `glue` for numbers in prose."""
from __future__ import annotations

from IPython.display import Markdown, display
from myst_nb import glue as _glue

from .presets import check_scale


def header(scale: str, n_runs: int, what: str = "runs") -> None:
    """Print the line every page shows: which scale and how many runs (or models) it draws."""
    check_scale(scale)
    display(Markdown(f"**Scale: `{scale}`** · {n_runs} {what} shown on this page."))


def glue(name: str, value, display: bool = False) -> None:
    """Store `value` for `{glue:text}` references in prose (myst-nb glue, hidden where it is computed)."""
    _glue(name, value, display=display)


def progress() -> bool:
    """Whether chapters show progress bars (the CLI streams them to the terminal and strips them from pages)."""
    import os

    return os.environ.get("SUPERCOLLAPSE_PROGRESS", "1") == "1"
