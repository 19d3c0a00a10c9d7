"""Models (SPEC §3): shapes, parameter count, zero-initialized outputs, transformer causality."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from supercollapse.engine.config import RunConfig
from supercollapse.engine.models import make_model
from supercollapse.engine.tasks import flops_per_token, param_count

MLP = RunConfig(D=32, N=3, B=8, T=80, warmup=1)
GPT = RunConfig(task="chess", D=32, N=2, V=64, L=16, B=4, T=4 * 16 * 10, warmup=1, head_dim=8, mlp_expansion=2)


@pytest.fixture(autouse=True)
def strict_ranks():
    with jax.numpy_rank_promotion("raise"):
        yield


def n_params(model) -> int:
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def jitted(model):
    """The model as a jitted function of its input (eager NNX calls compile every operation separately)."""
    graphdef, params = nnx.split(model, nnx.Param)
    return jax.jit(lambda x: nnx.merge(graphdef, params)(x))


@pytest.mark.parametrize("cfg", [MLP, GPT], ids=["mlp", "transformer"])
def test_param_count_and_flops(cfg):
    assert param_count(cfg) == n_params(nnx.eval_shape(lambda: make_model(cfg, rngs=nnx.Rngs(0))))
    assert flops_per_token(cfg) == 6 * param_count(cfg)


def test_mlp_shapes_and_zero_init_output():
    model = make_model(MLP, rngs=nnx.Rngs(0))
    x = jax.random.uniform(jax.random.key(0), (5, MLP.V), minval=-0.5, maxval=0.5)
    assert jitted(model)(x).shape == (5,)
    np.testing.assert_array_equal(jitted(model)(x), 0)  # zero-init readout: the initial prediction is 0
    model.readout.kernel[...] = jnp.ones_like(model.readout.kernel[...])
    y = jitted(model)(x)
    assert jnp.isfinite(y).all() and jnp.abs(y).max() > 0


def test_transformer_shapes_and_zero_init_output():
    forward = jitted(make_model(GPT, rngs=nnx.Rngs(0)))
    tokens = jax.random.randint(jax.random.key(0), (3, GPT.L), 0, GPT.V)
    logits = forward(tokens)
    assert logits.shape == (3, GPT.L, GPT.V)
    np.testing.assert_array_equal(logits, 0)  # zero-init readout: uniform initial prediction
    assert forward(tokens[:, :5]).shape == (3, 5, GPT.V)  # shorter contexts use the first position embeddings


def test_init_scales():
    model = make_model(MLP.replace(D=256), rngs=nnx.Rngs(0))
    np.testing.assert_allclose(model.blocks[0].w1.kernel[...].std(), 256 ** -0.5, rtol=0.05)
    np.testing.assert_array_equal(model.blocks[0].w2.kernel[...], 0)
    gpt = make_model(GPT.replace(task="tokens", D=256, V=256), rngs=nnx.Rngs(0))
    np.testing.assert_allclose(gpt.embed.embedding[...].std(), 0.1, rtol=0.05)
    np.testing.assert_array_equal(gpt.blocks[0].attn.o.kernel[...], 0)


def test_transformer_causality():
    """The loss at position t has zero gradient with respect to the inputs after t (nanodo's property test)."""
    tokens = jax.random.randint(jax.random.key(2), (2, GPT.L), 0, GPT.V)

    graphdef, params = nnx.split(nnx.eval_shape(lambda: make_model(GPT, rngs=nnx.Rngs(0))), nnx.Param)

    @jax.jit
    def jacobian(key):  # (L - 1, B, L, D): d loss at position t / d embedded input
        # Random parameters: with zero-initialized projections attention would not mix positions at all.
        keys = iter(jax.random.split(key, len(jax.tree.leaves(params))))
        model = nnx.merge(graphdef, jax.tree.map(lambda p: 0.3 * jax.random.normal(next(keys), p.shape), params))

        def losses(h):
            logits = model.logits(h)[:, :-1]
            return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).sum(0)

        return jax.jacrev(losses)(model.embed_tokens(tokens))

    jac = jacobian(jax.random.key(1))
    for t in range(GPT.L - 1):
        assert jnp.abs(jac[t, :, : t + 1]).max() > 0
        np.testing.assert_array_equal(jac[t, :, t + 1:], 0)
