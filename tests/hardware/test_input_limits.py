"""Bad numbers and impossible sizes are refused before any simulation starts."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import sympy

from hardware.noise import DepolarizingNoise, ThermalNoise, noise_from_spec, scale
from hardware.simulate import check_memory, energy, memory_estimate, sample


def test_memory_estimate_counts_state_vectors():
    assert memory_estimate(10, "sampling") == 16 * 2**10
    assert memory_estimate(10, "density_matrix") == 32 * 4**10
    assert memory_estimate(10, "exact") == 16 * 2**10 + (8 * 10 + 16) * 2**10


def test_check_memory_compares_need_with_what_is_available():
    check_memory(20, "sampling", available=2**30)
    with pytest.raises(ValueError, match=r"needs about 16 TiB of memory but 1 GiB is available"):
        check_memory(40, "sampling", available=2**30)


@pytest.mark.parametrize("method", ["sampling", "exact"])
def test_a_40_qubit_simulation_fails_before_it_starts(method):
    """8 TiB or more: refused by the size check (no MemoryError, no segfault)."""
    qubits = cirq.LineQubit.range(40)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    edges = [(i, i + 1, 1.0) for i in range(39)]
    with pytest.raises(ValueError, match="of memory but"):
        energy(circuit, edges, method=method, shots=10)
    if method == "sampling":
        with pytest.raises(ValueError, match="40 qubits"):
            sample(circuit, 10)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_noise_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        ThermalNoise(bad, 30.0)
    with pytest.raises(ValueError, match="finite"):
        ThermalNoise(20.0, bad)
    with pytest.raises(ValueError, match="finite"):
        DepolarizingNoise(bad, 0.01)
    with pytest.raises(ValueError, match="finite"):
        scale(DepolarizingNoise(0.001, 0.01), bad)


@pytest.mark.parametrize(
    "spec", ["thermal:20,30*nan", "thermal:nan,30", "depolarizing:0.1,inf", "readout:0.1,0.1*inf"]
)
def test_non_finite_noise_specs_are_refused(spec):
    with pytest.raises(ValueError, match="finite"):
        noise_from_spec(spec)


def test_non_finite_angles_are_refused_before_simulating():
    q = cirq.LineQubit.range(2)
    gamma = cirq.Circuit(cirq.H.on_each(*q), cirq.ZZ(*q) ** sympy.Symbol("g"))
    with pytest.raises(ValueError, match="finite"):
        energy(gamma, [(0, 1, 1.0)], resolver={"g": np.nan})
