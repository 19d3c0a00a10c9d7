"""Schedules (SPEC §5), µP learning rates and Adam (SPEC §4)."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from supercollapse.engine import models, optim
from supercollapse.engine.config import RunConfig

CFG = RunConfig(B=1, T=110, warmup=10)  # 110 steps: 10 of warmup, then u = (step - 10) / 100


@pytest.mark.parametrize("shape, at", [
    ("const", {10: 1, 60: 1, 110: 1}),
    ("linear", {10: 1, 60: 0.5, 85: 0.25, 110: 0}),
    ("cosine", {10: 1, 60: 0.5, 110: 0}),
    ("multicosine", {10: 1, 10 + 100 / 3: 0, 10 + 200 / 3: 1, 110: 0}),
    ("quadratic", {10: 1, 60: 0.75, 110: 0}),
])
def test_schedule_values(shape, at):
    s = optim.schedule(CFG.replace(schedule=shape))
    for step, value in {0: 0, 5: 0.5, **at}.items():  # warmup: s = step / warmup
        np.testing.assert_allclose(s(step), value, atol=1e-6, err_msg=f"{shape} at step {step}")


def test_schedule_decay_fraction_and_no_warmup():
    s = optim.schedule(CFG.replace(decay_frac=0.2))  # linear decay over the last 20 of 100 steps
    np.testing.assert_allclose([s(50), s(90), s(100), s(110)], [1, 1, 0.5, 0], atol=1e-6)
    np.testing.assert_allclose(optim.schedule(CFG.replace(warmup=0))(0), 1)


def test_peak_lrs_mup_and_ablation():
    def lrs(cfg):
        _, params = nnx.split(nnx.eval_shape(lambda: models.make_model(cfg, rngs=nnx.Rngs(0))), nnx.Param)
        return {"/".join(str(k.key) for k in path[:-1]): float(lr)
                for path, lr in jax.tree_util.tree_leaves_with_path(optim.peak_lrs(cfg, params))}

    mlp = lrs(RunConfig(D=256, N=2, base_lr=0.1, readout_mult=3.0))
    assert mlp["input/kernel"] == pytest.approx(0.1)  # fan-in V does not grow with width
    assert mlp["blocks/0/w1/kernel"] == pytest.approx(0.1 * 128 / 256)
    assert mlp["blocks/1/w2/kernel"] == pytest.approx(0.1 * 128 / 256)
    assert mlp["readout/kernel"] == pytest.approx(3 * 0.1 * 128 / 256)
    ablation = lrs(RunConfig(D=64, N=2, base_lr=0.1, mup=False, D_ref=384))
    assert ablation["blocks/0/w1/kernel"] == pytest.approx(0.1 * 128 / 384)  # width D_ref's rates at every width
    assert ablation["input/kernel"] == pytest.approx(0.1)
    gpt = lrs(RunConfig(task="tokens", D=128, N=1, V=32, L=8, B=1, T=16, warmup=1, embed_mult=10.0))
    assert gpt["embed/embedding"] == pytest.approx(0.3) and gpt["pos_embed"] == pytest.approx(0.3)
    assert gpt["blocks/0/attn/q/kernel"] == pytest.approx(0.03)


def test_optimizer_is_adam_times_lr_and_schedule():
    params = {"a": jnp.ones(3), "b": jnp.ones((2, 2))}
    grads = {"a": jnp.array([1.0, -2.0, 0.5]), "b": jnp.array([[0.1, 0.0], [-3.0, 2.0]])}
    sched = lambda t: 0.5 + 0.1 * t  # noqa: E731
    tx = optim.optimizer({"a": 0.1, "b": 0.1}, sched)
    ref = optax.adam(lambda t: 0.1 * sched(t), b1=0.9, b2=0.95, eps=1e-20)
    s, r = tx.init(params), ref.init(params)
    for _ in range(3):
        u, s = tx.update(grads, s, params)
        v, r = ref.update(grads, r, params)
        jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6), u, v)
    pre = optim.preconditioner(s, {"a": 0.1, "b": 0.1})
    v_hat = (1 - 0.95) * sum(0.95 ** k for k in range(3)) * grads["a"] ** 2 / (1 - 0.95 ** 3)
    np.testing.assert_allclose(pre["a"], np.sqrt(0.1) / np.sqrt(np.sqrt(v_hat) + 1e-20), rtol=1e-5)


def hidden_changes(D: int) -> tuple[float, float]:
    """RMS change of the residual stream (before the final norm) caused by the third update, with and without µP."""
    cfg = RunConfig(D=D, N=2, B=128, T=1280, schedule="const", warmup=0, D_ref=64, base_lr=0.01)
    x = jax.random.uniform(jax.random.key(1), (128, 8), minval=-0.5, maxval=0.5)
    y = jnp.sin(2 * jnp.pi * x[:, 0])
    graphdef, abstract = nnx.split(nnx.eval_shape(lambda: models.make_model(cfg, rngs=nnx.Rngs(0))), nnx.Param)
    params = jax.jit(lambda key: nnx.split(models.make_model(cfg, rngs=nnx.Rngs(key)), nnx.Param)[1])(
        jax.random.key(0))  # one compilation instead of one per eager operation

    def residual(params):
        model = nnx.merge(graphdef, params)
        h = model.input(x)
        for block in model.blocks:
            h = h + model.m * block(models.rms_norm(h))
        return h

    @jax.jit
    def change(params, lrs):
        tx = optim.optimizer(lrs, optim.schedule(cfg))
        loss = lambda p: jnp.mean(0.5 * (nnx.merge(graphdef, p)(x) - y) ** 2)  # noqa: E731

        def step(_, state):
            updates, opt_state = tx.update(jax.grad(loss)(state[0]), state[1], state[0])
            return optax.apply_updates(state[0], updates), opt_state

        # zero-init readout and W2: hidden matrices receive gradients from the third update on
        before = jax.lax.fori_loop(0, 2, step, (params, tx.init(params)))
        after = step(2, before)
        return jnp.sqrt(jnp.mean((residual(after[0]) - residual(before[0])) ** 2))

    return tuple(float(change(params, optim.peak_lrs(cfg.replace(mup=mup), abstract))) for mup in (True, False))


def test_mup_coordinate_check():
    """Under µP the change in hidden activations after an update does not depend on width; without, it grows."""
    mup, sp = zip(*[hidden_changes(D) for D in (64, 128, 256, 512)])
    assert max(mup) / min(mup) < 2, mup
    assert sp[-1] / sp[0] > 10 and all(np.diff(sp) > 0), sp
