"""Theory of collapse (SPEC §10): sums of power laws ([Q] Fig. 5) and the solvable random-feature model of [B]
(Bordelon, Atanasov, Pehlevan, ICML 2024), with the bridge between them.

Imported per module (`from supercollapse.theory import power_laws, random_features as rf, bridge`):
`power_laws` (L(t, p) = L0 + Σ a_i t^(−mu_i) p^(−nu_i), the exact frontier, gamma*, collapse families),
`random_features` (exact gradient flow, finite data, ensembles, predicted exponents, deterministic equivalents),
`sgd` (one-pass SGD: exact mean loss, simulation, the noise excess), `bridge` (random-feature ladders analysed like
trained ones), `checks` (measured against predicted: sampling and finite-size errors, verdicts), `fits` (log-log
slopes), `sizes` (what each scale computes).
"""
