"""The ladder registry. A ladder is a pure function of its scale's sizes and, when its horizons are fitted,
of that fit: `build(scale, horizon=None, **options) -> list[RunConfig]`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from ..engine.config import RunConfig
from ..scales import check_scale


class HorizonLike(Protocol):
    """What a ladder needs of a compute-optimal fit (analysis.horizon.Horizon): T(P) and gamma."""

    gamma: float

    def horizon(self, P): ...


class SizesLike(Protocol):
    """What a horizon ladder needs of a family's sizes (mlp.MLPSizes, transformers.TransformerSizes)."""

    widths: tuple
    steps: int
    horizon_seeds: tuple

    def config(self, D: int, seed: int, steps: int, schedule: str) -> RunConfig: ...


def horizon_configs(sizes: SizesLike) -> list[RunConfig]:
    """Constant LR, every width for the family's fixed `steps` (Fig. 10)."""
    return [sizes.config(D, s, sizes.steps, "const") for D in sizes.widths for s in sizes.horizon_seeds]


def fitted_steps(P: dict, horizon: HorizonLike, tokens_per_step: int, *, min_steps: int, gamma_factor: float = 1.0,
                 max_steps: int | None = None) -> dict:
    """Each size's T(P) in whole steps (at least `min_steps`; at most `max_steps`, the smoke scale's cap).

    `P` maps a size (a width, or a depth) to its parameter count. `gamma_factor` != 1 scales the data exponent
    about the ladder's middle size P_c, T(P) (P/P_c)^(gamma (factor - 1)): the mis-scaled horizons of [Q] Fig. 4.
    """
    P_c = float(np.exp(np.mean(np.log(list(P.values())))))
    out = {}
    for size, p in P.items():
        T = float(horizon.horizon(p)) * (p / P_c) ** (horizon.gamma * (gamma_factor - 1))
        steps = max(round(T / tokens_per_step), min_steps)
        out[size] = min(steps, max_steps) if max_steps else steps
    return out


@dataclass(frozen=True)
class Ladder:
    name: str
    task: str
    schedule: str
    description: str
    build: Callable[..., list[RunConfig]]
    horizon_from: str | None = None  # the constant-LR ladder whose fit sets T(P); None: fixed horizons
    cut_at: str | None = None  # constant-LR runs reused up to where this decay ladder's runs end (SPEC §7)
    widths: Callable[[str], tuple] | None = None  # widths and seeds, known before any fit
    seeds: Callable[[str], tuple] | None = None

    def configs(self, scale: str, horizon: HorizonLike | None = None, **options) -> list[RunConfig]:
        check_scale(scale)
        if self.horizon_from and horizon is None:
            raise ValueError(f"ladder {self.name!r} trains to T(P) fitted on ladder {self.horizon_from!r}: "
                             "pass that fit as `horizon`")
        return self.build(scale, horizon, **options) if self.horizon_from else self.build(scale, **options)


_LADDERS: dict[str, Ladder] = {}


def register(ladder: Ladder) -> Ladder:
    _LADDERS[ladder.name] = ladder
    return ladder


def ladders() -> dict[str, Ladder]:
    return dict(_LADDERS)


def get(name: str) -> Ladder:
    if name not in _LADDERS:
        raise ValueError(f"unknown ladder {name!r}; valid: {', '.join(sorted(_LADDERS))}")
    return _LADDERS[name]
