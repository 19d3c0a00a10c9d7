"""The `supercollapse` command: run and list chapters, build the book, inspect the run store, diagnose ladders,
fit and apply the SGD-noise model of learning-rate schedules."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys

from . import paths
from .build import notebooks
from .scales import SCALES
from .engine.config import run_key
from .execute import RunsFailed
from .schedules import SCHEDULES
from .store.runs import DamagedRun, MissingRuns


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, where to look) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _params(pairs, scale):
    params = dict(pairs or [])
    if scale is not None:
        if "scale" in params and params["scale"] != scale:
            raise notebooks.ParameterError(f"-p scale {params['scale']} and --scale {scale} disagree; give one of them")
        params["scale"] = scale
    return params


def cmd_list(args):
    rows = []
    for ch in notebooks.chapters():
        rows.append({"chapter": ch.name, "path": str(ch.path.relative_to(paths.ROOT)), "parameters": [
            {"name": p.name, "type": p.type.__name__, "default": p.default, "choices": list(p.choices),
             "help": p.help} for p in ch.parameters.values()]})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for r in rows:
        print(f"{r['chapter']}  ({r['path']})")
        for p in r["parameters"]:
            print(f"    {p['name']:<16} {p['type']:<6} default {p['default']!r:<10} {p['help']}")
    return 0


def _output_path(text, option="--output", suffixes=None, example="chapter.ipynb"):
    """A file the command will write, resolved against the working directory and checked before anything runs."""
    from pathlib import Path

    if text is None:
        return None
    path = Path(text).expanduser().resolve()
    if suffixes and path.suffix.lower() not in suffixes:
        raise ValueError(f"{option} {path}: unknown file type {path.suffix or '(none)'!r}; valid: {', '.join(suffixes)}")
    if path.is_dir():
        raise ValueError(f"{option} {path} is a directory; valid: a file path such as {path / example}")
    if not path.parent.is_dir():
        raise ValueError(f"{option} {path}: the folder {path.parent} does not exist; create it first")
    return path


def cmd_run(args):
    ch = notebooks.get_chapter(args.chapter)
    params = ch.validate(_params(args.param, args.scale))
    output = _output_path(args.output)
    out, ran = notebooks.execute(ch, params, force=args.force, progress=not args.quiet)
    if output:
        import shutil

        shutil.copyfile(out, output)
        out = output
    print(f"{'executed' if ran else 'cached'}: {ch.name} {params} -> {out}")
    extra = [f"-p {ch.name}:{k} {v}" for k, v in (args.param or []) if k != "scale"]
    if extra:  # a run is a notebook; the site renders what `build` is given
        scale = f" --scale {params['scale']}" if "scale" in params else ""
        print(f"to put it in the site: supercollapse build{scale} {' '.join(extra)}", file=sys.stderr)
    return 0


def cmd_build(args):
    from .build.site import build

    index = build(scale=args.scale, params=args.param or [], force=args.force, progress=not args.quiet)
    print(index)
    return 0


def cmd_runs(args):
    from .store import runs

    if args.action == "list":
        for store in runs.stores():
            keys = store.keys()
            print(f"{store.root}: {len(keys)} runs")
            for key in keys:
                try:
                    c = store.load(key).config
                except DamagedRun:
                    print(f"  {key}  damaged entry; see `supercollapse runs verify`")
                    continue
                print(f"  {key}  {c.task} D={c.D} seed={c.seed} T={c.T} {c.schedule} lr={c.base_lr}")
        return 0
    if args.action == "show":
        if not args.key:
            raise notebooks.ParameterError("`runs show` needs a KEY (see `supercollapse runs list`)")
        for store in runs.stores():
            if store.has(args.key):
                run = store.load(args.key)  # a damaged entry raises DamagedRun: one line, exit 1
                print(json.dumps({"key": run.key, "store": str(store.root), "config": run.config.to_dict(),
                                  "meta": run.meta, "columns": {k: len(v) for k, v in run.curves.items()}},
                                 indent=1))
                return 0
        raise notebooks.ParameterError(f"no stored run with key {args.key!r}; see `supercollapse runs list`")
    if args.action == "verify":
        bad = 0
        for store in runs.stores():
            problems = store.verify()
            print(f"{store.root}: {len(store.keys())} entries, {len(problems)} problems")
            for p in problems:
                print(f"  {p}")
            bad += len(problems)
        for folder, problems in _cache_problems():
            print(f"{folder}: {len(problems)} problems")
            for path, why in problems:
                print(f"  {path.relative_to(folder)}: {why}")
            bad += len(problems)
        return 1 if bad else 0
    if args.action == "repair":
        import shutil

        for store in runs.stores():
            removed = store.repair()
            print(f"{store.root}: removed {len(removed)} damaged or interrupted entries")
            for name in removed:
                print(f"  {name}")
        for folder, problems in _cache_problems():
            print(f"{folder}: removed {len(problems)} damaged or interrupted files")
            for path, _ in problems:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
                print(f"  {path.relative_to(folder)}")
        return 0
    if args.action == "curate":
        keys = args.key.split(",") if args.key else runs.cache().keys()
        print(f"copied {len(runs.curate(keys, allow_dirty=args.allow_dirty))} runs into {runs.curated().root}")
        return 0
    raise AssertionError(args.action)


def _cache_problems():
    """(folder, [(path, why)]) for the cache's derived files: checkpoints, data pools, token datasets, executed
    notebooks, fits."""
    from . import study
    from .engine import checkpoint
    from .engine.tasks import chess, fourier

    cache = paths.cache_dir()
    return [(cache / "checkpoints", checkpoint.problems(cache / "checkpoints")),
            (cache / "pools", fourier.pool_problems(cache / "pools")),
            (cache / "datasets", chess.dataset_problems(cache / "datasets")),
            (notebooks.executed_dir(), notebooks.executed_problems()),
            (study.fits_dir(), study.fit_problems())]


def cmd_ladders(args):
    from . import study
    from .experiments import registry

    rows = []
    for name, lad in registry.ladders().items():
        for scale in SCALES:
            st = study.status(name, scale)
            rows.append({"name": name, "task": lad.task, "schedule": lad.schedule, "scale": scale,
                         "widths": list(st.widths), "seeds": list(st.seeds), "runs": st.runs, "stored": st.stored,
                         "damaged": st.damaged, "description": lad.description, "note": st.note})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            note = f"  ({r['note']})" if r["note"] else ""
            if r["damaged"]:
                note += f"  ({r['damaged']} damaged: see `supercollapse runs verify`)"
            print(f"{r['name']:<14} {r['scale']:<6} {r['task']:<5} {r['schedule']:<7} widths={r['widths']} "
                  f"seeds={len(r['seeds'])} stored {r['stored']}/{r['runs']}{note}")
    return 0


def _stored(name: str, scale: str):
    """The stored runs of a ladder; MissingRuns naming the command that trains them (or its horizon ladder's)."""
    from . import execute, study
    from .experiments import registry

    lad = registry.get(name)
    need = lad.horizon_from if lad.horizon_from and study.status(name, scale).note else name
    todo = execute.missing(study.configs(need, scale))
    if todo:
        why = f"ladder {name!r} trains to T(P) fitted on ladder {need!r}: " if need != name else ""
        raise MissingRuns(f"{why}{len(todo)} runs of ladder {need!r} at scale {scale} are not stored; "
                          f"`supercollapse train {need} --scale {scale}` trains them into the local cache")
    return study.ensure(name, scale)


def _chain(name: str) -> list[str]:
    """The ladder and, first, the ladder whose runs fit its horizons (trained before its configs are known)."""
    from .experiments import registry

    lad = registry.get(name)
    return ([lad.horizon_from] if lad.horizon_from else []) + [name]


def _duration(seconds: float) -> str:
    return f"{seconds:.2g} s" if seconds < 60 else f"{seconds / 60:.3g} min" if seconds < 3600 else \
        f"{seconds / 3600:.3g} h"


def _dry_run(names, scale) -> int:
    """List what a sweep would train, with its FLOPs and the time at the throughput of stored runs."""
    from . import execute, study
    from .execute import cost
    from .experiments import registry

    measured = cost.measured()
    for name in names:
        try:
            todo = execute.missing(study.configs(name, scale))
        except MissingRuns:  # its horizons are fitted on runs the sweep trains first
            st = study.status(name, scale)
            print(f"ladder {name} at scale {scale}: {st.runs} runs (widths {list(st.widths)}, {len(st.seeds)} seeds) "
                  f"to T(P) fitted on ladder {registry.get(name).horizon_from!r}: their cost is known once it is trained")
            continue
        costs = [cost.estimate(c, measured) for c in todo]
        print(f"ladder {name} at scale {scale}: {len(todo)} runs to train")
        for cfg, c in zip(todo, costs):
            t = _duration(c.seconds) if c.seconds is not None else "?"
            print(f"  {run_key(cfg)}  {cfg.task} D={cfg.D} seed={cfg.seed} steps={cfg.steps} {cfg.schedule}  "
                  f"{c.pflop:.3g} PFLOP  {t:>7}  ({c.source or 'no stored run of this task has a wall time'})")
        if todo:
            known = [c.seconds for c in costs if c.seconds is not None]
            print(f"  total {sum(c.pflop for c in costs):.3g} PFLOP, {_duration(sum(known))} one after another"
                  + (f" ({len(todo) - len(known)} runs without an estimate)" if len(known) < len(todo) else "")
                  + "; throughput: wall times recorded in the run store, compilation and evaluation included")
    return 0


def cmd_sweep(args):
    import contextlib

    from . import execute, study

    names = _chain(args.ladder)  # an unknown ladder: one line, before anything starts
    if args.dry_run:
        return _dry_run(names, args.scale)
    if (args.workers, args.scheduler, args.slurm) == (None, None, None):
        executor = execute.get_executor()
    else:
        from .execute.cluster import Cluster, DaskExecutor

        executor = DaskExecutor(Cluster(args.workers, args.scheduler, tuple(args.slurm) if args.slurm is not None
                                        else None))
    with executor:  # a cluster is started or reached here, before anything is trained
        for name in names:
            cfgs = study.configs(name, args.scale)  # the horizon ladder, trained just before, is stored
            todo = execute.missing(cfgs)
            print(f"ladder {name} at scale {args.scale}: {len(cfgs) - len(todo)} of {len(cfgs)} runs stored, "
                  f"training {len(todo)}", file=sys.stderr)
            execute.ensure(cfgs, allow_train=True, progress=not args.quiet, executor=executor)
    return 0


def cmd_diagnose(args):
    if bool(args.file) == bool(args.ladder):
        raise notebooks.ParameterError("give either FILE or --ladder NAME (see `supercollapse ladders`)")
    plot = _output_path(args.plot, "--plot", (".html", ".png", ".svg"), "diagnosis.html")
    if args.ladder:
        from . import study

        frame = study.frame(args.ladder, args.scale, _stored(args.ladder, args.scale))
    else:
        from .analysis.diagnose import read_ladder  # pandas and scipy: after the checks that need neither

        frame = read_ladder(args.file)
    from .analysis.diagnose import diagnose, read_ladder

    reference = read_ladder(args.reference) if args.reference else None
    report = diagnose(frame, L0=args.L0, window=args.window, reference=reference,
                      allow_flat_compute=args.allow_flat_compute)
    if plot:
        from .pages import diagnosis

        diagnosis.save(diagnosis.figure(frame, report), plot)
    print(report.to_json() if args.json else report.to_table())
    return 0


def cmd_schedules(args):
    if args.file == "predict":
        return _schedules_predict(args)
    given = [f"--{name.replace('_', '-')}" for name in ("reference", "schedule", "plot") if getattr(args, name)]
    if given:
        raise notebooks.ParameterError(f"{', '.join(given)} belong to `schedules predict`; `schedules FILE` fits "
                                       "the noise model on a ladder file")
    from .analysis.schedules import noise_model, read_schedules

    model = noise_model(read_schedules(args.file), alpha=args.alpha, on=args.on)
    print(model.to_json() if args.json else model.to_table())
    return 0


def _schedules_predict(args):
    """The predictive variant: a schedule's curve from one stored constant-LR run with Buvar, and alpha."""
    if not (args.reference and args.schedule):
        raise notebooks.ParameterError("`schedules predict` needs --reference KEY (a stored constant-LR run with "
                                       "Buvar; see `supercollapse runs list`) and --schedule NAME")
    if not 0 < args.decay_frac <= 1:
        raise ValueError(f"--decay-frac {args.decay_frac:g} is invalid; valid: a number in (0, 1]")
    plot = _output_path(args.plot, "--plot", (".html",), "prediction.html")
    import pandas as pd

    from .analysis.schedules import PAPER_ALPHA, THEORY_ALPHA, predict_schedule, variant_label
    from .store import runs

    run = next((store.load(args.reference) for store in runs.stores() if store.has(args.reference)), None)
    if run is None:
        raise notebooks.ParameterError(f"no stored run with key {args.reference!r}; see `supercollapse runs list`")
    cfg = run.config
    if cfg.schedule != "const":
        raise ValueError(f"run {run.key} has schedule {cfg.schedule!r}; the reference must be a constant-LR run")
    if "Buvar" not in run.curves:
        raise ValueError(f"run {run.key} has no Buvar column; train its config with buvar=True to use it as a reference")
    if args.alpha is not None:
        alpha, source = args.alpha, "given"
    else:
        alpha, source = (PAPER_ALPHA[cfg.task], f"[Q]'s value for the {cfg.task} task") if cfg.task in PAPER_ALPHA \
            else (THEORY_ALPHA, "theory's 1/4")
    curve = predict_schedule(pd.DataFrame(run.curves).rename(columns={"test_loss": "loss"}), args.schedule,
                             args.decay_frac, alpha, steps=cfg.steps, warmup=cfg.warmup)
    label = variant_label(args.schedule, args.decay_frac)
    if plot:
        from .pages import charts
        from .pages.charts import schedules as schedule_charts

        charts.save_html(schedule_charts.prediction(curve, label, f"{label} predicted from run {run.key}"), plot)
    if args.json:
        print(json.dumps({"reference": run.key, "schedule": args.schedule, "decay_frac": args.decay_frac,
                          "alpha": alpha, "alpha_source": source,
                          "curve": json.loads(curve.to_json(orient="records"))}))
    else:
        print(f"# {label} predicted from constant-LR run {run.key} ({cfg.task} D={cfg.D} seed={cfg.seed}, "
              f"{cfg.steps} steps), alpha = {alpha:g} ({source})")
        print("# loss_pred = loss_const(tau) + alpha (s - 1) Buvar_const(tau), at equal cumulative learning rate tau")
        print(curve.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return 0


def cmd_data(args):
    """Prepare a token dataset into the cache (`engine.tasks.tokens.dataset_dir(NAME)`), validated, atomically."""
    from .engine.tasks import chess, pixels, tokens

    out = tokens.dataset_dir(args.name or args.task)
    try:
        if args.task == "chess":
            sources = [s for s in (args.pgn, args.lichess_parquet, args.pretokenized) if s]
            if len(sources) > 1:
                raise ValueError("give at most one of --pgn, --lichess-parquet, --pretokenized")
            if args.pgn:
                path = chess.prepare_from_pgn(args.pgn, out, seed=args.seed, test_fraction=args.test_fraction)
            elif args.lichess_parquet:
                path = chess.prepare_from_lichess_parquet(args.lichess_parquet, out, seed=args.seed,
                                                         test_fraction=args.test_fraction)
            elif args.pretokenized:
                path = chess.install_pretokenized(*args.pretokenized, out)
            else:
                path = chess.materialize(out)  # the shipped gnuchess-book corpus
        else:
            path = (pixels.prepare_cifar5m(args.cifar5m, out, seed=args.seed) if args.cifar5m else
                    pixels.prepare_dead_leaves(out, side=args.side, n_train=args.n_train, n_test=args.n_test,
                                               seed=args.seed))
    except chess.DataError as e:
        raise ValueError(str(e)) from None
    print(path)
    return 0


_DIAGNOSE_HELP = """\
Does a ladder of loss curves (sizes x seeds, each trained to its own horizon) collapse, or supercollapse?
Each run is normalized by its own final point, l(x) = (L(x) - L0)/(L_final - L0) at x = C/C_final; the
spread of l across all runs (Delta) is compared with the spread across seeds of one size (sigma).

Input: one row per evaluation of one run (long format), with the columns
  P        parameter count of the run's model (> 0); or D, its width, when P is unknown
  seed     the run's seed (any value; not empty)
  compute  training compute so far, in PFLOP (1e15 FLOP; the verdict only uses ratios C/C_final);
           or tokens (training tokens so far) with P: compute = 6 P tokens / 1e15
  loss     the test loss at that evaluation (> 0)
  run      optional: an id per run; without it, a run is one (size, seed) pair
Extra columns are kept (step or tokens tell an equal-step ladder apart). A ladder needs at least 2
sizes (3 to fit L0), at least 2 seeds per size (3 or more for a trustworthy sigma), at least 2
evaluations per run inside the window, and final compute that grows with size.

Prints L0 (and whether it sits at its bound 0), Delta and sigma at x = 0.1 ... 0.9, the window mean of
Delta/sigma with jackknife errors (L0 held, and L0 refitted per replicate), the verdict (supercollapse below 1, collapse below 3, else no
collapse), and warnings: not compute-optimal (final compute or tokens not growing with size), too few
seeds, an interval spanning a threshold. Exit status 2 with one line when the input is not usable.

Example: supercollapse diagnose --ladder wide_collapse --plot collapse.html
"""


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="supercollapse", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the chapters with their parameters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="execute one chapter with papermill")
    p.add_argument("chapter")
    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"))
    p.add_argument("--scale", choices=SCALES)
    p.add_argument("--force", action="store_true", help="execute even if a cached result exists")
    p.add_argument("--output", help="also copy the executed notebook here")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("build", help="execute what is stale and render the static site")
    p.add_argument("--scale", choices=SCALES, default="cpu")
    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("[CHAPTER:]NAME", "VALUE"),
                   help="a parameter for the pages of the site: CHAPTER:NAME for one chapter "
                        "(collapse:published_logs FILE), NAME for every chapter that takes it (family narrow)")
    p.add_argument("--force", action="store_true", help="re-execute every chapter")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("runs", help="inspect the run store")
    p.add_argument("action", choices=("list", "show", "verify", "repair", "curate"),
                   help="verify: check every stored run, checkpoint, data pool, token dataset, executed notebook and "
                        "fit; repair: delete what verify finds damaged or interrupted")
    p.add_argument("key", nargs="?", help="run key (show), or comma-separated keys (curate; default all)")
    p.add_argument("--allow-dirty", action="store_true",
                   help="curate: accept runs trained from uncommitted library code")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser(
        "diagnose", help="does a ladder of loss curves collapse, or supercollapse?",
        formatter_class=argparse.RawDescriptionHelpFormatter, description=_DIAGNOSE_HELP)
    p.add_argument("file", nargs="?", help="a long-format ladder: .csv, .parquet (.pq), or an authors' .pkl/.pickle")
    p.add_argument("--ladder", help="a ladder of the book (see `supercollapse ladders`) instead of FILE")
    p.add_argument("--scale", choices=SCALES, default="cpu", help="with --ladder: which scale's runs")
    p.add_argument("--L0", default="auto", help="'auto' (fit L = a C^-b + L0 to the seed-mean final points) or a number")
    p.add_argument("--window", nargs=2, type=float, default=(0.5, 0.95), metavar=("START", "END"),
                   help="the range of x = C/C_final that Δ/σ̄ is averaged over (default 0.5 0.95)")
    p.add_argument("--reference", metavar="CONST_FILE",
                   help="the constant-LR twin ladder (same sizes and seeds, with a tau column in both files): "
                        "reports the decay gain per size and warns when it varies with size")
    p.add_argument("--allow-flat-compute", action="store_true",
                   help="analyse a ladder whose final compute does not grow with size (refused otherwise; "
                        "give --L0 too: no L0 can be fitted on it)")
    p.add_argument("--plot", metavar="FILE", help="also draw loss vs compute with the fit, ℓ(x), and Δ vs σ: "
                   ".html (one page that opens offline), .png or .svg")
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser(
        "sweep", aliases=["train"], help="train the missing runs of a named ladder into the local cache",
        description="Train the missing runs of a named ladder (first the ladder its horizons are fitted on) into "
                    "the local cache: in this process (SUPERCOLLAPSE_EXECUTOR, default local), or on a Dask "
                    "cluster of local worker processes, a running scheduler, or SLURM jobs.")
    p.add_argument("ladder", help="a ladder of the book (see `supercollapse ladders`)")
    p.add_argument("--scale", choices=SCALES, default="cpu")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="N single-threaded worker processes on this machine")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, such as tcp://host:8786")
    where.add_argument("--slurm", nargs="*", metavar="KEY=VALUE",
                       help="SLURM jobs through dask-jobqueue: SLURMCluster options (queue=gpu cores=8 memory=32GB "
                            "walltime=02:00:00 job_extra_directives=--gres=gpu:1) and jobs=N")
    p.add_argument("--dry-run", action="store_true", help="list the runs to train with their estimated cost")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("data", help="prepare a token dataset (chess games, pixel images) into the cache")
    p.add_argument("action", choices=("prepare",))
    p.add_argument("task", choices=("chess", "pixels"))
    p.add_argument("--name", help="dataset name (default: the task's); configs name it in `dataset`")
    p.add_argument("--seed", type=int, default=0, help="shuffle / split / generator seed")
    p.add_argument("--pgn", nargs="+", metavar="FILE", help="chess: PGN file(s), e.g. a Lichess export "
                   "(needs python-chess: pip install -e .[chess])")
    p.add_argument("--test-fraction", type=float, default=0.03,
                   help="chess from PGN or parquet: the fraction of games held out for the test split")
    p.add_argument("--lichess-parquet", metavar="DIR", help="chess: Hugging Face Lichess/standard-chess-games shards")
    p.add_argument("--pretokenized", nargs=3, metavar=("TRAIN_BIN", "TEST_BIN", "META_JSON"),
                   help="chess: already tokenized uint8 streams (the authors' format) with a JSON metadata file")
    p.add_argument("--cifar5m", metavar="DIR", help="pixels: CIFAR-5M .npz shards (key X, (N, 32, 32, 3) uint8)")
    p.add_argument("--side", type=int, choices=(16, 32), default=16, help="pixels: dead-leaves image side")
    p.add_argument("--n-train", type=int, default=50_000, help="pixels: dead-leaves training images")
    p.add_argument("--n-test", type=int, default=2_000, help="pixels: dead-leaves test images")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser(
        "schedules", help="the SGD-noise model of learning-rate schedules: fit it on a ladder, or predict a schedule",
        description="`schedules FILE`: fit alpha of L_pred = L_const(tau) + alpha (s - 1) Buvar on a schedule ladder "
                    "(long-format CSV or Parquet: run, D or P, seed, schedule, decay_frac, T, step or tokens, lr, tau, "
                    "loss, Buvar, with a constant-LR run per width and T; or an authors'-format *_schedules.pkl: "
                    "unpickling runs code from the file, so only name files you trust) and report each run. "
                    "`schedules predict --reference KEY --schedule NAME`: predict a schedule's curve from one "
                    "stored constant-LR run with Buvar.")
    p.add_argument("file", metavar="FILE|predict")
    p.add_argument("--alpha", type=float, help="use this alpha instead of fitting it (predict: default [Q]'s value)")
    p.add_argument("--on", choices=("curve", "gain"), default="curve",
                   help="fit alpha on the curves past 20%% of training (default) or on the final decay gains")
    p.add_argument("--json", action="store_true")
    p.add_argument("--reference", metavar="CONST_RUN", help="predict: the key of a stored constant-LR run with Buvar")
    p.add_argument("--schedule", choices=SCHEDULES, help="predict: the schedule to predict")
    p.add_argument("--decay-frac", type=float, default=1.0, help="predict: decay over this last fraction of training")
    p.add_argument("--plot", metavar="FILE.html", help="predict: also write the predicted curve as a chart")
    p.set_defaults(func=cmd_schedules)

    p = sub.add_parser("ladders", help="list the book's ladders and how many of their runs are stored")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ladders)
    return ap


def _absolute_cache() -> None:
    """SUPERCOLLAPSE_CACHE as an absolute path, so chapter kernels (which run in book/) share it; a file is refused."""
    from pathlib import Path

    if "SUPERCOLLAPSE_CACHE" in os.environ:
        path = Path(os.environ["SUPERCOLLAPSE_CACHE"]).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise ValueError(f"SUPERCOLLAPSE_CACHE={path} is a file; valid: a folder (created if missing)")
        os.environ["SUPERCOLLAPSE_CACHE"] = str(path)


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, `timeout`, a batch system's end of job), unwound like Ctrl-C so every cleanup runs."""


def _terminated(signum, frame):
    raise Terminated


def main(argv=None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    # argparse fills an optional positional before a flag that follows it (`runs curate --allow-dirty KEYS`
    # leaves KEYS over): give it the leftover word.
    if (extra and getattr(args, "func", None) is cmd_runs and args.key is None and len(extra) == 1
            and not extra[0].startswith("-")):
        args.key, extra = extra[0], []
    if extra:
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    # papermill reports each cell (and streams progress bars) at INFO; --quiet keeps only problems.
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO, format="%(message)s")
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)  # "Unable to initialize backend 'tpu'"
    before = signal.signal(signal.SIGTERM, _terminated)
    try:
        _absolute_cache()
        return args.func(args)
    except Terminated:
        _fail("terminated (SIGTERM); nothing half-written was kept (entries are written atomically): rerun to continue")
        return 143
    except KeyboardInterrupt:
        _fail("interrupted; nothing half-written was kept (entries are written atomically): rerun to continue")
        return 130
    except BrokenPipeError:  # `supercollapse runs list | head`: the reader stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, KeyError) as e:  # bad input: parameters, config values, files, ladders (DiagnoseError too)
        _fail(e)
        return 2
    except (notebooks.ChapterError, MissingRuns, DamagedRun, RunsFailed) as e:
        _fail(e)
        return 1
    except OSError as e:  # a full disk, a folder without permission: name the path
        _fail(f"{e.strerror or e} ({e.filename})" if getattr(e, "filename", None) else e)
        return 1
    finally:
        signal.signal(signal.SIGTERM, before)


def _fail(e: Exception | str) -> None:
    """One line on stderr: the message of `e` (a KeyError's without its quotes, newlines folded)."""
    text = e.args[0] if isinstance(e, KeyError) and e.args else e
    print(f"supercollapse: {' '.join(str(text).split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
