"""Flax NNX models of SPEC §3: the residual MLP and the decoder-only transformer (no biases anywhere).

Compute convention: C = 6 * P * tokens, with P every parameter, embeddings included (``tasks.param_count``).
Parameter names matter: ``optim.peak_lrs`` reads the µP role of a parameter from its top-level name
(``input``, ``embed``, ``pos_embed``, ``readout``; everything else is a hidden matrix).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from . import tasks
from .config import RunConfig

normal = nnx.initializers.normal
zeros = nnx.initializers.zeros


def rms_norm(x: jax.Array, eps: float = 1e-6) -> jax.Array:
    """RMSNorm over the last axis, without a learnable scale."""
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps)


def linear(d_in: int, d_out: int, init, rngs: nnx.Rngs) -> nnx.Linear:
    """A bias-free linear layer."""
    return nnx.Linear(d_in, d_out, use_bias=False, kernel_init=init, rngs=rngs)


class MLPBlock(nnx.Module):
    """D -> e*D -> D with GELU; W1 ~ N(0, 1/D), W2 zero-initialized (SPEC §3)."""

    def __init__(self, D: int, e: int, *, rngs: nnx.Rngs):
        self.w1 = linear(D, e * D, normal(D ** -0.5), rngs)
        self.w2 = linear(e * D, D, zeros, rngs)

    def __call__(self, x):
        return self.w2(jax.nn.gelu(self.w1(x)))


class ResidualMLP(nnx.Module):
    """x -> V->D input layer -> N blocks x + (6/N) MLP(RMSNorm(x)) -> RMSNorm -> zero-init readout D->1."""

    def __init__(self, cfg: RunConfig, *, rngs: nnx.Rngs):
        self.input = linear(cfg.V, cfg.D, normal(cfg.V ** -0.5), rngs)
        self.blocks = nnx.List([MLPBlock(cfg.D, cfg.mlp_expansion, rngs=rngs) for _ in range(cfg.N)])
        self.readout = linear(cfg.D, 1, zeros, rngs)
        self.m = 6 / cfg.N  # branch multiplier

    def __call__(self, x):  # (B, V) -> (B,)
        h = self.input(x)
        for block in self.blocks:
            h = h + self.m * block(rms_norm(h))
        return self.readout(rms_norm(h))[:, 0]


class Attention(nnx.Module):
    """Causal multi-head attention with QK-norm; q, k, v ~ N(0, 1/D), zero-init output projection (SPEC §3)."""

    def __init__(self, D: int, head_dim: int, *, rngs: nnx.Rngs):
        self.q, self.k, self.v = (linear(D, D, normal(D ** -0.5), rngs) for _ in range(3))
        self.o = linear(D, D, zeros, rngs)
        self.head_dim = head_dim

    def __call__(self, x):  # (B, L, D) -> (B, L, D)
        B, L, D = x.shape
        heads = lambda t: t.reshape(B, L, D // self.head_dim, self.head_dim)  # noqa: E731
        q, k, v = rms_norm(heads(self.q(x))), rms_norm(heads(self.k(x))), heads(self.v(x))
        a = jax.nn.dot_product_attention(q, k, v, is_causal=True, scale=self.head_dim ** -0.5)
        return self.o(a.reshape(B, L, D))


class Block(nnx.Module):
    """Pre-norm transformer block: x + m Attn(RMSNorm(x)), then x + m MLP(RMSNorm(x)), m = 3/N."""

    def __init__(self, cfg: RunConfig, *, rngs: nnx.Rngs):
        self.attn = Attention(cfg.D, cfg.head_dim, rngs=rngs)
        self.mlp = MLPBlock(cfg.D, cfg.mlp_expansion, rngs=rngs)
        self.m = 3 / cfg.N

    def __call__(self, x):
        x = x + self.m * self.attn(rms_norm(x))
        return x + self.m * self.mlp(rms_norm(x))


class Transformer(nnx.Module):
    """Decoder-only transformer: token + learned position embeddings ~ N(0, 0.1^2), N blocks, zero-init readout."""

    def __init__(self, cfg: RunConfig, *, rngs: nnx.Rngs):
        self.embed = nnx.Embed(cfg.V, cfg.D, embedding_init=normal(0.1), rngs=rngs)
        self.pos_embed = nnx.Param(normal(0.1)(rngs.params(), (cfg.L, cfg.D)))
        self.blocks = nnx.List([Block(cfg, rngs=rngs) for _ in range(cfg.N)])
        self.readout = linear(cfg.D, cfg.V, zeros, rngs)

    def embed_tokens(self, tokens):  # (B, L') int -> (B, L', D), L' <= L
        return self.embed(tokens) + self.pos_embed[None, : tokens.shape[1]]

    def logits(self, h):  # embedded inputs (B, L', D) -> logits (B, L', V)
        for block in self.blocks:
            h = block(h)
        return self.readout(rms_norm(h))

    def __call__(self, tokens):
        return self.logits(self.embed_tokens(tokens))


def make_model(cfg: RunConfig, *, rngs: nnx.Rngs) -> ResidualMLP | Transformer:
    """The model family of a config's task (the registry's `model`), initialized from ``rngs``."""
    return {"mlp": ResidualMLP, "transformer": Transformer}[tasks.get(cfg.task).model](cfg, rngs=rngs)
