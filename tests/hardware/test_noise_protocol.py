"""The noise-model protocol: scale, readout_errors and to_tfq_compatible call a model's own
scaled / readout_errors / tfq_compatible methods, so a user's model joins without a new case."""

from __future__ import annotations

from dataclasses import dataclass

import cirq
import numpy as np
import pytest

from hardware import noise


@dataclass(frozen=True)
class BitFlipAfterGates(noise.MomentNoise):
    """A user's model: a bit flip after every gate, with readout errors of its own."""

    p: float
    p01: float = 0.0

    def after(self, moment, qubits):
        return [cirq.Moment(cirq.bit_flip(self.p).on_each(*moment.qubits))]

    def scaled(self, factor):
        return BitFlipAfterGates(self.p * factor, self.p01 * factor)

    def readout_errors(self, qubits):
        return {q: (self.p01, 0.0) for q in qubits}


@dataclass(frozen=True)
class Silent(noise.MomentNoise):
    """A model that defines none of the protocol methods."""


class Foreign(cirq.NoiseModel):
    """Not a moment-noise model at all, but it knows how to scale."""

    def __init__(self, p):
        self.p = p

    def noisy_operation(self, operation):
        return [operation, cirq.depolarize(self.p).on_each(*operation.qubits)]

    def scaled(self, factor):
        return Foreign(self.p * factor)


def test_the_protocol_functions_call_a_users_methods():
    model = BitFlipAfterGates(0.02, 0.01)
    q = cirq.LineQubit.range(2)
    assert noise.scale(model, 3) == BitFlipAfterGates(0.06, 0.03)
    assert noise.readout_errors(model, q) == {q[0]: (0.01, 0.0), q[1]: (0.01, 0.0)}
    # Stacked with a library model, both scale and the later nonzero readout wins.
    stack = noise.NoiseStack((noise.ReadoutNoise(0.05, 0.02), model))
    assert noise.scale(stack, 2).models == (
        noise.ReadoutNoise(0.1, 0.04),
        BitFlipAfterGates(0.04, 0.02),
    )
    assert noise.readout_errors(stack, q)[q[0]] == (0.01, 0.0)
    assert noise.scale(Foreign(0.01), 4).p == pytest.approx(0.04)


def test_defaults_refuse_to_scale_report_no_readout_and_twirl():
    q = cirq.LineQubit(0)
    with pytest.raises(TypeError, match="Silent.*defines no scaled"):
        noise.scale(Silent(), 2.0)
    with pytest.raises(TypeError, match="any model with a scaled"):
        noise.scale(cirq.ConstantQubitNoiseModel(cirq.depolarize(0.01)), 2.0)
    assert noise.readout_errors(Silent(), [q]) == {q: (0.0, 0.0)}
    converted = noise.to_tfq_compatible(BitFlipAfterGates(0.02))
    assert isinstance(converted, noise.TwirledNoise)
    circuit = cirq.Circuit(cirq.X(q), cirq.Y(q))
    noisy = circuit.with_noise(converted)
    assert noise.uses_only_tfq_channels(noisy)
    # A bit flip is already one of TFQ's channels: the converted model is the same channel.
    simulator = cirq.DensityMatrixSimulator()
    expected = simulator.simulate(circuit.with_noise(BitFlipAfterGates(0.02)))
    np.testing.assert_allclose(
        simulator.simulate(noisy).final_density_matrix, expected.final_density_matrix, atol=1e-7
    )
    assert expected.final_density_matrix[0, 0].real == pytest.approx(0.98**2 + 0.02**2, abs=1e-6)


def test_library_models_answer_the_protocol_themselves():
    q = cirq.LineQubit.range(2)
    depolarizing = noise.DepolarizingNoise(0.001, 0.01)
    assert depolarizing.scaled(2) == noise.DepolarizingNoise(0.002, 0.02)
    assert depolarizing.tfq_compatible().two_qubit_local
    thermal = noise.ThermalNoise(20.0, 30.0)
    assert thermal.scaled(2) == noise.ThermalNoise(10.0, 15.0)
    assert thermal.tfq_compatible() is thermal
    readout = noise.ReadoutNoise(0.02, 0.05, {q[1]: (0.1, 0.2)})
    assert readout.readout_errors(q) == {q[0]: (0.02, 0.05), q[1]: (0.1, 0.2)}
    calibrated = noise.calibrated_noise("weber")
    some = sorted(calibrated.readout)[:2]
    half = calibrated.scaled(0.5).readout_errors(some)
    for qubit in some:
        np.testing.assert_allclose(half[qubit], np.asarray(calibrated.readout[qubit]) * 0.5)
