"""The task registry: what each task's configs must look like and how many parameters its model has.

Pure arithmetic (no JAX, no Flax), so configs validate and analyses count parameters without the engine.
The data and model code of a task lives in the module its spec names (`fourier` or `tokens`), imported by
the training loop only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ... import flops


class TaskError(ValueError):
    """A config that does not fit its task (unknown task, or V/L outside the task's shape)."""


@dataclass(frozen=True)
class TaskSpec:
    """One task: its data module, its model family and the shape rules of V and L (SPEC §2-3)."""

    name: str
    data: str  # "fourier" (the MLP task) or "tokens" (a prepared uint8 token stream)
    model: str  # "mlp" or "transformer"
    description: str
    valid_V: Callable[[int], bool]
    V_rule: str  # what valid_V accepts, for error messages
    valid_L: Callable[[int], bool]
    L_rule: str
    data_version: int = 1  # bump when the task's data stream changes; enters the run key when > 1
    # 2: token rows of L + 1 tokens at stride L, so the loss averages the L tokens that compute counts

    def check(self, V: int, L: int) -> None:
        if not self.valid_V(V):
            raise TaskError(f"V={V} does not fit task {self.name!r}; valid: {self.V_rule}")
        if not self.valid_L(L):
            raise TaskError(f"L={L} does not fit task {self.name!r}; valid: {self.L_rule}")


_TASKS: dict[str, TaskSpec] = {}


def register(spec: TaskSpec) -> TaskSpec:
    _TASKS[spec.name] = spec
    return spec


def get(name: str) -> TaskSpec:
    """The spec of task `name`, or TaskError naming the registered tasks."""
    if name not in _TASKS:
        raise TaskError(f"unknown task {name!r}; valid: {', '.join(_TASKS)}")
    return _TASKS[name]


def names() -> tuple[str, ...]:
    return tuple(_TASKS)


def param_count(cfg) -> int:
    """P: every parameter, embeddings included (SPEC §3; the 6P compute convention of [Q])."""
    D, e, N, V, L = cfg.D, cfg.mlp_expansion, cfg.N, cfg.V, cfg.L
    if get(cfg.task).model == "mlp":
        return V * D + N * 2 * e * D * D + D  # input, N blocks of two matrices, readout
    return V * D + L * D + N * (4 + 2 * e) * D * D + D * V  # embeddings, N blocks (q, k, v, o, MLP), readout


def flops_per_token(cfg) -> int:
    """Training FLOPs per token (example, for the MLP): 6P, the convention of [Q] (`flops`)."""
    return flops.per_token(param_count(cfg))


# SPEC §2.1: inputs in R^8, one example per token.
register(TaskSpec("mlp", "fourier", "mlp", "power-law Fourier regression, residual MLP (SPEC §2.1)",
                  lambda V: V == 8, "8 (the input dimension of the Fourier task)", lambda L: L == 1, "1"))
# SPEC §2.2: 51 characters plus BOS and EOS, padded to a multiple of 32.
register(TaskSpec("chess", "tokens", "transformer", "character-level chess games, transformer (SPEC §2.2)",
                  lambda V: V == 64, "64 (the chess vocabulary padded to a multiple of 32)",
                  lambda L: L >= 2, "an integer >= 2 (128 in [Q])", data_version=2))
# SPEC §2.3: gray levels, one image per row of L = side^2 tokens.
register(TaskSpec("pixels", "tokens", "transformer", "grayscale images as pixel tokens, transformer (SPEC §2.3)",
                  lambda V: V == 256, "256 (gray levels)",
                  lambda L: L in (256, 1024), "256 (16x16 images) or 1024 (32x32)", data_version=2))
# Any prepared uint8 stream (a user's own, or the tests' toy streams): the dataset's metadata fixes V.
register(TaskSpec("tokens", "tokens", "transformer", "any prepared uint8 token stream, transformer",
                  lambda V: 2 <= V <= 256, "an integer in [2, 256] (uint8 tokens)", lambda L: L >= 2,
                  "an integer >= 2", data_version=2))
