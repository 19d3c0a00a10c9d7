"""Sweeps through Dask (issue 12): a real LocalCluster of 2 worker processes, shared by the tests of this file.

Smoke ladders only. Through the cluster, every curve is bit-identical to a serial run in this process; a worker
killed mid-run leaves each run stored exactly once and no partial entry; a client interrupted mid-sweep leaves
nothing half-written and its rerun trains only what is missing.
"""
import dataclasses
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from supercollapse import study
from supercollapse.engine.config import run_key
from supercollapse.execute import RunsFailed
from supercollapse.execute.cluster import Cluster, DaskExecutor
from supercollapse.execute.local import LocalExecutor
from supercollapse.store.runs import RunStore, curated

from test_cli import assert_one_line_error, cli_many


@pytest.fixture(scope="module")
def executor():
    with DaskExecutor(Cluster(workers=2)) as ex:
        yield ex


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The smoke `first` ladder trained one run after another in this process."""
    cfgs = study.configs("first", "smoke")
    return cfgs, LocalExecutor().train(cfgs, RunStore(tmp_path_factory.mktemp("serial")), progress=False)


def assert_same_curves(stored, reference):
    assert [r.key for r in stored] == [r.key for r in reference]
    for a, b in zip(stored, reference):
        assert a.curves.keys() == b.curves.keys()
        for name in a.curves:
            np.testing.assert_array_equal(a.curves[name], b.curves[name], err_msg=f"{a.key} {name}")


def test_cluster_curves_are_bit_identical_to_serial_and_a_diverged_run_is_reported(executor, serial, tmp_path):
    cfgs, reference = serial
    diverging = dataclasses.replace(cfgs[0], base_lr=1e30)
    store = RunStore(tmp_path)
    with pytest.raises(RunsFailed, match=rf"1 of 5 runs did not finish.*run {run_key(diverging)} diverged.*at step"):
        executor.train([*cfgs, diverging], store, progress=False)
    assert store.keys() == sorted(r.key for r in reference) and store.verify() == []  # nothing of the diverged run
    stored = [store.load(r.key) for r in reference]
    assert_same_curves(stored, reference)
    assert all(r.meta["wall_time_s"] > 0 and r.meta["source_sha256"] and r.meta["resumed_at_steps"] == []
               for r in [*stored, *reference])

    def no_submission(*args, **kwargs):
        raise AssertionError("a stored run was submitted again")

    client_submit, executor.client.submit = executor.client.submit, no_submission
    try:  # stored runs are never resubmitted; a config given twice is one run
        assert_same_curves(executor.train([*cfgs, cfgs[0]], store, progress=False)[:-1], reference)
    finally:
        executor.client.submit = client_submit


def test_a_worker_killed_mid_run_is_replaced_and_each_run_stored_once(executor, serial, tmp_path):
    cfgs, reference = serial
    client, killed = executor.client, []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            busy = [w for w, keys in client.processing().items() if any(str(k).startswith("train-") for k in keys)]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    store = RunStore(tmp_path)
    try:
        stored = executor.train(cfgs, store, progress=False)
    finally:
        killer.join()
    assert killed, "no worker was busy to be killed"
    assert store.keys() == sorted(r.key for r in reference) and store.verify() == []  # once each, nothing partial
    assert_same_curves(stored, reference)
    client.wait_for_workers(2, timeout=120)  # the nanny replaced the killed worker, for the next test


def _sweep(address, cache):
    env = dict(os.environ, SUPERCOLLAPSE_CACHE=str(cache), SUPERCOLLAPSE_PROGRESS="0")
    return subprocess.Popen([sys.executable, "-m", "supercollapse", "sweep", "first", "--scale", "smoke",
                             "--scheduler", address, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def test_a_client_stopped_mid_sweep_leaves_nothing_half_written_and_its_rerun_continues(executor, tmp_path):
    # The workers compiled this ladder's shapes in the tests above: its runs take seconds.
    address, runs = executor.client.scheduler.address, RunStore(tmp_path / "runs")
    cfgs = study.configs("first", "smoke")
    todo = [run_key(c) for c in cfgs if not curated().has(run_key(c))]
    first = _sweep(address, tmp_path)
    deadline = time.monotonic() + 240
    while not runs.keys() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    if first.returncode == 0 and len(runs.keys()) == len(todo):  # a race, not a fault: no run was left to stop
        pytest.skip("the sweep stored every run before the signal reached it")
    assert first.returncode == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("supercollapse: interrupted; nothing half-written"), err
    assert runs.verify() == [], runs.verify()
    kept = len(runs.keys())
    assert 1 <= kept < len(todo), f"{kept} of the {len(todo)} runs were stored when the client was stopped"

    second = _sweep(address, tmp_path)
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    stored = len(cfgs) - len(todo) + kept
    assert f"{stored} of {len(cfgs)} runs stored, training {len(cfgs) - stored}" in err
    assert runs.keys() == sorted(todo) and runs.verify() == []


def test_sweep_configuration_errors_are_one_line_before_anything_starts_and_dry_run_lists_costs(tmp_path):
    calls = [["sweep", "nonsense", "--workers", "2"], ["sweep", "first", "--scale", "huge"],
             ["sweep", "first", "--workers", "0"], ["sweep", "first", "--scheduler", "tcp://127.0.0.1:9"],
             ["sweep", "first", "--slurm", "cores"], ["sweep", "collapse", "--scale", "smoke", "--dry-run"]]
    without_jobqueue = importlib.util.find_spec("dask_jobqueue") is None  # the `slurm` extra
    if without_jobqueue:  # (with it, this would submit SLURM jobs)
        calls.append(["sweep", "first", "--scale", "smoke", "--slurm", "cores=2"])
    unknown, scale, workers, unreachable, slurm, dry, *jobqueue = cli_many(*calls, cache=tmp_path)
    assert_one_line_error(unknown, 2, "unknown ladder 'nonsense'; valid:", "first")
    assert_one_line_error(scale, 2, "--scale", "invalid choice: 'huge'")
    assert_one_line_error(workers, 2, "--workers 0 is invalid; valid: a positive integer")
    assert_one_line_error(unreachable, 2, "cannot reach a Dask scheduler at tcp://127.0.0.1:9")
    assert_one_line_error(slurm, 2, "--slurm 'cores' is not KEY=VALUE")
    if without_jobqueue:
        assert_one_line_error(jobqueue[0], 2, "--slurm needs dask-jobqueue", "pip install -e '.[slurm]'")
    assert not (tmp_path / "runs").exists()

    # --dry-run: the horizon ladder's runs with FLOPs and time, then the collapse ladder fitted on them.
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == "ladder horizon at scale smoke: 8 runs to train"
    keys = {run_key(c) for c in study.configs("horizon", "smoke")}
    assert {line.split()[0] for line in lines[1:9]} == keys and all("PFLOP" in line for line in lines[1:9])
    assert "total" in lines[9] and "ladder collapse at scale smoke: 8 runs" in lines[10]
