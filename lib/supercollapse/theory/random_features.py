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

from .fits import PowerLawFit, fit_power_law


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
    """The power laws SPEC §10 predicts for the model of [B] (its Secs. 4–5)."""

    a: float
    b: float

    @property
    def time(self) -> float:
        """L ~ t^(−(a−1)/b): the time bottleneck."""
        return (self.a - 1) / self.b

    @property
    def width(self) -> float:
        """L ~ N^(−(a−1)): the model bottleneck."""
        return self.a - 1

    @property
    def data(self) -> float:
        """L ~ P^(−(a−1)): the data bottleneck."""
        return self.a - 1

    @property
    def compute_loss(self) -> float:
        """L* ~ C^(−(a−1)/(1+b)) on the compute-optimal frontier."""
        return (self.a - 1) / (1 + self.b)

    @property
    def compute_width(self) -> float:
        """N* ~ C^(1/(1+b))."""
        return 1 / (1 + self.b)

    @property
    def compute_time(self) -> float:
        """t* ~ C^(b/(1+b)): steps grow faster than parameters when b > 1."""
        return self.b / (1 + self.b)

    @property
    def gamma(self) -> float:
        """t* ∝ N^gamma with gamma = nu/mu = b (SPEC §10, the bridge)."""
        return self.b

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


def width_correction_fit(task: Task, curves: tuple[Curves, ...], t0: float) -> PowerLawFit:
    """Power-law fit of E_A L_N(t0) − L_∞(t0) against N at an early time t0 (predicted exponent −1)."""
    excess = [np.interp(np.log(t0), np.log(c.t), c.mean) - task.infinite_width_loss(t0) for c in curves]
    return fit_power_law([c.N for c in curves], excess)


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


def time_fit(curves: Curves, task: Task, t_min: float = 3.0, factor: float = 10.0) -> PowerLawFit:
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
    return fit_power_law(curves.t, curves.test, t_min, max(t_max, 10 * t_min))


def ensemble_study(task: Task, N: int, counts, t, *, draws: int = 1, seed: int = 0):
    """Ensembles of E width-N students and single students of width E·N, for each E ([B] Fig. 6a)."""
    ens = tuple(ensemble_gradient_flow(task, N, E, t, draws=draws, seed=seed) for E in counts)
    single = tuple(gradient_flow(task, N * E, t, draws=draws, seed=seed) for E in counts)
    return ens, single


def final_test(curves) -> np.ndarray:
    """Last test loss of each curve and draw (draws × curves): the plateau of a long enough run."""
    return np.stack([c.test[:, -1] for c in curves], axis=1)
