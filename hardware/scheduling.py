"""Scheduling options of a compiled circuit: moment stratification and dynamical decoupling."""

from __future__ import annotations

import cirq

from hardware.gatesets import ONE_QUBIT_NATIVE, quiet_cirq

DD_TAG = "dynamical_decoupling"
DD_SCHEMAS: tuple[str, ...] = ("DEFAULT", "XX_PAIR", "X_XINV", "YY_PAIR", "Y_YINV")


def decoupling_schema(option: bool | str | None, symbolic: bool) -> str | None:
    """The cirq dynamical-decoupling schema that ``compile_circuit``'s option asks for.

    Args:
        option: False/None (none), True (``DEFAULT``) or a schema name of :data:`DD_SCHEMAS`.
        symbolic: whether the circuit keeps sympy symbols.

    Returns:
        The schema name, or None for no decoupling.

    Raises:
        ValueError: for an unknown schema, or decoupling asked of a symbolic circuit.
    """
    if option is False or option is None:
        return None
    schema = "DEFAULT" if option is True else str(option).upper()
    if schema not in DD_SCHEMAS:
        raise ValueError(
            f"unknown dynamical decoupling schema {option!r}; expected True or one of "
            f"{', '.join(DD_SCHEMAS)}"
        )
    if symbolic:
        raise ValueError(
            "dynamical decoupling needs a resolved circuit (cirq merges pulses into the "
            "neighbouring gates by their unitaries); resolve the symbols first or compile "
            "with dynamical_decoupling=False"
        )
    return schema


def stratify_moments(circuit: cirq.AbstractCircuit) -> cirq.Circuit:
    """Moments of single-qubit gates only and of two-qubit gates only (``cirq.stratified_circuit``).

    Measurements and other operations form their own moments.

    Args:
        circuit: any circuit.

    Returns:
        A new circuit with the same operations, stratified, empty moments dropped.
    """
    with quiet_cirq():
        out = cirq.stratified_circuit(
            cirq.Circuit(circuit),
            categories=[
                lambda op: len(op.qubits) == 1 and not cirq.is_measurement(op),
                lambda op: len(op.qubits) == 2 and not cirq.is_measurement(op),
            ],
        )
    return cirq.drop_empty_moments(out).unfreeze(copy=False)


def add_dynamical_decoupling(
    circuit: cirq.AbstractCircuit, schema: str = "DEFAULT"
) -> cirq.Circuit:
    """``cirq.add_dynamical_decoupling`` with native pulses.

    Pauli pulses (X, Y, and Z where cirq leaves one) become ``PhasedXZGate`` (Z stays a
    virtual ``ZPowGate``) tagged :data:`DD_TAG`; other gates cirq rewrote are already
    ``PhasedXZGate``.

    Args:
        circuit: resolved native circuit.
        schema: a cirq schema name (:data:`DD_SCHEMAS`).

    Returns:
        The circuit with pulses in the idle spots of its single-qubit moments.

    Raises:
        ValueError: for a circuit with unresolved symbols, or (from cirq) an unknown schema.
    """
    if cirq.is_parameterized(circuit):
        raise ValueError("dynamical decoupling needs a resolved circuit; resolve its symbols first")
    with quiet_cirq():
        out = cirq.add_dynamical_decoupling(cirq.Circuit(circuit), schema=schema)

    def map_op(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        if isinstance(op.gate, cirq.Pauli) and not op.tags:
            if op.gate == cirq.Z:
                return cirq.Z(*op.qubits).with_tags(DD_TAG)
            gate = cirq.PhasedXZGate.from_matrix(cirq.unitary(op.gate))
            return gate.on(*op.qubits).with_tags(DD_TAG)
        if (
            len(op.qubits) == 1
            and not cirq.is_measurement(op)
            and not isinstance(op.gate, ONE_QUBIT_NATIVE)
            and cirq.has_unitary(op)
        ):
            return cirq.PhasedXZGate.from_matrix(cirq.unitary(op)).on(*op.qubits)
        return op

    return cirq.map_operations(out, map_op).unfreeze(copy=False)


__all__ = [
    "DD_SCHEMAS",
    "DD_TAG",
    "add_dynamical_decoupling",
    "decoupling_schema",
    "stratify_moments",
]
