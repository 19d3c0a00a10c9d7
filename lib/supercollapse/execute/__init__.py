"""Who trains what, where: stored runs are looked up; an executor trains the missing ones into the cache.

`ensure` is the one entry point chapters and the command line use. The executor is chosen by the
`SUPERCOLLAPSE_EXECUTOR` environment variable (default `local`: in this process, in order); a distributed
executor implements the same `Executor.train`.
"""
from __future__ import annotations

import os
from typing import Protocol

from ..engine.config import RunConfig, run_key
from ..store import runs
from ..store.runs import MissingRuns, Run, RunStore


class Executor(Protocol):
    def train(self, configs: list[RunConfig], store: RunStore, *, progress: bool) -> list[Run]:
        """Train `configs` (none of them stored) and save each into `store` as it finishes."""


def get_executor(name: str | None = None) -> Executor:
    """The executor called `name` (default: $SUPERCOLLAPSE_EXECUTOR, else `local`)."""
    name = name or os.environ.get("SUPERCOLLAPSE_EXECUTOR", "local")
    if name == "local":
        from .local import LocalExecutor

        return LocalExecutor()
    raise ValueError(f"unknown executor {name!r} (SUPERCOLLAPSE_EXECUTOR); valid: local")


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
