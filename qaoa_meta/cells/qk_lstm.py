"""QK-LSTM cell (Hsu et al., arXiv 2411.13225): LSTM gates driven by quantum-kernel features."""

from __future__ import annotations

import contextlib

import cirq

from qaoa_meta._tf import keras, tf
from qaoa_meta.cells import circuits
from qaoa_meta.cells.base import QuantumGateLSTMCell

GATES = ("forget", "input", "update", "output")


class _RolloutCache:
    """Reference states kept for one rollout, keyed by graph (a plain, untracked object)."""

    def __init__(self):
        self.states: dict | None = None


def kernel_angles(x: tf.Tensor) -> tf.Tensor:
    """The published angle map φ = cos(x²) applied before the feature-map circuit.

    Args:
        x: real tensor of any shape.

    Returns:
        ``cos(x²)`` elementwise, same shape.
    """
    return tf.cos(tf.square(x))


class QKLSTMCell(QuantumGateLSTMCell):
    """LSTM whose gates see quantum-kernel values of ``y = Linear(concat[h, x] → n_qubits)``.

    Each gate: kernel features (B, m) → shared ``Linear(m → units)`` → σ/σ/tanh/σ.

    ``variant="fixed"`` (default): a genuine fidelity kernel. Gate g has m = ``n_references``
    trainable reference vectors r_gj and feature j is
    k(y, r_gj) = |⟨0|U(φ(r_gj))† U(φ(y))|0⟩|² = |⟨ψ(r_gj)|ψ(y)⟩|², with ψ(x) = U(φ(x))|0⟩,
    U the published feature map (H, RZ, RY, CNOT chain, RZ) and φ = cos(x²). The kernel is
    evaluated from the states, not pair by pair: y is shared by the four gates, so TFQ
    simulates the B data states and the 4m reference states once each, and
    ``tfq.math.inner_product`` against the 2^n computational basis circuits gives their
    amplitudes ⟨b|ψ⟩ (adjoint gradients, :class:`~qaoa_meta.cells.circuits.BatchedAmplitudes`).
    The overlaps ⟨ψ(r)|ψ(y)⟩ = Σ_b ⟨ψ(r)|b⟩⟨b|ψ(y)⟩ are then one (B, 2^n) × (2^n, 4m)
    product, and gradients reach both y and the references. Inside :meth:`rollout_scope`
    (every :class:`~qaoa_meta.meta.MetaOptimizer` rollout) the reference states are
    prepared once per rollout instead of once per step. The amplitude read-out costs 2^n
    inner products per state, which suits the default 4 qubits. ``circuit`` holds the
    equivalent kernel circuit U(r)† U(v), whose ⟨0..0|·|0..0⟩ amplitude squared is k.

    ``variant="paper"``: the published circuit U(φ(y)) U(φ(y))†, which is the identity, with
    ⟨Z_i⟩ read out: every feature is 1 whatever the input, so the cell ignores its input and
    ``clayer_in`` gets exactly zero gradient. The four gates evaluate the same circuit on the
    same input, so it is run once (B circuits) and shared. Its gradient is stopped: the exact
    derivative is identically zero, while TFQ's float32 adjoint pass returns round-off noise
    of order 1e-4 (PennyLane's float64 run gives ~1e-16).

    Args:
        units: hidden size (the paper: 2p + 1).
        n_qubits: qubits of the kernel circuit (the paper: 4).
        n_references: reference vectors per gate in the fixed variant (default n_qubits).
        variant, seed, circuit_backend, **kwargs: as for
            :class:`~qaoa_meta.cells.qlstm.QLSTMCell`.

    Raises:
        ValueError: for ``units``, ``n_qubits`` or ``n_references`` < 1 (``None`` for
            ``n_references`` means n_qubits), or an unknown variant or circuit backend.
    """

    config_fields = ("circuit_backend", "n_qubits", "n_references")

    def __init__(
        self,
        units: int,
        n_qubits: int = 4,
        n_references: int | None = None,
        variant: str = "fixed",
        seed: int = 0,
        circuit_backend: str = "tfq",
        **kwargs,
    ):
        super().__init__(units, variant, seed, **kwargs)
        self.circuit_backend = circuits.check_circuit_backend(circuit_backend)
        self.n_qubits = int(n_qubits)
        self.n_references = int(n_qubits if n_references is None else n_references)
        if self.n_qubits < 1 or self.n_references < 1:
            raise ValueError(
                f"n_qubits and n_references must be >= 1, got {n_qubits}, {n_references}."
            )
        qubits = cirq.LineQubit.range(self.n_qubits)
        data = circuits.symbols("v", self.n_qubits)
        if self.variant == "paper":
            self.circuit = circuits.paper_kernel_circuit(qubits, data)
            self._expectation = circuits.BatchedExpectation(
                self.circuit,
                data,
                circuits.z_observables(qubits),
                backend=self.circuit_backend,
            )
        else:
            references = circuits.symbols("r", self.n_qubits)
            self.circuit = circuits.fidelity_kernel_circuit(qubits, data, references)
            self.feature_map = circuits.kernel_feature_map(qubits, data)
            self._amplitudes = circuits.BatchedAmplitudes(
                self.feature_map, data, qubits, backend=self.circuit_backend
            )
        self._rollout_cache = _RolloutCache()

    @property
    def features(self) -> int:
        """Kernel features per gate: n_qubits (paper) or n_references (fixed)."""
        return self.n_qubits if self.variant == "paper" else self.n_references

    def build(self, input_shape):
        """Creates the two Linear layers and, in the fixed variant, the reference vectors.

        ``clayer_in`` Linear(input_dim + units → n_qubits), the shared ``clayer_out``
        Linear(features → units) and ``references`` (4, n_references, n_qubits),
        ``U(−1, 1)`` (None in the paper variant).

        Args:
            input_shape: shape of the step input; its last entry is input_dim.
        """
        weight_seed = self.build_linear_layers(input_shape, self.features)
        self.references = None
        if self.variant == "fixed":
            self.references = self.add_weight(
                name="references",
                shape=(len(GATES), self.n_references, self.n_qubits),
                initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=weight_seed),
            )
        self.built = True

    @contextlib.contextmanager
    def rollout_scope(self):
        """Prepares the reference states once (per graph) for every step inside the scope.

        The references must not change inside it (one rollout, before the optimizer step);
        enter it inside the ``GradientTape`` so their gradient is recorded. Reentrant.
        Outside a scope they are prepared at every call. The paper variant has no
        references; the scope changes nothing there.

        Yields:
            None; on exit the previous cache (an outer scope's, or none) is restored.
        """
        saved = self._rollout_cache.states
        self._rollout_cache.states = {}
        try:
            yield
        finally:
            self._rollout_cache.states = saved

    def reference_states(self) -> tf.Tensor:
        """Amplitudes ⟨b|ψ(r_gj)⟩ of the 4m reference states: (4m, 2^n), rows (gate, j).

        Fixed variant only. Cached per TF graph inside :meth:`rollout_scope`.

        Returns:
            ``(4·n_references, 2^n_qubits)`` complex64 amplitudes.
        """
        cache = self._rollout_cache.states
        graph = tf.compat.v1.get_default_graph()
        if cache is not None and graph in cache:
            return cache[graph]
        angles = tf.reshape(kernel_angles(self.references), [-1, self.n_qubits])
        states = self._amplitudes(angles)
        if cache is not None:
            cache[graph] = states
        return states

    def kernel_features(self, y: tf.Tensor) -> tf.Tensor:
        """Kernel features of ``y`` (B, n_qubits) for the four gates: (4, B, features).

        Args:
            y: ``(B, n_qubits)`` output of ``clayer_in``; φ = cos(y²) is applied here.

        Returns:
            ``(4, B, features)`` float32, gates in :data:`GATES` order: fidelity kernels
            k(y, r_gj) in [0, 1] (fixed) or the ⟨Z_i⟩ of the identity circuit, all 1 up to
            round-off, without gradient (paper).
        """
        angles = kernel_angles(y)
        if self.variant == "paper":
            z = tf.stop_gradient(self._expectation(angles))
            return tf.tile(z[None], [len(GATES), 1, 1])
        states = self._amplitudes(angles)  # (B, 2^n): ⟨b|ψ(y)⟩
        overlaps = tf.linalg.matmul(states, self.reference_states(), adjoint_b=True)
        # |⟨ψ(r)|ψ(y)⟩|² as Re² + Im² (smooth where the overlap vanishes, unlike |·|).
        k = tf.square(tf.math.real(overlaps)) + tf.square(tf.math.imag(overlaps))
        k = tf.reshape(k, [-1, len(GATES), self.n_references])
        return tf.transpose(k, [1, 0, 2])

    def gate_features(self, y: tf.Tensor) -> tf.Tensor:
        """:meth:`kernel_features`, the features :meth:`call` feeds the gates.

        Args:
            y: ``(B, n_qubits)`` output of ``clayer_in``.

        Returns:
            ``(4, B, features)`` float32, as :meth:`kernel_features`.
        """
        return self.kernel_features(y)
