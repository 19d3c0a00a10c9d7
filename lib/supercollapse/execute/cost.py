"""What a sweep would cost: training FLOPs (6P per token, `flops.pflop`) and the time they take at the
throughput measured on stored runs (their recorded wall times: compilation, data and evaluation included)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import flops
from ..engine import tasks
from ..engine.config import RunConfig
from ..store import runs
from ..store.runs import DamagedRun


@dataclass(frozen=True)
class Measured:
    """The effective throughput of one stored run."""

    task: str
    P: int
    flop_per_s: float
    device: str


@dataclass(frozen=True)
class Cost:
    pflop: float
    seconds: float | None  # None: no stored run of this task has a recorded wall time
    source: str | None  # where the throughput came from


def train_pflop(cfg: RunConfig) -> float:
    """Training compute of a whole run, in PFLOP."""
    return float(flops.pflop(tasks.param_count(cfg), cfg.steps * cfg.B * cfg.L))


def measured() -> list[Measured]:
    """The throughput of every stored run with a recorded wall time (curated results and the local cache)."""
    out = []
    for store in runs.stores():
        for key in store.keys():
            try:
                run = store.load(key)
            except DamagedRun:  # `supercollapse runs verify` reports it; a cost estimate does without it
                continue
            if run.meta.get("wall_time_s"):
                out.append(Measured(run.config.task, tasks.param_count(run.config),
                                    train_pflop(run.config) * flops.PFLOP / run.meta["wall_time_s"],
                                    str(run.meta.get("device", "unknown"))))
    return out


def estimate(cfg: RunConfig, measured_runs: list[Measured]) -> Cost:
    """The run's FLOPs, and its time at the median throughput of the stored runs of its task nearest in size."""
    same = [m for m in measured_runs if m.task == cfg.task]
    if not same:
        return Cost(train_pflop(cfg), None, None)
    P = tasks.param_count(cfg)
    nearest = min({m.P for m in same}, key=lambda p: abs(np.log(p / P)))
    near = [m for m in same if m.P == nearest]
    rate = float(np.median([m.flop_per_s for m in near]))
    devices = ", ".join(sorted({m.device for m in near}))
    return Cost(train_pflop(cfg), train_pflop(cfg) * flops.PFLOP / rate,
                f"{rate / 1e9:.2f} GFLOP/s, median of {len(near)} stored {cfg.task} runs at P={nearest:,} ({devices})")


@dataclass(frozen=True)
class Spent:
    """What training a set of stored runs cost, from their entries: recorded wall time and training PFLOP."""

    keys: tuple[str, ...]
    seconds: float  # sum of the recorded wall times (compilation, data and evaluation included)
    untimed: int  # runs without a recorded wall time (not in `seconds`)
    pflop: float
    devices: tuple[str, ...]


def spent(stored) -> Spent:
    """The cost of the distinct runs among `stored` (`store.runs.Run`s): a page's or a book's training bill."""
    unique = {r.key: r for r in stored}.values()
    times = [r.meta.get("wall_time_s") for r in unique]
    return Spent(tuple(sorted(r.key for r in unique)), float(sum(t for t in times if t)),
                 sum(1 for t in times if not t), float(sum(train_pflop(r.config) for r in unique)),
                 tuple(sorted({str(r.meta.get("device", "unknown")) for r in unique})))
