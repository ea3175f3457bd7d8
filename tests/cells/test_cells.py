"""Tests of the meta-learner cells against independent Cirq computations."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qaoa_meta._tf import keras, tf
from qaoa_meta.cells import (
    MODELS,
    LSTMCell,
    QFWPCell,
    QKLSTMCell,
    QLSTMCell,
    build_cell,
    circuits,
)
from qaoa_meta.cells.qk_lstm import kernel_angles

CASES = [(model, variant) for model in MODELS for variant in ("paper", "fixed")]


def _built(cell, input_dim=3):
    cell.build((None, input_dim))
    return cell


@pytest.mark.parametrize("model,variant", CASES)
def test_output_and_state_shapes(model, variant):
    cell = _built(build_cell(model, p=1, variant=variant, seed=3))
    inputs = tf.random.stateless_normal((5, 3), seed=(1, 2))
    states = cell.get_initial_state(batch_size=5)
    output, new_states = cell(inputs, states)
    assert output.shape == (5, cell.output_size)
    sizes = cell.state_size if isinstance(cell.state_size, list) else [cell.state_size]
    assert [tuple(s.shape) for s in new_states] == [(5, size) for size in sizes]
    assert np.all(np.isfinite(output.numpy()))


@pytest.mark.parametrize("p,units", [(1, 2), (2, 4)])
def test_depth_sets_output_size(p, units):
    assert build_cell("lstm", p=p).output_size == units
    assert build_cell("qk-lstm", p=p).output_size == units + 1
    assert build_cell("qfwp", p=p).output_size == units


def test_paper_parameter_counts():
    assert _built(LSTMCell(2, double_bias=True)).count_params() == 56
    assert _built(LSTMCell(2, double_bias=False)).count_params() == 48
    assert _built(QKLSTMCell(3, variant="paper")).count_params() == 28 + 15
    assert _built(QFWPCell(2, variant="paper")).count_params() == 31
    qlstm = _built(QLSTMCell(3, variant="paper"))
    assert sum(int(np.prod(w.shape)) for w in qlstm.trainable_weights) == 43
    assert sum(int(np.prod(w.shape)) for w in qlstm.non_trainable_weights) == 16
    fixed = _built(QLSTMCell(3, variant="fixed"))
    assert sum(int(np.prod(w.shape)) for w in fixed.trainable_weights) == 59


def test_lstm_matches_numpy_pytorch_equations():
    cell = _built(LSTMCell(2, seed=5))
    x = np.array([[0.3, -0.2, 0.7]], np.float32)
    h0 = np.array([[0.1, -0.4]], np.float32)
    c0 = np.array([[0.5, 0.2]], np.float32)
    out, (h, c) = cell(x, [h0, c0])
    w, r, b, b2 = (v.numpy() for v in cell.weights)
    z = x @ w + h0 @ r + b + b2
    i, f, g, o = np.split(z, 4, axis=1)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    c_ref = sig(f) * c0 + sig(i) * np.tanh(g)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=1e-5)
    np.testing.assert_allclose(out.numpy(), sig(o) * np.tanh(c_ref), rtol=1e-5)


def _state(circuit, resolver, qubits):
    return cirq.Simulator().simulate(circuit, resolver, qubit_order=qubits).final_state_vector


def test_fixed_kernel_is_fidelity_and_depends_on_input():
    cell = _built(QKLSTMCell(3, variant="fixed", seed=11))
    qubits = cirq.LineQubit.range(4)
    data = circuits.symbols("v", 4)
    feature_map = circuits.kernel_feature_map(qubits, data)
    y = np.array([[0.3, -1.1, 0.8, 0.05], [1.2, 0.4, -0.6, 0.9]], np.float32)
    k = cell.kernel_features(tf.constant(y)).numpy()  # (4 gates, B, refs)
    refs = kernel_angles(cell.references).numpy()
    phi = kernel_angles(tf.constant(y)).numpy()
    for gate in range(4):
        for row in range(2):
            psi = _state(feature_map, dict(zip(map(str, data), phi[row], strict=True)), qubits)
            for j in range(4):
                ref = _state(feature_map, dict(zip(map(str, data), refs[gate, j], strict=True)), qubits)
                expected = abs(np.vdot(ref, psi)) ** 2
                assert k[gate, row, j] == pytest.approx(expected, abs=2e-5)
    assert np.abs(k[:, 0] - k[:, 1]).max() > 1e-2  # different inputs, different features
    assert np.all((k > -1e-5) & (k < 1 + 1e-5))


def test_paper_kernel_is_identity_so_features_are_one():
    cell = _built(QKLSTMCell(3, variant="paper"))
    y = tf.random.stateless_uniform((6, 4), seed=(3, 4), minval=-3, maxval=3)
    k = cell.kernel_features(y).numpy()
    np.testing.assert_allclose(k, 1.0, atol=1e-5)
    unitary = cirq.unitary(
        cirq.resolve_parameters(cell.circuit, {f"v_{i}": 0.37 * (i + 1) for i in range(4)})
    )
    np.testing.assert_allclose(unitary, np.eye(16), atol=1e-6)


def test_qlstm_gates_match_cirq():
    cell = _built(QLSTMCell(3, variant="fixed", seed=2))
    qubits = cirq.LineQubit.range(4)
    y = np.array([[0.2, -0.9, 1.4, 0.6]], np.float32)
    z = cell.gate_expectations(tf.constant(y)).numpy()
    weights = cell.vqc_weights.numpy()
    for gate in range(4):
        resolver = {f"x_{i}": y[0, i] for i in range(4)}
        resolver.update({f"w_{i}": weights[gate, i] for i in range(4)})
        psi = _state(cell.circuit, resolver, qubits)
        expected = [
            cirq.Z(q).expectation_from_state_vector(psi, {q: i for i, q in enumerate(qubits)}).real
            for q in qubits
        ]
        np.testing.assert_allclose(z[gate, 0], expected, atol=2e-5)


def test_qfwp_paper_is_memoryless_fixed_accumulates():
    x = tf.constant([[0.4, -0.3, 0.2]])
    for variant, same in (("paper", True), ("fixed", False)):
        cell = _built(QFWPCell(2, variant=variant, seed=4))
        zero = cell.get_initial_state(batch_size=1)
        out_a, _ = cell(x, zero)
        out_b, _ = cell(x, [tf.ones_like(zero[0])])
        assert np.allclose(out_a.numpy(), out_b.numpy()) == same


def test_fixed_qk_cell_gradient_matches_finite_difference():
    cell = _built(QKLSTMCell(3, variant="fixed", seed=8))
    x = tf.constant([[0.5, -0.4, 0.3]])
    states = cell.get_initial_state(batch_size=1)

    def value():
        return tf.reduce_sum(cell(x, states)[0] * tf.constant([1.0, -2.0, 0.5]))

    with tf.GradientTape() as tape:
        out = value()
    grad = tape.gradient(out, cell.references).numpy()
    eps = 5e-3
    for index in [(0, 0, 0), (2, 1, 3), (3, 3, 1)]:
        base = cell.references.numpy()
        shifted = []
        for sign in (1, -1):
            moved = base.copy()
            moved[index] += sign * eps
            cell.references.assign(moved)
            shifted.append(float(value()))
        cell.references.assign(base)
        numeric = (shifted[0] - shifted[1]) / (2 * eps)
        assert grad[index] == pytest.approx(numeric, abs=2e-3, rel=5e-2)
    assert np.abs(grad).max() > 1e-4


def test_cells_work_in_keras_rnn_and_config_round_trip():
    cell = build_cell("qk-lstm", variant="fixed", seed=1)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    out = rnn(tf.random.stateless_normal((2, 4, 3), seed=(5, 6)))
    assert out.shape == (2, 4, 3)
    for cls, kwargs in (
        (LSTMCell, {"units": 2}),
        (QLSTMCell, {"units": 3, "variant": "paper"}),
        (QKLSTMCell, {"units": 3, "n_references": 2}),
        (QFWPCell, {"units": 2, "n_layers": 2}),
    ):
        cell = cls(**kwargs, seed=9)
        clone = cls.from_config(cell.get_config())
        assert clone.get_config() == cell.get_config()


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="variant"):
        QKLSTMCell(3, variant="broken")
    with pytest.raises(ValueError, match="units"):
        LSTMCell(0)
    with pytest.raises(ValueError, match="model"):
        build_cell("gru")
