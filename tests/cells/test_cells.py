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
    assert _built(QKLSTMCell(3, variant="fixed")).count_params() == 28 + 15 + 4 * 4 * 4
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
                ref = _state(
                    feature_map, dict(zip(map(str, data), refs[gate, j], strict=True)), qubits
                )
                expected = abs(np.vdot(ref, psi)) ** 2
                assert k[gate, row, j] == pytest.approx(expected, abs=2e-5)
    assert np.abs(k[:, 0] - k[:, 1]).max() > 1e-2  # different inputs, different features
    assert np.all((k > -1e-5) & (k < 1 + 1e-5))


def _kernel_reference(y, references):
    """Independent float64 Cirq value of the fixed kernel features, (4, B, m) like the cell."""
    qubits = cirq.LineQubit.range(4)
    data = circuits.symbols("v", 4)
    feature_map = circuits.kernel_feature_map(qubits, data)
    simulator = cirq.Simulator(dtype=np.complex128)

    def state(x):
        resolver = dict(zip(map(str, data), np.cos(np.square(x)), strict=True))
        return simulator.simulate(feature_map, resolver, qubit_order=qubits).final_state_vector

    psi = np.array([state(row) for row in y])  # (B, 16)
    refs = np.array([[state(r) for r in gate] for gate in references])  # (4, m, 16)
    return np.abs(np.einsum("gjs,bs->gbj", refs.conj(), psi)) ** 2


def test_fixed_kernel_value_and_gradients_match_cirq_finite_differences():
    cell = _built(QKLSTMCell(3, variant="fixed", seed=5))
    rng = np.random.default_rng(7)
    y0 = rng.uniform(-1.5, 1.5, (2, 4)).astype(np.float32).astype(np.float64)
    r0 = cell.references.numpy().astype(np.float64)
    weights = rng.normal(size=(4, 2, 4))  # a random linear read-out of all features

    y = tf.constant(y0, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(y)
        k = cell.kernel_features(y)
        loss = tf.reduce_sum(tf.constant(weights, tf.float32) * k)
    grad_y, grad_r = tape.gradient(loss, [y, cell.references])
    np.testing.assert_allclose(k.numpy(), _kernel_reference(y0, r0), atol=1e-5)

    def loss_np(y_, r_):
        return float(np.sum(weights * _kernel_reference(y_, r_)))

    eps = 1e-5
    for index in np.ndindex(*y0.shape):  # every entry of y
        up, down = y0.copy(), y0.copy()
        up[index] += eps
        down[index] -= eps
        numeric = (loss_np(up, r0) - loss_np(down, r0)) / (2 * eps)
        assert grad_y.numpy()[index] == pytest.approx(numeric, rel=1e-4, abs=1e-4)
    for index in [(0, 0, 0), (0, 3, 2), (1, 1, 1), (2, 2, 3), (3, 0, 2), (3, 3, 0)]:
        up, down = r0.copy(), r0.copy()
        up[index] += eps
        down[index] -= eps
        numeric = (loss_np(y0, up) - loss_np(y0, down)) / (2 * eps)
        assert grad_r.numpy()[index] == pytest.approx(numeric, rel=1e-4, abs=1e-4)
    assert np.abs(grad_y.numpy()).max() > 1e-2
    assert np.abs(grad_r.numpy()).max() > 1e-2


def _tfq_inner_products(function, *args) -> int:
    graph = function.get_concrete_function(*args).graph
    return sum(op.type == "TfqInnerProduct" for op in graph.get_operations())


def test_fixed_kernel_in_tf_function_any_batch_and_rollout_scope_shares_references():
    cell = _built(QKLSTMCell(3, variant="fixed", seed=2))
    spec = tf.TensorSpec([None, 4], tf.float32)
    features = tf.function(cell.kernel_features, input_signature=[spec])
    for batch in (1, 3, 6):
        y = tf.random.stateless_uniform((batch, 4), seed=(batch, 1), minval=-2, maxval=2)
        np.testing.assert_allclose(
            features(y).numpy(), _kernel_reference(y.numpy(), cell.references.numpy()), atol=1e-5
        )

    def two_steps(y):  # two cell steps, with and without the scope
        with tf.GradientTape() as tape:
            k = cell.kernel_features(y) + 2 * cell.kernel_features(y[::-1])
            loss = tf.reduce_sum(tf.sin(k))
        return k, tape.gradient(loss, cell.references)

    def scoped(y):
        with tf.GradientTape() as tape, cell.rollout_scope():
            k = cell.kernel_features(y) + 2 * cell.kernel_features(y[::-1])
            loss = tf.reduce_sum(tf.sin(k))
        return k, tape.gradient(loss, cell.references)

    plain, shared = tf.function(two_steps), tf.function(scoped)
    y = tf.random.stateless_uniform((3, 4), seed=(4, 2), minval=-2, maxval=2)
    for a, b in zip(plain(y), shared(y), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    # forward ops: references + data per step, references once inside the scope
    assert _tfq_inner_products(plain, y) == 4
    assert _tfq_inner_products(shared, y) == 3
    assert cell._rollout_cache.states is None  # the scope leaves nothing behind


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


@pytest.mark.parametrize(
    "cls, extra",
    [
        (LSTMCell, {"double_bias": False}),
        (QLSTMCell, {"circuit_backend": "tf", "n_qubits": 3, "n_layers": 2}),
        (QKLSTMCell, {"circuit_backend": "tf", "n_qubits": 3, "n_references": 2}),
        (QFWPCell, {"circuit_backend": "tf", "n_qubits": 3, "n_layers": 2}),
    ],
)
def test_config_holds_every_constructor_argument(cls, extra):
    config = cls(3, variant="paper", seed=7, **extra).get_config()
    assert {k: config[k] for k in ("units", "variant", "seed", *extra)} == {
        "units": 3,
        "variant": "paper",
        "seed": 7,
        **extra,
    }


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="variant"):
        QKLSTMCell(3, variant="broken")
    with pytest.raises(ValueError, match="units"):
        LSTMCell(0)
    with pytest.raises(ValueError, match="model"):
        build_cell("gru")
    # 0 is refused, not read as "the default" (None is the default).
    with pytest.raises(ValueError, match="n_references must be >= 1"):
        QKLSTMCell(3, n_references=0)
    with pytest.raises(ValueError, match="n_layers must be >= 1"):
        QFWPCell(2, n_qubits=0)


def test_meta_optimizer_rollout_prepares_qk_references_once():
    from qaoa_meta.meta import MetaConfig, MetaOptimizer, encode_problems
    from qaoa_meta.problems import MaxCutProblem

    config = MetaConfig(model="qk-lstm", variant="fixed", steps=3, seed=4)
    model = MetaOptimizer(config)
    problem = MaxCutProblem.from_edge_list([(0, 1), (1, 2), (2, 0)])
    batch = {k: tf.constant(v) for k, v in encode_problems([problem], config).items()}
    rollout = tf.function(lambda b: model.rollout_tensors(b).cost)
    assert _tfq_inner_products(rollout, batch) == config.steps + 1


CIRCUIT_MAKERS = {
    "qlstm": lambda q, x, w: circuits.qlstm_vqc(q, x, w),
    "qfwp": lambda q, x, w: circuits.fwp_vqc(q, x, w),
    "kernel": lambda q, x, w: circuits.fidelity_kernel_circuit(q, x, list(w.ravel())),
    "paper-kernel": lambda q, x, w: circuits.paper_kernel_circuit(q, x),
}


@pytest.mark.parametrize("kind", sorted(CIRCUIT_MAKERS))
def test_tf_circuit_backend_matches_cirq_states_and_finite_differences(kind):
    qubits = cirq.LineQubit.range(4)
    inputs = circuits.symbols("x", 4)
    weights = np.array(circuits.symbols("w", 4)).reshape(1, 4)
    circuit = CIRCUIT_MAKERS[kind](qubits, inputs, weights)
    names = inputs + list(weights.ravel())
    simulator = circuits.StateVectorCircuit(circuit, names, qubits)
    values = np.random.default_rng(7).uniform(-2, 2, size=(3, len(names)))
    states = simulator.states(values).numpy()

    def cirq_state(row):
        resolver = dict(zip([str(s) for s in names], row, strict=True))
        resolved = cirq.resolve_parameters(circuit, resolver)
        return cirq.final_state_vector(resolved, qubit_order=qubits, dtype=np.complex128)

    for row, state in zip(values, states, strict=True):
        np.testing.assert_allclose(state, cirq_state(row), atol=2e-6)
    # Gradient of sum_i w_i <Z_i> (autodiff through the TF ops) vs central differences.
    signs = 1.0 - 2.0 * ((np.arange(16)[:, None] >> (3 - np.arange(4))) & 1)
    weights_z = np.array([0.3, -1.0, 0.7, 0.2])

    def objective(row):
        return float(np.abs(cirq_state(row)) ** 2 @ signs @ weights_z)

    point = tf.Variable(values[:1].astype(np.float32))
    with tf.GradientTape() as tape:
        z = simulator.z_expectations(point)
        total = tf.reduce_sum(z * weights_z.astype(np.float32))
    gradient = tape.gradient(total, point).numpy()[0]
    step = 1e-5
    reference = [
        (objective(values[0] + step * e) - objective(values[0] - step * e)) / (2 * step)
        for e in np.eye(len(names))
    ]
    np.testing.assert_allclose(gradient, reference, atol=2e-5)


def test_tf_and_tfq_circuit_backends_give_the_same_cells():
    x = tf.constant(np.random.default_rng(3).uniform(-1, 1, (4, 3)).astype(np.float32))
    for model in ("qlstm", "qk-lstm", "qfwp"):
        for variant in ("paper", "fixed"):
            cells = [build_cell(model, 1, variant, 4, 5, circuit_backend=b) for b in ("tfq", "tf")]
            for cell in cells:
                cell.build((None, 3))
            cells[1].set_weights(cells[0].get_weights())
            outputs = [cell(x, cell.get_initial_state(batch_size=4))[0].numpy() for cell in cells]
            np.testing.assert_allclose(outputs[0], outputs[1], atol=2e-6)
            assert cells[1].get_config()["circuit_backend"] == "tf"


def test_tf_circuit_backend_refuses_unsupported_circuits():
    q = cirq.LineQubit.range(2)
    a, b = circuits.symbols("a", 2)
    with pytest.raises(ValueError, match="linear"):
        circuits.StateVectorCircuit(cirq.Circuit(cirq.rx(a * b).on(q[0])), [a, b], q)
    with pytest.raises(ValueError, match="circuit backend"):
        build_cell("qlstm", circuit_backend="qsim")


def test_unknown_names_are_refused_with_the_choices_and_their_meaning():
    with pytest.raises(ValueError) as variant:
        build_cell("lstm", variant="pytorch")
    assert str(variant.value) == (
        "Unknown cell variant 'pytorch'; expected one of ('paper', 'fixed') ('paper' reproduces "
        "the published code, 'fixed' is the model as the paper describes it)."
    )
    with pytest.raises(ValueError) as backend:
        circuits.check_circuit_backend("qsim")
    assert str(backend.value) == (
        "Unknown circuit backend 'qsim'; expected one of ('tfq', 'tf') ('tfq': TensorFlow "
        "Quantum ops; 'tf': the same circuit as XLA-compilable TF ops)."
    )


def test_batched_amplitudes_default_register_is_the_circuits_sorted_qubits():
    qubits = cirq.LineQubit.range(3)
    angles = circuits.symbols("v", 3)
    feature_map = circuits.kernel_feature_map(qubits, angles)
    values = np.random.default_rng(5).uniform(-1, 1, (2, 3))
    for backend in ("tfq", "tf"):
        given = circuits.BatchedAmplitudes(feature_map, angles, qubits, backend=backend)
        default = circuits.BatchedAmplitudes(feature_map, angles, backend=backend)
        assert default.qubits == qubits
        np.testing.assert_allclose(default(values).numpy(), given(values).numpy(), atol=1e-6)
