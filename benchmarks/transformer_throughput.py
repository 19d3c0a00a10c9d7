"""Throughput of the transformer ladders' runs (a task's `cpu` preset: V, L, N, head size) against the matmul peak.

Trains one run per (width, batch) for a few hundred steps with evaluation off except at the ends, everything
included (compile excluded by a warm-up run of the same shapes). FLOP/s count 6 P per token over the wall time:
the compute convention of [Q], so "fraction of peak" is what a ladder's cost estimate can use. The attention's
own FLOPs (which 6 P leaves out, and which dominate at small D and long L) are printed beside it.

    python benchmarks/transformer_throughput.py                      # chess, a few minutes on 2 idle cores
    python benchmarks/transformer_throughput.py --task pixels --head-dim 16
    python benchmarks/transformer_throughput.py --json
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from throughput import peak_gflops


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128])
    p.add_argument("--batches", type=int, nargs="+", default=[32, 64])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--task", choices=("chess", "pixels"), default="chess")
    p.add_argument("--head-dim", type=int, help="head size (default: the cpu preset's)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("SUPERCOLLAPSE_CACHE", tempfile.mkdtemp(prefix="supercollapse-bench-"))
    from supercollapse.engine import train
    from supercollapse.engine.tasks import param_count
    from supercollapse.experiments import transformers

    sizes = (transformers.CHESS if args.task == "chess" else transformers.PIXELS)["cpu"]
    peak = peak_gflops()
    print(json.dumps({"peak_gflops": peak}) if args.json else f"matmul peak: {peak:.0f} GFLOP/s", flush=True)
    L = sizes.L
    for D in args.widths:
        for B in args.batches:
            head_dim = args.head_dim or sizes.head_dim
            cfg = sizes.config(D, 0, args.steps, "const", warmup=0).replace(
                B=B, T=args.steps * B * L, head_dim=head_dim, n_evals=2, eval_size=8 * L)
            train.train(cfg.replace(seed=1), progress=False)  # compiles the shapes (and materializes the data)
            t = time.perf_counter()
            train.train(cfg, progress=False)
            wall = time.perf_counter() - t
            tok = args.steps * B * L
            gf = 6 * param_count(cfg) * tok / wall / 1e9
            attn = 6 * 2 * cfg.N * L * D * tok / wall / 1e9  # QK^T and AV, forward + backward, full L x L
            row = {"task": args.task, "D": D, "B": B, "head_dim": head_dim, "P": param_count(cfg),
                   "tokens_per_s": tok / wall, "gflops": gf, "fraction_of_peak": gf / peak,
                   "attention_gflops": attn}
            print(json.dumps(row) if args.json else
                  f"{args.task} D={D:4d} B={B:3d} head={head_dim:3d} P={row['P']:7d}: {row['tokens_per_s']:8.0f} "
                  f"tokens/s, {gf:5.1f} GFLOP/s (6P), {100 * gf / peak:4.1f}% of peak; attention {attn:5.1f} "
                  f"GFLOP/s more", flush=True)


if __name__ == "__main__":
    main()
