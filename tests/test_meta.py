"""Tests of the learning-to-learn rollout, meta-losses, training loop and persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qaoa_meta import qaoa
from qaoa_meta._tf import keras, tf
from qaoa_meta.energy import Energy
from qaoa_meta.meta import MetaConfig, MetaOptimizer, encode_problems, make_dataset, meta_loss
from qaoa_meta.problems import erdos_renyi, load_paper_dataset
from qaoa_meta.training import JsonHistory, PlateauScheduler, TimeBudget


def _problems(count, sizes=(4, 5, 6), seed=0):
    rng = np.random.default_rng(seed)
    return [erdos_renyi(sizes[i % len(sizes)], 0.6, rng, name=f"g{i}") for i in range(count)]


def _batch(problems, config):
    return {k: tf.constant(v) for k, v in encode_problems(problems, config).items()}


def test_config_json_round_trip_and_validation():
    config = MetaConfig(model="qfwp", variant="paper", p=2, loss="final", graph_features=True)
    assert MetaConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="loss"):
        MetaConfig(loss="mse")
    with pytest.raises(ValueError, match="steps"):
        MetaConfig(steps=0)
    with pytest.raises(ValueError, match="identity"):
        MetaOptimizer(MetaConfig(model="qk-lstm", mapping="identity"))


def test_meta_losses_match_hand_computation():
    costs = np.array([[-1.0, -3.0, -2.0, -4.0]], np.float32)
    weighted = (0.1 * -1 + 0.2 * -3 + 0.3 * -2 + 0.4 * -4) / 4
    improvement = (min(-3 - -1, 0) + min(-2 - -3, 0) + min(-4 - -3, 0)) / 4
    assert float(meta_loss(costs, "weighted")[0]) == pytest.approx(weighted)
    assert float(meta_loss(costs, "observed_improvement")[0]) == pytest.approx(improvement)
    assert float(meta_loss(costs, "final")[0]) == pytest.approx(-4.0)


@pytest.mark.parametrize("p", [1, 2])
def test_rollout_shapes_conventions_and_energies(p):
    problems = _problems(3)
    model = MetaOptimizer(MetaConfig(model="lstm", p=p, steps=4, seed=1))
    result = model.rollout(problems)
    assert result.theta.shape == (3, 4, 2 * p)
    assert result.cost.shape == result.expectation.shape == (3, 4)
    np.testing.assert_allclose(result.cost, -result.expectation)
    # Independent check: the exact float64 energy of each problem at the reported textbook θ.
    for i, problem in enumerate(problems):
        energy = Energy([problem], p=p, dtype=tf.float64)
        expected = energy(result.theta[i].astype(np.float64)).numpy()
        np.testing.assert_allclose(result.expectation[i], expected, rtol=1e-4, atol=1e-4)
    # The cell's raw output is PennyLane's (γ_PL, α); the rollout reports textbook θ.
    raw = model.rollout_tensors(_batch(problems, model.config)).params.numpy()
    np.testing.assert_allclose(result.theta, qaoa.pennylane_to_textbook(raw), rtol=1e-6)


def test_tfq_backend_agrees_with_exact():
    problems = _problems(3)
    exact = MetaOptimizer(MetaConfig(model="qfwp", variant="fixed", steps=3, seed=2))
    tfq_model = MetaOptimizer(
        MetaConfig(model="qfwp", variant="fixed", steps=3, seed=2, backend="tfq")
    )
    a, b = exact.rollout(problems), tfq_model.rollout(problems)
    np.testing.assert_allclose(a.expectation, b.expectation, atol=2e-4)


MODEL_CASES = [(m, v) for m in ("lstm", "qlstm", "qk-lstm", "qfwp") for v in ("paper", "fixed")]


@pytest.mark.parametrize("model_name,variant", MODEL_CASES)
def test_meta_gradients_finite_and_nonzero_where_expected(model_name, variant):
    config = MetaConfig(model=model_name, variant=variant, steps=3, seed=5)
    model = MetaOptimizer(config)
    batch = _batch(_problems(2), config)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        costs = model.rollout_tensors(batch, training=True).cost
        loss = tf.reduce_mean(meta_loss(costs, "weighted"))
    grads = tape.gradient(loss, variables)
    dead_ids = set()
    if model_name == "qk-lstm" and variant == "paper":
        dead_ids = {id(v) for v in model.cell.clayer_in.trainable_variables}
    for var, grad in zip(variables, grads, strict=True):
        dead = id(var) in dead_ids
        if dead:  # the published identity kernel ignores its input: exactly zero gradient
            assert grad is None or not np.any(grad.numpy())
            continue
        assert grad is not None, var.name
        values = grad.numpy()
        assert np.all(np.isfinite(values)), var.name
        assert np.abs(values).max() > 0, var.name
    if model_name == "qlstm":
        names = [v.name for v in variables]
        assert any("vqc_weights" in n for n in names) == (variant == "fixed")


def test_paper_qk_lstm_emits_the_same_schedule_for_every_graph():
    model = MetaOptimizer(MetaConfig(model="qk-lstm", variant="paper", steps=4, seed=3))
    result = model.rollout(_problems(4, sizes=(4, 6, 7)))
    np.testing.assert_allclose(
        result.theta, np.broadcast_to(result.theta[:1], result.theta.shape), atol=1e-5
    )
    fixed = MetaOptimizer(MetaConfig(model="qk-lstm", variant="fixed", steps=2, seed=3))
    theta = fixed.rollout(_problems(4, sizes=(4, 6, 7))).theta
    assert np.abs(theta[:, 1:] - theta[:1, 1:]).max() > 1e-4


def test_meta_gradient_matches_finite_difference():
    config = MetaConfig(model="lstm", steps=3, seed=4)
    model = MetaOptimizer(config)
    batch = _batch(_problems(2), config)
    bias = model.cell.bias

    def loss():
        return float(tf.reduce_mean(meta_loss(model.rollout_tensors(batch).cost, "weighted")))

    with tf.GradientTape() as tape:
        value = tf.reduce_mean(meta_loss(model.rollout_tensors(batch).cost, "weighted"))
    grad = tape.gradient(value, bias).numpy()
    base, eps = bias.numpy(), 1e-2
    for index in (0, 5):
        plus, minus = base.copy(), base.copy()
        plus[index] += eps
        minus[index] -= eps
        bias.assign(plus)
        up = loss()
        bias.assign(minus)
        down = loss()
        bias.assign(base)
        assert grad[index] == pytest.approx((up - down) / (2 * eps), rel=0.05, abs=2e-4)


def test_training_lowers_held_out_meta_loss():
    config = MetaConfig(model="qfwp", variant="fixed", steps=5, seed=7, validation_loss="meta")
    train, held_out = _problems(24, seed=1), _problems(8, seed=2)
    model = MetaOptimizer(config)
    model.compile(lr_sequence=0.03, lr_mapping=0.03, steps_per_execution=8)
    val = make_dataset(held_out, config, batch_size=8)
    before = model.evaluate(val, verbose=0, return_dict=True)["meta_loss"]
    model.fit(make_dataset(train, config, batch_size=4), epochs=4, verbose=0)
    after = model.evaluate(val, verbose=0, return_dict=True)["meta_loss"]
    assert after < before - 0.05


def test_save_load_gives_identical_outputs(tmp_path):
    config = MetaConfig(model="qk-lstm", variant="fixed", steps=2, seed=6)
    model = MetaOptimizer(config)
    model.compile(lr_sequence=0.05, lr_mapping=0.05)
    model.fit(make_dataset(_problems(2), config), epochs=1, verbose=0)  # move off the init
    problems = _problems(3, seed=9)
    model.save_model(tmp_path / "m")
    loaded = MetaOptimizer.load_model(tmp_path / "m")
    assert loaded.config == config
    np.testing.assert_array_equal(model.rollout(problems).theta, loaded.rollout(problems).theta)
    fresh = MetaOptimizer(config)
    assert not np.array_equal(fresh.rollout(problems).theta, loaded.rollout(problems).theta)


def test_fit_with_callbacks_two_learning_rates_and_resume(tmp_path):
    config = MetaConfig(model="qk-lstm", variant="paper", steps=3, seed=1)
    train = make_dataset(_problems(4), config)
    val = make_dataset(_problems(2, seed=3), config)

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("simulated interruption")

    def callbacks(extra=()):
        return [
            keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
            keras.callbacks.ModelCheckpoint(
                str(tmp_path / "best"), save_weights_only=True, save_best_only=True
            ),
            keras.callbacks.EarlyStopping(patience=6, restore_best_weights=True),
            PlateauScheduler(patience=0, threshold=-1.0),  # 'better' needs 2x best: reduces
            JsonHistory(tmp_path / "log.json", {"config": json.loads(config.to_json())}),
            *extra,
        ]

    model = MetaOptimizer(config)
    model.compile()
    with pytest.raises(RuntimeError, match="simulated"):
        model.fit(
            train, validation_data=val, epochs=4, verbose=0, callbacks=callbacks([Interrupt()])
        )
    resumed = MetaOptimizer(config)
    resumed.compile()
    history = resumed.fit(train, validation_data=val, epochs=4, verbose=0, callbacks=callbacks())
    assert len(history.history["loss"]) == 2  # epochs 3 and 4 only
    log = json.loads((tmp_path / "log.json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [1, 2, 3, 4]
    lrs = [e["lr_mapping"] for e in log["epochs"]]
    assert lrs[0] == pytest.approx(1e-4) and lrs[1] == pytest.approx(5e-5)
    assert lrs[-1] < 5e-5  # restored from the backup, then reduced again
    assert log["epochs"][-1]["lr_sequence"] < 6e-6
    assert (tmp_path / "best.index").exists()


def test_nan_guard_raises_clear_error():
    config = MetaConfig(model="lstm", steps=2)
    model = MetaOptimizer(config)
    model.compile()
    model.cell.bias.assign(np.full(model.cell.bias.shape, np.nan, np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or inf"):
        model.fit(make_dataset(_problems(2), config), epochs=1, verbose=0)


def test_graph_features_change_the_proposal():
    config = MetaConfig(model="lstm", graph_features=True, steps=2, seed=3)
    model = MetaOptimizer(config)
    assert model.cell.kernel.shape[0] == 6
    theta = model.rollout(_problems(2, sizes=(4, 7))).theta
    assert np.abs(theta[0, 0] - theta[1, 0]).max() > 1e-4  # differs from step 1 on


def test_paper_dataset_trains_with_mixed_sizes(paper_dataset_path):
    data = load_paper_dataset(paper_dataset_path)
    config = MetaConfig(model="qk-lstm", variant="paper", steps=2)
    model = MetaOptimizer(config)
    model.compile()
    history = model.fit(make_dataset(data.train[::200], config, batch_size=3), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def _tiny_fit(callbacks, epochs=5):
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    return model.fit(x, y, epochs=epochs, verbose=0, callbacks=callbacks)


def test_time_budget_stops_at_an_epoch_boundary():
    tight = TimeBudget(1e-9)  # any real epoch is longer: stop after the first one
    assert len(_tiny_fit([tight]).history["loss"]) == 1 and tight.stopped
    loose = TimeBudget(3600.0)
    assert len(_tiny_fit([loose]).history["loss"]) == 5 and not loose.stopped
    with pytest.raises(ValueError, match="positive seconds"):
        TimeBudget(0)


def test_empty_validation_split_names_the_problem_and_the_fix():
    # Issue 10: make_dataset(val, config, batch_size=len(val)) with val == [] used to fail as
    # "batch_size must be a positive integer, got 0", naming neither the split nor the fix.
    config = MetaConfig(model="lstm", backend="p1")
    val = []
    with pytest.raises(ValueError, match=r"split is empty.*--val-graphs >= 1") as error:
        make_dataset(val, config, batch_size=len(val))
    assert not str(error.value).startswith("batch_size")
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        make_dataset(_problems(1), config, batch_size=0)


def test_only_meta_py_uses_the_private_rollout():
    """``MetaOptimizer.rollout_tensors`` is the public rollout; ``_rollout`` stays inside meta."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    files = [
        path
        for folder in ("qaoa_meta", "tests", "scripts", "hardware")
        for path in (root / folder).rglob("*.py")
    ]
    assert len(files) > 50
    private = re.compile(r"\._rollout\(")
    offenders = [
        path.relative_to(root).as_posix()
        for path in files
        if path != root / "qaoa_meta" / "meta.py" and private.search(path.read_text())
    ]
    assert offenders == []


def test_rollout_tensors_names_its_parts():
    config = MetaConfig(model="lstm", variant="paper", p=1, steps=3, seed=0)
    model = MetaOptimizer(config)
    problems = _problems(3)
    parts = model.rollout_tensors(_batch(problems, config))
    assert parts.params.shape == parts.theta.shape == (3, 3, 2)
    np.testing.assert_allclose(parts.theta[..., 0], -parts.params[..., 0])
    np.testing.assert_allclose(parts.cost, -parts.expectation)
    result = model.rollout(problems)
    np.testing.assert_allclose(result.expectation, parts.expectation.numpy(), rtol=1e-5, atol=1e-6)


def test_rollout_rows_do_not_depend_on_batching_or_padding():
    from qaoa_meta.energy import analytic_p1_expectation

    config = MetaConfig(model="lstm", steps=3, seed=4)
    model = MetaOptimizer(config)
    problems = _problems(5, sizes=(4, 6), seed=11)
    whole = model.rollout(problems)
    split = model.rollout(problems, batch_size=2)  # batches of 2, 2 and 1 rows
    padded = model.rollout(problems[:1], n_qubits=7)  # a 4-qubit graph in 7 qubits
    np.testing.assert_allclose(split.theta, whole.theta, atol=1e-6)
    np.testing.assert_allclose(padded.theta, whole.theta[:1], atol=1e-5)
    # The padded rollout's energies are the graph's own (the p = 1 closed form).
    gamma, beta = padded.theta[0].T
    reference = analytic_p1_expectation(problems[0], gamma, beta)
    np.testing.assert_allclose(padded.expectation[0], reference, atol=1e-4)
    with pytest.raises(ValueError, match=r"n_qubits >= 6.*got 5"):
        model.rollout(problems, n_qubits=5)


def test_tfq_encoding_pads_mixed_sizes_to_one_width_and_matches_exact():
    """encode_problems' TFQ rows come from energy.tfq_qaoa_inputs, padded to one width (the
    TFQ 0.7.6 mixed-width bug), in any order of sizes."""
    from qaoa_meta._tf import tfq

    problems = _problems(3, sizes=(6, 4, 5))
    config = MetaConfig(model="qfwp", variant="fixed", steps=2, seed=2, backend="tfq")
    data = encode_problems(problems, config)
    circuits = tfq.from_tensor(tf.constant(data["circuit"]))
    assert {len(c.all_qubits()) for c in circuits} == {6}
    theta = np.random.default_rng(0).uniform(-1, 1, (3, 2)).astype(np.float32)
    layer = tfq.layers.Expectation()
    values = layer(
        tf.constant(data["circuit"]),
        symbol_names=[s.name for s in qaoa.parameter_symbols(1)],
        symbol_values=tf.constant(theta),
        operators=tf.constant(data["operator"]),
    )[:, 0] + tf.constant(data["offset"])
    np.testing.assert_allclose(values.numpy(), Energy(problems, 1)(theta), atol=2e-4)
