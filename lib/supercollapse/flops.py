"""The compute convention of [Q]: training costs 6·P FLOPs per token (example, for the MLP), P every parameter,
embeddings included (SPEC §3). Every compute column is in PFLOP."""

PFLOP = 1e15  # FLOPs in one PFLOP


def per_token(P):
    """Training FLOPs per token of a model of P parameters: 6P."""
    return 6 * P


def pflop(P, tokens):
    """Training compute of `tokens` tokens at size P, in PFLOP."""
    return per_token(P) * tokens / PFLOP


def tokens(P, compute):
    """Tokens that cost `compute` PFLOP at size P: the inverse of `pflop`."""
    return compute * PFLOP / per_token(P)
