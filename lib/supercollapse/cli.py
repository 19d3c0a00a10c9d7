"""The `supercollapse` command: run and list chapters, build the book, inspect the run store, diagnose ladders."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import paths
from .build import notebooks
from .scales import SCALES
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
    return 0


def cmd_build(args):
    from .build.site import build

    index = build(scale=args.scale, force=args.force, progress=not args.quiet)
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
    """(folder, [(path, why)]) for the cache's derived files: checkpoints, data pools, executed notebooks, fits."""
    from . import study
    from .engine import checkpoint
    from .engine.tasks import fourier

    cache = paths.cache_dir()
    return [(cache / "checkpoints", checkpoint.problems(cache / "checkpoints")),
            (cache / "pools", fourier.pool_problems(cache / "pools")),
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


def cmd_train(args):
    from . import execute, study
    from .experiments import registry

    lad = registry.get(args.ladder)
    if lad.horizon_from:
        study.ensure(lad.horizon_from, args.scale, allow_train=True, progress=not args.quiet)
    cfgs = study.configs(args.ladder, args.scale)
    todo = execute.missing(cfgs)
    print(f"ladder {args.ladder} at scale {args.scale}: {len(cfgs) - len(todo)} of {len(cfgs)} runs stored, "
          f"training {len(todo)}", file=sys.stderr)
    execute.ensure(cfgs, allow_train=True, progress=not args.quiet)
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
Delta/sigma with a jackknife error, the verdict (supercollapse below 1, collapse below 3, else no
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
    p.add_argument("--force", action="store_true", help="re-execute every chapter")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("runs", help="inspect the run store")
    p.add_argument("action", choices=("list", "show", "verify", "repair", "curate"),
                   help="verify: check every stored run, checkpoint, data pool, executed notebook and fit; "
                        "repair: delete what verify finds damaged or interrupted")
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

    p = sub.add_parser("train", help="train the missing runs of a named ladder into the local cache")
    p.add_argument("ladder", help="a ladder of the book (see `supercollapse ladders`)")
    p.add_argument("--scale", choices=SCALES, default="cpu")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

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


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    # papermill reports each cell (and streams progress bars) at INFO; --quiet keeps only problems.
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO, format="%(message)s")
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)  # "Unable to initialize backend 'tpu'"
    try:
        _absolute_cache()
        return args.func(args)
    except KeyboardInterrupt:
        _fail("interrupted; nothing half-written was kept (entries are written atomically): rerun to continue")
        return 130
    except BrokenPipeError:  # `supercollapse runs list | head`: the reader stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, KeyError) as e:  # bad input: parameters, config values, files, ladders (DiagnoseError too)
        _fail(e)
        return 2
    except (notebooks.ChapterError, MissingRuns, DamagedRun) as e:
        _fail(e)
        return 1
    except OSError as e:  # a full disk, a folder without permission: name the path
        _fail(f"{e.strerror or e} ({e.filename})" if getattr(e, "filename", None) else e)
        return 1


def _fail(e: Exception | str) -> None:
    """One line on stderr: the message of `e` (a KeyError's without its quotes, newlines folded)."""
    text = e.args[0] if isinstance(e, KeyError) and e.args else e
    print(f"supercollapse: {' '.join(str(text).split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
