import os
import pathlib
import subprocess
import sys

import cirq
import networkx as nx
import numpy as np
import pytest

from qaoa_meta import qaoa
from qaoa_meta._tf import tf
from qaoa_meta.energy import (
    Energy,
    analytic_p1_expectation,
    exact_expectation,
    p1_coefficients,
    p1_expectation,
    pad_diagonals,
)
from qaoa_meta.problems import MaxCutProblem, cost_diagonal, erdos_renyi, sherrington_kirkpatrick


def cirq_energy(problem, theta):
    """Independent reference: cirq.Simulator state vector in double precision."""
    p = len(theta) // 2
    state = cirq.final_state_vector(
        qaoa.qaoa_circuit(problem, p, params=np.asarray(theta, float)), dtype=np.complex128
    )
    return float(np.real(np.vdot(state, cost_diagonal(problem) * state)))


def mixed_batch(seed=0):
    rng = np.random.default_rng(seed)
    return [
        erdos_renyi(5, 0.6, rng),
        MaxCutProblem.from_edge_list([(0, 1, 0.7), (1, 2, -1.3), (2, 5, 2.0), (3, 4, 0.4)], n=6),
        sherrington_kirkpatrick(7, "gaussian", rng),
        erdos_renyi(4, 0.8, rng),
    ]


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("backend", ["exact", "tfq"])
def test_backends_match_cirq_on_mixed_size_batches(backend, p):
    problems = mixed_batch(p)
    rng = np.random.default_rng(10 + p)
    theta = rng.uniform(-1.5, 1.5, size=(len(problems), 2 * p)).astype(np.float32)
    values = Energy(problems, p, backend=backend)(theta).numpy()
    reference = [cirq_energy(pr, t) for pr, t in zip(problems, theta.astype(float), strict=True)]
    np.testing.assert_allclose(values, reference, rtol=1e-5, atol=1e-5)


def test_double_precision_exact_path_matches_cirq_tightly():
    problems = mixed_batch(4)
    theta = np.random.default_rng(1).uniform(-2, 2, size=(4, 4))
    values = Energy(problems, 2, dtype=tf.float64)(theta).numpy()
    reference = [cirq_energy(pr, t) for pr, t in zip(problems, theta, strict=True)]
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", range(3, 14))
def test_float64_energies_match_cirq_to_1e12_for_odd_and_even_n(n):
    # rtol=0: a wrong normalisation (e.g. 1/sqrt(2^n) rounded through float32 for odd n)
    # scales every energy by ~1 - 3e-8 and must fail here.
    problem = erdos_renyi(n, 0.5, seed=n)
    theta = np.random.default_rng(n).uniform(-1.5, 1.5, size=(1, 2))
    value = Energy([problem], 1, dtype=tf.float64)(theta).numpy()[0]
    assert abs(value - cirq_energy(problem, theta[0])) <= 1e-12 * max(1.0, abs(value))


def p1_problems():
    rng = np.random.default_rng(5)
    return [
        erdos_renyi(n, density, rng)
        for n, density in ((2, 1.0), (3, 1.0), (5, 0.5), (7, 0.6), (9, 0.4), (10, 0.7))
    ] + [MaxCutProblem.from_edge_list([(0, 1), (1, 2)], n=6)]  # isolated nodes


def test_p1_closed_form_matches_cirq_state_vectors():
    problems = [pr for pr in p1_problems() if pr.num_edges]
    theta = np.random.default_rng(2).uniform(-np.pi, np.pi, size=(len(problems), 2))
    values = p1_expectation(*p1_coefficients(problems), theta, tf.float64).numpy()
    reference = [cirq_energy(pr, t) for pr, t in zip(problems, theta, strict=True)]
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-11)
    # float32 with tables sized for a larger register (padding) gives the same values.
    single = p1_expectation(*p1_coefficients(problems, n_qubits=14), theta).numpy()
    np.testing.assert_allclose(single, reference, rtol=2e-6, atol=2e-5)


def test_p1_closed_form_gradient_matches_finite_differences():
    problem = p1_problems()[4]
    theta = np.array([[0.7, -0.3]])
    tables = p1_coefficients([problem])
    params = tf.Variable(theta)
    with tf.GradientTape() as tape:
        value = p1_expectation(*tables, params, tf.float64)
    gradient = tape.gradient(value, params).numpy()[0]
    np.testing.assert_allclose(gradient, central_difference(problem, theta[0]), atol=1e-7)


def test_p1_closed_form_refuses_weighted_graphs():
    weighted = MaxCutProblem.from_edge_list([(0, 1, 0.5), (1, 2, 2.0)], n=3)
    with pytest.raises(ValueError, match="unweighted"):
        p1_coefficients([weighted])


def test_exact_and_tfq_agree_with_each_other_on_larger_graphs():
    problems = [erdos_renyi(n, 0.5, seed=n) for n in (9, 10, 11)]
    theta = np.random.default_rng(3).uniform(0, 1, size=(3, 4)).astype(np.float32)
    exact = Energy(problems, 2, "exact")(theta).numpy()
    tfq_values = Energy(problems, 2, "tfq")(theta).numpy()
    np.testing.assert_allclose(exact, tfq_values, rtol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_p1_matches_analytic_formula(seed):
    # Graphs with triangles, varied degrees and an isolated node.
    problem = erdos_renyi(8, 0.55, seed=seed)
    rng = np.random.default_rng(seed)
    grid = rng.uniform(-np.pi, np.pi, size=(6, 2))
    values = Energy([problem], 1, dtype=tf.float64)(grid).numpy()
    analytic = [analytic_p1_expectation(problem, g, b) for g, b in grid]
    np.testing.assert_allclose(values, analytic, atol=1e-10)
    # Arrays broadcast: one call on the whole grid gives the same values.
    np.testing.assert_allclose(
        analytic_p1_expectation(problem, grid[:, 0], grid[:, 1]), analytic, atol=1e-12
    )


def test_analytic_formula_on_a_hand_checked_graph():
    # Single edge: <C> = 1/2 + 1/4 sin(4 beta) sin(gamma) * 2 (d = e = 0, no triangles).
    edge = MaxCutProblem.from_edge_list([(0, 1)])
    gamma, beta = 0.7, 0.3
    expected = 0.5 + 0.5 * np.sin(4 * beta) * np.sin(gamma)
    assert analytic_p1_expectation(edge, gamma, beta) == pytest.approx(expected)
    assert cirq_energy(edge, [gamma, beta]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="unweighted"):
        analytic_p1_expectation(MaxCutProblem.from_edge_list([(0, 1, 2.0)]), 0.1, 0.1)


def central_difference(problem, theta, step=1e-5):
    gradient = np.zeros_like(theta)
    for k in range(len(theta)):
        shift = np.zeros_like(theta)
        shift[k] = step
        gradient[k] = (
            cirq_energy(problem, theta + shift) - cirq_energy(problem, theta - shift)
        ) / (2 * step)
    return gradient


@pytest.mark.parametrize(
    "backend, dtype, tol",
    [("exact", tf.float64, 1e-6), ("exact", tf.float32, 2e-3), ("tfq", tf.float32, 2e-3)],
)
def test_gradients_match_central_finite_differences(backend, dtype, tol):
    problems = mixed_batch(7)[:3]
    theta = np.random.default_rng(2).uniform(-1, 1, size=(3, 4))
    _, gradient = Energy(problems, 2, backend=backend, dtype=dtype).value_and_gradient(theta)
    for problem, t, g in zip(problems, theta, gradient, strict=True):
        np.testing.assert_allclose(g, central_difference(problem, t), atol=tol, rtol=tol)


def test_exact_expectation_is_tf_function_compatible_and_padding_is_neutral():
    problems = [erdos_renyi(4, 0.9, seed=1), erdos_renyi(6, 0.5, seed=2)]
    diagonals = pad_diagonals(problems, n_qubits=8)
    assert diagonals.shape == (2, 256)
    theta = tf.constant([[0.3, 0.2], [0.5, -0.4]])
    compiled = tf.function(exact_expectation)
    values = compiled(tf.constant(diagonals), theta).numpy()
    reference = [
        cirq_energy(pr, t) for pr, t in zip(problems, theta.numpy().astype(float), strict=True)
    ]
    np.testing.assert_allclose(values, reference, rtol=1e-5)


def test_broadcasting_rules_and_errors():
    problem = erdos_renyi(5, 0.6, seed=0)
    energy = Energy([problem], 1)
    grid = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    values = energy(grid).numpy()
    assert values.shape == (3,)
    assert values[1] == pytest.approx(cirq_energy(problem, grid[1]), rel=1e-5)
    two = Energy([problem, erdos_renyi(6, 0.5, seed=1)], 1)
    assert two([0.1, 0.2]).shape == (2,)
    with pytest.raises(ValueError, match="one row per problem"):
        two(grid)
    with pytest.raises(ValueError, match="shape \\(batch, 2\\)"):
        energy(np.zeros((3, 4)))
    # a row count seen before takes the short path: same values, same type, same checks
    again = energy(grid)
    assert type(again) is type(energy(grid[:, ::-1].copy())) and again.dtype == np.float32
    np.testing.assert_array_equal(again.numpy(), values)
    with pytest.raises(ValueError, match="one row per problem"):
        two(grid)
    with pytest.raises(ValueError, match="shape \\(batch, 2\\)"):
        energy(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="Unknown energy backend"):
        Energy([problem], 1, backend="qsim")
    with pytest.raises(ValueError, match="positive integer"):
        Energy([problem], 0)
    with pytest.raises(ValueError, match="float32 only"):
        Energy([problem], 1, backend="tfq", dtype=tf.float64)


@pytest.mark.parametrize("backend", ["exact", "tfq"])
def test_edgeless_problem_has_zero_energy(backend):
    problem = MaxCutProblem.from_edge_list([], n=3)
    assert Energy([problem, erdos_renyi(3, 1.0, seed=0)], 1, backend)([0.4, 0.3]).numpy()[0] == 0


def test_complete_graph_maximum_over_grid_is_below_max_cut():
    problem = MaxCutProblem.from_networkx(nx.complete_graph(6))
    gammas, betas = np.meshgrid(np.linspace(0, np.pi, 15), np.linspace(0, np.pi / 2, 15))
    values = Energy([problem], 1)(np.stack([gammas.ravel(), betas.ravel()], 1)).numpy()
    assert values.max() <= 9.0 + 1e-5 and values.min() >= 0


# --- the compiled kernel path (qaoa_meta.energy_kernel) ---------------------------------------


def numpy_energy(problem, theta):
    """Independent float64 reference: the plain NumPy state vector of qaoa_meta.energy."""
    from qaoa_meta.energy import qaoa_probabilities

    diagonal = cost_diagonal(problem)
    return float(qaoa_probabilities(diagonal, theta) @ diagonal)


def numpy_gradient(problem, theta, step=1e-5):
    gradient = np.zeros_like(theta)
    for k in range(len(theta)):
        shift = np.zeros_like(theta)
        shift[k] = step
        gradient[k] = (
            numpy_energy(problem, theta + shift) - numpy_energy(problem, theta - shift)
        ) / (2 * step)
    return gradient


@pytest.mark.parametrize("n", range(3, 17))
def test_kernel_values_and_gradients_match_cirq_and_finite_differences(n):
    # n <= 14 runs in one cache block, n = 15, 16 as sweeps over memory; p cycles 1..3.
    p = n % 3 + 1
    problem = erdos_renyi(n, 0.5, seed=100 + n)
    theta = np.random.default_rng(n).uniform(-1.2, 1.2, size=2 * p)
    reference = cirq_energy(problem, theta)
    gradient = numpy_gradient(problem, theta)
    values, grads = Energy([problem], p, dtype=tf.float64).value_and_gradient(theta[None])
    assert abs(values[0] - reference) <= 1e-11 * max(1.0, abs(reference))
    np.testing.assert_allclose(grads[0], gradient, rtol=1e-6, atol=1e-6)
    # float32 state: relative error a few 1e-7 per amplitude, see docs/scaling.md.
    values32, grads32 = Energy([problem], p).value_and_gradient(theta[None])
    assert abs(values32[0] - reference) <= 2e-6 * max(1.0, abs(reference))
    np.testing.assert_allclose(grads32[0], gradient, rtol=2e-4, atol=2e-4 * n)


@pytest.mark.parametrize("block_bits", [4, 14])
def test_mixer_angles_far_from_zero_match_the_reference(monkeypatch, block_bits):
    # The forward sweeps apply e^{-iβX} as cos β' (1 - i tan β' X), β' being β reduced to
    # [-π/4, π/4] (a global phase for cut costs): β on and beyond ±π/4, ±π/2, ±π, far out,
    # in one cache block (block_bits 14) and as sweeps over memory (4), float64 and float32.
    from qaoa_meta import energy_kernel

    monkeypatch.setattr(energy_kernel, "BLOCK_BITS", block_bits)
    monkeypatch.setattr(energy_kernel, "_PARALLEL_ROWS_MAX_N", block_bits)
    problem = erdos_renyi(7, 0.6, seed=11)
    betas = [np.pi / 4, -np.pi / 4, np.pi / 2, -np.pi / 2, 0.79, np.pi, 2.9, -7.1, 20.0, 1.57]
    theta = np.array([[0.4, -0.7, b, betas[(k + 3) % len(betas)]] for k, b in enumerate(betas)])
    values, grads = Energy([problem], 2, dtype=tf.float64).value_and_gradient(theta)
    values32 = Energy([problem], 2)(theta)
    for k, row in enumerate(theta):
        reference = numpy_energy(problem, row)
        assert values[k] == pytest.approx(reference, abs=1e-11)
        assert values32[k] == pytest.approx(reference, abs=2e-6 * max(1.0, abs(reference)))
        np.testing.assert_allclose(grads[k], numpy_gradient(problem, row), atol=1e-6)


@pytest.mark.parametrize("block_bits", [3, 4])
@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_kernel_sweeps_over_memory_match_the_reference(monkeypatch, block_bits, p):
    # Shrinking the block makes n = 5..9 run the two-group sweeps (odd and even p, groups of
    # different sizes, padded and weighted problems), checked against float64 NumPy.
    from qaoa_meta import energy_kernel

    monkeypatch.setattr(energy_kernel, "BLOCK_BITS", block_bits)
    monkeypatch.setattr(energy_kernel, "_PARALLEL_ROWS_MAX_N", block_bits)
    rng = np.random.default_rng(p)
    problems = [erdos_renyi(7, 0.6, rng), sherrington_kirkpatrick(9, "gaussian", rng)]
    theta = rng.uniform(-1, 1, size=(2, 2 * p))
    for problem, row in zip(problems, theta, strict=True):
        values, grads = Energy([problem], p, dtype=tf.float64).value_and_gradient(row[None])
        assert values[0] == pytest.approx(numpy_energy(problem, row), abs=1e-11)
        np.testing.assert_allclose(grads[0], numpy_gradient(problem, row), atol=1e-6)
    padded = Energy(problems, p, dtype=tf.float64)(theta)
    np.testing.assert_allclose(
        padded, [numpy_energy(pr, t) for pr, t in zip(problems, theta, strict=True)]
    )


def test_circuits_over_memory_keep_their_state_planes_between_calls(monkeypatch):
    from qaoa_meta import energy_kernel

    monkeypatch.setattr(energy_kernel, "BLOCK_BITS", 4)
    monkeypatch.setattr(energy_kernel, "_PARALLEL_ROWS_MAX_N", 4)
    problem = erdos_renyi(7, 0.6, seed=3)
    theta = np.random.default_rng(7).uniform(-1, 1, size=(1, 4))
    energy = Energy([problem], 2, dtype=tf.float64)
    first = energy.value_and_gradient(theta)
    kept = energy._workspace._planes
    assert len(kept) == 4 and kept[0].ctypes.data % 64 == 0
    second = energy.value_and_gradient(theta)
    assert energy._workspace._planes is kept  # reused, not allocated again
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert energy(theta)[0] == first[0][0]  # values only: the first two kept planes
    # A call that finds the planes in use (another thread) takes fresh ones.
    with energy._workspace.planes(7, 4, np.float64):
        busy = energy.value_and_gradient(theta)
    np.testing.assert_array_equal(busy[1], first[1])
    assert busy[0][0] == pytest.approx(numpy_energy(problem, theta[0]), abs=1e-11)


def test_column_tiles_hold_each_high_group_tile_contiguously_for_the_layout_in_use(monkeypatch):
    from qaoa_meta import energy_kernel

    codes = energy_kernel.cost_codes([erdos_renyi(9, 0.5, seed=s) for s in range(2)], 9)
    for block_bits in (4, 6):
        monkeypatch.setattr(energy_kernel, "BLOCK_BITS", block_bits)
        low, high, w = energy_kernel.groups(9)
        tiles = codes.column_tiles()
        assert tiles.shape == codes.codes.shape and tiles.dtype == codes.codes.dtype
        rows, width = 1 << high, 1 << low
        for b in range(2):
            for t in range(width // w):
                expected = [
                    codes.codes[b, r * width + t * w + j] for r in range(rows) for j in range(w)
                ]
                np.testing.assert_array_equal(tiles[b, t * rows * w : (t + 1) * rows * w], expected)
        assert codes.column_tiles() is tiles  # kept while the layout stays


@pytest.mark.parametrize("n", range(15, 29))
def test_groups_cover_the_register_and_keep_high_tiles_within_a_cores_l2(n):
    from qaoa_meta import energy_kernel

    low, high, w = energy_kernel.groups(n)
    assert low + high == n and low >= energy_kernel.BLOCK_BITS and high >= 1
    assert (1 << low) % w == 0
    # a high-group tile of ψ and λ in float32 (4 planes of 4 bytes) fits 512 KiB
    assert (1 << high) * w * 16 <= 512 * 1024


_KERNEL_BYTES = """
import sys, numpy as np
from qaoa_meta import energy_kernel
from qaoa_meta.energy import Energy
from qaoa_meta.problems import erdos_renyi
theta = np.random.default_rng(0).uniform(-3, 3, size=(8, 4))
out = []
for block_bits in (14, 4):  # one block per circuit, then sweeps over memory
    energy_kernel.BLOCK_BITS = energy_kernel._PARALLEL_ROWS_MAX_N = block_bits
    values, grads = Energy([erdos_renyi(6, 0.6, seed=1)], 2).value_and_gradient(theta)
    out.append(values.tobytes().hex() + grads.tobytes().hex())
sys.stdout.write(" ".join(out))
"""


def test_a_kernel_compiled_here_and_one_loaded_from_numbas_cache_agree_bit_for_bit(tmp_path):
    # With LLVM's reassociation allowed, the freshly JIT-compiled adjoint and the one numba
    # loads from its cache differed in the last bit of float32 gradients, so two processes
    # (a sweep's driver and its Ray worker, a resumed study) disagreed on a cold cache.
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    env["PYTHONPATH"] = os.pathsep.join([str(pathlib.Path(__file__).parents[1])] + sys.path)

    def run():
        done = subprocess.run(
            [sys.executable, "-c", _KERNEL_BYTES], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    compiled = run()
    assert any((tmp_path / "numba").rglob("*.nbc"))  # the first run wrote numba's cache
    assert run() == compiled


def test_page_backed_memory_is_aligned_to_a_huge_page():
    from qaoa_meta import energy_kernel

    buffer = energy_kernel.page_backed(3 << 20)
    assert buffer.size == 3 << 20 and buffer.ctypes.data % (2 << 20) == 0
    buffer[-1] = 7  # writable to its last byte
    planes = energy_kernel.state_planes(16, 4, np.float32)
    offsets = {plane.ctypes.data % 4096 for plane in planes}
    assert len(offsets) == 4  # staggered: no two planes share cache sets


def test_tape_gradient_of_a_call_is_the_kernel_adjoint_gradient():
    problems = mixed_batch(3)
    theta = np.random.default_rng(4).uniform(-1, 1, size=(4, 4))
    energy = Energy(problems, 2, dtype=tf.float64)
    weights = tf.constant([1.0, -2.0, 0.5, 3.0], tf.float64)
    params = tf.Variable(theta)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weights * energy(params))
    values, grads = energy.value_and_gradient(theta)
    np.testing.assert_allclose(tape.gradient(loss, params), weights.numpy()[:, None] * grads)
    assert isinstance(energy(params), tf.Tensor)
    assert isinstance(energy(theta), np.ndarray)  # NumPy in, NumPy out
    np.testing.assert_allclose(energy(theta).numpy(), values)
    # The same θ for every problem, as a (2p,) tensor under a tape.
    single = tf.Variable(theta[0])
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(energy(single))
    np.testing.assert_allclose(tape.gradient(total, single), grads_for_shared(energy, theta[0]))


def grads_for_shared(energy, row):
    _, grads = energy.value_and_gradient(np.tile(row, (len(energy.problems), 1)))
    return grads.sum(axis=0)


def test_calls_inside_tf_function_run_the_tf_path_with_the_same_values():
    problems = mixed_batch(5)
    theta = np.random.default_rng(5).uniform(-1, 1, size=(4, 6)).astype(np.float32)
    energy = Energy(problems, 3)

    @tf.function
    def compiled(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            values = energy(x)
        return values, tape.gradient(values, x)

    values, grads = compiled(tf.constant(theta))
    eager_values, eager_grads = energy.value_and_gradient(theta)
    np.testing.assert_allclose(values, eager_values, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads, eager_grads, rtol=1e-4, atol=1e-4)


def test_two_threads_give_the_values_of_one(monkeypatch):
    from qaoa_meta import energy_kernel

    monkeypatch.setattr(energy_kernel, "BLOCK_BITS", 4)
    problems = [erdos_renyi(6, 0.5, seed=s) for s in range(3)]
    theta = np.random.default_rng(6).uniform(-1, 1, size=(3, 4))
    before = energy_kernel.threads()
    try:
        energy_kernel.set_threads(1)
        one = Energy(problems, 2, dtype=tf.float64).value_and_gradient(theta)
        energy_kernel.set_threads(2)
        two = Energy(problems, 2, dtype=tf.float64).value_and_gradient(theta)
    finally:
        energy_kernel.set_threads(before)
    np.testing.assert_allclose(one[0], two[0], rtol=1e-13)
    np.testing.assert_allclose(one[1], two[1], rtol=1e-11, atol=1e-12)


def test_a_batch_that_does_not_fit_is_refused_before_anything_is_allocated(monkeypatch):
    from qaoa_meta import energy_kernel

    monkeypatch.setattr(energy_kernel, "available_memory", lambda: 1 << 30)

    def no_codes(*args, **kwargs):
        raise AssertionError("cost codes were built before the memory check")

    monkeypatch.setattr(energy_kernel, "cost_codes", no_codes)
    problem = erdos_renyi(27, 0.1, seed=0)  # 2^27 amplitudes: ψ and λ alone are 2 GiB
    with pytest.raises(energy_kernel.MemoryLimitError, match=r"needs \d+\.\d+ GiB .* only 1\.00"):
        Energy([problem], 1)
    need = energy_kernel.required_memory([problem], 26, np.float32)
    # ψ and λ in float32: 4 planes of 2^26 amplitudes, rows padded by 0.1% (energy_kernel.layout)
    assert 4 * 4 << 26 <= need["states"] <= 1.001 * (4 * 4 << 26)
    assert need["codes"] == 2 << 26  # one byte per amplitude, twice (CostCodes.column_tiles)


def test_energy_owns_the_evaluators_and_old_names_still_import():
    """ExactEvaluator, qaoa_probabilities and statevector_energy live in qaoa_meta.energy;
    qaoa_meta.optimize and qaoa_meta.noisy still export them, and importing optimize loads
    neither TensorFlow nor Cirq (the moved names load on first use)."""
    import subprocess
    import sys

    from qaoa_meta import energy, noisy, optimize

    assert optimize.ExactEvaluator is energy.ExactEvaluator
    assert optimize.qaoa_probabilities is energy.qaoa_probabilities
    assert noisy.statevector_energy is energy.statevector_energy
    problem = erdos_renyi(5, 0.6, seed=3)
    diagonal, theta = cost_diagonal(problem), np.array([0.4, -0.2, 0.3, 0.7])
    value = energy.ExactEvaluator().value(diagonal[None], theta[None])[0]
    assert energy.statevector_energy(diagonal, theta) == pytest.approx(value, abs=1e-12)
    code = (
        "import sys, qaoa_meta.optimize as o, qaoa_meta.energy as e; "
        "print(sorted(m for m in ('tensorflow', 'cirq') if m in sys.modules), "
        "'tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "['cirq'] False", result.stderr


def test_tfq_qaoa_inputs_is_the_energy_tfq_encoding():
    """One TFQ encoder: Energy(backend="tfq") runs on tfq_qaoa_inputs' tensors."""
    from qaoa_meta.energy import tfq_qaoa_inputs

    edgeless = MaxCutProblem.from_edge_list([], n=3)
    problems = [erdos_renyi(5, 0.6, seed=1), edgeless, erdos_renyi(4, 0.8, seed=2)]
    circuits, operators, offsets = tfq_qaoa_inputs(problems, 1)
    assert circuits.shape == (3,) and operators.shape == (3, 1)
    np.testing.assert_array_equal(offsets, [p.total_weight / 2 for p in problems])
    model = Energy(problems, 1, backend="tfq")
    np.testing.assert_array_equal(model._circuits.numpy(), circuits)
    with pytest.raises(ValueError, match="2 circuits for 3 problems"):
        tfq_qaoa_inputs(problems, 1, circuits=[None, None])
