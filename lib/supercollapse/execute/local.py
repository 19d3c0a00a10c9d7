"""The local executor: train missing runs one after another in this process, checkpointing into the cache."""
from __future__ import annotations

from .. import paths
from ..engine.config import RunConfig, run_key
from ..store import provenance
from ..store.runs import Run, RunStore
from . import check_failures


def train_one(cfg: RunConfig, *, progress: bool) -> tuple[dict, dict]:
    """One run trained in this process: its curves and its provenance (with the wall time of every part, and the
    steps it resumed at when it continued from checkpoints).

    Checkpoints go to this process's cache, so a run interrupted here, or retried on a worker of the same machine,
    resumes; TrainingDiverged names the run and the step.
    """
    import jax

    from ..engine.train import train

    dev = jax.devices()[0]
    meta = provenance.environment(f"{dev.platform}:{getattr(dev, 'device_kind', '')}")  # the code as the run began
    timing: dict = {}
    curves = train(cfg, checkpoint_dir=paths.cache_dir() / "checkpoints" / run_key(cfg), progress=progress,
                   timing=timing)
    return curves, {**meta, **timing}


class LocalExecutor:
    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def train(self, configs: list[RunConfig], store: RunStore, *, progress: bool) -> list[Run]:
        from tqdm.auto import tqdm

        from ..engine.train import TrainingDiverged

        out, failed = [], []
        for cfg in tqdm(configs, desc="runs", unit="run", disable=not progress):
            try:
                out.append(store.save(cfg, *train_one(cfg, progress=progress)))
            except TrainingDiverged as e:  # the sweep goes on; the run is reported at the end
                failed.append(str(e))
        check_failures(failed, len(out))
        return out
