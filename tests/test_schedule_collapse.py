"""Chapter 16's claims as named results ([Q] Figs. 1d, 4 top, 7, 14) on the synthetic ladder of Fig. 8, each in
both of its outcomes."""
import numpy as np
import pandas as pd
import pytest

from supercollapse.analysis import collapse, diagnose, schedules as noise
from test_schedules import L0, fig8_ladder


def test_noise_ratios_per_schedule_take_each_collapse_L0():
    frame = fig8_ladder()
    results = noise.per_schedule(frame, L0=L0)
    ratios = noise.noise_ratios(frame, results)
    table = noise.noise_ratio_table(ratios)
    assert list(table["label"]) == [noise.variant_label(*v) for v in results]
    # Buvar = 0.3·(L − L0)·(1 + 1% per run): one value at every x and width, seeds differ by 1%.
    assert table["widths_within_seed_noise"].all() and not table["x_dominates"].any()
    assert np.allclose([np.nanmedian(r.ratio) for r in ratios.values()], 0.3, rtol=0.02)
    counts = noise.noise_ratio_counts(table)
    assert counts["n"] == len(table) and counts["within"] == len(table) and counts["along"] == 0
    assert counts["x_rms"] == table["x_rms"].median()
    # One function of x alone needs both, on every schedule ([Q] Figs. 7, 14).
    assert not noise.noise_universal(table) and noise.noise_universal(table.assign(x_dominates=True))
    assert not noise.noise_universal(table.assign(x_dominates=[True] * (len(table) - 1) + [False]))


def _verdicts(rows):
    t = pd.DataFrame(rows, columns=["schedule", "decay_frac", "window_mean_ratio", "onset"])
    t["label"] = [noise.variant_label(s, f) for s, f in zip(t["schedule"], t["decay_frac"])]
    t["verdict"] = [diagnose.verdict(r) for r in t["window_mean_ratio"]]
    return noise.ScheduleCollapse(t)


def test_schedule_collapse_names_what_fig_1d_claims():
    good = _verdicts([("const", 1, 1.4, None), ("linear", 1, 0.6, 0.7), ("linear", 0.2, 0.8, 0.85)])
    assert good.every_decay_supercollapses and good.decay_beats_constant == 2 and good.short_decays_onset_in_decay
    assert good.ratio_range == (0.6, 0.8) and good.exceptions == [] and good.short_decay_starts == [0.8]
    bad = _verdicts([("const", 1, 0.9, 0.9), ("linear", 1, 0.6, 0.7), ("cosine", 0.2, 1.3, 0.5)])
    assert not bad.every_decay_supercollapses and bad.decay_beats_constant == 1
    assert not bad.short_decays_onset_in_decay  # onset 0.5 before its decay starts at 0.8
    assert bad.exceptions == ["cosine-20%"] and bad.ratio_range == (0.6, 1.3)
    never = _verdicts([("linear", 0.2, 1.3, None)])
    assert not never.short_decays_onset_in_decay and never.short_decays["onset"].isna().all()


def test_final_loss_table_and_the_no_mup_fan():
    frame = fig8_ladder()
    mup = noise.variant_frame(frame, "linear", 1.0)
    worse = mup.assign(loss=mup["loss"] * np.where(mup["D"] == 32, 1.0, 1.1))
    finals = collapse.final_loss_table({"µP": mup, "no µP": worse})
    assert np.allclose(finals["relative difference (no µP)"], [0.1, 0.0, 0.1])
    a = collapse.analyze(mup, L0)
    fanned = collapse.analyze(worse.assign(loss=L0 + (worse["loss"] - L0) * (1 + 0.2 * np.log(worse["D"] / 32)
                                                                              * (1 - worse["step"] / 1000))), L0)
    assert fanned.window_mean_ratio > a.window_mean_ratio
    assert collapse.tighter(a, fanned) and not collapse.tighter(fanned, a)  # [Q] Fig. 4 (top): no µP fans out
    assert collapse.final_loss_gaps(finals) == pytest.approx((0.0, 0.1))
