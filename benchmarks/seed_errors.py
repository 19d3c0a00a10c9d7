"""How well the seed bootstrap and the jackknife estimate the error of Δ/σ̄ (the window mean of SPEC §8).

Synthetic ladders with a known truth (L0 given): 4 sizes, power-law final losses, and independent noise of 1% at
every evaluation, so Δ ≈ σ as at constant LR. For each seed count, many independent ladders give the true spread
of the estimate; each ladder's `ratio_bootstrap` and `ratio_jackknife` give an estimated one. Prints, per seed
count: the estimate's mean and true sd, each method's mean se, and how often its 95% interval holds the mean.

    python benchmarks/seed_errors.py            # about a minute on 2 cores
    python benchmarks/seed_errors.py --reps 50
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from supercollapse.analysis import collapse

L0 = 0.05


def noisy_ladder(n_seeds: int, rng: np.random.Generator, n_sizes: int = 4, n_points: int = 100) -> pd.DataFrame:
    """L = L0 + R(C_final)·(1 + 3(1 − x)^1.5)·(1 + 0.01 ε), ε independent at every evaluation of every run."""
    x = np.linspace(0.01, 1, n_points)
    rows = []
    for k in range(n_sizes):
        C_final = 1e-3 * 4**k
        for seed in range(n_seeds):
            loss = L0 + 0.3 * C_final**-0.1 * (1 + 3 * (1 - x) ** 1.5) * (1 + 0.01 * rng.normal(size=n_points))
            rows.append(pd.DataFrame({"run": f"{k}/{seed}", "P": 1e5 * 2**k, "seed": seed, "compute": C_final * x,
                                      "loss": loss}))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=12, help="independent ladders per seed count")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for n_seeds in (3, 5, 8):
        est, methods = [], {"bootstrap": [], "jackknife": []}
        for _ in range(args.reps):
            r = collapse.analyze(noisy_ladder(n_seeds, rng), L0=L0)
            est.append(r.window_mean_ratio)
            methods["bootstrap"].append(collapse.ratio_bootstrap(r))
            methods["jackknife"].append(collapse.ratio_jackknife(r))
        est = np.array(est)
        line = f"{n_seeds} seeds: Δ/σ̄ {est.mean():.3f}, true sd {est.std(ddof=1):.3f}"
        for name, got in methods.items():
            covers = np.mean([b.ci[0] <= est.mean() <= b.ci[1] for b in got])
            line += f" | {name}: se {np.mean([b.se for b in got]):.3f}, interval holds the mean {covers:.0%}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
