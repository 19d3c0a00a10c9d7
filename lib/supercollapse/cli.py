"""The `supercollapse` command: run and list chapters, build the book, inspect the run store, diagnose ladders."""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys

from . import notebooks, paths
from .runs import MissingRuns
from .presets import SCALES


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, where to look) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _params(pairs, scale):
    params = dict(pairs or [])
    if scale is not None:
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


def cmd_run(args):
    ch = notebooks.get_chapter(args.chapter)
    params = ch.validate(_params(args.param, args.scale))
    out, ran = notebooks.execute(ch, params, force=args.force, progress=not args.quiet)
    if args.output:
        import shutil

        shutil.copyfile(out, args.output)
        out = args.output
    print(f"{'executed' if ran else 'cached'}: {ch.name} {params} -> {out}")
    return 0


def cmd_build(args):
    from .site import build

    index = build(scale=args.scale, force=args.force, progress=not args.quiet)
    print(index)
    return 0


def cmd_runs(args):
    from . import runs

    if args.action == "list":
        for store in runs.stores():
            keys = store.keys()
            print(f"{store.root}: {len(keys)} runs")
            for key in keys:
                try:
                    c = store.load(key).config
                except (OSError, ValueError, KeyError, TypeError) as e:
                    print(f"  {key}  unreadable entry ({type(e).__name__}); see `supercollapse runs verify`")
                    continue
                print(f"  {key}  {c.task} D={c.D} seed={c.seed} T={c.T} {c.schedule} lr={c.base_lr}")
        return 0
    if args.action == "show":
        if not args.key:
            raise notebooks.ParameterError("`runs show` needs a KEY (see `supercollapse runs list`)")
        for store in runs.stores():
            if store.has(args.key):
                try:
                    run = store.load(args.key)
                except (OSError, ValueError, KeyError, TypeError) as e:  # a damaged entry: not the user's input
                    _fail(f"run {args.key} in {store.root} is unreadable ({type(e).__name__}: {e}); "
                          "see `supercollapse runs verify`")
                    return 1
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
        return 1 if bad else 0
    if args.action == "curate":
        keys = args.key.split(",") if args.key else runs.cache().keys()
        print(f"copied {len(runs.curate(keys))} runs into {runs.curated().root}")
        return 0
    raise AssertionError(args.action)


class _Unfitted:
    """Stands in for a compute-optimal horizon that is not fitted yet: a ladder's widths, seeds and number of
    runs do not depend on it (its configs' horizons, and so their keys, do)."""

    gamma = 0.0

    def horizon(self, P):
        return 1e15


def _ladder_configs(lad, scale):
    """(configs or None, note or None): a ladder's configs at `scale`, or why they cannot be listed yet."""
    import inspect

    try:
        return lad.configs(scale), None
    except MissingRuns:
        if "horizon" not in inspect.signature(lad.build).parameters:
            raise
        note = "its horizons T(P) are fitted on the 'horizon' ladder's runs, which are not all stored"
    except ValueError as e:
        return None, f"its configs cannot be built: {e}"
    try:
        return lad.configs(scale, horizon=_Unfitted()), note
    except ValueError as e:
        return None, f"{note}; its configs cannot be built: {e}"


def _trained_by(name: str) -> str | None:
    """The chapter that trains ladder `name`: the first that calls `load_or_train(presets.ladder("name", ...))`,
    else the first that builds the ladder and calls `load_or_train`."""
    ladder = re.compile(r"presets\.ladder\(\s*[\"']" + re.escape(name) + r"[\"']")
    direct = re.compile(r"load_or_train\(\s*" + ladder.pattern)
    sources = [(ch.name, ch.path.read_text()) for ch in notebooks.chapters()]
    for name_, src in sources:
        if direct.search(src):
            return name_
    for name_, src in sources:
        if ladder.search(src) and "load_or_train(" in src:
            return name_
    return None


def _missing(name: str, scale: str, configs, needed_for: str | None = None):
    """MissingRuns saying which of ladder `name`'s runs are not stored and which command trains them."""
    from .config import run_key
    from .runs import find

    missing = [c for c in configs if find(c) is None]
    chapter = _trained_by(name)
    how = (f"`supercollapse run {chapter} --scale {scale}` trains them into the local cache" if chapter else
           f"the chapter that uses ladder {name!r} trains them when run at --scale {scale}")
    why = (f"ladder {needed_for!r} trains each width to the horizon T(P) fitted on ladder {name!r}, and "
           if needed_for else "")
    return MissingRuns(f"{why}{len(missing)} of {len(configs)} runs of ladder {name!r} at scale {scale} are not "
                       f"stored (first: {run_key(missing[0]) if missing else '-'}); {how}; "
                       "`supercollapse ladders` shows how many runs each ladder and scale has stored")


def cmd_ladders(args):
    from . import presets, runs
    from .config import run_key

    rows = []
    for name, lad in presets.ladders().items():
        for scale in SCALES:
            cfgs, note = _ladder_configs(lad, scale)
            stored = 0 if cfgs is None or note else \
                sum(any(s.has(run_key(c)) for s in runs.stores()) for c in cfgs)
            rows.append({"name": name, "task": lad.task, "schedule": lad.schedule, "scale": scale,
                         "widths": None if cfgs is None else sorted({c.D for c in cfgs}),
                         "seeds": None if cfgs is None else sorted({c.seed for c in cfgs}),
                         "runs": None if cfgs is None else len(cfgs), "stored": stored,
                         "description": lad.description, "note": note})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            note = f"  ({r['note']})" if r["note"] else ""
            seeds = "?" if r["seeds"] is None else len(r["seeds"])
            runs_ = "?" if r["runs"] is None else r["runs"]
            print(f"{r['name']:<10} {r['scale']:<6} {r['task']:<5} {r['schedule']:<7} widths={r['widths'] or '?'} "
                  f"seeds={seeds} stored {r['stored']}/{runs_}{note}")
    return 0


def _stored_ladder_frame(name: str, scale: str):
    """The long frame of ladder `name` at `scale` from the run store; never trains (MissingRuns says how to)."""
    from . import presets, runs

    try:
        configs = presets.ladder(name, scale)
    except runs.MissingRuns:  # its horizons are fitted on the horizon ladder's runs
        raise _missing("horizon", scale, presets.ladder("horizon", scale), needed_for=name) from None
    try:
        stored = runs.load_or_train(configs, allow_train=False, progress=False)
    except runs.MissingRuns:
        raise _missing(name, scale, configs) from None
    return presets.ladder_frame(name, stored)


def cmd_diagnose(args):
    if bool(args.file) == bool(args.ladder):
        raise notebooks.ParameterError("give either FILE or --ladder NAME (see `supercollapse ladders`)")
    if args.ladder:
        frame = _stored_ladder_frame(args.ladder, args.scale)
    else:
        from .diagnose import read_ladder  # pandas and scipy: after the checks that need neither

        frame = read_ladder(args.file)
    from .diagnose import diagnose

    report = diagnose(frame, L0=args.L0, window=args.window)
    print(report.to_json() if args.json else report.to_table())
    return 0


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
    p.add_argument("action", choices=("list", "show", "verify", "curate"))
    p.add_argument("key", nargs="?", help="run key (show), or comma-separated keys (curate; default all)")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser(
        "diagnose", help="does a ladder of loss curves collapse, or supercollapse?",
        description="Analyse a ladder: a long-format CSV or Parquet file (columns: P or D, seed, compute or "
                    "tokens, loss; one row per evaluation), an authors'-format pandas pickle (.pkl/.pickle: "
                    "unpickling runs code from the file, so only name files you trust), or --ladder NAME "
                    "from the book's run store.")
    p.add_argument("file", nargs="?")
    p.add_argument("--ladder", help="a ladder of the book (see `supercollapse ladders`)")
    p.add_argument("--scale", choices=SCALES, default="cpu", help="with --ladder: which scale's runs")
    p.add_argument("--L0", default="auto", help="'auto' (fit L = a C^-b + L0) or a number")
    p.add_argument("--window", nargs=2, type=float, default=(0.5, 0.95), metavar=("START", "END"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("ladders", help="list the book's ladders and how many of their runs are stored")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ladders)
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    # papermill reports each cell (and streams progress bars) at INFO; --quiet keeps only problems.
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO, format="%(message)s")
    try:
        return args.func(args)
    except (ValueError, KeyError) as e:  # bad input: parameters, config values, files, ladders (DiagnoseError too)
        _fail(e)
        return 2
    except (notebooks.ChapterError, MissingRuns) as e:
        _fail(e)
        return 1


def _fail(e: Exception | str) -> None:
    """One line on stderr: the message of `e` (a KeyError's without its quotes, newlines folded)."""
    text = e.args[0] if isinstance(e, KeyError) and e.args else e
    print(f"supercollapse: {' '.join(str(text).split())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
