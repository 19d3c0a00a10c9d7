"""The training engine: one run of a RunConfig, steps fused into jitted lax.scan chunks (SPEC §4-6).

A chunk is a fixed number of scan positions; position t trains on batch t and, when t is on the evaluation
grid, first records the test loss (and Buvar) of the model before the update. Position ``steps`` evaluates
the final model without updating it; positions past it are skipped. Evaluation runs inside the scan under
``lax.cond``, so chunk boundaries need not fall on evaluation steps and one compiled chunk serves every
config with the same shapes and horizon (seeds, schedules, learning rates are arguments, not constants).
"""
from __future__ import annotations

import time
import warnings
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from .. import flops, paths
from . import checkpoint, optim, tasks
from .config import RunConfig, run_key
from .models import make_model
from .tasks import fourier, tokens

_EVAL_TOKENS = 8192  # test tokens (MLP: examples) per forward pass of the evaluation
_CHUNK_FLOP = 2e11  # CPU: about two seconds of work per chunk, the progress and checkpoint granularity
_ACCELERATOR_CHUNK = 256  # GPU/TPU: hundreds of steps per host round-trip, whatever the width
_DATA = {"fourier": fourier, "tokens": tokens}  # the registry's `data` name -> the module that serves it


def task_data(cfg: RunConfig):
    """The data module of a config's task: prepare, train_stream, test_set, losses."""
    return _DATA[tasks.get(cfg.task).data]


class TrainingDiverged(RuntimeError):
    """A run produced a non-finite loss; the message names the run key and the step."""


def eval_steps(cfg: RunConfig) -> np.ndarray:
    """SPEC §6 grid in [0, steps]: about n_evals points, half linearly and half geometrically spaced."""
    S, n = cfg.steps, cfg.n_evals
    if S + 1 <= n:
        return np.arange(S + 1)
    lin = np.rint(np.linspace(0, S, n // 2)).astype(int)
    n_geo = n - n // 2
    while True:  # small steps coincide on the geometric grid: add points until the union has about n
        grid = np.union1d(lin, np.rint(np.geomspace(1, S, n_geo)).astype(int))
        grid = np.union1d(grid, [0, S])
        if len(grid) >= n:
            return grid
        n_geo += 1


def _losses(graphdef, params, batch, task):
    """Per-example (per-row) losses of the task's data module."""
    return _DATA[tasks.get(task).data].losses(nnx.merge(graphdef, params), batch)


@partial(jax.jit, static_argnames=("graphdef", "task", "buvar"), donate_argnames=("state",))
def _chunk(state, xs, lrs, s_table, test, noise, *, graphdef, task, buvar):
    """Scan over one chunk. xs = (batches, evaluate, update); returns the state and per-position losses."""
    tx = optim.optimizer(lrs, lambda count: s_table[count])
    loss = lambda p, b: _losses(graphdef, p, b, task).mean()  # noqa: E731
    nan = jnp.float32(jnp.nan)

    def evaluate(params, opt_state):
        def test_batch(total, inp):  # test = (batches, weights): padded to whole batches with weight 0
            batch, weight = inp
            return total + jnp.sum(_losses(graphdef, params, batch, task) * weight), None

        total, _ = jax.lax.scan(test_batch, jnp.float32(0), test)
        if not buvar:
            return total / jnp.sum(test[1]), nan
        pre = optim.preconditioner(opt_state, lrs)

        def welford(acc, batch):  # running mean and squared deviations of u = P^(-1/2) g over test batches
            n, mean, m2, loss_sum = acc
            batch_loss, grads = jax.value_and_grad(loss)(params, batch)
            u = jax.tree.map(jnp.multiply, grads, pre)
            d = jax.tree.map(jnp.subtract, u, mean)
            mean = jax.tree.map(lambda m, d: m + d / (n + 1), mean, d)
            m2 = jax.tree.map(lambda m2, d, u, m: m2 + d * (u - m), m2, d, u, mean)
            return (n + 1, mean, m2, loss_sum + batch_loss), None

        zero = jax.tree.map(jnp.zeros_like, params)
        (n, _, m2, loss_sum), _ = jax.lax.scan(welford, (jnp.float32(0), zero, zero, jnp.float32(0)), noise)
        # `test` holds only the rows past the noise batches: the others' losses came with their gradients.
        B = jax.tree.leaves(noise)[0].shape[1]
        test_loss = (total + B * loss_sum) / (jnp.sum(test[1]) + B * n)
        return test_loss, sum(jnp.sum(v) for v in jax.tree.leaves(m2)) / n  # variance, ddof 0

    def position(state, inp):
        batch, do_eval, do_update = inp

        def run(state):
            params, opt_state = state
            train_loss, grads = jax.value_and_grad(loss)(params, batch)
            test_loss, noise_trace = jax.lax.cond(do_eval, evaluate, lambda *_: (nan, nan), params, opt_state)

            def update(state):
                updates, opt_state = tx.update(grads, state[1], state[0])
                return optax.apply_updates(state[0], updates), opt_state

            return jax.lax.cond(do_update, update, lambda s: s, state), (train_loss, test_loss, noise_trace)

        return jax.lax.cond(do_eval | do_update, run, lambda s: (s, (nan, nan, nan)), state)

    return jax.lax.scan(position, state, xs)


def _test_data(cfg: RunConfig):
    """The test set as (whole evaluation batches, 0/1 weights), and as training-size batches for Buvar.

    With Buvar, the loss of the rows in its batches comes with their gradients, so the evaluation batches hold only
    the rows left over (one weight-0 row when none is): the test loss is one forward pass cheaper per evaluation.
    """
    test = task_data(cfg).test_set(cfg)
    n = len(jax.tree.leaves(test)[0])
    noise = None
    if cfg.buvar:
        k = n // cfg.B
        if k < 2:
            raise ValueError(f"buvar needs at least 2 test batches of B={cfg.B}; the test set has {n} rows")
        noise = jax.tree.map(lambda a: a[: k * cfg.B].reshape(k, cfg.B, *a.shape[1:]), test)
        test = jax.tree.map(lambda a: a[k * cfg.B:], test)
        n -= k * cfg.B
    cap = max(1, _EVAL_TOKENS // cfg.L)
    rows = -(-n // -(-n // cap)) if n else 1  # equal batches of at most cap rows
    pad = -n % rows if n else 1
    weights = np.concatenate([np.ones(n, np.float32), np.zeros(pad, np.float32)]).reshape(-1, rows)
    batches = jax.tree.map(lambda a: np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)])
                           .reshape(-1, rows, *a.shape[1:]), test)
    return jax.device_put((batches, weights)), jax.device_put(noise)


def chunk_len(cfg: RunConfig, platform: str | None = None) -> int:
    """Scan positions per chunk, a power of two at most the run's length.

    On a CPU, about _CHUNK_FLOP of work; on an accelerator a fixed _ACCELERATOR_CHUNK, since a step there is
    fast and each chunk costs a host round-trip (the FLOP rule would give wide models one step per chunk).
    """
    platform = platform or jax.default_backend()
    if platform == "cpu":
        c = int(np.clip(_CHUNK_FLOP / (tasks.flops_per_token(cfg) * cfg.B * cfg.L), 1, 256))
    else:
        c = _ACCELERATOR_CHUNK
    return min(1 << (c.bit_length() - 1), 1 << cfg.steps.bit_length())


def _resume(path: Path, key: str, state, n_records: int, steps: int):
    """(next step, state, records, checkpoint) from the checkpoint of run `key`, or None to start from step 0.

    A checkpoint that cannot resume this run (damaged, foreign, of another model) is deleted with a
    CheckpointDiscarded warning naming it: the run then restarts, which costs time but never a wrong curve.
    """
    if not path.exists():
        return None
    leaves, treedef = jax.tree.flatten(state)
    try:
        z = checkpoint.read(path)
        stored = [z.get(f"leaf_{i}") for i in range(len(leaves))]
        if f"leaf_{len(leaves)}" in z or any(s is None or s.shape != np.shape(x) or s.dtype != x.dtype
                                              for s, x in zip(stored, leaves)):
            raise ValueError("its parameters do not match this run's model")
        if not 0 < int(z["step"]) <= steps or any(z[k].shape != (n_records,) for k in checkpoint.RECORDS):
            raise ValueError("its step or its records do not fit this run")
    except ValueError as why:
        warnings.warn(f"checkpoint {path} cannot resume run {key}: {why}; deleted, the run restarts from step 0",
                      checkpoint.CheckpointDiscarded, stacklevel=3)
        path.unlink(missing_ok=True)
        return None
    state = jax.tree.unflatten(treedef, [jnp.asarray(s) for s in stored])
    return int(z["step"]), state, {k: z[k].astype(np.float64) for k in checkpoint.RECORDS}, z


def train(cfg: RunConfig, *, checkpoint_dir: Path | None = None, progress: bool = True,
          checkpoint_seconds: float = 60.0, timing: dict | None = None) -> dict[str, np.ndarray]:
    """Train one run; return its curve columns at the SPEC §6 evaluation steps.

    With a checkpoint_dir, the state is saved there at the first chunk boundary after every
    ``checkpoint_seconds`` of training and a later call resumes from it; the curve is bit-for-bit the
    uninterrupted one. The checkpoint is removed when the run finishes or diverges.
    `timing`, when given, receives `wall_time_s` (seconds of every part up to the checkpoints it resumed from,
    and of the last; None when an older checkpoint did not record its part's) and `resumed_at_steps`.
    """
    t0 = time.perf_counter()
    key, S, C = run_key(cfg), cfg.steps, chunk_len(cfg)
    grid = eval_steps(cfg)
    s = np.asarray(optim.schedule(cfg)(np.arange(S + 1)), np.float32)
    graphdef, params = nnx.split(make_model(cfg, rngs=nnx.Rngs(cfg.seed)), nnx.Param)
    lrs = optim.peak_lrs(cfg, params)
    state = (params, optim.optimizer(lrs, optim.schedule(cfg)).init(params))
    task_data(cfg).prepare(cfg, progress)
    batches = task_data(cfg).train_stream(cfg)
    test, noise = _test_data(cfg)
    run_chunk = partial(_chunk, lrs=lrs, s_table=jnp.asarray(s), test=test, noise=noise,
                        graphdef=graphdef, task=cfg.task, buvar=cfg.buvar)

    ckpt = checkpoint_dir / f"{key}.npz" if checkpoint_dir is not None else None
    records = {k: np.full(len(grid), np.nan) for k in checkpoint.RECORDS}
    start, before, resumed_at = 0, 0.0, []  # before: seconds of the earlier parts
    if ckpt is not None and (restored := _resume(ckpt, key, state, len(grid), S)):
        start, state, records, z = restored
        before = float(z.get("elapsed_s", np.nan))
        resumed_at = [*z.get("resumed_at", np.zeros(0, np.int64)).tolist(), start]

    def inputs(c0):  # scan inputs of positions [c0, c0 + C): batches (zeros past the end) and flags
        t = np.arange(c0, c0 + C)
        n = max(0, min(C, S + 1 - c0))
        pad = lambda a: np.concatenate([a, np.zeros((C - n, *a.shape[1:]), a.dtype)])  # noqa: E731
        return jax.tree.map(pad, batches(c0, n)), np.isin(t, grid), t < S

    bar = tqdm(total=S, initial=start, desc=f"{cfg.task} D={cfg.D} seed={cfg.seed}", unit="step",
               disable=not progress, dynamic_ncols=True)
    last_save = time.monotonic()
    try:
        xs = inputs(start)
        for c0 in range(start, S + 1, C):
            state, (train_loss, test_loss, noise_trace) = run_chunk(state, xs)
            if c0 + C <= S:
                xs = inputs(c0 + C)  # read the next batches while the chunk runs
            train_loss, test_loss = np.asarray(train_loss), np.asarray(test_loss)
            t = np.arange(c0, c0 + C)
            active = t <= S
            bad = (~np.isfinite(train_loss) & active) | (~np.isfinite(test_loss) & np.isin(t, grid))
            if bad.any():
                raise TrainingDiverged(f"run {key} diverged: non-finite loss at step {t[np.argmax(bad)]}")
            at = np.isin(grid, t)
            where = grid[at] - c0
            records["train_loss"][at] = train_loss[where]
            records["test_loss"][at] = test_loss[where]
            records["Buvar"][at] = np.asarray(noise_trace)[where]
            bar.update(min(c0 + C, S) - min(c0, S))
            bar.set_postfix(loss=f"{train_loss[active][-1]:.4g}")
            if ckpt is not None and c0 + C <= S and time.monotonic() - last_save >= checkpoint_seconds:
                checkpoint.save(ckpt, key, c0 + C, jax.tree.leaves(state), records,
                                before + time.perf_counter() - t0, resumed_at)
                last_save = time.monotonic()
    except TrainingDiverged:
        if ckpt is not None:
            ckpt.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    if ckpt is not None:
        ckpt.unlink(missing_ok=True)
    if timing is not None:
        wall = before + time.perf_counter() - t0
        timing.update(wall_time_s=round(wall, 3) if np.isfinite(wall) else None, resumed_at_steps=resumed_at)

    lr = cfg.base_lr * s.astype(np.float64)
    tokens = grid.astype(np.int64) * cfg.B * cfg.L
    curves = {"step": grid.astype(np.int64), "tokens": tokens, "compute": flops.pflop(tasks.param_count(cfg), tokens),
              "lr": lr[grid], "tau": np.concatenate([[0.0], np.cumsum(lr)])[grid],
              "train_loss": records["train_loss"], "test_loss": records["test_loss"]}
    if cfg.buvar:
        curves["Buvar"] = records["Buvar"]
    return curves
