"""The Max-Cut QAOA ansatz as a Cirq circuit, its cost operator, and parameter conventions.

The one convention used throughout the package (the textbook one):

    |θ⟩ = Π_{k=1..p} e^{-iβ_k B} e^{-iγ_k C} |+⟩^n,   C = Σ_{(i,j)} w_ij (1 − Z_i Z_j)/2,
    B = Σ_i X_i,   θ = (γ_1..γ_p, β_1..β_p),   energy ⟨C⟩ (a cut value, larger is better).

Other conventions met in practice, with converters below:

* PennyLane ``qml.qaoa`` (the paper's code): ``cost_h = Σ w (Z_i Z_j − 1)/2 = −C`` and
  ``cost_layer(γ_PL)`` applies ``e^{-iγ_PL (−C)}``, so ``γ_PL = −γ``; ``mixer_layer(α)`` applies
  ``e^{-iα B}``, so ``α = β``. Its reported cost is ``⟨cost_h⟩ = −⟨C⟩``.
* Cirq exponents: ``e^{-iγ w (1−ZZ)/2} ∝ ZZ**(−wγ/π)`` and ``e^{-iβX} = rx(2β) = X**(2β/π)``
  up to global phase: per unit weight, ``t_zz = −γ/π`` and ``t_x = 2β/π``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cirq
import numpy as np
import sympy

from qaoa_meta.problems import MaxCutProblem


def gamma_symbols(p: int) -> list[sympy.Symbol]:
    """Symbols ``gamma_1..gamma_p`` of the cost layers.

    Args:
        p: QAOA depth.

    Returns:
        The p symbols, in order.

    Raises:
        ValueError: unless ``p`` is a positive integer.
    """
    return _numbered_symbols("gamma", p)


def beta_symbols(p: int) -> list[sympy.Symbol]:
    """Symbols ``beta_1..beta_p`` of the mixer layers.

    Args: as :func:`gamma_symbols`.
    """
    return _numbered_symbols("beta", p)


def _numbered_symbols(name: str, p: int) -> list[sympy.Symbol]:
    return [sympy.Symbol(f"{name}_{k}") for k in range(1, check_depth(p) + 1)]


def parameter_symbols(p: int) -> list[sympy.Symbol]:
    """All 2p symbols in parameter-vector order ``(gamma_1..gamma_p, beta_1..beta_p)``.

    Args:
        p: QAOA depth.

    Returns:
        The 2p symbols.

    Raises:
        ValueError: unless ``p`` is a positive integer.
    """
    return gamma_symbols(p) + beta_symbols(p)


def check_depth(p: int) -> int:
    """``p`` as an int; ``ValueError`` unless it is a positive integer (not a bool).

    Args:
        p: the depth to check (a Python or NumPy integer).

    Returns:
        ``p`` as an ``int``.

    Raises:
        ValueError: for a bool, a non-integer or ``p < 1``.
    """
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 1:
        raise ValueError(f"QAOA depth p must be a positive integer, got {p!r}.")
    return int(p)


def default_qubits(problem: MaxCutProblem) -> list[cirq.LineQubit]:
    """``cirq.LineQubit(0..n-1)``: node i sits on line qubit i.

    Args:
        problem: the problem.

    Returns:
        ``n`` line qubits.
    """
    return cirq.LineQubit.range(problem.n)


def _check_qubits(problem: MaxCutProblem, qubits: Sequence[cirq.Qid] | None) -> list[cirq.Qid]:
    qubits = list(default_qubits(problem) if qubits is None else qubits)
    if len(qubits) != problem.n or len(set(qubits)) != problem.n:
        raise ValueError(
            f"Expected {problem.n} distinct qubits for a {problem.n}-node problem, got {qubits}."
        )
    return qubits


def cost_operator(
    problem: MaxCutProblem, qubits: Sequence[cirq.Qid] | None = None
) -> cirq.PauliSum:
    """The cut operator ``C = Σ w (1 − Z_i Z_j)/2`` as a ``cirq.PauliSum`` (with its constant).

    Args:
        problem: the problem; node i acts on ``qubits[i]``.
        qubits: n distinct qubits (default :func:`default_qubits`).

    Returns:
        The operator.

    Raises:
        ValueError: unless ``qubits`` holds n distinct qubits.
    """
    qubits = _check_qubits(problem, qubits)
    total = cirq.PauliSum()
    for u, v, w in problem.edges:
        total += 0.5 * w * cirq.PauliString() - 0.5 * w * cirq.Z(qubits[u]) * cirq.Z(qubits[v])
    return total


def zz_operator(problem: MaxCutProblem, qubits: Sequence[cirq.Qid] | None = None) -> cirq.PauliSum:
    """The non-constant part of the cost, ``Σ −w/2 Z_i Z_j`` (``C = W/2 + zz_operator``).

    Args:
        problem: the problem; node i acts on ``qubits[i]``.
        qubits: n distinct qubits (default :func:`default_qubits`).

    Returns:
        The operator (empty for an edgeless problem).

    Raises:
        ValueError: unless ``qubits`` holds n distinct qubits.
    """
    qubits = _check_qubits(problem, qubits)
    total = cirq.PauliSum()
    for u, v, w in problem.edges:
        total += -0.5 * w * cirq.Z(qubits[u]) * cirq.Z(qubits[v])
    return total


def qaoa_circuit(
    problem: MaxCutProblem,
    p: int,
    qubits: Sequence[cirq.Qid] | None = None,
    params: Sequence[float] | np.ndarray | None = None,
) -> cirq.Circuit:
    """Depth-p Max-Cut QAOA circuit (textbook convention), without measurements.

    Args:
        problem: the Max-Cut instance; node i acts on ``qubits[i]``.
        p: number of cost+mixer layers.
        qubits: the qubits to use (default ``cirq.LineQubit.range(n)``).
        params: optional numeric θ = (γ_1..γ_p, β_1..β_p); if omitted the circuit keeps the
            sympy symbols of :func:`parameter_symbols` for later resolution.

    Returns:
        The circuit: Hadamards, then p layers of ``ZZ`` powers and ``rx`` rotations.

    Raises:
        ValueError: for a depth that is not a positive integer, ``qubits`` that are not n
            distinct qubits, or ``params`` not of shape ``(2p,)``.
    """
    p = check_depth(p)
    qubits = _check_qubits(problem, qubits)
    if params is None:
        gammas, betas = gamma_symbols(p), beta_symbols(p)
    else:
        theta = np.asarray(params, dtype=np.float64)
        if theta.shape != (2 * p,):
            raise ValueError(
                f"Expected 2p = {2 * p} parameters (gamma_1..gamma_p, beta_1..beta_p), "
                f"got shape {theta.shape}."
            )
        gammas, betas = list(theta[:p]), list(theta[p:])
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    for gamma, beta in zip(gammas, betas, strict=True):
        circuit.append(
            cirq.ZZ(qubits[u], qubits[v]) ** (-w * gamma / np.pi) for u, v, w in problem.edges
        )
        circuit.append(cirq.rx(2 * beta).on_each(*qubits))
    return circuit


def resolver(params: Sequence[float] | np.ndarray) -> cirq.ParamResolver:
    """A resolver mapping :func:`parameter_symbols` to the values θ = (γ.., β..).

    Args:
        params: ``(2p,)`` θ.

    Returns:
        A ``cirq.ParamResolver`` keyed by symbol name.

    Raises:
        ValueError: unless ``params`` is a non-empty flat vector of even length.
    """
    theta = np.asarray(params, dtype=np.float64)
    if theta.ndim != 1 or theta.size % 2 or theta.size == 0:
        raise ValueError(f"Expected a flat vector of 2p parameters, got shape {theta.shape}.")
    symbols = parameter_symbols(theta.size // 2)
    return cirq.ParamResolver({s.name: float(v) for s, v in zip(symbols, theta, strict=True)})


# --- conventions --------------------------------------------------------------------------
def _split(theta: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(theta, dtype=np.float64)
    if values.shape[-1] % 2:
        raise ValueError(f"Expected 2p parameters on the last axis, got shape {values.shape}.")
    p = values.shape[-1] // 2
    return values[..., :p], values[..., p:]


def textbook_to_pennylane(theta: Sequence[float] | np.ndarray) -> np.ndarray:
    """(γ, β) → PennyLane ``qml.qaoa`` params ``(γ_PL, α) = (−γ, β)`` (works on batches).

    Args:
        theta: ``(..., 2p)`` textbook θ.

    Returns:
        ``(..., 2p)`` PennyLane parameters.

    Raises:
        ValueError: for an odd number of entries on the last axis.
    """
    gamma, beta = _split(theta)
    return np.concatenate([-gamma, beta], axis=-1)


def pennylane_to_textbook(theta_pl: Sequence[float] | np.ndarray) -> np.ndarray:
    """PennyLane ``(γ_PL, α)`` → textbook ``(γ, β) = (−γ_PL, α)`` (works on batches).

    Negating γ is its own inverse, so this is :func:`textbook_to_pennylane` (same shapes,
    same ``ValueError`` for an odd last axis).

    Args:
        theta_pl: ``(..., 2p)`` PennyLane parameters.
    """
    return textbook_to_pennylane(theta_pl)


def pennylane_cost(cut_expectation: float | np.ndarray) -> float | np.ndarray:
    """PennyLane's reported cost ``⟨cost_h⟩ = −⟨C⟩`` from the cut expectation ``⟨C⟩``.

    Args:
        cut_expectation: ⟨C⟩ (scalar or array).

    Returns:
        −⟨C⟩ as an array.
    """
    return -np.asarray(cut_expectation)


def textbook_to_cirq_exponents(theta: Sequence[float] | np.ndarray) -> np.ndarray:
    """(γ, β) → Cirq exponents ``(t_zz, t_x) = (−γ/π, 2β/π)`` per unit edge weight.

    Args:
        theta: ``(..., 2p)`` textbook θ.

    Returns:
        ``(..., 2p)`` exponents ``(t_zz.., t_x..)``.

    Raises:
        ValueError: for an odd number of entries on the last axis.
    """
    gamma, beta = _split(theta)
    return np.concatenate([-gamma / np.pi, 2 * beta / np.pi], axis=-1)


def cirq_exponents_to_textbook(exponents: Sequence[float] | np.ndarray) -> np.ndarray:
    """Cirq exponents ``(t_zz, t_x)`` → textbook ``(γ, β) = (−π t_zz, π t_x / 2)``.

    Args:
        exponents: ``(..., 2p)`` exponents ``(t_zz.., t_x..)``.

    Returns:
        ``(..., 2p)`` textbook θ.

    Raises:
        ValueError: for an odd number of entries on the last axis.
    """
    t_zz, t_x = _split(exponents)
    return np.concatenate([-np.pi * t_zz, np.pi * t_x / 2], axis=-1)


def qaoa_circuit_from_exponents(
    problem: MaxCutProblem,
    exponents: Sequence[float] | np.ndarray,
    qubits: Sequence[cirq.Qid] | None = None,
) -> cirq.Circuit:
    """Builds the QAOA circuit directly from raw Cirq exponents (``ZZ**(w t_zz)``, ``X**t_x``).

    Equal to :func:`qaoa_circuit` at :func:`cirq_exponents_to_textbook` of the exponents, up to
    a global phase; provided so the converter can be checked against an independent build.

    Args:
        problem: the problem; node i acts on ``qubits[i]``.
        exponents: ``(2p,)`` exponents ``(t_zz_1..t_zz_p, t_x_1..t_x_p)``.
        qubits: n distinct qubits (default :func:`default_qubits`).

    Returns:
        The circuit.

    Raises:
        ValueError: for an odd number of exponents, or ``qubits`` that are not n distinct
            qubits.
    """
    t_zz, t_x = _split(exponents)
    qubits = _check_qubits(problem, qubits)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    for a, b in zip(t_zz, t_x, strict=True):
        circuit.append(cirq.ZZ(qubits[u], qubits[v]) ** (w * a) for u, v, w in problem.edges)
        circuit.append((cirq.X**b).on_each(*qubits))
    return circuit


def parameter_grid(points: int) -> np.ndarray:
    """A ``points x points`` grid over γ ∈ [0, π], β ∈ [0, π/2) as ``(points², 2)``.

    For integer edge weights this covers the whole p=1 landscape: β has period π/2 and
    (γ, β) → (−γ, −β) leaves ⟨C⟩ unchanged.

    Args:
        points: grid points per axis.

    Returns:
        ``(points², 2)`` rows (γ, β), γ-major.
    """
    gammas = np.linspace(0.0, np.pi, points)
    betas = np.linspace(0.0, np.pi / 2, points, endpoint=False)
    gamma_grid, beta_grid = np.meshgrid(gammas, betas, indexing="ij")
    return np.stack([gamma_grid.ravel(), beta_grid.ravel()], axis=1)


# --- schedules: θ at one depth from θ at another ---------------------------------------------
def resample_schedule(theta: Sequence[float] | np.ndarray, p: int) -> np.ndarray:
    """Linearly resamples a (γ.., β..) schedule of depth ``len(theta) / 2`` to depth ``p``.

    Args:
        theta: ``(2q,)`` θ at depth q.
        p: the new depth.

    Returns:
        ``(2p,)`` θ; depth 1 is repeated, equal depths are copied.
    """
    theta = np.asarray(theta, float)
    q = theta.size // 2
    if q == p:
        return theta.copy()
    if q == 1:
        return np.repeat(theta, p)
    grid_old = (np.arange(q) + 0.5) / q
    grid_new = (np.arange(p) + 0.5) / p
    return np.concatenate(
        [np.interp(grid_new, grid_old, theta[:q]), np.interp(grid_new, grid_old, theta[q:])]
    )


def linear_ramp(p: int, dt: float = 0.75) -> np.ndarray:
    """Linear annealing schedule (TQA, Zhou et al. 2020): γ_i = (i − ½)/p·Δt,
    β_i = (1 − (i − ½)/p)·Δt.

    Args:
        p: depth.
        dt: the time step Δt.

    Returns:
        ``(2p,)`` θ.

    Raises:
        ValueError: unless ``p`` is a positive integer.
    """
    s = (np.arange(1, check_depth(p) + 1) - 0.5) / p
    return np.concatenate([s * dt, (1 - s) * dt])


def interp_extend(theta: Sequence[float] | np.ndarray) -> np.ndarray:
    """INTERP (Zhou et al. 2020, eq. B1): optimised depth-p θ → depth-(p+1) starting point.

    [x]_i = (i−1)/p [x]_{i−1} + (p−i+1)/p [x]_i for i = 1..p+1, with [x]_0 = [x]_{p+1} = 0,
    applied to γ and β separately.

    Args:
        theta: ``(2p,)`` θ.

    Returns:
        ``(2p + 2,)`` θ.
    """
    theta = np.asarray(theta, float)
    p = theta.size // 2

    def extend(x):
        padded = np.concatenate([[0.0], x, [0.0]])
        i = np.arange(1, p + 2)
        return (i - 1) / p * padded[i - 1] + (p - i + 1) / p * padded[i]

    return np.concatenate([extend(theta[:p]), extend(theta[p:])])


def fourier_matrix(q: int, p: int) -> np.ndarray:
    """M with θ = M·(u_1..u_q, v_1..v_q) for FOURIER[q] at depth p (Zhou et al. eq. 8):
    γ_i = Σ_k u_k sin((k−½)(i−½)π/p), β_i = Σ_k v_k cos((k−½)(i−½)π/p).

    Args:
        q: number of frequencies.
        p: depth.

    Returns:
        ``(2p, 2q)`` matrix.
    """
    i = np.arange(1, p + 1)[:, None]
    k = np.arange(1, q + 1)[None, :]
    angle = (k - 0.5) * (i - 0.5) * math.pi / p
    matrix = np.zeros((2 * p, 2 * q))
    matrix[:p, :q] = np.sin(angle)
    matrix[p:, q:] = np.cos(angle)
    return matrix
