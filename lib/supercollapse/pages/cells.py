"""Small helpers every chapter uses: the visible scale line, `glue` for numbers in prose, tables."""
from __future__ import annotations

import hashlib
import os

import pandas as pd

from IPython.display import Markdown, display
from myst_nb import glue as _glue

from ..scales import check_scale


def runs_digest(keys) -> str:
    """One short hash of a page's run keys: two pages (or two builds) show the same runs iff it matches."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()[:12]


def duration(seconds: float) -> str:
    """A wall time as a reader reads it: seconds, minutes or hours, 2 significant digits."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.2g} {unit}"
    return f"{seconds:.2g} s"


def cost_text(cost) -> str:
    """The sentence on what training a page's runs cost (`execute.cost.Spent`), from their store entries."""
    if not cost.keys:
        return ""
    timed = f"{duration(cost.seconds)} of recorded wall time on {', '.join(cost.devices)}"
    if cost.untimed:
        timed += f" ({cost.untimed} run(s) without a recorded time not counted)"
    return f" Training them cost {cost.pflop:.3g} PFLOP and {timed}."


def header(scale: str, n_runs: int, what: str = "runs", keys=(), cost=None) -> None:
    """Print the line every page shows: which scale, how many runs (or models), the hash of the run keys and,
    given `cost` (`execute.cost.spent` of the stored runs shown, whose keys it carries), what training them cost."""
    check_scale(scale)
    keys = keys or (cost.keys if cost is not None else ())
    digest = f" (run keys: `{runs_digest(keys)}`)" if keys else ""
    spent = cost_text(cost) if cost is not None else ""
    smoke = (" At `smoke` scale (tiny widths, steps capped) the numbers only exercise the code: they are no "
             "evidence for or against the paper's claims." if scale == "smoke" else "")
    display(Markdown(f"**Scale: `{scale}`** · {n_runs} {what} shown on this page{digest}.{spent}{smoke}"))


def glue(name: str, value, display: bool = False) -> None:
    """Store `value` for `{glue:text}` references in prose (myst-nb glue, hidden where it is computed)."""
    _glue(name, value, display=display)


def glue_all(values: dict) -> None:
    """`glue` every entry: strings as Markdown (for `{glue:md}`), numbers as they are (for `{glue:text}`)."""
    for name, value in values.items():
        glue(name, Markdown(value) if isinstance(value, str) else value)


def progress() -> bool:
    """Whether chapters show progress bars (the CLI streams them to the terminal and strips them from pages)."""
    return os.environ.get("SUPERCOLLAPSE_PROGRESS", "1") == "1"


def _cell(value, digits: int):
    if isinstance(value, float):  # numpy floats too
        return f"{value:.0f}" if value.is_integer() and abs(value) < 1e7 else f"{value:.{digits}g}"
    return value


def table(df: pd.DataFrame, columns: dict | None = None, digits: int = 4):
    """`df` as a page shows it: no index column (a named index becomes a column), column levels joined as
    "gain (narrow)", `columns` renamed, numbers to `digits` significant digits."""
    out = df.reset_index() if any(n is not None for n in df.index.names) else df.reset_index(drop=True)
    if isinstance(out.columns, pd.MultiIndex):
        parts = [[str(v) for v in c if v != ""] for c in out.columns]
        out.columns = [p[-1] + (f" ({', '.join(p[:-1])})" if len(p) > 1 else "") for p in parts]
    out = out.rename(columns=columns or {})
    return out.style.hide(axis="index").format(lambda v: _cell(v, digits)).set_table_attributes('class="sc-table"')
