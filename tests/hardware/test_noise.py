import cirq
import networkx as nx
import numpy as np
import pytest
from hw_helpers import cut_diagonal, import_tfq, qaoa_like

import hardware
from hardware import noise as hn
from hardware.simulate import density_matrix_probabilities


def _dm_probs(circuit, model, qubits):
    return density_matrix_probabilities(circuit, noise=model, qubits=qubits)


@pytest.mark.parametrize(
    "make",
    [
        lambda: hn.DepolarizingNoise(-0.1, 0.0),
        lambda: hn.DepolarizingNoise(0.0, 1.2),
        lambda: hn.ReadoutNoise(0.6, 0.6),
        lambda: hn.ReadoutNoise(0.1, -0.01),
        lambda: hn.ThermalNoise(10, 25),
        lambda: hn.noise_from_spec("depolarizing:0.5"),
        lambda: hn.noise_from_spec("bogus:1,2"),
    ],
)
def test_bad_noise_parameters_fail_clearly(make):
    with pytest.raises(ValueError):
        make()


def test_amplitude_damping_matches_t1_decay_and_ramsey_matches_t2():
    """|1> population decays as exp(-t/T1); |+> coherence as exp(-t/T2) (analytic references)."""
    q = cirq.GridQubit(0, 0)
    model = hn.ThermalNoise(t1_us=2.0, t2_us=3.0, gate_ns_1q=25.0)
    steps = 40
    idle = [
        cirq.Moment(cirq.PhasedXZGate(x_exponent=0, z_exponent=0, axis_phase_exponent=0).on(q))
    ] * steps
    t_ns = 25.0 * steps
    sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
    # X then idle gates (identity-valued PhasedXZ): population of |1>.
    rho = sim.simulate(
        cirq.Circuit([cirq.Moment(cirq.X(q))] + idle).with_noise(model)
    ).final_density_matrix
    assert rho[1, 1].real == pytest.approx(np.exp(-(t_ns + 25.0) / 2000.0), rel=1e-9)
    rho = sim.simulate(
        cirq.Circuit([cirq.Moment(cirq.H(q))] + idle).with_noise(model)
    ).final_density_matrix
    assert 2 * abs(rho[0, 1]) == pytest.approx(np.exp(-(t_ns + 25.0) / 3000.0), rel=1e-9)


def test_readout_channel_is_exact_confusion():
    q = cirq.GridQubit(0, 0)
    model = hn.ReadoutNoise(0.03, 0.11)
    p0 = _dm_probs(cirq.Circuit(cirq.I(q)), model, [q])
    p1 = _dm_probs(cirq.Circuit(cirq.X(q)), model, [q])
    assert p0[1] == pytest.approx(0.03) and p1[0] == pytest.approx(0.11)


def test_two_qubit_depolarising_reduces_zz_correlation_by_16p_over_15():
    a, b = cirq.GridQubit(0, 0), cirq.GridQubit(0, 1)
    p2 = 0.05
    circuit = cirq.Circuit(cirq.CZ(a, b))  # |00> -> <ZZ> = 1 without noise
    probs = _dm_probs(circuit, hn.DepolarizingNoise(0.0, p2), [a, b])
    zz = probs @ np.array([1, -1, -1, 1])
    assert zz == pytest.approx(1 - 16 * p2 / 15)


def test_scale_is_linear_in_error_rates_and_zero_is_noiseless():
    model = hn.noise_from_spec("depolarizing:0.002,0.01+thermal:30,40+readout:0.01,0.04")
    doubled = hn.scale(model, 2.0)
    dep, th, ro = doubled.models
    assert (dep.p1, dep.p2) == pytest.approx((0.004, 0.02))
    assert (th.t1_us, th.t2_us) == pytest.approx((15.0, 20.0))
    assert (ro.p01, ro.p10) == pytest.approx((0.02, 0.08))
    graph = nx.cycle_graph(4)
    qubits = cirq.GridQubit.rect(1, 4)
    circuit = cirq.resolve_parameters(qaoa_like(graph, 1, qubits), {"gamma_1": 0.5, "beta_1": 0.4})
    diag = cut_diagonal(4, [(u, v, 1.0) for u, v in graph.edges])
    clean = _dm_probs(circuit, None, qubits) @ diag
    energies = [_dm_probs(circuit, hn.scale(model, f), qubits) @ diag for f in (0.0, 1.0, 2.0)]
    assert energies[0] == pytest.approx(clean, abs=1e-9)
    assert clean > energies[1] > energies[2]
    with pytest.raises(ValueError, match="factor"):
        hn.scale(hn.DepolarizingNoise(0.3, 0.3), 5)


def _compiled_small(gateset="sqrt_iswap", device="weber"):
    graph = nx.cycle_graph(4)
    circuit = cirq.resolve_parameters(qaoa_like(graph, 1), {"gamma_1": 0.6, "beta_1": 0.3})
    compiled = hardware.compile_circuit(circuit, device, gateset)
    qubits = [compiled.final_map[q] for q in sorted(circuit.all_qubits())]
    edges = [(u, v, 1.0) for u, v in graph.edges]
    return hardware.to_device_form(compiled.circuit), qubits, edges


@pytest.mark.parametrize(
    "spec", ["depolarizing:0.003,0.02", "thermal:15,20+readout:0.02,0.05", "weber", "rainbow"]
)
def test_tfq_compatible_models_use_only_tfq_channels_and_stay_close(spec):
    """Approximation error of to_tfq_compatible on <C>, against the density-matrix reference."""
    device = spec if spec in ("weber", "rainbow") else "weber"
    circuit, qubits, edges = _compiled_small(device=device)
    model = hn.noise_from_spec(spec)
    approx = hn.to_tfq_compatible(model)
    noisy = circuit.with_noise(approx)
    assert hn.uses_only_tfq_channels(noisy)
    diag = cut_diagonal(len(qubits), edges)
    exact_e = _dm_probs(circuit, model, qubits) @ diag
    approx_e = _dm_probs(circuit, approx, qubits) @ diag
    clean_e = _dm_probs(circuit, None, qubits) @ diag
    # The approximation error is a small fraction of the noise effect itself.
    assert abs(approx_e - exact_e) <= 0.25 * abs(clean_e - exact_e) + 1e-9


def test_twirled_generic_model_keeps_pauli_channels_exact():
    a, b = cirq.GridQubit(0, 0), cirq.GridQubit(0, 1)
    circuit = cirq.Circuit(cirq.H(a), cirq.CZ(a, b), cirq.H(b))
    base = cirq.ConstantQubitNoiseModel(cirq.asymmetric_depolarize(0.01, 0.02, 0.03))
    twirled = hn.TwirledNoise(base)
    assert hn.uses_only_tfq_channels(circuit.with_noise(twirled))
    np.testing.assert_allclose(
        _dm_probs(circuit, twirled, [a, b]), _dm_probs(circuit, base, [a, b]), atol=1e-12
    )
    # Amplitude damping is refitted exactly.
    ad = cirq.ConstantQubitNoiseModel(cirq.KrausChannel(cirq.kraus(cirq.amplitude_damp(0.07))))
    np.testing.assert_allclose(
        _dm_probs(circuit, hn.TwirledNoise(ad), [a, b]), _dm_probs(circuit, ad, [a, b]), atol=1e-12
    )


def test_tfq_noisy_backend_agrees_with_density_matrix():
    """TFQ's noisy backend on the TFQ-compatible model matches cirq's density matrix."""
    _, tfq = import_tfq()

    qubits = cirq.GridQubit.rect(1, 3)
    graph = nx.path_graph(3)
    logical = cirq.resolve_parameters(qaoa_like(graph, 1, qubits), {"gamma_1": 0.7, "beta_1": 0.35})
    compiled = hardware.compile_circuit(logical, "grid:1x3", "cz")
    circuit = hardware.tfq_safe(compiled.circuit)
    model = hn.to_tfq_compatible(hn.noise_from_spec("depolarizing:0.01,0.04+thermal:5,6"))
    noisy = circuit.with_noise(model)
    final = [compiled.final_map[q] for q in qubits]
    op = cirq.Z(final[0]) * cirq.Z(final[1])
    reps = 3000
    out = tfq.noise.expectation(
        tfq.convert_to_tensor([noisy]),
        [],
        np.zeros((1, 0), dtype=np.float32),
        tfq.convert_to_tensor([[op]]),
        np.array([[reps]], dtype=np.int32),
    ).numpy()[0, 0]
    probs = _dm_probs(circuit, model, final)
    ref = probs @ np.kron(np.kron([1, -1], [1, -1]), [1, 1])
    assert out == pytest.approx(ref, abs=5 / np.sqrt(reps))


def test_twirled_model_keeps_tagged_circuit_ops_with_their_tags():
    """A tagged circuit op (e.g. a dynamical-decoupling pulse) is the circuit's, not noise."""
    q = cirq.LineQubit(0)
    tagged = cirq.H(q).with_tags("pulse")
    model = hn.TwirledNoise(hn.DepolarizingNoise(0.01, 0.02))
    ops = [op for moment in model.noisy_moment(cirq.Moment([tagged]), [q]) for op in moment]
    assert cirq.H(q) in ops  # kept (untagged, for TFQ), not twirled into a Pauli channel
    assert all(op == cirq.H(q) or isinstance(op.gate, hn.TFQ_CHANNELS) for op in ops)


@pytest.mark.parametrize("spec", ["+", " + ", "none*2", "none+readout:0.1,0.1"])
def test_noise_spec_without_noise_parts_is_refused(spec):
    with pytest.raises(ValueError, match="names no noise|'none' alone"):
        hn.noise_from_spec(spec)
