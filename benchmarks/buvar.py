"""What logging the gradient-noise trace Buvar (SPEC §6) costs a run: the schedule ladders' configs trained with
and without it, side by side in one process, alternating, so that both see the same machine.

Each pair trains one linear-decay run of the `schedules` ladder (cpu scale, the wide MLP family, its fitted
horizon and evaluation cadence) once with buvar=False and once with buvar=True, in alternating order over repeats;
the first run of each kind compiles and is not counted. Prints, per width, the median wall time of each kind and
their ratio. Needs the ladder's horizon fit (the curated `wide_horizon` runs).

    python benchmarks/buvar.py                    # about 3 minutes on 2 idle cores
    python benchmarks/buvar.py --widths 48 96 --repeats 3
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", type=int, nargs="+", default=[48], help="widths of the ladder (48, 64, 80, 96)")
    p.add_argument("--repeats", type=int, default=2, help="timed pairs per width")
    args = p.parse_args()
    os.environ["SUPERCOLLAPSE_CACHE"] = tempfile.mkdtemp(prefix="supercollapse-bench-")
    from supercollapse import study  # noqa: E402  (after the cache is chosen)
    from supercollapse.engine.train import train

    ladder = {c.D: c for c in study.configs("schedules", "cpu") if c.schedule == "linear" and c.decay_frac == 1
              and c.seed == 0}
    if not set(args.widths) <= set(ladder):
        raise SystemExit(f"--widths: valid widths are {sorted(ladder)}")
    print(f"{'D':>4} {'steps':>6} {'evals':>6} {'without (s)':>12} {'with (s)':>10} {'ratio':>7}")
    for D in args.widths:
        base = ladder[D].replace(buvar=False)
        kinds = {False: base, True: ladder[D]}
        times = {False: [], True: []}
        for cfg in kinds.values():  # compile both programs first
            train(cfg, progress=False)
        for r in range(args.repeats):
            for flag in ((False, True) if r % 2 == 0 else (True, False)):
                t = time.perf_counter()
                train(kinds[flag], progress=False)
                times[flag].append(time.perf_counter() - t)
        off, on = np.median(times[False]), np.median(times[True])
        print(f"{D:>4} {base.steps:>6} {base.n_evals:>6} {off:>12.2f} {on:>10.2f} {on / off:>7.3f}", flush=True)


if __name__ == "__main__":
    main()
