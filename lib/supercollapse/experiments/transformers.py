"""The transformer ladders (SPEC §2.2-2.3, §3-4, §7-8): chess games, as pure functions of sizes and fitted horizon.

µP as [Q]'s transformers: base width 128, base_lr 1e-2, embedding multiplier 10, N = 3 blocks, MLP expansion 1.
At `cpu` scale the widths are far below [Q]'s 768-2048, so the head size is a ladder setting (8 here, [Q]'s 64 at
`gpu`): heads grow with width at a fixed head size, as in [Q]. The horizon ladder trains every width at constant LR
for the same number of steps (Fig. 10); the collapse ladders train the widths whose T(P) the fit keeps.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.config import RunConfig
from ..engine.tasks import chess, param_count, pixels
from .registry import HorizonLike, Ladder, fitted_steps, horizon_configs, register

BASE_LR = 1e-2  # [Q]'s transformers: µP base lr at D_base = 128
EMBED_MULT = 10.0  # [Q]: token and position embeddings learn 10x faster (SPEC §4)
# Collapse ladders warm up over the same fraction of every run, so all widths share one schedule s(x) in normalized
# compute (a fixed number of warmup steps is 15% of the smallest run at cpu scale and 2% of the largest: a
# width-dependent schedule, the kind of difference chapter 14 found behind the narrow MLP ladder's failure).
WARMUP_FRACTION = 0.05


@dataclass(frozen=True)
class TransformerSizes:
    """What a scale chooses for one family of transformer ladders."""

    task: str
    dataset: str
    V: int
    L: int
    widths: tuple[int, ...]  # the constant-LR horizon ladder
    collapse_widths: tuple[int, ...]  # the decay ladder and its constant-LR twin
    seeds: tuple[int, ...]
    horizon_seeds: tuple[int, ...]
    steps: int  # of every horizon run
    B: int
    warmup: int
    head_dim: int
    eval_size: int  # test tokens
    n_evals: int
    N: int = 3
    depths: tuple[int, ...] = ()  # the depth ladder (Fig. 9), at the middle collapse width
    max_steps: int | None = None  # smoke only exercises code paths: its fitted horizons are meaningless

    def config(self, D: int, seed: int, steps: int, schedule: str, N: int | None = None,
               warmup: int | None = None) -> RunConfig:
        """`warmup` in steps; default the horizon ladder's fixed `self.warmup`."""
        return RunConfig(task=self.task, dataset=self.dataset, V=self.V, L=self.L, N=N or self.N, D=D,
                         head_dim=self.head_dim, B=self.B, T=steps * self.B * self.L, seed=seed, base_lr=BASE_LR,
                         embed_mult=EMBED_MULT, schedule=schedule,
                         warmup=self.warmup if warmup is None else warmup, eval_size=self.eval_size,
                         n_evals=self.n_evals)

    def fitted_config(self, D: int, seed: int, steps: int, schedule: str, N: int | None = None) -> RunConfig:
        """A run of a collapse ladder: warmup over WARMUP_FRACTION of its own steps."""
        return self.config(D, seed, steps, schedule, N, warmup=max(1, round(WARMUP_FRACTION * steps)))

    def P(self, D: int, N: int | None = None) -> int:
        return param_count(self.config(D, 0, self.steps, "const", N))

    @property
    def depth_width(self) -> int:
        return self.collapse_widths[len(self.collapse_widths) // 2]

    def horizon_steps(self, horizon: HorizonLike, gamma_factor: float = 1.0) -> dict[int, int]:
        """Each collapse width's T(P) in whole steps (`registry.fitted_steps`)."""
        return fitted_steps({D: self.P(D) for D in self.collapse_widths}, horizon, self.B * self.L,
                            min_steps=2, gamma_factor=gamma_factor, max_steps=self.max_steps)


# Chess at cpu scale: in a pilot at constant LR, D = 64 had not overtaken D = 32 after 6M tokens each, so the horizon
# runs train 20M tokens at every width; widths 8 and 48 bracket the three collapse widths 16-32 on the frontier.
CHESS = {
    "smoke": TransformerSizes("chess", "chess", chess.V, 32, widths=(8, 16, 24, 32), collapse_widths=(8, 16, 24),
                              seeds=(0, 1), horizon_seeds=(0, 1), steps=24, B=4, warmup=2, head_dim=8,
                              eval_size=1024, n_evals=12, depths=(1, 2, 3), max_steps=24),
    "cpu": TransformerSizes("chess", "chess", chess.V, 128, widths=(8, 16, 24, 32, 48), collapse_widths=(16, 24, 32),
                            seeds=(0, 1, 2, 3, 4), horizon_seeds=(0,), steps=5000, B=32, warmup=50, head_dim=8,
                            eval_size=16384, n_evals=120, depths=(1, 2, 3, 4, 6)),
    "gpu": TransformerSizes("chess", "chess", chess.V, 128, widths=(128, 192, 256, 384, 512, 768),
                            collapse_widths=(192, 256, 384, 512), seeds=(0, 1, 2, 3, 4), horizon_seeds=(0, 1),
                            steps=40000, B=64, warmup=500, head_dim=64, eval_size=1 << 20, n_evals=400,
                            depths=(1, 2, 3, 4, 6)),
}


def collapse_configs(sizes: TransformerSizes, horizon: HorizonLike, gamma_factor: float = 1.0,
                     schedule: str = "linear") -> list[RunConfig]:
    """Each collapse width to its T(P) with `schedule` (Figs. 1a-c; const: Fig. 3; gamma_factor: Fig. 4 bottom)."""
    steps = sizes.horizon_steps(horizon, gamma_factor)
    return [sizes.fitted_config(D, s, steps[D], schedule) for D in sizes.collapse_widths for s in sizes.seeds]


def depth_configs(sizes: TransformerSizes, horizon: HorizonLike) -> list[RunConfig]:
    """Fig. 9: depths N at one width, branch multiplier 3/N, each trained to T(P) of its own P, linear decay."""
    P = {N: sizes.P(sizes.depth_width, N) for N in sizes.depths}
    steps = fitted_steps(P, horizon, sizes.B * sizes.L, min_steps=2, max_steps=sizes.max_steps)
    return [sizes.fitted_config(sizes.depth_width, s, steps[N], "linear", N) for N in sizes.depths for s in sizes.seeds]


def _register(name: str, sizes: dict[str, TransformerSizes], what: str) -> None:
    widths, seeds = (lambda scale: sizes[scale].collapse_widths), (lambda scale: sizes[scale].seeds)
    register(Ladder(f"{name}_horizon", name, "const",
                    f"{what}: constant LR, every width trained past its compute-optimal horizon (Fig. 10)",
                    lambda scale: horizon_configs(sizes[scale]), widths=lambda scale: sizes[scale].widths,
                    seeds=lambda scale: sizes[scale].horizon_seeds))
    register(Ladder(f"{name}_collapse", name, "linear",
                    f"{what}: linear decay to zero, each width trained to its T(P) (Figs. 1a-c, 2)",
                    lambda scale, h, gamma_factor=1.0: collapse_configs(sizes[scale], h, gamma_factor),
                    horizon_from=f"{name}_horizon", widths=widths, seeds=seeds))
    register(Ladder(f"{name}_constant", name, "const",
                    f"{what}: constant LR, each width trained to the same T(P) as {name}_collapse (Fig. 3)",
                    lambda scale, h: collapse_configs(sizes[scale], h, schedule="const"),
                    horizon_from=f"{name}_horizon", widths=widths, seeds=seeds))
    register(Ladder(f"{name}_gamma", name, "linear",
                    f"{what}: linear decay, data exponent multiplied by 1.2/1.02 (Fig. 4 bottom)",
                    lambda scale, h: collapse_configs(sizes[scale], h, 1.2 / 1.02),
                    horizon_from=f"{name}_horizon", widths=widths, seeds=seeds))
    register(Ladder(f"{name}_depth", name, "linear",
                    f"{what}: depths N at one width, branch multiplier 3/N, linear decay to T(P) (Fig. 9)",
                    lambda scale, h: depth_configs(sizes[scale], h), horizon_from=f"{name}_horizon",
                    widths=lambda scale: (sizes[scale].depth_width,), seeds=seeds))


# Pixels (dead leaves, SPEC §2.3): 16x16 images (L = 256) at cpu. Not piloted yet: the steps give the horizon runs
# the same 20M tokens as chess; measure the cost before training them.
PIXELS = {
    "smoke": TransformerSizes("pixels", "dead_leaves16_small", pixels.V, 256, widths=(8, 16, 24, 32),
                              collapse_widths=(8, 16, 24), seeds=(0, 1), horizon_seeds=(0, 1), steps=12, B=2,
                              warmup=2, head_dim=8, eval_size=2048, n_evals=10, depths=(1, 2), max_steps=12),
    "cpu": TransformerSizes("pixels", "dead_leaves16", pixels.V, 256, widths=(8, 16, 24, 32, 48),
                            collapse_widths=(16, 24, 32), seeds=(0, 1, 2, 3, 4), horizon_seeds=(0,), steps=2500, B=32,
                            warmup=50, head_dim=8, eval_size=32768, n_evals=120, depths=(1, 2, 3, 4, 6)),
    "gpu": TransformerSizes("pixels", "dead_leaves32", pixels.V, 1024, widths=(128, 192, 256, 384, 512, 768),
                            collapse_widths=(192, 256, 384, 512), seeds=(0, 1, 2, 3, 4), horizon_seeds=(0, 1),
                            steps=20000, B=32, warmup=500, head_dim=64, eval_size=1 << 21, n_evals=400,
                            depths=(1, 2, 3, 4, 6)),
}

_register("chess", CHESS, "character-level chess transformer (D = 16–32 at cpu)")
_register("pixels", PIXELS, "dead-leaves pixel transformer, 16x16 images (D = 16–32 at cpu)")
