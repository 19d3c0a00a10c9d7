"""Run configurations: one frozen dataclass per training run, identified by the hash of its canonical JSON."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from ..schedules import SCHEDULES
from . import tasks

# Bump when training semantics change (what a config produces), so old entries stop matching.
SCHEMA = 1


@dataclass(frozen=True)
class RunConfig:
    """One training run. Names follow SPEC §1: T is the horizon in examples (MLP) or tokens."""

    task: str = "mlp"
    D: int = 128  # width
    N: int = 5  # residual blocks
    V: int = 8  # MLP input size, or vocabulary size
    L: int = 1  # sequence length (1 for the MLP)
    B: int = 4096  # batch size in sequences
    T: int = 4096 * 100  # horizon in tokens; steps = T // (B * L)
    seed: int = 0  # model initialization only (SPEC §2.1: data do not depend on it)
    data_seed: int = 0  # target function and train/test streams
    base_lr: float = 0.03
    schedule: str = "linear"
    warmup: int = 10  # steps
    decay_frac: float = 1.0
    mup: bool = True
    D_base: int = 128  # µP base width (SPEC §4)
    D_ref: int = 384  # no-µP ablation: learning rates of this width at every width
    embed_mult: float = 1.0
    readout_mult: float = 1.0
    head_dim: int = 64
    mlp_expansion: int = 1
    dataset: str = ""  # token tasks: name of a prepared dataset folder
    n_evals: int = 200  # target number of evaluation points (SPEC §6)
    eval_size: int = 100_000  # test examples (MLP) or test tokens
    buvar: bool = False  # log the gradient-noise trace (SPEC §6)

    def __post_init__(self):
        def bad(name, valid):
            raise ValueError(f"RunConfig.{name}={getattr(self, name)!r} is invalid; valid: {valid}")

        if self.task not in tasks.names():
            bad("task", ", ".join(tasks.names()))
        if self.schedule not in SCHEDULES:
            bad("schedule", ", ".join(SCHEDULES))
        for name in ("D", "N", "V", "L", "B", "T", "n_evals", "eval_size", "D_base", "D_ref", "head_dim",
                     "mlp_expansion"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                bad(name, "a positive integer")
        if self.T < self.B * self.L:
            bad("T", f"at least one step of B*L = {self.B * self.L} tokens")
        if not (self.base_lr > 0):
            bad("base_lr", "a positive number")
        if not (0 < self.decay_frac <= 1):
            bad("decay_frac", "a number in (0, 1]")
        if not (0 <= self.warmup < self.steps):
            bad("warmup", f"an integer in [0, steps={self.steps})")
        spec = tasks.get(self.task)
        try:
            spec.check(self.V, self.L)
        except tasks.TaskError as e:
            raise ValueError(f"RunConfig: {e}") from None
        if spec.model == "transformer" and self.D % self.head_dim:
            bad("D", f"a multiple of head_dim={self.head_dim}")

    @property
    def steps(self) -> int:
        return self.T // (self.B * self.L)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown RunConfig fields {sorted(unknown)}; valid: "
                             f"{', '.join(f.name for f in dataclasses.fields(cls))}")
        return cls(**d)

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


def canonical_json(cfg: RunConfig) -> str:
    """The config as sorted, compact JSON with the schema number: the only input to the key.

    A task's data-stream version enters only once it is bumped past 1, so every key written before versions
    existed stays valid.
    """
    doc = {"schema": SCHEMA, "config": cfg.to_dict()}
    if (version := tasks.get(cfg.task).data_version) > 1:
        doc["data_version"] = version
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def run_key(cfg: RunConfig) -> str:
    """A run's identity: 16 hex digits of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(canonical_json(cfg).encode()).hexdigest()[:16]
