"""The `supercollapse` command end to end, through real subprocesses (issue 2 §3-4, issue 4 "The collapse
diagnostic"): `diagnose` on files and on the book's ladders, `ladders`, and `runs list|show|verify`.

Each subprocess pays ~1-2 s of imports, so independent invocations run concurrently (`cli_many`) and each
test groups its assertions. Ladder and run-store tests point SUPERCOLLAPSE_CACHE at a temporary folder; the
curated store (`data/runs/`) is only read, and the tests do not assume it is empty.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from supercollapse import study
from supercollapse.experiments import registry
from supercollapse.experiments.schedules import MIXED
from supercollapse.scales import SCALES
from supercollapse.store import runs
from supercollapse.engine.config import run_key

REPORT_KEYS = {"L0", "a", "b", "x", "delta", "sigma_mean", "window_mean_ratio", "onset", "verdict"}
L0_TRUE = 0.05


def _cmd(args):
    return [sys.executable, "-m", "supercollapse", *map(str, args)]


def _env(cache=None):
    env = dict(os.environ, SUPERCOLLAPSE_PROGRESS="0")
    if cache is not None:
        env["SUPERCOLLAPSE_CACHE"] = str(cache)
    return env


def cli(*args, cache=None):
    return subprocess.run(_cmd(args), capture_output=True, text=True, timeout=300, env=_env(cache))


def cli_many(*arg_lists, cache=None):
    """Run several independent invocations at once; results in the same order."""
    procs = [subprocess.Popen(_cmd(a), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(cache))
             for a in arg_lists]
    out = []
    for p, a in zip(procs, arg_lists):
        stdout, stderr = p.communicate(timeout=300)
        out.append(subprocess.CompletedProcess(_cmd(a), p.returncode, stdout, stderr))
    return out


def assert_one_line_error(r, status, *phrases):
    """Exit `status`, nothing on stdout, exactly one stderr line containing every phrase, no traceback."""
    where = f"{r.args[3:]}: rc={r.returncode} stderr={r.stderr!r}"
    assert r.returncode == status, where
    assert "Traceback" not in r.stderr and r.stdout == "", where
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("supercollapse"), where
    for phrase in phrases:
        assert phrase in lines[0], f"{phrase!r} not in {where}"


def synthetic_ladder(n_sizes=4, n_seeds=3, n_points=100, seed=0):
    """L = L0 + A·C_final^(-b)·f(x)·(seed factor)·(1 + tiny noise), x = C/C_final: the seed factor cancels in
    the normalization (supercollapse), and the final losses lie on a power law in C_final with offset L0."""
    rng = np.random.default_rng(seed)
    x = np.linspace(1 / n_points, 1, n_points)
    f = 1 + 3 * (1 - x) ** 1.5
    parts = []
    for k in range(n_sizes):
        P = 100_000 * 2**k
        C_final = 1e-3 * 4**k
        z = rng.normal(size=n_seeds)
        factors = 1 + 0.02 * (z - z.mean())  # centred: the seed mean lies on the power law, so L0 is known
        for s in range(n_seeds):
            loss = L0_TRUE + 0.3 * C_final**-0.1 * f * factors[s] * (1 + 1e-4 * rng.normal(size=n_points))
            parts.append(pd.DataFrame({"P": P, "seed": s, "compute": C_final * x, "loss": loss}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def ladder_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("ladders")
    good = synthetic_ladder()
    good.to_csv(d / "ladder.csv", index=False)
    good.to_parquet(d / "ladder.parquet")
    good.drop(columns="loss").to_csv(d / "no_loss.csv", index=False)
    good[good["seed"] == 0].to_csv(d / "one_seed.csv", index=False)
    good[good["P"] == good["P"].min()].to_csv(d / "one_size.csv", index=False)
    bad = good.copy()
    bad.loc[7, "loss"] = np.inf
    bad.to_csv(d / "inf.csv", index=False)
    (d / "ladder.txt").write_text(good.to_csv(index=False))
    good.assign(compute=good["compute"] / good.groupby("P")["compute"].transform("max")).to_csv(d / "flat.csv",
                                                                                            index=False)
    (d / "folder.csv").mkdir()
    return d


def test_diagnose_csv_and_parquet_table_json_L0_window(ladder_files):
    csv, pq = ladder_files / "ladder.csv", ladder_files / "ladder.parquet"
    table, as_json, window, given = cli_many(
        ["diagnose", csv], ["diagnose", pq, "--json"], ["diagnose", csv, "--json", "--window", "0.6", "0.9"],
        ["diagnose", csv, "--json", "--L0", "0.1"])
    for r in (table, as_json, window, given):
        assert r.returncode == 0 and "Traceback" not in r.stderr, (r.args, r.stderr)

    # The text table: the fit, one row per x = 0.1 ... 0.9, the window summary, the onset and the verdict.
    out = table.stdout
    assert "ladder: 4 sizes" in out and "12 runs" in out and "L0 = " in out and "a = " in out
    assert "sigma_mean" in out and "delta" in out
    assert [line.split()[0] for line in out.splitlines() if line.strip().startswith("0.")] == \
        [f"{0.1 * k:.2f}" for k in range(1, 10)]
    assert "mean delta/sigma on x in [0.5, 0.95]" in out and "onset" in out
    assert "verdict: supercollapse" in out.strip().splitlines() and "cross-size" in out.strip().splitlines()[-1]

    # --json (from the Parquet file): one JSON object with the keys; L0 recovered; the same numbers as CSV.
    d = json.loads(as_json.stdout)
    assert REPORT_KEYS <= set(d)
    assert d["x"] == pytest.approx([0.1 * k for k in range(1, 10)])
    assert len(d["delta"]) == len(d["sigma_mean"]) == 9 and all(v >= 0 for v in d["delta"] + d["sigma_mean"])
    assert d["L0"] == pytest.approx(L0_TRUE, rel=0.05) and d["a"] > 0 and d["b"] > 0
    assert d["verdict"] == "supercollapse" and d["window_mean_ratio"] < 1
    assert d["onset"] is not None and d["onset"] <= 0.5
    assert d["n_runs"] == 12 and d["n_seeds"] == 3 and d["window"] == [0.5, 0.95]
    assert f"L0 = {d['L0']:.6g}" in out  # the table shows the same fit

    # --window changes the window (and its mean), not the curves.
    w = json.loads(window.stdout)
    assert w["window"] == [0.6, 0.9] and w["delta"] == pytest.approx(d["delta"]) and w["L0"] == pytest.approx(d["L0"])
    assert w["window_mean_ratio"] != pytest.approx(d["window_mean_ratio"], rel=1e-9)

    # --L0 VALUE: no fit, the given offset.
    g = json.loads(given.stdout)
    assert g["L0"] == 0.1 and g["a"] is None and g["b"] is None and g["L0_source"] == "given"
    assert g["delta"] != pytest.approx(d["delta"])


def test_diagnose_bad_input_exits_2_with_one_line(ladder_files, tmp_path):
    d = ladder_files
    cases = [
        (["diagnose", d / "no_loss.csv"], ("missing column(s) loss", "valid input has")),
        (["diagnose", d / "one_seed.csv"], ("fewer than 2 seeds",)),
        (["diagnose", d / "one_size.csv"], ("only 1 size",)),
        (["diagnose", d / "inf.csv"], ("non-finite", "loss")),
        (["diagnose", d / "ladder.txt"], ("unknown file type '.txt'", ".csv", ".parquet")),
        (["diagnose", tmp_path / "absent.csv"], ("absent.csv: no such file",)),
        (["diagnose", d / "ladder.csv", "--L0", "abc"], ("'auto' or a number", "'abc'")),
        (["diagnose", d / "ladder.csv", "--ladder", "first"], ("either FILE or --ladder",)),
        (["diagnose"], ("either FILE or --ladder",)),
        (["diagnose", d / "ladder.csv", "--window", "a", "b"], ("--window", "invalid float value: 'a'")),
        (["diagnose", d / "folder.csv"], ("folder.csv is a directory",)),
        (["diagnose", d / "flat.csv"], ("final compute (PFLOP) does not grow with size", "--allow-flat-compute")),
        (["diagnose", d / "ladder.csv", "--plot", tmp_path / "x.pdf"], ("--plot", "'.pdf'", ".html, .png, .svg")),
        (["diagnose", d / "ladder.csv", "--plot", tmp_path / "no" / "x.html"], ("--plot", "does not exist")),
    ]
    for r, (_, phrases) in zip(cli_many(*(args for args, _ in cases)), cases):
        assert_one_line_error(r, 2, *phrases)


def test_diagnose_plot_writes_a_page_that_opens_offline(ladder_files, tmp_path):
    r = cli("diagnose", ladder_files / "ladder.csv", "--plot", tmp_path / "d.html")
    assert r.returncode == 0 and "verdict: supercollapse" in r.stdout and r.stderr == "", r.stderr
    page = (tmp_path / "d.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "vegaEmbed" in page and "Δ/σ̄ = " in page
    assert '<script src="http' not in page and not list(tmp_path.glob(".tmp-*"))  # the bundle is inlined


def test_diagnose_forty_runs_of_a_thousand_points(tmp_path, capsys):
    synthetic_ladder(n_sizes=5, n_seeds=8, n_points=1000).to_csv(tmp_path / "big.csv", index=False)
    small = tmp_path / "small.csv"
    synthetic_ladder(n_sizes=3, n_seeds=2, n_points=20).to_csv(small, index=False)
    timings = {}
    for name in ("small", "big"):
        start = time.perf_counter()
        r = cli("diagnose", tmp_path / f"{name}.csv", "--json")
        timings[name] = time.perf_counter() - start
        assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["n_runs"] == 40 and d["verdict"] == "supercollapse"
    with capsys.disabled():
        print(f"\n[test_cli] `supercollapse diagnose big.csv --json` (40 runs x 1000 points): {timings['big']:.2f} s "
              f"wall; the same command on 6 runs x 20 points (start-up and imports): {timings['small']:.2f} s")


# ---- the book's ladders --------------------------------------------------------------------------------


def _fake_curves(cfg, rng, n=20):
    """Loss curves of a clean ladder: compute grows with width, seed factors cancel in the normalization."""
    x = np.linspace(0.05, 1, n)
    C_final = 1e-6 * cfg.D**2
    loss = (L0_TRUE + 0.3 * C_final**-0.1 * (1 + 3 * (1 - x) ** 1.5) * (1 + 0.02 * rng.normal())
            * (1 + 1e-4 * rng.normal(size=n)))
    steps = np.arange(n)
    return {"step": steps, "tokens": steps * cfg.B, "compute": C_final * x, "lr": np.full(n, cfg.base_lr),
            "tau": steps * cfg.base_lr, "train_loss": loss, "test_loss": loss}


def _not_curated(candidates):
    """The first (ladder, scale) with a run missing from the curated store (the cache is a fresh folder)."""
    curated = runs.curated()
    for name, scale in candidates:
        if not all(curated.has(run_key(c)) for c in study.configs(name, scale)):
            return name, scale
    pytest.skip(f"every run of {candidates} is in the curated store")


@pytest.fixture
def store_with_first_smoke(tmp_path):
    """A cache holding fake runs for every config of the `first` ladder at smoke scale."""
    store = runs.RunStore(tmp_path / "runs")
    rng = np.random.default_rng(0)
    cfgs = study.configs("first", "smoke")
    for cfg in cfgs:
        store.save(cfg, _fake_curves(cfg, rng))
    return tmp_path, store, cfgs


def test_diagnose_ladder_missing_runs_and_unknown_name(tmp_path):
    name, scale = _not_curated([("first", "gpu"), ("first", "cpu"), ("first", "smoke")])
    horizon_scale = next((s for s in ("smoke", "cpu", "gpu")
                          if not all(runs.curated().has(run_key(c)) for c in study.configs("horizon", s))), None)
    calls = [["diagnose", "--ladder", name, "--scale", scale], ["diagnose", "--ladder", "nonsense"]]
    if horizon_scale:
        calls.append(["diagnose", "--ladder", "collapse", "--scale", horizon_scale])
    missing, nonsense, *collapse = cli_many(*calls, cache=tmp_path)
    # Runs not stored: say so, and say how to get them (the chapter that trains them, at that scale).
    assert_one_line_error(missing, 1, f"of ladder '{name}' at scale {scale} are not stored",
                          f"`supercollapse train {name} --scale {scale}`")
    assert "allow_train" not in missing.stderr  # a chapter parameter, not something the command takes
    # An unknown ladder: the valid names.
    assert_one_line_error(nonsense, 2, "unknown ladder 'nonsense'; valid:", *sorted(registry.ladders()))
    if collapse:  # its horizons come from another ladder's runs: name that ladder and its chapter
        assert_one_line_error(collapse[0], 1, "ladder 'collapse'", "'horizon'", "not stored",
                              f"`supercollapse train horizon --scale {horizon_scale}`")


def test_diagnose_ladder_and_ladders_from_the_store(store_with_first_smoke):
    cache, _, cfgs = store_with_first_smoke
    diag, table, as_json = cli_many(["diagnose", "--ladder", "first", "--scale", "smoke", "--L0", "0.05", "--json"],
                                    ["ladders"], ["ladders", "--json"], cache=cache)
    # diagnose --ladder reads the stored runs (two sizes: L0 must be given, a fit needs three).
    assert diag.returncode == 0, diag.stderr
    d = json.loads(diag.stdout)
    assert REPORT_KEYS <= set(d) and d["n_runs"] == len(cfgs) == 4 and d["L0"] == 0.05
    assert d["size_column"] == "P" and len(d["sizes"]) == 2
    if not any(runs.curated().has(run_key(c)) for c in cfgs):  # else the curated (real) runs come first
        assert d["verdict"] == "supercollapse"

    # ladders --json: every ladder at every scale, with what the issue asks for.
    assert as_json.returncode == 0 and table.returncode == 0, as_json.stderr + table.stderr
    rows = json.loads(as_json.stdout)
    assert {(r["name"], r["scale"]) for r in rows} == {(n, s) for n in registry.ladders() for s in SCALES}
    for r in rows:
        assert {"name", "task", "schedule", "widths", "seeds", "scale", "runs", "stored"} <= set(r)
        assert r["task"] == registry.ladders()[r["name"]].task and r["schedule"] in ("const", "linear", MIXED)
        if r["note"] is None:  # the configs are known: counts agree with the preset
            cfgs_r = study.configs(r["name"], r["scale"])
            assert r["widths"] == sorted({c.D for c in cfgs_r}) and r["seeds"] == sorted({c.seed for c in cfgs_r})
            assert r["runs"] == len(cfgs_r) and 0 <= r["stored"] <= r["runs"]
        else:  # a ladder whose horizons wait for another ladder's runs says so
            assert "horizon" in r["note"] and r["stored"] == 0
    first = {r["scale"]: r for r in rows if r["name"] == "first"}
    assert first["smoke"]["widths"] == [16, 32] and first["smoke"]["seeds"] == [0, 1]
    assert first["smoke"]["runs"] == first["smoke"]["stored"] == 4
    # The text listing: one line per ladder and scale.
    lines = table.stdout.strip().splitlines()
    assert len(lines) == len(rows)
    smoke = next(line for line in lines if line.split()[:2] == ["first", "smoke"])
    assert "mlp" in smoke and "linear" in smoke and "widths=[16, 32]" in smoke and "stored 4/4" in smoke


def test_a_halved_loss_is_neither_curated_nor_diagnosed(store_with_first_smoke, monkeypatch, capsys):
    from supercollapse import cli as command, paths

    cache, store, cfgs = store_with_first_smoke
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(cache))
    monkeypatch.setattr(paths, "CURATED_RUNS", cache / "curated")  # the repository's own curated runs come first
    key = run_key(cfgs[0])
    path = store.path(key) / "curves.npz"
    curves = dict(np.load(path))
    curves["test_loss"] *= 0.5  # the edit: the entry's recorded SHA-256 no longer matches
    np.savez(path, **curves)
    for argv in (["runs", "curate", key], ["diagnose", "--ladder", "first", "--scale", "smoke", "--L0", "0.05"]):
        assert command.main(argv) == 1, argv
        out, err = capsys.readouterr()
        assert out == "" and err.startswith(f"supercollapse: run {key} at {store.path(key)} is damaged"), argv
        assert len(err.splitlines()) == 1
    assert not (cache / "curated").exists()


# ---- the run store -------------------------------------------------------------------------------------


def test_runs_list_show_verify(store_with_first_smoke):
    cache, store, cfgs = store_with_first_smoke
    key = run_key(cfgs[0])
    curated_clean = runs.curated().verify() == []
    listing, show, nonsense, verify = cli_many(["runs", "list"], ["runs", "show", key], ["runs", "show", "nonsense"],
                                               ["runs", "verify"], cache=cache)
    # list: both stores, the curated one (read only) and ours with its four runs.
    assert listing.returncode == 0, listing.stderr
    assert f"{runs.curated().root}: " in listing.stdout
    assert f"{store.root}: 4 runs" in listing.stdout
    for c in cfgs:
        assert f"  {run_key(c)}  mlp D={c.D} seed={c.seed} T={c.T} linear" in listing.stdout
    # show KEY: the entry as JSON.
    assert show.returncode == 0, show.stderr
    s = json.loads(show.stdout)
    first_store = runs.curated().root if runs.curated().has(key) else store.root  # curated results come first
    assert s["key"] == key and s["store"] == str(first_store) and s["config"] == cfgs[0].to_dict()
    first = runs.curated() if runs.curated().has(key) else store
    assert s["columns"]["test_loss"] == len(first.load(key).curves["test_loss"]) and s["meta"]["key"] == key and "curves_sha256" in s["meta"]
    assert_one_line_error(nonsense, 2, "no stored run with key 'nonsense'", "supercollapse runs list")
    # verify: a clean store passes.
    assert f"{store.root}: 4 entries, 0 problems" in verify.stdout
    assert verify.returncode == (0 if curated_clean else 1), verify.stdout


def test_runs_curate_takes_its_flag_before_or_after_the_keys(tmp_path):
    after, before, extra = cli_many(["runs", "curate", "--allow-dirty", "nonsense"],
                                    ["runs", "--allow-dirty", "curate", "nonsense"],
                                    ["runs", "curate", "nonsense", "more"], cache=tmp_path)
    for r in (after, before):
        assert_one_line_error(r, 2, "run nonsense is not in the cache")
    assert_one_line_error(extra, 2, "unrecognized arguments: more")


def test_runs_verify_and_repair_cover_checkpoints_pools_datasets_notebooks_and_fits(tmp_path):
    (tmp_path / "checkpoints" / "abcd").mkdir(parents=True)
    (tmp_path / "checkpoints" / "abcd" / "abcd.npz").write_bytes(b"PK\x03\x04 cut short")
    (tmp_path / "executed" / ".tmp-999999999-x").mkdir(parents=True)
    (tmp_path / "fits").mkdir()
    (tmp_path / "fits" / "horizon-x.json").write_text("{")
    (tmp_path / "pools" / "0123456789abcdef").mkdir(parents=True)  # no spec.json: not a pool of this code
    datasets = tmp_path / "datasets"
    for killed in (".tmp-999999999-dead_leaves16-x", ".chess.tmp-x"):  # a killed `data prepare`, by pid and before
        (datasets / killed).mkdir(parents=True)
        (datasets / killed / "train.bin").write_bytes(b"\x01")
    (datasets / "tiny").mkdir()
    (datasets / "tiny" / "train.bin").write_bytes(b"\x01\x02")
    (datasets / "tiny" / "meta.json").write_text(json.dumps({"sha256": {"train.bin": "0" * 64}}))
    verify = cli("runs", "verify", cache=tmp_path)
    assert verify.returncode == 1 and "Traceback" not in verify.stderr, verify.stderr
    for line in (f"{tmp_path / 'checkpoints'}: 1 problems", "  abcd/abcd.npz: unreadable",
                 f"{tmp_path / 'executed'}: 1 problems", "  .tmp-999999999-x: an interrupted execution",
                 f"{tmp_path / 'fits'}: 1 problems", "  horizon-x.json: unreadable fit",
                 f"{tmp_path / 'pools'}: 1 problems", "  0123456789abcdef: its spec.json is unreadable",
                 f"{datasets}: 3 problems", "  .tmp-999999999-dead_leaves16-x: an interrupted write",
                 "  .chess.tmp-x: an interrupted write", "  tiny: train.bin missing or damaged"):
        assert line in verify.stdout, (line, verify.stdout)
    repair = cli("runs", "repair", cache=tmp_path)
    assert repair.returncode == 0 and "removed 1 damaged or interrupted files" in repair.stdout, repair.stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert "0 problems" in cli("runs", "verify", cache=tmp_path).stdout.splitlines()[-1]


def test_runs_verify_catches_a_tampered_entry_and_list_survives_a_damaged_one(store_with_first_smoke):
    cache, store, cfgs = store_with_first_smoke
    tampered, damaged = run_key(cfgs[1]), run_key(cfgs[2])
    entry = store.path(tampered) / "config.json"
    doc = json.loads(entry.read_text())
    doc["config"]["base_lr"] = 1.0
    entry.write_text(json.dumps(doc))
    (store.path(damaged) / "meta.json").unlink()
    verify, listing, show, curate = cli_many(["runs", "verify"], ["runs", "list"], ["runs", "show", damaged],
                                             ["runs", "curate", "nonsense"], cache=cache)
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    assert f"{store.root}: 4 entries, 2 problems" in verify.stdout
    assert f"  {tampered}: its config hashes to" in verify.stdout and f"  {damaged}: unreadable entry" in verify.stdout
    # list still lists everything, pointing at verify for the damaged entry; show names the problem.
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    # Every read verifies: the tampered entry is as damaged as the unreadable one.
    assert f"  {damaged}  damaged entry" in listing.stdout and f"  {tampered}  damaged entry" in listing.stdout
    if not runs.curated().has(damaged):
        assert_one_line_error(show, 1, f"run {damaged}", "is damaged", "unreadable", "supercollapse runs repair")
    # A key that is not in the cache: one line, the message without a KeyError's quotes (nothing is copied).
    assert_one_line_error(curate, 2, "supercollapse: run nonsense is not in the cache")
