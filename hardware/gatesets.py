"""Conversion to Google gate sets, for resolved and symbolic circuits, and validation.

:func:`to_gateset` compiles resolved circuits with ``cirq.optimize_for_target_gateset`` (2
natives per ZZ rotation, 3 per ZZ+SWAP); :func:`to_gateset_symbolic` keeps sympy symbols,
writing each symbolic ZZ rotation as ``CX · Z**t · CX`` with the CX pair compiled once to
natives, and Rx/Rz as ``XPowGate``/``ZPowGate`` with exponents ``coefficient * symbol``: the
only symbolic form TFQ serialises. :func:`validate` checks a circuit against a gate set and a
device.
"""

from __future__ import annotations

import contextlib
import functools
import warnings

import cirq
import numpy as np
import sympy

from hardware.devices import (
    GATESETS,
    Device,
    get_device,
    import_cirq_google,
)


@contextlib.contextmanager
def quiet_cirq():
    """Silences cirq 1.5's ``use_repetition_ids`` FutureWarning, raised by its own transformers."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"(?s).*use_repetition_ids", category=FutureWarning
        )
        yield


_SYC_THETA, _SYC_PHI = np.pi / 2, np.pi / 6


def target_gateset(gateset: str) -> cirq.CompilationTargetGateset:
    """The cirq compilation target for a gate-set name (``cz``, ``sqrt_iswap``, ``sycamore``).

    Args:
        gateset: one of :data:`hardware.devices.GATESETS`.

    Returns:
        ``cirq.CZTargetGateset()``, ``cirq.SqrtIswapTargetGateset()`` or
        ``cirq_google.SycamoreTargetGateset()``, a new instance each call.

    Raises:
        ValueError: for an unknown gate-set name.
    """
    if gateset == "cz":
        return cirq.CZTargetGateset()
    if gateset == "sqrt_iswap":
        return cirq.SqrtIswapTargetGateset()
    if gateset == "sycamore":
        cg = import_cirq_google()

        return cg.SycamoreTargetGateset()
    raise ValueError(f"unknown gate set {gateset!r}; expected one of {', '.join(GATESETS)}")


def two_qubit_count(circuit: cirq.AbstractCircuit) -> int:
    """Number of two-qubit gate operations (measurements excluded).

    Args:
        circuit: any circuit.

    Returns:
        The count of operations on exactly two qubits that are not measurements (2q noise
        channels of a noisy circuit count too).
    """
    return sum(
        1 for op in circuit.all_operations() if len(op.qubits) == 2 and not cirq.is_measurement(op)
    )


def to_gateset(circuit: cirq.AbstractCircuit, gateset: str) -> cirq.Circuit:
    """Compiles a resolved circuit to a native gate set with the fewest two-qubit gates.

    Uses ``cirq.optimize_for_target_gateset`` (2 natives per ZZ rotation, 3 per ZZ+SWAP).
    Single-qubit gates come out as ``PhasedXZGate`` (use :func:`tfq_safe` for TFQ).

    Args:
        circuit: a circuit without unresolved symbols.
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.

    Returns:
        A new circuit of native two-qubit gates (CZ, ``ISWAP**0.5`` or SYC) and
        ``PhasedXZGate``s, measurements kept, negligible ops and empty moments dropped.

    Raises:
        ValueError: if the circuit has unresolved symbols, or for an unknown gate set.
    """
    target = target_gateset(gateset)
    if cirq.is_parameterized(circuit):
        names = sorted(str(s) for s in cirq.parameter_names(circuit))
        raise ValueError(
            f"circuit has unresolved symbols {names}; resolve them first "
            "(cirq.resolve_parameters) or use to_gateset_symbolic / symbolic=True"
        )
    with quiet_cirq():
        out = cirq.optimize_for_target_gateset(circuit, gateset=target)
        out = cirq.drop_negligible_operations(out)
        out = cirq.drop_empty_moments(out)
        return _canonical_natives(out)


def _canonical_natives(circuit: cirq.Circuit) -> cirq.Circuit:
    """Maps Rx/XPow leftovers of the Sycamore target to PhasedXZ so every 1q gate is one type."""

    def map_op(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        if (
            len(op.qubits) == 1
            and not cirq.is_measurement(op)
            and not isinstance(op.gate, cirq.PhasedXZGate)
            and cirq.has_unitary(op)
        ):
            return cirq.PhasedXZGate.from_matrix(cirq.unitary(op)).on(*op.qubits)
        return op

    return cirq.map_operations(circuit, map_op).unfreeze(copy=False)


def tfq_safe(circuit: cirq.AbstractCircuit) -> cirq.Circuit:
    """Rewrites ``PhasedXZGate``s (rejected by TFQ) as ``PhasedXPowGate`` + ``ZPowGate``.

    Args:
        circuit: any circuit; ops other than ``PhasedXZGate``s are kept as they are.

    Returns:
        A new circuit with the same unitary (up to global phase).
    """

    def map_op(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        if isinstance(op.gate, cirq.PhasedXZGate):
            return _phx_z(cirq.unitary(op), op.qubits[0])
        return op

    return cirq.map_operations_and_unroll(circuit, map_op).unfreeze(copy=False)


def _phx_z(matrix: np.ndarray, q: cirq.Qid) -> list[cirq.Operation]:
    gates = cirq.single_qubit_matrix_to_phased_x_z(matrix, atol=1e-10)
    return [g.on(q) for g in gates]


@functools.cache
def _fixed_block(gateset: str, which: str) -> tuple[cirq.Operation, ...]:
    """Native decomposition of CX(a,b) or CX(b,a)·CX(a,b) on LineQubit(0), LineQubit(1)."""
    a, b = cirq.LineQubit.range(2)
    if which == "cx":
        logical = cirq.Circuit(cirq.CNOT(a, b))
    elif which == "dcx":
        logical = cirq.Circuit(cirq.CNOT(a, b), cirq.CNOT(b, a))
    else:  # pragma: no cover
        raise KeyError(which)
    best = to_gateset(logical, gateset)
    if which == "dcx":  # compiling each CX alone can beat the joint compile (Sycamore)
        split = to_gateset(cirq.Circuit(cirq.CNOT(a, b)), gateset) + to_gateset(
            cirq.Circuit(cirq.CNOT(b, a)), gateset
        )
        if two_qubit_count(split) < two_qubit_count(best):
            best = split
    return tuple(tfq_safe(_to_tfq_natives(best, gateset)).all_operations())


def _to_tfq_natives(circuit: cirq.Circuit, gateset: str) -> cirq.Circuit:
    """SYC -> ``FSimGate(pi/2, pi/6)`` (same unitary; TFQ serialises FSimGate)."""
    if gateset != "sycamore":
        return circuit
    return cirq.map_operations(
        circuit,
        lambda op, _: (
            cirq.FSimGate(_SYC_THETA, _SYC_PHI).on(*op.qubits) if is_sycamore_gate(op.gate) else op
        ),
    ).unfreeze(copy=False)


def is_sycamore_gate(gate: cirq.Gate | None) -> bool:
    """Whether ``gate`` is Sycamore's FSim(π/2, π/6), in any cirq class that carries it.

    Args:
        gate: a gate, or None.

    Returns:
        True for a resolved ``cirq.FSimGate`` (or subclass, such as cirq-google's
        ``SycamoreGate``) with theta ≈ π/2 and phi ≈ π/6.
    """
    return (
        isinstance(gate, cirq.FSimGate)
        and not cirq.is_parameterized(gate)
        and np.isclose(gate.theta, _SYC_THETA)
        and np.isclose(gate.phi, _SYC_PHI)
    )


def _linear_terms(expr, gate_desc: str) -> list:
    """Splits an exponent ``c0 + sum_k c_k s_k`` into ``[c0, c_1 s_1, ...]`` (c0 if nonzero)."""
    if not isinstance(expr, sympy.Basic):
        return [float(expr)]
    symbols = sorted(expr.free_symbols, key=str)
    terms: list = []
    const = expr.subs({s: 0 for s in symbols})
    coeffs = [sympy.diff(expr, s) for s in symbols]
    if const.free_symbols or any(c.free_symbols for c in coeffs):
        raise TypeError(
            f"{gate_desc} has exponent {expr}, which is not affine in its symbols; "
            "symbolic compilation supports exponents c0 + sum_k c_k * symbol_k"
        )
    if abs(float(const)) > 1e-15:
        terms.append(float(const))
    for sym, coeff in zip(symbols, coeffs, strict=True):
        if abs(float(coeff)) > 1e-15:
            terms.append(sympy.Float(float(coeff)) * sym)
    return terms


def _sym_rotation(gate_type, expr, q, desc) -> list[cirq.Operation]:
    ops = []
    for term in _linear_terms(expr, desc):
        if isinstance(term, float):
            ops.extend(_phx_z(cirq.unitary(gate_type(exponent=term)), q))
        else:
            ops.append(gate_type(exponent=term).on(q))
    return ops


def _template(gateset: str, which: str, a: cirq.Qid, b: cirq.Qid) -> list[cirq.Operation]:
    l0, l1 = cirq.LineQubit.range(2)
    mapping = {l0: a, l1: b}
    return [op.transform_qubits(mapping) for op in _fixed_block(gateset, which)]


def to_gateset_symbolic(circuit: cirq.AbstractCircuit, gateset: str) -> cirq.Circuit:
    """Compiles a (possibly symbolic) circuit to natives while keeping its symbols.

    Symbolic gates handled: ``ZZPowGate``, ``CZPowGate``, ``XPowGate``/``Rx``,
    ``YPowGate``/``Ry``, ``ZPowGate``/``Rz``, with exponents affine in the symbols; a ZZ
    rotation followed directly by a SWAP on the same pair (swap networks) is fused. Each
    symbolic ZZ**t becomes ``CX(a,b) · Z_b**t · CX(a,b)``, each ZZ**t+SWAP becomes
    ``CX(a,b) · Z_b**t · CX(b,a) · CX(a,b)``, with the fixed CX blocks compiled to natives.
    Native two-qubit gates per symbolic ZZ: 2 (cz), 4 (sqrt_iswap), 4 (sycamore); per
    ZZ+SWAP: 3, 4, 6. Resolved gates go through :func:`to_gateset` (2 natives per ZZ).
    Output gates: CZ, ``ISWAP**0.5``, ``FSimGate(pi/2, pi/6)`` (= SYC), ``PhasedXPowGate``,
    ``XPowGate``/``YPowGate``/``ZPowGate`` with exponents ``c * symbol``: all TFQ-serialisable.

    Args:
        circuit: the circuit, symbolic or not.
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.

    Returns:
        A new circuit of the output gates above, measurements kept in place, runs of
        resolved single-qubit gates merged.

    Raises:
        TypeError: for a symbolic gate outside the list (an X/Y/Z rotation counts only with
            global shift 0 or -1/2) or a non-affine exponent.
        ValueError: for an unknown gate set.
    """
    target_gateset(gateset)  # validates the name
    ops = list(circuit.all_operations())
    fused_swap: set[int] = set()
    last: dict[cirq.Qid, int] = {}
    for idx, op in enumerate(ops):
        if op.gate == cirq.SWAP:
            a, b = op.qubits
            j = last.get(a)
            if (
                j is not None
                and last.get(b) == j
                and isinstance(ops[j].gate, cirq.ZZPowGate)
                and cirq.is_parameterized(ops[j])
                and j not in fused_swap
            ):
                fused_swap.add(j)
                fused_swap.add(idx)
        for q in op.qubits:
            last[q] = idx

    out: list[cirq.Operation] = []
    resolved_run: list[cirq.Operation] = []

    def emit_resolved() -> None:
        if resolved_run:
            out.extend(
                tfq_safe(
                    _to_tfq_natives(to_gateset(cirq.Circuit(resolved_run), gateset), gateset)
                ).all_operations()
            )
            resolved_run.clear()

    for idx, op in enumerate(ops):
        if idx in fused_swap and op.gate == cirq.SWAP:
            continue
        if cirq.is_measurement(op) or not cirq.is_parameterized(op):
            if cirq.is_measurement(op):
                emit_resolved()
                out.append(op)
            else:
                resolved_run.append(op)
            continue
        emit_resolved()
        gate = op.gate
        if isinstance(gate, cirq.ZZPowGate) or isinstance(gate, cirq.CZPowGate):
            a, b = op.qubits
            t = gate.exponent
            if isinstance(gate, cirq.CZPowGate):
                # CZ**t = Z_a**(t/2) Z_b**(t/2) ZZ**(-t/2)
                out.extend(_sym_rotation(cirq.ZPowGate, t / 2, a, str(op)))
                out.extend(_sym_rotation(cirq.ZPowGate, t / 2, b, str(op)))
                t = -t / 2
            if idx in fused_swap:
                out.extend(_template(gateset, "cx", a, b))
                out.extend(_sym_rotation(cirq.ZPowGate, t, b, str(op)))
                out.extend(_template(gateset, "dcx", b, a))
            else:
                out.extend(_template(gateset, "cx", a, b))
                out.extend(_sym_rotation(cirq.ZPowGate, t, b, str(op)))
                out.extend(_template(gateset, "cx", a, b))
        elif isinstance(gate, cirq.XPowGate | cirq.YPowGate | cirq.ZPowGate) and (
            gate.global_shift in (0.0, -0.5)
        ):
            base = (
                type(gate)
                if type(gate) in (cirq.XPowGate, cirq.YPowGate, cirq.ZPowGate)
                else {
                    cirq.Rx: cirq.XPowGate,
                    cirq.Ry: cirq.YPowGate,
                    cirq.Rz: cirq.ZPowGate,
                }[type(gate)]
            )
            out.extend(_sym_rotation(base, gate.exponent, op.qubits[0], str(op)))
        else:
            raise TypeError(
                f"cannot compile symbolic operation {op} while keeping its symbols; supported "
                "symbolic gates: ZZPowGate, CZPowGate, XPowGate/rx, YPowGate/ry, ZPowGate/rz "
                "(resolve the circuit and use to_gateset otherwise)"
            )
    emit_resolved()
    return _merge_fixed_1q(cirq.Circuit(out))


def _merge_fixed_1q(circuit: cirq.Circuit) -> cirq.Circuit:
    """Merges runs of resolved single-qubit gates into one PhasedXPow + ZPow pair."""
    with quiet_cirq():
        merged = cirq.merge_k_qubit_unitaries(
            circuit,
            k=1,
            rewriter=lambda op: _phx_z(cirq.unitary(op), op.qubits[0]),
        )
    merged = cirq.drop_negligible_operations(cirq.Circuit(merged.all_operations()))
    return cirq.drop_empty_moments(merged).unfreeze(copy=False)


# Single-qubit gates every gate set runs natively (the Z rotations are virtual).
ONE_QUBIT_NATIVE = (
    cirq.PhasedXZGate,
    cirq.PhasedXPowGate,
    cirq.XPowGate,
    cirq.YPowGate,
    cirq.ZPowGate,
    cirq.IdentityGate,
)


def is_native_two_qubit(gate: cirq.Gate, gateset: str) -> bool:
    """True when ``gate`` is the native two-qubit gate of ``gateset`` (resolved).

    Args:
        gate: a gate, or None.
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.

    Returns:
        Whether ``gate`` is a resolved CZ (``CZPowGate`` of exponent 1 mod 2),
        ``ISWAP**±0.5`` (``ISwapPowGate`` of exponent 0.5 or 3.5 mod 4) or SYC
        (:func:`is_sycamore_gate`); False for None and for symbolic gates.

    Raises:
        ValueError: for an unknown gate set (unless ``gate`` is None or symbolic).
    """
    if gate is None or cirq.is_parameterized(gate):
        return False
    if gateset == "cz":
        return isinstance(gate, cirq.CZPowGate) and np.isclose(gate.exponent % 2, 1.0)
    if gateset == "sqrt_iswap":
        return isinstance(gate, cirq.ISwapPowGate) and (
            np.isclose(gate.exponent % 4, 0.5) or np.isclose(gate.exponent % 4, 3.5)
        )
    if gateset == "sycamore":
        return is_sycamore_gate(gate)
    raise ValueError(f"unknown gate set {gateset!r}; expected one of {', '.join(GATESETS)}")


def validate(
    circuit: cirq.AbstractCircuit, device: Device | str, gateset: str | None = None
) -> None:
    """Checks that a circuit can run on ``device``: qubits, couplers and native gates.

    Args:
        circuit: compiled circuit.
        device: a :class:`Device` or its name.
        gateset: the one allowed native two-qubit gate set; default any of the device's.

    Raises:
        ValueError: naming the first offending operation and the fix.
    """
    dev = get_device(device) if isinstance(device, str) else device
    allowed = dev.gatesets if gateset is None else (gateset,)
    for name in allowed:
        if name not in dev.gatesets:
            raise ValueError(
                f"gate set {name!r} is not native to device {dev.name!r} ({', '.join(dev.gatesets)})"
            )
    for i, moment in enumerate(circuit):
        for op in moment:
            for q in op.qubits:
                if q not in dev.graph:
                    raise ValueError(
                        f"moment {i}: {op} uses qubit {q}, which is not on device {dev.name!r}; "
                        "compile the circuit for this device first (hardware.compile_circuit)"
                    )
            if cirq.is_measurement(op) or isinstance(op.gate, cirq.GlobalPhaseGate):
                continue
            if len(op.qubits) == 1:
                if not isinstance(op.gate, ONE_QUBIT_NATIVE):
                    raise ValueError(
                        f"moment {i}: single-qubit gate {op} is not native; expected one of "
                        "PhasedXZ, PhasedXPow, X/Y/ZPow (compile with hardware.to_gateset)"
                    )
            elif len(op.qubits) == 2:
                a, b = op.qubits
                if not dev.is_coupled(a, b):
                    raise ValueError(
                        f"moment {i}: {op} acts on uncoupled qubits {a}, {b} of device "
                        f"{dev.name!r}; route the circuit first (hardware.route)"
                    )
                if not any(is_native_two_qubit(op.gate, g) for g in allowed):
                    raise ValueError(
                        f"moment {i}: two-qubit gate {op} is not native to gate set(s) "
                        f"{', '.join(allowed)}; convert it with hardware.to_gateset"
                    )
            else:
                raise ValueError(
                    f"moment {i}: {op} acts on {len(op.qubits)} qubits; devices run only 1- and "
                    "2-qubit gates"
                )


__all__ = [
    "ONE_QUBIT_NATIVE",
    "is_native_two_qubit",
    "is_sycamore_gate",
    "quiet_cirq",
    "target_gateset",
    "tfq_safe",
    "to_gateset",
    "to_gateset_symbolic",
    "two_qubit_count",
    "validate",
]
