"""The long frame: one row per evaluation of one run, the input of every analysis (docs/architecture.md).

Columns: `run`, `D`, `P`, `seed`, `step`, `tokens`, `compute` (PFLOP), `lr`, `tau`, `loss` (test loss), and when
present `train_loss`, `Buvar`, `schedule`, `T`. Each run's last row (largest compute) is its normalization point
(`C_final`, `L_final`); a constant-learning-rate run continued past its horizon is cut there by `truncate`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The analyses need these; the size is `P` (parameters) or, when a ladder only names widths, `D`.
REQUIRED = ("run", "seed", "compute", "loss")
SIZE_COLUMNS = ("P", "D")
EXPECTED = "run, P or D, seed, compute [PFLOP], loss; one row per evaluation"
# Columns that are constant within a run: copied, never interpolated, by `truncate`.
PER_RUN = ("run", "D", "N", "P", "seed", "schedule", "T", "decay_frac", "base_lr", "mup", "task", "source")


def size_column(frame: pd.DataFrame) -> str:
    """The column that names a run's size: `P` when present and finite, else `D`."""
    if "P" in frame.columns and np.isfinite(pd.to_numeric(frame["P"], errors="coerce")).all():
        return "P"
    if "D" in frame.columns:
        return "D"
    raise ValueError(f"the frame has no size column (P or D); expected columns: {EXPECTED}")


def validate(frame: pd.DataFrame, *, min_sizes: int = 1, min_seeds: int = 1) -> pd.DataFrame:
    """Check a long frame and return a copy sorted by run and compute; ValueError names what is wrong."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise ValueError(f"the frame is empty; expected columns: {EXPECTED}")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if not any(c in frame.columns for c in SIZE_COLUMNS):
        missing.append("P or D")
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}; expected columns: {EXPECTED}")
    size = size_column(frame)
    out = frame.copy()
    for col in ("compute", "loss", size):
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            runs = sorted(map(str, out.loc[bad, "run"].unique()))
            raise ValueError(
                f"{int(bad.sum())} non-finite or non-numeric value(s) in column {col!r} "
                f"(run(s): {', '.join(runs[:5])}{' ...' if len(runs) > 5 else ''}); every {col} must be a finite number"
            )
        out[col] = values
    if (out["loss"] <= 0).any():
        raise ValueError("column 'loss' has values <= 0; losses must be positive (fits are made on log loss)")
    if (out["compute"] < 0).any():
        raise ValueError("column 'compute' has negative values")
    for col in (size, "seed"):
        varying = out.groupby("run", sort=False)[col].nunique()
        if (varying > 1).any():
            raise ValueError(f"run(s) {', '.join(map(str, varying.index[varying > 1][:5]))} have several values of {col!r}")
    out = out.sort_values(["run", "compute"], kind="stable").reset_index(drop=True)
    dup = out.duplicated(["run", "compute"])
    if dup.any():
        first = out.loc[dup].iloc[0]
        raise ValueError(
            f"{int(dup.sum())} duplicated evaluation(s), e.g. run {first['run']} at compute {first['compute']:g}; "
            "one row per evaluation"
        )
    n_points = out.groupby("run", sort=False).size()
    if (n_points < 2).any():
        raise ValueError(f"run(s) {', '.join(map(str, n_points.index[n_points < 2][:5]))} have fewer than 2 evaluations")
    if (out.groupby("run", sort=False)["compute"].max() <= 0).any():
        raise ValueError("some run never reaches positive compute; its final compute must be > 0")
    sizes = np.sort(out[size].unique())
    if len(sizes) < min_sizes:
        raise ValueError(
            f"only {len(sizes)} size(s) ({size}={', '.join(f'{s:g}' for s in sizes)}); "
            f"this analysis needs at least {min_sizes} sizes"
        )
    if min_seeds > 1:
        seeds = out.groupby(size)["seed"].nunique()
        few = seeds[seeds < min_seeds]
        if len(few):
            raise ValueError(
                f"size(s) {size}={', '.join(f'{s:g}' for s in few.index)} have fewer than {min_seeds} seeds "
                f"({', '.join(map(str, few.to_numpy()))}); the noise floor needs at least {min_seeds} seeds per size"
            )
    return out


@dataclass(frozen=True, eq=False)
class Curve:
    """One run's evaluations, sorted by compute."""

    run: str
    size: float
    seed: object
    compute: np.ndarray
    loss: np.ndarray


def curves(frame: pd.DataFrame) -> list[Curve]:
    """Split a validated long frame into one `Curve` per run (in run order)."""
    size = size_column(frame)
    frame = frame.sort_values(["run", "compute"], kind="stable")
    run = frame["run"].to_numpy()
    C = frame["compute"].to_numpy(dtype=float)
    L = frame["loss"].to_numpy(dtype=float)
    S = frame[size].to_numpy(dtype=float)
    seed = frame["seed"].to_numpy()
    starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
    ends = np.r_[starts[1:], len(run)]
    return [Curve(str(run[i]), float(S[i]), seed[i], C[i:j], L[i:j]) for i, j in zip(starts, ends)]


def final_points(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its last evaluation, the normalization point (`compute` = C_final, `loss` = L_final)."""
    return frame.sort_values(["run", "compute"], kind="stable").groupby("run", sort=True).tail(1).reset_index(drop=True)


def truncate(frame: pd.DataFrame, C_final: Mapping) -> pd.DataFrame:
    """Cut each run at its normalization compute, the last row linearly interpolated in compute there."""
    C_final = dict(C_final)
    missing = [r for r in frame["run"].unique() if r not in C_final]
    if missing:
        raise ValueError(f"no normalization compute for run(s) {', '.join(map(str, missing[:5]))}")
    numeric = [c for c in frame.columns if c not in PER_RUN and pd.api.types.is_numeric_dtype(frame[c])]
    parts = []
    for run, g in frame.sort_values(["run", "compute"], kind="stable").groupby("run", sort=False):
        c = float(C_final[run])
        C = g["compute"].to_numpy(dtype=float)
        if not C[0] <= c <= C[-1] * (1 + 1e-12):
            raise ValueError(
                f"run {run}: normalization compute {c:g} PFLOP lies outside its evaluations [{C[0]:g}, {C[-1]:g}]"
            )
        keep = g[g["compute"] < c]
        if np.isclose(C, c, rtol=1e-12, atol=0).any():
            last = g.iloc[[int(np.argmin(np.abs(C - c)))]]
        else:
            # Linear interpolation between the two evaluations around c ([Q]: opt_L is the loss at opt_C).
            last = g.iloc[[int(np.searchsorted(C, c)) - 1]].copy()
            for col in numeric:
                y = g[col].to_numpy(dtype=float)
                value = np.interp(c, C, y)
                if pd.api.types.is_integer_dtype(g[col]):
                    value = round(value)  # step, tokens: the nearest whole number
                last[col] = np.asarray([value]).astype(g[col].dtype)
            last["compute"] = c
        parts.append(pd.concat([keep[keep["compute"] < float(last["compute"].iloc[0])], last]))
    return pd.concat(parts, ignore_index=True)


def seed_mean(frame: pd.DataFrame) -> pd.DataFrame:
    """Curves of one size averaged over seeds on a common compute grid: size, compute, loss, loss_std, n_seeds."""
    size = size_column(frame)
    rows = []
    for s, group in frame.groupby(size, sort=True):
        runs = curves(group)
        same = all(len(r.compute) == len(runs[0].compute) and np.array_equal(r.compute, runs[0].compute) for r in runs)
        if same:
            grid = runs[0].compute
            L = np.stack([r.loss for r in runs])
        else:
            # Seeds evaluated at different computes: the union of their points on the range they all cover.
            lo, hi = max(r.compute[0] for r in runs), min(r.compute[-1] for r in runs)
            grid = np.unique(np.concatenate([r.compute for r in runs]))
            grid = grid[(grid >= lo) & (grid <= hi)]
            L = np.stack([np.interp(grid, r.compute, r.loss) for r in runs])
        out = pd.DataFrame({size: s, "compute": grid, "loss": L.mean(0), "loss_std": L.std(0), "n_seeds": len(runs)})
        if size == "P" and "D" in group.columns:
            out.insert(0, "D", group["D"].iloc[0])
        rows.append(out)
    return pd.concat(rows, ignore_index=True)


def from_curves(items: Iterable[tuple[Mapping, Mapping[str, np.ndarray]]]) -> pd.DataFrame:
    """Long frame from (metadata, curve columns) pairs: metadata holds run, D, P, seed, ...; `test_loss` -> `loss`."""
    parts = []
    for meta, columns in items:
        part = pd.DataFrame({k: np.asarray(v) for k, v in columns.items()})
        if "test_loss" in part.columns:
            part = part.rename(columns={"test_loss": "loss"})
        for key, value in meta.items():
            part[key] = value
        parts.append(part)
    if not parts:
        raise ValueError("no runs given")
    frame = pd.concat(parts, ignore_index=True)
    first = [c for c in ("run", "D", "P", "seed") if c in frame.columns]
    return validate(frame[first + [c for c in frame.columns if c not in first]])

