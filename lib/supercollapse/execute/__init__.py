"""Who trains what, where: stored runs are looked up; an executor trains the missing ones into the cache.

`ensure` is the one entry point chapters and the command line use. The executor is chosen by the
`SUPERCOLLAPSE_EXECUTOR` environment variable: `local` (the default: in this process, in order) or `dask` (a Dask
cluster, `execute.cluster`: the scheduler at Dask's `scheduler-address` setting when one is configured, else one
single-threaded worker process per core of this machine).
"""
from __future__ import annotations

import os
from typing import Protocol

from ..engine.config import RunConfig, run_key
from ..store import runs
from ..store.runs import MissingRuns, Run, RunStore

EXECUTORS = ("local", "dask")


class RunsFailed(RuntimeError):
    """Runs of a sweep that did not finish (diverged, or their workers kept dying); the others were stored."""


class Executor(Protocol):
    """Trains runs; a context manager, so that a cluster is held open across several `train` calls."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc) -> None: ...

    def train(self, configs: list[RunConfig], store: RunStore, *, progress: bool) -> list[Run]:
        """Train `configs` and save each into `store` as it finishes; RunsFailed at the end if some did not."""


def get_executor(name: str | None = None) -> Executor:
    """The executor called `name` (default: $SUPERCOLLAPSE_EXECUTOR, else `local`)."""
    # Local stays the default on a small machine: in benchmarks/sweep.py (6 runs of the cpu collapse ladder, one
    # idle 2-core machine, 2026-12-02) two single-thread Dask workers took 57.4 s against 61.2 s for one
    # two-thread process, a 6% gain from one measurement, paid for by a compile per worker and a cluster start.
    name = name or os.environ.get("SUPERCOLLAPSE_EXECUTOR", "local")
    if name == "local":
        from .local import LocalExecutor

        return LocalExecutor()
    if name == "dask":
        from .cluster import Cluster, DaskExecutor

        return DaskExecutor(Cluster.configured())
    raise ValueError(f"unknown executor {name!r} (SUPERCOLLAPSE_EXECUTOR); valid: {', '.join(EXECUTORS)}")


def check_failures(failed: list[str], trained: int) -> None:
    """RunsFailed naming each run that did not finish (`failed`: one 'key: why' each), if any."""
    if failed:
        raise RunsFailed(f"{len(failed)} of {len(failed) + trained} runs did not finish, the other {trained} are "
                         f"stored: {'; '.join(failed)}")


def missing(configs) -> list[RunConfig]:
    """The configs with no stored run (a damaged entry raises DamagedRun, naming its repair)."""
    return [c for c in configs if runs.find(c) is None]


def ensure(configs, *, allow_train: bool = True, progress: bool = True, executor: Executor | None = None) -> list[Run]:
    """The stored, verified runs of `configs`, training only the missing ones (into the cache)."""
    configs = list(configs)
    found = {run_key(c): runs.find(c) for c in configs}  # one verified read per distinct run
    todo = list({k: c for c in configs if found[k := run_key(c)] is None}.values())
    if todo and not allow_train:
        raise MissingRuns(
            f"{len(todo)} of {len(configs)} runs are not stored (first: {run_key(todo[0])}); "
            "set allow_train=True (`-p allow_train True`) to train them, or use a scale with stored runs")
    if todo:
        found.update((r.key, r) for r in (executor or get_executor()).train(todo, runs.cache(), progress=progress))
    return [found[run_key(c)] for c in configs]
