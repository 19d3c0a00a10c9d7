"""Learning-rate schedules of SPEC §5: decay shapes s(u) of progress u in [0, 1] and the per-step multiplier with
warmup and decay fraction, written for any array module.

A leaf: the engine evaluates them with `jax.numpy`, the theory chapters and the SGD-noise model with NumPy.
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


def multiplier(name: str, step, steps: int, warmup: int = 0, decay_frac: float = 1.0, xp=np):
    """s(step) for step in [0, steps]: step / warmup during the warmup, then the shape over the last `decay_frac` of
    the remaining steps, progress u = (step - warmup) / (steps - warmup) reaching 1 at step = steps."""
    u = xp.clip(((step - warmup) / (steps - warmup) - (1 - decay_frac)) / decay_frac, 0.0, 1.0)
    return xp.where(step < warmup, step / warmup, shape(name, u, xp)) if warmup else shape(name, u, xp)
