"""Theory of collapse (SPEC §10): sums of power laws ([Q] Fig. 5) and the solvable random-feature model of
[B] (Bordelon, Atanasov, Pehlevan, ICML 2024), with the bridge between them.

Modules: `power_laws` (L(t, p) = L0 + Σ a_i t^(−mu_i) p^(−nu_i), frontier, gamma*, collapse families),
`random_features` (exact gradient flow, finite data, ensembles, predicted exponents), `sgd` (one-pass SGD: exact
mean loss and simulation), `bridge` (random-feature ladders analysed like trained ones), `fits` (log-log slopes).
"""
from .bridge import (FIG4_PAIRS, Frontier as RFFrontier, GammaScan, NoiseScaling, SGDLadder, analyze_ladders, curves_frame,
                     EffectiveExponents, effective_exponents, gamma_grid, noise_scalings, onset,
                     supercollapse_summary,
                     eval_steps, frontier as rf_frontier, frontier_of, frontier_table, frontiers, gamma_scan, gf_collapse, gf_collapse_scan, ladder_horizons,
                     noise_scaling, seed_spread, sgd_ladder, sgd_ladders)
from .fits import PowerLawFit, fit_power_law, local_exponent
from .power_laws import (FIG5_SIZES, CollapseFamily, Frontier, PowerLawSum, collapse_curve_two_term, collapse_deviation,
                         collapse_family, frontier, gamma_family, gamma_star, gamma_star_two_term, horizons, offset_study,
                         optimal_horizon, phase_two, shifted, two_term)
from .random_features import (Curves, Exponents, Spectrum, Task, data_ladder, ensemble_gradient_flow, ensemble_study,
                              final_losses, final_test, time_fit,
                              gradient_flow, predicted, spectrum, width_correction, width_correction_fit, width_ladder)
from .sgd import SGDCurves, mean_loss as sgd_mean_loss, schedule, sgd_curves, sgd_grid, simulate as sgd_simulate
from .sizes import Sizes, sizes, time_grid

__all__ = [
    "FIG4_PAIRS", "FIG5_SIZES", "CollapseFamily", "Curves", "EffectiveExponents", "Exponents", "Frontier", "GammaScan", "NoiseScaling", "PowerLawFit", "PowerLawSum",
    "RFFrontier", "SGDCurves", "SGDLadder", "Sizes", "Spectrum", "Task", "analyze_ladders", "collapse_curve_two_term",
    "collapse_deviation", "collapse_family", "curves_frame", "data_ladder", "effective_exponents", "ensemble_gradient_flow", "eval_steps",
    "ensemble_study", "final_losses", "final_test", "fit_power_law", "frontier", "frontier_of", "frontier_table", "frontiers", "gamma_family", "gamma_grid", "gamma_scan", "gamma_star", "gamma_star_two_term",
    "gf_collapse", "gf_collapse_scan", "gradient_flow", "horizons", "ladder_horizons", "local_exponent",
    "noise_scaling", "noise_scalings", "offset_study", "onset", "optimal_horizon", "phase_two", "predicted", "rf_frontier", "schedule",
    "seed_spread", "shifted", "sgd_curves", "sgd_grid", "sgd_ladder", "sgd_ladders", "sgd_mean_loss", "sgd_simulate", "sizes",
    "spectrum", "supercollapse_summary", "time_fit", "time_grid", "two_term", "width_correction", "width_correction_fit", "width_ladder",
]
