"""Throughput of the training engine on the MLP task (N = 5, B = 4096) against this machine's matmul peak.

For each width it trains the seeds of a ladder one after another in one process, as a chapter does (the first
run compiles, the others reuse it), everything included: reading the shared example pool, the steps, and
evaluation at the book's CPU cadence. GFLOP/s counts the model's 6 P B per step over the whole wall time.
The one-time pool build is timed on its own line, in a fresh temporary cache, and amortized over the ladder.

    python benchmarks/throughput.py            # about 25 minutes on 2 idle cores
    python benchmarks/throughput.py --quick    # about 3 minutes
    python benchmarks/throughput.py --json     # one JSON object per line
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np


def peak_gflops(n: int = 2048, reps: int = 10) -> float:
    """This machine's float32 matrix-product rate: best of several n x n jnp.dot calls."""
    a = jnp.asarray(np.random.default_rng(0).standard_normal((n, n)), jnp.float32)
    dot = jax.jit(jnp.dot)
    dot(a, a).block_until_ready()
    best = np.inf
    for _ in range(reps):
        t = time.perf_counter()
        dot(a, a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", type=int, nargs="+", default=[64, 128, 256, 512])
    p.add_argument("--steps", type=int, default=400, help="training steps per run")
    p.add_argument("--seeds", type=int, default=4, help="seeds in the ladder of one width")
    p.add_argument("--evals", type=int, default=60, help="evaluation points per run (the CPU presets' cadence)")
    p.add_argument("--eval-size", type=int, default=16384, help="test examples (the CPU presets' test set)")
    p.add_argument("--quick", action="store_true", help="100 steps and 2 seeds: a smoke check in a few minutes")
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    args = p.parse_args()
    if args.quick:
        args.steps, args.seeds = 100, 2

    cache = tempfile.mkdtemp(prefix="supercollapse-bench-")
    os.environ["SUPERCOLLAPSE_CACHE"] = cache  # a fresh pool, so its build is measured every time
    from supercollapse.engine import train  # noqa: E402  (after the cache is chosen)
    from supercollapse.engine.tasks import fourier as data
    from supercollapse.engine.config import RunConfig
    from supercollapse.engine.tasks import param_count

    def out(row: dict, text: str) -> None:
        print(json.dumps(row) if args.json else text, flush=True)

    B = 4096
    base = RunConfig(task="mlp", N=5, B=B, T=args.steps * B, warmup=min(10, args.steps // 10), base_lr=0.01,
                     schedule="linear", n_evals=args.evals, eval_size=args.eval_size)
    try:
        t = time.perf_counter()
        data.prepare(base, progress=False)
        build = time.perf_counter() - t
        runs = len(args.widths) * args.seeds
        n_pool = (args.steps + 1) * B + args.eval_size
        out({"pool_build_s": build, "pool_examples": n_pool, "ladder_runs": runs, "amortized_s_per_run": build / runs},
            f"pool build: {n_pool:,} examples in {build:.1f} s ({n_pool / build:,.0f} examples/s), "
            f"shared by a ladder of {runs} runs: {build / runs:.1f} s per run\n")
        if not args.json:
            print(f"{args.steps} steps of B={B}, {len(train.eval_steps(base))} evaluations of {args.eval_size} "
                  f"examples, seeds trained one after another in one process\n")
            print(f"{'D':>4} {'seeds':>5} {'P':>9} {'examples/s':>11} {'GFLOP/s':>8} {'peak':>6} {'of peak':>7} "
                  f"{'eval share':>10} {'compile+init':>12} {'cores':>5}")
        for D in args.widths:
            cfg = base.replace(D=D)
            peak = peak_gflops()
            jax.clear_caches()  # each width starts cold, like a fresh process
            walls, cpus = [], []  # wall and process CPU seconds of each run
            for seed in range(args.seeds):
                walls.append(-time.perf_counter())
                cpus.append(-time.process_time())
                train.train(cfg.replace(seed=seed), progress=False)
                walls[-1] += time.perf_counter()
                cpus[-1] += time.process_time()
            cores = sum(cpus) / sum(walls)  # below the core count: other processes took CPU
            cpu = time.process_time()
            train.train(cfg.replace(n_evals=2), progress=False)  # same compiled chunks, evaluation at 0 and end
            no_eval = time.process_time() - cpu  # CPU time: robust to other processes sharing the machine
            warm = float(np.median(walls[1:])) if len(walls) > 1 else walls[0]
            eval_share = max(0.0, 1 - no_eval / float(np.median(cpus[1:] if len(cpus) > 1 else cpus)))
            peak = max(peak, peak_gflops())
            P = param_count(cfg)
            for seeds, wall in {1: walls[0], args.seeds: sum(walls)}.items():
                ex = seeds * args.steps * B / wall
                gflops = 6 * P * ex / 1e9
                row = {"D": D, "seeds": seeds, "P": P, "examples_per_s": ex, "gflops": gflops, "peak_gflops": peak,
                       "fraction_of_peak": gflops / peak, "eval_share": eval_share, "wall_s": wall,
                       "compile_init_s": walls[0] - warm, "cores_used": cores}
                out(row, f"{D:>4} {seeds:>5} {P:>9,} {ex:>11,.0f} {gflops:>8.1f} {peak:>6.0f} {gflops / peak:>7.0%} "
                         f"{eval_share:>10.0%} {walls[0] - warm:>11.1f}s {cores:>5.2f}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
