"""Named ladders: which configs a chapter trains at each scale. `scale` only chooses configs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import RunConfig

SCALES = ("smoke", "cpu", "gpu")
MLP_BASE_LR = 0.001  # µP base lr at D_base = 128, from a constant-LR sweep at B = 1024, 1600 steps (0.0003-0.01):
# D = 32 did best at 0.0006-0.001, D = 128 at 0.001 (of 0.001, 0.003, 0.01).


@dataclass(frozen=True)
class Ladder:
    name: str
    task: str
    schedule: str
    description: str
    build: Callable[..., list[RunConfig]]
    cut_at_horizon: bool = False  # constant-LR runs reused up to their compute-optimal horizon (SPEC §7)

    def configs(self, scale: str, **kwargs) -> list[RunConfig]:
        check_scale(scale)
        return self.build(scale, **kwargs)


_LADDERS: dict[str, Ladder] = {}


def check_scale(scale: str) -> None:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")


def register(name: str, *, task: str, schedule: str, description: str, cut_at_horizon: bool = False):
    def deco(build):
        _LADDERS[name] = Ladder(name, task, schedule, description, build, cut_at_horizon)
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
    return [RunConfig(task="mlp", D=D, B=B, T=steps * B, seed=s, base_lr=MLP_BASE_LR, schedule="linear",
                      warmup=max(1, steps // 20), eval_size=eval_size, n_evals=n_evals)
            for D in widths for s in seeds]


# The MLP ladders of the headline chapters (SPEC §7-8). The constant-LR ladder trains every width for the same
# `steps`: a horizon T*(P) that grows with P (gamma > 0) is then passed by every width once the widest passes
# its own, so the frontier is complete; the widths bracket the ones the frontier fit keeps. The collapse ladder
# uses widths whose fitted T(P) lies inside those runs, so the same runs cut at T(P) are its constant-LR twin.
_MLP = {
    # smoke only exercises code paths: its fitted horizons are meaningless, so its steps are capped.
    "smoke": dict(widths=(8, 12, 16, 24), collapse_widths=(8, 12, 16, 24), seeds=(0, 1), horizon_seeds=(0, 1),
                  steps=48, B=256, warmup=2, eval_size=2048, n_evals=24, max_steps=48),
    "cpu": dict(widths=(16, 24, 32, 48, 64, 96), collapse_widths=(16, 24, 32, 48, 64), seeds=(0, 1, 2, 3, 4),
                horizon_seeds=(0, 1, 2), steps=6000, B=1024, warmup=50, eval_size=16384, n_evals=120),
    "gpu": dict(widths=(128, 192, 256, 384, 512, 768, 1024), collapse_widths=(192, 256, 384, 512, 768, 1024),
                seeds=(0, 1, 2, 3, 4), horizon_seeds=(0, 1, 2), steps=40000, B=4096, warmup=500,
                eval_size=100_000, n_evals=400),
}


def _mlp(scale: str, D: int, seed: int, steps: int, schedule: str) -> RunConfig:
    p = _MLP[scale]
    return RunConfig(task="mlp", D=D, B=p["B"], T=steps * p["B"], seed=seed, base_lr=MLP_BASE_LR,
                     schedule=schedule, warmup=p["warmup"], eval_size=p["eval_size"], n_evals=p["n_evals"])


def _P(scale: str, D: int) -> int:
    from .models import param_count

    p = _MLP[scale]
    return param_count(_mlp(scale, D, 0, p["steps"], "const"))


@register("horizon", task="mlp", schedule="const",
          description="constant-LR µP MLP ladder, every width trained past its compute-optimal horizon (Fig. 10)")
def _horizon(scale: str) -> list[RunConfig]:
    p = _MLP[scale]
    return [_mlp(scale, D, s, p["steps"], "const") for D in p["widths"] for s in p["horizon_seeds"]]


@register("constant", task="mlp", schedule="const", cut_at_horizon=True,
          description="the horizon ladder's runs of the collapse widths, cut at T(P): constant LR to the same "
                      "horizons (Fig. 3)")
def _constant(scale: str) -> list[RunConfig]:
    """The same runs as the horizon ladder (no new training), for the widths of the collapse ladder."""
    return [c for c in _horizon(scale) if c.D in _MLP[scale]["collapse_widths"]]


def horizon_fit(scale: str, *, allow_train: bool = False, progress: bool = True):
    """The compute-optimal horizon fitted on the stored constant-LR ladder of `scale` (SPEC §7)."""
    from . import runs, scaling

    stored = runs.load_or_train(ladder("horizon", scale), allow_train=allow_train, progress=progress)
    return scaling.fit_horizon(runs.to_frame(stored))


@register("collapse", task="mlp", schedule="linear",
          description="µP MLP ladder with linear decay to zero, each width trained to its T(P) (Fig. 1a-c, 2)")
def _collapse(scale: str, horizon=None, gamma_factor: float = 1.0) -> list[RunConfig]:
    """Each width trained to T(P) of the constant-LR fit, in whole steps.

    `gamma_factor` != 1 scales the data exponent about the ladder's middle size P_c,
    T(P) (P/P_c)^(gamma (factor - 1)): the mis-scaled horizons of [Q] Fig. 4.
    """
    p = _MLP[scale]
    horizon = horizon or horizon_fit(scale)
    P = {D: _P(scale, D) for D in p["collapse_widths"]}
    P_c = float(np.exp(np.mean(np.log(list(P.values())))))
    out = []
    for D in p["collapse_widths"]:
        T = float(horizon.horizon(P[D])) * (P[D] / P_c) ** (horizon.gamma * (gamma_factor - 1))
        steps = round(T / p["B"])
        # At least twice the warmup; smoke caps the meaningless horizons its tiny fit gives.
        steps = min(max(steps, 2 * p["warmup"]), p.get("max_steps", steps))
        out += [_mlp(scale, D, s, steps, "linear") for s in p["seeds"]]
    return out


def ladder_frame(name: str, stored, horizon=None):
    """The long frame of a ladder's stored runs.

    Constant-LR ladders are cut where their decay twin of the same width ends: T(P) in whole steps, exactly as
    the collapse ladder trains it (SPEC §7), so both schedules reach the same compute ([Q] Fig. 3).
    """
    from . import frames, runs
    from .models import param_count

    frame = runs.to_frame(stored)
    if _LADDERS[name].cut_at_horizon:
        scale = _scale_of(stored)
        ends = {c.D: c.T for c in _collapse(scale, horizon or horizon_fit(scale))}
        frame = frames.truncate(frame, {r.key: 6 * param_count(r.config) * ends[r.config.D] / 1e15 for r in stored})
    return frame


def _scale_of(stored) -> str:
    for scale in SCALES:
        if {r.config for r in stored} <= set(_horizon(scale)):
            return scale
    raise ValueError("these runs are not the horizon ladder of any scale")
