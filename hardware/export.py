"""JSON export of compiled circuits and runs on cirq-google's virtual engine.

The virtual engine (``cirq_google.engine.SimulatedLocalEngine``) exposes the same
``engine.get_processor(id).get_sampler()`` interface as Google's Quantum Engine, so code that
runs here runs on hardware by swapping the engine. Its simulator is qsim; the noisy version
uses the processor's median calibration.
"""

from __future__ import annotations

import cirq
import qsimcirq

from hardware.compile import COMPILED_SCHEMA_VERSION, CompiledCircuit
from hardware.devices import CALIBRATED_DEVICES, import_cirq_google
from hardware.fileio import write_atomic
from hardware.gatesets import is_sycamore_gate, quiet_cirq
from hardware.scheduling import DD_TAG

SCHEMA_VERSION = COMPILED_SCHEMA_VERSION  # the compiled-circuit files' schema (compile.py)


def compiled_to_json(compiled: CompiledCircuit) -> str:
    """Serialises a :class:`hardware.CompiledCircuit` (same as ``compiled.to_json()``).

    Args:
        compiled: the compiled circuit.

    Returns:
        The JSON text.
    """
    return compiled.to_json()


def compiled_from_json(text: str) -> CompiledCircuit:
    """Inverse of :func:`compiled_to_json` (same as ``CompiledCircuit.from_json``).

    Args:
        text: JSON written by :func:`compiled_to_json`.

    Returns:
        The :class:`hardware.CompiledCircuit`.

    Raises:
        ValueError: the text is not a compiled circuit, or its schema is newer than this
            version reads.
    """
    return CompiledCircuit.from_json(text)


def save_compiled(compiled, path: str) -> None:
    """Writes :func:`compiled_to_json` to ``path`` (atomically: never a truncated file).

    The parent directory is created when missing.

    Args:
        compiled: the :class:`hardware.CompiledCircuit`.
        path: file to write.
    """
    write_atomic(path, compiled_to_json(compiled))


def load_compiled(path: str):
    """Reads a compiled circuit written by :func:`save_compiled`.

    Args:
        path: file to read.

    Returns:
        The :class:`hardware.CompiledCircuit`.

    Raises:
        OSError: when the file cannot be read.
        ValueError: as :func:`compiled_from_json`.
    """
    with open(path, encoding="utf-8") as f:
        return compiled_from_json(f.read())


def virtual_engine(processor_id: str, *, noisy: bool = False, seed: int | None = None):
    """A cirq-google ``SimulatedLocalEngine`` for ``rainbow``/``weber`` backed by qsim.

    Args:
        processor_id: ``rainbow`` or ``weber``.
        noisy: use the processor's median-calibration noise model (the quantum virtual machine).
        seed: qsim seed for reproducible samples.

    Returns:
        A ``cirq_google.engine.SimulatedLocalEngine`` with the one processor.

    Raises:
        ValueError: for a processor id not in :data:`hardware.devices.CALIBRATED_DEVICES`.
    """
    cg = import_cirq_google()
    from cirq_google.engine import virtual_engine_factory as vef  # lazy like cirq_google itself

    if processor_id not in CALIBRATED_DEVICES:
        raise ValueError(
            f"no virtual engine for {processor_id!r}; expected one of {', '.join(CALIBRATED_DEVICES)}"
        )
    if noisy:
        return cg.engine.create_default_noisy_quantum_virtual_machine(
            processor_id, qsimcirq.QSimSimulator, seed=seed
        )
    device = vef.create_device_from_processor_id(processor_id)
    spec = vef.create_device_spec_from_processor_id(processor_id)
    processor = cg.engine.SimulatedLocalProcessor(
        processor_id=processor_id,
        sampler=qsimcirq.QSimSimulator(seed=seed),
        device=device,
        device_specification=spec,
    )
    return cg.engine.SimulatedLocalEngine([processor])


def virtual_sampler(
    processor_id: str, *, noisy: bool = False, seed: int | None = None
) -> cirq.Sampler:
    """The ``cirq.Sampler`` of :func:`virtual_engine`'s processor (validates circuits on run).

    Args:
        processor_id: ``rainbow`` or ``weber``.
        noisy: use the processor's median-calibration noise model.
        seed: qsim seed for reproducible samples.

    Returns:
        The processor's sampler.

    Raises:
        ValueError: as :func:`virtual_engine`.
    """
    return (
        virtual_engine(processor_id, noisy=noisy, seed=seed)
        .get_processor(processor_id)
        .get_sampler()
    )


def to_device_form(circuit: cirq.AbstractCircuit) -> cirq.Circuit:
    """Resolved circuit in the form Google devices and the Google noise model expect.

    Single-qubit gates become ``PhasedXZGate`` (virtual ``ZPowGate``s are kept), and
    ``FSimGate(pi/2, pi/6)`` becomes ``cirq_google.SYC``. Adjacent single-qubit moments are
    merged, except moments holding dynamical-decoupling pulses (tagged
    ``hardware.scheduling.DD_TAG``).

    Args:
        circuit: resolved circuit.

    Returns:
        A new circuit in device form.

    Raises:
        ValueError: when the circuit has unresolved symbols.
    """
    cg = import_cirq_google()

    if cirq.is_parameterized(circuit):
        raise ValueError(
            "circuit has unresolved symbols; resolve them (cirq.resolve_parameters) before export"
        )

    def map_op(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        if is_sycamore_gate(op.gate) and not isinstance(op.gate, cg.SycamoreGate):
            return cg.SYC.on(*op.qubits)
        if (
            len(op.qubits) == 1
            and not cirq.is_measurement(op)
            and not isinstance(op.gate, cirq.PhasedXZGate | cirq.ZPowGate)
            and cirq.has_unitary(op)
        ):
            return cirq.PhasedXZGate.from_matrix(cirq.unitary(op)).on(*op.qubits)
        return op

    with quiet_cirq():
        out = cirq.map_operations(circuit, map_op)
        # Moments holding dynamical-decoupling pulses are not merged (that would undo them).
        context = cirq.TransformerContext(tags_to_ignore=(DD_TAG,))
        out = cirq.merge_single_qubit_moments_to_phxz(out, context=context)
    return cirq.Circuit(out)


__all__ = [
    "compiled_from_json",
    "compiled_to_json",
    "load_compiled",
    "save_compiled",
    "to_device_form",
    "virtual_engine",
    "virtual_sampler",
]
