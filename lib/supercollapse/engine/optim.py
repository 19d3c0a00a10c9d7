"""Learning-rate schedules (SPEC §5), µP per-parameter peak learning rates and Adam (SPEC §4), with Optax."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from ..schedules import multiplier
from .config import RunConfig

B1, B2, EPS = 0.9, 0.95, 1e-20  # SPEC §4: no weight decay, no clipping


def schedule(cfg: RunConfig) -> optax.Schedule:
    """s(step) in [0, 1] of the config's schedule, warmup and decay fraction (`schedules.multiplier`)."""
    return lambda step: multiplier(cfg.schedule, step, cfg.steps, cfg.warmup, cfg.decay_frac, jnp)


def lr_factor(cfg: RunConfig, name: str) -> float:
    """mult_i * fan_in_base / fan_in_i of a parameter, by its top-level name (SPEC §4).

    The MLP input layer and the embeddings have a width-independent fan-in; every other matrix has fan-in
    proportional to D. The no-µP ablation uses the factors of width D_ref at every width.
    """
    hidden = cfg.D_base / (cfg.D if cfg.mup else cfg.D_ref)
    return {"input": 1.0, "embed": cfg.embed_mult, "pos_embed": cfg.embed_mult,
            "readout": cfg.readout_mult * hidden}.get(name, hidden)


def peak_lrs(cfg: RunConfig, params):
    """Per-parameter peak learning rates lr_i = base_lr * lr_factor, a float32 pytree shaped like params."""
    return jax.tree_util.tree_map_with_path(
        lambda path, _: jnp.float32(cfg.base_lr * lr_factor(cfg, path[0].key)), params)


def optimizer(lrs, sched: Callable) -> optax.GradientTransformation:
    """Adam with update -lr_i * s(step) * direction: lrs from ``peak_lrs``, sched from ``schedule``."""
    return optax.chain(
        optax.scale_by_adam(b1=B1, b2=B2, eps=EPS),
        optax.scale_by_schedule(sched),
        optax.stateless(lambda updates, params=None: jax.tree.map(lambda u, lr: -lr * u, updates, lrs)),
    )


def preconditioner(opt_state, lrs):
    """P^(-1/2) = sqrt(lr_i) / sqrt(sqrt(v_hat_i) + eps) from the optimizer state (SPEC §6, Buvar)."""
    adam = opt_state[0]  # optax.ScaleByAdamState of the chain above
    v_hat = optax.tree.bias_correction(adam.nu, B2, adam.count)
    return jax.tree.map(lambda v, lr: jnp.sqrt(lr) / jnp.sqrt(jnp.sqrt(v) + EPS), v_hat, lrs)
