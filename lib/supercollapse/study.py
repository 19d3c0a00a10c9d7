"""A named ladder's results at a scale: stored (or trained) runs, the horizon fit they depend on, their frame.

The one place that loads, fits and builds: ladder builders are pure (`experiments`), the store only stores,
executors only train. A horizon fit is computed once and cached on disk under the hash of the runs it was fitted
on and of the fitting code, so every chapter of a build shares it.
"""
from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass

import pandas as pd

from . import execute, flops, paths, sources
from .analysis import collapse, diagnose, frames
from .analysis.horizon import Horizon, fit_horizon
from .engine.config import RunConfig, run_key
from .engine.tasks import param_count
from .execute.cost import Spent, measured, spent, train_pflop  # spent: chapters call `header(..., cost=study.spent(runs))`
from .experiments import registry
from .experiments.mlp import ladder_names
from .scales import SCALES, check_scale
from .store import runs as store

_FIT_CODE = ("supercollapse.analysis.horizon",)


def from_runs(stored) -> pd.DataFrame:
    """Long frame of stored runs (`store.runs.Run`): one row per evaluation, the config's per-run columns."""
    def meta(run):
        c = run.config
        return {"run": run.key, "D": c.D, "N": c.N, "P": param_count(c), "seed": c.seed, "schedule": c.schedule, "T": c.T,
                "decay_frac": c.decay_frac, "base_lr": c.base_lr, "mup": c.mup, "task": c.task}

    return frames.from_curves((meta(run), run.curves) for run in stored)


def _horizon_to_json(h: Horizon) -> str:
    return json.dumps({"exponent": h.exponent, "scale": h.scale, "gamma": h.gamma, "gamma_se": h.gamma_se,
                       "gamma_ci": list(h.gamma_ci), "n_boot": h.n_boot,
                       "frontier": h.frontier.to_dict(orient="list")})


def _horizon_from_json(text: str) -> Horizon:
    d = json.loads(text)
    return Horizon(d["exponent"], d["scale"], d["gamma"], d["gamma_se"], tuple(d["gamma_ci"]), d["n_boot"],
                   pd.DataFrame(d["frontier"]))


_FIT_ERRORS = (OSError, ValueError, KeyError, TypeError)  # what reading a damaged fit raises


def fits_dir():
    return paths.cache_dir() / "fits"


def fit_problems() -> list[tuple]:
    """Cached horizon fits that cannot be read, and interrupted writes: (path, why)."""
    out = []
    for p in sorted(fits_dir().iterdir()) if fits_dir().is_dir() else []:
        if paths.is_stale_temp(p):
            out.append((p, "an interrupted write"))
        elif p.suffix == ".json":
            try:
                _horizon_from_json(p.read_text())
            except _FIT_ERRORS as e:
                out.append((p, f"unreadable fit ({type(e).__name__}: {e}); it is fitted again when needed"))
    return out


def horizon(ladder: str, scale: str, *, allow_train: bool = False, progress: bool = True) -> Horizon:
    """The compute-optimal horizon fitted on constant-LR ladder `ladder` at `scale` (SPEC §7), cached on disk."""
    runs = ensure(ladder, scale, allow_train=allow_train, progress=progress)
    digest = sources.digest(sources.closure(_FIT_CODE))
    keys = hashlib.sha256("\n".join(sorted(r.key for r in runs)).encode()).hexdigest()[:12]
    path = fits_dir() / f"horizon-{ladder}-{scale}-{keys}-{digest}.json"
    if path.is_file():
        try:
            return _horizon_from_json(path.read_text())
        except _FIT_ERRORS as e:  # a damaged cache entry is refitted, never trusted
            warnings.warn(f"cached horizon fit {path} is unreadable ({type(e).__name__}); fitted again",
                          stacklevel=2)
    h = fit_horizon(from_runs(runs))
    paths.atomic_write(path, lambda f: f.write(_horizon_to_json(h).encode()))
    return h


def configs(name: str, scale: str, *, allow_train: bool = False, progress: bool = True,
            **options) -> list[RunConfig]:
    """The configs of ladder `name` at `scale`, fitting the horizon it depends on first when it has one."""
    ladder = registry.get(name)
    check_scale(scale)
    if ladder.horizon_from is None:
        return ladder.configs(scale, **options)
    h = horizon(ladder.horizon_from, scale, allow_train=allow_train, progress=progress)
    return ladder.configs(scale, h, **options)


def ensure(name: str, scale: str, *, allow_train: bool = False, progress: bool = True, **options) -> list:
    """The stored runs of ladder `name` at `scale`, training the missing ones when `allow_train`."""
    cfgs = configs(name, scale, allow_train=allow_train, progress=progress, **options)
    return execute.ensure(cfgs, allow_train=allow_train, progress=progress)


def frame(name: str, scale: str, stored=None, *, allow_train: bool = False, progress: bool = True,
          **options) -> pd.DataFrame:
    """The long frame of a ladder's runs. Constant-LR ladders that reuse horizon runs are cut where their decay
    twin of the same width ends: T(P) in whole steps, exactly as the decay ladder trains it (SPEC §7), so both
    schedules reach the same compute ([Q] Fig. 3)."""
    ladder = registry.get(name)
    if stored is None:
        stored = ensure(name, scale, allow_train=allow_train, progress=progress, **options)
    out = from_runs(stored)
    if ladder.cut_at:
        ends = {c.D: c.T for c in configs(ladder.cut_at, scale, allow_train=allow_train, progress=progress)}
        out = frames.truncate(out, {r.key: flops.pflop(param_count(r.config), ends[r.config.D]) for r in stored})
    return out


@dataclass(frozen=True)
class Status:
    """How much of a ladder is stored at a scale, without training or fitting anything not yet stored."""

    name: str
    scale: str
    widths: tuple
    seeds: tuple
    runs: int
    stored: int  # sound entries
    note: str | None  # why the configs (and so the stored count) are not known yet
    damaged: int = 0  # entries that fail verification: not stored, as far as a page is concerned


def status(name: str, scale: str) -> Status:
    ladder = registry.get(name)
    widths, seeds = ladder.widths(scale) if ladder.widths else (), ladder.seeds(scale) if ladder.seeds else ()
    try:
        cfgs = configs(name, scale)
    except store.MissingRuns:
        return Status(name, scale, tuple(widths), tuple(seeds), len(widths) * len(seeds), 0,
                      f"its horizons T(P) are fitted on ladder {ladder.horizon_from!r}, whose runs are not all stored")
    n = damaged = 0
    for key in map(run_key, cfgs):  # as `store.find` looks: the first store holding the key decides
        held = next((s for s in store.stores() if s.has(key)), None)
        if held is not None and held.problem(key) is None:
            n += 1
        elif held is not None:
            damaged += 1
    return Status(name, scale, tuple(sorted({c.D for c in cfgs})), tuple(sorted({c.seed for c in cfgs})),
                  len(cfgs), n, None, damaged)


@dataclass(frozen=True, eq=False)
class Headline:
    """The book's own answer to [Q] at a scale: a family's decay ladder against its constant-LR twin (Figs. 1a–c,
    3), their offsets (Fig. 2) and the horizon they train to (Fig. 10)."""

    scale: str
    decay: pd.DataFrame  # long frames
    constant: pd.DataFrame
    schedules: collapse.ScheduleComparison
    offsets: pd.DataFrame  # `collapse.offset_sensitivity` of the decay ladder at `collapse.fig2_offsets`
    horizon: Horizon
    keys: tuple[str, ...]  # every run shown
    cost: Spent  # what training them cost


def headline(scale: str, family: str = "wide", *, allow_train: bool = False, progress: bool = True) -> Headline:
    """The headline measurements of chapters 10–13 on one ladder family, from its stored runs."""
    names = ladder_names(family)
    runs = {name: ensure(name, scale, allow_train=allow_train, progress=progress)
            for name in (names.horizon, names.collapse, names.constant)}
    decay = frame(names.collapse, scale, runs[names.collapse])
    constant = frame(names.constant, scale, runs[names.constant])
    schedules = collapse.compare_schedules(decay, constant)
    offsets = collapse.offset_sensitivity(decay, collapse.fig2_offsets(decay, schedules.decay.L0))
    cost = spent([r for stored in runs.values() for r in stored])
    return Headline(scale, decay, constant, schedules, offsets, horizon(names.horizon, scale), cost.keys, cost)


def headline_numbers(head: Headline) -> dict:
    """The numbers the landing page quotes from a `Headline`: γ ± se (Fig. 10), L0 and b (Fig. 1a), Δ/σ̄ ± se of
    both schedules on WINDOW (Figs. 1c, 3) and on LATE_WINDOW, and the offset that collapses best (Fig. 2)."""
    s, h = head.schedules, head.horizon
    return {"gamma": h.gamma, "gamma_se": h.gamma_se, "L0": s.decay.L0,
            "b": s.decay.fit.b if s.decay.fit else float("nan"), "ratio_decay": s.decay.window_mean_ratio,
            "ratio_decay_se": s.decay_se, "ratio_const": s.constant.window_mean_ratio,
            "ratio_const_se": s.constant_se, "late_decay": s.late_decay, "late_const": s.late_constant,
            "best_offset": collapse.offset_choice(head.offsets).best}


def headline_findings(head: Headline) -> dict:
    """What the landing page claims per figure of [Q] from a `Headline`: the widths and the fewest seeds of any,
    whether the fit of Fig. 1a put L0 at its bound (`collapse.L0_at_bound`, as chapter 11 says), the verdicts of
    `diagnose.verdict` on both schedules (None: Δ/σ̄ undefined), whether the fitted L0 collapses best of Fig. 2's
    offsets, and `decay_tighter_late`."""
    s, verdict = head.schedules, diagnose.verdict
    d, c = s.decay.window_mean_ratio, s.constant.window_mean_ratio
    return {"widths": sorted(head.decay["D"].unique()), "seeds": head.decay.groupby("D")["seed"].nunique().min(),
            "L0_at_bound": collapse.L0_at_bound(s.decay, head.decay),
            "decay": verdict(d) if math.isfinite(d) else None, "constant": verdict(c) if math.isfinite(c) else None,
            "fitted_L0_best": collapse.offset_choice(head.offsets).best == "L0",
            "decay_tighter_late": s.decay_tighter_late}


def book_cost() -> pd.DataFrame:
    """Per scale where runs are stored: the registered ladders' runs stored (of those defined), their training PFLOP
    and recorded wall time. A ladder whose horizons are fitted on runs not all stored yet has no configs: counted
    apart. Nothing is trained or fitted beyond what stored runs allow."""
    rows = []
    for scale in SCALES:
        found, defined, pending = {}, set(), 0
        for name in registry.ladders():
            try:
                cfgs = configs(name, scale, progress=False)
            except store.MissingRuns:
                pending += 1
                continue
            for cfg in cfgs:
                key = run_key(cfg)
                defined.add(key)
                if key not in found:
                    try:
                        run = store.find(cfg)
                    except store.DamagedRun:  # `supercollapse runs verify` reports it; a bill does without it
                        continue
                    if run is not None:
                        found[key] = run
        if found:
            c = spent(found.values())
            rows.append({"scale": scale, "runs stored": len(found), "runs defined": len(defined),
                         "ladders waiting for a horizon fit": pending, "training PFLOP": c.pflop,
                         "recorded wall time (h)": c.seconds / 3600, "runs without a recorded time": c.untimed,
                         "devices": ", ".join(c.devices)})
    return pd.DataFrame(rows)


def preset_runs(name: str, scale: str) -> pd.DataFrame:
    """The runs ladder `name` defines at `scale`, priced from their configs alone (nothing is trained): task, D, N,
    seed, steps, B, L, P and training PFLOP (6·P per token). MissingRuns when its horizons are fitted on runs that
    are not all stored yet (`supercollapse sweep --dry-run` says the same)."""
    return pd.DataFrame([{"key": run_key(c), "task": c.task, "D": c.D, "N": c.N, "seed": c.seed, "steps": c.steps,
                          "B": c.B, "L": c.L, "P": param_count(c), "PFLOP": train_pflop(c)}
                         for c in configs(name, scale, progress=False)])


def preset_costs(scale: str, flop_per_s: float) -> pd.DataFrame:
    """Per registered ladder at `scale`: its widths, seeds and runs, their training PFLOP and the hours they take
    at `flop_per_s` (an assumed sustained throughput of one device); NaN where the horizons are not fitted yet.
    The last row, "all distinct runs", counts each run once (ladders share runs: `constant` cuts `horizon`'s)."""
    rows, distinct = [], {}
    for name, ladder in registry.ladders().items():
        widths, seeds = ladder.widths(scale) if ladder.widths else (), ladder.seeds(scale) if ladder.seeds else ()
        try:
            runs = preset_runs(name, scale)
        except store.MissingRuns:
            runs = None
        if runs is not None:
            widths, seeds = sorted(runs["D"].unique()), sorted(runs["seed"].unique())
            distinct.update(zip(runs["key"], runs["PFLOP"]))
        priced = ("from its configs" if runs is not None else
                  f"after ladder {ladder.horizon_from!r} is trained and fitted")
        if ladder.cut_at and runs is not None:
            priced = "its runs are those of a horizon ladder, cut: no training of its own"
        rows.append({"ladder": name, "task": ladder.task, "schedule": ladder.schedule,
                     "widths": ", ".join(map(str, widths)), "seeds": len(seeds),
                     "runs": len(runs) if runs is not None else len(widths) * len(seeds),
                     "PFLOP": float(runs["PFLOP"].sum()) if runs is not None else float("nan"), "priced": priced})
    rows.append({"ladder": "all distinct runs priced", "task": "", "schedule": "", "widths": "", "seeds": "",
                 "runs": len(distinct), "PFLOP": float(sum(distinct.values())), "priced": "each run once"})
    out = pd.DataFrame(rows)
    return out.assign(hours=out["PFLOP"] * 1e15 / flop_per_s / 3600)[[*out.columns[:-1], "hours", "priced"]]


def throughputs() -> pd.DataFrame:
    """The training throughput stored runs reached (`execute.cost.measured`): per task and device, the runs and
    their median GFLOP/s, compilation, data and evaluation included."""
    m = pd.DataFrame([vars(r) for r in measured()], columns=["task", "P", "flop_per_s", "device"])
    g = m.groupby(["task", "device"])["flop_per_s"]
    return pd.DataFrame({"runs": g.size(), "median GFLOP/s": g.median() / 1e9}).reset_index()
