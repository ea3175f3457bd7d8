"""The exact noisy energy's NumPy engine: values against Cirq, adjoint gradient in float64."""

from __future__ import annotations

import numpy as np
import pytest

from qaoa_meta.meta import MetaConfig
from qaoa_meta.noisy import NoisySetup
from qaoa_meta.problems import generate


@pytest.fixture(scope="module")
def encoded():
    from qaoa_meta.noise_aware import encode_noisy
    from qaoa_meta.noisy_exact import ExactNoisyEnergy

    problems = [generate("erdos_renyi", 3, 3, p=1.0), generate("random_regular", 6, 1, d=3)]
    setup = NoisySetup(
        device="grid:2x3",
        gateset="sqrt_iswap",
        noise="depolarizing:0.01,0.03+thermal:20,30+readout:0.02,0.05",
    )
    data = encode_noisy(problems, MetaConfig(model="lstm", p=2, steps=2), setup)
    return data, ExactNoisyEnergy(data, p=2, dtype=np.complex128)


def test_values_match_cirq_density_matrix(encoded):
    import cirq

    from qaoa_meta._tf import tfq

    data, energy = encoded
    theta = np.array([[0.4, -0.3, 0.2, 0.6], [0.1, 0.5, -0.4, 0.3]])
    index = np.array([0, 1])
    values, gradient = energy.value_and_gradient(index, theta, with_gradient=False)
    assert gradient is None
    circuits = tfq.from_tensor(data["noisy_circuit"])
    operators = tfq.from_tensor(data["noisy_operator"])
    names = ["gamma_1", "gamma_2", "beta_1", "beta_2"]
    for value, row, angles in zip(values, index, theta, strict=True):
        circuit = cirq.resolve_parameters(circuits[row], dict(zip(names, angles, strict=True)))
        qubits = sorted(circuit.all_qubits())
        rho = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate(circuit, qubit_order=qubits)
        reference = operators[row][0].expectation_from_density_matrix(
            rho.final_density_matrix, {q: i for i, q in enumerate(qubits)}
        )
        assert value == pytest.approx(reference.real, abs=1e-6)


def test_adjoint_gradient_matches_central_differences_in_float64(encoded):
    _, energy = encoded
    rng = np.random.default_rng(7)
    index = np.array([1, 0, 1])
    theta = rng.uniform(-1, 1, size=(3, 4))
    values, gradient = energy.value_and_gradient(index, theta)
    again, _ = energy.value_and_gradient(index, theta, with_gradient=False)
    np.testing.assert_array_equal(values, again)  # the gradient pass leaves values alone
    step = 1e-5
    for j in range(4):
        shift = np.zeros_like(theta)
        shift[:, j] = step
        up, _ = energy.value_and_gradient(index, theta + shift, with_gradient=False)
        down, _ = energy.value_and_gradient(index, theta - shift, with_gradient=False)
        np.testing.assert_allclose(gradient[:, j], (up - down) / (2 * step), atol=1e-7)
    assert np.abs(gradient).max() > 1e-2  # not a vanishing gradient


def test_tensorflow_gradient_and_bad_index(encoded):
    from qaoa_meta._tf import tf

    data, energy = encoded
    theta = tf.Variable([[0.3, 0.1, 0.2, -0.5], [0.2, -0.2, 0.4, 0.1]], dtype=tf.float32)
    batch = {"problem_index": tf.constant([1, 0]), "offset": tf.constant(data["offset"][[1, 0]])}
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(tf.constant([2.0, -1.0]) * energy(batch, theta))
    gradient = tape.gradient(total, theta).numpy()
    _, reference = energy.value_and_gradient(np.array([1, 0]), theta.numpy())
    np.testing.assert_allclose(gradient, np.array([[2.0], [-1.0]]) * reference, atol=1e-5)
    with pytest.raises(ValueError, match=r"problem indices in \[0, 2\)"):
        energy.value_and_gradient(np.array([2]), np.zeros((1, 4)))


def test_complex64_default_agrees_with_complex128(encoded):
    from qaoa_meta.noisy_exact import ExactNoisyEnergy

    data, exact = encoded
    fast = ExactNoisyEnergy(data, p=2)  # complex64
    index = np.array([0, 1, 1])
    theta = np.random.default_rng(3).uniform(-1, 1, size=(3, 4))
    values, gradient = fast.value_and_gradient(index, theta)
    reference, reference_gradient = exact.value_and_gradient(index, theta)
    np.testing.assert_allclose(values, reference, atol=2e-5)
    np.testing.assert_allclose(gradient, reference_gradient, atol=2e-5)


def test_density_matrix_products_run_on_one_blas_thread_and_restore_the_pool(encoded, monkeypatch):
    import threadpoolctl

    from qaoa_meta import noisy_exact

    data, energy = encoded
    seen = []
    original = noisy_exact._Program.value_and_gradient

    def spy(self, theta, with_gradient=True):
        seen.extend(
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        )
        return original(self, theta, with_gradient)

    monkeypatch.setattr(noisy_exact._Program, "value_and_gradient", spy)
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    energy.value_and_gradient(np.array([0, 1]), np.zeros((2, 4)))
    assert seen and set(seen) == {1}
    after = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert after == before
