"""A ladder trained one run after another in one process (XLA on every core) against N single-threaded Dask
worker processes, side by side in one run, and the `sweep --dry-run` estimate against the measured times.

Both train the same configs into fresh stores of a temporary cache, so nothing stored is reused; each starts
cold (the serial process compiles once per shape, every worker compiles the shapes it meets). The estimate is
the one `supercollapse sweep --dry-run` prints: the throughput of stored runs (curated ones included) nearest in
size. The load average is printed before and after: a busy machine makes the ratio meaningless.

    python benchmarks/sweep.py                                # the cpu collapse ladder (25 runs): hours on 2 cores
    python benchmarks/sweep.py --limit 6                      # 6 of its runs, spread over its widths
    python benchmarks/sweep.py --ladder first --scale smoke   # a check that it runs, in a few minutes
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ladder", default="collapse")
    p.add_argument("--scale", default="cpu")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--limit", type=int, help="train only this many of the ladder's runs, spread over it")
    p.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    args = p.parse_args()

    cache = tempfile.mkdtemp(prefix="supercollapse-sweep-bench-")
    os.environ["SUPERCOLLAPSE_CACHE"] = cache  # before the package reads it: stored runs come from data/runs only
    from supercollapse import study
    from supercollapse.execute import cost
    from supercollapse.execute.cluster import Cluster, DaskExecutor
    from supercollapse.execute.local import LocalExecutor
    from supercollapse.store.runs import RunStore

    try:
        cfgs = study.configs(args.ladder, args.scale)  # a ladder fitted on another's runs needs them stored
        if args.limit:
            cfgs = cfgs[:: max(1, len(cfgs) // args.limit)][: args.limit]
        measured = cost.measured()
        estimates = [cost.estimate(c, measured).seconds for c in cfgs]
        load_before = os.getloadavg()

        t = time.perf_counter()
        LocalExecutor().train(cfgs, RunStore(os.path.join(cache, "serial")), progress=False)
        serial = time.perf_counter() - t

        t = time.perf_counter()
        with DaskExecutor(Cluster(workers=args.workers)) as ex:
            start = time.perf_counter() - t
            ex.train(cfgs, RunStore(os.path.join(cache, "dask")), progress=False)
        dask = time.perf_counter() - t

        estimate = sum(estimates) if None not in estimates else None
        row = {"ladder": args.ladder, "scale": args.scale, "runs": len(cfgs), "cores": os.cpu_count(),
               "workers": args.workers, "serial_s": serial, "dask_s": dask, "dask_cluster_start_s": start,
               "serial_over_dask": serial / dask, "estimate_s": estimate,
               "estimate_over_serial": estimate / serial if estimate else None,
               "load_before": load_before, "load_after": os.getloadavg()}
        if args.json:
            print(json.dumps(row))
            return
        print(f"ladder {args.ladder} at scale {args.scale}: {len(cfgs)} runs on {os.cpu_count()} cores "
              f"(load average {load_before[0]:.1f} before, {row['load_after'][0]:.1f} after)")
        print(f"  serial, one process:           {serial:9.1f} s")
        print(f"  {args.workers} single-threaded workers:    {dask:9.1f} s  (of which {start:.1f} s starting them)")
        print(f"  serial / workers:              {serial / dask:9.2f}  (above 1: the workers are faster)")
        if estimate:
            print(f"  --dry-run estimate:            {estimate:9.1f} s  ({estimate / serial:.2f} of the serial time)")
        else:
            print("  --dry-run estimate:            none (no stored run of this task has a wall time)")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
