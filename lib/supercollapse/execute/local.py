"""The local executor: train missing runs one after another in this process, checkpointing into the cache."""
from __future__ import annotations

import time

from .. import paths
from ..engine.config import RunConfig, run_key
from ..store import provenance
from ..store.runs import Run, RunStore


class LocalExecutor:
    def train(self, configs: list[RunConfig], store: RunStore, *, progress: bool) -> list[Run]:
        import jax
        from tqdm.auto import tqdm

        from ..engine.train import train

        dev = jax.devices()[0]
        device = f"{dev.platform}:{getattr(dev, 'device_kind', '')}"
        out = []
        for cfg in tqdm(configs, desc="runs", unit="run", disable=not progress):
            key = run_key(cfg)
            meta = provenance.environment(device)  # before training: the code as it was when the run started
            t0 = time.perf_counter()
            curves = train(cfg, checkpoint_dir=paths.cache_dir() / "checkpoints" / key, progress=progress)
            out.append(store.save(cfg, curves, {**meta, "wall_time_s": round(time.perf_counter() - t0, 3)}))
        return out
