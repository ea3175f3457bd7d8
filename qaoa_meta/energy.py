"""Batched, differentiable QAOA energies ⟨C⟩(θ) for Max-Cut: an exact TF path and a TFQ path.

Both backends return the cut expectation ⟨C⟩ in the textbook convention of :mod:`qaoa_meta.qaoa`
(θ = (γ_1..γ_p, β_1..β_p)) and are differentiable with ``tf.GradientTape``.

* ``"exact"``: an exact state-vector simulation, on two paths that give the same numbers:

  - eager calls and NumPy input (``Energy.__call__`` outside ``tf.function``,
    ``Energy.value_and_gradient``) run the compiled numba kernel of
    :mod:`qaoa_meta.energy_kernel` (fused cost phase and cache-blocked mixer, p + 1 sweeps
    over memory, float64 reductions, adjoint gradient). Under ``tf.GradientTape`` its gradient
    comes back through ``tf.custom_gradient``. No TensorFlow op runs per call.
  - inside ``tf.function`` / XLA (the meta-learners' compiled rollouts, ``exact_expectation``)
    the TF-ops simulation below runs, since a numba kernel cannot live in an XLA graph: the
    cost layer is a phase ``e^{-iγ C(x)}`` from the precomputed cut diagonal; the mixer
    ``e^{-iβ ΣX}`` is a product of single-qubit rotations, applied a few qubits at a time as
    small Kronecker blocks (one batched matmul per block). Autodiff gives exact gradients.

  Problems of different n share one register by padding with idle qubits, which leave ⟨C⟩
  unchanged.
* ``"tfq"``: ``tfq.layers.Expectation`` (qsim inside) with the adjoint differentiator on the
  Cirq circuits of :func:`qaoa_meta.qaoa.qaoa_circuit`, all circuits of a batch in one call.

This module owns every ⟨C⟩ path of the package. Besides :class:`Energy` it holds the one TFQ
QAOA encoder, :func:`tfq_qaoa_inputs` (also behind :func:`qaoa_meta.meta.encode_problems` and
:func:`qaoa_meta.noise_aware.encode_noisy`), and the per-diagonal evaluators:
:class:`ExactEvaluator` (traced TF ⟨C⟩ and gradient; formerly in :mod:`qaoa_meta.optimize`,
still importable there) and the NumPy state vector :func:`qaoa_probabilities` /
:func:`statevector_energy` (formerly in :mod:`qaoa_meta.optimize` and :mod:`qaoa_meta.noisy`).
TensorFlow loads on the first TF call, not on import, so the NumPy paths stay light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cirq
import numpy as np

from qaoa_meta import energy_kernel, qaoa
from qaoa_meta.problems import MaxCutProblem, cost_diagonal


class _LazyModule:
    """Stands for ``qaoa_meta._tf.<name>`` until first used, so importing this module (and
    running its NumPy paths, e.g. :func:`statevector_energy`) does not load TensorFlow; the
    first attribute access imports it and puts the real module in this one's globals."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        from qaoa_meta import _tf  # the deferred import this class exists for

        module = getattr(_tf, self._name)
        globals()[self._name] = module
        return getattr(module, attr)


tf = _LazyModule("tf")
tfq = _LazyModule("tfq")

BACKENDS = ("exact", "tfq")

# Largest block of qubits whose mixer is applied as one dense 2^g x 2^g matrix. Small n is
# dominated by per-op overhead (bigger blocks, fewer ops); large n by flops (smaller blocks).
_MAX_BLOCK_SMALL_N = 5
_MAX_BLOCK_LARGE_N = 3
_LARGE_N = 13


def _register_size(problems: Sequence[MaxCutProblem], n_qubits: int | None) -> int:
    """``n_qubits`` (default: the largest n), checked to hold every problem."""
    if not problems:
        raise ValueError("Expected at least one problem, got an empty sequence.")
    largest = max(problem.n for problem in problems)
    n_qubits = largest if n_qubits is None else int(n_qubits)
    if n_qubits < largest:
        raise ValueError(
            f"n_qubits = {n_qubits} is smaller than the largest problem (n={largest})."
        )
    return n_qubits


def pad_diagonals(
    problems: Sequence[MaxCutProblem], n_qubits: int | None = None, dtype=np.float32
) -> np.ndarray:
    """Cost diagonals of ``problems`` stacked into one ``(B, 2**n_qubits)`` array.

    A problem with n < n_qubits is placed on the first n qubits; the remaining qubits are idle
    (in |+⟩ throughout, untouched by the mixer), so its energies are unchanged.

    Args:
        problems: the problems (any mix of sizes).
        n_qubits: qubit count of the padded register; default the largest n.
        dtype: dtype of the result.

    Returns:
        The ``(B, 2**n_qubits)`` array of cut values, one row per problem.

    Raises:
        ValueError: for no problems, or ``n_qubits`` smaller than the largest problem.
    """
    n_qubits = _register_size(problems, n_qubits)
    rows = [np.repeat(cost_diagonal(pr, dtype), 1 << (n_qubits - pr.n)) for pr in problems]
    return np.stack(rows).astype(dtype)


def tfq_qaoa_inputs(
    problems: Sequence[MaxCutProblem],
    p: int,
    qubits: Sequence[Sequence[cirq.Qid]] | None = None,
    circuits: Sequence[cirq.Circuit] | None = None,
    n_qubits: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The TFQ inputs of ⟨C⟩ = ⟨zz_operator⟩ + W/2 for a batch: the one TFQ QAOA encoder.

    Every TFQ energy of the package (:class:`Energy` with ``backend="tfq"``,
    :func:`qaoa_meta.meta.encode_problems` with ``backend="tfq"``,
    :func:`qaoa_meta.noise_aware.encode_noisy`) encodes its circuits and operators here.

    Args:
        problems: the problems.
        p: QAOA depth (names the circuit symbols).
        qubits: per problem, the qubit of each node (default
            :func:`qaoa_meta.qaoa.default_qubits`).
        circuits: per problem, a circuit to use instead of the textbook
            :func:`qaoa_meta.qaoa.qaoa_circuit` (e.g. a device-compiled noisy one, acting on
            ``qubits``); taken as they are.
        n_qubits: width of the textbook circuits (default the largest n): each gets identity
            gates on the idle line qubits n..n_qubits-1, since TFQ 0.7.6 returns wrong
            expectations for some circuits of a batch whose circuits have different qubit
            counts (order dependent); equal widths avoid it. Not applied to ``circuits``.

    Returns:
        ``(circuits, operators, offsets)``: ``(B,)`` serialized circuits and ``(B, 1)``
        serialized ZZ operators (object arrays of bytes, for ``tf.constant``), and ``(B,)``
        float32 offsets W/2. An edgeless problem gets the operator Z on its first qubit and
        offset 0 (TFQ cannot take an empty PauliSum): scale its value by 0.

    Raises:
        ValueError: for no problems, ``n_qubits`` below the largest n, or ``qubits`` /
            ``circuits`` of another length than ``problems``.
    """
    problems = list(problems)
    width = _register_size(problems, n_qubits)
    for name, given in (("qubits", qubits), ("circuits", circuits)):
        if given is not None and len(given) != len(problems):
            raise ValueError(f"Got {len(given)} {name} for {len(problems)} problems.")
    bodies, operators, offsets = [], [], []
    for row, problem in enumerate(problems):
        register = qaoa.default_qubits(problem) if qubits is None else list(qubits[row])
        if circuits is None:
            idle = cirq.I.on_each(*cirq.LineQubit.range(problem.n, width))
            bodies.append(cirq.Circuit(idle) + qaoa.qaoa_circuit(problem, p, register))
        else:
            bodies.append(circuits[row])
        zz = qaoa.zz_operator(problem, register)
        operators.append([zz if len(zz) else cirq.PauliSum.from_pauli_strings(cirq.Z(register[0]))])
        offsets.append(problem.total_weight / 2 if len(zz) else 0.0)
    return (
        tfq.convert_to_tensor(bodies).numpy(),
        tfq.convert_to_tensor(operators).numpy(),
        np.array(offsets, np.float32),
    )


def _blocks(n: int) -> list[tuple[int, int]]:
    """Splits qubits 0..n-1 into contiguous (start, size) blocks of near-equal size."""
    max_block = _MAX_BLOCK_SMALL_N if n < _LARGE_N else _MAX_BLOCK_LARGE_N
    count = math.ceil(n / max_block)
    sizes = [n // count + (1 if i < n % count else 0) for i in range(count)]
    starts = np.cumsum([0, *sizes[:-1]])
    return [(int(s), int(k)) for s, k in zip(starts, sizes, strict=True)]


def _hamming_table(size: int) -> np.ndarray:
    index = np.arange(1 << size)
    xor = index[:, None] ^ index[None, :]
    return np.vectorize(lambda value: bin(int(value)).count("1"))(xor).astype(np.int32)


def _mixer_block(beta: tf.Tensor, size: int) -> tf.Tensor:
    """``⊗^size e^{-iβX}`` for each β in the batch: ``(B, 2^size, 2^size)`` complex64.

    Entry (a, b) of the Kronecker power is ``cos(β)^(size-h) sin(β)^h (−i)^h`` with h the
    Hamming distance of a and b: a gather from a table of ``size + 1`` real powers, times a
    constant matrix of the phases (−i)^h.
    """
    hamming = _hamming_table(size)
    ones = tf.ones_like(beta)[:, None]
    cos_powers = tf.math.cumprod(
        tf.concat([ones, tf.tile(tf.cos(beta)[:, None], [1, size])], axis=1), axis=1
    )  # (B, size+1): cos^0 .. cos^size
    sin_powers = tf.math.cumprod(
        tf.concat([ones, tf.tile(tf.sin(beta)[:, None], [1, size])], axis=1), axis=1
    )
    magnitude = tf.gather(tf.reverse(cos_powers, [1]) * sin_powers, hamming, axis=1)
    real_phase = tf.constant(np.choose(hamming % 4, [1.0, 0.0, -1.0, 0.0]), beta.dtype)
    imag_phase = tf.constant(np.choose(hamming % 4, [0.0, -1.0, 0.0, 1.0]), beta.dtype)
    return tf.complex(magnitude * real_phase, magnitude * imag_phase)


def _apply_mixer(state: tf.Tensor, beta: tf.Tensor, n: int) -> tf.Tensor:
    """Applies ``e^{-iβ ΣX}`` to a ``(B, 2^n)`` state, one Kronecker block of qubits at a time."""
    dim = 1 << n
    blocks = {size: _mixer_block(beta, size) for size in {size for _, size in _blocks(n)}}
    for start, size in _blocks(n):
        block = blocks[size]
        left, right = 1 << start, 1 << (n - start - size)
        if left == 1:  # leading qubits: block @ state
            shaped = tf.reshape(state, [-1, 1 << size, right])
            state = tf.linalg.matmul(block, shaped)
        elif right == 1:  # trailing qubits: state @ block^T
            shaped = tf.reshape(state, [-1, left, 1 << size])
            state = tf.linalg.matmul(shaped, block, transpose_b=True)
        else:
            shaped = tf.reshape(state, [-1, left, 1 << size, right])
            state = tf.einsum("bij,bajr->bair", block, shaped)
        state = tf.reshape(state, [-1, dim])
    return state


def exact_expectation(
    diagonals: tf.Tensor, params: tf.Tensor, dtype: tf.DType | None = None
) -> tf.Tensor:
    """⟨C⟩ of depth-p QAOA for a batch, by exact state-vector simulation in TF ops.

    Pure function of its inputs; differentiable and ``tf.function``-compatible (the register
    size and p are read from the static shapes).

    Args:
        diagonals: ``(B, 2^n)`` float cut values (see :func:`pad_diagonals`).
        params: ``(B, 2p)`` float θ = (γ_1..γ_p, β_1..β_p) in the textbook convention.
        dtype: ``tf.float32`` (fast; ~1e-6 relative error; the default, None) or
            ``tf.float64`` (~1e-13).

    Returns:
        ``(B,)`` expectations ⟨C⟩ of the given dtype.

    Raises:
        ValueError: for another dtype, a last dimension of ``diagonals`` that is not a static
            power of two, or an odd or unknown number of parameters.
    """
    dtype = tf.float32 if dtype is None else dtype
    if dtype not in (tf.float32, tf.float64):
        raise ValueError(f"dtype must be tf.float32 or tf.float64, got {dtype!r}.")
    diagonals = tf.cast(tf.convert_to_tensor(diagonals), dtype)
    params = tf.cast(tf.convert_to_tensor(params), dtype)
    dim = diagonals.shape[-1]
    n = -1 if dim is None else int(dim).bit_length() - 1
    if dim is None or 1 << n != dim:
        raise ValueError(f"diagonals must have a static last dimension 2^n, got {dim}.")
    if params.shape[-1] is None or params.shape[-1] % 2:
        raise ValueError(f"params must have 2p entries on the last axis, got {params.shape}.")
    p = params.shape[-1] // 2
    state = None
    for layer in range(p):
        phase = params[:, layer : layer + 1] * diagonals
        rotation = tf.complex(tf.cos(phase), -tf.sin(phase))
        if state is None:  # the initial |+>^n is uniform: the first cost layer is just a phase
            # tf.constant in the target dtype: tf.cast of a Python float goes through float32
            # and would scale every odd-n float64 energy by (1 - 3e-8).
            state = rotation * tf.constant(1.0 / math.sqrt(dim), rotation.dtype)
        else:
            state = state * rotation
        state = _apply_mixer(state, params[:, p + layer], n)
    probabilities = tf.math.real(state) ** 2 + tf.math.imag(state) ** 2
    return tf.reduce_sum(probabilities * diagonals, axis=-1)


def edge_statistics(problem: MaxCutProblem) -> np.ndarray:
    """Per-edge (deg(u) − 1, deg(v) − 1, common neighbours) of an unweighted graph: (E, 3) int.

    These three numbers per edge fix the p=1 expectation (see :func:`p1_expectation`).

    Args:
        problem: an unweighted problem.

    Returns:
        ``(E, 3)`` int32 array, one row per edge in ``problem.edges`` order.

    Raises:
        ValueError: for a weighted problem.
    """
    if problem.is_weighted:
        raise ValueError(
            f"The p=1 closed form holds for unweighted graphs only; {problem!r} is weighted. "
            "Use the 'exact' backend."
        )
    degree = problem.degrees()
    neighbours: list[set[int]] = [set() for _ in range(problem.n)]
    for u, v, _ in problem.edges:
        neighbours[u].add(v)
        neighbours[v].add(u)
    return np.array(
        [
            (int(degree[u]) - 1, int(degree[v]) - 1, len(neighbours[u] & neighbours[v]))
            for u, v, _ in problem.edges
        ],
        np.int32,
    ).reshape(-1, 3)


def p1_coefficients(
    problems: Sequence[MaxCutProblem], n_qubits: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The p=1 closed form of each problem as polynomial coefficients (see :func:`p1_expectation`).

    Summing the per-edge closed form over edges groups equal powers:
    ⟨C⟩ = E/2 + 1/4 sin4β sinγ Σ_k a_k cos^k γ − 1/4 sin²2β Σ_{s,l} b_sl cos^s γ (1 − cos^l 2γ),
    with a_k the number of edge ends of degree k + 1 and b_sl the number of edges with
    d + e − 2λ = s and λ = l (:func:`edge_statistics`).

    Args:
        problems: unweighted problems (any mix of sizes).
        n_qubits: size the tables for graphs up to this n (default: the largest n).

    Returns:
        ``edges`` (B,), ``linear`` (B, 2m + 1) and ``quadratic`` (B, 2m + 1, m + 1) float32
        arrays, m = max(n_qubits − 2, 0).

    Raises:
        ValueError: for no problems, ``n_qubits`` smaller than the largest problem, or a
            weighted problem.
    """
    n_qubits = _register_size(problems, n_qubits)
    m = max(n_qubits - 2, 0)
    edges = np.zeros(len(problems), np.float32)
    linear = np.zeros((len(problems), 2 * m + 1), np.float32)
    quadratic = np.zeros((len(problems), 2 * m + 1, m + 1), np.float32)
    for row, problem in enumerate(problems):
        stats = edge_statistics(problem)
        edges[row] = len(stats)
        for d, e, lam in stats:
            linear[row, d] += 1
            linear[row, e] += 1
            quadratic[row, d + e - 2 * lam, lam] += 1
    return edges, linear, quadratic


def p1_expectation(
    edges: tf.Tensor,
    linear: tf.Tensor,
    quadratic: tf.Tensor,
    params: tf.Tensor,
    dtype: tf.DType | None = None,
) -> tf.Tensor:
    """⟨C⟩ of p=1 QAOA on unweighted graphs from the closed form, batched and differentiable.

    Per edge with d, e = degrees − 1 and λ common neighbours (Wang, Hadfield, Jiang, Rieffel
    2018): ⟨C_uv⟩ = 1/2 + 1/4 sin4β sinγ (cos^d γ + cos^e γ)
    − 1/4 sin²2β cos^(d+e−2λ) γ (1 − cos^λ 2γ), summed over edges as polynomials in cos γ and
    cos 2γ (:func:`p1_coefficients`). Powers come from cumulative products (no ``pow`` of a
    negative base). About 20 small ops per call: XLA-compilable, cheap to trace, and O(n²)
    per row instead of the state vector's O(n 2^n).

    Args:
        edges, linear, quadratic: the tables of :func:`p1_coefficients` for the batch.
        params: ``(B, 2)`` textbook θ = (γ, β).
        dtype: ``tf.float32`` (the default, None) or ``tf.float64``.

    Returns:
        ``(B,)`` expectations ⟨C⟩.

    Raises:
        ValueError: when ``params`` is not of shape ``(B, 2)``.
    """
    dtype = tf.float32 if dtype is None else dtype
    params = tf.cast(tf.convert_to_tensor(params), dtype)
    if params.shape.rank != 2 or params.shape[-1] != 2:
        raise ValueError(f"p1_expectation takes (batch, 2) params (γ, β), got {params.shape}.")
    linear = tf.cast(linear, dtype)
    quadratic = tf.cast(quadratic, dtype)
    max_power, max_lambda = linear.shape[-1] - 1, quadratic.shape[-1] - 1
    gamma, beta = params[:, :1], params[:, 1:]
    ones = tf.ones_like(gamma)

    def powers(base: tf.Tensor, count: int) -> tf.Tensor:  # (B, count + 1): base^0 .. base^count
        if count == 0:
            return ones
        return tf.math.cumprod(tf.concat([ones, tf.tile(base, [1, count])], axis=1), axis=1)

    cos_powers = powers(tf.cos(gamma), max_power)
    one_minus_cos2 = 1.0 - powers(tf.cos(2 * gamma), max_lambda)
    first = tf.reduce_sum(cos_powers * linear, axis=-1)
    second = tf.einsum("bs,bsl,bl->b", cos_powers, quadratic, one_minus_cos2)
    return (
        0.5 * tf.cast(edges, dtype)
        + 0.25 * tf.sin(4 * beta[:, 0]) * tf.sin(gamma[:, 0]) * first
        - 0.25 * tf.square(tf.sin(2 * beta[:, 0])) * second
    )


def analytic_p1_expectation(
    problem: MaxCutProblem,
    gamma: float | np.ndarray,
    beta: float | np.ndarray,
    stats: np.ndarray | None = None,
) -> float | np.ndarray:
    """Closed-form p=1 ⟨C⟩ for unweighted graphs (Wang, Hadfield, Jiang, Rieffel 2018), NumPy.

    Per edge (u, v) with d = deg(u) − 1, e = deg(v) − 1 and λ triangles through the edge:
    ⟨C_uv⟩ = 1/2 + 1/4 sin4β sinγ (cos^d γ + cos^e γ) − 1/4 sin²2β cos^(d+e−2λ) γ (1 − cos^λ 2γ).
    (:func:`p1_expectation` is the same sum, batched over graphs in TensorFlow.)

    Args:
        problem: an unweighted problem.
        gamma, beta: angles; arrays broadcast against each other (e.g. a grid).
        stats: the problem's :func:`edge_statistics`, to skip recomputing them.

    Returns:
        ⟨C⟩ at every broadcast (γ, β): a float for scalar angles.

    Raises:
        ValueError: for a weighted problem.
    """
    if problem.is_weighted:
        raise ValueError("The analytic p=1 formula holds for unweighted graphs only.")
    stats = edge_statistics(problem) if stats is None else stats
    d, e, lam = (stats[:, k].astype(float) for k in range(3))
    g = np.asarray(gamma, float)[..., None]
    b = np.asarray(beta, float)[..., None]
    cos_g = np.cos(g)
    terms = (
        0.5
        + 0.25 * np.sin(4 * b) * np.sin(g) * (cos_g**d + cos_g**e)
        - 0.25 * np.sin(2 * b) ** 2 * cos_g ** (d + e - 2 * lam) * (1 - np.cos(2 * g) ** lam)
    )
    total = terms.sum(axis=-1)
    return float(total) if total.ndim == 0 else total


# --- per-diagonal evaluators: NumPy state vector and the traced TF evaluator ----------------
def qaoa_probabilities(diagonal: np.ndarray, theta: Sequence[float]) -> np.ndarray:
    """Measurement probabilities of depth-p QAOA by a plain NumPy state-vector simulation.

    ``|θ⟩ = Π_k e^{-iβ_k B} e^{-iγ_k C} |+⟩^n`` with ``C`` given by its diagonal and
    ``θ = (γ_1..γ_p, β_1..β_p)``; ``e^{-iβX} = cos β − i sin β X`` on each qubit. Independent
    of the TF path and of TensorFlow (used for sampling shots, for noiseless traces and as a
    test reference).

    Args:
        diagonal: ``(2^n,)`` cut values (big-endian, see :func:`qaoa_meta.problems.cost_diagonal`).
        theta: ``(2p,)`` textbook parameters.

    Returns:
        ``(2^n,)`` float64 probabilities, big-endian.

    Raises:
        ValueError: for a diagonal whose length is not a power of two, or an odd number of
            angles.
    """
    diagonal = np.asarray(diagonal, np.float64)
    theta = np.asarray(theta, np.float64).reshape(-1)
    n = diagonal.size.bit_length() - 1
    p = theta.size // 2
    if diagonal.size != 1 << n or theta.size != 2 * p:
        raise ValueError(f"need a 2**n diagonal and 2p angles, got {diagonal.size}, {theta.size}")
    state = np.full(diagonal.size, diagonal.size**-0.5, complex)
    for gamma, beta in zip(theta[:p], theta[p:], strict=True):
        state *= np.exp(-1j * gamma * diagonal)
        c, s = np.cos(beta), -1j * np.sin(beta)
        for k in range(n):
            view = state.reshape(1 << k, 2, -1)
            zero, one = view[:, 0, :].copy(), view[:, 1, :]
            view[:, 0, :] = c * zero + s * one
            view[:, 1, :] = s * zero + c * one
    return np.abs(state) ** 2


def statevector_energy(diagonal: np.ndarray, theta: Sequence[float]) -> float:
    """Noiseless ⟨C⟩ of textbook QAOA from a NumPy state vector (:func:`qaoa_probabilities`).

    About a millisecond at n = 12 (no TensorFlow function to trace per objective).

    Args:
        diagonal: ``(2^n,)`` cut values.
        theta: ``(2p,)`` textbook θ.

    Returns:
        ⟨C⟩.

    Raises:
        ValueError: as :func:`qaoa_probabilities`.
    """
    diagonal = np.asarray(diagonal, float)
    return float(qaoa_probabilities(diagonal, theta) @ diagonal)


class ExactEvaluator:
    """⟨C⟩ and its gradient for batches of cost diagonals, float64, one traced TF function.

    The TF function takes the diagonals as an argument, so it is traced once per register size
    and batch shape, not once per problem.

    Args:
        dtype: TF dtype of the computation (default ``tf.float64``).

    Attributes:
        dtype: the TF dtype.
    """

    def __init__(self, dtype: Any = None):
        self.dtype = tf.float64 if dtype is None else dtype
        self._functions: dict[tuple[int, int], tuple[Any, Any]] = {}

    def _get(self, dim: int, n_params: int) -> tuple[Any, Any]:
        key = (int(dim), int(n_params))
        if key not in self._functions:
            dtype = self.dtype
            signature = [
                tf.TensorSpec([None, dim], dtype),
                tf.TensorSpec([None, n_params], dtype),
            ]

            def value_and_grad(diagonals, params):
                with tf.GradientTape() as tape:
                    tape.watch(params)
                    values = exact_expectation(diagonals, params, dtype)
                return values, tape.gradient(values, params)

            self._functions[key] = (
                tf.function(lambda d, x: exact_expectation(d, x, dtype), input_signature=signature),
                tf.function(value_and_grad, input_signature=signature),
            )
        return self._functions[key]

    def value(self, diagonals: np.ndarray, params: np.ndarray) -> np.ndarray:
        """``(B,)`` ⟨C⟩ for ``(B, 2^n)`` diagonals and ``(B, 2p)`` params.

        Args:
            diagonals: ``(B, 2^n)`` cut values.
            params: ``(B, 2p)`` textbook θ.

        Returns:
            ``(B,)`` NumPy energies.
        """
        params = np.asarray(params)
        function = self._get(diagonals.shape[-1], params.shape[-1])[0]
        return function(tf.constant(diagonals, self.dtype), tf.constant(params, self.dtype)).numpy()

    def value_and_gradient(
        self, diagonals: np.ndarray, params: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(B,)`` ⟨C⟩ and ``(B, 2p)`` d⟨C⟩/dθ.

        Args:
            diagonals: ``(B, 2^n)`` cut values.
            params: ``(B, 2p)`` textbook θ.

        Returns:
            ``(values, grads)`` as NumPy arrays.
        """
        params = np.asarray(params)
        function = self._get(diagonals.shape[-1], params.shape[-1])[1]
        values, grads = function(
            tf.constant(diagonals, self.dtype), tf.constant(params, self.dtype)
        )
        return values.numpy(), grads.numpy()


_FLOAT64 = np.dtype(np.float64)


class EnergyValues(np.ndarray):
    """A NumPy array of energies with a ``.numpy()`` method, so code written for the tensor
    that ``Energy`` returns for tensor input also runs on its NumPy output."""

    def numpy(self) -> np.ndarray:
        """The values as a plain ``np.ndarray``."""
        return self.view(np.ndarray)


def _tape_may_record(tensor: tf.Tensor) -> bool:
    """Whether an active ``tf.GradientTape`` may record ops on ``tensor`` (True if unsure)."""
    try:  # lazy: TF's private API (may be missing), and this module imports without TF
        from tensorflow.python.eager import record

        return bool(record.could_possibly_record() and record.should_record_backprop([tensor]))
    except (ImportError, AttributeError):  # a TF without the private helpers: assume it may
        return True


class Energy:
    """⟨C⟩(θ) for a fixed batch of problems, with a choice of backend.

    Call it with params of shape ``(B, 2p)`` (one row per problem), ``(K, 2p)`` for a single
    problem (K parameter points), or ``(2p,)`` (the same θ for every problem). It returns a
    ``(B,)`` (or ``(K,)``) tensor, differentiable under ``tf.GradientTape``. The exact backend
    runs in float32 by default (~1e-6 relative error, see docs/scaling.md) or float64 with
    ``dtype=tf.float64``.

    The exact backend runs the numba kernel (:mod:`qaoa_meta.energy_kernel`) for eager calls
    and ``value_and_gradient`` (NumPy in, NumPy out, no TF op), and TF ops when called inside
    ``tf.function`` (graph or XLA). Its memory is checked when it is built: a batch that does
    not fit raises :class:`qaoa_meta.energy_kernel.MemoryLimitError` (a ``ValueError``) with
    the memory needed and available, before anything large is allocated.

    Args:
        problems: the batch of problems (a single :class:`MaxCutProblem` is accepted).
        p: QAOA depth.
        backend: one of :data:`BACKENDS`: ``exact`` or ``tfq``.
        dtype: ``tf.float32`` (the default, None) or ``tf.float64`` (``tfq``: float32 only).

    Attributes:
        problems: the problems, as a list.
        p: the QAOA depth.
        backend: the backend name.
        dtype: the TF dtype of the energies.
        n_qubits: exact backend only: the register size (the largest n).
        codes: exact backend only: the kernel's cost codes
            (:func:`qaoa_meta.energy_kernel.cost_codes`).

    Raises:
        ValueError: for no problems, a depth that is not a positive integer, an unknown
            backend or dtype, ``tfq`` with float64, or (exact) a batch that does not fit in
            memory (:class:`qaoa_meta.energy_kernel.MemoryLimitError`).

    Example:
        >>> energy = Energy([problem], p=1)
        >>> values, grads = energy.value_and_gradient([[0.6, 0.4]])
    """

    def __init__(
        self,
        problems: Sequence[MaxCutProblem],
        p: int,
        backend: str = "exact",
        dtype: tf.DType | None = None,
    ):
        if isinstance(problems, MaxCutProblem):
            problems = [problems]
        self.problems = list(problems)
        if not self.problems:
            raise ValueError("Energy needs at least one problem.")
        self.p = len(qaoa.gamma_symbols(p))
        if backend not in BACKENDS:
            raise ValueError(f"Unknown energy backend {backend!r}; expected one of {BACKENDS}.")
        self.backend = backend
        dtype = tf.float32 if dtype is None else dtype
        if backend == "tfq" and dtype != tf.float32:
            raise ValueError("The TFQ backend computes in float32 only; use backend='exact'.")
        if dtype not in (tf.float32, tf.float64):
            raise ValueError(f"dtype must be tf.float32 or tf.float64, got {dtype!r}.")
        self.dtype = dtype
        self._rows: dict[int, np.ndarray] = {}
        if backend == "exact":
            self.n_qubits = _register_size(self.problems, None)
            self._float = dtype.as_numpy_dtype
            energy_kernel.check_memory(self.problems, self.n_qubits, self._float)
            self.codes = energy_kernel.cost_codes(self.problems, self.n_qubits, self._float)
            self._workspace = energy_kernel.Workspace()
            self._function = None  # the TF path, built on first use inside a tf.function
        else:
            self._init_tfq()

    def _graph_function(self):
        """The TF-ops path for calls inside ``tf.function`` (built once, on first use)."""
        if self._function is None:
            codes, dtype = self.codes, self.dtype
            if codes.levels is None:
                table = codes.codes
            else:
                table = np.take_along_axis(codes.levels, codes.codes.astype(np.int64), axis=1)
            diagonals = tf.constant(table.astype(dtype.as_numpy_dtype))
            self._function = lambda index, params: exact_expectation(
                tf.gather(diagonals, index), params, dtype
            )
        return self._function

    def _init_tfq(self) -> None:
        circuits, operators, offsets = tfq_qaoa_inputs(self.problems, self.p)
        # An edgeless problem measures Z_0 with weight 0 (TFQ cannot take an empty PauliSum).
        self._scales = tf.constant(
            [1.0 if problem.num_edges else 0.0 for problem in self.problems], tf.float32
        )
        self._circuits = tf.constant(circuits)
        self._operators = tf.constant(operators)
        self._offsets = tf.constant(offsets)
        self._symbols = tf.constant([s.name for s in qaoa.parameter_symbols(self.p)])
        self._layer = tfq.layers.Expectation(differentiator=tfq.differentiators.Adjoint())

    def _row_index(self, rows: int) -> np.ndarray:
        """Problem row of each of ``rows`` parameter rows (checked against the batch)."""
        index = self._rows.get(rows)
        if index is None:
            if len(self.problems) == 1:
                index = np.zeros(rows, np.int64)
            elif rows == len(self.problems):
                index = np.arange(rows)
            else:
                raise ValueError(
                    f"Got {rows} parameter rows for {len(self.problems)} problems; expected one "
                    "row per problem, a single (2p,) vector, or one problem with many rows."
                )
            self._rows[rows] = index
        return index

    def _numpy_params(self, params) -> np.ndarray:
        """``params`` as a float64 ``(rows, 2p)`` array (a ``(2p,)`` vector is repeated)."""
        if type(params) is np.ndarray and params.dtype is _FLOAT64 and params.ndim == 2:
            if params.shape[1] == 2 * self.p:  # the common case, checked in a microsecond
                return params
        if not isinstance(params, np.ndarray):
            params = params.numpy() if hasattr(params, "numpy") else params
        params = np.asarray(params, np.float64)
        if params.ndim == 1 and params.shape[0] == 2 * self.p:
            params = np.broadcast_to(params, (len(self.problems), 2 * self.p))
        if params.ndim != 2 or params.shape[-1] != 2 * self.p:
            raise ValueError(
                f"Expected params of shape (batch, {2 * self.p}) (gamma_1..gamma_{self.p}, "
                f"beta_1..beta_{self.p}), got shape {tuple(params.shape)}."
            )
        return params

    def kernel(self, params: np.ndarray, with_grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The compiled kernel on ``(rows, 2p)`` float64 params: float64 values (and gradient).

        Exact backend only.

        Args:
            params: ``(rows, 2p)`` float64 θ, one row per problem or many rows for one problem.
            with_grad: also compute d⟨C⟩/dθ.

        Returns:
            ``(values, grads)``: ``(rows,)`` float64 energies and ``(rows, 2p)`` gradients, or
            None for the gradient when ``with_grad`` is False.

        Raises:
            ValueError: when the row count fits neither one row per problem nor a single
                problem.
        """
        index = self._row_index(len(params))
        return energy_kernel.run(
            self.codes, index, params, with_grad, self._float, workspace=self._workspace
        )

    def _kernel_in_dtype(self, params, with_grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`kernel` on any accepted θ, with results in the batch's dtype (no cast)."""
        rows = self._numpy_params(params)
        index = self._row_index(len(rows))
        return energy_kernel.run(
            self.codes, index, rows, with_grad, self._float, self._float, self._workspace
        )

    def _eager_exact(self, params) -> tf.Tensor | EnergyValues:
        """Eager call on the kernel path, with a custom gradient when a tape may record.

        NumPy (or list) input gives NumPy output (:class:`EnergyValues`) without touching
        TensorFlow; tensor input gives a tensor.
        """
        if not isinstance(params, (tf.Tensor, tf.Variable)):
            return self._kernel_in_dtype(params, False)[0].view(EnergyValues)
        params = tf.cast(tf.convert_to_tensor(params), self.dtype)
        if params.shape.rank == 1 and params.shape[0] == 2 * self.p:
            params = tf.tile(params[None, :], [len(self.problems), 1])
        if not _tape_may_record(params):
            return tf.constant(self._kernel_in_dtype(params, False)[0])
        values, grads = self.kernel(self._numpy_params(params), True)
        dtype = self.dtype

        @tf.custom_gradient
        def energy(x):
            def gradient(upstream):
                return upstream[:, None] * tf.constant(grads, dtype)

            return tf.constant(values, dtype), gradient

        return energy(params)

    def _broadcast(self, params: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Returns (params, row indices into the problem batch) with matching leading size."""
        params = tf.cast(tf.convert_to_tensor(params), self.dtype)
        if params.shape.rank == 1:
            params = tf.tile(params[None, :], [len(self.problems), 1])
        if params.shape.rank != 2 or params.shape[-1] != 2 * self.p:
            raise ValueError(
                f"Expected params of shape (batch, {2 * self.p}) (gamma_1..gamma_{self.p}, "
                f"beta_1..beta_{self.p}), got shape {tuple(params.shape)}."
            )
        return params, tf.constant(self._row_index(params.shape[0]), tf.int32)

    def __call__(self, params: tf.Tensor) -> tf.Tensor:
        """``(rows,)`` ⟨C⟩ for params of shape ``(B, 2p)``, ``(K, 2p)`` or ``(2p,)``.

        Exact backend, eager: NumPy/list θ gives an :class:`EnergyValues` array (``.numpy()``
        works on it), tensor θ a tensor; inside ``tf.function`` the TF-ops path runs.

        Args:
            params: θ = (γ_1..γ_p, β_1..β_p): one row per problem, many rows for a single
                problem, or one ``(2p,)`` vector for every problem.

        Returns:
            The ``(rows,)`` energies of the batch's dtype (differentiable for tensor input).

        Raises:
            ValueError: for a last axis other than 2p, or a row count that fits neither one
                row per problem nor a single problem.
        """
        if (  # the common call, a (rows, 2p) float64 array of a row count seen before
            self.backend == "exact"
            and type(params) is np.ndarray
            and params.dtype is _FLOAT64
            and params.ndim == 2
            and params.shape[1] == 2 * self.p
        ):
            index = self._rows.get(params.shape[0])
            if index is not None:  # on this path a step of n = 8 takes 4.5 µs: Python counts
                values, _ = energy_kernel.run(
                    self.codes, index, params, False, self._float, self._float, self._workspace
                )
                return values.view(EnergyValues)
        if self.backend == "exact":
            if isinstance(params, (np.ndarray, list, tuple)):  # NumPy in, NumPy out: no TF
                return self._kernel_in_dtype(params, False)[0].view(EnergyValues)
            if tf.executing_eagerly():
                return self._eager_exact(params)
        params, index = self._broadcast(params)
        if self.backend == "exact":
            return self._graph_function()(index, params)
        values = self._layer(
            tf.gather(self._circuits, index),
            symbol_names=self._symbols,
            symbol_values=params,
            operators=tf.gather(self._operators, index),
        )[:, 0]
        return tf.gather(self._scales, index) * values + tf.gather(self._offsets, index)

    def value_and_gradient(self, params) -> tuple[np.ndarray, np.ndarray]:
        """⟨C⟩ and d⟨C⟩/dθ (row-wise) as NumPy arrays (of the backend's dtype).

        The exact backend calls the kernel directly (no TensorFlow); the TFQ backend a tape.

        Args:
            params: ``(rows, 2p)`` θ (or a ``(2p,)`` vector for every problem).

        Returns:
            ``(values, grads)``: ``(rows,)`` energies and ``(rows, 2p)`` gradients.

        Raises:
            ValueError: as :meth:`__call__`.
        """
        if self.backend == "exact":
            return self._kernel_in_dtype(params, True)
        params = tf.Variable(tf.cast(tf.convert_to_tensor(params), self.dtype))
        with tf.GradientTape() as tape:
            values = self(params)
        return values.numpy(), tape.gradient(values, params).numpy()
