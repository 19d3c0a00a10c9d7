"""Importer for the authors' published training logs ([Q]'s pandas pickles) into the long frame.

Security: unpickling runs code stored in the file. `load_published` opens only the one file its caller names,
and nothing in this package ever scans a folder for pickles. Load only files you trust.

Schema (one DataFrame per file, one row per run): `D`, `seed`, `num_params` or `P`, `opt_C` (PFLOP), `opt_L`,
`history` (a DataFrame per run: `compute` [PFLOP], `test_loss`, and usually `step`, `lr`, `tau`, sometimes
`tokens`, `Buvar`, `scaled_L`, `scaled_C`), and optionally `schedule`, `decay_frac`, `lr`, `opt_tau`.
The schedule logs (`*_schedules.pkl`, read by `load_schedules`) have one row per run with `D`, `T` (tokens),
`schedule`, `decay_frac`, `seed`, `num_params` or `P` and a `history` with `step`, `compute`, `tokens`,
`test_loss`, `lr`, `tau`, `Buvar`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import flops
from . import frames

REQUIRED_ROW = ("D", "seed", "opt_C", "opt_L", "history")
REQUIRED_HISTORY = ("compute", "test_loss")
HISTORY_OPTIONAL = ("step", "tokens", "lr", "tau", "train_loss", "Buvar")
ROW_OPTIONAL = {"schedule": "schedule", "decay_frac": "decay_frac", "lr": "base_lr"}
SCHEDULE_ROW = ("D", "T", "schedule", "decay_frac", "seed", "history")
SCHEDULE_HISTORY = ("step", "compute", "tokens", "test_loss", "lr", "tau", "Buvar")


class PublishedLogError(ValueError):
    """The file is not a readable log in the authors' format; the message says what is wrong."""


def _fail(path, what: str, row=REQUIRED_ROW, history=REQUIRED_HISTORY):
    raise PublishedLogError(
        f"{path}: {what}. Expected one pandas DataFrame, one row per run, with columns "
        f"{', '.join(row)} and num_params or P; each history a DataFrame with "
        f"{', '.join(history)} (compute in PFLOP)"
    )


def _read(path: Path, row=REQUIRED_ROW, history=REQUIRED_HISTORY) -> pd.DataFrame:
    """Unpickle the one named file (this runs code from it) and check that it is a non-empty DataFrame with `row`."""
    if not path.is_file():
        raise PublishedLogError(f"{path}: no such file")
    try:
        obj = pd.read_pickle(path)
    except Exception as e:  # unpickling can raise anything; all of it means the file is unreadable
        _fail(path, f"cannot be unpickled ({type(e).__name__}: {e})", row, history)
    if not isinstance(obj, pd.DataFrame):
        _fail(path, f"holds a {type(obj).__name__}, not a DataFrame", row, history)
    if obj.empty:
        _fail(path, "holds an empty DataFrame", row, history)
    missing = [c for c in row if c not in obj.columns]
    if "num_params" not in obj.columns and "P" not in obj.columns:
        missing.append("num_params or P")
    if missing:
        _fail(path, f"is missing column(s) {', '.join(missing)}", row, history)
    return obj


def _dedup(logs: pd.DataFrame) -> list[int]:
    """Positions of the rows to keep: a row that repeats an earlier row's width, seed and history is dropped."""
    keep, seen = [], {}
    for i, (D, seed, history) in enumerate(zip(logs["D"], logs["seed"], logs["history"])):
        twins = seen.setdefault((D, seed), [])
        if isinstance(history, pd.DataFrame) and any(history.equals(h) for h in twins):
            continue
        twins.append(history)
        keep.append(i)
    return keep


def load_published(path) -> pd.DataFrame:
    """Read one explicitly named authors'-format pickle into a long frame, cut at each run's (opt_C, opt_L).

    Unpickling runs code from the file: pass only a file you chose and trust; folders are never scanned.
    Notes (duplicates dropped, opt_L mismatches) are in `frame.attrs["notes"]`.
    """
    path = Path(path)
    logs = _read(path)
    notes = []
    keep = _dedup(logs)
    if len(keep) < len(logs):
        notes.append(f"dropped {len(logs) - len(keep)} duplicated row(s) (same D and seed, identical history)")
    size = "num_params" if "num_params" in logs.columns else "P"
    parts, mismatched, short = [], 0, 0
    for i in keep:  # i: the row's position in the file, kept in the run id
        row = logs.iloc[i]
        h = row["history"]
        where = f"row {i} (D={row['D']}, seed={row['seed']})"
        if not isinstance(h, pd.DataFrame):
            _fail(path, f"{where}: history is a {type(h).__name__}, not a DataFrame")
        missing = [c for c in REQUIRED_HISTORY if c not in h.columns]
        if missing:
            _fail(path, f"{where}: history is missing column(s) {', '.join(missing)}")
        if len(h) < 2:
            _fail(path, f"{where}: history has {len(h)} evaluation(s); at least 2 are needed")
        try:
            P, opt_C, opt_L = float(row[size]), float(row["opt_C"]), float(row["opt_L"])
        except (TypeError, ValueError):
            _fail(path, f"{where}: {size}, opt_C and opt_L must be numbers")
        if not (np.isfinite([P, opt_C, opt_L]).all() and P > 0 and opt_C > 0):
            _fail(path, f"{where}: {size}={P}, opt_C={opt_C}, opt_L={opt_L} must be finite, P and opt_C positive")
        part = pd.DataFrame({"compute": pd.to_numeric(h["compute"], errors="coerce").to_numpy(dtype=float),
                             "loss": pd.to_numeric(h["test_loss"], errors="coerce").to_numpy(dtype=float)})
        for col in HISTORY_OPTIONAL:
            part[col] = h[col].to_numpy() if col in h.columns else np.nan
        if "tokens" not in h.columns:
            part["tokens"] = flops.tokens(P, part["compute"])
        part.insert(0, "run", f"{path.stem}/{i}/D={row['D']}/seed={row['seed']}")
        part.insert(1, "D", row["D"])
        part.insert(2, "P", P)
        part.insert(3, "seed", row["seed"])
        for col, name in ROW_OPTIONAL.items():
            if col in logs.columns:
                part[name] = row[col]
        part = part.sort_values("compute", kind="stable").drop_duplicates("compute", keep="last")
        C_last = float(part["compute"].iloc[-1])
        if opt_C < C_last * (1 - 1e-9):
            # Constant-LR logs go on past the horizon: cut at opt_C, where opt_L is the published loss.
            try:
                part = frames.truncate(part, {part["run"].iloc[0]: opt_C})
            except ValueError as e:
                _fail(path, f"{where}: {e}")
            interpolated = float(part["loss"].iloc[-1])
            part.loc[part.index[-1], "loss"] = opt_L
        else:
            # Decayed logs end at their horizon: the last evaluation is the normalization point.
            interpolated = float(part["loss"].iloc[-1])
            short += opt_C > C_last * 1.01
        if not np.isclose(interpolated, opt_L, rtol=1e-2, atol=0):
            mismatched += 1
        parts.append(part)
    if short:
        notes.append(f"{short} run(s) end more than 1% before their opt_C; their last evaluation is used")
    if mismatched:
        notes.append(f"{mismatched} run(s) have opt_L more than 1% away from their loss at the normalization point")
    frame = pd.concat(parts, ignore_index=True)
    try:
        frame = frames.validate(frame)
    except ValueError as e:
        raise PublishedLogError(f"{path}: {e}") from None
    frame.attrs["notes"] = notes
    frame.attrs["source"] = str(path)
    return frame


def load_schedules(path) -> pd.DataFrame:
    """Read one explicitly named authors'-format schedule pickle (`*_schedules.pkl`) into a long frame with the
    columns of the SGD-noise model: run, D, P, seed, schedule, decay_frac, T, step, tokens, compute, lr, tau, loss,
    Buvar. Unpickling runs code from the file: pass only a file you chose and trust; folders are never scanned."""
    path = Path(path)
    logs = _read(path, SCHEDULE_ROW, SCHEDULE_HISTORY)
    size = "num_params" if "num_params" in logs.columns else "P"
    parts = []
    for i in range(len(logs)):
        row = logs.iloc[i]
        h = row["history"]
        where = f"row {i} (D={row['D']}, schedule={row['schedule']}, seed={row['seed']})"
        if not isinstance(h, pd.DataFrame):
            _fail(path, f"{where}: history is a {type(h).__name__}, not a DataFrame", SCHEDULE_ROW, SCHEDULE_HISTORY)
        missing = [c for c in SCHEDULE_HISTORY if c not in h.columns]
        if missing:
            _fail(path, f"{where}: history is missing column(s) {', '.join(missing)}", SCHEDULE_ROW,
                  SCHEDULE_HISTORY)
        part = h[list(SCHEDULE_HISTORY)].rename(columns={"test_loss": "loss"})
        part.insert(0, "run", f"{path.stem}/{i}/D={row['D']}/{row['schedule']}/f={row['decay_frac']:g}/"
                              f"T={row['T']:g}/seed={row['seed']}")
        for col in ("D", "seed", "schedule", "decay_frac", "T"):
            part[col] = row[col]
        part["P"] = row[size]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
