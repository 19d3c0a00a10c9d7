"""Throughput of the transformer on the shipped chess corpus (V = 64, L = 128, N = 3) against the matmul peak.

Trains one run per (width, batch) for a few hundred steps with evaluation off except at the ends, everything
included (compile excluded by a warm-up run of the same shapes). FLOP/s count 6 P per token over the wall time:
the compute convention of [Q], so "fraction of peak" is what a ladder's cost estimate can use.

    python benchmarks/transformer_throughput.py            # a few minutes on 2 idle cores
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
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("SUPERCOLLAPSE_CACHE", tempfile.mkdtemp(prefix="supercollapse-bench-"))
    from supercollapse.engine import train
    from supercollapse.engine.config import RunConfig
    from supercollapse.engine.tasks import chess, param_count, tokens

    chess.materialize(tokens.dataset_dir("chess"))
    peak = peak_gflops()
    print(json.dumps({"peak_gflops": peak}) if args.json else f"matmul peak: {peak:.0f} GFLOP/s", flush=True)
    L = 128
    for D in args.widths:
        for B in args.batches:
            cfg = RunConfig(task="chess", dataset="chess", V=chess.V, L=L, N=3, D=D, head_dim=min(64, D // 2),
                            B=B, T=args.steps * B * L, warmup=0, schedule="const", base_lr=0.01,
                            embed_mult=10.0, n_evals=2, eval_size=8 * L)
            train.train(cfg.replace(seed=1), progress=False)  # compiles the shapes
            t = time.perf_counter()
            train.train(cfg, progress=False)
            wall = time.perf_counter() - t
            tok = args.steps * B * L
            gf = 6 * param_count(cfg) * tok / wall / 1e9
            row = {"D": D, "B": B, "P": param_count(cfg), "tokens_per_s": tok / wall, "gflops": gf,
                   "fraction_of_peak": gf / peak}
            print(json.dumps(row) if args.json else
                  f"D={D:4d} B={B:3d} P={row['P']:7d}: {row['tokens_per_s']:8.0f} tokens/s, {gf:5.1f} GFLOP/s, "
                  f"{100 * gf / peak:4.1f}% of peak", flush=True)


if __name__ == "__main__":
    main()
