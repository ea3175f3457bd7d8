"""QLSTM cell (Chen et al. 2020 style): each LSTM gate is a 4-qubit VQC evaluated with TFQ."""

from __future__ import annotations

import math

from qaoa_meta._tf import keras, tf
from qaoa_meta.cells import circuits
from qaoa_meta.cells.base import QuantumGateLSTMCell

GATES = ("forget", "input", "update", "output")


class QLSTMCell(circuits.LayeredVQC, QuantumGateLSTMCell):
    """LSTM whose four gates are variational quantum circuits.

    Per step: ``y = Linear(concat[h, x] → n_qubits)``; for each gate a VQC (RX(y_i) angle
    embedding, ``n_layers`` BasicEntangler layers of RX weights + CNOT ring, ⟨Z_i⟩ on every
    qubit); a shared ``Linear(n_qubits → units)`` then σ/σ/tanh/σ; the usual c/h update.
    All 4·B circuits of a step are one TFQ call (or one batch of TF ops with
    ``circuit_backend="tf"``).

    ``variant="paper"``: the VQC weights (``U(0, 2π)``, PennyLane's TorchLayer default) are
    kept as non-trainable weights, because the published code never registered them with
    the optimiser. ``variant="fixed"``: they train.

    Args:
        units: hidden size (the paper: 2p + 1).
        n_qubits: qubits per gate circuit (the paper: 4).
        n_layers: BasicEntangler layers (the paper: 1).
        variant: "paper" or "fixed".
        seed: seed of the initializers.
        circuit_backend: "tfq" (TensorFlow Quantum ops, the default) or "tf" (the same
            circuits as XLA-compilable TF ops, used by stacked training).
        **kwargs: passed to :class:`~qaoa_meta.cells.base.MetaCell`.

    Raises:
        ValueError: for ``units``, ``n_qubits`` or ``n_layers`` < 1, or an unknown variant
            or circuit backend.
    """

    def __init__(
        self,
        units: int,
        n_qubits: int = 4,
        n_layers: int = 1,
        variant: str = "fixed",
        seed: int = 0,
        circuit_backend: str = "tfq",
        **kwargs,
    ):
        super().__init__(units, variant, seed, **kwargs)
        self.init_vqc(circuits.qlstm_vqc, "x", n_qubits, n_layers, circuit_backend)

    def build(self, input_shape):
        """Creates the two Linear layers and the VQC weights.

        ``clayer_in`` Linear(input_dim + units → n_qubits), the shared ``clayer_out``
        Linear(n_qubits → units) and ``vqc_weights`` (4, n_layers·n_qubits), ``U(0, 2π)``,
        rows in gate order, trainable only in the fixed variant.

        Args:
            input_shape: shape of the step input; its last entry is input_dim.
        """
        weight_seed = self.build_linear_layers(input_shape, self.n_qubits)
        self.vqc_weights = self.add_weight(
            name="vqc_weights",
            shape=(len(GATES), self.n_layers * self.n_qubits),
            initializer=keras.initializers.RandomUniform(0.0, 2 * math.pi, seed=weight_seed),
            trainable=self.variant == "fixed",
        )
        self.built = True

    def gate_expectations(self, y: tf.Tensor) -> tf.Tensor:
        """⟨Z_i⟩ of the four gate circuits for embedded angles ``y`` (B, n_qubits): (4, B, n).

        Args:
            y: ``(B, n_qubits)`` RX embedding angles, shared by the four gates.

        Returns:
            ``(4, B, n_qubits)`` float32 expectations, gates in :data:`GATES` order.
        """
        batch = tf.shape(y)[0]
        weights = tf.repeat(self.vqc_weights, batch, axis=0)  # gate-major rows
        values = tf.concat([tf.tile(y, [len(GATES), 1]), weights], axis=1)
        out = self._expectation(values)
        return tf.reshape(out, [len(GATES), batch, self.n_qubits])

    def gate_features(self, y: tf.Tensor) -> tf.Tensor:
        """:meth:`gate_expectations`, the features :meth:`call` feeds the gates.

        Args:
            y: ``(B, n_qubits)`` RX embedding angles.

        Returns:
            ``(4, B, n_qubits)`` float32 expectations, as :meth:`gate_expectations`.
        """
        return self.gate_expectations(y)
