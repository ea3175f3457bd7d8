"""One interface over qsim and a density-matrix reference: states, trajectories, samples, energies.

Energies here are expectations of a *diagonal observable* over *logical* indices (this package
knows no optimisation problem): either its ``(2**n,)`` diagonal (big-endian: index bit of
logical qubit 0 is the most significant) or a ``cirq.PauliSum`` of Z strings on
``cirq.LineQubit(i)`` = logical index ``i`` (constant terms allowed), e.g. a Max-Cut cost
built by the caller. ``qubits[i]`` is the device qubit that holds logical qubit ``i`` at the
end of the circuit (a compiled circuit's ``final_map``). Spare device qubits are traced out.
Bitstrings are big-endian in ``qubits`` order.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import cirq
import numpy as np
import qsimcirq

from hardware import mitigation, serialization
from hardware.devices import SeedLike
from hardware.system import available_memory

METHODS: tuple[str, ...] = ("exact", "trajectories", "sampling", "density_matrix")
Edges = Sequence[tuple[int, int, float]]
# A diagonal observable: its (2**n,) diagonal, or a PauliSum of Z strings on LineQubit(i).
Observable = np.ndarray | cirq.PauliSum


@dataclass(frozen=True)
class EnergyEstimate(serialization.Serializable):
    """An energy estimate with its statistical error.

    Saved as a dict of its four fields (:class:`hardware.serialization.Serializable`).

    Attributes:
        value: estimated <C>.
        stderr: standard error of the estimate (0 for exact methods).
        method: one of :data:`METHODS` (``+symmetrized`` when sampled with readout
            symmetrisation, ``+mitigated`` when readout-corrected).
        samples: number of shots or trajectories (0 for exact methods).
    """

    value: float
    stderr: float
    method: str
    samples: int = 0

    # Written inside larger records (the CLI's simulate output carries the version).
    _schema = serialization.Schema(write_version=False)


def memory_estimate(n_qubits: int, method: str, n_logical: int | None = None) -> int:
    """Bytes a simulation of ``n_qubits`` (``n_logical`` of them read out) needs, roughly.

    qsim holds a complex64 state vector (8 bytes per amplitude; counted twice for its working
    copy); the probability methods add float arrays and the cut diagonal over the ``n_logical``
    read-out qubits (about ``8 n + 16`` bytes per basis state); the density matrix is
    complex128 (16 bytes per entry, counted twice).

    Args:
        n_qubits: qubits simulated.
        method: one of :data:`METHODS` (unknown names are costed like ``exact``).
        n_logical: qubits read out (default ``n_qubits``).

    Returns:
        The estimated peak memory in bytes.
    """
    n_logical = n_qubits if n_logical is None else n_logical
    if method == "density_matrix":
        return 2 * 16 * 4**n_qubits
    state = 16 * 2**n_qubits
    if method == "sampling":
        return state
    return state + (8 * n_logical + 16) * 2**n_logical


def check_memory(
    n_qubits: int, method: str, n_logical: int | None = None, available: int | None = None
) -> None:
    """Raises ``ValueError`` before a simulation that cannot fit in memory.

    Args:
        n_qubits: qubits simulated (device qubits of the circuit).
        method: one of :data:`METHODS`.
        n_logical: qubits read out (default ``n_qubits``).
        available: bytes available (default: the system's free memory now).

    Raises:
        ValueError: when :func:`memory_estimate` exceeds the available memory (nothing is
            raised when the available memory is unknown).
    """
    need = memory_estimate(n_qubits, method, n_logical)
    available = available_memory() if available is None else available
    if available is not None and need > available:
        raise ValueError(
            f"simulating {n_qubits} qubits with method={method!r} needs about "
            f"{_size(need)} of memory but {_size(available)} is available; simulate fewer "
            "qubits (a smaller problem or device region)"
            + ("" if method == "sampling" else ", or use method='sampling'")
        )


def _size(n_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.3g} PiB"  # pragma: no cover


def _rng(seed: SeedLike) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _int_seed(seed: SeedLike) -> int:
    return int(_rng(seed).integers(2**31 - 1))


def resolve(circuit: cirq.AbstractCircuit, resolver: cirq.ParamResolverOrSimilarType = None):
    """Resolves symbols; raises ``ValueError`` naming any left unresolved.

    Args:
        circuit: circuit, possibly with sympy symbols.
        resolver: values for the symbols (anything ``cirq.ParamResolver`` takes), or None.

    Returns:
        A new resolved ``cirq.Circuit``.

    Raises:
        ValueError: for a non-finite value in ``resolver``, or symbols left unresolved.
    """
    if resolver is not None:
        values = cirq.ParamResolver(resolver).param_dict
        bad = {str(k): v for k, v in values.items() if not np.isfinite(complex(v))}
        if bad:
            raise ValueError(f"parameter values must be finite, got {bad}; pass finite angles")
    out = cirq.resolve_parameters(circuit, resolver) if resolver is not None else circuit
    if cirq.is_parameterized(out):
        names = sorted(str(s) for s in cirq.parameter_names(out))
        raise ValueError(
            f"circuit has unresolved symbols {names}; pass values for them "
            "(resolver={'gamma_1': 0.4, ...}) before simulating or sampling"
        )
    return cirq.Circuit(out)


def _orders(circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid] | None):
    all_q = sorted(circuit.all_qubits())
    qubits = list(qubits) if qubits is not None else all_q
    missing = [q for q in qubits if q not in set(all_q)]
    spare = sorted(set(all_q) - set(qubits))
    return qubits, spare, missing


def _marginal(probs: np.ndarray, n_keep: int) -> np.ndarray:
    return probs.reshape(2**n_keep, -1).sum(axis=1)


def _qsim(noise=None, seed: SeedLike = None):
    return qsimcirq.QSimSimulator(
        seed=None if seed is None else _int_seed(seed), noise=noise, circuit_memoization_size=1
    )


def _drop_measurements(circuit: cirq.AbstractCircuit) -> cirq.Circuit:
    """Removes measurement ops (noise models may place channels after the final measurement)."""
    return cirq.Circuit(cirq.Moment(op for op in m if not cirq.is_measurement(op)) for m in circuit)


def _prepare(circuit, resolver, qubits, noise):
    body = _drop_measurements(resolve(circuit, resolver))
    qubits, spare, missing = _orders(body, qubits)
    # Identity on missing qubits keeps them in the simulation (they stay |0>).
    body = body + cirq.Circuit(cirq.I(q) for q in missing) if missing else body
    return body, qubits, spare


def probabilities(
    circuit: cirq.AbstractCircuit,
    *,
    resolver: cirq.ParamResolverOrSimilarType = None,
    qubits: Sequence[cirq.Qid] | None = None,
) -> np.ndarray:
    """Exact (noiseless) outcome probabilities over ``qubits`` from qsim's state vector.

    Measurements are dropped; spare qubits are traced out.

    Args:
        circuit: circuit to simulate.
        resolver: values for the circuit's symbols.
        qubits: qubits read out, in bit order (default: the circuit's sorted qubits); qubits
            not in the circuit stay in ``|0>``.

    Returns:
        ``(2**len(qubits),)`` probabilities, big-endian in ``qubits`` order.

    Raises:
        ValueError: for unresolved symbols or a simulation that does not fit in memory.
    """
    body, qubits, spare = _prepare(circuit, resolver, qubits, None)
    check_memory(len(qubits) + len(spare), "exact", len(qubits))
    state = _qsim().simulate(body, qubit_order=qubits + spare).final_state_vector
    return _marginal(np.abs(state) ** 2, len(qubits))


def density_matrix_probabilities(
    circuit: cirq.AbstractCircuit,
    *,
    noise: cirq.NoiseModel | None = None,
    resolver: cirq.ParamResolverOrSimilarType = None,
    qubits: Sequence[cirq.Qid] | None = None,
    max_qubits: int = 12,
) -> np.ndarray:
    """Noisy outcome probabilities from ``cirq.DensityMatrixSimulator`` (the reference).

    Readout noise is included: the noise model is applied with the terminal measurement in
    place, then the measurement is dropped.

    Args:
        circuit: circuit to simulate.
        noise: noise model, or None for the noiseless reference.
        resolver: values for the circuit's symbols.
        qubits: qubits read out, in bit order (default: the circuit's sorted qubits).
        max_qubits: refuse circuits on more qubits than this.

    Returns:
        ``(2**len(qubits),)`` probabilities, big-endian in ``qubits`` order.

    Raises:
        ValueError: for unresolved symbols or more than ``max_qubits`` qubits.
    """
    resolved = resolve(circuit, resolver)
    n_total = len(resolved.all_qubits() | set(qubits or ()))
    if n_total > max_qubits:
        raise ValueError(
            f"density-matrix reference limited to {max_qubits} qubits, circuit has {n_total}; "
            "use method='trajectories' (qsim) for larger circuits"
        )
    noisy = _with_noise_measured(resolved, noise, qubits)
    body, qubits, spare = _prepare(noisy, None, qubits, None)
    sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
    rho = sim.simulate(body, qubit_order=qubits + spare).final_density_matrix
    return _marginal(np.clip(np.real(np.diag(rho)), 0.0, None), len(qubits))


def _with_noise_measured(circuit, noise, qubits):
    """Applies noise with a terminal measurement present (so readout channels are inserted)."""
    if noise is None:
        return circuit
    measured = cirq.drop_terminal_measurements(circuit)
    targets = list(qubits) if qubits is not None else sorted(measured.all_qubits())
    measured = measured + cirq.Moment(cirq.measure(*targets, key="m"))
    return measured.with_noise(noise)


def noisy_circuit(
    circuit: cirq.AbstractCircuit,
    noise: cirq.NoiseModel | None,
    qubits: Sequence[cirq.Qid] | None = None,
) -> cirq.Circuit:
    """The circuit with its noise channels, readout channels included, measurements removed.

    For backends that take channel circuits directly (TFQ's noisy backend with a
    :func:`hardware.noise.to_tfq_compatible` model): a plain ``circuit.with_noise(model)``
    on a circuit without measurements would miss the readout errors.

    Args:
        circuit: circuit; terminal measurements are replaced.
        noise: noise model, or None (the circuit is returned without its measurements).
        qubits: qubits whose readout channels to insert (default: the circuit's qubits).

    Returns:
        The noisy channel circuit, without measurements.
    """
    return _drop_measurements(_with_noise_measured(circuit, noise, qubits))


def trajectory_probabilities(
    circuit: cirq.AbstractCircuit,
    noise: cirq.NoiseModel | None,
    repetitions: int,
    *,
    resolver: cirq.ParamResolverOrSimilarType = None,
    qubits: Sequence[cirq.Qid] | None = None,
    seed: SeedLike = None,
) -> np.ndarray:
    """Outcome probabilities of ``repetitions`` noisy Monte-Carlo trajectories (qsim).

    Args:
        circuit: circuit to simulate.
        noise: noise model (readout channels included), or None.
        repetitions: number of trajectories, >= 1.
        resolver: values for the circuit's symbols.
        qubits: qubits read out, in bit order (default: the circuit's sorted qubits).
        seed: seed for qsim's channel sampling.

    Returns:
        An array of shape ``(repetitions, 2**len(qubits))``, one normalised distribution
        per trajectory; its mean over trajectories converges to the density-matrix
        probabilities.

    Raises:
        ValueError: for ``repetitions < 1``, unresolved symbols or a simulation that does not
            fit in memory.
    """
    if repetitions < 1:
        raise ValueError(f"repetitions must be >= 1, got {repetitions}")
    noisy = _with_noise_measured(resolve(circuit, resolver), noise, qubits)
    body, qubits, spare = _prepare(noisy, None, qubits, None)
    check_memory(len(qubits) + len(spare), "trajectories", len(qubits))
    sim = _qsim(seed=seed)
    order = qubits + spare
    out = np.empty((repetitions, 2 ** len(qubits)))
    for r in range(repetitions):
        state = sim.simulate(body, qubit_order=order).final_state_vector
        out[r] = _marginal(np.abs(state) ** 2, len(qubits))
    return out / out.sum(axis=1, keepdims=True)


def sample(
    circuit: cirq.AbstractCircuit,
    shots: int,
    *,
    noise: cirq.NoiseModel | None = None,
    resolver: cirq.ParamResolverOrSimilarType = None,
    qubits: Sequence[cirq.Qid] | None = None,
    seed: SeedLike = None,
) -> np.ndarray:
    """Samples bitstrings with qsim: ``(shots, len(qubits))`` uint8 array, readout noise included.

    Args:
        circuit: circuit; terminal measurements are replaced by one on ``qubits``.
        shots: number of bitstrings, >= 1.
        noise: noise model, or None.
        resolver: values for the circuit's symbols.
        qubits: measured qubits, in bit order (default: the circuit's sorted qubits).
        seed: seed for qsim.

    Returns:
        ``(shots, len(qubits))`` uint8 bitstrings.

    Raises:
        ValueError: for ``shots < 1``, unresolved symbols or a simulation that does not fit
            in memory.
    """
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    body = cirq.drop_terminal_measurements(resolve(circuit, resolver))
    qubits, spare, missing = _orders(body, qubits)
    check_memory(len(qubits) + len(spare), "sampling")
    measured = body + cirq.Moment(cirq.measure(*qubits, key="m"))
    if noise is not None:
        measured = measured.with_noise(noise)
    result = _qsim(seed=seed).run(measured, repetitions=shots)
    return result.measurements["m"].astype(np.uint8)


def sample_with_sampler(
    sampler: cirq.Sampler,
    circuit: cirq.AbstractCircuit,
    shots: int,
    *,
    resolver: cirq.ParamResolverOrSimilarType = None,
    qubits: Sequence[cirq.Qid] | None = None,
) -> np.ndarray:
    """Samples through any ``cirq.Sampler`` (virtual engine, real device): same layout as :func:`sample`.

    Args:
        sampler: the sampler to run on.
        circuit: circuit; terminal measurements are replaced by one on ``qubits``.
        shots: number of bitstrings.
        resolver: values for the circuit's symbols.
        qubits: measured qubits, in bit order (default: the circuit's sorted qubits).

    Returns:
        ``(shots, len(qubits))`` uint8 bitstrings.

    Raises:
        ValueError: for unresolved symbols.
    """
    body = cirq.drop_terminal_measurements(resolve(circuit, resolver))
    qubits, _, _ = _orders(body, qubits)
    measured = body + cirq.Moment(cirq.measure(*qubits, key="m"))
    result = sampler.run(measured, repetitions=shots)
    return result.measurements["m"].astype(np.uint8)


# ----------------------------------------------------------------------------- energies


def _z_terms(observable: cirq.PauliSum) -> list[tuple[list[int], float]]:
    """``(columns, coefficient)`` of each term of a Z-only PauliSum on line qubits."""
    terms = []
    for term in observable:
        columns = []
        for qubit, pauli in term.items():
            if pauli != cirq.Z or not isinstance(qubit, cirq.LineQubit):
                raise ValueError(
                    "a PauliSum observable must hold Z strings on cirq.LineQubit(i) (logical "
                    f"index i) only, got {term}"
                )
            columns.append(qubit.x)
        coefficient = complex(term.coefficient)
        if abs(coefficient.imag) > 1e-12:
            raise ValueError(f"observable coefficients must be real, got {term}")
        terms.append((columns, coefficient.real))
    return terms


def observable_values(bits: np.ndarray, observable: Observable) -> np.ndarray:
    """Value of a diagonal observable on each bitstring row.

    Args:
        bits: ``(shots, n)`` bitstrings (big-endian columns = logical indices).
        observable: a ``(2**n,)`` diagonal or a Z-only ``cirq.PauliSum`` on line qubits.

    Returns:
        ``(shots,)`` float values.

    Raises:
        ValueError: for a diagonal of another length than ``2**n``, or a PauliSum with
            non-Z terms, qubits other than line qubits, or complex coefficients.
    """
    bits = np.asarray(bits)
    if isinstance(observable, cirq.PauliSum):
        total = np.zeros(bits.shape[0])
        for columns, coefficient in _z_terms(observable):
            signs = 1 - 2 * bits[:, columns].astype(np.int64)
            total += coefficient * np.prod(signs, axis=1)
        return total
    diagonal = np.asarray(observable, float)
    n = bits.shape[1]
    if diagonal.shape != (2**n,):
        raise ValueError(
            f"the diagonal must have shape ({2**n},) for {n} qubits, got {diagonal.shape}"
        )
    index = bits.astype(np.int64) @ (1 << np.arange(n - 1, -1, -1, dtype=np.int64))
    return diagonal[index]


def observable_diagonal(observable: Observable, n: int) -> np.ndarray:
    """The ``(2**n,)`` diagonal of an observable (big-endian).

    Args:
        observable: a ``(2**n,)`` diagonal (returned as float) or a Z-only ``cirq.PauliSum``
            on line qubits ``< n``.
        n: number of logical qubits.

    Returns:
        ``(2**n,)`` float values.

    Raises:
        ValueError: as :func:`observable_values`.
    """
    if not isinstance(observable, cirq.PauliSum):
        diagonal = np.asarray(observable, float)
        if diagonal.shape != (2**n,):
            raise ValueError(
                f"the diagonal must have shape ({2**n},) for {n} qubits, got {diagonal.shape}"
            )
        return diagonal
    idx = np.arange(2**n)
    bits = ((idx[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1).astype(np.uint8)
    return observable_values(bits, observable)


def _edges_operator(edges: Edges) -> cirq.PauliSum:
    """``Σ w (1 − Z_i Z_j) / 2`` on line qubits: the deprecated edge lists as an observable."""
    total = cirq.PauliSum()
    for i, j, w in edges:
        total += 0.5 * w * cirq.PauliString() - 0.5 * w * cirq.Z(cirq.LineQubit(i)) * cirq.Z(
            cirq.LineQubit(j)
        )
    return total


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"hardware.simulate.{old} is deprecated: hardware.simulate takes a generic diagonal "
        f"observable; use {new}.",
        DeprecationWarning,
        stacklevel=3,
    )


def cut_values(bits: np.ndarray, edges: Edges) -> np.ndarray:
    """Deprecated: :func:`observable_values` with the cut's diagonal or PauliSum.

    Cut value of each bitstring row: ``sum w_ij [b_i != b_j]``.

    Args:
        bits: ``(shots, n)`` bitstrings.
        edges: ``(i, j, w)`` over column indices.

    Returns:
        ``(shots,)`` float cut values.
    """
    _deprecated("cut_values", "observable_values(bits, diagonal)")
    return _cut_values(bits, edges)


def _cut_values(bits: np.ndarray, edges: Edges) -> np.ndarray:
    bits = np.asarray(bits)
    total = np.zeros(bits.shape[0])
    for i, j, w in edges:
        total += w * (bits[:, i] != bits[:, j])
    return total


def cut_diagonal(n: int, edges: Edges) -> np.ndarray:
    """Deprecated: pass the caller's own diagonal (``qaoa_meta.problems.cost_diagonal``).

    Cut value of every basis state (big-endian: index bit of qubit 0 is most significant).

    Args:
        n: number of qubits.
        edges: ``(i, j, w)`` over qubit indices ``< n``.

    Returns:
        ``(2**n,)`` float cut values.
    """
    _deprecated("cut_diagonal", "the caller's diagonal (qaoa_meta.problems.cost_diagonal)")
    idx = np.arange(2**n)
    bits = ((idx[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1).astype(np.uint8)
    return _cut_values(bits, edges)


def energy(
    circuit: cirq.AbstractCircuit,
    observable: Observable,
    *,
    method: str = "exact",
    noise: cirq.NoiseModel | None = None,
    qubits: Sequence[cirq.Qid] | None = None,
    resolver: cirq.ParamResolverOrSimilarType = None,
    shots: int = 1000,
    repetitions: int = 100,
    seed: SeedLike = None,
    mitigate_readout: dict | None = None,
    symmetrize_readout: bool = False,
) -> EnergyEstimate:
    """Estimates ``<C>`` of a diagonal observable ``C`` on a circuit by one of :data:`METHODS`.

    Args:
        circuit: circuit (compiled or logical); terminal measurements are ignored.
        observable: ``C`` over logical indices into ``qubits``: its ``(2**len(qubits),)``
            diagonal, or a Z-only ``cirq.PauliSum`` on ``cirq.LineQubit(i)`` (scales to
            large registers when sampling). A list of ``(i, j, w)`` edges (the cut
            ``Σ w (1 - Z_i Z_j) / 2``) is still accepted but deprecated.
        method: ``exact`` (qsim state vector, noiseless), ``trajectories`` (qsim noisy
            Monte-Carlo, ``repetitions``), ``sampling`` (qsim bitstrings, ``shots``) or
            ``density_matrix`` (cirq reference, small n).
        noise: noise model (ignored by ``exact``).
        qubits: device qubit of each logical index (default: the circuit's sorted qubits).
        resolver: values for the circuit's symbols.
        shots, repetitions: sample counts.
        seed: seed for qsim's sampling.
        mitigate_readout: ``{qubit: (p01, p10)}`` readout errors to undo (``sampling``:
            :func:`mitigated_expectation`; probability methods: on the full distribution).
        symmetrize_readout: ``sampling`` only: sample with readout symmetrisation
            (:func:`sample_symmetrized`, balanced random bit flips;
            ``shots`` must be a multiple of ``mitigation.mask_block_size(len(qubits))``);
            ``mitigate_readout`` is then undone with the symmetrised errors
            ``(p01 + p10) / 2``.

    Returns:
        The :class:`EnergyEstimate` (exact methods have ``stderr`` 0; ``trajectories``
        with one repetition has ``stderr`` NaN).

    Raises:
        ValueError: for an unknown method, noise with ``exact``, ``symmetrize_readout``
            without ``sampling``, unresolved symbols, invalid readout errors, or what the
            chosen simulation refuses (sizes, memory, shot counts).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if method == "exact" and noise is not None:
        raise ValueError(
            "method='exact' is noiseless; use 'trajectories', 'sampling' or 'density_matrix' with noise"
        )
    if not isinstance(observable, (cirq.PauliSum, np.ndarray)):
        _deprecated("energy(circuit, edges)", "energy(circuit, diagonal or PauliSum)")
        observable = _edges_operator(observable)
    body = resolve(circuit, resolver)
    qubits, _, _ = _orders(body, qubits)
    suffix = "+mitigated" if mitigate_readout else ""
    if symmetrize_readout and method != "sampling":
        raise ValueError(
            f"symmetrize_readout applies to method='sampling' only, got method={method!r}"
        )
    if method == "sampling":
        if symmetrize_readout:
            bits = sample_symmetrized(body, shots, qubits=qubits, noise=noise, seed=seed)
            if mitigate_readout:
                sym = mitigation.symmetrized_errors([mitigate_readout[q] for q in qubits])
                mitigate_readout = dict(zip(qubits, sym, strict=True))
            suffix = "+symmetrized" + suffix
        else:
            bits = sample(body, shots, noise=noise, qubits=qubits, seed=seed)
        vals = observable_values(bits, observable)
        if mitigate_readout:
            errors = [mitigate_readout[q] for q in qubits]
            value = mitigated_expectation(bits, observable, errors)
            # Bootstrap-free error bar: the unmitigated standard error scaled by the inverse gain.
            stderr = float(vals.std(ddof=1) / np.sqrt(shots)) * _gain(errors)
        else:
            value, stderr = float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(shots))
        return EnergyEstimate(value, stderr, method + suffix, shots)
    if method == "trajectories":
        probs = trajectory_probabilities(body, noise, repetitions, qubits=qubits, seed=seed)
        if mitigate_readout:
            probs = np.array(
                [mitigate_probabilities(p, [mitigate_readout[q] for q in qubits]) for p in probs]
            )
        vals = probs @ observable_diagonal(observable, len(qubits))
        stderr = float(vals.std(ddof=1) / np.sqrt(repetitions)) if repetitions > 1 else float("nan")
        return EnergyEstimate(float(vals.mean()), stderr, method + suffix, repetitions)
    if method == "density_matrix":
        probs = density_matrix_probabilities(body, noise=noise, qubits=qubits)
    else:
        probs = probabilities(body, qubits=qubits)
    if mitigate_readout:
        probs = mitigate_probabilities(probs, [mitigate_readout[q] for q in qubits])
    diagonal = observable_diagonal(observable, len(qubits))
    return EnergyEstimate(float(probs @ diagonal), 0.0, method + suffix, 0)


# ----------------------------------------------------------------------------- readout


def confusion_matrix(p01: float, p10: float) -> np.ndarray:
    """Single-qubit confusion matrix ``A[read, true]``.

    Args:
        p01: probability of reading 1 from 0.
        p10: probability of reading 0 from 1.

    Returns:
        The 2x2 matrix ``[[1 - p01, p10], [p01, 1 - p10]]``.
    """
    return np.array([[1.0 - p01, p10], [p01, 1.0 - p10]])


def _gain(errors) -> float:
    return float(np.mean([1.0 / max(1e-9, 1.0 - a - b) for a, b in errors]))


def mitigate_probabilities(probs: np.ndarray, errors: Sequence[tuple[float, float]]) -> np.ndarray:
    """Undoes tensored readout errors on a full distribution (big-endian, one pair per qubit).

    Applies the inverse of each qubit's confusion matrix, taken from
    ``cirq.TensoredConfusionMatrices`` (:func:`hardware.mitigation.mitigate_probabilities`),
    on its axis; the result may have small negative entries (an unbiased estimate), which are
    kept.

    Args:
        probs: ``(2**n,)`` measured distribution.
        errors: ``(p01, p10)`` for each of the ``n`` qubits.

    Returns:
        The corrected ``(2**n,)`` vector.

    Raises:
        ValueError: as :func:`hardware.mitigation.mitigate_probabilities`.
    """
    return mitigation.mitigate_probabilities(probs, errors)


def mitigated_expectation(
    bits: np.ndarray, observable: Observable, errors: Sequence[tuple[float, float]]
) -> float:
    """Readout-corrected ``<C>`` of a diagonal observable from bitstrings.

    A Z-only ``cirq.PauliSum``: ``Σ c_S <Z_S>`` with each ``<Z_S>`` from cirq's
    ``readout_mitigation_pauli_uncorrelated`` (:func:`hardware.mitigation.mitigated_pauli_z`),
    the tensored inverse on that term's marginal (scales to large registers). A
    ``(2**n,)`` diagonal: the tensored inverse on the full empirical distribution
    (:func:`mitigate_probabilities`), the same number for a sum of Z strings.

    Args:
        bits: ``(shots, n)`` bitstrings.
        observable: a ``(2**n,)`` diagonal or a Z-only ``cirq.PauliSum`` on line qubits.
        errors: ``(p01, p10)`` for every column of ``bits``.

    Returns:
        The corrected expectation.

    Raises:
        ValueError: for invalid readout errors, a ``bits`` shape that does not match them, or
            what :func:`observable_values` refuses.
    """
    bits = np.asarray(bits)
    if isinstance(observable, cirq.PauliSum):
        total = 0.0
        for columns, coefficient in _z_terms(observable):
            if columns:
                value, _ = mitigation.mitigated_pauli_z(bits, columns, errors)
            else:
                value = 1.0
            total += coefficient * value
        return float(total)
    n = bits.shape[1]
    if len(errors) != n:
        raise ValueError(f"bits must be (shots, {len(errors)}) for {len(errors)} readout errors")
    diagonal = observable_diagonal(observable, n)
    index = bits.astype(np.int64) @ (1 << np.arange(n - 1, -1, -1, dtype=np.int64))
    counts = np.bincount(index, minlength=2**n) / bits.shape[0]
    return float(mitigate_probabilities(counts, errors) @ diagonal)


def mitigated_cut_expectation(
    bits: np.ndarray, edges: Edges, errors: Sequence[tuple[float, float]]
) -> float:
    """Deprecated: :func:`mitigated_expectation` with the cut as a PauliSum.

    Readout-corrected ``<C>`` from bitstrings: ``sum w (1 - <Z_i Z_j>) / 2`` with each
    ``<Z_i Z_j>`` from the tensored inverse on each edge's 2-bit marginal.

    Args:
        bits: ``(shots, n)`` bitstrings.
        edges: ``(i, j, w)`` over column indices.
        errors: ``(p01, p10)`` for every column of ``bits``.

    Returns:
        The corrected expectation of the cut.

    Raises:
        ValueError: for invalid readout errors or a ``bits`` shape that does not match them.
    """
    _deprecated("mitigated_cut_expectation", "mitigated_expectation(bits, observable, errors)")
    bits = np.asarray(bits)
    total = 0.0
    for i, j, w in edges:
        zz, _ = mitigation.mitigated_pauli_z(bits, [i, j], errors)
        total += w * (1.0 - zz) / 2.0
    return float(total)


def measure_readout_errors(
    qubits: Sequence[cirq.Qid],
    *,
    shots: int = 2000,
    noise: cirq.NoiseModel | None = None,
    sampler: cirq.Sampler | None = None,
    seed: SeedLike = None,
) -> dict:
    """Estimates ``{qubit: (p01, p10)}`` by preparing all-0 and all-1 (tensored calibration).

    Runs on ``sampler`` when given (a device or virtual engine), else on qsim with ``noise``.
    State-preparation errors of the X gates are included, as on hardware.

    Args:
        qubits: the qubits to calibrate.
        shots: shots per preparation (all-0, all-1).
        noise: noise model for qsim (ignored with ``sampler``).
        sampler: any ``cirq.Sampler``; default qsim.
        seed: seed for qsim.

    Returns:
        ``{qubit: (p01, p10)}`` with ``p01 = P(read 1 | 0)`` and ``p10 = P(read 0 | 1)``.

    Raises:
        ValueError: for ``shots < 1`` on qsim.
    """
    zeros = cirq.Circuit(cirq.I.on_each(*qubits))
    ones = cirq.Circuit(
        cirq.PhasedXZGate(x_exponent=1, z_exponent=0, axis_phase_exponent=0).on_each(*qubits)
    )
    rng = _rng(seed)
    if sampler is not None:
        b0 = sample_with_sampler(sampler, zeros, shots, qubits=qubits)
        b1 = sample_with_sampler(sampler, ones, shots, qubits=qubits)
    else:
        b0 = sample(zeros, shots, noise=noise, qubits=qubits, seed=rng)
        b1 = sample(ones, shots, noise=noise, qubits=qubits, seed=rng)
    return {q: (float(b0[:, k].mean()), float(1.0 - b1[:, k].mean())) for k, q in enumerate(qubits)}


def sample_symmetrized(
    circuit: cirq.AbstractCircuit,
    shots: int,
    *,
    qubits: Sequence[cirq.Qid],
    noise: cirq.NoiseModel | None = None,
    sampler: cirq.Sampler | None = None,
    n_masks: int | None = None,
    seed: SeedLike = None,
) -> np.ndarray:
    """Samples with readout symmetrisation: ``shots`` bitstrings, flips already undone.

    The shots are split evenly over ``n_masks`` masks (:func:`hardware.mitigation.flip_masks`);
    each masked circuit (:func:`hardware.mitigation.flip_circuit`) is sampled on ``sampler`` when given (a device or virtual
    engine) or on qsim with ``noise``, and its bits are XORed with the mask.

    Args:
        circuit: resolved circuit.
        shots: total number of bitstrings (a multiple of ``n_masks``).
        qubits: the measured qubits, in bit order.
        noise: noise model for qsim (ignored with ``sampler``).
        sampler: any ``cirq.Sampler``.
        n_masks: number of masks (a multiple of :func:`hardware.mitigation.mask_block_size`;
            default one block).
        seed: seed for the masks and qsim.

    Returns:
        ``(shots, len(qubits))`` uint8 bitstrings.

    Raises:
        ValueError: when ``shots`` is not a positive multiple of ``n_masks``, or for
            ``n_masks`` not a multiple of the block size
            (:func:`hardware.mitigation.flip_masks`).
    """
    n_masks = mitigation.mask_block_size(len(qubits)) if n_masks is None else n_masks
    if shots < n_masks or shots % n_masks:
        raise ValueError(
            f"shots ({shots}) must be a positive multiple of n_masks ({n_masks}) so every mask "
            "gets the same number of shots"
        )
    rng = _rng(seed)
    masks = mitigation.flip_masks(len(qubits), n_masks, rng)
    per = shots // n_masks
    out = []
    for mask in masks:
        flipped = mitigation.flip_circuit(circuit, qubits, mask)
        if sampler is not None:
            bits = sample_with_sampler(sampler, flipped, per, qubits=qubits)
        else:
            bits = sample(flipped, per, noise=noise, qubits=qubits, seed=rng)
        out.append(mitigation.unflip(bits, mask))
    return np.concatenate(out, axis=0)


__all__ = [
    "EnergyEstimate",
    "METHODS",
    "Observable",
    "confusion_matrix",
    "cut_diagonal",
    "cut_values",
    "density_matrix_probabilities",
    "energy",
    "measure_readout_errors",
    "mitigate_probabilities",
    "mitigated_cut_expectation",
    "mitigated_expectation",
    "noisy_circuit",
    "observable_diagonal",
    "observable_values",
    "probabilities",
    "resolve",
    "sample",
    "sample_symmetrized",
    "sample_with_sampler",
    "trajectory_probabilities",
]
