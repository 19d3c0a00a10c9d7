"""Learning-rate schedules (SPEC §5) and the SGD-noise model (SPEC §9, issue 11) on synthetic curves built from it:
a known α is recovered, the predictive variant is the paper's recipe when both runs' Buvar agree, Fig. 8's slope is
½ when Δ ∝ sqrt(η(1 − τ̂)), a width-free noise ratio is universal; the ladders, the pickle reader and the CLI."""
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from supercollapse import schedules
from supercollapse.analysis import schedules as noise
from supercollapse.analysis.published import PublishedLogError
from supercollapse.engine.config import RunConfig, run_key

ALPHA, L0, LR = 0.26, 0.05, 1e-3
VARIANTS = (("linear", 1.0), ("cosine", 1.0), ("linear", 0.2), ("multicosine", 0.2))


def L_const(tau, D):
    return L0 + (0.2 + 2 / D) * (1 + tau / 0.02) ** -0.4


def buvar_const(tau, D):
    return 0.3 * (L_const(tau, D) - L0)  # Buvar/(L − L0) = 0.3 at every width: universal noise ([Q] Fig. 7)


def ladder(widths=(16, 32, 64), seeds=(0, 1, 2), steps=400, own_buvar=1.0, noise_sd=0.0, every=1, rng_seed=0):
    """A constant-LR run and every variant per width and seed, built from the noise model with α = ALPHA: the
    scheduled loss is L_const(τ) + α(s − 1)·Buvar, with L_const and the reference's Buvar read off the constant-LR
    run at equal τ as the model reads them (linearly between its evaluations) and Buvar = own_buvar × that."""
    rng = np.random.default_rng(rng_seed)
    step = np.arange(0, steps + 1, every)
    rows = []
    for D in widths:
        tau_c = LR * step
        L_c, B_c = L_const(tau_c, D), buvar_const(tau_c, D)
        for seed in seeds:
            for schedule, f in (("const", 1.0),) + VARIANTS:
                lr, tau = noise.schedule_lr(schedule, steps, LR, decay_frac=f)
                s, tau = lr[step] / LR, tau[step]
                B = own_buvar ** (schedule != "const") * np.interp(tau, tau_c, B_c)
                loss = np.interp(tau, tau_c, L_c) + ALPHA * (s - 1) * B
                if schedule != "const":
                    loss = loss + noise_sd * rng.normal(size=len(step))
                rows.append(pd.DataFrame({"run": f"D{D}-{schedule}-{f:g}-{seed}", "D": D, "seed": seed,
                                          "schedule": schedule, "decay_frac": f, "T": steps, "step": step,
                                          "tokens": step, "compute": 6 * 100 * D * D * step / 1e15, "lr": lr[step],
                                          "tau": tau, "loss": loss, "Buvar": np.where(step == 0, np.nan, B)}))
    return pd.concat(rows, ignore_index=True)


# ---- schedules (SPEC §5) -------------------------------------------------------------------------------------

def test_schedules_reproduce_spec_5_at_their_edges():
    S, u = 100, np.arange(101) / 100
    for name in schedules.SCHEDULES:
        s = schedules.multiplier(name, np.arange(S + 1), S)
        assert s[0] == 1 and s[-1] == (1 if name == "const" else 0), name
        np.testing.assert_allclose(s, schedules.shape(name, u))
    cos, multi, quad = (schedules.multiplier(n, np.array([25, 50, 100 / 3, 200 / 3]), S)
                        for n in ("cosine", "multicosine", "quadratic"))
    np.testing.assert_allclose(cos[:2], [0.5 * (1 + np.cos(np.pi / 4)), 0.5], atol=1e-12)
    np.testing.assert_allclose(multi[2:], [0, 1], atol=1e-12)  # ½(1 + cos 3πu): zero at u = 1/3, back to 1 at 2/3
    np.testing.assert_allclose(quad[:2], [1 - 0.25 ** 2, 0.75])
    wsd = schedules.multiplier("linear", np.arange(S + 1), S, decay_frac=0.2)  # constant, then the last 20%
    assert (wsd[:81] == 1).all()
    np.testing.assert_allclose(wsd[80:], 1 - np.arange(21) / 20, atol=1e-12)
    warm = schedules.multiplier("cosine", np.arange(S + 1), S, warmup=10)
    np.testing.assert_allclose(warm[:11], np.arange(11) / 10)  # warmup to 1, then progress (t − w)/(S − w)
    np.testing.assert_allclose(warm[10:], schedules.shape("cosine", np.arange(91) / 90))
    lr, tau = noise.schedule_lr("linear", S, 0.01)
    assert tau[0] == 0 and tau[-1] == pytest.approx(0.01 * sum(1 - k / S for k in range(S)))
    assert noise.schedule_lr("const", S, 0.01)[1][-1] == pytest.approx(0.01 * S)


def test_the_engine_uses_the_same_multiplier_bit_for_bit():
    import jax.numpy as jnp

    from supercollapse.engine import optim

    for name, w, f in (("multicosine", 0, 0.2), ("cosine", 7, 1.0), ("quadratic", 3, 0.37)):
        cfg = RunConfig(D=16, B=8, T=8 * 101, warmup=w, decay_frac=f, schedule=name)
        a = np.asarray(optim.schedule(cfg)(np.arange(102)), np.float32)
        b = np.asarray(schedules.multiplier(name, np.arange(102), 101, w, f, jnp), np.float32)
        assert a.tobytes() == b.tobytes()


# ---- the noise model (SPEC §9) ---------------------------------------------------------------------------------

def test_noise_model_recovers_a_known_alpha():
    exact = noise.noise_model(ladder(), n_boot=50)
    assert exact.alpha.source == "fit" and exact.alpha.on == "curve"
    assert exact.alpha.value == pytest.approx(ALPHA, rel=1e-4)
    assert exact.alpha.n_runs == 3 * 3 * len(VARIANTS)
    assert exact.per_run["final_error"].abs().max() < 1e-6 and exact.per_run["rmse"].max() < 1e-6
    np.testing.assert_allclose(exact.per_run["gain_predicted"], exact.per_run["gain_observed"], atol=1e-6)
    assert (exact.per_run["gain_observed"] > 0).all() and exact.predicts_decay_gain
    assert noise.noise_model(ladder(), on="gain", n_boot=20).alpha.value == pytest.approx(ALPHA, rel=1e-4)
    noisy = noise.noise_model(ladder(noise_sd=2e-4, every=4), n_boot=200, seed=1)
    assert abs(noisy.alpha.value - ALPHA) < 3 * noisy.alpha.se and 0 < noisy.alpha.se < 0.02
    assert noisy.alpha.consistent_with(ALPHA) and noisy.alpha.ci[0] < ALPHA < noisy.alpha.ci[1]
    given = noise.noise_model(ladder(), alpha=0.1)
    assert given.alpha.source == "given" and given.alpha.value == 0.1 and not given.alpha.consistent_with(ALPHA)
    # The other fits: one α held out per schedule, and α per schedule with and without the η·Tr δΣ term.
    held = noise.held_out(exact, n_boot=10)
    assert len(held) == len(VARIANTS) and np.allclose(held["alpha"], ALPHA, rtol=1e-4)
    terms = noise.noise_terms(exact, n_boot=10)
    assert terms.rms_sigma < 1e-12 and terms.eta_dominates and np.allclose(terms.table["alpha_both"], ALPHA, rtol=1e-4)


def test_predictive_variant_equals_the_paper_recipe_when_buvar_agrees():
    same = noise.noise_model(ladder(widths=(16, 32)), n_boot=10)
    np.testing.assert_allclose(same.per_run["final_pred_reference"], same.per_run["final_pred"], rtol=1e-12)
    np.testing.assert_allclose(same.per_run["rmse_reference"], same.per_run["rmse"], atol=1e-9)
    errors = same.errors().set_index("recipe")
    assert errors.loc["predictive", "median_final_error"] == pytest.approx(errors.loc["paper", "median_final_error"],
                                                                          abs=1e-9)
    # From one constant-LR run and the schedule's name alone: the same curve, before anyone trains it.
    frame = noise.schedule_frame(ladder(widths=(16, 32)))
    ref = frame[frame["run"] == "D16-const-1-0"]
    for schedule, f in VARIANTS:
        pred = noise.predict_schedule(ref, schedule, f, ALPHA, steps=400)
        trained = frame[frame["run"] == f"D16-{schedule}-{f:g}-0"]
        np.testing.assert_allclose(pred["tau"], trained["tau"], rtol=1e-12)
        # Buvar is not read before BUVAR_FROM (Adam's transient), nor where τ is below the reference's first read
        read = pred["step"] / 400 >= 2 * noise.BUVAR_FROM
        np.testing.assert_allclose(pred["loss_pred"][read], trained["loss"][read.to_numpy()], rtol=1e-9)
    # A run whose own noise is larger than the reference's: the recipes part, and the η·Tr δΣ term appears.
    louder = noise.noise_model(ladder(widths=(16, 32), own_buvar=1.5), n_boot=10)
    assert louder.alpha.value == pytest.approx(ALPHA, rel=1e-4)
    gap = (louder.per_run["final_pred_reference"] - louder.per_run["final_pred"]).abs()
    assert (gap > 1e-4).all() and louder.per_run["rmse_reference"].min() > 1e-5
    assert noise.noise_terms(louder, n_boot=10).rms_sigma > 0


def test_buvar_before_one_percent_of_training_is_ignored():
    """Adam's second-moment transient makes Buvar ~1e13 at steps 1-2: read it only from x >= BUVAR_FROM."""
    clean = ladder(widths=(16, 32), seeds=(0,))
    spiked = clean.assign(Buvar=np.where(clean["step"].isin([1, 2]), 1e13, clean["Buvar"]))
    frame = noise.schedule_frame(spiked)
    early = frame["x"] < noise.BUVAR_FROM
    assert early.any() and frame.loc[early, "Buvar"].isna().all()
    assert np.isfinite(frame.loc[~early, "Buvar"]).all()
    short = noise.schedule_frame(spiked[spiked["step"] <= 20])  # 20 steps: step 2 lies past 1% of training
    assert short.loc[short["step"] < noise.BUVAR_FIRST_STEP, "Buvar"].isna().all()
    assert np.isfinite(short.loc[short["step"] >= noise.BUVAR_FIRST_STEP, "Buvar"]).all()
    model = noise.noise_model(spiked, n_boot=10)
    assert model.alpha.value == pytest.approx(ALPHA, rel=1e-4)
    curves = model.curves()
    for col in ("pred", "pred_reference"):  # the whole curve, the first percent included: no 1e13 anywhere
        assert (curves[col] - curves["loss"]).abs().max() < 0.05, col
    ref = frame[frame["run"] == "D16-const-1-0"]
    pred = noise.predict_schedule(spiked[spiked["run"] == "D16-const-1-0"], "linear", 1.0, ALPHA, steps=400)
    assert np.isfinite(pred["loss_pred"]).all() and (pred["loss_pred"] - ref["loss"].to_numpy()).abs().max() < 0.05


def test_one_fit_over_ladders_that_share_runs_and_its_panels():
    a = ladder(widths=(16, 32), seeds=(0, 1))
    b = ladder(widths=(32,), seeds=(0, 1))  # a second ladder whose runs are all in the first
    both = noise.union(a, b.assign(run=b["run"].where(b["schedule"] != "linear", b["run"] + "-twin")))
    assert both["run"].nunique() == a["run"].nunique() + 4  # b's four linear runs renamed: new; the rest shared
    assert len(noise.union(a, b)) == len(a)
    model = noise.noise_model(noise.union(a, b), n_boot=10)
    part = model.restrict(b["run"].unique())
    assert part.alpha is model.alpha and {p.run for p in part.pairs} == set(b.loc[b["schedule"] != "const", "run"])
    assert len(part.per_run) == len(part.pairs) and set(part.curves()["D"]) == {32}
    with pytest.raises(ValueError, match="none of the given runs"):
        model.restrict(["nope"])
    # Held out: α fitted on the other schedules still predicts this one's gain; with a wrong α it would not.
    held = noise.held_out(model, n_boot=5)
    assert noise.held_out_predicts_decay_gain(held)
    assert not noise.held_out_predicts_decay_gain(held.assign(median_final_error_reference=1.0))
    assert not noise.held_out_predicts_decay_gain(held.iloc[:0])
    assert noise.held_out_alpha(held, "linear", 0.2) == held.loc[held["label"] == "linear-20%", "alpha"].iloc[0]
    with pytest.raises(ValueError, match="no held-out fit for quadratic"):
        noise.held_out_alpha(held, "quadratic")


def test_check_prediction_from_one_constant_run():
    frame = ladder(widths=(16, 32), seeds=(0, 1))
    check = noise.check_prediction(frame, "linear", 0.2, ALPHA, size=32, seed=1)
    assert (check.reference, check.trained, check.label) == ("D32-const-1-1", "D32-linear-0.2-1", "linear-20%")
    assert abs(check.final_error) < 1e-9 and check.rmse < 1e-9 and check.predicts_decay_gain
    assert check.gain_observed == pytest.approx(check.gain_predicted) and check.gain_observed > 0
    assert {"step", "tau", "loss_const", "loss_pred", "loss", "x"} <= set(check.curve.columns)
    wrong = noise.check_prediction(frame, "linear", 0.2, 4 * ALPHA)
    assert wrong.reference == "D16-const-1-0" and not wrong.predicts_decay_gain
    with pytest.raises(ValueError, match="no quadratic run"):
        noise.check_prediction(frame, "quadratic")


def test_noise_model_errors_name_what_is_missing():
    frame = ladder(widths=(16,), seeds=(0,))
    with pytest.raises(ValueError, match="missing column.*Buvar"):
        noise.noise_model(frame.drop(columns="Buvar"))
    with pytest.raises(ValueError, match="no constant-LR reference"):
        noise.noise_model(frame[frame["schedule"] != "const"])
    with pytest.raises(ValueError, match="no scheduled run"):
        noise.noise_model(frame[frame["schedule"] == "const"])
    no_ref_noise = frame.assign(Buvar=np.where(frame["schedule"] == "const", np.nan, frame["Buvar"]))
    with pytest.raises(ValueError, match="references have no Buvar"):
        noise.noise_terms(noise.noise_model(no_ref_noise, n_boot=5))
    with pytest.raises(ValueError, match="valid: on in"):
        noise.fit_alpha(noise.pairs(noise.schedule_frame(frame)), on="ends")


# ---- collapse per schedule, Fig. 8, universal noise ------------------------------------------------------------

def fig8_ladder(widths=(16, 32, 64), n_seeds=4, steps=1000):
    """ℓ(x) = f(x)·(1 + ε·sqrt(η(1 − τ̂))) per run, ε centred over all runs: Δ(x) = std(ε)·sqrt(η(1 − τ̂)) exactly."""
    eps = np.random.default_rng(0).normal(size=len(widths) * n_seeds)
    eps = 0.05 * (eps - eps.mean()) / eps.std()
    step = np.arange(0, steps + 1, 10)
    x = step / steps
    rows = []
    for schedule, f in (("const", 1.0),) + VARIANTS:
        lr, tau = noise.schedule_lr(schedule, steps, LR, decay_frac=f)
        q = lr[step] / LR * (1 - tau[step] / tau[-1])
        for k, (D, seed) in enumerate((D, seed) for D in widths for seed in range(n_seeds)):
            loss = L0 + (0.1 / D ** 0.3) * (1 + 3 * (1 - x) ** 2) * (1 + eps[k] * np.sqrt(q))
            rows.append(pd.DataFrame({"run": f"{schedule}-{f:g}-{D}-{seed}", "D": D, "P": 100 * D * D, "seed": seed,
                                      "schedule": schedule, "decay_frac": f, "T": steps, "step": step,
                                      "compute": 600 * D * D * step / 1e15, "lr": lr[step], "tau": tau[step],
                                      "loss": loss, "Buvar": 0.3 * (loss - L0) * (1 + 0.01 * eps[k])}))
    return pd.concat(rows, ignore_index=True)


def test_collapse_quality_slope_is_one_half_when_delta_follows_the_noise():
    frame = fig8_ladder()
    results = noise.per_schedule(frame, L0=L0)
    assert list(results)[0] == ("const", 1.0) and len(results) == 1 + len(VARIANTS)
    table = noise.collapse_table(results)
    assert set(table["label"]) == {"const", "linear", "cosine", "linear-20%", "multicosine-20%"}
    q = noise.collapse_quality(frame, results, n_boot=30)
    assert q.slope == pytest.approx(0.5, abs=1e-6) and np.allclose(q.per_schedule["slope"], 0.5, atol=1e-6)
    assert q.consistent_with_half and q.se < 0.05
    assert {"delta", "eta", "tau_hat", "predictor"} <= set(q.points.columns)
    assert q.points["x"].between(*noise.END_WINDOW).all()


def test_noise_ratio_is_universal_when_it_depends_on_x_alone():
    frame = fig8_ladder()
    linear = noise.variant_frame(frame, "linear", 1.0)
    universal = noise.noise_ratio(linear, L0)
    assert universal.cross_rms < universal.within_rms and universal.widths_within_seed_noise
    # A ratio that grows with width: the spread across widths dominates the seeds'.
    by_width = noise.noise_ratio(linear.assign(Buvar=linear["Buvar"] * linear["D"] / 32), L0)
    assert not by_width.widths_within_seed_noise and by_width.cross_rms > 10 * by_width.within_rms
    x_shaped = noise.noise_ratio(linear.assign(Buvar=linear["Buvar"] * (1 + linear["step"] / 1000)), L0)
    assert x_shaped.x_dominates and x_shaped.widths_within_seed_noise
    curves = universal.curves()
    assert set(curves.columns) == {"P", "x", "ratio", "ratio_std"} and len(curves) == 3 * len(universal.x)


# ---- the ladders -----------------------------------------------------------------------------------------------

class FixedHorizon:
    gamma = 0.4

    def horizon(self, P):
        return 200 * np.asarray(P, float) ** 0.4


def test_schedule_ladders_are_the_wide_family_with_buvar():
    from supercollapse.experiments import mlp, registry
    from supercollapse.experiments import schedules as ladders

    h = FixedHorizon()
    sizes = mlp.WIDE["cpu"]
    full = registry.get("schedules").configs("cpu", h)
    assert len(ladders.VARIANTS) == 9 and len(full) == 9 * len(sizes.collapse_widths) * 3
    assert all(c.buvar and c.task == "mlp" and c.warmup == sizes.warmup for c in full)
    wide = {c.D: c.T for c in registry.get("wide_collapse").configs("cpu", h)}
    assert all(c.T == wide[c.D] for c in full)  # the same T(P) as wide_collapse
    assert {(c.schedule, c.decay_frac) for c in full} == set(ladders.VARIANTS)
    keys = {run_key(c) for c in full}
    mid = ladders.middle_width(sizes)
    width = registry.get("schedules_width").configs("cpu", h)
    widths = registry.get("schedules_widths").configs("cpu", h)
    assert {c.D for c in width} == {mid} and {run_key(c) for c in width + widths} <= keys  # shared, not retrained
    assert {c.D for c in widths} == set(ladders.three_widths(sizes)) and len(widths) == 3 * 4 * 3
    horizons = registry.get("schedules_horizons").configs("cpu", h)
    assert sorted({c.steps for c in horizons}) == [round(k * wide[mid] / sizes.B) for k in ladders.HORIZON_FACTORS]
    nomup = registry.get("nomup").configs("cpu", h)
    frozen = [c for c in nomup if c.D != mid]
    assert all(not c.mup and c.D_ref == mid and not c.buvar and c.schedule == "linear" for c in frozen)
    assert {c.replace(mup=True, D_ref=384) for c in nomup} == set(registry.get("wide_collapse").configs("cpu", h))
    # At D_ref the frozen learning rates are µP's own, so the ladder reuses µP's runs there.
    at_ref = [c for c in nomup if c.D == mid]
    assert at_ref and all(c.mup for c in at_ref) and {run_key(c) for c in at_ref} <= {
        run_key(c) for c in registry.get("wide_collapse").configs("cpu", h)}
    from supercollapse.engine import optim
    for name in ("input", "hidden", "readout"):
        assert optim.lr_factor(at_ref[0].replace(mup=False, D_ref=mid), name) == optim.lr_factor(at_ref[0], name)
    assert {c.seed for c in horizons} == set(ladders.HORIZON_SEEDS["cpu"])
    smoke = registry.get("schedules").configs("smoke", h)
    assert len(smoke) <= 60 and max(c.steps for c in smoke) <= 48 and max(c.D for c in smoke) <= 24


# ---- reading files, and the command line -----------------------------------------------------------------------

def authors_pickle(path, frame):
    """`frame` in the authors' *_schedules.pkl layout: one row per run, its evaluations in a `history` frame."""
    rows = [{"D": g["D"].iloc[0], "T": g["T"].iloc[0], "schedule": g["schedule"].iloc[0],
             "decay_frac": g["decay_frac"].iloc[0], "seed": g["seed"].iloc[0], "num_params": 100 * g["D"].iloc[0] ** 2,
             "history": g[["step", "compute", "tokens", "lr", "tau", "Buvar"]].assign(test_loss=g["loss"])}
            for _, g in frame.groupby("run", sort=False)]
    with open(path, "wb") as f:
        pickle.dump(pd.DataFrame(rows), f)
    return path


def test_authors_schedule_pickles_are_read(tmp_path):
    frame = ladder(widths=(16, 32), seeds=(0,), every=8)
    got = noise.read_schedules(authors_pickle(tmp_path / "mlp_schedules.pkl", frame))
    assert {"run", "D", "P", "seed", "schedule", "decay_frac", "T", "x"} <= set(got.columns)
    assert noise.noise_model(got, n_boot=5).alpha.value == pytest.approx(ALPHA, rel=1e-3)
    bad = tmp_path / "bad_schedules.pkl"
    with open(bad, "wb") as f:
        pickle.dump(pd.DataFrame([{"D": 16, "T": 1, "schedule": "const", "decay_frac": 1.0, "seed": 0, "P": 1,
                                   "history": pd.DataFrame({"step": [0, 1]})}]), f)
    with pytest.raises(PublishedLogError, match="history is missing column.*test_loss"):
        noise.read_schedules(bad)


def stored_reference(cache, steps=400):
    """A constant-LR run with Buvar in the run store of `cache`, its curves from the synthetic model (no training)."""
    from supercollapse.store.runs import RunStore

    cfg = RunConfig(task="mlp", D=16, B=1, T=steps, schedule="const", warmup=0, base_lr=LR, buvar=True, n_evals=60,
                    eval_size=1024)
    run = ladder(widths=(16,), seeds=(0,), steps=steps, every=8)
    run = run[run["schedule"] == "const"]
    curves = {c: run[c].to_numpy() for c in ("step", "tokens", "compute", "lr", "tau", "Buvar")}
    RunStore(cache / "runs").save(cfg, {**curves, "train_loss": run["loss"].to_numpy(),
                                        "test_loss": run["loss"].to_numpy()})
    return run_key(cfg), run


def run_main(capsys, *args):
    """`supercollapse ARGS` in this process: (exit status, stdout, stderr)."""
    from supercollapse import cli

    status = cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_cli_schedules_json_table_and_predict(tmp_path, capsys, monkeypatch):
    from test_cli import cli

    frame = ladder(widths=(16, 32), seeds=(0, 1), every=8)
    frame.to_csv(tmp_path / "ladder.csv", index=False)
    frame.to_parquet(tmp_path / "ladder.parquet")
    frame.drop(columns="Buvar").to_csv(tmp_path / "no_buvar.csv", index=False)
    authors_pickle(tmp_path / "mlp_schedules.pkl", frame)
    key, ref = stored_reference(tmp_path / "cache")
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path / "cache"))
    # The installed command end to end, once: the stored reference, the prediction and its chart.
    plot = cli("schedules", "predict", "--reference", key, "--schedule", "cosine", "--plot", tmp_path / "p.html",
               cache=tmp_path / "cache")
    assert plot.returncode == 0 and "cosine predicted" in plot.stdout, plot.stderr
    assert "<svg" in (tmp_path / "p.html").read_text()

    status, out, _ = run_main(capsys, "schedules", tmp_path / "ladder.csv", "--json")
    d = json.loads(out)
    assert status == 0 and d["alpha_source"] == "fit" and d["alpha"] == pytest.approx(ALPHA, rel=1e-6)
    assert len(d["runs"]) == 16 and {"D", "T", "schedule", "decay_frac", "final_loss", "final_pred",
                                     "gain_observed", "gain_predicted", "rmse"} <= set(d["runs"][0])
    g = json.loads(run_main(capsys, "schedules", tmp_path / "ladder.parquet", "--alpha", "0.3", "--json")[1])
    assert g["alpha_source"] == "given" and g["alpha"] == 0.3 and g["alpha_se"] is None
    table = run_main(capsys, "schedules", tmp_path / "ladder.csv", "--on", "gain")[1]
    assert "decay gains" in table and "linear-20%" in table and "predictive" in table
    pkl = json.loads(run_main(capsys, "schedules", tmp_path / "mlp_schedules.pkl", "--json")[1])
    assert pkl["alpha"] == pytest.approx(ALPHA, rel=1e-6)
    status, out, _ = run_main(capsys, "schedules", "predict", "--reference", key, "--schedule", "linear",
                              "--decay-frac", "0.2", "--json")
    p = json.loads(out)
    assert p["alpha"] == 0.26 and p["alpha_source"].startswith("[Q]") and p["reference"] == key
    expected = noise.predict_schedule(ref, "linear", 0.2, 0.26, steps=400)
    np.testing.assert_allclose(np.array([row["loss_pred"] for row in p["curve"]], float), expected["loss_pred"],
                               rtol=1e-9)

    # Malformed input: one line naming what is missing, exit 2.
    for args, phrase in (((tmp_path / "no_buvar.csv",), "missing column(s) Buvar"),
                         ((tmp_path / "missing.csv",), "no such file"),
                         (("predict", "--schedule", "linear"), "needs --reference"),
                         (("predict", "--reference", "0123456789abcdef", "--schedule", "linear"),
                          "no stored run with key '0123456789abcdef'"),
                         ((tmp_path / "ladder.csv", "--reference", key), "--reference belong to `schedules predict`"),
                         (("predict", "--reference", key, "--schedule", "linear", "--decay-frac", "0"),
                          "--decay-frac 0 is invalid")):
        status, out, err = run_main(capsys, "schedules", *args)
        assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and phrase in err, (args, err)
