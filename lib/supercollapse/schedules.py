"""Learning-rate decay shapes s(u) of progress u in [0, 1] (SPEC §5), written for any array module.

A leaf: the engine evaluates them with `jax.numpy`, the theory chapters with NumPy.
"""
from __future__ import annotations

import numpy as np

SCHEDULES = ("const", "linear", "cosine", "multicosine", "quadratic")


def shape(name: str, u, xp=np):
    """s(u) of schedule `name`; `xp` is the array module (numpy or jax.numpy)."""
    if name == "const":
        return xp.ones_like(u)
    if name == "linear":
        return 1 - u
    if name == "cosine":
        return 0.5 * (1 + xp.cos(np.pi * u))
    if name == "multicosine":  # ½(1 + cos 3πu): decays to zero through two oscillations
        return 0.5 * (1 + xp.cos(3 * np.pi * u))
    if name == "quadratic":
        return 1 - u ** 2
    raise ValueError(f"unknown schedule {name!r}; valid: {', '.join(SCHEDULES)}")
