"""Theory of collapse (SPEC §10): sums of power laws ([Q] Fig. 5) and the solvable random-feature model of [B]
(Bordelon, Atanasov, Pehlevan, ICML 2024), with the bridge between them.

Modules: `power_laws` (L(t, p) = L0 + Σ a_i t^(−mu_i) p^(−nu_i), frontier, gamma*, collapse families),
`random_features` (exact gradient flow, finite data, ensembles, predicted exponents, deterministic equivalents),
`sgd` (one-pass SGD: exact mean loss, simulation, the noise excess), `bridge` (random-feature ladders analysed like
trained ones), `checks` (measured against predicted: sampling and finite-size errors, verdicts), `fits` (log-log
slopes), `sizes` (what each scale computes).
"""
from .bridge import (
    FIG4_PAIRS, EffectiveExponents, GammaScan, NoiseScaling, SeedBootstrap, SGDLadder, analyze_ladders,
    collapse_gamma_check, curves_frame, effective_exponents, eval_steps, frontier_checks, frontier_of,
    frontier_table, frontiers, gamma_grid, gamma_scan, gf_collapse, gf_collapse_scan, independent_ratio,
    independent_window_ratio, ladder_horizons, noise_scaling, noise_scalings, onset, plateau_gamma, seed_bootstrap,
    seed_spread, sgd_ladder, sgd_ladders, supercollapse_checks, supercollapse_summary, vertex,
)
from .bridge import Frontier as RFFrontier
from .bridge import frontier as rf_frontier
from .checks import (
    AGREEMENT_Z, ROUNDOFF, Check, Verdict, block_exponents, bootstrap_se, criterion_text, exponent_check,
    pairwise_exponent, sampling_error, verdict, window_drift,
)
from .checks import table as check_table
from .fits import PowerLawFit, fit_power_law, local_exponent
from .power_laws import (
    FIG5_SIZES, CollapseFamily, Frontier, PowerLawSum, collapse_check, collapse_curve_two_term, collapse_deviation,
    collapse_family, frontier, gamma_check, gamma_family, gamma_star, gamma_star_two_term, horizons, offset_study,
    optimal_horizon, phase_two, selectivity_check, shifted, two_term,
)
from .random_features import (
    Curves, Exponents, Spectrum, Task, bottleneck_checks, convergence_curves, correction_check, data_floor_theory,
    data_ladder, ensemble_gradient_flow, ensemble_study, final_losses, final_test, gradient_flow, predicted,
    spectrum, time_check, time_fit, width_correction, width_correction_fit, width_floor_theory, width_ladder,
)
from .sgd import SGDCurves, full_batch_loss, noise_excess, noise_excess_check, schedule, sgd_curves, sgd_grid
from .sgd import mean_loss as sgd_mean_loss
from .sgd import simulate as sgd_simulate
from .sizes import Sizes, sizes, time_grid

__all__ = [
    # sums of power laws
    "FIG5_SIZES", "CollapseFamily", "Frontier", "PowerLawSum", "collapse_check", "collapse_curve_two_term",
    "collapse_deviation", "collapse_family", "frontier", "gamma_check", "gamma_family", "gamma_star",
    "gamma_star_two_term", "horizons", "offset_study", "optimal_horizon", "phase_two", "selectivity_check",
    "shifted", "two_term",
    # the random-feature model
    "Curves", "Exponents", "Spectrum", "Task", "bottleneck_checks", "convergence_curves", "correction_check",
    "data_floor_theory", "data_ladder", "ensemble_gradient_flow", "ensemble_study", "final_losses", "final_test",
    "gradient_flow", "predicted", "spectrum", "time_check", "time_fit", "width_correction", "width_correction_fit",
    "width_floor_theory", "width_ladder",
    # one-pass SGD
    "SGDCurves", "full_batch_loss", "noise_excess", "noise_excess_check", "schedule", "sgd_curves", "sgd_grid",
    "sgd_mean_loss", "sgd_simulate",
    # the bridge
    "EffectiveExponents", "FIG4_PAIRS", "GammaScan", "NoiseScaling", "RFFrontier", "SeedBootstrap", "SGDLadder",
    "analyze_ladders", "collapse_gamma_check", "curves_frame", "effective_exponents", "eval_steps",
    "frontier_checks", "frontier_of", "frontier_table", "frontiers", "gamma_grid", "gamma_scan", "gf_collapse",
    "gf_collapse_scan", "independent_ratio", "independent_window_ratio", "ladder_horizons", "noise_scaling",
    "noise_scalings", "onset", "plateau_gamma", "rf_frontier", "seed_bootstrap", "seed_spread", "sgd_ladder",
    "sgd_ladders", "supercollapse_checks", "supercollapse_summary", "vertex",
    # measured against predicted
    "AGREEMENT_Z", "ROUNDOFF", "Check", "Verdict", "block_exponents", "bootstrap_se", "check_table",
    "criterion_text", "exponent_check", "pairwise_exponent", "sampling_error", "verdict", "window_drift",
    # fits and sizes
    "PowerLawFit", "Sizes", "fit_power_law", "local_exponent", "sizes", "time_grid",
]
