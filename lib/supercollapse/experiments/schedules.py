"""The schedule ladders of [Q] Figs. 1d-f, 4 (top), 6/12, 7/14, 8 and 13 on the wide MLP family: pure configs.

Every width is trained to the same T(P) as `wide_collapse` (fitted on `wide_horizon`, `mlp.WIDE`'s sizes), with
Buvar logged for the SGD-noise model (SPEC §9). The single-width and three-width sets of Figs. 6/12 share their
configs (hence their stored runs) with the full `schedules` ladder; only the halved and doubled horizons are new.
"""
from __future__ import annotations

from ..engine.config import RunConfig
from ..schedules import SCHEDULES
from .mlp import WIDE, MLPSizes
from .registry import HorizonLike, Ladder, register

# (schedule, decay_frac): constant LR once, every decaying shape over the whole run and over its last 20% (WSD-like).
VARIANTS = (("const", 1.0),) + tuple((s, f) for s in SCHEDULES if s != "const" for f in (1.0, 0.2))
FIG6_VARIANTS = (("const", 1.0), ("linear", 1.0), ("linear", 0.2), ("multicosine", 0.2))  # [Q] Figs. 6b-c, 12b-c
HORIZON_FACTORS = (0.5, 1.0, 2.0)  # [Q] Fig. 6c: T(P) × {0.5, 1, 2} at one width
SEEDS = {"smoke": (0, 1), "cpu": (0, 1, 2), "gpu": (0, 1, 2)}  # σ(x, p) needs at least two; [Q] uses three or more
# The halved and doubled horizons only enter the noise model (α and each run's errors), which needs no seed spread:
# two seeds at cpu, where a doubled horizon costs most (decided before any of them was trained).
HORIZON_SEEDS = {"smoke": (0, 1), "cpu": (0, 1), "gpu": (0, 1, 2)}
MIXED = "mixed"  # the `Ladder.schedule` of a ladder that trains several schedules


def middle_width(sizes: MLPSizes) -> int:
    """The single width of Figs. 6a/6c, and the no-µP reference width D_ref of Fig. 4 (top)."""
    return sizes.collapse_widths[len(sizes.collapse_widths) // 2]


def three_widths(sizes: MLPSizes) -> tuple[int, int, int]:
    """The widths of Figs. 6b/12b: the narrowest, the middle and the widest collapse widths."""
    return sizes.collapse_widths[0], middle_width(sizes), sizes.collapse_widths[-1]


def schedule_configs(sizes: MLPSizes, horizon: HorizonLike, seeds, widths=None, variants=VARIANTS,
                     factors=(1.0,)) -> list[RunConfig]:
    """Each width × variant × horizon factor × seed, trained to factor·T(P) in whole steps, Buvar logged."""
    steps = sizes.horizon_steps(horizon)
    return [sizes.config(D, seed, max(round(k * steps[D]), 1), schedule).replace(decay_frac=f, buvar=True)
            for D in widths or sizes.collapse_widths for k in factors for schedule, f in variants for seed in seeds]


def nomup_configs(sizes: MLPSizes, horizon: HorizonLike) -> list[RunConfig]:
    """`wide_collapse` with every learning rate frozen at its µP value of the middle width (SPEC §4, Fig. 4 top).

    At the middle width itself those are µP's learning rates, so its runs are `wide_collapse`'s own.
    """
    steps, D_ref = sizes.horizon_steps(horizon), middle_width(sizes)
    return [sizes.config(D, seed, steps[D], "linear").replace(**({} if D == D_ref else dict(mup=False, D_ref=D_ref)))
            for D in sizes.collapse_widths for seed in sizes.seeds]


def _register(name, description, build, widths, seeds=lambda scale: SEEDS[scale], schedule=MIXED):
    register(Ladder(name, "mlp", schedule, description, build, horizon_from="wide_horizon", widths=widths,
                    seeds=seeds))


_register("schedules", "wide ladder: every schedule (decay over the whole run and over its last 20%), Buvar logged, "
          "each width to the T(P) of wide_collapse (Figs. 1d-f, 7, 8, 13)",
          lambda scale, h: schedule_configs(WIDE[scale], h, SEEDS[scale]),
          lambda scale: WIDE[scale].collapse_widths)
_register("schedules_width", "wide ladder, middle width: every schedule, Buvar logged (Figs. 6a, 12a)",
          lambda scale, h: schedule_configs(WIDE[scale], h, SEEDS[scale], (middle_width(WIDE[scale]),)),
          lambda scale: (middle_width(WIDE[scale]),))
_register("schedules_widths", "wide ladder, three widths: const, linear, linear-20%, multicosine-20%, Buvar logged "
          "(Figs. 6b, 12b)",
          lambda scale, h: schedule_configs(WIDE[scale], h, SEEDS[scale], three_widths(WIDE[scale]), FIG6_VARIANTS),
          lambda scale: three_widths(WIDE[scale]))
_register("schedules_horizons", "wide ladder, middle width: const, linear, linear-20%, multicosine-20% to "
          "T(P) × 0.5, 1, 2, Buvar logged (Figs. 6c, 12c)",
          lambda scale, h: schedule_configs(WIDE[scale], h, HORIZON_SEEDS[scale], (middle_width(WIDE[scale]),),
                                            FIG6_VARIANTS, HORIZON_FACTORS),
          lambda scale: (middle_width(WIDE[scale]),), seeds=lambda scale: HORIZON_SEEDS[scale])
_register("nomup", "wide ladder without µP: wide_collapse with every learning rate of the middle width (Fig. 4 top)",
          lambda scale, h: nomup_configs(WIDE[scale], h), lambda scale: WIDE[scale].collapse_widths,
          seeds=lambda scale: WIDE[scale].seeds, schedule="linear")
