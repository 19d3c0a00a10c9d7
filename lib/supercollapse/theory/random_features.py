"""The linear random-feature model of [B] (Bordelon, Atanasov, Pehlevan 2024), solved exactly (SPEC §10).

Teacher: y = w*·ψ(x) with Gaussian features ψ ~ N(0, Λ), Λ = diag(λ_k), λ_k = k^(−b), task power
(w*_k)² λ_k = k^(−a), k = 1..M (SPEC §10). Student: f = w·Aψ/√N with A ∈ R^(N×M) i.i.d. N(0, 1), w ∈ R^N
trained from w = 0 by gradient flow on the loss L = ½E(f − y)² (or on P fixed samples).

Everything is written with X = Λ^(1/2)Aᵀ/√N (M × N) and z = Λ^(1/2)w* (z_k² = k^(−a)): the test loss is
½‖Xw − z‖², the student's feature covariance is H = XᵀX, and a sample is ψ = Λ^(1/2)g with g ~ N(0, I_M), so the
student sees the features φ = Xᵀg and the target y = z·g. N = None means the infinite-width student (X = Λ^(1/2)).

Seeds: draw d of seed s uses the streams (s, d, 0) for A and (s, d, 1) for the data; rows are drawn in order, so a
wider model (more data) extends a narrower one's features (samples) at the same seed and draw.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from . import checks
from .fits import LogSlopeFit, fit_log_slope, local_exponent


@dataclass(frozen=True)
class Task:
    """The power-law teacher of [B]: eigenvalues k^(−b), task power k^(−a), M modes."""

    a: float = 2.0
    b: float = 1.5
    M: int = 8192

    def __post_init__(self):
        if not self.a > 1:
            raise ValueError(f"Task.a={self.a!r}: the task power k^(−a) must be summable, a > 1")
        if not self.b > 0:
            raise ValueError(f"Task.b={self.b!r}: the eigenvalue decay must be positive")
        if not (isinstance(self.M, int) and self.M >= 2):
            raise ValueError(f"Task.M={self.M!r}: the number of modes must be an integer >= 2")

    @property
    def eigenvalues(self) -> np.ndarray:
        """λ_k = k^(−b)."""
        return np.arange(1, self.M + 1, dtype=float) ** -self.b

    @property
    def target(self) -> np.ndarray:
        """z_k = λ_k^(1/2) w*_k = k^(−a/2): the target in whitened coordinates."""
        return np.arange(1, self.M + 1, dtype=float) ** (-self.a / 2)

    @property
    def initial_loss(self) -> float:
        """L(t = 0) = ½ Σ_k k^(−a)."""
        return 0.5 * float(np.sum(self.target ** 2))

    def infinite_width_loss(self, t) -> np.ndarray:
        """Population gradient flow at N = ∞: L(t) = ½ Σ_k k^(−a) e^(−2 λ_k t) (the N, P → ∞ limit)."""
        t = np.asarray(t, dtype=float)
        return 0.5 * np.exp(-2 * np.multiply.outer(t, self.eigenvalues)) @ self.target ** 2


@dataclass(frozen=True)
class Exponents:
    """The power laws [B] states for this model (its Secs. 4–5; SPEC §10), and the exact width floor's exponent.

    [B]'s bottleneck exponent is m = min(a − 1, 2b): L ~ N^(−m) and P^(−m), the 2b branch for "easy" tasks,
    a > 2b + 1. Its compute-optimal exponents follow from balancing t^(−(a−1)/b) against N^(−m) at C = N·t
    ([B] eq. 17). `projection` is what the exact t → ∞ loss of a width-N student does instead (`width_floor_theory`).
    """

    a: float
    b: float

    @property
    def m(self) -> float:
        """[B]'s model and data bottleneck exponent min(a − 1, 2b)."""
        return min(self.a - 1, 2 * self.b)

    @property
    def time(self) -> float:
        """L ~ t^(−(a−1)/b): the time bottleneck."""
        return (self.a - 1) / self.b

    @property
    def width(self) -> float:
        """L ~ N^(−m): the model bottleneck as [B] states it."""
        return self.m

    @property
    def data(self) -> float:
        """L ~ P^(−m): the data bottleneck (ridgeless regression on P samples saturates at 2b)."""
        return self.m

    @property
    def projection(self) -> float:
        """min(a − 1, b): the exponent of the exact width floor, the projection of the target on N random features.

        Its deterministic equivalent is ½ Σ_k k^(−a) κ/(λ_k + κ) with κ ~ N^(−b) (`width_floor_theory`); the
        modes k < N contribute N^(−b) Σ k^(b−a), so the floor saturates at N^(−b) once a > b + 1, where [B]'s
        N^(−min(a−1, 2b)) no longer holds for this model (Paquette et al. 2024 find the same d^(−2α), α = b/2).
        """
        return min(self.a - 1, self.b)

    @property
    def compute_loss(self) -> float:
        """L* ~ C^(−(a−1)m/(a−1+bm)) on the compute-optimal frontier ([B] eq. 17)."""
        return (self.a - 1) * self.m / (self.a - 1 + self.b * self.m)

    @property
    def compute_width(self) -> float:
        """N* ~ C^((a−1)/(a−1+bm)); 1/(1+b) when m = a − 1."""
        return (self.a - 1) / (self.a - 1 + self.b * self.m)

    @property
    def compute_time(self) -> float:
        """t* ~ C^(bm/(a−1+bm)): steps grow faster than parameters when bm > a − 1."""
        return self.b * self.m / (self.a - 1 + self.b * self.m)

    @property
    def gamma(self) -> float:
        """t* ∝ N^gamma with gamma = nu/mu = bm/(a−1), b when m = a − 1 (SPEC §10, the bridge)."""
        return self.b * self.m / (self.a - 1)

    @property
    def mu(self) -> float:
        """The time exponent of the equivalent sum of power laws."""
        return self.time

    @property
    def nu(self) -> float:
        """The size exponent of the equivalent sum of power laws."""
        return self.width


def predicted(a: float, b: float) -> Exponents:
    """The predicted exponents for task power a and eigenvalue decay b."""
    return Exponents(float(a), float(b))


def _tail(s: float, K: int) -> float:
    """Σ_{k > K} k^(−s) for s > 1, by Euler–Maclaurin: K^(1−s)/(s − 1) − K^(−s)/2."""
    return K ** (1 - s) / (s - 1) - 0.5 * K ** -s


def _kappa(task: Task, n: float, tail: bool) -> float:
    """The κ > 0 with Σ_k λ_k/(λ_k + κ) = n: the effective ridge of n random features (or samples).

    With `tail`, the modes k > M count too, as λ_k/κ (λ_M << κ): the M → ∞ limit, finite for b > 1.
    """
    lam, M = task.eigenvalues, task.M
    if not 0 < n < (np.inf if tail else M):
        raise ValueError(f"the deterministic equivalent needs 0 < {n} < M = {M}")

    def excess(v):  # Σ λ/(λ + κ) − n, decreasing in v = log κ
        k = np.exp(v)
        return np.sum(lam / (lam + k)) + (_tail(task.b, M) / k if tail else 0.0) - n

    u = brentq(excess, np.log(lam.min()) - 60, np.log(lam.max()) + 60, xtol=1e-13, rtol=1e-15)
    return float(np.exp(u))


def _check_tail(task: Task, tail: bool):
    if tail and not task.b > 1:
        raise ValueError(f"b = {task.b}: Σ λ_k diverges, so the M → ∞ limit (tail=True) needs b > 1")


def width_floor_theory(task: Task, widths, *, tail: bool = False) -> np.ndarray:
    """Deterministic equivalent of the t → ∞ population loss of width N: ½ Σ_k z_k² κ/(λ_k + κ), Σ λ/(λ+κ) = N.

    The floor is ½ zᵀ(I − Π)z with Π the projection on the span of N Gaussian vectors of covariance Λ, and
    E[Π] ≈ Λ(Λ + κ)^(−1) (the ridgeless limit of the sample-covariance resolvent). Exact as N, M → ∞ at fixed N/M;
    tests check it against `final_losses`. `tail`: as if the teacher had M = ∞ modes (b > 1; needs N << M).
    """
    _check_tail(task, tail)
    lam, z2 = task.eigenvalues, task.target ** 2
    out = []
    for N in widths:
        k = _kappa(task, N, tail)
        out.append(0.5 * (np.sum(z2 * k / (lam + k)) + (_tail(task.a, task.M) if tail else 0.0)))
    return np.array(out)


def data_floor_theory(task: Task, sizes, *, tail: bool = False) -> np.ndarray:
    """Deterministic equivalent of the t → ∞ test loss of the N = ∞ model on P samples (ridgeless regression).

    ½ Σ_k z_k² κ²/(λ_k + κ)² / (1 − γ), γ = Σ_k λ_k²/(λ_k + κ)²/P, Σ λ/(λ+κ) = P: the modes k < P contribute
    P^(−2b) Σ k^(2b−a), hence [B]'s P^(−min(a−1, 2b)). `tail`: as in `width_floor_theory`.
    """
    _check_tail(task, tail)
    lam, z2 = task.eigenvalues, task.target ** 2
    out = []
    for P in sizes:
        k = _kappa(task, P, tail)
        g = (np.sum(lam ** 2 / (lam + k) ** 2) + (_tail(2 * task.b, task.M) / k ** 2 if tail else 0.0)) / P
        out.append(0.5 * (np.sum(z2 * k ** 2 / (lam + k) ** 2) + (_tail(task.a, task.M) if tail else 0.0)) / (1 - g))
    return np.array(out)


@dataclass(frozen=True, eq=False)
class Spectrum:
    """One draw of the student in the eigenbasis of H = XᵀX: L(t) = floor + ½ Σ_i q_i² e^(−2 s_i t)."""

    s: np.ndarray  # (r,) eigenvalues of H
    q: np.ndarray  # (r,) target components along H's eigendirections in function space
    floor: float  # ½‖z⊥‖²: the loss at t = ∞, the width bottleneck
    N: int | None

    def loss(self, t) -> np.ndarray:
        """Population gradient-flow loss at times t."""
        t = np.asarray(t, dtype=float)
        return self.floor + 0.5 * np.exp(-2 * np.multiply.outer(t, self.s)) @ self.q ** 2


def _features(task: Task, N: int | None, seed: int, draw: int) -> np.ndarray:
    """X = Λ^(1/2)Aᵀ/√N (M × N) for one draw; None for N = ∞."""
    if N is None:
        return None
    if not (isinstance(N, (int, np.integer)) and N >= 1):
        raise ValueError(f"N={N!r} must be a positive integer or None (infinite width)")
    A = np.random.default_rng([seed, draw, 0]).standard_normal((int(N), task.M))
    return (A * np.sqrt(task.eigenvalues)).T / np.sqrt(N)


def _eig(X: np.ndarray, z: np.ndarray):
    """(s, V, d) with XᵀX = V diag(s) Vᵀ and d = Vᵀ Xᵀ z, dropping numerically null directions."""
    s, V = np.linalg.eigh(X.T @ X)
    keep = s > s.max() * 1e-13
    s, V = s[keep], V[:, keep]
    return s, V, V.T @ (X.T @ z)


@functools.lru_cache(maxsize=1024)  # pure and small (2N numbers); chapters ask for the same draws many times
def spectrum(task: Task, N: int | None, seed: int = 0, draw: int = 0) -> Spectrum:
    """The student's spectrum for draw `draw` of the projection A (N = None: infinite width)."""
    z = task.target
    if N is None:
        return Spectrum(s=task.eigenvalues, q=z, floor=0.0, N=None)
    s, V, d = _eig(_features(task, N, seed, draw), z)
    q = d / np.sqrt(s)  # q = Uᵀz with U = XV/√s the left singular vectors
    # ‖z⊥‖² = ‖z‖² − ‖q‖² loses relative precision only ~1e-16·‖z‖²/floor: ample for N << M.
    floor = 0.5 * max(float(z @ z - q @ q), 0.0)
    return Spectrum(s=s, q=q, floor=floor, N=int(N))


@dataclass(frozen=True, eq=False)
class Curves:
    """Loss curves of several draws at times t; `train` only when trained on finite data."""

    t: np.ndarray  # (n_t,)
    test: np.ndarray  # (draws, n_t)
    train: np.ndarray | None  # (draws, n_t)
    N: int | None
    P: int | None

    @property
    def mean(self) -> np.ndarray:
        return self.test.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        """Spread across draws of A (and of the data)."""
        return self.test.std(axis=0)


def _finite_data(task: Task, N: int | None, P: int, t: np.ndarray, seed: int, draw: int):
    """Test and train loss of gradient flow on P samples, exactly, through the eigendecomposition of F (P × N)."""
    if not (isinstance(P, (int, np.integer)) and P >= 1):
        raise ValueError(f"P={P!r} must be a positive integer or None (population loss)")
    X = _features(task, N, seed, draw)
    z = task.target
    G = np.random.default_rng([seed, draw, 1]).standard_normal((int(P), task.M))
    F = G * np.sqrt(task.eigenvalues) if X is None else G @ X  # student features on the samples (P × N)
    y = G @ z
    # dw/dt = −Fᵀ(Fw − y)/P. With F = U S Vᵀ, w(t) = V g(t), g = (1 − e^(−S²t/P)) Uᵀy / S.
    if F.shape[0] <= F.shape[1]:  # P × P Gram matrix
        s2, U = np.linalg.eigh(F @ F.T)
        keep = s2 > s2.max() * 1e-13
        s2, U = s2[keep], U[:, keep]
        S = np.sqrt(s2)
        V = (F.T @ U) / S
    else:  # N × N Gram matrix
        s2, V = np.linalg.eigh(F.T @ F)
        keep = s2 > s2.max() * 1e-13
        s2, V = s2[keep], V[:, keep]
        S = np.sqrt(s2)
        U = (F @ V) / S
    yp = U.T @ y
    y_perp2 = max(float(y @ y - yp @ yp), 0.0)
    decay = np.exp(-np.multiply.outer(t, s2 / P))  # (n_t, r)
    g = (1 - decay) * (yp / S)
    Y = np.sqrt(task.eigenvalues)[:, None] * V if X is None else X @ V  # M × r: Xw = Y g
    test = np.empty(len(t))
    for i in range(0, len(t), 32):  # bounded memory: M × 32 residuals at a time
        R = Y @ g[i:i + 32].T - z[:, None]
        test[i:i + 32] = 0.5 * np.sum(R * R, axis=0)
    train = 0.5 * ((decay ** 2) @ yp ** 2 + y_perp2) / P
    return test, train


def gradient_flow(task: Task, N: int | None, t, *, P: int | None = None, draws: int = 1, seed: int = 0) -> Curves:
    """Exact gradient-flow loss curves for `draws` independent draws of A (and of the P samples when P is given)."""
    t = np.asarray(t, dtype=float)
    if P is None:
        test = np.stack([spectrum(task, N, seed, d).loss(t) for d in range(draws)])
        return Curves(t=t, test=test, train=None, N=N, P=None)
    pairs = [_finite_data(task, N, P, t, seed, d) for d in range(draws)]
    return Curves(t=t, test=np.stack([p[0] for p in pairs]), train=np.stack([p[1] for p in pairs]), N=N, P=int(P))


def width_ladder(task: Task, widths, t, *, draws: int = 1, seed: int = 0) -> tuple[Curves, ...]:
    """Population gradient flow for each width."""
    return tuple(gradient_flow(task, N, t, draws=draws, seed=seed) for N in widths)


def data_ladder(task: Task, sizes, t, *, N: int | None = None, draws: int = 1, seed: int = 0) -> tuple[Curves, ...]:
    """Gradient flow on P samples for each P (test and train loss)."""
    return tuple(gradient_flow(task, N, t, P=P, draws=draws, seed=seed) for P in sizes)


def final_losses(task: Task, widths, *, draws: int = 1, seed: int = 0) -> np.ndarray:
    """The t → ∞ population loss of each width and draw (draws × widths): the width bottleneck."""
    return np.array([[spectrum(task, N, seed, d).floor for N in widths] for d in range(draws)])


def width_correction(task: Task, curves: tuple[Curves, ...]) -> np.ndarray:
    """N·(E_A L_N(t) − L_∞(t)) for each width (widths × times): constant in N at early times ([B] Fig. 2: 1/N)."""
    return np.stack([c.N * (c.mean - task.infinite_width_loss(c.t)) for c in curves])


def width_correction_fit(task: Task, curves: tuple[Curves, ...], t0: float) -> LogSlopeFit:
    """Power-law fit of E_A L_N(t0) − L_∞(t0) against N at an early time t0 (predicted exponent −1)."""
    excess = [np.interp(np.log(t0), np.log(c.t), c.mean) - task.infinite_width_loss(t0) for c in curves]
    return fit_log_slope([c.N for c in curves], excess)


def ensemble_gradient_flow(task: Task, N: int, E: int, t, *, draws: int = 1, seed: int = 0) -> Curves:
    """Population loss of the average of E independently drawn width-N students ([B] Fig. 6a)."""
    t = np.asarray(t, dtype=float)
    z = task.target
    test = np.empty((draws, len(t)))
    for d in range(draws):
        mean_pred = np.zeros((task.M, len(t)))  # ensemble prediction Xw in whitened coordinates, per time
        for e in range(E):
            X = _features(task, N, seed, d * E + e)
            s, V, dvec = _eig(X, z)
            # Xw(t) = X V diag((1 − e^(−s t))/s) d
            mean_pred += (X @ V) @ (dvec[:, None] / s[:, None] * (1 - np.exp(-np.multiply.outer(s, t)))) / E
        R = mean_pred - z[:, None]
        test[d] = 0.5 * np.sum(R * R, axis=0)
    return Curves(t=t, test=test, train=None, N=int(N), P=None)


def time_fit(curves: Curves, task: Task, t_min: float = 3.0, factor: float = 10.0) -> LogSlopeFit:
    """Fit of the time bottleneck L ~ t^(−(a−1)/b) on the time-limited regime.

    From t_min while the loss exceeds `factor` × its final value (the width or data plateau, when the time grid
    reaches it), and before M^b/100, where the teacher's last modes start being learned; at least one decade
    (tiny models have no time-limited regime to speak of).
    """
    mean = curves.mean
    before = np.flatnonzero(mean >= factor * mean[-1])
    t_max = task.M ** task.b / 100
    if len(before):
        t_max = min(t_max, float(curves.t[before[-1]]))
    return fit_log_slope(curves.t, curves.test, t_min, max(t_max, 10 * t_min))


def ensemble_study(task: Task, N: int, counts, t, *, draws: int = 1, seed: int = 0):
    """Ensembles of E width-N students and single students of width E·N, for each E ([B] Fig. 6a)."""
    ens = tuple(ensemble_gradient_flow(task, N, E, t, draws=draws, seed=seed) for E in counts)
    single = tuple(gradient_flow(task, N * E, t, draws=draws, seed=seed) for E in counts)
    return ens, single


def final_test(curves) -> np.ndarray:
    """Last test loss of each curve and draw (draws × curves): the plateau of a long enough run."""
    return np.stack([c.test[:, -1] for c in curves], axis=1)


def time_check(curves: Curves, task: Task, quantity: str) -> checks.Check:
    """`time_fit`'s exponent against −(a − 1)/b, with its local exponent over the whole time grid."""
    fit = time_fit(curves, task)
    return checks.exponent_check(quantity, -predicted(task.a, task.b).time, curves.t, curves.test, fit.x_min,
                                 fit.x_max, local=(curves.t, local_exponent(curves.t, curves.mean)))


def correction_check(task: Task, curves: tuple[Curves, ...], t0: float, *, n_boot: int = 200,
                     seed: int = 0) -> checks.Check:
    """The early finite-width correction E_A L_N(t0) − L_∞(t0) against N^(−1) ([B] Fig. 2).

    A single draw's excess fluctuates by O(N^(−1/2)) around an O(1/N) mean and can be negative, so the sampling
    error is a bootstrap over draws of the mean excess (`seed` drives it), not a spread of per-draw fits.
    """
    excess = np.stack([[np.interp(np.log(t0), np.log(c.t), row) for row in c.test] for c in curves], axis=1)
    excess = excess - task.infinite_width_loss(t0)  # (draws, widths)
    widths = np.array([c.N for c in curves], dtype=float)
    fit = width_correction_fit(task, curves, t0)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        mean = excess[rng.integers(0, len(excess), len(excess))].mean(axis=0)
        if (mean > 0).all():  # a resample whose mean excess is not positive at some width has no exponent
            boots.append(fit_log_slope(widths, mean).exponent)
    low, high = checks.window_drift(widths, excess.mean(axis=0)) if len(widths) >= 3 else (fit.exponent,) * 2
    lx, le = checks.pairwise_exponent(widths, excess.mean(axis=0))
    sampling = checks.bootstrap_se(boots)
    return checks.Check(quantity=f"early finite-width correction at t = {t0:g}: N^x", predicted=-1.0,
                        measured=fit.exponent, sampling=sampling, finite_size=abs(high - low), local_x=lx, local=le,
                        window=(widths.min(), widths.max()))


def bottleneck_checks(task: Task, widths, floors, sizes, finals) -> list[checks.Check]:
    """The width and data plateaus' exponents against [B]'s −min(a − 1, 2b), over the whole ladders.

    When the exact width floor's exponent (`Exponents.projection`) differs from [B]'s, a third row compares the
    width plateaus with it.
    """
    e = predicted(task.a, task.b)
    rows = [checks.exponent_check("width: L(t = ∞) ∝ N^x", -e.width, widths, floors),
            checks.exponent_check("data: L(t = ∞) ∝ P^x, N = ∞", -e.data, sizes, finals)]
    if e.projection != e.width:
        rows.insert(1, checks.exponent_check("width, exact floor min(a − 1, b): N^x", -e.projection, widths, floors))
    return rows


def convergence_curves(task: Task, widths, *, reach: float = 16.0,
                       n: int = 24) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Local exponents of the deterministic-equivalent width and data floors: where the plateaus' exponents go.

    For each of "width" and "data": the local exponent over the ladder's own range at this M, and over a range
    `reach` times wider as M → ∞ (b > 1; for b <= 1, where that limit does not exist, a teacher 64 times larger).
    """
    lo, hi = min(widths), max(widths)
    tail = task.b > 1
    big = Task(task.a, task.b, int(max(task.M, 64 * reach * hi)))
    ranges = {f"deterministic equivalent, M = {task.M}": (task, np.geomspace(lo, hi, n), False),
              ("deterministic equivalent, M = ∞" if tail else f"deterministic equivalent, M = {big.M}"):
                  (big, np.geomspace(lo, reach * hi, n), tail)}
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {"width": {}, "data": {}}
    for label, (t, sizes, with_tail) in ranges.items():
        out["width"][label] = checks.pairwise_exponent(sizes, width_floor_theory(t, sizes, tail=with_tail))
        out["data"][label] = checks.pairwise_exponent(sizes, data_floor_theory(t, sizes, tail=with_tail))
    return out
