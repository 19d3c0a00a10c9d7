"""The MLP ladders of the headline chapters (SPEC §7-8), as pure functions of their sizes and fitted horizon.

Horizon ladders train every width at constant LR for the same `steps`: a horizon T*(P) that grows with P
(gamma > 0) is then passed by every width once the widest passes its own, so the frontier is complete; their
widths bracket the ones the frontier fit keeps. Collapse ladders train the widths whose fitted T(P) lies inside
those runs, each to its own T(P) in whole steps.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.config import RunConfig
from ..engine.tasks import param_count
from .registry import HorizonLike, Ladder, fitted_steps, horizon_configs, register

MLP_BASE_LR = 0.001  # µP base lr at D_base = 128, from a constant-LR sweep at B = 1024, 1600 steps (0.0003-0.01):
# D = 32 did best at 0.0006-0.001, D = 128 at 0.001 (of 0.001, 0.003, 0.01).


@dataclass(frozen=True)
class MLPSizes:
    """What a scale chooses for one family of MLP ladders."""

    widths: tuple[int, ...]  # the constant-LR horizon ladder
    collapse_widths: tuple[int, ...]  # the decay ladder and its constant-LR twin
    seeds: tuple[int, ...]  # of the collapse ladder (and its twin)
    horizon_seeds: tuple[int, ...]
    steps: int  # of every horizon run
    B: int
    warmup: int
    eval_size: int
    n_evals: int
    max_steps: int | None = None  # smoke only exercises code paths: its fitted horizons are meaningless

    def config(self, D: int, seed: int, steps: int, schedule: str) -> RunConfig:
        return RunConfig(task="mlp", D=D, B=self.B, T=steps * self.B, seed=seed, base_lr=MLP_BASE_LR,
                         schedule=schedule, warmup=self.warmup, eval_size=self.eval_size, n_evals=self.n_evals)

    def P(self, D: int) -> int:
        return param_count(self.config(D, 0, self.steps, "const"))

    def horizon_steps(self, horizon: HorizonLike, gamma_factor: float = 1.0) -> dict[int, int]:
        """Each collapse width's T(P) in whole steps (at least twice the warmup; `registry.fitted_steps`)."""
        return fitted_steps({D: self.P(D) for D in self.collapse_widths}, horizon, self.B, min_steps=2 * self.warmup,
                            gamma_factor=gamma_factor, max_steps=self.max_steps)


# The small-width ladders (D = 16-64): the first round's headline, now the counter-example of the chapter
# "When supercollapse fails" (a decay gain that grows with width).
NARROW = {
    "smoke": MLPSizes(widths=(8, 12, 16, 24), collapse_widths=(8, 12, 16, 24), seeds=(0, 1), horizon_seeds=(0, 1),
                      steps=48, B=256, warmup=2, eval_size=2048, n_evals=24, max_steps=48),
    "cpu": MLPSizes(widths=(16, 24, 32, 48, 64, 96), collapse_widths=(16, 24, 32, 48, 64), seeds=(0, 1, 2, 3, 4),
                    horizon_seeds=(0, 1, 2), steps=6000, B=1024, warmup=50, eval_size=16384, n_evals=120),
    "gpu": MLPSizes(widths=(128, 192, 256, 384, 512, 768, 1024), collapse_widths=(192, 256, 384, 512, 768, 1024),
                    seeds=(0, 1, 2, 3, 4), horizon_seeds=(0, 1, 2), steps=40000, B=4096, warmup=500,
                    eval_size=100_000, n_evals=400),
}

# The wide ladders (issue 9): widths where the decay gain 1 − L_decay/L_const at equal τ was measured flat on the
# narrow ladder (21–23% from D = 48 to 96, against 10.5% at D = 16), no warmup as in [Q]'s MLP, 5 seeds for the
# decay ladder and for its constant-LR twin, the horizon refitted on a constant-LR ladder bracketing them.
WIDE = {
    "smoke": MLPSizes(widths=(8, 12, 16, 24), collapse_widths=(12, 16, 24), seeds=(0, 1), horizon_seeds=(0, 1),
                      steps=48, B=256, warmup=0, eval_size=2048, n_evals=24, max_steps=48),
    "cpu": MLPSizes(widths=(32, 48, 64, 96, 128), collapse_widths=(48, 64, 80, 96), seeds=(0, 1, 2, 3, 4),
                    horizon_seeds=(0, 1, 2), steps=14000, B=1024, warmup=0, eval_size=16384, n_evals=120),
    "gpu": MLPSizes(widths=(128, 192, 256, 384, 512, 768, 1024), collapse_widths=(192, 256, 384, 512, 768),
                    seeds=(0, 1, 2, 3, 4), horizon_seeds=(0, 1, 2), steps=40000, B=4096, warmup=0,
                    eval_size=100_000, n_evals=400),
}


def collapse_configs(sizes: MLPSizes, horizon: HorizonLike, gamma_factor: float = 1.0,
                     schedule: str = "linear") -> list[RunConfig]:
    """Each collapse width trained to its T(P) with `schedule` (Figs. 1a-c, 2; const: the twin of Fig. 3)."""
    steps = sizes.horizon_steps(horizon, gamma_factor)
    return [sizes.config(D, s, steps[D], schedule) for D in sizes.collapse_widths for s in sizes.seeds]


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


register(Ladder("first", "mlp", "linear", "A tiny µP MLP ladder with linear decay: the path from config to page",
                _first))

for family, sizes, what in (("", NARROW, "narrow µP MLP ladder (D = 16–64 at cpu)"),
                            ("wide_", WIDE, "wide µP MLP ladder, no warmup (D = 48–96 at cpu)")):
    register(Ladder(f"{family}horizon", "mlp", "const",
                    f"{what}: constant LR, every width trained past its compute-optimal horizon (Fig. 10)",
                    lambda scale, sizes=sizes: horizon_configs(sizes[scale]),
                    widths=lambda scale, sizes=sizes: sizes[scale].widths,
                    seeds=lambda scale, sizes=sizes: sizes[scale].horizon_seeds))
    register(Ladder(f"{family}collapse", "mlp", "linear",
                    f"{what}: linear decay to zero, each width trained to its T(P) (Figs. 1a-c, 2)",
                    lambda scale, h, gamma_factor=1.0, sizes=sizes: collapse_configs(sizes[scale], h, gamma_factor),
                    horizon_from=f"{family}horizon", widths=lambda scale, sizes=sizes: sizes[scale].collapse_widths,
                    seeds=lambda scale, sizes=sizes: sizes[scale].seeds))

# The narrow family's constant-LR twin reuses its horizon runs, cut where the decay twin ends (no new training);
# the wide family trains its twin afresh to T(P), with the decay ladder's five seeds.
register(Ladder("constant", "mlp", "const",
                "narrow ladder: the horizon runs of the collapse widths, cut at T(P): constant LR to the same "
                "horizons (Fig. 3)",
                lambda scale: [c for c in horizon_configs(NARROW[scale]) if c.D in NARROW[scale].collapse_widths],
                cut_at="collapse", widths=lambda scale: NARROW[scale].collapse_widths,
                seeds=lambda scale: NARROW[scale].horizon_seeds))
register(Ladder("wide_constant", "mlp", "const",
                "wide ladder: constant LR, each width trained to the same T(P) as wide_collapse (Fig. 3)",
                lambda scale, h: collapse_configs(WIDE[scale], h, schedule="const"), horizon_from="wide_horizon",
                widths=lambda scale: WIDE[scale].collapse_widths, seeds=lambda scale: WIDE[scale].seeds))


@dataclass(frozen=True)
class FamilyNames:
    """The ladder names of one MLP family: its horizon, decay (collapse) and constant-LR twin ladders, and the
    constant-LR ladder whose uncut runs reach the decay runs' cumulative learning rate (for equal-τ comparisons)."""

    horizon: str
    collapse: str
    constant: str
    equal_tau: str


FAMILIES = {"narrow": FamilyNames("horizon", "collapse", "constant", "horizon"),
            "wide": FamilyNames("wide_horizon", "wide_collapse", "wide_constant", "wide_constant")}


def ladder_names(family: str) -> FamilyNames:
    if family not in FAMILIES:
        raise ValueError(f"unknown ladder family {family!r}; valid: {', '.join(FAMILIES)}")
    return FAMILIES[family]
