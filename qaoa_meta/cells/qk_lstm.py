"""QK-LSTM cell (Hsu et al., arXiv 2411.13225): LSTM gates driven by quantum-kernel features."""

from __future__ import annotations

import cirq

from qaoa_meta._tf import keras, tf
from qaoa_meta.cells import circuits
from qaoa_meta.cells.base import MetaCell, sub_seeds, torch_linear

GATES = ("forget", "input", "update", "output")


def kernel_angles(x: tf.Tensor) -> tf.Tensor:
    """The published angle map φ = cos(x²) applied before the feature-map circuit."""
    return tf.cos(tf.square(x))


class QKLSTMCell(MetaCell):
    """LSTM whose gates see quantum-kernel values of ``y = Linear(concat[h, x] → n_qubits)``.

    Each gate: kernel features (B, m) → shared ``Linear(m → units)`` → σ/σ/tanh/σ.

    ``variant="fixed"`` (default): a genuine fidelity kernel. Gate g has m = ``n_references``
    trainable reference vectors r_gj and feature j is
    k(y, r_gj) = |⟨0|U(φ(r_gj))† U(φ(y))|0⟩|², with U the published feature map (H, RZ, RY,
    CNOT chain, RZ) and φ = cos(x²); measured as ⟨|0⟩⟨0|⟩ of ``U(r)†U(y)``. One TFQ call
    per step evaluates all 4·m·B circuits.

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
        variant: "paper" or "fixed".
        seed: seed of the initializers.
    """

    def __init__(
        self,
        units: int,
        n_qubits: int = 4,
        n_references: int | None = None,
        variant: str = "fixed",
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(units, variant, seed, **kwargs)
        self.n_qubits = int(n_qubits)
        self.n_references = int(n_references or n_qubits)
        if self.n_qubits < 1 or self.n_references < 1:
            raise ValueError(
                f"n_qubits and n_references must be >= 1, got {n_qubits}, {n_references}."
            )
        qubits = cirq.LineQubit.range(self.n_qubits)
        data = circuits.symbols("v", self.n_qubits)
        if self.variant == "paper":
            self.circuit = circuits.paper_kernel_circuit(qubits, data)
            self._expectation = circuits.BatchedExpectation(
                self.circuit, data, circuits.z_observables(qubits)
            )
        else:
            references = circuits.symbols("r", self.n_qubits)
            self.circuit = circuits.fidelity_kernel_circuit(qubits, data, references)
            self._expectation = circuits.BatchedExpectation(
                self.circuit, data + references, [circuits.zero_projector(qubits)]
            )

    @property
    def features(self) -> int:
        """Kernel features per gate: n_qubits (paper) or n_references (fixed)."""
        return self.n_qubits if self.variant == "paper" else self.n_references

    @property
    def state_size(self):
        return [self.units, self.units]

    @property
    def output_size(self) -> int:
        return self.units

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        seeds = sub_seeds(self.seed, 3)
        self.clayer_in = torch_linear(self.n_qubits, input_dim + self.units, seeds[0], "clayer_in")
        self.clayer_in.build((None, input_dim + self.units))
        self.clayer_out = torch_linear(self.units, self.features, seeds[1], "clayer_out")
        self.clayer_out.build((None, self.features))
        self.references = None
        if self.variant == "fixed":
            self.references = self.add_weight(
                name="references",
                shape=(len(GATES), self.n_references, self.n_qubits),
                initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=seeds[2]),
            )
        self.built = True

    def kernel_features(self, y: tf.Tensor) -> tf.Tensor:
        """Kernel features of ``y`` (B, n_qubits) for the four gates: (4, B, features)."""
        batch = tf.shape(y)[0]
        angles = kernel_angles(y)
        if self.variant == "paper":
            z = tf.stop_gradient(self._expectation(angles))
            return tf.tile(z[None], [len(GATES), 1, 1])
        pairs = len(GATES) * self.n_references
        references = tf.reshape(kernel_angles(self.references), [pairs, 1, self.n_qubits])
        values = tf.concat(  # rows ordered (gate, reference, batch)
            [
                tf.tile(angles[None], [pairs, 1, 1]),
                tf.tile(references, [1, batch, 1]),
            ],
            axis=-1,
        )
        k = self._expectation(tf.reshape(values, [pairs * batch, 2 * self.n_qubits]))
        k = tf.reshape(k, [len(GATES), self.n_references, batch])
        return tf.transpose(k, [0, 2, 1])

    def call(self, inputs, states, training=None):
        h, c = states[0], states[1]
        y = self.clayer_in(tf.concat([h, inputs], axis=-1))
        k = self.kernel_features(y)
        f = tf.sigmoid(self.clayer_out(k[0]))
        i = tf.sigmoid(self.clayer_out(k[1]))
        g = tf.tanh(self.clayer_out(k[2]))
        o = tf.sigmoid(self.clayer_out(k[3]))
        c = f * c + i * g
        h = o * tf.tanh(c)
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(n_qubits=self.n_qubits, n_references=self.n_references)
        return config
