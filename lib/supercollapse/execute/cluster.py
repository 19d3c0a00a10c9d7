"""The Dask executor: one task per missing run on a Dask cluster, each result written into the run store on the
client as it arrives, so that workers need no shared filesystem and the store stays the single truth.

Three clusters (`Cluster`): worker processes on this machine, a scheduler already running, or SLURM jobs through
dask-jobqueue (the `slurm` extra). A worker killed mid-run is replaced and its task run again elsewhere (resuming
from its checkpoint when the new worker can reach it: same machine or shared cache); a run that diverges is
reported by key and step and the sweep goes on.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass

from distributed.diagnostics.plugin import WorkerPlugin

from ..engine.config import RunConfig, run_key
from ..store.runs import Run, RunStore
from . import check_failures
from .local import train_one

SLURM_INSTALL = "--slurm needs dask-jobqueue: pip install -e '.[slurm]' (or pip install dask-jobqueue)"
_CONNECT_S = 10  # an unreachable scheduler is reported after this long, before anything is trained
_SLURM_LISTS = ("job_extra_directives", "worker_extra_args", "job_script_prologue")  # KEY=VALUE repeated: a list
# One thread per XLA CPU client (the JAX FAQ's recipe), so that N workers on N cores do not oversubscribe them.
_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def _worker_env() -> dict[str, str]:
    """What a worker process of this machine starts with: one XLA thread, no preallocation of a GPU's memory."""
    return {"XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {_ONE_THREAD}".strip(),
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


def _local_gpus() -> list[str]:
    """This machine's CUDA devices, as CUDA_VISIBLE_DEVICES names them (asked of nvidia-smi, not of JAX, so that
    the client holds no device)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return [d for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU")]


class OneDevice(WorkerPlugin):
    """Worker i of a local cluster sees only GPU i mod n (set before its first task imports JAX)."""

    def __init__(self, devices: list[str]):
        self.devices = devices

    def setup(self, worker):
        os.environ["CUDA_VISIBLE_DEVICES"] = self.devices[int(worker.name) % len(self.devices)]


def _slurm_options(args: tuple[str, ...]) -> tuple[dict, int]:
    """SLURMCluster keyword arguments and the number of jobs, from KEY=VALUE words."""
    options, jobs = {}, 1
    for word in args:
        key, sep, value = word.partition("=")
        if not (sep and key and value):
            raise ValueError(f"--slurm {word!r} is not KEY=VALUE; valid: SLURMCluster options such as queue=gpu "
                             "cores=8 memory=32GB walltime=02:00:00, and jobs=N")
        if key == "jobs":
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"--slurm jobs={value} is invalid; valid: a positive integer")
            jobs = int(value)
        elif key in _SLURM_LISTS:
            options.setdefault(key, []).append(value)
        else:
            options[key] = int(value) if value.isdigit() else value
    return options, jobs


@dataclass(frozen=True)
class Cluster:
    """Where a sweep runs: `workers` processes on this machine, a running `scheduler`, or `slurm` jobs (KEY=VALUE
    options of dask_jobqueue.SLURMCluster, plus jobs=N)."""

    workers: int | None = None
    scheduler: str | None = None
    slurm: tuple[str, ...] | None = None

    def __post_init__(self):
        given = [f"--{n}" for n in ("workers", "scheduler", "slurm") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"{' and '.join(given)} were both given; valid: one of --workers, --scheduler, --slurm")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 1):
            raise ValueError(f"--workers {self.workers} is invalid; valid: a positive integer")
        if self.slurm is not None:
            _slurm_options(self.slurm)

    @classmethod
    def configured(cls) -> Cluster:
        """Dask's configured `scheduler-address` (DASK_SCHEDULER_ADDRESS, or a Dask config file), else one worker
        per core of this machine."""
        import dask

        address = dask.config.get("scheduler-address", None)
        return cls(scheduler=address) if address else cls(workers=os.cpu_count() or 1)

    @property
    def local(self) -> bool:
        """Whether the workers run on this machine (their progress bars would share this terminal)."""
        return self.workers is not None

    def connect(self, stack: contextlib.ExitStack):
        """A Client of this cluster, started (local workers, SLURM jobs) or reached; closed with `stack`."""
        import dask
        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines would bury the sweep's bar
        if self.scheduler is not None:
            try:
                return stack.enter_context(Client(self.scheduler, timeout=_CONNECT_S))
            except (OSError, TimeoutError, ValueError) as e:
                raise ValueError(f"cannot reach a Dask scheduler at {self.scheduler} ({e}); valid: the address a "
                                 "running `dask scheduler` prints, such as tcp://host:8786") from None
        if self.slurm is not None:
            try:
                from dask_jobqueue import SLURMCluster
            except ImportError:
                raise ValueError(SLURM_INSTALL) from None
            options, jobs = _slurm_options(self.slurm)
            cores = options.get("cores")
            if cores is not None and options.setdefault("processes", cores) == cores:
                # Single-threaded workers, as on this machine, unless the options say otherwise.
                options.setdefault("job_script_prologue", []).append(f"export XLA_FLAGS='{_ONE_THREAD}'")
            options.setdefault("job_script_prologue", []).append("export XLA_PYTHON_CLIENT_PREALLOCATE=false")
            cluster = stack.enter_context(SLURMCluster(**options))
            cluster.scale(jobs=jobs)
            return stack.enter_context(Client(cluster))
        # spawn, not fork: JAX is multithreaded (the default of distributed; said here because it matters).
        with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
            cluster = stack.enter_context(LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                                       env=_worker_env(), silence_logs=logging.ERROR,
                                                       dashboard_address=":0"))
        client = stack.enter_context(Client(cluster))
        if devices := _local_gpus():
            client.register_plugin(OneDevice(devices))
        return client


def _train_task(cfg: RunConfig, progress: bool) -> tuple[dict, dict]:
    """What a worker runs: one run, its curves and provenance sent back to the client."""
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # before JAX starts: workers may share a GPU
    return train_one(cfg, progress=progress)


class DaskExecutor:
    """Train runs as Dask tasks; write each result into the store on the client, once."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.client = None
        self._stack = None

    def __enter__(self) -> DaskExecutor:
        self._stack = contextlib.ExitStack()
        try:
            self.client = self.cluster.connect(self._stack)
        except BaseException:
            self._stack.close()
            raise
        logging.getLogger(__name__).info("Dask dashboard: %s", self.client.dashboard_link)
        return self

    def __exit__(self, *exc) -> None:
        self.client = None
        self._stack.close()

    def train(self, configs: list[RunConfig], store: RunStore, *, progress: bool) -> list[Run]:
        if self.client is None:  # not held open by a `with`: a cluster for this call only
            with self:
                return self.train(configs, store, progress=progress)
        from distributed import as_completed
        from tqdm.auto import tqdm

        done, todo = {}, {}
        for cfg in configs:
            key = run_key(cfg)
            if store.has(key) and store.problem(key) is None:  # stored already: never resubmitted
                done[key] = store.load(key)
            else:
                todo.setdefault(key, cfg)
        # The task's name is the run key: a run submitted twice is one task, its result one entry.
        futures = {self.client.submit(_train_task, cfg, progress and not self.cluster.local, key=f"train-{key}",
                                      pure=False): key for key, cfg in todo.items()}
        failed = []
        bar = tqdm(total=len(done) + len(todo), initial=len(done), desc="sweep", unit="run", disable=not progress)
        try:
            for future in as_completed(futures):
                key = futures[future]
                if future.status == "finished":
                    if not (store.has(key) and store.problem(key) is None):
                        store.save(todo[key], *future.result())  # atomic: an interrupted client leaves no half entry
                    done[key] = store.load(key)
                else:  # diverged (its message names the step), or its workers kept dying (KilledWorker)
                    e = future.exception()
                    failed.append(str(e) if key in str(e) else f"run {key}: {type(e).__name__}: {e}")
                future.release()
                bar.update()
        finally:
            bar.close()
            if running := [f for f in futures if not f.done()]:  # interrupted: nothing left running for us
                self.client.cancel(running)
        check_failures(failed, len(done))
        return [done[run_key(c)] for c in configs]
