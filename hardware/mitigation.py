"""Error mitigation on bitstrings, probabilities and circuits: readout and zero-noise extrapolation.

Generic: nothing here knows the cost function. Bitstrings are ``(shots, n)`` uint8 arrays and
probability vectors are big-endian over the same qubit order (``hardware.simulate``'s
convention); readout errors are ``(p01, p10)`` pairs, ``p01 = P(read 1 | 0)``,
``p10 = P(read 0 | 1)``.

Readout:

- :func:`confusion_matrices` builds cirq's ``cirq.TensoredConfusionMatrices`` (one 2x2 matrix
  per qubit) from readout errors; :func:`mitigate_probabilities` applies its per-qubit
  correction matrices axis by axis (``O(n 2^n)``, no ``2^n x 2^n`` matrix) and
  :func:`mitigated_pauli_z` uses its ``readout_mitigation_pauli_uncorrelated`` for
  Z-correlators from bitstrings (value and standard error).
- Readout symmetrisation (random bit-flip averaging): :func:`flip_masks` draws balanced
  random masks, :func:`flip_circuit` adds X gates on the masked qubits before measurement,
  :func:`unflip` undoes them on the bits. Averaged over the masks, every qubit's readout error
  becomes symmetric, ``p01 = p10 = (p01 + p10) / 2``, whatever the state
  (:func:`symmetrized_errors`): the state-dependent bias ``(p10 - p01)`` disappears, and one
  number per qubit describes the readout. :func:`hardware.simulate.sample_symmetrized` runs
  the whole protocol on qsim or a sampler.

Zero-noise extrapolation (mitiq cannot be installed beside TFQ 0.7.6):

- :func:`fold_global` (``C -> C (C^dagger C)^k``) and :func:`fold_gates` (each gate
  ``G -> G (G^dagger G)^k``) stretch the noise by odd factors 1, 3, 5, ... without changing the
  ideal unitary;
- :func:`extrapolate` fits values measured at several scale factors (Richardson: the
  interpolating polynomial; or linear least squares) and returns the value at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import cirq
import numpy as np

from hardware.devices import SeedLike

Errors = Sequence[tuple[float, float]]

_X = cirq.PhasedXZGate(x_exponent=1.0, z_exponent=0.0, axis_phase_exponent=0.0)


def _rng(seed: SeedLike) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_errors(errors: Errors) -> list[tuple[float, float]]:
    out = []
    for k, pair in enumerate(errors):
        try:
            a, b = (float(x) for x in pair)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"readout error {k} must be a pair (p01, p10), got {pair!r}"
            ) from error
        if not (0.0 <= a <= 1.0 and 0.0 <= b <= 1.0) or not np.isfinite(a + b):
            raise ValueError(f"readout error {k} must be probabilities in [0, 1], got {pair!r}")
        if a + b >= 1.0:
            raise ValueError(
                f"readout error {k}: p01 + p10 = {a + b:g} >= 1 cannot be inverted "
                "(the readout carries no information); expected p01 + p10 < 1"
            )
        out.append((a, b))
    return out


# ----------------------------------------------------------------------------- readout


def confusion_matrices(
    errors: Errors, qubits: Sequence[cirq.Qid] | None = None
) -> cirq.TensoredConfusionMatrices:
    """cirq's tensored confusion matrices for independent per-qubit readout errors.

    Args:
        errors: ``(p01, p10)`` per qubit, in ``qubits`` order.
        qubits: the qubits (default ``cirq.LineQubit.range(len(errors))``).

    Returns:
        ``cirq.TensoredConfusionMatrices`` with one single-qubit pattern per qubit; each
        matrix is ``[[1 - p01, p01], [p10, 1 - p10]]`` (rows: prepared, columns: read).

    Raises:
        ValueError: for errors outside [0, 1], ``p01 + p10 >= 1``, or a length mismatch.
    """
    errors = _check_errors(errors)
    qubits = list(qubits) if qubits is not None else cirq.LineQubit.range(len(errors))
    if len(qubits) != len(errors):
        raise ValueError(f"got {len(errors)} readout errors for {len(qubits)} qubits")
    if not qubits:
        raise ValueError("need at least one qubit")
    mats = [np.array([[1.0 - a, a], [b, 1.0 - b]]) for a, b in errors]
    return cirq.TensoredConfusionMatrices(mats, [[q] for q in qubits], repetitions=0, timestamp=0)


def mitigate_probabilities(probs: np.ndarray, errors: Errors) -> np.ndarray:
    """Undoes independent readout errors on a full distribution (big-endian, one pair per qubit).

    Applies cirq's per-qubit correction matrix (``TensoredConfusionMatrices.correction_matrix``,
    the inverse of the qubit's confusion matrix) on each qubit's axis. The result may have small
    negative entries (it is the unbiased linear estimate), which are kept.

    Args:
        probs: ``(2**n,)`` measured distribution.
        errors: ``(p01, p10)`` for each of the ``n`` qubits.

    Returns:
        The corrected ``(2**n,)`` vector (same total).

    Raises:
        ValueError: when the length is not ``2**len(errors)`` or an error pair is invalid.
    """
    errors = _check_errors(errors)
    n = len(errors)
    probs = np.asarray(probs, dtype=float)
    if probs.shape != (2**n,):
        raise ValueError(
            f"probabilities must have shape ({2**n},) for {n} qubits, got {probs.shape}"
        )
    if n == 0:
        return probs.copy()
    t = probs.reshape((2,) * n)
    for k, pair in enumerate(errors):
        # one qubit's own TensoredConfusionMatrices: correction_matrix([q]) of the n-qubit
        # object marginalises an n-operand einsum (2**(2n) terms; 1 s per qubit at n = 12)
        corr = confusion_matrices([pair]).correction_matrix()  # p_true = p_read @ corr
        t = np.moveaxis(np.tensordot(corr, t, axes=([0], [k])), 0, k)
    return t.reshape(-1)


def mitigated_pauli_z(
    bits: np.ndarray, columns: Sequence[int], errors: Errors
) -> tuple[float, float]:
    """Readout-corrected ``<Z_c1 Z_c2 ...>`` over the given bit columns, with its standard error.

    Uses ``cirq.TensoredConfusionMatrices.readout_mitigation_pauli_uncorrelated``.

    Args:
        bits: ``(shots, n)`` bitstrings.
        columns: the columns (qubit indices) of the Z string.
        errors: ``(p01, p10)`` for every column of ``bits``.

    Returns:
        ``(value, stderr)``.

    Raises:
        ValueError: for an invalid error pair, or ``bits`` not of shape
            ``(shots, len(errors))``.
    """
    bits = np.asarray(bits)
    errors = _check_errors(errors)
    if bits.ndim != 2 or bits.shape[1] != len(errors):
        raise ValueError(
            f"bits must be (shots, {len(errors)}) for {len(errors)} readout errors, "
            f"got shape {bits.shape}"
        )
    cols = list(columns)
    # cirq 1.5's readout_mitigation_pauli_uncorrelated contracts z @ inv(M), which is right
    # for M[read, prepared] = [[1 - p01, p10], [p01, 1 - p10]] (the layout its own tests
    # use), i.e. the transpose of what measure_confusion_matrix / apply / correction_matrix
    # use. So this TCM is built in that layout; checked against a brute-force inverse in
    # tests/hardware/test_mitigation_readout.py.
    qubits = cirq.LineQubit.range(len(cols))
    mats = [np.array([[1.0 - a, b], [a, 1.0 - b]]) for a, b in (errors[c] for c in cols)]
    tcm = cirq.TensoredConfusionMatrices(mats, [[q] for q in qubits], repetitions=0, timestamp=0)
    value, stderr = tcm.readout_mitigation_pauli_uncorrelated(qubits, bits[:, cols])
    return float(value), float(stderr)


def symmetrized_errors(errors: Errors) -> list[tuple[float, float]]:
    """Readout errors after symmetrisation: ``((p01 + p10) / 2, (p01 + p10) / 2)`` per qubit.

    Args:
        errors: ``(p01, p10)`` per qubit.

    Returns:
        The symmetric pair of each qubit, in order.

    Raises:
        ValueError: for errors outside [0, 1] or ``p01 + p10 >= 1``.
    """
    return [((a + b) / 2, (a + b) / 2) for a, b in _check_errors(errors)]


def mask_block_size(n_qubits: int) -> int:
    """Masks per balanced block: the smallest power of two above ``n_qubits`` (at least 2).

    Args:
        n_qubits: number of qubits.

    Returns:
        The block size ``N``, a power of two with ``N > n_qubits``.
    """
    size = 2
    while size < n_qubits + 1:
        size *= 2
    return size


def flip_masks(n_qubits: int, n_masks: int | None = None, seed: SeedLike = None) -> np.ndarray:
    """Random bit-flip masks, balanced in pairs: ``(n_masks, n_qubits)`` uint8.

    Masks come in blocks of :func:`mask_block_size` (``N``) rows: each qubit gets a random
    distinct non-constant column of the ``N x N`` Sylvester-Hadamard matrix, XORed with a
    random bit. In every block each qubit is flipped in exactly half the masks and each
    pair of qubits takes the four flip combinations equally often (an orthogonal array of
    strength 2), so averaging over a block makes every one- and two-qubit readout marginal
    exactly symmetric (``Z`` and ``Z_i Z_j`` correlators), not only on average.

    Args:
        n_qubits: number of qubits.
        n_masks: a positive multiple of ``mask_block_size(n_qubits)`` (default: one block).
        seed: seed for the column choice and offsets.

    Returns:
        The masks, 1 where the qubit is flipped.

    Raises:
        ValueError: for a negative ``n_qubits`` or ``n_masks`` not a positive multiple of the
            block size.
    """
    if n_qubits < 0:
        raise ValueError(f"n_qubits must be >= 0, got {n_qubits}")
    block = mask_block_size(n_qubits)
    n_masks = block if n_masks is None else int(n_masks)
    if n_masks < block or n_masks % block:
        raise ValueError(
            f"n_masks must be a positive multiple of {block} for {n_qubits} qubits (balanced "
            f"blocks of a {block}x{block} Hadamard design), got {n_masks}"
        )
    rng = _rng(seed)
    hadamard = np.array([[1]])
    while hadamard.shape[0] < block:
        hadamard = np.block([[hadamard, hadamard], [hadamard, -hadamard]])
    bits = ((1 - hadamard) // 2).astype(np.uint8)
    out = []
    for _ in range(n_masks // block):
        cols = rng.choice(np.arange(1, block), size=n_qubits, replace=False)
        offset = rng.integers(0, 2, size=n_qubits, dtype=np.uint8)
        out.append(bits[:, cols] ^ offset)
    return np.concatenate(out, axis=0).astype(np.uint8)


def flip_circuit(
    circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid], mask: Sequence[int]
) -> cirq.Circuit:
    """The circuit with an X (a native ``PhasedXZGate``) on each masked qubit before measurement.

    Terminal measurements are dropped (the samplers here add their own); the X gates form
    one last moment, so the output stays in a device's native gate set.

    Args:
        circuit: the circuit.
        qubits: the measured qubits, in mask order.
        mask: one entry per qubit; truthy entries get an X.

    Returns:
        A new circuit (the body alone when the mask flips nothing).

    Raises:
        ValueError: when ``mask`` and ``qubits`` differ in length.
    """
    if len(mask) != len(qubits):
        raise ValueError(f"mask has {len(mask)} entries for {len(qubits)} qubits")
    body = cirq.drop_terminal_measurements(cirq.Circuit(circuit))
    flips = [_X.on(q) for q, m in zip(qubits, mask, strict=True) if m]
    return body + cirq.Moment(flips) if flips else body


def unflip(bits: np.ndarray, mask: Sequence[int]) -> np.ndarray:
    """Undoes a mask's flips on measured bits (XOR).

    Args:
        bits: ``(shots, n)`` bitstrings measured with the mask applied.
        mask: ``n`` mask bits.

    Returns:
        The ``(shots, n)`` uint8 bits with the flips removed.
    """
    return np.bitwise_xor(np.asarray(bits, dtype=np.uint8), np.asarray(mask, dtype=np.uint8))


def unflip_probabilities(probs: np.ndarray, mask: Sequence[int]) -> np.ndarray:
    """Undoes a mask's flips on a big-endian distribution (reverses the masked axes).

    Args:
        probs: ``(2**n,)`` distribution measured with the mask applied.
        mask: ``n`` mask bits.

    Returns:
        A new ``(2**n,)`` distribution with the flips removed.
    """
    n = len(mask)
    t = np.asarray(probs).reshape((2,) * n) if n else np.asarray(probs)
    axes = [k for k, m in enumerate(mask) if m]
    return np.flip(t, axis=axes).reshape(-1) if axes else np.asarray(probs).copy()


# ----------------------------------------------------------------------------- ZNE


def _inverse_op(op: cirq.Operation) -> cirq.Operation:
    inv = cirq.inverse(op, None)
    if inv is None:
        raise ValueError(f"cannot fold {op}: it has no inverse (fold only unitary gates)")
    return inv


def _check_factor(scale_factor: int) -> int:
    if int(scale_factor) != scale_factor or scale_factor < 1 or scale_factor % 2 == 0:
        raise ValueError(
            f"unitary folding needs an odd integer scale factor (1, 3, 5, ...), got {scale_factor}"
        )
    return int(scale_factor)


def _split(circuit: cirq.AbstractCircuit):
    circuit = cirq.Circuit(circuit)
    if cirq.is_parameterized(circuit):
        raise ValueError("resolve the circuit's symbols before folding (cirq.resolve_parameters)")
    if not circuit.are_all_measurements_terminal():
        raise ValueError("folding needs measurements at the end of the circuit only")
    measurements = [op for op in circuit.all_operations() if cirq.is_measurement(op)]
    return cirq.drop_terminal_measurements(circuit), measurements


def fold_global(circuit: cirq.AbstractCircuit, scale_factor: int) -> cirq.Circuit:
    """Global unitary folding: ``C -> C (C^dagger C)^k`` with ``scale_factor = 2k + 1``.

    The ideal unitary is unchanged; every gate runs ``scale_factor`` times, so gate noise is
    stretched by that factor. Terminal measurements are kept at the end.

    Args:
        circuit: resolved circuit, measurements (if any) terminal.
        scale_factor: odd integer >= 1.

    Returns:
        The folded circuit (same ideal unitary).

    Raises:
        ValueError: for an even or non-positive factor, symbols, mid-circuit measurements or a
            non-invertible operation.
    """
    k = (_check_factor(scale_factor) - 1) // 2
    body, measurements = _split(circuit)
    inverse = cirq.Circuit([cirq.Moment(_inverse_op(op) for op in m) for m in reversed(body)])
    out = body.copy()
    for _ in range(k):
        out += inverse
        out += body
    if measurements:
        out.append(cirq.Moment(measurements))
    return out


def fold_gates(
    circuit: cirq.AbstractCircuit,
    scale_factor: int,
    *,
    only: Callable[[cirq.Operation], bool] | None = None,
) -> cirq.Circuit:
    """Local unitary folding: each gate ``G -> G (G^dagger G)^k``, ``scale_factor = 2k + 1``.

    Each moment is followed by ``2k`` moments holding the inverses and repeats of its folded
    gates, so moment structure (and idle times) stretch with the gates.

    Args:
        circuit: resolved circuit.
        scale_factor: odd integer >= 1.
        only: fold only the operations it accepts (e.g. two-qubit gates, the dominant noise);
            default every non-measurement operation.

    Returns:
        The folded circuit (same ideal unitary).

    Raises:
        ValueError: as :func:`fold_global`.
    """
    k = (_check_factor(scale_factor) - 1) // 2
    body, measurements = _split(circuit)
    out = cirq.Circuit()
    for moment in body:
        out.append(moment, strategy=cirq.InsertStrategy.NEW)
        folded = [op for op in moment if only is None or only(op)]
        if not folded or k == 0:
            continue
        inverse = cirq.Moment(_inverse_op(op) for op in folded)
        forward = cirq.Moment(folded)
        for _ in range(k):
            out.append(inverse, strategy=cirq.InsertStrategy.NEW)
            out.append(forward, strategy=cirq.InsertStrategy.NEW)
    if measurements:
        out.append(cirq.Moment(measurements))
    return out


def extrapolate(
    scale_factors: Sequence[float], values: Sequence[float], *, method: str = "richardson"
) -> float:
    """Zero-noise value from values measured at several noise scale factors.

    Args:
        scale_factors: the factors (e.g. 1, 3, 5), distinct.
        values: the measured values at those factors.
        method: ``richardson`` (the polynomial through all points, degree ``len - 1``) or
            ``linear`` (least-squares line).

    Returns:
        The fitted value at scale factor 0.

    Raises:
        ValueError: for mismatched lengths, repeated factors, too few points or an unknown
            method.
    """
    x = np.asarray(scale_factors, dtype=float)
    y = np.asarray(values, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"need one value per scale factor, got {x.shape} and {y.shape}")
    if len(np.unique(x)) != len(x):
        raise ValueError(f"scale factors must be distinct, got {list(x)}")
    if len(x) < 2:
        raise ValueError("need at least two scale factors to extrapolate")
    if method == "richardson":
        # Lagrange weights at 0: sum_i y_i prod_{j != i} x_j / (x_j - x_i).
        weights = [
            np.prod([x[j] / (x[j] - x[i]) for j in range(len(x)) if j != i]) for i in range(len(x))
        ]
        return float(np.dot(weights, y))
    if method == "linear":
        slope, intercept = np.polyfit(x, y, 1)
        return float(intercept)
    raise ValueError(f"unknown extrapolation method {method!r}; expected 'richardson' or 'linear'")


def zne(
    circuit: cirq.AbstractCircuit,
    measure: Callable[[cirq.Circuit], float],
    *,
    scale_factors: Sequence[int] = (1, 3, 5),
    fold: str = "global",
    method: str = "richardson",
) -> tuple[float, dict[int, float]]:
    """Zero-noise extrapolation: fold the circuit, measure each, extrapolate to zero noise.

    Args:
        circuit: resolved circuit.
        measure: returns the (noisy) expectation value of a circuit, e.g. a closure over
            ``hardware.simulate.energy``.
        scale_factors: odd folding factors.
        fold: ``global`` (:func:`fold_global`) or ``gates`` (:func:`fold_gates`).
        method: see :func:`extrapolate`.

    Returns:
        ``(extrapolated value, {factor: measured value})``.

    Raises:
        ValueError: for an unknown ``fold`` or anything :func:`fold_global` or
            :func:`extrapolate` refuse.
    """
    folders: Mapping[str, Callable] = {"global": fold_global, "gates": fold_gates}
    if fold not in folders:
        raise ValueError(f"unknown folding {fold!r}; expected 'global' or 'gates'")
    measured = {int(f): float(measure(folders[fold](circuit, f))) for f in scale_factors}
    return extrapolate(list(measured), list(measured.values()), method=method), measured


__all__ = [
    "confusion_matrices",
    "extrapolate",
    "flip_circuit",
    "flip_masks",
    "fold_gates",
    "fold_global",
    "mask_block_size",
    "mitigate_probabilities",
    "mitigated_pauli_z",
    "symmetrized_errors",
    "unflip",
    "unflip_probabilities",
    "zne",
]
