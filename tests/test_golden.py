"""The engine still produces the curves it produced when a curated run was trained (a golden run)."""
import numpy as np

from supercollapse import study
from supercollapse.engine import train
from supercollapse.engine.config import run_key
from supercollapse.store import runs

GOLDEN = study.configs("first", "smoke")[0]  # D = 16, seed 0: 12 steps, curated in data/runs/


def test_golden_run_retrains_the_same_curves():
    stored = runs.curated().load(run_key(GOLDEN))
    fresh = train.train(GOLDEN, progress=False)
    for col, want in stored.curves.items():
        # Losses are means on XLA's threaded CPU path: their last float32 digit can move with the thread schedule
        # (seen on a loaded machine: 0.42856538 against 0.42856535). Steps, tokens, compute, lr and tau are exact.
        same = (np.allclose(fresh[col], want, rtol=1e-6, atol=0, equal_nan=True) if col.endswith("loss")
                else np.array_equal(fresh[col], want, equal_nan=True))
        assert same, (
            f"column {col!r} of the golden run {run_key(GOLDEN)} changed: if the change of training semantics is "
            "intended, bump engine.config.SCHEMA (every stored run then retrains); otherwise it is a regression")
