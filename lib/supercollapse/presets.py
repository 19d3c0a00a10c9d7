"""Named ladders: which configs a chapter trains at each scale. `scale` only chooses configs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .config import RunConfig

SCALES = ("smoke", "cpu", "gpu")


@dataclass(frozen=True)
class Ladder:
    name: str
    task: str
    schedule: str
    description: str
    build: Callable[..., list[RunConfig]]

    def configs(self, scale: str, **kwargs) -> list[RunConfig]:
        check_scale(scale)
        return self.build(scale, **kwargs)


_LADDERS: dict[str, Ladder] = {}


def check_scale(scale: str) -> None:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")


def register(name: str, *, task: str, schedule: str, description: str):
    def deco(build):
        _LADDERS[name] = Ladder(name, task, schedule, description, build)
        return build
    return deco


def ladders() -> dict[str, Ladder]:
    return dict(_LADDERS)


def ladder(name: str, scale: str, **kwargs) -> list[RunConfig]:
    """The configs of ladder `name` at `scale`."""
    if name not in _LADDERS:
        raise ValueError(f"unknown ladder {name!r}; valid: {', '.join(sorted(_LADDERS))}")
    return _LADDERS[name].configs(scale, **kwargs)


@register("first", task="mlp", schedule="linear",
          description="A tiny µP MLP ladder with linear decay: the path from config to page")
def _first(scale: str) -> list[RunConfig]:
    widths, seeds, steps, B = {
        "smoke": ((16, 32), (0, 1), 12, 256),
        "cpu": ((32, 64, 128), (0, 1), 300, 1024),
        "gpu": ((128, 256, 512, 1024), (0, 1, 2), 2000, 4096),
    }[scale]
    eval_size = {"smoke": 1024, "cpu": 16384, "gpu": 100_000}[scale]
    n_evals = {"smoke": 8, "cpu": 60, "gpu": 200}[scale]
    return [RunConfig(task="mlp", D=D, B=B, T=steps * B, seed=s, base_lr=0.01, schedule="linear",
                      warmup=max(1, steps // 20), eval_size=eval_size, n_evals=n_evals)
            for D in widths for s in seeds]
