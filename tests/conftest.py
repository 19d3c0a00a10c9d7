import os
import tempfile
import time

# Tests never touch the user's cache: one fresh cache for the whole session (set before any import of it).
os.environ.setdefault("SUPERCOLLAPSE_CACHE", tempfile.mkdtemp(prefix="supercollapse-test-cache-"))
os.environ.setdefault("SUPERCOLLAPSE_PROGRESS", "0")
_STARTED = time.time()  # screenshots older than this session are not its own


def synthetic_ladder(sizes=(1e4, 2e4, 4e4, 8e4), seeds=(0, 1, 2, 3), gain=lambda P: 0.2, steps=200, lr=1e-3,
                     L0=0.05, noise=0.01, gain_noise=0.003, rng_seed=0):
    """A linear-decay ladder and its constant-LR twin as long frames (run, P, seed, step, compute, tau, loss).

    The constant-LR loss is L0 + 0.3·τ^(−0.3)·(1 + seed noise); the decayed run of size P follows it at its own τ and
    ends lower by the fraction `gain(P)` (± `gain_noise` per seed) of its loss, reached linearly in steps.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(rng_seed)
    decay, const = [], []
    for P in sizes:
        T = int(steps * (P / sizes[0]) ** 0.2)  # compute-optimal-like horizons growing with size
        t = np.arange(1, T + 1)
        for s in seeds:
            eps, g = noise * rng.normal(), gain(P) + gain_noise * rng.normal()
            tau_c = lr * t
            L_c = L0 + 0.3 * (tau_c * 1e3) ** -0.3 * (1 + eps)
            tau_d = lr * np.cumsum(1 - (t - 1) / T)
            L_cd = L0 + 0.3 * (tau_d * 1e3) ** -0.3 * (1 + eps)
            L_d = L_cd * (1 - g * t / T)
            common = {"P": P, "seed": s, "step": t, "compute": 6 * P * t / 1e15}
            const.append(pd.DataFrame({"run": f"c{P:g}-{s}", **common, "tau": tau_c, "loss": L_c}))
            decay.append(pd.DataFrame({"run": f"d{P:g}-{s}", **common, "tau": tau_d, "loss": L_d}))
    return pd.concat(decay, ignore_index=True), pd.concat(const, ignore_index=True)


def pytest_terminal_summary(terminalreporter):
    """Name the folder of the browser test's screenshots (tests/test_site.py), when it took any."""
    from pathlib import Path

    from supercollapse import paths

    shots = Path(os.environ.get("SUPERCOLLAPSE_SCREENSHOTS") or paths.BUILD / "screenshots")
    if shots.is_dir() and any(f.stat().st_mtime >= _STARTED for f in shots.glob("*.png")):
        terminalreporter.write_line(f"screenshots of every built page (light, dark; 1400 and 420 px): {shots}")
