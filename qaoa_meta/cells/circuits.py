"""Small Cirq circuits used by the quantum meta-learner cells, and helpers to batch them in TFQ.

(:class:`LayeredVQC` builds the one VQC of the QFWP and QLSTM cells.)

Every circuit here is symbolic: data and weights enter as sympy symbols whose values are fed
to a TFQ op (``tfq.layers.Expectation`` or ``tfq.math.inner_product``) from the classical
part of a cell, so a whole step of a cell (all gates, all batch rows) is one TFQ call with one
circuit string repeated per row.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import cirq
import numpy as np
import sympy

from qaoa_meta._tf import tf, tfq
from qaoa_meta.cells.base import check_choice

# TFQ's adjoint gradient op of ``tfq.math.inner_product`` (the function ``tfq.math.fidelity``
# calls); imported after ``qaoa_meta._tf`` so TensorFlow loads with its environment settings.
_inner_product_grad = importlib.import_module(
    "tensorflow_quantum.core.ops.math_ops.inner_product_op"
)._inner_product_grad


def symbols(prefix: str, count: int) -> list[sympy.Symbol]:
    """``[prefix_0, ..., prefix_{count-1}]`` as sympy symbols.

    Args:
        prefix: name prefix.
        count: number of symbols.

    Returns:
        The symbols, in index order.
    """
    return [sympy.Symbol(f"{prefix}_{i}") for i in range(count)]


def z_observables(qubits: Sequence[cirq.Qid]) -> list[cirq.PauliSum]:
    """``[Z_0, ..., Z_{n-1}]`` as one-term Pauli sums (one expectation per qubit).

    Args:
        qubits: the register.

    Returns:
        One ``cirq.PauliSum`` per qubit, in register order.
    """
    return [cirq.PauliSum.from_pauli_strings(cirq.Z(q)) for q in qubits]


def qlstm_vqc(
    qubits: Sequence[cirq.Qid], inputs: Sequence[sympy.Symbol], weights: np.ndarray
) -> cirq.Circuit:
    """QLSTM gate circuit: RX angle embedding, then ``BasicEntanglerLayers``.

    Each layer is RX(w_l,i) on every qubit followed by a CNOT ring (i → i+1 mod n; a single
    CNOT for n = 2, none for n = 1), as in PennyLane's template with its default RX
    rotation. ``cirq.rx(θ) = exp(−iθX/2)``, the same convention as PennyLane's ``RX``.

    Args:
        qubits: the register.
        inputs: one symbol per qubit (the embedded angles).
        weights: ``(n_layers, n_qubits)`` array of symbols.

    Returns:
        The symbolic circuit.

    Raises:
        ValueError: when ``inputs`` or a row of ``weights`` does not have one entry per
            qubit.
    """
    n = len(qubits)
    circuit = cirq.Circuit(cirq.rx(s).on(q) for s, q in zip(inputs, qubits, strict=True))
    for layer in np.asarray(weights):
        circuit.append(cirq.rx(s).on(q) for s, q in zip(layer, qubits, strict=True))
        if n == 2:
            circuit.append(cirq.CNOT(qubits[0], qubits[1]))
        elif n > 2:
            circuit.append(cirq.CNOT(qubits[i], qubits[(i + 1) % n]) for i in range(n))
    return circuit


def kernel_feature_map(qubits: Sequence[cirq.Qid], angles: Sequence[sympy.Symbol]) -> cirq.Circuit:
    """The QK-LSTM feature map U(φ): H, RZ(φ_i), RY(φ_i), CNOT chain, RZ(φ_i).

    This is the forward half of the published kernel circuit; the angles are φ = cos(x²) of
    the classical features x, computed in TensorFlow before they are fed as symbol values.
    Rotations are Cirq's ``exp(−iφP/2)``, as in PennyLane; the CNOTs run i → i+1.

    Args:
        qubits: the register.
        angles: one symbol per qubit.

    Returns:
        The symbolic circuit.
    """
    n = len(qubits)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    circuit.append(cirq.rz(s).on(q) for s, q in zip(angles, qubits, strict=True))
    circuit.append(cirq.ry(s).on(q) for s, q in zip(angles, qubits, strict=True))
    circuit.append(cirq.CNOT(qubits[i], qubits[i + 1]) for i in range(n - 1))
    circuit.append(cirq.rz(s).on(q) for s, q in zip(angles, qubits, strict=True))
    return circuit


def paper_kernel_circuit(
    qubits: Sequence[cirq.Qid], angles: Sequence[sympy.Symbol]
) -> cirq.Circuit:
    """The published QK-LSTM "kernel": U(φ) followed by U(φ)†, i.e. the identity.

    Args:
        qubits: the register.
        angles: one symbol per qubit.

    Returns:
        The symbolic circuit.
    """
    forward = kernel_feature_map(qubits, angles)
    return forward + cirq.inverse(forward)


def fidelity_kernel_circuit(
    qubits: Sequence[cirq.Qid],
    data_angles: Sequence[sympy.Symbol],
    reference_angles: Sequence[sympy.Symbol],
) -> cirq.Circuit:
    """``U(r)† U(v)``: measuring ``|0⟩⟨0|`` on it gives k(v, r) = |⟨0|U(r)†U(v)|0⟩|².

    Args:
        qubits: the register.
        data_angles: one symbol per qubit, the angles v.
        reference_angles: one symbol per qubit, the angles r.

    Returns:
        The symbolic circuit.
    """
    return kernel_feature_map(qubits, data_angles) + cirq.inverse(
        kernel_feature_map(qubits, reference_angles)
    )


def basis_state_circuits(qubits: Sequence[cirq.Qid]) -> list[cirq.Circuit]:
    """The ``2^n`` computational basis states ``|b⟩`` of ``qubits`` as circuits on ``|0..0⟩``.

    ``b`` is big-endian (``qubits[0]`` is the most significant bit), Cirq's state-vector
    order. Circuit ``b`` applies X where ``b`` has a 1 and I elsewhere, so it acts on every
    qubit, which TFQ's inner product requires of its comparison circuits.

    Args:
        qubits: the register.

    Returns:
        ``2^n`` circuits, circuit ``b`` preparing ``|b⟩``.
    """
    n = len(qubits)
    return [
        cirq.Circuit(
            (cirq.X if (b >> (n - 1 - i)) & 1 else cirq.I).on(q) for i, q in enumerate(qubits)
        )
        for b in range(2**n)
    ]


def fwp_vqc(
    qubits: Sequence[cirq.Qid], inputs: Sequence[sympy.Symbol], weights: np.ndarray
) -> cirq.Circuit:
    """QFWP circuit: H, RY(x_i), then per layer a brick CNOT layer and RY(w_l,i).

    The brick layer is CNOTs on (0,1), (2,3), ... then on (1,2), (3,4), ...;
    ``cirq.ry(θ) = exp(−iθY/2)``, PennyLane's convention.

    Args: as :func:`qlstm_vqc`.
    """
    n = len(qubits)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    circuit.append(cirq.ry(s).on(q) for s, q in zip(inputs, qubits, strict=True))
    for layer in np.asarray(weights):
        circuit.append(cirq.CNOT(qubits[i], qubits[i + 1]) for i in range(0, n - 1, 2))
        circuit.append(cirq.CNOT(qubits[i], qubits[i + 1]) for i in range(1, n - 1, 2))
        circuit.append(cirq.ry(s).on(q) for s, q in zip(layer, qubits, strict=True))
    return circuit


# "tfq": TensorFlow Quantum ops; "tf": StateVectorCircuit's XLA-compilable TF ops.
CIRCUIT_BACKENDS = ("tfq", "tf")


def _linear_in_one_symbol(expression, names: dict[str, int]) -> tuple[int, float, float]:
    """(symbol column, slope a, offset b) of an exponent ``a·symbol + b``."""
    expression = sympy.sympify(expression)
    free = sorted(expression.free_symbols, key=str)
    if len(free) != 1 or str(free[0]) not in names:
        raise ValueError(
            f"Expected a gate exponent linear in one of the symbols {sorted(names)}, got "
            f"{expression}."
        )
    symbol = free[0]
    slope = sympy.diff(expression, symbol)
    if slope.free_symbols:
        raise ValueError(f"Gate exponent {expression} is not linear in {symbol}.")
    return names[str(symbol)], float(slope), float(expression.subs(symbol, 0))


def _eigenbasis(op: cirq.Operation) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvector columns V, half-turns λ_k + shift) of a symbolic single-qubit EigenGate,
    so that its unitary at exponent t is V diag(e^{iπ t λ}) V†."""
    gate = op.gate
    if not isinstance(gate, cirq.EigenGate) or len(op.qubits) != 1:
        raise ValueError(
            f"Cannot simulate the parameterized operation {op}: expected a single-qubit "
            "cirq.EigenGate (rx, ry, rz, XPowGate, ...) with a symbolic exponent."
        )
    vectors, half_turns = [], []
    for turns, projector in gate._eigen_components():
        # A rank-r projector contributes r orthonormal eigenvectors (its range).
        values, basis = np.linalg.eigh(projector)
        for k in np.flatnonzero(values > 0.5):
            vectors.append(basis[:, k])
            half_turns.append(turns + gate.global_shift)
    if len(vectors) != 2:
        raise ValueError(f"{op} does not have a 2-dimensional eigenbasis.")
    return np.stack(vectors, axis=1), np.array(half_turns)


class StateVectorCircuit:
    """A small symbolic Cirq circuit simulated with TensorFlow ops, many value rows at once.

    The same circuit TFQ would simulate, evaluated as plain TF ops so that it runs inside
    ``tf.function(jit_compile=True)`` (XLA; TFQ's ops cannot be compiled) and differentiates
    by autodiff. Meant for the cells' few-qubit circuits, where the number of ops, not the
    2^n arithmetic, is the cost: runs of constant gates are folded into one 2^n × 2^n matrix
    when the circuit is built, and each moment's symbolic single-qubit gates become one
    per-row Kronecker product, so a circuit costs a few ops per symbolic moment. Supported:
    any gate with a constant unitary, and single-qubit ``cirq.EigenGate`` s (``rx``,
    ``ry``, ``rz``, ``XPowGate``, ...) whose exponent is ``a·symbol + b`` (TFQ's
    restriction, narrowed to one qubit: a symbolic ``CZPowGate`` is rejected). Values are
    cast to float32 and states are complex64.

    Args:
        circuit: the circuit.
        symbol_names: symbols in the column order of the values passed to the methods.
        qubits: register order (qubits[0] is the most significant bit, as in Cirq).

    Raises:
        ValueError: for more than 10 qubits, an op on a qubit outside ``qubits``, a
            symbolic op that is not a single-qubit ``EigenGate``, or an exponent that is
            not linear in exactly one of ``symbol_names``.
    """

    def __init__(
        self,
        circuit: cirq.Circuit,
        symbol_names: Sequence[sympy.Symbol],
        qubits: Sequence[cirq.Qid],
    ):
        self.qubits = list(qubits)
        self.n = len(self.qubits)
        if self.n > 10:
            raise ValueError(
                f"StateVectorCircuit is for small registers (<= 10 qubits), got {self.n}."
            )
        names = {str(s): i for i, s in enumerate(symbol_names)}
        index = {q: i for i, q in enumerate(self.qubits)}
        dim = 1 << self.n
        bits = (np.arange(dim)[:, None] >> (self.n - 1 - np.arange(self.n))) & 1  # (2^n, n)
        # A moment of symbolic single-qubit gates is V diag(e^{i φ(values)}) V† with V = ⊗ V_q
        # the gates' constant eigenbases and φ linear in the values: φ = values @ W + c. The
        # V's fold into the neighbouring constant gates, so the circuit is a chain of constant
        # matrices and diagonal phases: ("const", M) and ("phase", W, c) steps.
        self._steps: list[tuple] = []
        pending = np.eye(dim, dtype=np.complex128)
        for moment in circuit:
            constant, symbolic = [], []
            for op in moment.operations:
                missing = [q for q in op.qubits if q not in index]
                if missing:
                    raise ValueError(f"Operation {op} acts on {missing}, not in the register.")
                (symbolic if cirq.is_parameterized(op) else constant).append(op)
            if constant:
                pending = cirq.Circuit(constant).unitary(qubit_order=self.qubits) @ pending
            if not symbolic:
                continue
            bases = [np.eye(2, dtype=np.complex128) for _ in range(self.n)]
            weights = np.zeros((len(names), dim))
            offsets = np.zeros(dim)
            for op in symbolic:
                qubit = index[op.qubits[0]]
                basis, half_turns = _eigenbasis(op)
                column, slope, offset = _linear_in_one_symbol(op.gate.exponent, names)
                bases[qubit] = basis
                # e^{iπ t λ_k} on eigenvector k of this qubit, t = slope·value + offset.
                per_state = np.pi * half_turns[bits[:, qubit]]
                weights[column] += slope * per_state
                offsets += offset * per_state
            basis = bases[0]
            for factor in bases[1:]:
                basis = np.kron(basis, factor)
            self._steps.append(("const", basis.conj().T @ pending))
            self._steps.append(("phase", weights.astype(np.float32), offsets.astype(np.float32)))
            pending = basis
        self._steps.append(("const", pending))
        first = self._steps.pop(0)[1] if self._steps[0][0] == "const" else np.eye(dim)
        self._initial = np.asarray(first[:, 0], np.complex64)  # U_first |0..0⟩
        self._steps = [
            (kind, *(np.asarray(d, np.complex64) if kind == "const" else d for d in data))
            for kind, *data in self._steps
            if kind == "phase" or not np.allclose(data[0], np.eye(dim), atol=1e-7)
        ]

    def states(self, values: tf.Tensor) -> tf.Tensor:
        """``(R, 2^n)`` complex64 states U(values)|0..0⟩ (big-endian, Cirq's order).

        Args:
            values: ``(R, len(symbol_names))`` symbol values, one row per state.

        Returns:
            The ``(R, 2^n)`` complex64 state vectors.
        """
        values = tf.cast(values, tf.float32)
        rows = tf.shape(values)[0]
        state = tf.tile(tf.constant(self._initial)[None], [rows, 1])
        for kind, *data in self._steps:
            if kind == "const":
                state = tf.linalg.matmul(state, tf.constant(data[0]), transpose_b=True)
            else:
                phase = tf.linalg.matmul(values, tf.constant(data[0])) + tf.constant(data[1])
                state = state * tf.complex(tf.cos(phase), tf.sin(phase))
        return state

    def z_expectations(self, values: tf.Tensor) -> tf.Tensor:
        """``(R, n)`` ⟨Z_i⟩ of every qubit.

        Args:
            values: ``(R, len(symbol_names))`` symbol values.

        Returns:
            ``(R, n)`` float32 expectations, columns in register order.
        """
        state = self.states(values)
        probabilities = tf.math.real(state) ** 2 + tf.math.imag(state) ** 2
        bits = (np.arange(1 << self.n)[:, None] >> (self.n - 1 - np.arange(self.n))) & 1
        signs = tf.constant(1.0 - 2.0 * bits, tf.float32)  # (2^n, n)
        return tf.linalg.matmul(probabilities, signs)


def _z_qubits(observables: Sequence[cirq.PauliSum], qubits: Sequence[cirq.Qid]) -> list[int]:
    """Register index of each single-Z observable (the only kind the TF backend reads)."""
    index = {q: i for i, q in enumerate(qubits)}
    found = []
    for observable in observables:
        terms = list(observable)
        if len(terms) != 1 or terms[0].coefficient != 1 or len(terms[0]) != 1:
            raise ValueError(
                f"The 'tf' circuit backend reads single Z_i observables, got {observable}."
            )
        ((qubit, pauli),) = terms[0].items()
        if pauli != cirq.Z:
            raise ValueError(
                f"The 'tf' circuit backend reads single Z_i observables, got {observable}."
            )
        found.append(index[qubit])
    return found


def check_circuit_backend(backend: str) -> str:
    """Returns ``backend`` if it is one of :data:`CIRCUIT_BACKENDS`, else raises ``ValueError``.

    Args:
        backend: ``"tfq"`` or ``"tf"``.

    Returns:
        ``backend`` unchanged.

    Raises:
        ValueError: for any other name.
    """
    return check_choice(
        backend,
        CIRCUIT_BACKENDS,
        "circuit backend",
        "'tfq': TensorFlow Quantum ops; 'tf': the same circuit as XLA-compilable TF ops",
    )


class _BatchedCircuit:
    """What the batched evaluators share: one symbolic circuit, the symbol names in the
    column order of the values, the backend and the register; for ``"tfq"`` the serialized
    circuit that :meth:`_programs` tiles to a batch's rows inside the graph, for ``"tf"`` the
    :class:`StateVectorCircuit` (``_simulator``) on the register.

    The constructor is the subclasses' too: one that needs more arguments stores them and
    calls it, and what a subclass builds from these attributes goes in :meth:`_prepare`.
    """

    def __init__(
        self,
        circuit: cirq.Circuit,
        symbol_names: Sequence[sympy.Symbol],
        qubits: Sequence[cirq.Qid] | None = None,
        backend: str = "tfq",
    ):
        self.circuit = circuit
        self.symbol_names = [str(s) for s in symbol_names]
        self.backend = check_circuit_backend(backend)
        self.qubits = sorted(circuit.all_qubits()) if qubits is None else list(qubits)
        if self.backend == "tfq":
            self._circuit = tfq.convert_to_tensor([circuit]).numpy()
        else:
            self._simulator = StateVectorCircuit(circuit, symbol_names, self.qubits)
        self._prepare()

    def _prepare(self) -> None:
        """What a subclass builds once for its backend, after the attributes above are set."""

    def _programs(self, rows: tf.Tensor) -> tf.Tensor:
        """The circuit string once per row (``rows`` may vary between calls)."""
        return tf.tile(tf.constant(self._circuit), [rows])


class BatchedExpectation(_BatchedCircuit):
    """One symbolic circuit and its observables, evaluated for many symbol-value rows at once.

    Wraps ``tfq.layers.Expectation`` with the adjoint differentiator: ``__call__(values)``
    takes ``(N, len(symbol_names))`` symbol values and returns ``(N, len(observables))``
    expectations, differentiable with respect to the values. The circuit string is tiled to
    N rows inside the graph, so N may vary between calls. With ``backend="tf"`` a
    :class:`StateVectorCircuit` on the circuit's sorted qubits computes the same values
    (autodiff gradients); it reads single ``Z_i`` observables only.

    Args:
        circuit: the symbolic circuit.
        symbol_names: symbols in the column order of the values.
        observables: the Pauli sums to measure.
        backend: ``"tfq"`` or ``"tf"``.

    Raises:
        ValueError: for an unknown backend; with ``"tf"``, for an observable that is not a
            single ``Z_i`` with coefficient 1 or a circuit :class:`StateVectorCircuit`
            rejects.
    """

    def __init__(
        self,
        circuit: cirq.Circuit,
        symbol_names: Sequence[sympy.Symbol],
        observables: Sequence[cirq.PauliSum],
        backend: str = "tfq",
    ):
        self.observables = list(observables)  # before the base's constructor: _prepare reads it
        super().__init__(circuit, symbol_names, backend=backend)

    def _prepare(self) -> None:
        if self.backend == "tf":
            self._z_index = _z_qubits(self.observables, self.qubits)
        else:
            self._operators = tfq.convert_to_tensor([self.observables]).numpy()
            self.layer = tfq.layers.Expectation(differentiator=tfq.differentiators.Adjoint())

    def __call__(self, values: tf.Tensor) -> tf.Tensor:
        """Expectations of every observable for every row of values.

        Args:
            values: ``(N, len(symbol_names))`` symbol values (cast to float32).

        Returns:
            ``(N, len(observables))`` float32 expectations.
        """
        if self.backend == "tf":
            z = self._simulator.z_expectations(values)
            return tf.gather(z, self._z_index, axis=1)
        rows = tf.shape(values)[0]
        operators = tf.tile(tf.constant(self._operators), [rows, 1])
        return self.layer(
            self._programs(rows),
            symbol_names=tf.constant(self.symbol_names),
            symbol_values=tf.cast(values, tf.float32),
            operators=operators,
        )


@tf.custom_gradient
def _inner_products(values, programs, symbol_names, other_programs):
    """``tfq.math.inner_product`` with the gradient of any real function of its complex output.

    TFQ's own gradient (``tfq_inner_product_grad``) takes a real upstream gradient: given
    TF's complex upstream g = ∂L/∂Re ip + i ∂L/∂Im ip it drops Im g, and
    ``tfq.math.fidelity`` corrects for that only with one comparison circuit per row. With
    G(w) = conj(Σ_j w_j ∂ip_j/∂θ), the op's output for a real weight w, the exact gradient
    is ∂L/∂θ = Re G(Re g) − Im G(Im g): two calls of the same adjoint op.
    """
    inner = tfq.math.inner_product(programs, symbol_names, values, other_programs)

    def grad(upstream):
        real = _inner_product_grad(
            programs, symbol_names, values, other_programs, tf.math.real(upstream)
        )
        imag = _inner_product_grad(
            programs, symbol_names, values, other_programs, tf.math.imag(upstream)
        )
        return tf.math.real(real) - tf.math.imag(imag), None, None, None

    return inner, grad


class BatchedAmplitudes(_BatchedCircuit):
    """The state amplitudes ``⟨b|U(values)|0⟩`` of one symbolic circuit, for many value rows.

    ``__call__(values)`` takes ``(N, len(symbol_names))`` symbol values and returns
    ``(N, 2^n)`` complex64 amplitudes in Cirq's big-endian basis order, differentiable with
    respect to the values (adjoint method, real and imaginary parts). TFQ simulates each
    row's circuit once and takes its inner products with the ``2^n`` computational basis
    circuits (:func:`basis_state_circuits`) in one ``tfq.math.inner_product`` call; the
    circuit strings are tiled inside the graph, so N may vary between calls. With
    ``backend="tf"`` a :class:`StateVectorCircuit` returns the states directly (autodiff
    gradients).

    Args:
        circuit: the symbolic circuit.
        symbol_names: symbols in the column order of the values.
        qubits: the register, in basis order (``qubits[0]`` most significant); it should
            hold every qubit of ``circuit`` (default: the circuit's qubits, sorted).
        backend: ``"tfq"`` or ``"tf"``.

    Raises:
        ValueError: for an unknown backend; with ``"tf"``, for a circuit
            :class:`StateVectorCircuit` rejects.
    """

    def _prepare(self) -> None:
        if self.backend == "tfq":
            self._basis = tfq.convert_to_tensor(basis_state_circuits(self.qubits)).numpy()

    def __call__(self, values: tf.Tensor) -> tf.Tensor:
        """Amplitudes of the state of every row of values.

        Args:
            values: ``(N, len(symbol_names))`` symbol values (cast to float32).

        Returns:
            ``(N, 2^n)`` complex64 amplitudes ``⟨b|U(values)|0⟩``.
        """
        if self.backend == "tf":
            return self._simulator.states(values)
        rows = tf.shape(values)[0]
        basis = tf.tile(tf.constant(self._basis)[None], [rows, 1])
        inner = _inner_products(  # ⟨ψ(values)|b⟩
            tf.cast(values, tf.float32), self._programs(rows), tf.constant(self.symbol_names), basis
        )
        return tf.math.conj(inner)


class LayeredVQC:
    """Mixin of the cells built on one VQC read out as ⟨Z_i⟩ (QFWP, QLSTM).

    The VQC takes ``n_qubits`` input angles, then ``n_layers`` layers of ``n_qubits``
    weights; :meth:`init_vqc` builds it and its evaluator, and the three constructor
    arguments it stores are the cell's :attr:`~qaoa_meta.cells.base.MetaCell.config_fields`.
    """

    config_fields = ("circuit_backend", "n_qubits", "n_layers")

    def init_vqc(self, ansatz, input_prefix: str, n_qubits: int, n_layers: int, backend: str):
        """Stores ``circuit_backend``, ``n_qubits`` and ``n_layers``; builds ``circuit``.

        Args:
            ansatz: ``(qubits, inputs, weights) -> cirq.Circuit``, e.g. :func:`qlstm_vqc`.
            input_prefix: prefix of the input symbols (the weights' is ``w``).
            n_qubits: qubits, >= 1.
            n_layers: layers, >= 1.
            backend: ``"tfq"`` or ``"tf"``.

        Raises:
            ValueError: for ``n_qubits`` or ``n_layers`` < 1, or an unknown backend.
        """
        self.circuit_backend = check_circuit_backend(backend)
        self.n_qubits, self.n_layers = int(n_qubits), int(n_layers)
        if self.n_qubits < 1 or self.n_layers < 1:
            raise ValueError(f"n_qubits and n_layers must be >= 1, got {n_qubits}, {n_layers}.")
        qubits = cirq.LineQubit.range(self.n_qubits)
        inputs = symbols(input_prefix, self.n_qubits)
        weights = np.array(symbols("w", self.n_layers * self.n_qubits)).reshape(
            self.n_layers, self.n_qubits
        )
        self.circuit = ansatz(qubits, inputs, weights)
        # ⟨Z_i⟩ for value rows [inputs, weights layer-major]
        self._expectation = BatchedExpectation(
            self.circuit, inputs + list(weights.ravel()), z_observables(qubits), backend=backend
        )
