"""Quantum fast-weight programmer (Chen 2023): a slow network programs a VQC's weights."""

from __future__ import annotations

from qaoa_meta._tf import tf
from qaoa_meta.cells import circuits
from qaoa_meta.cells.base import MetaCell, sub_seeds, torch_linear


class QFWPCell(circuits.LayeredVQC, MetaCell):
    """QFWP as an RNN cell whose state is the fast weights of its VQC.

    Per step: ``e = Linear(x → n_qubits)`` (input encoder); ``s = Linear(x → n_qubits)``
    (slow programmer); fast-weight update ``Δ = outer(Linear(s → n_layers), Linear(s →
    n_qubits))``; fast weights ``W = W_prev + Δ``; the VQC (H, RY(e_i), then per layer brick
    CNOTs and RY(W_l,i)) gives ⟨Z_i⟩; output ``Linear(n_qubits → units)``. For x of size 3,
    2 qubits, 1 layer and 2 outputs this has 31 parameters, as in the paper.

    ``variant="paper"``: W_prev = 0 at every step (the published rollout re-creates zero fast
    weights on every call), so the cell is memoryless. ``variant="fixed"``: W accumulates in
    the RNN state across steps.

    Args:
        units: outputs (the paper: 2p).
        n_qubits: VQC qubits (default ``units``; the paper: 2p).
        n_layers: VQC layers (the paper: 1).
        variant, seed, circuit_backend, **kwargs: as for
            :class:`~qaoa_meta.cells.qlstm.QLSTMCell`.

    Raises:
        ValueError: for ``units``, ``n_qubits`` or ``n_layers`` < 1 (``None`` for
            ``n_qubits`` means units), or an unknown variant or circuit backend.
    """

    def __init__(
        self,
        units: int,
        n_qubits: int | None = None,
        n_layers: int = 1,
        variant: str = "fixed",
        seed: int = 0,
        circuit_backend: str = "tfq",
        **kwargs,
    ):
        super().__init__(units, variant, seed, **kwargs)
        n_qubits = units if n_qubits is None else n_qubits
        self.init_vqc(circuits.fwp_vqc, "e", n_qubits, n_layers, circuit_backend)

    @property
    def state_size(self):
        """``[n_layers · n_qubits]``: the fast weights W, flattened layer-major."""
        return [self.n_layers * self.n_qubits]

    @property
    def output_size(self) -> int:
        """``units``: the step output is ``post_mapping`` of the ⟨Z_i⟩."""
        return self.units

    def build(self, input_shape):
        """Creates the five PyTorch-initialised Linear layers.

        ``input_encoder`` and ``slow_program_encoder`` (input_dim → n_qubits),
        ``slow_program_layer_idx`` (n_qubits → n_layers), ``slow_program_qubit_idx``
        (n_qubits → n_qubits) and ``post_mapping`` (n_qubits → units).

        Args:
            input_shape: shape of the step input; its last entry is input_dim.
        """
        input_dim = int(input_shape[-1])
        seeds = sub_seeds(self.seed, 5)
        n, layers = self.n_qubits, self.n_layers
        self.input_encoder = torch_linear(n, input_dim, seeds[0], "input_encoder")
        self.slow_program_encoder = torch_linear(n, input_dim, seeds[1], "slow_program_encoder")
        self.slow_program_layer_idx = torch_linear(layers, n, seeds[2], "slow_program_layer_idx")
        self.slow_program_qubit_idx = torch_linear(n, n, seeds[3], "slow_program_qubit_idx")
        self.post_mapping = torch_linear(self.units, n, seeds[4], "post_mapping")
        for layer, fan_in in (
            (self.input_encoder, input_dim),
            (self.slow_program_encoder, input_dim),
            (self.slow_program_layer_idx, n),
            (self.slow_program_qubit_idx, n),
            (self.post_mapping, n),
        ):
            layer.build((None, fan_in))
        self.built = True

    def call(self, inputs, states, training=None):
        """One QFWP step.

        Args:
            inputs: ``(B, input_dim)`` step input.
            states: ``[W_prev]``, ``(B, n_layers · n_qubits)`` (ignored by the paper
                variant).
            training: unused.

        Returns:
            ``(output, [W])``: output ``(B, units)`` and the new fast weights.
        """
        encoded = self.input_encoder(inputs)
        slow = self.slow_program_encoder(inputs)
        layer_idx = self.slow_program_layer_idx(slow)  # (B, n_layers)
        qubit_idx = self.slow_program_qubit_idx(slow)  # (B, n_qubits)
        delta = tf.reshape(
            layer_idx[:, :, None] * qubit_idx[:, None, :], [-1, self.n_layers * self.n_qubits]
        )
        fast = delta if self.variant == "paper" else states[0] + delta
        z = self._expectation(tf.concat([encoded, fast], axis=-1))
        return self.post_mapping(z), [fast]
