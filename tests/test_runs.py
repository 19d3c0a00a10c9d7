import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from supercollapse import execute
from supercollapse.store import provenance, runs
from supercollapse.engine.config import RunConfig, run_key


def fake_curves(n=5, scale=1.0):
    steps = np.arange(n)
    return {"step": steps, "tokens": steps * 4096, "compute": steps * 1e-6, "lr": np.full(n, 0.01),
            "tau": steps * 0.01, "train_loss": scale / (1 + steps), "test_loss": scale / (1 + steps)}


CFG = RunConfig(D=32, T=4096 * 20, seed=1)


def test_save_load_hit_miss(tmp_path):
    store = runs.RunStore(tmp_path)
    assert not store.has(run_key(CFG)) and store.keys() == []
    run = store.save(CFG, fake_curves(), {"wall_time_s": 1.0})
    assert store.has(run.key) and store.keys() == [run.key]
    back = store.load(run.key)
    assert back.config == CFG and back.meta["wall_time_s"] == 1.0
    np.testing.assert_array_equal(back.curves["test_loss"], fake_curves()["test_loss"])
    assert store.verify() == []


def test_missing_columns_rejected(tmp_path):
    with pytest.raises(ValueError, match="lack columns"):
        runs.RunStore(tmp_path).save(CFG, {"step": np.arange(3)})


def test_load_or_train_trains_only_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runs.paths, "CURATED_RUNS", tmp_path / "curated")
    trained = []

    import supercollapse.engine.train as train_mod

    def fake_train(cfg, **kw):
        trained.append(cfg)
        return fake_curves(scale=cfg.seed + 1.0)

    monkeypatch.setattr(train_mod, "train", fake_train)
    monkeypatch.setattr(provenance, "environment", lambda device: {})
    runs.curated().save(CFG, fake_curves())
    other = CFG.replace(seed=2)
    with pytest.raises(runs.MissingRuns, match="1 of 2 runs are not stored"):
        execute.ensure([CFG, other], allow_train=False)
    got = execute.ensure([CFG, other], allow_train=True, progress=False)
    assert trained == [other] and [r.config for r in got] == [CFG, other]
    assert runs.cache().has(run_key(other))
    execute.ensure([CFG, other], allow_train=True, progress=False)
    assert trained == [other]  # a second call is all hits


def test_verify_catches_tampering(tmp_path):
    store = runs.RunStore(tmp_path)
    a = store.save(CFG, fake_curves())
    b = store.save(CFG.replace(seed=2), fake_curves())
    doc = json.loads((tmp_path / a.key / "config.json").read_text())
    doc["config"]["base_lr"] = 1.0
    (tmp_path / a.key / "config.json").write_text(json.dumps(doc))
    np.savez(tmp_path / b.key / "curves.npz", **fake_curves(scale=0.5))
    problems = store.verify()
    assert any(a.key in p and "hashes to" in p for p in problems)
    assert any(b.key in p and "SHA-256" in p for p in problems)


def _writer(root, seed):
    runs.RunStore(root).save(CFG, fake_curves())


def test_concurrent_writers_same_key(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(tmp_path, i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 4
    store = runs.RunStore(tmp_path)
    assert store.keys() == [run_key(CFG)] and store.verify() == []
    assert [p.name for p in tmp_path.iterdir()] == [run_key(CFG)]


def test_a_write_in_progress_is_not_debris(tmp_path):
    store = runs.RunStore(tmp_path)
    live, dead = tmp_path / f".tmp-{os.getpid()}-k-a", tmp_path / ".tmp-999999999-k-b"
    live.mkdir(), dead.mkdir()
    assert store.verify() == [f"{dead.name}: an interrupted write (safe to delete)"] and store.keys() == []
    assert store.repair() == [dead.name] and live.is_dir() and not dead.exists()


def test_killed_mid_write_leaves_no_entry(tmp_path):
    # A real process, paused inside save() after the curves are written, killed with SIGKILL.
    script = textwrap.dedent(f"""
        import time, numpy as np
        from supercollapse.store import runs
        from supercollapse.engine.config import RunConfig
        real = np.savez
        def slow(*a, **k):
            real(*a, **k); print("writing", flush=True); time.sleep(60)
        runs.np.savez = slow
        runs.RunStore({str(tmp_path)!r}).save(RunConfig(D=32, T=4096 * 20, seed=1), {fake_curves.__name__}())
    """)
    src = "import numpy as np\n" + textwrap.dedent(__import__("inspect").getsource(fake_curves)) + script
    proc = subprocess.Popen([sys.executable, "-c", src], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    store = runs.RunStore(tmp_path)
    assert store.keys() == [] and not store.has(run_key(CFG))
    assert any("interrupted write" in p for p in store.verify())
    store.save(CFG, fake_curves())  # the next writer is not blocked by the debris
    assert store.has(run_key(CFG))
